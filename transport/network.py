"""Directed link model and equal-cost paths of a datacenter fabric.

A :class:`Network` turns a :func:`netsim.topology.leaf_spine` or
:func:`netsim.topology.fat_tree` graph (undirected, full-duplex edges with ``capacity_bps``
and ``delay_s``) into numbered *directed* links, and enumerates the equal-cost shortest paths
between hosts as arrays of link ids:

* leaf-spine: same leaf ``host→leaf→host`` (1 path); across leaves
  ``host→leaf→spine_k→leaf→host``, one path per spine ``k``;
* k-ary fat-tree (Al-Fares et al., SIGCOMM 2008): same edge switch (1 path), same pod via
  one of ``k/2`` aggregation switches, across pods via one of ``(k/2)²`` core switches.

Routes are rows of link ids padded with ``-1`` plus a per-link *fraction* of the flow's rate
(1 on a single path; ``1/P`` on each of ``P`` paths for ideal spraying), which is the
incidence the max-min solver consumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from netsim.topology import fat_tree, leaf_spine

__all__ = ["Network", "SPRAY", "fat_tree_network", "from_graph", "leaf_spine_network"]

#: path index meaning "spray evenly over every equal-cost path"
SPRAY = -1
#: kinds with a leaf-spine core (``up``/``down`` tables; :class:`transport.rails.RailNetwork`)
_SPINED = ("leaf_spine", "rail")


@dataclass(frozen=True)
class Network:
    """Directed links and equal-cost host-to-host paths of a leaf-spine or fat-tree fabric.

    Attributes:
        kind: ``"leaf_spine"`` or ``"fat_tree"``.
        src, dst: ``(n_links,)`` node names at either end of each directed link.
        capacity_bps, delay_s: per directed link.
        fabric: ``(n_links,)`` True for switch-to-switch links (not host links).
        n_hosts: hosts ``h0 .. h{n-1}``.
        host_up, host_down: link id host→switch and switch→host per host.
        tor: index of each host's top-of-rack (leaf / edge) switch.
        tables: kind-specific link tables used to build paths.
    """

    kind: str
    src: tuple[str, ...]
    dst: tuple[str, ...]
    capacity_bps: np.ndarray
    delay_s: np.ndarray
    fabric: np.ndarray
    n_hosts: int
    host_up: np.ndarray
    host_down: np.ndarray
    tor: np.ndarray
    tables: dict = field(repr=False)
    graph: nx.Graph = field(repr=False, compare=False)

    # -- basic facts ----------------------------------------------------------------------
    @property
    def n_links(self) -> int:
        return self.capacity_bps.size

    @property
    def n_tors(self) -> int:
        """Number of top-of-rack switches (leaves, or fat-tree edge switches)."""
        return int(self.tables["n_tors"])

    @property
    def spines(self) -> int:
        """Spines of a leaf-spine fabric (= equal-cost paths between two leaves)."""
        if self.kind not in _SPINED:
            raise ValueError("spines: only defined for a leaf-spine or rail network")
        return int(self.tables["spines"])

    def uplinks(self) -> np.ndarray:
        """``(leaves, spines)`` link ids leaf→spine (leaf-spine only)."""
        if self.kind not in _SPINED:
            raise ValueError("uplinks: only defined for a leaf-spine or rail network")
        return self.tables["up"]

    def downlinks(self) -> np.ndarray:
        """``(spines, leaves)`` link ids spine→leaf (leaf-spine only)."""
        if self.kind not in _SPINED:
            raise ValueError("downlinks: only defined for a leaf-spine or rail network")
        return self.tables["down"]

    def link_name(self, link: int) -> str:
        return f"{self.src[link]}->{self.dst[link]}"

    # -- paths ----------------------------------------------------------------------------
    def _pairs(self, src_hosts, dst_hosts):
        s = np.asarray(src_hosts, dtype=np.int64)
        d = np.asarray(dst_hosts, dtype=np.int64)
        if s.shape != d.shape:
            raise ValueError("src_hosts and dst_hosts must have the same shape")
        if s.size and (min(s.min(), d.min()) < 0 or max(s.max(), d.max()) >= self.n_hosts):
            raise ValueError(f"host indices must lie in [0, {self.n_hosts})")
        if np.any(s == d):
            raise ValueError("a flow needs distinct source and destination hosts")
        return s, d

    def via_spine(self, src_hosts, dst_hosts) -> np.ndarray:
        """Per pair: does its traffic leave the top-of-rack switch (several equal-cost paths
        on a leaf-spine)? Here: different ToRs; a rail network also keeps same-server pairs
        on NVLink."""
        s, d = self._pairs(src_hosts, dst_hosts)
        return self.tor[s] != self.tor[d]

    def n_paths(self, src_hosts, dst_hosts) -> np.ndarray:
        """Number of equal-cost paths per (src, dst) host pair."""
        s, d = self._pairs(src_hosts, dst_hosts)
        t = self.tables
        if self.kind == "leaf_spine":
            return np.where(self.tor[s] == self.tor[d], 1, t["spines"])
        pod_s, pod_d = t["pod"][s], t["pod"][d]
        half = t["half"]
        return np.where(self.tor[s] == self.tor[d], 1, np.where(pod_s == pod_d, half, half * half))

    def paths(self, src_hosts, dst_hosts, path) -> np.ndarray:
        """Link ids of path ``path`` (in ``[0, n_paths)``) per pair, ``-1``-padded rows."""
        s, d = self._pairs(src_hosts, dst_hosts)
        p = np.broadcast_to(np.asarray(path, dtype=np.int64), s.shape)
        n_p = self.n_paths(s, d)
        if np.any(p < 0) or np.any(p >= n_p):
            raise ValueError("path index out of range [0, n_paths) for some flow")
        t = self.tables
        same = self.tor[s] == self.tor[d]
        out = np.full((s.size, t["width"]), -1, dtype=np.int64)
        out[:, 0] = self.host_up[s]
        if self.kind == "leaf_spine":
            ls, ld = self.tor[s], self.tor[d]
            out[:, 1] = np.where(same, self.host_down[d], t["up"][ls, p])
            out[:, 2] = np.where(same, -1, t["down"][p, ld])
            out[:, 3] = np.where(same, -1, self.host_down[d])
            return out
        half = t["half"]
        pod_s, pod_d, es, ed = t["pod"][s], t["pod"][d], t["edge"][s], t["edge"][d]
        same_pod = (pod_s == pod_d) & ~same
        agg = np.where(same_pod, p, p // half)
        core = p % half
        cross = ~same & ~same_pod
        up1 = t["e2a"][pod_s, es, agg]
        out[:, 1] = np.where(same, self.host_down[d], up1)
        out[:, 2] = np.where(
            same, -1, np.where(same_pod, t["a2e"][pod_d, agg, ed], t["a2c"][pod_s, agg, core])
        )
        out[:, 3] = np.where(
            cross, t["c2a"][agg * half + core, pod_d], np.where(same_pod, self.host_down[d], -1)
        )
        out[:, 4] = np.where(cross, t["a2e"][pod_d, agg, ed], -1)
        out[:, 5] = np.where(cross, self.host_down[d], -1)
        return out

    def spray_incidence(self, src_hosts, dst_hosts) -> tuple[np.ndarray, np.ndarray]:
        """Ideal packet spraying: every equal-cost path carries ``1/P`` of the flow.

        Returns ``(links, fraction)``, two ``(n, W)`` arrays (``-1`` / 0 padding) where each
        link of the union of the pair's paths appears once with its share of the rate.
        """
        s, d = self._pairs(src_hosts, dst_hosts)
        if self.kind == "leaf_spine":
            return self._spray_leaf_spine(s, d)
        n_p = self.n_paths(s, d)
        p_max = int(n_p.max()) if s.size else 1
        width = self.tables["width"]
        all_links = np.full((s.size, p_max * width), -1, dtype=np.int64)
        all_frac = np.zeros((s.size, p_max * width))
        for p in range(p_max):
            ok = p < n_p
            idx = np.flatnonzero(ok)
            if idx.size == 0:
                continue
            rows = self.paths(s[idx], d[idx], p)
            all_links[idx, p * width : (p + 1) * width] = rows
            all_frac[idx, p * width : (p + 1) * width] = np.where(
                rows >= 0, 1.0 / n_p[idx, None], 0.0
            )
        return _merge_rows(all_links, all_frac)

    def _spray_leaf_spine(self, s: np.ndarray, d: np.ndarray):
        """Closed form on a leaf-spine: host links carry 1, each of the S uplinks and S
        downlinks 1/S (cross-leaf); a same-leaf flow has its two host links only."""
        t = self.tables
        S = t["spines"]
        ls, ld = self.tor[s], self.tor[d]
        cross = ls != ld
        links = np.full((s.size, 2 + 2 * S), -1, dtype=np.int64)
        frac = np.zeros((s.size, 2 + 2 * S))
        links[:, 0], links[:, 1] = self.host_up[s], self.host_down[d]
        frac[:, :2] = 1.0
        links[cross, 2 : 2 + S] = t["up"][ls[cross]]
        links[cross, 2 + S :] = t["down"][:, ld[cross]].T
        frac[cross, 2:] = 1.0 / S
        return links, frac

    def route_rows(self, src_hosts, dst_hosts, path) -> tuple[np.ndarray, np.ndarray]:
        """Incidence rows ``(links, fraction)`` of flows on ``path`` (an index, or SPRAY for an
        even split over every equal-cost path); ``-1`` / 0 padded."""
        src = np.asarray(src_hosts, dtype=np.int64)
        dst = np.asarray(dst_hosts, dtype=np.int64)
        path = np.broadcast_to(np.asarray(path, dtype=np.int64), src.shape)
        single = path != SPRAY
        if single.all():
            links = self.paths(src, dst, path)
            return links, (links >= 0).astype(float)
        s_links, s_frac = self.spray_incidence(src[~single], dst[~single])
        width = max(self.tables["width"], s_links.shape[1])
        links = np.full((src.size, width), -1, dtype=np.int64)
        frac = np.zeros((src.size, width))
        if single.any():
            one = self.paths(src[single], dst[single], path[single])
            links[single, : one.shape[1]] = one
            frac[single, : one.shape[1]] = one >= 0
        links[~single, : s_links.shape[1]] = s_links
        frac[~single, : s_links.shape[1]] = s_frac
        return links, frac

    def route_delay_s(self, links: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """Propagation delay (s) of each route row: ``Σ fraction·delay`` (for sprayed rows on
        these symmetric fabrics every path has the same delay, so this is that delay)."""
        d = np.where(links >= 0, self.delay_s[np.maximum(links, 0)], 0.0)
        return (d * frac).sum(axis=1)


def _merge_rows(links: np.ndarray, frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, add up the fractions of repeated link ids; pad with (-1, 0)."""
    n, w = links.shape
    if n == 0:
        return links[:, :0], frac[:, :0]
    key = np.where(links >= 0, links, np.iinfo(np.int64).max)
    order = np.argsort(key, axis=1, kind="stable")
    k = np.take_along_axis(key, order, axis=1)
    f = np.take_along_axis(frac, order, axis=1)
    first = np.ones_like(k, dtype=bool)
    first[:, 1:] = k[:, 1:] != k[:, :-1]
    group = np.cumsum(first, axis=1) - 1
    width = int(group.max()) + 1
    out_l = np.full((n, width), -1, dtype=np.int64)
    out_f = np.zeros((n, width))
    r = np.repeat(np.arange(n), w)
    g = group.ravel()
    np.add.at(out_f, (r, g), f.ravel())
    out_l[r[first.ravel()], g[first.ravel()]] = k.ravel()[first.ravel()]
    pad = out_l == np.iinfo(np.int64).max
    out_l[pad] = -1
    out_f[pad] = 0.0
    return out_l, out_f


def _directed(g: nx.Graph, order: list[tuple[str, str]]):
    src, dst, cap, delay = [], [], [], []
    index: dict[tuple[str, str], int] = {}
    for u, v in order:
        data = g.edges[u, v]
        for a, b in ((u, v), (v, u)):
            index[(a, b)] = len(src)
            src.append(a)
            dst.append(b)
            cap.append(float(data["capacity_bps"]))
            delay.append(float(data.get("delay_s", 0.0)))
    return index, tuple(src), tuple(dst), np.asarray(cap), np.asarray(delay)


def _host_tables(g: nx.Graph, index, n_hosts: int, tor_name) -> tuple[np.ndarray, np.ndarray]:
    up = np.array([index[(f"h{j}", tor_name(j))] for j in range(n_hosts)], dtype=np.int64)
    down = np.array([index[(tor_name(j), f"h{j}")] for j in range(n_hosts)], dtype=np.int64)
    return up, down


def leaf_spine_network(
    leaves: int,
    spines: int,
    hosts_per_leaf: int,
    host_rate_bps: float = 100e9,
    oversubscription: float = 1.0,
    link_delay_s: float = 1e-6,
    uplink_rate_bps: float | None = None,
) -> Network:
    """:class:`Network` of :func:`netsim.topology.leaf_spine` (same arguments): uplinks run at
    ``H·host_rate / (S·oversubscription)`` unless ``uplink_rate_bps`` is given."""
    g = leaf_spine(
        leaves,
        spines,
        hosts_per_leaf,
        host_rate_bps,
        uplink_rate_bps,
        oversubscription,
        link_delay_s,
    )
    return _from_leaf_spine(g)


def from_graph(g: nx.Graph) -> Network:
    """:class:`Network` of a graph built by :func:`netsim.topology.leaf_spine` or
    :func:`netsim.topology.fat_tree` (its ``kind`` graph attribute tells which)."""
    kind = g.graph.get("kind")
    if kind == "leaf_spine":
        return _from_leaf_spine(g)
    if kind == "fat_tree":
        return _from_fat_tree(g)
    raise ValueError(f"topology kind {kind!r} not supported (allowed: leaf_spine, fat_tree)")


def _from_leaf_spine(g: nx.Graph) -> Network:
    L, S, H = g.graph["leaves"], g.graph["spines"], g.graph["hosts_per_leaf"]
    n = L * H
    order = [(f"h{j}", f"l{j // H}") for j in range(n)]
    order += [(f"l{i}", f"s{k}") for i in range(L) for k in range(S)]
    index, src, dst, cap, delay = _directed(g, order)
    h_up, h_down = _host_tables(g, index, n, lambda j: f"l{j // H}")
    fabric, tables = _spine_tables(index, cap.size, L, S, H)
    tables["width"] = 4
    return Network(
        "leaf_spine", src, dst, cap, delay, fabric, n, h_up, h_down, np.arange(n) // H, tables, g
    )


def _spine_tables(index, n_links: int, L: int, S: int, H: int) -> tuple[np.ndarray, dict]:
    """The fabric-link mask and the ``up``/``down`` tables of a leaf-spine core (leaves
    ``l{i}``, spines ``s{k}``), shared by leaf-spine and rail networks."""
    up = np.array([[index[(f"l{i}", f"s{k}")] for k in range(S)] for i in range(L)])
    down = np.array([[index[(f"s{k}", f"l{i}")] for i in range(L)] for k in range(S)])
    fabric = np.zeros(n_links, dtype=bool)
    fabric[up.ravel()] = True
    fabric[down.ravel()] = True
    return fabric, {"up": up, "down": down, "spines": S, "leaves": L, "hosts_per_leaf": H,
                    "n_tors": L}


def fat_tree_network(k: int, rate_bps: float = 100e9, link_delay_s: float = 1e-6) -> Network:
    """:class:`Network` of the k-ary :func:`netsim.topology.fat_tree`."""
    return _from_fat_tree(fat_tree(k, rate_bps, link_delay_s))


def _from_fat_tree(g: nx.Graph) -> Network:
    k = g.graph["k"]
    half = k // 2
    n = k**3 // 4
    pod = np.array([g.nodes[f"h{j}"]["pod"] for j in range(n)])
    edge = np.array([g.nodes[f"h{j}"]["edge"] for j in range(n)])

    def tor_name(j):
        return f"e{pod[j]}.{edge[j]}"

    order = [(f"h{j}", tor_name(j)) for j in range(n)]
    order += [
        (f"e{p}.{e}", f"a{p}.{a}") for p in range(k) for e in range(half) for a in range(half)
    ]
    order += [
        (f"a{p}.{a}", f"c{a * half + c}")
        for p in range(k)
        for a in range(half)
        for c in range(half)
    ]
    index, src, dst, cap, delay = _directed(g, order)
    e2a = np.zeros((k, half, half), dtype=np.int64)
    a2e = np.zeros((k, half, half), dtype=np.int64)
    a2c = np.zeros((k, half, half), dtype=np.int64)
    c2a = np.zeros((half * half, k), dtype=np.int64)
    for p in range(k):
        for a in range(half):
            for e in range(half):
                e2a[p, e, a] = index[(f"e{p}.{e}", f"a{p}.{a}")]
                a2e[p, a, e] = index[(f"a{p}.{a}", f"e{p}.{e}")]
            for c in range(half):
                a2c[p, a, c] = index[(f"a{p}.{a}", f"c{a * half + c}")]
                c2a[a * half + c, p] = index[(f"c{a * half + c}", f"a{p}.{a}")]
    h_up, h_down = _host_tables(g, index, n, tor_name)
    fabric = np.ones(cap.size, dtype=bool)
    fabric[h_up] = False
    fabric[h_down] = False
    tables = {
        "e2a": e2a,
        "a2e": a2e,
        "a2c": a2c,
        "c2a": c2a,
        "half": half,
        "pod": pod,
        "edge": edge,
        "n_tors": k * half,
        "width": 6,
    }
    return Network(
        "fat_tree", src, dst, cap, delay, fabric, n, h_up, h_down, pod * half + edge, tables, g
    )
