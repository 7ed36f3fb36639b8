"""Topology builders and loaders (networkx).

Conventions: links carry ``capacity_bps`` (per direction, full duplex) and ``delay_s``; nodes
carry ``role`` (``host``, ``leaf``, ``spine``, ``edge``, ``agg``, ``core``, ``node``) and,
for geometric layouts, ``pos`` (metres).
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np

from .errors import ConfigError

__all__ = [
    "line",
    "ring",
    "star",
    "grid",
    "hex_grid",
    "leaf_spine",
    "fat_tree",
    "load_graph",
    "great_circle_km",
]


def _positive_int(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name}: must be an integer >= {minimum} (got {value!r})")
    return int(value)


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and value > 0 and math.isfinite(value)):
        raise ConfigError(f"{name}: must be a positive number (got {value!r})")
    return float(value)


def line(n: int, spacing_m: float = 1.0) -> nx.Graph:
    """Path 0-1-...-(n-1) with ``length_m`` on edges and ``pos`` on nodes."""
    n = _positive_int("n", n)
    g = nx.path_graph(n)
    for i in g:
        g.nodes[i].update(role="node", pos=(i * spacing_m, 0.0))
    nx.set_edge_attributes(g, float(spacing_m), "length_m")
    return g


def ring(n: int, radius_m: float = 1.0) -> nx.Graph:
    """Cycle of ``n >= 3`` nodes on a circle."""
    n = _positive_int("n", n, 3)
    g = nx.cycle_graph(n)
    for i in g:
        a = 2 * math.pi * i / n
        g.nodes[i].update(role="node", pos=(radius_m * math.cos(a), radius_m * math.sin(a)))
    return g


def star(leaves: int) -> nx.Graph:
    """Hub 0 with ``leaves`` spokes 1..leaves."""
    leaves = _positive_int("leaves", leaves)
    g = nx.star_graph(leaves)
    g.nodes[0]["role"] = "hub"
    for i in range(1, leaves + 1):
        g.nodes[i]["role"] = "node"
    return g


def grid(rows: int, cols: int, spacing_m: float = 1.0) -> nx.Graph:
    """``rows x cols`` lattice; node ``r*cols + c`` at ``pos=(c*spacing, r*spacing)``."""
    rows, cols = _positive_int("rows", rows), _positive_int("cols", cols)
    g = nx.grid_2d_graph(rows, cols)
    g = nx.convert_node_labels_to_integers(g, ordering="sorted", label_attribute="rc")
    for _, data in g.nodes(data=True):
        r, c = data["rc"]
        data.update(role="node", pos=(c * spacing_m, r * spacing_m))
    return g


def hex_grid(rings: int, spacing_m: float) -> np.ndarray:
    """Centres of a hexagonal cell layout: ``1 + 3·R·(R+1)`` sites out to ring ``R``.

    Neighbouring centres are ``spacing_m`` apart (the inter-site distance, ISD). Returns an
    ``(N, 2)`` array in metres, the centre site first, then ring by ring.
    """
    rings = _positive_int("rings", rings, 0)
    spacing_m = _positive("spacing_m", spacing_m)
    pts = [(0, 0)]
    # axial directions of a pointy-top hex lattice
    dirs = [(1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1)]
    for r in range(1, rings + 1):
        q, s = -r, r  # start at direction 4 scaled by r
        for d in range(6):
            for _ in range(r):
                pts.append((q, s))
                q, s = q + dirs[d][0], s + dirs[d][1]
    axial = np.asarray(pts, dtype=float)
    x = spacing_m * (axial[:, 0] + axial[:, 1] / 2.0)
    y = spacing_m * (math.sqrt(3) / 2.0) * axial[:, 1]
    return np.column_stack([x, y])


def leaf_spine(
    leaves: int,
    spines: int,
    hosts_per_leaf: int,
    host_rate_bps: float = 100e9,
    uplink_rate_bps: float | None = None,
    oversubscription: float = 1.0,
    link_delay_s: float = 1e-6,
) -> nx.Graph:
    """Two-tier Clos: every leaf connects to every spine; hosts hang off leaves.

    Nodes: hosts ``h{j}`` (``leaf`` attribute = leaf index), leaves ``l{i}``, spines ``s{k}``.
    Unless ``uplink_rate_bps`` is given, it is ``H·host_rate / (S·oversubscription)`` so that
    the leaf's downlink/uplink capacity ratio equals ``oversubscription``.
    """
    leaves = _positive_int("leaves", leaves)
    spines = _positive_int("spines", spines)
    hosts_per_leaf = _positive_int("hosts_per_leaf", hosts_per_leaf)
    host_rate_bps = _positive("host_rate_bps", host_rate_bps)
    oversubscription = _positive("oversubscription", oversubscription)
    if uplink_rate_bps is None:
        uplink_rate_bps = hosts_per_leaf * host_rate_bps / (spines * oversubscription)
    uplink_rate_bps = _positive("uplink_rate_bps", uplink_rate_bps)
    g = nx.Graph(kind="leaf_spine", leaves=leaves, spines=spines, hosts_per_leaf=hosts_per_leaf)
    for k in range(spines):
        g.add_node(f"s{k}", role="spine", index=k)
    for i in range(leaves):
        g.add_node(f"l{i}", role="leaf", index=i)
        for k in range(spines):
            g.add_edge(f"l{i}", f"s{k}", capacity_bps=uplink_rate_bps, delay_s=link_delay_s)
        for h in range(hosts_per_leaf):
            j = i * hosts_per_leaf + h
            g.add_node(f"h{j}", role="host", index=j, leaf=i)
            g.add_edge(f"h{j}", f"l{i}", capacity_bps=host_rate_bps, delay_s=link_delay_s)
    return g


def fat_tree(k: int, rate_bps: float = 100e9, link_delay_s: float = 1e-6) -> nx.Graph:
    """k-ary fat-tree (Al-Fares et al., SIGCOMM 2008): k pods of k/2 edge and k/2
    aggregation switches, (k/2)² core switches and k³/4 hosts, all links at ``rate_bps``.

    Nodes: ``c{i}`` core, ``a{pod}.{i}`` aggregation, ``e{pod}.{i}`` edge, ``h{j}`` hosts.
    """
    k = _positive_int("k", k, 2)
    if k % 2:
        raise ConfigError(f"k: must be even (got {k})")
    rate_bps = _positive("rate_bps", rate_bps)
    half = k // 2
    g = nx.Graph(kind="fat_tree", k=k)
    attrs = {"capacity_bps": rate_bps, "delay_s": link_delay_s}
    for c in range(half * half):
        g.add_node(f"c{c}", role="core", index=c)
    host = 0
    for p in range(k):
        for i in range(half):
            agg, edge = f"a{p}.{i}", f"e{p}.{i}"
            g.add_node(agg, role="agg", pod=p, index=i)
            g.add_node(edge, role="edge", pod=p, index=i)
            for j in range(half):  # agg i connects to core group i
                g.add_edge(agg, f"c{i * half + j}", **attrs)
        for i in range(half):
            for j in range(half):
                g.add_edge(f"e{p}.{i}", f"a{p}.{j}", **attrs)
            for _ in range(half):
                g.add_node(f"h{host}", role="host", index=host, pod=p, edge=i)
                g.add_edge(f"h{host}", f"e{p}.{i}", **attrs)
                host += 1
    return g


def load_graph(path: str | Path) -> nx.Graph:
    """Read a GML or GraphML file (by extension); missing, unreadable or empty files raise
    :class:`~netsim.errors.ConfigError`."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"topology file not found: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix == ".gml":
            g = nx.read_gml(p, label="id")
        elif suffix in (".graphml", ".xml"):
            g = nx.read_graphml(p)
        else:
            raise ConfigError(
                f"topology file {p}: unknown format '{suffix}' (allowed: .gml, .graphml)"
            )
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - parser errors vary by format
        raise ConfigError(
            f"cannot parse topology {p}: {' '.join(str(exc).split())[:160]}"
        ) from None
    if g.number_of_nodes() == 0:
        raise ConfigError(f"topology {p} is empty (no nodes)")
    return g


def great_circle_km(lat1, lon1, lat2, lon2, radius_km: float = 6371.0088):
    """Haversine distance on a sphere of mean Earth radius (IUGG), degrees in, km out."""
    la1, lo1, la2, lo2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2.0 * radius_km * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
