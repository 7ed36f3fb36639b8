"""Topologies of Skrzypczyk & Wehner (2021) and the SURFnet loader; capability tables."""

import math

import networkx as nx
import pytest

from netsim import ConfigError
from quantum.capabilities import (
    FUTURISTIC_LINK,
    attach_capabilities,
    check_capabilities,
    load_capability_table,
    nv_link_capabilities,
)
from quantum.topologies import (
    REPEATER,
    SURFNET_EDGES,
    SURFNET_SITES,
    build_topology,
    end_nodes,
    equip,
    h_network,
    line,
    star,
    surfnet,
    symm,
)


def roles(g):
    return {n: r for n, r in g.nodes(data="role")}


def test_small_networks_match_the_paper():
    g = line()
    assert sorted(g.nodes) == list(range(6)) and g.number_of_edges() == 5
    assert end_nodes(g) == list(range(6))
    g = h_network()
    assert sorted(g.edges) == [(0, 1), (1, 2), (1, 4), (3, 4), (4, 5)]
    assert end_nodes(g) == [0, 2, 3, 5] and roles(g)[1] == roles(g)[4] == REPEATER
    g = star()
    assert roles(g)[0] == REPEATER and end_nodes(g) == [1, 2, 3] and g.degree(0) == 3
    g = symm()
    core = g.subgraph(range(4))
    assert core.number_of_edges() == 6 and all(roles(g)[i] == REPEATER for i in range(4))
    assert end_nodes(g) == [4, 5, 6, 7] and all(g.has_edge(i, i + 4) for i in range(4))
    for name in ("line", "H", "star", "symm"):
        g = build_topology(name)
        assert nx.is_connected(g)
        assert {d for *_, d in g.edges(data="length_km")} == {5.0}


def test_surfnet_loader_sites_fibres_and_end_nodes():
    """Oracle: the counts and fibre lengths of RepAlloc's SurfnetCore.gml (SOURCES.md)."""
    g = surfnet()
    assert nx.is_connected(g)
    sites = [n for n, r in g.nodes(data="role") if r == REPEATER]
    ends = end_nodes(g)
    assert len(sites) == SURFNET_SITES == 54 and len(ends) == 54
    assert g.number_of_edges() == SURFNET_EDGES + 54
    core = g.subgraph(sites)
    lengths = [d for *_, d in core.edges(data="length_km")]
    assert len(lengths) == 64
    assert math.isclose(sum(lengths), 2367.2, abs_tol=1e-6)
    assert min(lengths) == pytest.approx(0.2) and max(lengths) == pytest.approx(77.7)
    assert g.edges["Asd001b", "Asd002a"]["length_km"] == pytest.approx(11.8)
    for e in ends:
        assert g.degree(e) == 1 and g.nodes[e]["site"] in core
        assert g.edges[e, g.nodes[e]["site"]]["length_km"] == 1.0
    g2 = surfnet()
    assert sorted(g.edges(data="length_km"), key=repr) == sorted(
        g2.edges(data="length_km"), key=repr
    )


def test_surfnet_loader_rejects_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        surfnet(path=tmp_path / "missing.gml")
    two = nx.Graph()
    two.add_node(0, old_label="A")
    two.add_node(1, old_label="B")
    two.add_node(2, old_label="C")
    two.add_edge(0, 1, length=3.0)
    nx.write_gml(two, tmp_path / "split.gml")
    with pytest.raises(ConfigError, match="not connected"):
        surfnet(path=tmp_path / "split.gml")
    two.add_edge(1, 2, length=-1.0)
    nx.write_gml(two, tmp_path / "negative.gml")
    with pytest.raises(ConfigError, match="length"):
        surfnet(path=tmp_path / "negative.gml")
    with pytest.raises(ConfigError, match="access_km"):
        surfnet(access_km=-1)


def test_bad_topology_arguments():
    with pytest.raises(ConfigError, match="topology"):
        build_topology("ring")
    with pytest.raises(ConfigError, match="length_km"):
        line(length_km=0)
    with pytest.raises(ConfigError, match="n:"):
        line(1)


def test_equip_rejects_zero_memories_at_a_repeater():
    with pytest.raises(ValueError, match="repeater nodes: need at least 1 communication qubit"):
        equip(h_network(), repeater=(0, 0))
    with pytest.raises(ValueError, match="coherence_s"):
        equip(h_network(), coherence_s=0.0)
    g = equip(h_network(), end=(1, 3), repeater=(2, 4), coherence_s=(1.0, 2.0))
    assert g.nodes[0]["comm_qubits"] == 1 and g.nodes[1]["storage_qubits"] == 4
    assert g.nodes[1]["coherence_s"] == 2.0


def test_nv_capability_table_and_lookup():
    table = load_capability_table()
    assert sorted(table) == [5.0 * k for k in range(1, 11)]
    assert all(len(v) == 10 for v in table.values())
    five = nv_link_capabilities(5.0)
    assert five[0] == pytest.approx((0.8770831028154402, 14.15833266978285))
    assert nv_link_capabilities(7.0) == table[10.0]  # next longer row: conservative
    with pytest.raises(ValueError, match="beyond"):
        nv_link_capabilities(51.0)
    with pytest.raises(ValueError, match="distance_km"):
        nv_link_capabilities(-1.0)
    assert FUTURISTIC_LINK == (0.999, 1400.0)
    g = attach_capabilities(star(), "futuristic")
    assert all(d == (FUTURISTIC_LINK,) for *_, d in g.edges(data="capabilities"))
    with pytest.raises(ConfigError, match="link"):
        attach_capabilities(star(), "magic")


def test_check_capabilities_bad_values():
    with pytest.raises(ValueError, match="fidelity"):
        check_capabilities([(1.2, 10.0)])
    with pytest.raises(ValueError, match="rate"):
        check_capabilities([(0.9, 0.0)])
    with pytest.raises(ValueError, match="at least one"):
        check_capabilities([])
