"""Directed link model and equal-cost paths on leaf-spine and fat-tree fabrics."""

import numpy as np
import pytest

from netsim import ConfigError
from netsim.topology import leaf_spine
from transport.network import SPRAY, fat_tree_network, from_graph, leaf_spine_network


def _names(net, row):
    return [net.link_name(x) for x in row if x >= 0]


def test_leaf_spine_paths_and_rates():
    net = leaf_spine_network(4, 2, 2, host_rate_bps=100e9, oversubscription=2.0)
    assert net.n_links == 2 * (8 + 4 * 2)
    assert net.n_paths([0, 0], [1, 2]).tolist() == [1, 2]
    assert _names(net, net.paths([0], [1], [0])[0]) == ["h0->l0", "l0->h1"]
    assert _names(net, net.paths([0], [2], [1])[0]) == ["h0->l0", "l0->s1", "s1->l1", "l1->h2"]
    up = net.capacity_bps[net.uplinks()]
    assert np.allclose(up, 2 * 100e9 / (2 * 2.0))  # H·B/(S·o)
    assert net.fabric.sum() == 2 * 4 * 2
    with pytest.raises(ValueError):
        net.paths([0], [2], [2])  # only spines 0..1
    with pytest.raises(ValueError):
        net.paths([0], [0], [0])  # src == dst


def test_spray_incidence_splits_evenly_and_conserves_rate():
    net = leaf_spine_network(3, 4, 2)
    links, frac = net.spray_incidence([0, 0], [1, 5])
    assert frac[0].sum() == pytest.approx(2.0)  # same leaf: two host links
    # cross-leaf: host links 1 each, 4 uplinks and 4 downlinks at 1/4
    assert sorted(frac[1][frac[1] > 0].tolist()) == [0.25] * 8 + [1.0, 1.0]
    assert np.isclose(frac[1][net.fabric[np.maximum(links[1], 0)] & (links[1] >= 0)].sum(), 2.0)
    rows, f2 = net.route_rows([0, 0], [5, 5], [SPRAY, 3])
    assert rows.shape[0] == 2 and f2[1].sum() == 4.0


@pytest.mark.parametrize("k", [4, 6])
def test_fat_tree_paths_are_connected_and_counted(k):
    net = fat_tree_network(k)
    half = k // 2
    n = k**3 // 4
    rng = np.random.default_rng(k)
    src = rng.integers(0, n, 60)
    dst = (src + rng.integers(1, n, 60)) % n
    n_p = net.n_paths(src, dst)
    assert set(n_p.tolist()) <= {1, half, half * half}
    for s, d, p in zip(src, dst, n_p, strict=True):
        for j in range(p):
            row = net.paths([s], [d], [j])[0]
            row = row[row >= 0]
            assert net.src[row[0]] == f"h{s}" and net.dst[row[-1]] == f"h{d}"
            assert all(net.dst[a] == net.src[b] for a, b in zip(row[:-1], row[1:], strict=True))
        # distinct paths use distinct fabric links somewhere
        rows = {tuple(net.paths([s], [d], [j])[0]) for j in range(p)}
        assert len(rows) == p
    links, frac = net.spray_incidence(src, dst)
    assert np.allclose(
        net.route_delay_s(links, frac), net.route_delay_s(*net.route_rows(src, dst, 0))
    )


def test_from_graph_and_bad_input():
    net = from_graph(leaf_spine(2, 3, 1))
    assert net.kind == "leaf_spine" and net.spines == 3
    with pytest.raises(ConfigError, match="spines"):
        leaf_spine_network(2, 0, 1)
    with pytest.raises(ConfigError, match="host_rate_bps"):
        leaf_spine_network(2, 2, 1, host_rate_bps=-1.0)
    with pytest.raises(ConfigError):
        fat_tree_network(3)
    with pytest.raises(ValueError, match="only defined for a leaf-spine"):
        fat_tree_network(4).uplinks()
