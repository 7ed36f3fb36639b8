"""Route selection for entanglement requests on a graph (engine-free).

* ``shortest``: the shortest fibre path (Dijkstra on ``length_km``);
* ``highest_rate``: the widest path, maximising the bottleneck elementary-link rate
  ``p/t_attempt`` (the slowest hop dominates swap-ASAP's ``E[max]``), ties broken by length;
* ``k_shortest_balanced``: among the ``k`` shortest simple paths, the one whose busiest
  node has the lowest memory load (qubits reserved by the requests routed so far, 2 per
  inner node and 1 per end, over the node's memories), ties broken by length. Requests are
  routed in order, so earlier routes shape the load later ones see;
* ``qos_plan``: the QoS scheduler's offline plan executed live. :func:`qos_plan` turns the
  user pairs into demands (F_min, rate), finds each one's fastest protocol
  (:func:`quantum.protocol_search.search_protocol`) on the shortest path, or on the fastest
  of the ``candidate_paths`` shortest paths, and admits them greedily in order with a
  periodic scheduler of :mod:`quantum.scheduling` (per-qubit RCPSP by default). Each
  admitted pair is routed on its plan's path. A pair the plan does not serve (no protocol
  reaches F_min at the demanded rate, or admission rejected it) is, by ``unplanned``,
  either routed on the shortest path (``"shortest"``, the default) or not routed at all
  (``"reject"``: admission control; its route is ``None``). The engine then runs the
  planned routes swap-ASAP: the plan decides who is served and on which path, not the
  slot timing (the plan's periods and qubit reservations are not enforced live).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import islice

import networkx as nx

from .demands import Demand, period_slots
from .protocol_search import SearchParams, search_protocol
from .scheduling import PeriodicTask, admit

__all__ = ["POLICIES", "PLAN_POLICY", "ALL_POLICIES", "UNPLANNED", "shortest_route",
           "widest_route", "planning_graph", "qos_plan", "route_requests"]

#: online policies: a route from the graph (and the load) alone
POLICIES = ("shortest", "highest_rate", "k_shortest_balanced")
#: routes taken from a QoS plan (:func:`qos_plan`), passed to :func:`route_requests`
PLAN_POLICY = "qos_plan"
ALL_POLICIES = (*POLICIES, PLAN_POLICY)
#: what ``qos_plan`` does with a pair its plan does not serve
UNPLANNED = ("shortest", "reject")


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


def planning_graph(g: nx.Graph, capability: Mapping[tuple, tuple[float, float]],
                   qubits: int, coherence_s: float | None) -> nx.Graph:
    """A copy of ``g`` the QoS planner can use: every edge gets the single link capability
    ``(F, pairs/s)`` of ``capability[(u, v)]``, every node ``qubits`` communication qubits
    (no storage qubits) with depolarising memory time ``coherence_s`` (None: 1e12 s)."""
    h = g.copy()
    for u, v, d in h.edges(data=True):
        f, r = capability[(u, v)]
        d["capabilities"] = ((float(f), float(r)),)
    tau = 1e12 if coherence_s is None else float(coherence_s)
    for _n, d in h.nodes(data=True):
        d.update(comm_qubits=int(qubits), storage_qubits=0, coherence_s=tau)
    return h


def qos_plan(
    g: nx.Graph,
    pairs: Sequence[tuple],
    f_min: float,
    rate_hz: float,
    params: SearchParams,
    scheduler: str = "RCPSP-NP-EDF",
    candidate_paths: int = 1,
) -> list[list | None]:
    """The QoS plan's path for each (src, dst) of ``pairs``, ``None`` where it serves none.

    ``g`` must carry link capabilities and qubits (:func:`planning_graph`). Each pair is a
    :class:`~quantum.demands.Demand` ``(src, dst, f_min, rate_hz)`` served every
    ``period_slots(rate_hz, params.slot_s)`` slots; its protocol is the fastest
    :func:`~quantum.protocol_search.search_protocol` result over the ``candidate_paths``
    shortest paths (ties: the shorter path), limited to one period; the demands with a
    protocol are admitted greedily in pair order by :func:`~quantum.scheduling.admit`.
    """
    if candidate_paths < 1:
        raise ValueError(f"candidate_paths must be >= 1, got {candidate_paths}")
    period = period_slots(rate_hz, params.slot_s)
    plans: list = []
    for src, dst in pairs:
        Demand(src, dst, f_min, rate_hz)  # validates f_min, rate and endpoints
        best = None
        paths = islice(nx.shortest_simple_paths(g, src, dst, weight="length_km"),
                       candidate_paths)
        for path in paths:
            p = search_protocol(g, path, f_min, params, max_slots=period)
            if p is not None and (best is None or p.makespan < best.makespan):
                best = p
        plans.append(best)
    idx = [i for i, p in enumerate(plans) if p is not None]
    tasks = [PeriodicTask(f"d{i}", plans[i].shape, period, f_min) for i in idx]
    admitted, _ = admit(tasks, scheduler, 0, params.slot_s)
    out: list[list | None] = [None] * len(pairs)
    for j in admitted:
        out[idx[j]] = list(plans[idx[j]].path)
    return out


def _check_planned(g: nx.Graph, src, dst, path) -> list:
    path = list(path)
    if {path[0], path[-1]} != {src, dst} or len(path) < 2:
        raise ValueError(f"plan: route {path} does not join {src!r} and {dst!r}")
    for u, v in zip(path, path[1:], strict=False):
        if not g.has_edge(u, v):
            raise ValueError(f"plan: route {path} uses a missing edge {u!r}-{v!r}")
    return path if path[0] == src else path[::-1]


def route_requests(
    g: nx.Graph,
    pairs: Sequence[tuple],
    policy: str,
    rate: Mapping[tuple, float] | None = None,
    memories: int = 4,
    k: int = 3,
    plan: Sequence[Sequence | None] | None = None,
    unplanned: str = "shortest",
) -> list[list | None]:
    """One route per (src, dst) of ``pairs`` under ``policy`` (see the module docstring);
    ``rate`` maps each edge (both orientations) to its expected pairs/s. ``qos_plan`` takes
    ``plan`` (one path or ``None`` per pair, e.g. from :func:`qos_plan`); its ``None``
    entries become the shortest path or stay ``None`` by ``unplanned``. The other policies
    never return ``None``."""
    if policy not in ALL_POLICIES:
        raise ValueError(f"routing policy must be one of {ALL_POLICIES}, got {policy!r}")
    if policy == "highest_rate" and rate is None:
        raise ValueError("highest_rate routing needs the edge rates")
    if policy == PLAN_POLICY:
        if plan is None or len(plan) != len(pairs):
            raise ValueError("qos_plan routing needs a plan with one entry per pair")
        if unplanned not in UNPLANNED:
            raise ValueError(f"unplanned must be one of {UNPLANNED}, got {unplanned!r}")
        out: list[list | None] = []
        for (src, dst), path in zip(pairs, plan, strict=True):
            if path is not None:
                out.append(_check_planned(g, src, dst, path))
            else:
                out.append(shortest_route(g, src, dst) if unplanned == "shortest" else None)
        return out
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
