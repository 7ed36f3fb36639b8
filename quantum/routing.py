"""Route selection for entanglement requests on a graph (engine-free).

* ``shortest``: the shortest fibre path (Dijkstra on ``length_km``);
* ``highest_rate``: the widest path, maximising the bottleneck elementary-link rate
  ``p/t_attempt`` (the slowest hop dominates swap-ASAP's ``E[max]``), ties broken by length;
* ``k_shortest_balanced``: among the ``k`` shortest simple paths, the one whose busiest
  node has the lowest memory load (qubits reserved by the requests routed so far, 2 per
  inner node and 1 per end, over the node's memories), ties broken by length. Requests are
  routed in order, so earlier routes shape the load later ones see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import islice

import networkx as nx

__all__ = ["POLICIES", "shortest_route", "widest_route", "route_requests"]

POLICIES = ("shortest", "highest_rate", "k_shortest_balanced")


def shortest_route(g: nx.Graph, src, dst) -> list:
    return nx.shortest_path(g, src, dst, weight="length_km")


def widest_route(g: nx.Graph, src, dst, rate: Mapping[tuple, float]) -> list:
    """The shortest path among those whose slowest hop is as fast as possible: add edges
    from the fastest down until ``src`` and ``dst`` connect (the bottleneck B), then take
    the shortest path over edges with rate ≥ B."""
    edges = sorted(g.edges, key=lambda e: -rate[e])
    uf = nx.utils.UnionFind(g.nodes)
    bottleneck = None
    for u, v in edges:
        uf.union(u, v)
        if uf[src] == uf[dst]:
            bottleneck = rate[(u, v)]
            break
    if bottleneck is None:
        raise nx.NetworkXNoPath(f"no path between {src} and {dst}")
    sub = g.edge_subgraph([e for e in g.edges if rate[e] >= bottleneck])
    return nx.shortest_path(sub, src, dst, weight="length_km")


def route_requests(
    g: nx.Graph,
    pairs: Sequence[tuple],
    policy: str,
    rate: Mapping[tuple, float] | None = None,
    memories: int = 4,
    k: int = 3,
) -> list[list]:
    """One route per (src, dst) of ``pairs`` under ``policy`` (see the module docstring);
    ``rate`` maps each edge (both orientations) to its expected pairs/s."""
    if policy not in POLICIES:
        raise ValueError(f"routing policy must be one of {POLICIES}, got {policy!r}")
    if policy == "highest_rate" and rate is None:
        raise ValueError("highest_rate routing needs the edge rates")
    routes: list[list] = []
    load = dict.fromkeys(g.nodes, 0)
    for src, dst in pairs:
        if policy == "shortest":
            path = shortest_route(g, src, dst)
        elif policy == "highest_rate":
            path = widest_route(g, src, dst, rate)
        else:
            cands = list(islice(nx.shortest_simple_paths(g, src, dst, weight="length_km"), k))

            def cost(p):
                busiest = max((load[n] + (1 if n in (p[0], p[-1]) else 2)) / memories for n in p)
                return busiest, nx.path_weight(g, p, "length_km")

            path = min(cands, key=cost)
        for n in path:
            load[n] += 1 if n in (path[0], path[-1]) else 2
        routes.append(list(path))
    return routes
