"""Routing variants at packet level (transport.pathselect): per-hop ECMP polarisation against
balls-into-bins, flowlet limits (δ = 0 is spraying, δ = ∞ is one path per subflow, no
reordering once δ exceeds the path-latency spread), adaptive spraying and the reorder buffer
on a hand case, capacity bounds with a slow spine and with a failed link, failures."""

import re
from dataclasses import replace

import numpy as np
import pytest

from netsim import Simulation
from transport.balancing import expected_max_load
from transport.network import SPRAY, fat_tree_network, leaf_spine_network
from transport.packetsim import PacketTransport
from transport.pathselect import (
    SCHEMES,
    LinkFailure,
    PathOptions,
    PathSelector,
    equal_cost_routes,
    flow_hash,
    flow_hashes,
    pod_core_loads,
    with_capacity,
)
from transport.roce import RoceTransport


class _Spy(PacketTransport):
    """Records every (time, link, seq) arrival at the far end of a link (the method-per-event
    loop runs, since ``_arrive`` is overridden)."""

    def _arrive(self, pkt, _=None):
        self.spied.append((self.env.now, pkt[2][pkt[3]], pkt[1]))
        super()._arrive(pkt, _)


def _run(net, src, dst, path, nbytes, opts=None, start_s=0.0, spy=False, **kw):
    """Subflows on a plain packet transport (with a selector if ``opts``); returns the
    transport, selector, completion time per subflow and (``spy``) every (time, link, pkt)
    arrival at the far end of a link."""
    sim = Simulation(0)
    arrivals = []
    tr = (_Spy if spy else PacketTransport)(sim, net, **kw)
    if spy:
        tr.spied = arrivals
    sel = PathSelector(tr, opts, seed=7, record_paths=True) if opts is not None else None
    out = {}

    def go():
        tr.add(src, dst, path, nbytes, np.arange(len(src)),
               lambda o, _d: out.update(dict.fromkeys(o.tolist(), sim.now)))

    if start_s:
        sim.schedule(start_s, go)
    else:
        go()
    sim.run()
    return tr, sel, out, arrivals


# -- per-hop ECMP ----------------------------------------------------------------------------
def test_scalar_flow_hash_equals_the_vectorised_ecmp_hash():
    rng = np.random.default_rng(0)
    s, d, sp = rng.integers(0, 1000, 40), rng.integers(0, 1000, 40), rng.integers(0, 65536, 40)
    for seed in (0, 12345, 2**63 - 5):
        scalar = [flow_hash(int(a), int(b), int(c), seed) for a, b, c in zip(s, d, sp, strict=True)]
        assert scalar == flow_hashes(s, d, sp, seed)


def test_polarised_hashing_uses_only_k_half_cores_balls_into_bins_over_k_half():
    """Same hash at the edge and aggregation tiers: agg a only sends to core a of its group
    (H mod k/2 chose a already), so k/2 of (k/2)² core uplinks carry everything and the max
    load follows m balls into k/2 bins (exact E[max]: balancing.expected_max_load)."""
    net = fat_tree_network(8)
    half, m, trials = 4, 16, 300
    loads = pod_core_loads(net, m, trials, 1, True)
    a, c = np.divmod(np.arange(half * half), half)
    assert loads[:, a != c].sum() == 0  # only the diagonal cores
    assert (loads > 0).mean() <= 1 / half
    se = loads.max(axis=1).std() / np.sqrt(trials)
    assert loads.max(axis=1).mean() == pytest.approx(expected_max_load(m, half), abs=4 * se)


def test_per_switch_hashing_is_balls_into_bins_over_all_cores():
    """Per-switch salts: each flow lands on a uniform core uplink independently: E[max load]
    = expected_max_load(m, (k/2)²) and the used fraction is 1 − (1 − 1/K)^m."""
    net = fat_tree_network(8)
    K, m, trials = 16, 16, 400
    loads = pod_core_loads(net, m, trials, 2, False)
    mx = loads.max(axis=1)
    assert mx.mean() == pytest.approx(expected_max_load(m, K), abs=4 * mx.std() / np.sqrt(trials))
    used = (loads > 0).mean(axis=1)
    expect = 1 - (1 - 1 / K) ** m
    assert used.mean() == pytest.approx(expect, abs=4 * used.std() / np.sqrt(trials))
    assert mx.mean() < expected_max_load(m, 4) - 1  # far from the polarised law


@pytest.mark.parametrize("polarised", [True, False])
def test_per_hop_ecmp_at_packet_level(polarised):
    """Packet level on a k=4 fat tree, 16 cross-pod subflows: polarised hashing never sends a
    byte over an off-diagonal core uplink (agg a → core a·2 + c, c ≠ a); per-switch hashing
    does; every packet of a subflow follows one route, no reordering."""
    net = fat_tree_network(4)
    src = np.arange(16)
    dst = (src + 4 + np.arange(16) % 4) % 16
    opts = PathOptions("per_hop_ecmp", polarised=polarised)
    tr, sel, out, _ = _run(net, src, dst, SPRAY, [64e3] * 16, opts)
    a2c = net.tables["a2c"]  # (pod, agg, core in group)
    off = tr.link_bytes[a2c[:, 0, 1]].sum() + tr.link_bytes[a2c[:, 1, 0]].sum()
    assert (off == 0) == polarised
    assert all(len(p) == 1 for p in sel.flow_paths.values()) and tr.reordered == 0
    assert len(out) == 16


# -- flowlets --------------------------------------------------------------------------------
NET = leaf_spine_network(4, 4, 4, link_delay_s=1e-6)
SRC = np.arange(16)
DST = (SRC + 5) % 16


def test_flowlet_timeout_zero_is_random_spraying_draw_for_draw():
    sprayed, _, t_spray, _ = _run(NET, SRC, DST, SPRAY, [1e6] * 16, spray="random")
    opts = PathOptions("flowlet", flowlet_timeout_s=0.0)
    flowlet, sel, t_flowlet, _ = _run(NET, SRC, DST, SPRAY, [1e6] * 16, opts)
    assert t_flowlet == t_spray
    assert np.array_equal(flowlet.link_bytes, sprayed.link_bytes)
    assert flowlet.reordered == sprayed.reordered > 0
    assert sel.flowlets == flowlet.packets  # every packet a new flowlet


def test_flowlet_timeout_infinite_is_one_path_per_subflow():
    """δ = ∞: one flowlet per subflow, no reordering, and the run equals pinning each subflow
    on the path its flowlet drew (per-flow ECMP with those choices)."""
    opts = PathOptions("flowlet", flowlet_timeout_s=float("inf"))
    tr, sel, out, _ = _run(NET, SRC, DST, SPRAY, [1e6] * 16, opts)
    assert sel.flowlets == 16 and tr.reordered == 0
    assert all(len(p) == 1 for p in sel.flow_paths.values())
    routes = equal_cost_routes(NET, SRC, DST)
    pinned = [routes[i].index(next(iter(sel.flow_paths[i]))) for i in range(16)]
    tr2, _, out2, _ = _run(NET, SRC, DST, pinned, [1e6] * 16)
    assert out2 == out and np.array_equal(tr2.link_bytes, tr.link_bytes)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flowlets_do_not_reorder_once_timeout_exceeds_latency_spread(seed):
    """Paths through 4 spines with random extra delays; a window of 4 packets leaves gaps at
    the sender, so flowlets switch paths. A new flowlet leaves > δ after the last packet of
    the old one, so with δ ≥ max − min path latency it cannot overtake it (no queueing here:
    one flow, equal link rates); with δ = 0 (per-packet) the same flow reorders."""
    rng = np.random.default_rng(seed)
    net = leaf_spine_network(2, 4, 1, link_delay_s=1e-6, uplink_rate_bps=100e9)
    extra = rng.uniform(0, 3e-6, 4)
    delay = net.delay_s.copy()
    delay[net.downlinks()[:, 1]] += extra
    net = replace(net, delay_s=delay)
    spread = float(extra.max() - extra.min())
    kw = {"window_pkts": 4}
    per_packet = PathOptions("flowlet", flowlet_timeout_s=0.0)
    tr0, _, _, _ = _run(net, [0], [1], SPRAY, [800 * 4096], per_packet, **kw)
    opts = PathOptions("flowlet", flowlet_timeout_s=spread)
    tr1, sel, _, _ = _run(net, [0], [1], SPRAY, [800 * 4096], opts, **kw)
    assert tr0.reordered > 0
    assert tr1.reordered == 0 and sel.flowlets > 20 and len(sel.flow_paths[0]) > 1


# -- adaptive spraying and the reorder buffer ----------------------------------------------------
def test_reorder_buffer_hand_case():
    """One subflow of 4 packets h0 → h1 over 2 spines, all links 100 Gb/s, d = 1 µs per link,
    spine 1's downlink D = 5 µs longer. Adaptive spraying alternates (equal first-hop loads,
    ties round-robin from path 0): packet i leaves the NIC at iT (T = 8·4096/100e9) and
    arrives at 4T + 4d + iT (+ D if odd). Packet 2 overtakes packet 1 and waits
    a1 − a2 = D − T in the buffer; the others wait 0. The subflow completes when packet 3 is
    delivered in order at 7T + 4d + D."""
    T, d, D = 8 * 4096 / 100e9, 1e-6, 5e-6
    net = leaf_spine_network(2, 2, 1, link_delay_s=d, uplink_rate_bps=100e9)
    delay = net.delay_s.copy()
    delay[net.downlinks()[1, 1]] += D
    net = replace(net, delay_s=delay)
    tr, sel, out, arr = _run(net, [0], [1], SPRAY, [4 * 4096], PathOptions("adaptive"),
                             spy=True)
    last = {seq: t for t, link, seq in arr if link == net.host_down[1]}
    a = [4 * T + 4 * d + i * T + (D if i % 2 else 0.0) for i in range(4)]
    assert [last[i] for i in range(4)] == pytest.approx(a)
    assert sel.reorder_buffered == 1 and tr.reordered == 1
    assert sel.reorder_wait_s == pytest.approx(D - T)
    assert sel.reorder_max_wait_s == pytest.approx(D - T)
    assert sel.reorder_peak_pkts == 1 and tr.max_reorder_pkts == 1
    assert out[0] == pytest.approx(7 * T + 4 * d + D)
    assert sel.reorder_mean_pkts(out[0]) == pytest.approx((D - T) / out[0])
    # the inlined calendar loop (no spy) sets the clock before the reorder buffer reads it
    _, sel2, out2, _ = _run(net, [0], [1], SPRAY, [4 * 4096], PathOptions("adaptive"))
    assert out2 == out and sel2.reorder_wait_s == sel.reorder_wait_s
    assert sel2.reorder_mean_pkts(out2[0]) == sel.reorder_mean_pkts(out[0])


def test_adaptive_spraying_reaches_the_capacity_bound_with_a_slow_spine():
    """Two hosts send 4 MB each across 2 spines, spine 1 at half rate (uplinks 100 and
    50 Gb/s): the bound is 8 MB over 150 Gb/s. Round-robin spraying splits evenly and waits
    for the slow spine (1.5×); adaptive spraying follows the queues (within 5 %, about a
    third of the bytes on the slow spine); a flowlet never starts when the sender has no
    gaps (δ = 1 µs > packet time), so it stays at the even split."""
    net = leaf_spine_network(2, 2, 2, uplink_rate_bps=100e9)
    slow = with_capacity(net, np.r_[net.uplinks()[:, 1], net.downlinks()[1]], 0.5)
    bound = 8e6 * 8 / 150e9
    _, _, rr, _ = _run(slow, [0, 1], [2, 3], SPRAY, [4e6, 4e6])
    tr, _, ad, _ = _run(slow, [0, 1], [2, 3], SPRAY, [4e6, 4e6], PathOptions("adaptive"))
    assert max(rr.values()) > 1.4 * bound
    assert max(ad.values()) == pytest.approx(bound, rel=0.05)
    assert tr.link_bytes[slow.uplinks()[0, 1]] / 8e6 == pytest.approx(1 / 3, abs=0.03)


# -- failures ------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("pinned", [False, True])
def test_no_packet_crosses_a_failed_link_after_the_failure(scheme, pinned):
    """Uplink l0→s0 fails at 20 µs, detected 5 µs later: nothing starts on it or arrives
    over it afterwards, the packets lost with it are resent, every byte is delivered once.
    Pinned subflows (ECMP single path on spine 0) are rehashed onto spine 1."""
    net = leaf_spine_network(2, 2, 2, uplink_rate_bps=100e9)
    up, t_fail = int(net.uplinks()[0, 0]), 20e-6
    opts = PathOptions(scheme, failures=(LinkFailure(up, t_fail),), detect_s=5e-6)
    path = [0, 0] if pinned else SPRAY
    tr, sel, out, arr = _run(net, [0, 1], [2, 3], path, [2e6, 2e6], opts, spy=True)
    assert not [a for a in arr if a[1] == up and a[0] > t_fail]
    assert tr.link_bytes[up] == sel.bytes_at_failure[up]
    assert len(out) == 2 and tr.delivered_bytes == 4e6
    assert sel.resent == sel.lost
    if pinned:  # both used the link until it failed, then moved
        assert sel.bytes_at_failure[up] > 0 and sel.lost > 0
        assert all(len(p) == 2 for p in sel.flow_paths.values())


def test_failure_with_fair_queues_loses_the_queue_and_resends_it():
    """Per-subflow fair queues: the packets queued on the link when it fails are lost and
    resent too (the queue is emptied, not iterated)."""
    net = leaf_spine_network(2, 2, 4, uplink_rate_bps=100e9)
    up = int(net.uplinks()[0, 0])
    opts = PathOptions(failures=(LinkFailure(up, 30e-6),), detect_s=5e-6)
    tr, sel, out, arr = _run(net, [0, 1, 2, 3], [4, 5, 6, 7], [0, 0, 0, 0], [1e6] * 4, opts,
                             spy=True, queue="fair")
    assert sel.lost > 4 and sel.resent == sel.lost  # more than one packet per subflow
    assert len(out) == 4 and tr.delivered_bytes == 4e6
    assert not [a for a in arr if a[1] == up and a[0] > 30e-6]


def test_failed_uplink_leaves_the_remaining_capacity():
    """Spine 0's uplink from leaf 0 is down before traffic starts: 2 × 4 MB sprayed from
    leaf 0 must all cross the one remaining 100 Gb/s uplink: 640 µs (within 1 %)."""
    net = leaf_spine_network(2, 2, 2, uplink_rate_bps=100e9)
    up = int(net.uplinks()[0, 0])
    opts = PathOptions(failures=(LinkFailure(up, 0.0),))
    tr, sel, out, _ = _run(net, [0, 1], [2, 3], SPRAY, [4e6, 4e6], opts, start_s=1e-6)
    assert max(out.values()) - 1e-6 == pytest.approx(8e6 * 8 / 100e9, rel=0.01)
    assert tr.link_bytes[up] == 0 and sel.lost == 0


# -- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"scheme": "ospf"}, "scheme"),
        ({"flowlet_timeout_s": -1.0}, "flowlet_timeout_s"),
        ({"flowlet_choice": "best"}, "flowlet_choice"),
        ({"detect_s": -1e-6}, "detect_s"),
        ({"failures": (LinkFailure(0, 0.0),)}, "failures[0].link"),  # a host link
        ({"failures": (LinkFailure(10**6, 0.0),)}, "failures[0].link"),
        ({"failures": (LinkFailure(8, -1.0),)}, "failures[0].t_s"),
        ({"failures": (LinkFailure(8, 0.0), LinkFailure(8, 1.0))}, "failures[1].link"),
    ],
)
def test_bad_options_name_the_field(kw, field):
    net = leaf_spine_network(2, 2, 2)
    with pytest.raises(ValueError, match="^" + re.escape(field) + ":"):
        PathSelector(PacketTransport(Simulation(0), net), PathOptions(**kw))


def test_failures_need_a_transport_whose_enqueue_they_know():
    """Failures replace a dead link's queue; a transport with its own ``_enqueue`` is refused
    (plain and RoCE are accepted: tests/transport/test_transport_roce_failures.py)."""

    class _Own(RoceTransport):
        def _enqueue(self, pkt):
            super()._enqueue(pkt)

    net = leaf_spine_network(2, 2, 2)
    fab = int(net.uplinks()[0, 0])
    with pytest.raises(ValueError, match="^failures:"):
        PathSelector(_Own(Simulation(0), net), PathOptions(failures=(LinkFailure(fab, 0.0),)))
    PathSelector(RoceTransport(Simulation(0), net), PathOptions(failures=(LinkFailure(fab, 0.0),)))


# -- the study's routing section -------------------------------------------------------------
def test_routing_section_of_the_study(tmp_path):
    """The collective_transport study's ``routing`` section on its smallest grid: every scheme
    once per fabric and condition, deterministic; polarised hashing leaves at least a quarter
    of the k=4 fat tree's fabric links idle (off-diagonal core links), spraying fewer; minimal split
    only on the leaf-spine; the table is written."""
    from netsim import RunContext
    from netsim.scenario import resolve
    from scenarios.collective_transport import SCENARIO, _routing_table

    over = ["leaves=[2]", "spines=2", "hosts_per_leaf=2", "collectives=[ring_allreduce]",
            "message_mb=[0.5]", "policies=[ecmp]", "placements=[random]",
            "packet.enabled=false", "background.enabled=false", "roce.enabled=false",
            "routing.collectives=[alltoall]", "routing.message_mb=0.1", "routing.leaves=2",
            "routing.spines=2", "routing.hosts_per_leaf=4", "routing.transports=[plain]",
            "rail.enabled=false"]
    resolved = resolve("collective_transport", over, seed=4, reps=1)
    res = SCENARIO.run(resolved.config, RunContext(seed=4))
    val = res[(res["section"] == "routing") & (res["kind"] == "value")]
    tab = val.pivot_table(index=["fabric", "condition", "policy"], columns="metric",
                          values="value")
    assert len(tab) == 2 * 3 * 7 - 3  # no minimal split on the fat tree
    healthy = tab.xs("healthy", level="condition")
    assert (healthy["cct_over_lb"] >= 1 - 1e-9).all()
    assert healthy.loc[("fat_tree", "ecmp_polarised"), "fabric_used_share"] <= 0.75
    used = healthy["fabric_used_share"]
    assert used[("fat_tree", "spray")] > used[("fat_tree", "ecmp_polarised")]
    assert (tab.xs("link_failure", level="condition")["cct_over_lb"] > 1).all()
    again = SCENARIO.run(resolved.config, RunContext(seed=4))
    again = again[(again["section"] == "routing") & (again["kind"] == "value")]
    np.testing.assert_array_equal(again["value"].to_numpy(), val["value"].to_numpy())
    _routing_table(res, tmp_path)
    assert "ecmp_polarised" in (tmp_path / "table_routing.md").read_text()


@pytest.mark.parametrize("scheme", ["per_hop_ecmp", "flowlet", "adaptive"])
def test_selectors_compose_with_idle_roce(scheme):
    """The selector hooks also drive RoceTransport (it routes through ``_route``): with every
    RoCE feature idle the run equals the plain packet model's, reorder timing included."""
    from transport.collectives import alltoall
    from transport.roce import RoceOptions
    from transport.simulate import PacketOptions, simulate_collective

    net = fat_tree_network(4)
    kw = {"balancing": "spray", "placement": "random", "seed": 3, "alpha_s": 1e-6,
          "mode": "packet"}
    paths = PathOptions(scheme, flowlet_timeout_s=1e-6)
    plain = simulate_collective(net, alltoall(8, 1e6), packet=PacketOptions(paths=paths), **kw)
    idle = RoceOptions(buffer_bytes=1e12, ecn=False, cc="none")
    roce = simulate_collective(net, alltoall(8, 1e6),
                               packet=PacketOptions(roce=idle, paths=paths), **kw)
    assert roce.cct_s == plain.cct_s
    assert np.array_equal(roce.link_bytes, plain.link_bytes)
    assert roce.extra["reorder_delay_mean_s"] == plain.extra["reorder_delay_mean_s"]


def test_routing_section_runs_failures_under_roce(tmp_path):
    """The routing section on RoCE with PFC (``transports``): a link failure costs every
    scheme time (CCT above the healthy bound), nothing is dropped, lost packets are resent,
    and the table has one row block per transport."""
    from netsim import RunContext
    from netsim.scenario import resolve
    from scenarios.collective_transport import SCENARIO, _routing_table

    over = ["leaves=[2]", "spines=2", "hosts_per_leaf=2", "collectives=[ring_allreduce]",
            "message_mb=[0.5]", "policies=[ecmp]", "placements=[random]",
            "packet.enabled=false", "background.enabled=false", "roce.enabled=false",
            "rail.enabled=false", "routing.collectives=[alltoall]", "routing.message_mb=0.1",
            "routing.leaves=2", "routing.spines=2", "routing.hosts_per_leaf=4",
            "routing.fabrics=[leaf_spine]", "routing.conditions=[healthy,link_failure]",
            "routing.schemes=[ecmp,spray,minimal_split]",
            "routing.transports=[plain,roce_lossless]", "routing.fail_at_us=2"]
    resolved = resolve("collective_transport", over, seed=4, reps=1)
    res = SCENARIO.run(resolved.config, RunContext(seed=4))
    val = res[(res["section"] == "routing") & (res["kind"] == "value")]
    tab = val.pivot_table(index=["queue", "condition", "policy"], columns="metric",
                          values="value")
    assert len(tab) == 2 * 2 * 3
    roce = tab.xs("roce_lossless", level="queue")
    assert (roce["cct_over_lb"] >= 1 - 1e-9).all()
    assert (roce.xs("link_failure", level="condition")["cct_over_lb"]
            > roce.xs("healthy", level="condition")["cct_over_lb"]).all()
    _routing_table(res, tmp_path)
    assert "roce_lossless" in (tmp_path / "table_routing.md").read_text()
