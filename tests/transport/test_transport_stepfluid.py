"""Closed-loop fluid steps and the min-congestion LP against the engine and closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim import Simulation
from transport.flowsim import FlowTransport
from transport.maxmin import max_min_rates
from transport.network import SPRAY, leaf_spine_network
from transport.stepfluid import _fabric_lp, drain_times_s, max_min_dense, min_congestion_s


def _dense(net, src, dst, path):
    links, frac = net.route_rows(src, dst, path)
    a = np.zeros((src.size, net.n_links))
    mask = links >= 0
    np.add.at(a, (np.nonzero(mask)[0], links[mask]), frac[mask])
    return a


def _batch(rng):
    net = leaf_spine_network(
        int(rng.integers(2, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 4)),
        100e9, float(rng.choice([1.0, 2.0])),
    )
    m = int(rng.integers(1, 12))
    src = rng.integers(0, net.n_hosts, m)
    dst = (src + rng.integers(1, max(net.n_hosts, 2), m)) % net.n_hosts
    keep = src != dst
    src, dst = src[keep], dst[keep]
    paths = net.n_paths(src, dst)
    path = np.where(rng.random(src.size) < 0.3, SPRAY, rng.integers(0, 100, src.size) % paths)
    return net, src, dst, path, rng.integers(1, 5, src.size) * 1e5


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_drain_times_equal_the_engine_fluid_transport(seed):
    """Oracle: FlowTransport on the engine (event-driven max-min re-solves)."""
    net, src, dst, path, nbytes = _batch(np.random.default_rng(seed))
    if src.size == 0:
        return
    sim = Simulation(seed=0)
    tr = FlowTransport(sim, net)
    got = np.zeros(src.size)

    def done(owners, _delays):
        got[owners] = sim.now

    tr.add(src, dst, path, nbytes, np.arange(src.size), done)
    sim.run()
    a = _dense(net, src, dst, path)
    assert drain_times_s(a, net.capacity_bps, nbytes) == pytest.approx(got, rel=1e-9)
    want = max_min_rates(a, net.capacity_bps)
    assert max_min_dense(a, net.capacity_bps) == pytest.approx(want, rel=1e-9)


def test_max_min_dense_hand_cases():
    """Parking lot: a long flow over two links and one short flow on each get C/2 each."""
    a = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert max_min_dense(a, np.array([10.0, 10.0])) == pytest.approx([5.0, 5.0, 5.0])
    # A = B = 0.5, C = 1.5 (link 0 shared by A and B with capacity 1, link 1 capacity 2)
    a = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert max_min_dense(a, np.array([1.0, 2.0])) == pytest.approx([0.5, 0.5, 1.5])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([0.25, 0.5, 1.0]))
def test_closed_form_equals_the_lp_on_per_spine_capacities(seed, scale):
    """Per-spine capacities: the closed form max_i B_i / Σ_s c_s equals the LP; and the LP is
    never above the spraying bound nor below any link's forced share."""
    rng = np.random.default_rng(seed)
    net, src, dst, _, nbytes = _batch(rng)
    if src.size == 0 or net.spines < 2:
        return
    cap = net.capacity_bps.copy()
    cap[net.uplinks()[:, 0]] *= scale
    cap[net.downlinks()[0]] *= scale
    from dataclasses import replace

    net = replace(net, capacity_bps=cap)
    ls, ld = net.tor[src], net.tor[dst]
    cross = np.flatnonzero(ls != ld)
    if cross.size == 0:
        return
    bits = nbytes * 8.0
    closed = _fabric_lp(net, ls, ld, bits, cross)
    skewed = replace(net, capacity_bps=cap * (1 + 1e-9 * np.arange(cap.size)))  # force the LP
    lp = _fabric_lp(skewed, ls, ld, bits, cross)
    assert lp == pytest.approx(closed, rel=1e-6)
    spray = _dense(net, src, dst, np.full(src.size, SPRAY))
    sprayed = (spray * bits[:, None]).sum(axis=0) / cap
    assert min_congestion_s(net, src, dst, nbytes) <= sprayed.max() * (1 + 1e-9)
