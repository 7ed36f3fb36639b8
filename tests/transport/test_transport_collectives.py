"""Collective algorithms: α-β closed forms on non-blocking fabrics, structure, bad input."""

import numpy as np
import pytest

from netsim import Simulation
from transport.balancing import make_balancer
from transport.collectives import (
    BUSBW_FACTORS,
    COLLECTIVES,
    alpha_beta_time,
    build_collective,
    double_binary_tree,
    place_ranks,
    rabenseifner_allreduce,
    ring_allreduce,
    schedule,
)
from transport.execute import CollectiveRun
from transport.flowsim import FlowTransport
from transport.network import leaf_spine_network
from transport.simulate import simulate_collective

B = 100e9


def _knowledge(coll):
    """know[i, j]: rank i has (transitively) received rank j's data after the collective."""
    know = np.eye(coll.n_ranks, dtype=bool)
    for st in coll.steps:
        new = know.copy()
        for s, d in zip(st.src.tolist(), st.dst.tolist(), strict=True):
            new[d] |= know[s]
        know = new
    return know


@pytest.mark.parametrize("name", sorted(COLLECTIVES))
@pytest.mark.parametrize("n", [2, 4, 8, 13, 16])
def test_every_rank_hears_from_every_rank(name, n):
    if name == "rabenseifner_allreduce" and n & (n - 1):
        pytest.skip("power of two only")
    coll = build_collective(name, n, 1e6)
    assert _knowledge(coll).all()
    for st in coll.steps:
        assert np.all(st.src != st.dst) and np.all(st.nbytes > 0)


def test_bandwidth_optimal_byte_counts():
    n, S = 8, 8e6
    for coll in (ring_allreduce(n, S), rabenseifner_allreduce(n, S)):
        sent = sum(np.bincount(st.src, weights=st.nbytes, minlength=n) for st in coll.steps)
        assert np.allclose(sent, 2 * (n - 1) / n * S)  # all-reduce lower bound per rank
    assert len(ring_allreduce(n, S).steps) == 2 * (n - 1)
    assert len(rabenseifner_allreduce(n, S).steps) == 2 * 3
    a2a = build_collective("alltoall", n, S)
    assert len(a2a.steps) == 1 and len(a2a.steps[0]) == n * (n - 1)
    assert BUSBW_FACTORS["allreduce"](n) == 2 * (n - 1) / n
    assert BUSBW_FACTORS["allgather"](n) == (n - 1) / n


@pytest.mark.parametrize("n", [2, 3, 7, 8, 12, 31])
def test_double_binary_tree_is_two_complementary_trees(n):
    t1, t2 = double_binary_tree(n)
    for parent in (t1, t2):
        assert (parent < 0).sum() == 1  # one root
        for r in range(n):  # every rank reaches the root without cycles
            seen, p = set(), r
            while parent[p] >= 0:
                assert p not in seen
                seen.add(p)
                p = parent[p]
        children = np.bincount(parent[parent >= 0], minlength=n)
        assert children.max() <= 2
    if n > 3:  # a leaf of one tree is an inner node of the other (NCCL's design)
        leaves1 = set(np.flatnonzero(np.bincount(t1[t1 >= 0], minlength=n) == 0).tolist())
        leaves2 = set(np.flatnonzero(np.bincount(t2[t2 >= 0], minlength=n) == 0).tolist())
        assert len(leaves1 & leaves2) <= 1


@pytest.mark.parametrize("placement", ["packed", "random"])
def test_ring_allreduce_alpha_beta_on_non_blocking_fabric(placement):
    """2(n−1)·α + 2(n−1)/n·S/B within 1% (Patarasuk & Yuan 2009). Packed ranks with ECMP see
    one cross-leaf flow per leaf; random ranks need spraying to stay non-blocking."""
    net = leaf_spine_network(4, 4, 4, host_rate_bps=B, link_delay_s=0.0)
    n, S, alpha = 16, 64e6, 5e-6
    policy = "ecmp" if placement == "packed" else "spray"
    res = simulate_collective(net, ring_allreduce(n, S), balancing=policy, placement=placement,
                              alpha_s=alpha, seed=4)
    expect = 2 * (n - 1) * alpha + 2 * (n - 1) / n * S * 8 / B
    assert res.cct_s == pytest.approx(expect, rel=0.01)
    assert alpha_beta_time(ring_allreduce(n, S), alpha, B) == pytest.approx(expect)
    assert res.busbw_Bps == pytest.approx(S / expect * 2 * (n - 1) / n, rel=0.01)


@pytest.mark.parametrize("n", [8, 16])
def test_rabenseifner_alpha_beta_on_non_blocking_fabric(n):
    """2·log2(n)·α + 2(n−1)/n·S/B within 1% (Thakur, Rabenseifner & Gropp 2005)."""
    net = leaf_spine_network(4, 4, 4, host_rate_bps=B, link_delay_s=0.0)
    S, alpha = 32e6, 3e-6
    for policy in ("spray", "minimal_split"):
        res = simulate_collective(net, rabenseifner_allreduce(n, S), balancing=policy,
                                  placement="random", alpha_s=alpha, seed=n)
        expect = 2 * np.log2(n) * alpha + 2 * (n - 1) / n * S * 8 / B
        assert res.cct_s == pytest.approx(expect, rel=0.01)


def test_schedule_barriers_dataflow_and_chunks():
    coll = ring_allreduce(4, 4e6)
    step = schedule(coll, chunks=2, sync="step")
    real = step.src >= 0
    assert real.sum() == 2 * len(coll.steps) * 4 and (~real).sum() == 2 * len(coll.steps)
    assert step.nbytes[real].sum() == pytest.approx(coll.total_bytes)
    flow = schedule(coll, chunks=2, sync="dataflow")
    assert (flow.src < 0).sum() == 0 and (flow.n_deps == 0).sum() == 4  # chunk 0, step 0
    net = leaf_spine_network(2, 2, 2, link_delay_s=0.0)
    kw = {"balancing": "spray", "alpha_s": 1e-6}
    t_step = simulate_collective(net, coll, chunks=4, sync="step", **kw).cct_s
    t_flow = simulate_collective(net, coll, chunks=4, sync="dataflow", **kw).cct_s
    t_one = simulate_collective(net, coll, chunks=1, sync="step", **kw).cct_s
    assert t_flow <= t_step and t_one < t_step  # chunk barriers add latency, pipelining hides it


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ring_allreduce(4, 0.0), "message_bytes"),
        (lambda: ring_allreduce(1, 1e6), "ranks"),
        (lambda: rabenseifner_allreduce(6, 1e6), "power of two"),
        (lambda: build_collective("bcast", 4, 1e6), "collective"),
        (lambda: place_ranks(9, 8, "packed"), "ranks <= hosts"),
        (lambda: place_ranks(4, 8, "striped"), "placement"),
        (lambda: schedule(ring_allreduce(4, 1e6), chunks=0), "chunks"),
        (lambda: schedule(ring_allreduce(4, 1e6), sync="async"), "sync"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.slow
def test_ring_allreduce_1024_gpus_packed_ecmp_closed_form():
    """The benchmark case (32 leaves × 32 hosts, 16 spines, 1:1, ECMP, 1 GB): packed ranks
    put one cross-leaf flow per leaf on 200 Gb/s uplinks, so every step takes
    S/n·8/B + 4 link delays: CCT = 2(n−1)(8S/(nB) + 4d)."""
    net = leaf_spine_network(32, 16, 32, host_rate_bps=B, link_delay_s=1e-6)
    n, S = 1024, 1e9
    res = simulate_collective(net, ring_allreduce(n, S), balancing="ecmp", placement="packed")
    assert res.cct_s == pytest.approx(2 * (n - 1) * (8 * S / (n * B) + 4e-6), rel=1e-9)


def test_dataflow_chunks_minimal_split_plans_whole_steps():
    """Issue 18: with sync="dataflow" and chunks, each released fragment of a step was
    coloured alone and the tree all-reduce's step congestion reached 1.33-1.75x the spraying
    bound (2x here); planning each (chunk, step) whole keeps it at the bound, and in step
    sync (whole steps per batch) nothing changes."""
    net = leaf_spine_network(4, 4, 4)
    coll = build_collective("tree_allreduce", 16, 4e6)
    kw = {"balancing": "minimal_split", "placement": "random", "seed": 1}
    flow = simulate_collective(net, coll, chunks=4, sync="dataflow", **kw)
    assert flow.congestion_ratio == pytest.approx(1.0, rel=1e-9)
    assert flow.delivered_bytes == pytest.approx(flow.requested_bytes, rel=1e-12)
    step = simulate_collective(net, coll, chunks=1, sync="step", **kw)
    assert step.congestion_ratio == pytest.approx(1.0, rel=1e-9)
    assert flow.subflows / flow.transfers == pytest.approx(step.subflows / step.transfers)


def test_pipelined_tree_is_faster_and_above_its_bound():
    """Pipelining the double binary tree in chunks (dataflow, as NCCL does) beats the
    step-synchronous tree, and the pipelined bound (every link's sprayed share of the whole
    collective) stays below every run."""
    from transport.metrics import pipelined_bound_s

    net = leaf_spine_network(4, 2, 4)
    coll = build_collective("tree_allreduce", 16, 16e6)
    kw = {"balancing": "spray", "placement": "packed", "seed": 0}
    step = simulate_collective(net, coll, **kw)
    piped = simulate_collective(net, coll, chunks=8, sync="dataflow", **kw)
    assert piped.cct_s < 0.6 * step.cct_s
    bound = pipelined_bound_s(net, coll, step.hosts)
    assert piped.lower_bound_s == pytest.approx(bound)
    assert bound <= piped.cct_s and bound <= step.cct_s


def test_settle_mixed_successor_counts():
    """Regression (full collective_transport study, pipelined tree): transfers that finish
    together with 0 and 2 successors (total = count) took the one-successor-each shortcut
    and indexed past the successor list; each successor of the finished transfers must lose
    exactly one dependency."""
    net = leaf_spine_network(2, 2, 2)
    sched = schedule(build_collective("tree_allreduce", 4, 1e6), 2, "dataflow")
    lens = np.diff(sched.succ_ptr)
    none, two = int(np.flatnonzero(lens == 0)[-1]), int(np.flatnonzero(lens == 2)[-1])
    sim = Simulation(seed=0)
    run = CollectiveRun(
        sim, net, sched, np.arange(4), make_balancer("spray", sim.rng("b")), FlowTransport(sim, net)
    )
    before = run._deps.copy()
    run._settle(np.array([two, none]), np.zeros(2))
    want = before.copy()
    want[sched.successors(two)] -= 1
    np.testing.assert_array_equal(run._deps, want)
