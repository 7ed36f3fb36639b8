"""Load balancing: which equal-cost path(s) each transfer of a batch uses.

A balancer maps a batch of transfers (host pairs, bytes, connection ids) that start together
to *subflows*: ``(parent, path, fraction)`` where ``path`` indexes the pair's equal-cost paths
(:meth:`Network.paths`) or is :data:`~transport.network.SPRAY` (even split over all of them).

* ``ecmp``: one path per flow from a seeded hash of the 5-tuple (RFC 2992 hash-threshold
  style: ``hash mod P``); the source port is fixed per connection, so a connection keeps its
  path across steps.
* ``spray``: ideal packet spraying, every path carries ``1/P`` of every flow.
* ``minimal_split``: the packet-spraying paper's single-path scheme (Addanki, Goyal & Marinos,
  arXiv:2407.00550): the equal-size cross-leaf flows form a bipartite multigraph of source and
  destination leaves with maximum degree Δ. Each flow is split into ``p = S/gcd(Δ, S)`` equal
  subflows; by König's edge-colouring theorem the ``Δp``-regular completion of this multigraph
  splits into ``Δp`` perfect matchings, and matching ``c`` goes to spine ``c mod S``. Every
  uplink and downlink then carries at most ``Δp/S`` subflows, i.e. ``Δ·f/S`` bytes: the
  spraying bound. Subflows of one flow that land on the same spine are merged.
* ``adaptive``: least-loaded, each multi-path flow (largest first) takes the path whose most
  loaded link (outstanding bytes / capacity, counting the batch so far) is least loaded.
* ``random``: a uniformly random path per flow.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from math import gcd

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching

from .network import SPRAY, Network

__all__ = [
    "Assignment",
    "BALANCERS",
    "make_balancer",
    "ecmp_hash",
    "edge_colouring",
    "minimal_split",
    "expected_max_load",
]

ROCE_DPORT = 4791  # RoCEv2 UDP destination port
UDP = 17


@dataclass(frozen=True)
class Assignment:
    """Subflows of a batch: ``parent`` (index into the batch), ``path`` (index or SPRAY) and
    ``fraction`` of the parent's bytes (fractions of a parent add up to 1)."""

    parent: np.ndarray
    path: np.ndarray
    fraction: np.ndarray

    @property
    def n_subflows(self) -> int:
        return int(self.parent.size)


def _single(n: int, path) -> Assignment:
    return Assignment(np.arange(n, dtype=np.int64), np.asarray(path, dtype=np.int64), np.ones(n))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (Steele et al., OOPSLA 2014), vectorised on uint64."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def ecmp_hash(src_host, dst_host, sport, dport, proto, seed: int) -> np.ndarray:
    """Seeded 64-bit hash of the 5-tuple (src, dst, sport, dport, proto)."""
    h = _mix64(np.full(np.shape(src_host), seed, dtype=np.uint64))
    with np.errstate(over="ignore"):
        for field in (src_host, dst_host, sport, dport, proto):
            f = np.broadcast_to(np.asarray(field, dtype=np.int64), h.shape).astype(np.uint64)
            h = _mix64(h ^ (f + np.uint64(0x9E3779B97F4A7C15)))
    return h


def expected_max_load(m: int, k: int) -> float:
    """Exact ``E[max bin load]`` of ``m`` balls thrown uniformly into ``k`` bins:
    ``Σ_t P(max ≥ t)`` with ``P(max ≤ t) = m!/k^m · [x^m] (Σ_{j≤t} x^j/j!)^k``."""
    if m < 0 or k < 1:
        raise ValueError("need m >= 0 balls and k >= 1 bins")
    from math import lgamma

    total = 0.0
    for t in range(m):  # E[max] = Σ_{t=0}^{m-1} P(max > t)
        # polynomial power with float coefficients, truncated at degree m
        base = np.array([np.exp(-lgamma(j + 1)) for j in range(min(t, m) + 1)])
        poly = np.zeros(m + 1)
        poly[0] = 1.0
        for _ in range(k):
            poly = np.convolve(poly, base)[: m + 1]
        p_le = np.exp(lgamma(m + 1) - m * np.log(k)) * poly[m]
        total += 1.0 - p_le
    return float(total)


# -- König edge colouring ------------------------------------------------------------------
def _complete_regular(mult: np.ndarray, degree: int) -> np.ndarray:
    """Dummy multiplicities ``D ≥ 0`` so that ``mult + D`` has every row and column sum equal
    to ``degree`` (north-west corner rule on the row and column deficits)."""
    rdef = degree - mult.sum(axis=1)
    cdef = degree - mult.sum(axis=0)
    dummy = np.zeros_like(mult)
    i = j = 0
    n = mult.shape[0]
    while i < n and j < n:
        t = min(rdef[i], cdef[j])
        dummy[i, j] += t
        rdef[i] -= t
        cdef[j] -= t
        if rdef[i] == 0:
            i += 1
        if j < n and cdef[j] == 0:
            j += 1
    return dummy


def edge_colouring(mult: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """König edge colouring of a bipartite multigraph given by its multiplicity matrix.

    ``mult[i, j]`` parallel edges join left vertex ``i`` and right vertex ``j`` (square
    matrix). Returns ``Δ`` colours (Δ = maximum degree) grouped into blocks
    ``(rows, cols, weight)``: ``weight`` consecutive colours that all use the real edges
    ``(rows[t], cols[t])``, each colour a matching. The real edges (i, j) appear in exactly
    ``mult[i, j]`` colours. Method: complete to a Δ-regular multigraph and peel perfect
    matchings (Birkhoff-von Neumann; König 1916 guarantees they exist).
    """
    mult = np.asarray(mult, dtype=np.int64)
    if mult.ndim != 2 or mult.shape[0] != mult.shape[1] or np.any(mult < 0):
        raise ValueError("mult must be a square matrix of non-negative integers")
    degree = int(max(mult.sum(axis=1).max(initial=0), mult.sum(axis=0).max(initial=0)))
    real = mult.copy()
    total = real + _complete_regular(real, degree)
    blocks = []
    done = 0
    while done < degree:
        match = maximum_bipartite_matching(sp.csr_matrix(total > 0), perm_type="column")
        if np.any(match < 0):  # cannot happen for a regular bipartite multigraph
            raise RuntimeError("no perfect matching in a regular bipartite multigraph")
        rows = np.arange(total.shape[0])
        w = int(total[rows, match].min())
        # real edges in this block: as many colours as the real multiplicity allows; a
        # block is split where a real edge runs out so that each block is uniform
        take = np.minimum(real[rows, match], w)
        cuts = np.unique(np.r_[take[(take > 0) & (take < w)], w])
        start = 0
        for cut in cuts:
            sel = take > start
            blocks.append((rows[sel], match[sel], int(cut - start)))
            start = cut
        real[rows, match] -= take
        total[rows, match] -= w
        done += w
    return blocks


def _spine_counts(start: int, length: int, S: int) -> np.ndarray:
    """How many of the colours ``start, …, start+length−1`` fall on each spine ``c mod S``."""
    counts = np.full(S, length // S, dtype=np.int64)
    rest = length % S
    if rest:
        counts[(start + np.arange(rest)) % S] += 1
    return counts


def minimal_split(net: Network, src, dst, nbytes) -> Assignment:
    """The paper's minimal splitting with König colouring (see module docstring); flows that
    do not cross the spines (same leaf; on a rail network also same server) stay whole on
    their only path.

    Flows of different sizes are coloured together, weighted by size: sizes (rounded to whole
    bytes) are written as ``u_f`` units of ``g = gcd`` bytes, the leaf multigraph gets
    ``Σ u_f`` parallel edges per leaf pair, and flow ``f`` takes ``u_f·p`` consecutive colours
    of its pair. Every spine's uplink (downlink) of a leaf then carries at most ``Δ·g/S``
    bytes, ``Δ`` the leaf's largest unit degree: the spraying bound of the whole batch (up to
    the sub-byte rounding). Equal sizes give ``u_f = 1``, the paper's construction."""
    if net.kind not in ("leaf_spine", "rail"):
        raise ValueError("minimal_split: only defined for a leaf-spine or rail network")
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    nbytes = np.asarray(nbytes, dtype=float)
    S, L = net.spines, net.n_tors
    ls, ld = net.tor[src], net.tor[dst]
    cross = net.via_spine(src, dst)
    parents, paths, fracs = [np.flatnonzero(~cross)], [np.zeros((~cross).sum(), np.int64)], []
    fracs.append(np.ones(parents[0].size))
    idx = np.flatnonzero(cross)
    if idx.size == 0:
        return Assignment(np.concatenate(parents), np.concatenate(paths), np.concatenate(fracs))
    size = nbytes[idx]
    if np.all(size == size[0]):
        units = np.ones(idx.size, dtype=np.int64)
    else:
        whole = np.maximum(np.round(size), 1.0).astype(np.int64)
        units = whole // np.gcd.reduce(whole)
    mult = np.zeros((L, L), dtype=np.int64)
    np.add.at(mult, (ls[idx], ld[idx]), units)
    delta = int(max(mult.sum(axis=1).max(), mult.sum(axis=0).max()))
    p = S // gcd(delta, S)
    runs: dict[tuple[int, int], list[tuple[int, int]]] = {}  # pair -> (first colour, count)
    colour = 0
    for rows, cols, w in edge_colouring(mult * p):
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            runs.setdefault((i, j), []).append((colour, w))
        colour += w
    cursor = {k: [0, 0] for k in runs}  # pair -> [run index, colours used of that run]
    for f, u in zip(idx.tolist(), units.tolist(), strict=True):
        key = (int(ls[f]), int(ld[f]))
        pair_runs, cur = runs[key], cursor[key]
        need = u * p
        counts = np.zeros(S, dtype=np.int64)
        while need:
            start, w = pair_runs[cur[0]]
            take = min(need, w - cur[1])
            counts += _spine_counts(start + cur[1], take, S)
            need -= take
            cur[1] += take
            if cur[1] == w:
                cur[0] += 1
                cur[1] = 0
        sp_ids = np.flatnonzero(counts)
        parents.append(np.full(sp_ids.size, f))
        paths.append(sp_ids.astype(np.int64))
        fracs.append(counts[sp_ids] / (u * p))
    return Assignment(np.concatenate(parents), np.concatenate(paths), np.concatenate(fracs))


# -- balancers -----------------------------------------------------------------------------
class Balancer(abc.ABC):
    """Base class: ``assign(net, src, dst, nbytes, conn, load_bytes) -> Assignment``.

    ``conn`` is a connection id per transfer (fixes the ECMP source port); ``load_bytes`` the
    outstanding bytes per link when the batch starts (used by ``adaptive``).
    """

    name = "base"
    needs_load = False  # whether assign() reads load_bytes
    deterministic = False  # whether the same batch always gets the same assignment
    #: whether the assignment of a flow depends on the rest of its step (the colouring of
    #: minimal split): the run then plans each whole (chunk, step) once, even when its
    #: transfers are released in several batches (dataflow sync)
    plans_steps = False

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    @abc.abstractmethod
    def assign(self, net: Network, src, dst, nbytes, conn, load_bytes) -> Assignment:
        """Paths and byte shares of a batch of transfers."""


class ECMP(Balancer):
    """One path per flow: ``hash(5-tuple, seed) mod P`` (RFC 2992); the seed is drawn once."""

    name = "ecmp"
    deterministic = True

    def __init__(self, rng):
        super().__init__(rng)
        self.seed = int(rng.integers(2**63 - 1))

    def paths(self, net: Network, src, dst, conn) -> np.ndarray:
        """Path index per flow; the source port is ``49152 + conn mod 16384``."""
        sport = 49152 + np.asarray(conn, dtype=np.int64) % 16384
        h = ecmp_hash(src, dst, sport, ROCE_DPORT, UDP, self.seed)
        return (h % net.n_paths(src, dst).astype(np.uint64)).astype(np.int64)

    def assign(self, net, src, dst, nbytes, conn, load_bytes):
        return _single(len(src), self.paths(net, src, dst, conn))


class Spray(Balancer):
    """Ideal packet spraying: every multi-path flow is split evenly over all its paths."""

    name = "spray"
    deterministic = True

    def assign(self, net, src, dst, nbytes, conn, load_bytes):
        n_p = net.n_paths(src, dst)
        return _single(len(src), np.where(n_p > 1, SPRAY, 0))


class MinimalSplit(Balancer):
    """:func:`minimal_split`, memoised per batch (the steps of a ring repeat)."""

    name = "minimal_split"
    deterministic = True
    plans_steps = True

    def __init__(self, rng):
        super().__init__(rng)
        self._memo: dict[bytes, Assignment] = {}

    def assign(self, net, src, dst, nbytes, conn, load_bytes):
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        nbytes = np.asarray(nbytes, dtype=float)
        key = net.tor[src].tobytes() + net.tor[dst].tobytes() + nbytes.tobytes()
        key += net.via_spine(src, dst).tobytes()  # rails: same leaves, NVLink or spine
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = minimal_split(net, src, dst, nbytes)
            if len(self._memo) > 256:
                self._memo.pop(next(iter(self._memo)))
        return hit


class Adaptive(Balancer):
    """Least-loaded: largest flow first, each takes the path minimising its most loaded link's
    drain time ``(outstanding + batch bytes)·8/capacity``; ties broken at random."""

    name = "adaptive"
    needs_load = True

    def assign(self, net, src, dst, nbytes, conn, load_bytes):
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        nbytes = np.asarray(nbytes, dtype=float)
        n_p = net.n_paths(src, dst)
        path = np.zeros(src.size, dtype=np.int64)
        multi = np.flatnonzero(n_p > 1)
        if multi.size == 0:
            return _single(src.size, path)
        # drain time (load / capacity) per link; an extra entry at -inf pads short rows
        inv = np.append(8.0 / net.capacity_bps, 0.0)
        drain = np.append(np.asarray(load_bytes, dtype=float) * inv[:-1], -np.inf)
        pad = net.n_links
        cand = {}
        for k in np.unique(n_p[multi]).tolist():
            fl = multi[n_p[multi] == k]
            rows = net.paths(
                np.repeat(src[fl], k), np.repeat(dst[fl], k), np.tile(np.arange(k), fl.size)
            )
            rows = np.where(rows >= 0, rows, pad).reshape(fl.size, k, -1)
            cand.update(zip(fl.tolist(), rows, strict=True))
        order = multi[np.argsort(-nbytes[multi], kind="stable")]
        ties = self.rng.random(order.size)
        for f, u in zip(order.tolist(), ties.tolist(), strict=True):
            c = cand[f]
            b = nbytes[f]
            cost = (drain[c] + b * inv[c]).max(axis=1)
            best = np.flatnonzero(cost <= cost.min() * (1 + 1e-12))
            choice = int(best[int(u * best.size)])
            path[f] = choice
            row = c[choice]
            drain[row] += b * inv[row]
            drain[pad] = -np.inf
        return _single(src.size, path)


class RandomPath(Balancer):
    """A uniformly random equal-cost path per flow."""

    name = "random"

    def assign(self, net, src, dst, nbytes, conn, load_bytes):
        n_p = net.n_paths(src, dst)
        return _single(len(src), self.rng.integers(0, n_p))


class External(Balancer):
    """Spines chosen by an outside decision maker (an RL agent): every cross-leaf flow of the
    batch, in batch order, owns ``split`` consecutive entries of :attr:`action`, each the spine
    (``0..S-1``) of one ``1/split`` piece of the flow, or ``S`` for spraying that piece; pieces
    on the same spine are merged. Same-leaf flows take their only path; spare entries are
    ignored."""

    name = "external"

    def __init__(self, rng, split: int = 1):
        super().__init__(rng)
        if split < 1:
            raise ValueError(f"split: must be >= 1 (got {split})")
        self.split = int(split)
        self.action: np.ndarray | None = None

    def assign(self, net, src, dst, nbytes, conn, load_bytes):
        if net.kind != "leaf_spine":
            raise ValueError("external balancing: only defined for a leaf-spine network")
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        cross = np.flatnonzero(net.tor[src] != net.tor[dst])
        need = cross.size * self.split
        act = np.asarray(self.action if self.action is not None else [], dtype=np.int64).ravel()
        if act.size < need:
            raise ValueError(f"action: need {need} spine choices for this step, got {act.size}")
        S = net.spines
        if np.any(act[:need] < 0) or np.any(act[:need] > S):
            raise ValueError(f"action: spine choices must lie in 0..{S} ({S} = spray)")
        choice = act[:need].reshape(cross.size, self.split)
        parents = [np.flatnonzero(net.tor[src] == net.tor[dst])]
        paths = [np.zeros(parents[0].size, dtype=np.int64)]
        fracs = [np.ones(parents[0].size)]
        for f, row in zip(cross.tolist(), choice, strict=True):
            spines, counts = np.unique(np.where(row == S, SPRAY, row), return_counts=True)
            parents.append(np.full(spines.size, f))
            paths.append(spines.astype(np.int64))
            fracs.append(counts / self.split)
        return Assignment(np.concatenate(parents), np.concatenate(paths), np.concatenate(fracs))


BALANCERS: dict[str, type[Balancer]] = {
    b.name: b for b in (ECMP, Spray, MinimalSplit, Adaptive, RandomPath)
}


def make_balancer(name: str, rng: np.random.Generator) -> Balancer:
    """The balancer ``name`` (ecmp, spray, minimal_split, adaptive, random)."""
    if name not in BALANCERS:
        raise ValueError(f"balancing: unknown {name!r} (allowed: {', '.join(BALANCERS)})")
    return BALANCERS[name](rng)
