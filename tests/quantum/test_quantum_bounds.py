"""Oracles for quantum.bounds: closed forms and brute force over paths and cuts."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantum import bounds as qb
from quantum.physics import fiber_transmissivity


def test_plob_hand_values():
    """PLOB: −log2(1 − η); η = 1/2 -> 1 ebit, η = 0.1 (50 km) -> 0.152."""
    assert qb.plob_capacity(0.5) == pytest.approx(1.0)
    assert qb.plob_capacity(fiber_transmissivity(50)) == pytest.approx(-np.log2(0.9))
    assert qb.plob_capacity(0.0) == 0.0
    assert np.isinf(qb.plob_capacity(1.0))
    for bad in (-0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="eta"):
            qb.plob_capacity(bad)


def test_chain_and_lossy_station_bounds():
    etas = [0.5, 0.25, 0.75]
    assert qb.chain_capacity(etas) == pytest.approx(-np.log2(0.75))
    assert qb.lossy_chain_capacity(etas, 0.1) == pytest.approx(-np.log2(0.9))
    assert qb.lossy_chain_capacity([0.2], 0.01) == pytest.approx(-np.log2(0.8))  # no station
    # more repeaters never lift the chain above the station limit (Laurenza et al. 2022)
    limit = qb.lossy_station_limit(0.6)
    caps = [
        qb.lossy_chain_capacity([fiber_transmissivity(200 / (n + 1))] * (n + 1), 0.6)
        for n in range(1, 200)
    ]
    assert max(caps) <= limit + 1e-12
    assert caps[-1] == pytest.approx(limit)
    assert qb.equal_chain_capacity(100, 1) == pytest.approx(qb.plob_capacity(0.1))
    with pytest.raises(ValueError):
        qb.chain_capacity([])


def _random_graph(seed: int, n: int, p: float) -> nx.Graph:
    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(n, p, seed=seed)
    for u, v in g.edges:
        g.edges[u, v]["length_km"] = float(rng.uniform(1, 80))
    return g


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 7))
def test_network_capacities_by_brute_force(seed, n):
    """Single path = max over simple paths of the bottleneck; multipath = min over all s-t
    vertex bipartitions of the cut capacity (Pirandola 2019)."""
    g = _random_graph(seed, n, 0.6)
    if not nx.has_path(g, 0, n - 1):
        with pytest.raises(ValueError, match="not connected"):
            qb.multipath_capacity(g, 0, n - 1)
        return
    caps = qb.edge_capacities(g)
    cap = {frozenset(e): c for e, c in caps.items()}
    best = max(
        min(cap[frozenset(e)] for e in itertools.pairwise(path))
        for path in nx.all_simple_paths(g, 0, n - 1)
    )
    single, path = qb.single_path_capacity(g, 0, n - 1)
    assert single == pytest.approx(best)
    assert path[0] == 0 and path[-1] == n - 1
    assert min(cap[frozenset(e)] for e in itertools.pairwise(path)) == pytest.approx(best)
    others = list(range(1, n - 1))
    cut = min(
        sum(c for e, c in cap.items() if len(e & side) == 1)
        for k in range(len(others) + 1)
        for extra in itertools.combinations(others, k)
        for side in [frozenset({0, *extra})]
    )
    assert qb.multipath_capacity(g, 0, n - 1) == pytest.approx(cut)
    assert qb.multipath_capacity(g, 0, n - 1) >= single - 1e-12


def test_lossy_stations_split_nodes():
    """Diamond 0-{1,2}-3 of 1 km links: without station loss the flow is 2·C(η); with η_s
    each branch is capped at C(η_s); single path through a station is capped too."""
    g = nx.Graph()
    for u, v in ((0, 1), (1, 3), (0, 2), (2, 3)):
        g.add_edge(u, v, eta=0.9)
    c = qb.plob_capacity(0.9)
    assert qb.multipath_capacity(g, 0, 3) == pytest.approx(2 * c)
    assert qb.multipath_capacity(g, 0, 3, eta_station=0.5) == pytest.approx(2.0)
    value, path = qb.single_path_capacity(g, 0, 3, eta_station=0.5)
    assert value == pytest.approx(1.0) and len(path) == 3
    g.add_edge(0, 3, eta=0.6)  # a direct edge avoids every station
    assert qb.single_path_capacity(g, 0, 3, eta_station=0.1)[0] == pytest.approx(
        qb.plob_capacity(0.6)
    )
    with pytest.raises(ValueError, match="not a node"):
        qb.single_path_capacity(g, 0, 9)
