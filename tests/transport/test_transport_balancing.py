"""Load balancing: ECMP balls-into-bins, spraying bound, the paper's minimal-split theorem."""

from math import gcd

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.stats import t_interval
from transport.balancing import (
    BALANCERS,
    ECMP,
    External,
    ecmp_hash,
    edge_colouring,
    expected_max_load,
    make_balancer,
    minimal_split,
)
from transport.metrics import leaf_spine_spray_bound_s, link_bytes, spray_bound_s
from transport.network import SPRAY, fat_tree_network, leaf_spine_network


@pytest.mark.parametrize(("m", "k", "value"), [(8, 8, 2.597), (32, 8, 7.048)])
def test_exact_balls_into_bins(m, k, value):
    assert expected_max_load(m, k) == pytest.approx(value, abs=5e-4)
    assert expected_max_load(1, k) == 1.0


@pytest.mark.parametrize(("m", "k"), [(8, 8), (32, 8)])
def test_ecmp_hash_max_load_matches_balls_into_bins(m, k):
    """Monte Carlo of seeded 5-tuple hashing: the 99% CI of E[max load] holds the exact value."""
    rng = np.random.default_rng(m * 100 + k)
    trials = 4000
    maxes = np.empty(trials)
    for t in range(trials):
        src = rng.integers(0, 1 << 24, m)
        dst = rng.integers(0, 1 << 24, m)
        sport = rng.integers(49152, 65536, m)
        h = ecmp_hash(src, dst, sport, 4791, 17, int(rng.integers(1 << 62)))
        maxes[t] = np.bincount((h % np.uint64(k)).astype(np.int64), minlength=k).max()
    mean, half = t_interval(maxes, 0.99)
    assert abs(mean - expected_max_load(m, k)) <= half


def test_ecmp_keeps_a_connection_on_one_path_and_depends_on_seed():
    net = leaf_spine_network(4, 8, 4)
    src, dst, conn = np.zeros(64, int), np.full(64, 5), np.arange(64)
    a = ECMP(np.random.default_rng(1)).paths(net, src, dst, conn)
    b = ECMP(np.random.default_rng(1)).paths(net, src, dst, conn)
    c = ECMP(np.random.default_rng(2)).paths(net, src, dst, conn)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(a.tolist()) <= set(range(8)) and len(set(a.tolist())) > 1


def _step(rng, leaves, hosts_per_leaf, pattern):
    n_hosts = leaves * hosts_per_leaf
    k = int(rng.integers(2, n_hosts + 1))
    hosts = rng.permutation(n_hosts)[:k]
    if pattern == "ring":
        return hosts, np.roll(hosts, -1)
    a, b = np.divmod(np.arange(k * k), k)
    off = a != b
    return hosts[a[off]], hosts[b[off]]


@settings(max_examples=60, deadline=None)
@given(
    leaves=st.integers(2, 9),
    spines=st.integers(1, 9),
    hosts_per_leaf=st.integers(1, 5),
    pattern=st.sampled_from(["ring", "alltoall"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_minimal_split_reaches_spraying_congestion(leaves, spines, hosts_per_leaf, pattern, seed):
    """The paper's theorem: equal-size flows of one step, König matchings assigned to spines
    round-robin and S/gcd(Δ,S)-way splitting give every uplink and downlink exactly the
    spraying bound, max cross-leaf bytes of a leaf / S."""
    if leaves * hosts_per_leaf < 2:
        return
    rng = np.random.default_rng(seed)
    net = leaf_spine_network(leaves, spines, hosts_per_leaf)
    src, dst = _step(rng, leaves, hosts_per_leaf, pattern)
    size = np.full(src.size, 1e6)
    asg = minimal_split(net, src, dst, size)
    assert np.allclose(np.bincount(asg.parent, weights=asg.fraction, minlength=src.size), 1.0)
    placed = link_bytes(
        net, src[asg.parent], dst[asg.parent], asg.path, size[asg.parent] * asg.fraction
    )
    sprayed = link_bytes(net, src, dst, np.full(src.size, SPRAY), size)
    fab = net.fabric
    assert placed[fab].max(initial=0) == pytest.approx(sprayed[fab].max(initial=0), rel=1e-9)
    bound = leaf_spine_spray_bound_s(net, src, dst, size)
    assert spray_bound_s(net, src, dst, size, fabric_only=True) == pytest.approx(bound, rel=1e-9)
    # subflows: at most S/gcd(Δ, S) per cross-leaf flow, exactly 1 per same-leaf flow
    ls, ld = net.tor[src], net.tor[dst]
    cross = ls != ld
    if cross.any():
        delta = max(np.bincount(ls[cross]).max(), np.bincount(ld[cross]).max())
        per = np.bincount(asg.parent, minlength=src.size)
        assert per[cross].max() <= spines // gcd(int(delta), spines)
        assert np.all(per[~cross] == 1)


def _placed_fabric_max(net, src, dst, size, asg):
    placed = link_bytes(
        net, src[asg.parent], dst[asg.parent], asg.path, size[asg.parent] * asg.fraction
    )
    return placed[net.fabric].max(initial=0.0)


def test_minimal_split_mixed_sizes_issue_18_repro():
    """Issue 18: colouring each size alone put 2 MB on an uplink against a 1.5 MB bound
    (leaf 1 sends 1 + 2 MB over 2 spines)."""
    net = leaf_spine_network(2, 2, 2)
    src, dst = np.array([0, 3, 0, 3]), np.array([2, 1, 2, 1])
    size = np.array([1e6, 1e6, 1e6, 2e6])
    asg = minimal_split(net, src, dst, size)
    assert np.allclose(np.bincount(asg.parent, weights=asg.fraction), 1.0)
    assert _placed_fabric_max(net, src, dst, size, asg) == pytest.approx(1.5e6, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    leaves=st.integers(2, 7),
    spines=st.integers(1, 8),
    hosts_per_leaf=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_minimal_split_mixed_sizes_reach_spraying_bound(leaves, spines, hosts_per_leaf, seed):
    """Weighted colouring: random flows of 1-4 size units (and of awkward sizes) never put
    more on a fabric link than ideal spraying of the whole batch."""
    rng = np.random.default_rng(seed)
    net = leaf_spine_network(leaves, spines, hosts_per_leaf)
    m = int(rng.integers(1, 3 * leaves * hosts_per_leaf + 1))
    src = rng.integers(0, net.n_hosts, m)
    dst = (src + rng.integers(1, net.n_hosts, m)) % net.n_hosts if net.n_hosts > 1 else src
    for size in (rng.integers(1, 5, m) * 1e6, rng.integers(1, 5, m) * 1e6 / 3.0):
        asg = minimal_split(net, src, dst, size)
        assert np.allclose(np.bincount(asg.parent, weights=asg.fraction, minlength=m), 1.0)
        sprayed = link_bytes(net, src, dst, np.full(m, SPRAY), size)[net.fabric].max(initial=0)
        got = _placed_fabric_max(net, src, dst, size, asg)
        assert got <= sprayed * (1 + 1e-6) + 1.0  # sub-byte rounding of awkward sizes
        assert np.bincount(asg.parent, minlength=m).max() <= max(spines, 1)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 7), seed=st.integers(0, 10_000))
def test_konig_colouring_uses_delta_matchings(n, seed):
    rng = np.random.default_rng(seed)
    mult = rng.integers(0, 4, (n, n))
    blocks = edge_colouring(mult)
    delta = max(mult.sum(axis=0).max(), mult.sum(axis=1).max())
    assert sum(w for _, _, w in blocks) == delta
    used = np.zeros_like(mult)
    for rows, cols, w in blocks:
        assert len(set(rows.tolist())) == rows.size and len(set(cols.tolist())) == cols.size
        np.add.at(used, (rows, cols), w)
    assert np.array_equal(used, mult)


def test_every_balancer_gives_valid_paths_on_leaf_spine_and_fat_tree():
    rng = np.random.default_rng(0)
    for net in (leaf_spine_network(4, 4, 4), fat_tree_network(4)):
        src, dst = _step(rng, 4, 4, "alltoall")
        size = np.full(src.size, 1e6)
        for name in BALANCERS:
            if name == "minimal_split" and net.kind != "leaf_spine":
                with pytest.raises(ValueError, match="leaf-spine"):
                    make_balancer(name, rng).assign(net, src, dst, size, np.arange(src.size), None)
                continue
            asg = make_balancer(name, np.random.default_rng(1)).assign(
                net, src, dst, size, np.arange(src.size), np.zeros(net.n_links)
            )
            rows, _ = net.route_rows(src[asg.parent], dst[asg.parent], asg.path)
            assert rows.shape[0] == asg.n_subflows
    with pytest.raises(ValueError, match="balancing"):
        make_balancer("flowlet", rng)


def test_adaptive_balances_equal_flows_and_external_validates():
    net = leaf_spine_network(2, 4, 4)
    src, dst = np.arange(4), np.arange(4) + 4  # leaf 0 -> leaf 1, four flows
    asg = make_balancer("adaptive", np.random.default_rng(0)).assign(
        net, src, dst, np.full(4, 1e6), np.arange(4), np.zeros(net.n_links)
    )
    assert sorted(asg.path.tolist()) == [0, 1, 2, 3]
    ext = External(np.random.default_rng(0), split=2)
    ext.action = np.array([0, 0, 1, 4, 2, 3, 3, 3])
    a = ext.assign(net, src, dst, np.full(4, 1e6), None, None)
    assert a.n_subflows == 1 + 2 + 2 + 1 and SPRAY in a.path.tolist()
    ext.action = np.array([0, 9] * 4)
    with pytest.raises(ValueError, match="action"):
        ext.assign(net, src, dst, np.full(4, 1e6), None, None)
