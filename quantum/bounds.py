"""Capacity bounds for entanglement distribution over lossy links: pure functions.

All capacities are in ebits (equivalently secret bits) per channel use.

* Point-to-point (repeaterless) PLOB bound of a pure-loss channel of transmissivity η:
  ``C(η) = −log2(1 − η)`` (Pirandola, Laurenza, Ottaviani & Banchi, Nat. Commun. 8, 15043 (2017)).
* Repeater chain: ``C = min_i C(η_i)`` (Pirandola, Commun. Phys. 2, 51 (2019)).
* Network: single-path (routing) capacity is the widest path ``max_P min_{e∈P} C(η_e)``;
  multipath (flooding) capacity is the max-flow / min-cut with edge capacities ``C(η_e)``
  (Pirandola 2019).
* Lossy repeaters (Laurenza, Walk, Eisert & Pirandola, PRR 4, 023158 (2022)): node splitting
  models each repeater station as an internal lossy channel of transmissivity η_s, so a chain
  with at least one station obeys ``C ≤ min(min_i C(η_i), C(η_s))``: however many repeaters
  are added, the rate never exceeds ``−log2(1 − η_s)``.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence

import networkx as nx
import numpy as np

from .physics import fiber_transmissivity

__all__ = [
    "plob_capacity",
    "chain_capacity",
    "equal_chain_capacity",
    "lossy_chain_capacity",
    "lossy_station_limit",
    "edge_capacities",
    "single_path_capacity",
    "multipath_capacity",
]


def _check_eta(eta, name: str = "eta") -> np.ndarray:
    e = np.asarray(eta, dtype=float)
    if np.any(~np.isfinite(e)) or np.any(e < 0.0) or np.any(e > 1.0):
        raise ValueError(f"{name} must be a transmissivity in [0, 1], got {eta!r}")
    return e


def plob_capacity(eta):
    """PLOB repeaterless capacity ``−log2(1 − η)`` (ebits per use; ``inf`` at η = 1)."""
    e = _check_eta(eta)
    with np.errstate(divide="ignore"):
        return -np.log2(1.0 - e)


def chain_capacity(etas: Sequence[float]) -> float:
    """Capacity of a repeater chain with ideal stations: ``min_i −log2(1 − η_i)``."""
    e = _check_eta(etas, "etas")
    if e.ndim != 1 or e.size == 0:
        raise ValueError("etas must be a non-empty sequence of link transmissivities")
    return float(np.min(plob_capacity(e)))


def equal_chain_capacity(total_length_km, n_repeaters: int, attenuation_db_per_km: float = 0.2):
    """Chain of ``n_repeaters`` equally spaced ideal stations over ``total_length_km``:
    ``−log2(1 − η(L/(n+1)))``."""
    if n_repeaters < 0:
        raise ValueError(f"n_repeaters must be >= 0, got {n_repeaters}")
    eta = fiber_transmissivity(np.asarray(total_length_km, float) / (n_repeaters + 1),
                               attenuation_db_per_km)
    return plob_capacity(eta)


def lossy_station_limit(eta_station):
    """The lossy-repeater ceiling ``−log2(1 − η_s)`` (Laurenza et al. 2022)."""
    return plob_capacity(_check_eta(eta_station, "eta_station"))


def lossy_chain_capacity(etas: Sequence[float], eta_station: float) -> float:
    """Node-splitting bound of a chain whose ``len(etas) − 1`` repeaters each have internal
    transmissivity ``η_s``: ``min(min_i C(η_i), C(η_s))`` (no station cut without repeaters)."""
    c = chain_capacity(etas)
    if len(etas) < 2:
        return c
    return float(min(c, lossy_station_limit(eta_station)))


def edge_capacities(
    graph: nx.Graph,
    eta: str = "eta",
    length_km: str = "length_km",
    attenuation_db_per_km: float = 0.2,
) -> dict[tuple[Hashable, Hashable], float]:
    """PLOB capacity ``−log2(1 − η_e)`` of every edge; η from the ``eta`` attribute or, if
    absent, from the fibre ``length_km`` attribute."""
    caps = {}
    for u, v, data in graph.edges(data=True):
        if eta in data:
            e = data[eta]
        elif length_km in data:
            e = fiber_transmissivity(data[length_km], attenuation_db_per_km)
        else:
            raise ValueError(f"edge ({u}, {v}) has neither '{eta}' nor '{length_km}'")
        caps[(u, v)] = float(plob_capacity(e))
    return caps


def _flow_graph(graph, src, dst, eta, length_km, attenuation_db_per_km, eta_station):
    """Directed graph with both directions of every edge carrying its capacity; with
    ``eta_station`` every node other than src/dst is split into in -> out of capacity C(η_s)."""
    for node, name in ((src, "src"), (dst, "dst")):
        if node not in graph:
            raise ValueError(f"{name} {node!r} is not a node of the graph")
    if src == dst:
        raise ValueError("src and dst must differ")
    caps = edge_capacities(graph, eta, length_km, attenuation_db_per_km)
    split = eta_station is not None
    c_s = float(lossy_station_limit(eta_station)) if split else None

    def tail(n):
        return (n, "out") if split and n not in (src, dst) else n

    def head(n):
        return (n, "in") if split and n not in (src, dst) else n

    d = nx.DiGraph()
    d.add_nodes_from([src, dst])
    for (u, v), c in caps.items():
        d.add_edge(tail(u), head(v), capacity=c)
        d.add_edge(tail(v), head(u), capacity=c)
    if split:
        for n in graph.nodes:
            if n not in (src, dst):
                d.add_edge((n, "in"), (n, "out"), capacity=c_s)
    if not nx.has_path(d, src, dst):
        raise ValueError(f"src {src!r} and dst {dst!r} are not connected")
    return d


def single_path_capacity(
    graph: nx.Graph,
    src,
    dst,
    eta: str = "eta",
    length_km: str = "length_km",
    attenuation_db_per_km: float = 0.2,
    eta_station: float | None = None,
) -> tuple[float, list]:
    """Single-path (routing) capacity ``max_P min_{e∈P} C(η_e)`` and its widest path, by a
    max-min Dijkstra; lossy stations (``eta_station``) add a C(η_s) hop at every repeater."""
    d = _flow_graph(graph, src, dst, eta, length_km, attenuation_db_per_km, eta_station)
    best = {src: np.inf}
    prev: dict = {}
    heap = [(-np.inf, 0, src)]
    counter = 1
    done = set()
    while heap:
        negw, _, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u == dst:
            break
        for v, attr in d[u].items():
            w = min(-negw, attr["capacity"])
            if w > best.get(v, -np.inf):
                best[v] = w
                prev[v] = u
                heapq.heappush(heap, (-w, counter, v))
                counter += 1
    path, n = [dst], dst
    while n != src:
        n = prev[n]
        path.append(n)
    nodes = []
    for n in reversed(path):
        base = n[0] if isinstance(n, tuple) and len(n) == 2 and n[1] in ("in", "out") else n
        if not nodes or nodes[-1] != base:
            nodes.append(base)
    return float(best[dst]), nodes


def multipath_capacity(
    graph: nx.Graph,
    src,
    dst,
    eta: str = "eta",
    length_km: str = "length_km",
    attenuation_db_per_km: float = 0.2,
    eta_station: float | None = None,
) -> float:
    """Multipath (flooding) capacity: the max flow = min cut from ``src`` to ``dst`` with edge
    capacities ``C(η_e)`` (networkx preflow-push); lossy stations are split nodes."""
    d = _flow_graph(graph, src, dst, eta, length_km, attenuation_db_per_km, eta_station)
    value, _ = nx.maximum_flow(d, src, dst, capacity="capacity")
    return float(value)
