"""Rail-optimised multi-NIC clusters (transport.rails): structure, routes, and collective
times against their α-β closed forms (Patarasuk & Yuan, JPDC 2009 for the ring; the
hierarchical form of transport.collectives.hierarchical_allreduce_time)."""

import numpy as np
import pytest

from netsim import Simulation
from transport.balancing import ECMP, MinimalSplit, minimal_split
from transport.collectives import (
    alltoall,
    alpha_beta_time,
    hierarchical_allreduce,
    hierarchical_allreduce_time,
    ring_allreduce,
)
from transport.metrics import link_bytes, spray_bound_s
from transport.network import SPRAY
from transport.rails import NVLINK4_BPS, rail_network, rail_ring_order
from transport.roce import RoceOptions
from transport.simulate import PacketOptions, simulate_collective
from transport.stepfluid import drain_times_s

POLICIES = ("ecmp", "spray", "minimal_split", "adaptive")
NIC = 400e9


def _names(net, row):
    return [net.link_name(x) for x in row if x >= 0]


def _connected(net, links):
    """Every route row is a chain: each link starts where the previous one ended."""
    for row in links:
        row = row[row >= 0]
        for a, b in zip(row[:-1], row[1:], strict=True):
            if net.dst[a] != net.src[b]:
                return False
    return True


def test_structure_rates_and_paths():
    net = rail_network(4, 2, 3, nic_rate_bps=NIC, oversubscription=2.0)
    assert net.kind == "rail" and net.n_hosts == 8 and net.n_tors == 2 and net.spines == 3
    assert net.n_links == 2 * (8 * 3 + 2 * 3)  # per GPU: port, NVLink, NIC; leaf-spine
    # GPU 0 of server 0 -> GPU 1 of server 0: NVLink; -> GPU 0 of server 1: its rail leaf
    assert _names(net, net.paths([0], [1], [0])[0]) == ["h0->p0", "p0->nv0", "nv0->p1", "p1->h1"]
    assert _names(net, net.paths([0], [2], [0])[0]) == ["h0->p0", "p0->l0", "l0->p2", "p2->h2"]
    cross = _names(net, net.paths([0], [3], [2])[0])
    assert cross == ["h0->p0", "p0->l0", "l0->s2", "s2->l1", "l1->p3", "p3->h3"]
    assert net.n_paths([0, 0, 0], [1, 2, 3]).tolist() == [1, 1, 3]
    up = net.capacity_bps[net.uplinks()]
    assert np.allclose(up, 4 * NIC / (3 * 2.0))  # H·B/(S·o)
    assert np.allclose(net.capacity_bps[net.host_up], NIC + NVLINK4_BPS)
    assert net.fabric.sum() == 2 * 2 * 3
    with pytest.raises(ValueError):
        net.paths([0], [1], [1])  # NVLink pair has one path


def test_every_route_is_a_chain_and_spray_conserves_rate():
    net = rail_network(4, 4, 2)
    s, d = np.divmod(np.arange(16 * 16), 16)
    keep = s != d
    s, d = s[keep], d[keep]
    for p in range(2):
        ok = net.n_paths(s, d) > p
        assert _connected(net, net.paths(s[ok], d[ok], p))
    links, frac = net.route_rows(s, d, np.full(s.size, SPRAY))
    # each sprayed pair: host, port and NIC links 1 each; fabric links add up to 2
    fab = net.fabric[np.maximum(links, 0)] & (links >= 0)
    spine = net.via_spine(s, d)
    assert np.allclose((frac * fab).sum(axis=1), np.where(spine, 2.0, 0.0))
    assert np.allclose((frac * ~fab * (links >= 0)).sum(axis=1), 4.0)
    # the spray rows equal the average of the single paths
    for i in np.flatnonzero(spine)[:5]:
        per = np.zeros(net.n_links)
        for p in range(2):
            np.add.at(per, net.paths([s[i]], [d[i]], [p])[0][:6], 0.5)
        mine = np.zeros(net.n_links)
        m = links[i] >= 0
        np.add.at(mine, links[i][m], frac[i][m])
        assert np.allclose(per, mine)


def test_rail_aligned_traffic_never_crosses_spines():
    """Rail wiring: any pair of GPUs with the same index (and any same-server pair) stays
    off the spines, under every routing; ToR wiring sends cross-leaf rail traffic up."""
    net = rail_network(8, 4, 2)
    s, d = np.divmod(np.arange(32 * 32), 32)
    same_rail = (s % 4 == d % 4) & (s != d)
    same_server = (s // 4 == d // 4) & (s != d)
    for sel in (same_rail, same_server):
        assert not net.via_spine(s[sel], d[sel]).any()
        links, _ = net.route_rows(s[sel], d[sel], np.full(sel.sum(), SPRAY))
        assert not net.fabric[links[links >= 0]].any()
    tor = rail_network(8, 4, 2, hosts_per_leaf=8, wiring="tor")
    assert tor.via_spine(s[same_rail], d[same_rail]).any()
    # a per-rail ring all-reduce (the inter-server phase) places nothing on the spines
    coll = hierarchical_allreduce(8, 4, 8e6)
    for pol in POLICIES:
        res = simulate_collective(net, coll, balancing=pol, placement="packed")
        assert res.link_bytes[net.fabric].sum() == 0.0
        assert res.placed_link_bytes[net.fabric].sum() == 0.0


@pytest.mark.parametrize("delay_us", [0.0, 0.5])
def test_rail_aligned_ring_matches_alpha_beta(delay_us):
    """Snake ring over 4 servers × 4 GPUs: every step's slowest hop is a NIC, so the time is
    the α-β form with B = NIC rate, ``2(n−1)(α + 8S/(nB))``, plus one NIC route's delay per
    step (2 links), whatever the routing."""
    N, G, alpha = 4, 4, 2e-6
    net = rail_network(N, G, 2, nic_rate_bps=NIC, link_delay_s=delay_us * 1e-6)
    coll = ring_allreduce(N * G, 32e6)
    hosts = rail_ring_order(N, G)
    want = alpha_beta_time(coll, alpha, NIC) + 2 * (N * G - 1) * 2 * delay_us * 1e-6
    for pol in POLICIES:
        res = simulate_collective(net, coll, balancing=pol, hosts=hosts, alpha_s=alpha)
        assert res.cct_s == pytest.approx(want, rel=1e-9)
        assert res.link_bytes[net.fabric].sum() == 0.0


def test_naive_ring_crosses_spines_and_ecmp_pays():
    """Packed rank order: the hop out of each server goes GPU G−1 → GPU 0 of the next,
    across rails, so N flows share one leaf pair's S spine paths: spraying and minimal split
    meet the spraying bound (= the α-β time here, uplinks at 1:1), ECMP can collide."""
    N, G = 4, 4
    net = rail_network(N, G, 4, nic_rate_bps=NIC, link_delay_s=0.0)
    coll = ring_allreduce(N * G, 32e6)
    ab = alpha_beta_time(coll, 0.0, NIC)
    res = {
        p: simulate_collective(net, coll, balancing=p, placement="packed", seed=3) for p in POLICIES
    }
    for p in ("spray", "minimal_split", "adaptive"):
        assert res[p].cct_s == pytest.approx(ab, rel=1e-9)
        assert res[p].congestion_ratio == pytest.approx(1.0)
    assert res["ecmp"].cct_s >= ab * (1 - 1e-9)
    assert res["spray"].link_bytes[net.fabric].sum() > 0


@pytest.mark.parametrize("wiring,hpl", [("rail", None), ("tor", 4)])
def test_hierarchical_allreduce_matches_closed_form(wiring, hpl):
    """Intra-server reduce-scatter over NVLink, per-rail ring all-reduce, all-gather: the
    fluid time equals ``2(G−1)(α + 8S/(G·B_nvl)) + 2(N−1)(α + 8S/(GN·B_nic))`` on rails
    (every policy), and on ToR wiring with spraying (its rail rings cross leaves at 1:1)."""
    N, G, S, alpha = 4, 4, 64e6, 2e-6
    net = rail_network(N, G, 2, hosts_per_leaf=hpl, wiring=wiring, link_delay_s=0.0)
    coll = hierarchical_allreduce(N, G, S)
    assert len(coll.steps) == 2 * (G - 1) + 2 * (N - 1)
    want = hierarchical_allreduce_time(N, G, S, alpha, NVLINK4_BPS, NIC)
    pols = POLICIES if wiring == "rail" else ("spray", "minimal_split")
    for pol in pols:
        res = simulate_collective(net, coll, balancing=pol, placement="packed", alpha_s=alpha)
        assert res.cct_s == pytest.approx(want, rel=1e-9)


def test_hierarchical_closed_form_reduces_to_ring():
    """One server: the intra ring all-reduce; one GPU per server: the inter ring."""
    ring = ring_allreduce(8, 8e6)
    assert hierarchical_allreduce_time(1, 8, 8e6, 1e-6, 1e12, 1.0) == pytest.approx(
        alpha_beta_time(ring, 1e-6, 1e12)
    )
    assert hierarchical_allreduce_time(8, 1, 8e6, 1e-6, 1.0, 1e11) == pytest.approx(
        alpha_beta_time(ring, 1e-6, 1e11)
    )
    assert len(hierarchical_allreduce(1, 8, 8e6).steps) == 14


def test_step_fluid_matches_engine_on_rails():
    """One all-to-all step (NVLink, rail and spine flows mixed) solved in closed loop
    (stepfluid.drain_times_s) equals the engine's fluid run."""
    net = rail_network(4, 2, 2, link_delay_s=0.0)
    coll = alltoall(8, 8e6)
    st = coll.steps[0]
    for pol, path in (("spray", SPRAY), ("ecmp", None)):
        res = simulate_collective(net, coll, balancing=pol, placement="packed", seed=1)
        if path is None:  # the run's ECMP paths: same named stream, same connection ids
            sim = Simulation(seed=1)
            ecmp = ECMP(sim.rng("transport.balancing.ecmp"))
            path = ecmp.paths(net, st.src, st.dst, st.src * 8 + st.dst)
        links, frac = net.route_rows(st.src, st.dst, np.broadcast_to(path, st.src.shape))
        a = np.zeros((st.src.size, net.n_links))
        for i in range(st.src.size):
            m = links[i] >= 0
            np.add.at(a[i], links[i][m], frac[i][m])
        t = drain_times_s(a, net.capacity_bps, st.nbytes).max()
        assert res.cct_s == pytest.approx(t, rel=1e-9)


def test_minimal_split_meets_spray_bound_on_rails():
    """All-to-all on 4 servers × 4 GPUs: the minimal split's fabric congestion equals the
    spraying bound; the memo tells NVLink pairs from spine pairs with the same leaves."""
    net = rail_network(4, 4, 4)
    st = alltoall(16, 16e6).steps[0]
    asg = minimal_split(net, st.src, st.dst, st.nbytes)
    placed = link_bytes(
        net, st.src[asg.parent], st.dst[asg.parent], asg.path, st.nbytes[asg.parent] * asg.fraction
    )
    drain = placed * 8 / net.capacity_bps
    bound = spray_bound_s(net, st.src, st.dst, st.nbytes, fabric_only=True)
    assert drain[net.fabric].max() == pytest.approx(bound, rel=1e-9)
    # regression: same leaf pair (rail 0 -> rail 1), NVLink in one batch, spines in the other
    ms = MinimalSplit(np.random.default_rng(0))
    a1 = ms.assign(net, [0], [1], [1e6], [0], None)  # GPU 0 -> GPU 1 of server 0: NVLink
    a2 = ms.assign(net, [0], [5], [1e6], [0], None)  # GPU 0 -> GPU 1 of server 1: spines
    assert a1.n_subflows == 1 and a2.n_subflows == 4


def test_packet_mode_runs_on_rails():
    """The packet transport carries a ring over NVLink, rails and sprayed spine paths: all
    bytes delivered, CCT above the fluid lower bound and within 30 % of the fluid CCT."""
    net = rail_network(2, 2, 2, link_delay_s=0.5e-6)
    coll = ring_allreduce(4, 2e6)
    flow = simulate_collective(net, coll, balancing="spray", placement="packed")
    pkt = simulate_collective(
        net,
        coll,
        balancing="spray",
        placement="packed",
        mode="packet",
        packet=PacketOptions(4096, 64),
    )
    assert pkt.delivered_bytes == pytest.approx(pkt.requested_bytes)
    assert pkt.cct_s >= pkt.lower_bound_s
    assert pkt.cct_s == pytest.approx(flow.cct_s, rel=0.3)
    assert pkt.link_bytes[net.fabric].sum() > 0  # the cross-rail hops used the spines


def test_roce_lossless_on_rails():
    """RoCE with PFC on an oversubscribed rail cluster: an all-to-all pauses but loses no
    packet, and finishes within 10 % of the fluid time."""
    net = rail_network(2, 2, 2, link_delay_s=0.5e-6, oversubscription=2.0)
    coll = alltoall(4, 2e6)
    opts = PacketOptions(4096, 64, roce=RoceOptions(buffer_bytes=200e3, pfc=True))
    res = simulate_collective(
        net, coll, balancing="spray", placement="packed", mode="packet", packet=opts
    )
    flow = simulate_collective(net, coll, balancing="spray", placement="packed")
    assert res.extra["drops"] == 0 and res.extra["pauses"] > 0
    assert res.delivered_bytes == pytest.approx(res.requested_bytes)
    assert res.cct_s == pytest.approx(flow.cct_s, rel=0.1)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"wiring": "mesh"}, "wiring"),
        ({"hosts_per_leaf": 3}, "hosts_per_leaf"),
        ({"wiring": "tor", "hosts_per_leaf": 3}, "hosts_per_leaf"),
        ({"nic_rate_bps": 0.0}, "nic_rate_bps"),
        ({"servers": 0}, "servers"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    args = {"servers": 4, "gpus_per_server": 2, "spines": 2, **kwargs}
    with pytest.raises(ValueError, match=field):
        rail_network(**args)


def test_rail_ring_order():
    hosts = rail_ring_order(4, 3)
    assert sorted(hosts.tolist()) == list(range(12))
    nxt = np.roll(hosts, -1)
    inter = hosts // 3 != nxt // 3
    assert np.all(hosts[inter] % 3 == nxt[inter] % 3)  # every server hop is rail-aligned
    with pytest.raises(ValueError, match="servers"):
        rail_ring_order(3, 2)
