"""Topology builders: sizes, degrees, capacities; loaders and their errors."""

import networkx as nx
import numpy as np
import pytest

from netsim import ConfigError, topology


def test_simple_shapes():
    assert topology.line(6).number_of_edges() == 5
    assert topology.ring(5).number_of_edges() == 5
    assert dict(topology.star(3).degree)[0] == 3
    g = topology.grid(3, 4)
    assert g.number_of_nodes() == 12 and g.number_of_edges() == 3 * 3 + 2 * 4


@pytest.mark.parametrize("rings", [0, 1, 2, 4])
def test_hex_grid_counts_and_spacing(rings):
    pts = topology.hex_grid(rings, 200.0)
    assert len(pts) == 1 + 3 * rings * (rings + 1)
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert len({tuple(np.round(p, 6)) for p in pts}) == len(pts)
    if rings:
        assert d.min() == pytest.approx(200.0)
        assert np.allclose(d.min(axis=1), 200.0)


def test_leaf_spine_oversubscription():
    g = topology.leaf_spine(4, 2, 8, host_rate_bps=100e9, oversubscription=2.0)
    assert g.number_of_nodes() == 4 + 2 + 32
    up = g.edges["l0", "s0"]["capacity_bps"]
    assert 8 * 100e9 / (2 * up) == pytest.approx(2.0)
    assert all(g.degree[f"l{i}"] == 2 + 8 for i in range(4))


def test_fat_tree_sizes():
    k = 4
    g = topology.fat_tree(k)
    roles = nx.get_node_attributes(g, "role")
    count = lambda r: sum(1 for v in roles.values() if v == r)  # noqa: E731
    assert count("host") == k**3 // 4 and count("core") == (k // 2) ** 2
    assert count("edge") == count("agg") == k * k // 2
    assert all(g.degree[n] == k for n, r in roles.items() if r != "host")


@pytest.mark.parametrize(
    "call",
    [
        lambda: topology.leaf_spine(4, 0, 2),
        lambda: topology.leaf_spine(4, 2, 2, host_rate_bps=-1),
        lambda: topology.fat_tree(3),
        lambda: topology.line(0),
    ],
)
def test_bad_parameters(call):
    with pytest.raises(ConfigError):
        call()


def test_load_graph(tmp_path):
    g = nx.path_graph(3)
    nx.write_gml(g, tmp_path / "g.gml")
    nx.write_graphml(g, tmp_path / "g.graphml")
    assert topology.load_graph(tmp_path / "g.gml").number_of_nodes() == 3
    assert topology.load_graph(tmp_path / "g.graphml").number_of_edges() == 2
    with pytest.raises(ConfigError, match="not found"):
        topology.load_graph(tmp_path / "none.gml")
    nx.write_gml(nx.Graph(), tmp_path / "empty.gml")
    with pytest.raises(ConfigError, match="empty"):
        topology.load_graph(tmp_path / "empty.gml")
    (tmp_path / "x.txt").write_text("1 2\n")
    with pytest.raises(ConfigError, match="unknown format"):
        topology.load_graph(tmp_path / "x.txt")


def test_great_circle():
    # Amsterdam - Utrecht ~ 35 km; a quarter meridian ~ 10,008 km
    assert topology.great_circle_km(52.37, 4.90, 52.09, 5.12) == pytest.approx(34.7, abs=0.5)
    assert topology.great_circle_km(0, 0, 90, 0) == pytest.approx(10007.5, abs=1)
