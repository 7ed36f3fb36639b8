"""Ring-order optimisation: a travelling-salesman problem on the measured bandwidth matrix.

The ring all-reduce of :mod:`transport.pccl.allreduce` takes ``2(n−1)·max_e c_e`` where
``c_e = α_e + (S/n)/B_e`` is the time to push one chunk over ring edge e (latency α, chunk
S/n bits, bandwidth B): every step is held up by the slowest edge. The objective is therefore
the **bottleneck** (max edge cost) of the directed ring, which is the all-reduce time divided
by 2(n−1). Ties, frequent because only one edge counts, are broken by the **total** edge cost,
so the objective is lexicographic ``(bottleneck, total)``: minimise the all-reduce time, then
prefer rings whose other edges are fast too. PCCL solves a TSP-like problem on measured
bandwidths in its master (PCCL docs, "Ring Topology & Bandwidth Metrics").

* :func:`exact_ring` - Held-Karp dynamic programming (Held & Karp, 1962), O(2ⁿ·n²), in two
  phases: the bottleneck DP (max instead of +, still a valid DP because max is monotone),
  then the sum DP on edges no costlier than the optimal bottleneck. Exact lexicographically.
* :func:`brute_force_ring` - every ring with node 0 first; the oracle for small n.
* :func:`two_opt_ring` - best-improvement 2-opt (Croes, 1958: segment reversal) plus Or-opt
  (segment moves, which suit directed costs), vectorised over all moves, multi-start (greedy
  + random); used beyond ``exact_max`` peers.

Cost matrices are directed (``cost[i, j]`` for i → j); the diagonal is ignored.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

__all__ = [
    "edge_costs",
    "check_cost",
    "ring_cost",
    "better",
    "exact_ring",
    "brute_force_ring",
    "two_opt_ring",
    "optimise_ring",
    "canonical",
]

Order = tuple[int, ...]
Value = tuple[float, float]

_REL = 1e-12


def check_cost(cost) -> np.ndarray:
    """``cost`` as a float (n, n) array, n ≥ 2, off-diagonal ≥ 0 (``inf`` = no edge)."""
    c = np.array(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"cost matrix must be square n x n, got shape {c.shape}")
    n = c.shape[0]
    if n < 2:
        raise ValueError(f"a ring needs at least 2 peers, got {n}")
    off = ~np.eye(n, dtype=bool)
    if np.any(np.isnan(c[off])) or np.any(c[off] < 0):
        raise ValueError("cost matrix: off-diagonal entries must be >= 0 (inf for no edge)")
    np.fill_diagonal(c, np.inf)
    return c


def edge_costs(bandwidth_bps, latency_s, chunk_bits: float) -> np.ndarray:
    """Per-edge time of one ring step: ``c[i, j] = latency[i, j] + chunk_bits / B[i, j]`` (s).

    ``bandwidth_bps`` must have positive off-diagonal entries, ``latency_s`` ≥ 0.
    """
    bw = np.array(bandwidth_bps, dtype=float)
    lat = np.array(latency_s, dtype=float)
    if bw.ndim != 2 or bw.shape[0] != bw.shape[1] or lat.shape != bw.shape:
        raise ValueError(
            f"bandwidth and latency must be square matrices of one shape, got {bw.shape} "
            f"and {lat.shape}"
        )
    if not np.isfinite(chunk_bits) or chunk_bits < 0:
        raise ValueError(f"chunk_bits must be finite and >= 0, got {chunk_bits}")
    off = ~np.eye(bw.shape[0], dtype=bool)
    if np.any(~np.isfinite(bw[off])) or np.any(bw[off] <= 0):
        raise ValueError("bandwidth matrix: off-diagonal entries must be finite and > 0")
    if np.any(~np.isfinite(lat[off])) or np.any(lat[off] < 0):
        raise ValueError("latency matrix: off-diagonal entries must be finite and >= 0")
    with np.errstate(divide="ignore"):
        c = lat + chunk_bits / bw
    np.fill_diagonal(c, np.inf)
    return c


def canonical(order) -> Order:
    """The ring rotated so that its smallest node comes first (direction kept)."""
    order = [int(v) for v in order]
    k = order.index(min(order))
    return tuple(order[k:] + order[:k])


def ring_cost(cost: np.ndarray, order) -> Value:
    """``(bottleneck, total)`` of the directed ring ``order[0] → order[1] → … → order[0]``."""
    o = np.asarray(order, dtype=int)
    e = cost[o, np.roll(o, -1)]
    return float(e.max()), float(e.sum())


def better(a: Value, b: Value) -> bool:
    """``a`` strictly better than ``b`` lexicographically (the total within 1e-12 relative
    counts as a tie, so floating-point summation order cannot cause a false improvement)."""
    if a[0] != b[0]:
        return a[0] < b[0]
    return a[1] < b[1] - _REL * max(1.0, abs(b[1]))


# -- exact -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _layers(m: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """Per subset size p = 2..m of the m non-start nodes: (mask, last node j, mask without j)
    for every subset of size p and every j in it."""
    masks = np.arange(1 << m, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(m)) & 1).astype(bool)
    popcount = bits.sum(axis=1)
    out = []
    for p in range(2, m + 1):
        layer = masks[popcount == p]
        mi, j = np.nonzero(bits[layer])
        mask = layer[mi]
        out.append((mask, j, mask ^ (1 << j)))
    return tuple(out)


def _held_karp(c: np.ndarray, combine) -> tuple[float, Order]:
    """Held-Karp over paths 0 → S → j; ``combine`` is ``np.add`` (sum) or ``np.maximum``
    (bottleneck). Vectorised per subset size."""
    n = c.shape[0]
    m = n - 1
    size = 1 << m
    inner = c[1:, 1:]
    dp = np.full((size, m), np.inf)
    parent = np.full((size, m), -1, dtype=np.int64)
    dp[1 << np.arange(m), np.arange(m)] = c[0, 1:]
    for mask, j, prev in _layers(m):
        vals = combine(dp[prev], inner[:, j].T)
        best = np.argmin(vals, axis=1)
        dp[mask, j] = vals[np.arange(best.size), best]
        parent[mask, j] = best
    full = size - 1
    final = combine(dp[full], c[1:, 0])
    j = int(np.argmin(final))
    value = float(final[j])
    if not np.isfinite(value):
        return value, ()
    path = []
    mask = full
    while mask:
        path.append(j + 1)
        pj = int(parent[mask, j])
        mask ^= 1 << j
        j = pj
    return value, (0, *reversed(path))


def exact_ring(cost) -> tuple[Order, Value]:
    """The lexicographically optimal ring ``(bottleneck, total)`` by two-phase Held-Karp."""
    c = check_cost(cost)
    bottleneck, _ = _held_karp(c, np.maximum)
    if not np.isfinite(bottleneck):
        raise ValueError("no ring exists: the cost matrix has too many missing (inf) edges")
    allowed = np.where(c <= bottleneck, c, np.inf)
    _, order = _held_karp(allowed, np.add)
    return order, ring_cost(c, order)


def brute_force_ring(cost) -> tuple[Order, Value]:
    """The lexicographic optimum by enumerating all (n−1)! directed rings (n ≤ 10)."""
    c = check_cost(cost)
    n = c.shape[0]
    if n > 10:
        raise ValueError(f"brute force is limited to n <= 10 peers, got {n}")
    perms = np.array(list(itertools.permutations(range(1, n))), dtype=int).reshape(-1, n - 1)
    tours = np.hstack([np.zeros((perms.shape[0], 1), dtype=int), perms])
    e = c[tours, np.roll(tours, -1, axis=1)]
    bott, tot = e.max(axis=1), e.sum(axis=1)
    # the lexicographic minimum, counting totals within _REL of the best as ties
    cand = np.flatnonzero(bott == bott.min())
    k = int(cand[np.argmin(tot[cand])])
    order = tuple(int(v) for v in tours[k])
    return order, ring_cost(c, order)


# -- heuristic ---------------------------------------------------------------------------------
def _greedy(c: np.ndarray, start: int) -> list[int]:
    """Nearest-neighbour tour from ``start`` by edge cost."""
    n = c.shape[0]
    order = [start]
    free = np.ones(n, dtype=bool)
    free[start] = False
    for _ in range(n - 1):
        row = np.where(free, c[order[-1]], np.inf)
        nxt = int(np.argmin(row))
        order.append(nxt)
        free[nxt] = False
    return order


@functools.lru_cache(maxsize=64)
def _moves(n: int) -> np.ndarray:
    """Index templates (moves, n) of every neighbour of a tour of length n: ``tour[idx]``.

    * 2-opt: reverse positions i+1..j (Croes, 1958); (0, n−1) reverses the whole direction.
    * Or-opt: move a segment of 1-3 consecutive peers, orientation kept, to another gap
      (Or, 1976) - the move that suits asymmetric costs, where a reversal changes every
      edge of the reversed segment.
    """
    pos = np.arange(n)[None, :]
    ii, jj = np.triu_indices(n, k=2)
    ii, jj = ii[:, None], jj[:, None]
    parts = [np.where((pos > ii) & (pos <= jj), ii + 1 + jj - pos, pos)]
    for length in range(1, 4):
        if n - length < 3:
            break
        for i in range(n):
            seg = (i + np.arange(length)) % n
            rem = (i + length + np.arange(n - length)) % n
            j = np.arange(n - length - 1)[:, None]  # insert after rem[j]; the last j is a no-op
            k = pos - j - 1
            idx = np.where(
                pos <= j,
                rem[np.minimum(pos, n - length - 1)],
                np.where(
                    k < length,
                    seg[np.clip(k, 0, length - 1)],
                    rem[np.clip(pos - length, 0, n - length - 1)],
                ),
            )
            parts.append(idx)
    out = np.vstack(parts)
    out.setflags(write=False)
    return out


def _local_search(c: np.ndarray, order: list[int], max_passes: int) -> tuple[list[int], Value]:
    """Best-improvement local search over all 2-opt and Or-opt moves, evaluated at once."""
    n = c.shape[0]
    o = np.asarray(order, dtype=int)
    cur = ring_cost(c, o)
    if n < 4:
        return list(o), cur
    idx = _moves(n)
    for _ in range(max_passes):
        tours = o[idx]
        e = c[tours, np.roll(tours, -1, axis=1)]
        bott, tot = e.max(axis=1), e.sum(axis=1)
        cand = np.flatnonzero(bott == bott.min())
        k = int(cand[np.argmin(tot[cand])])
        val = (float(bott[k]), float(tot[k]))
        if not better(val, cur):
            break
        o, cur = tours[k].copy(), val
    return list(o), cur


def two_opt_ring(
    cost, seed: int = 0, starts: int = 8, max_passes: int = 10_000
) -> tuple[Order, Value]:
    """Multi-start local search (2-opt and Or-opt moves, :func:`_moves`) on ``(bottleneck,
    total)``: greedy tours from the first ``starts`` nodes, then random ones from
    ``numpy.random.default_rng(seed)`` up to ``starts`` in all; the best wins."""
    c = check_cost(cost)
    n = c.shape[0]
    if starts < 1:
        raise ValueError(f"starts must be >= 1, got {starts}")
    rng = np.random.default_rng(seed)
    inits = [_greedy(c, s) for s in range(min(n, starts))]
    inits += [list(rng.permutation(n)) for _ in range(max(0, starts - n))]
    best: tuple[list[int], Value] | None = None
    for init in inits:
        o, v = _local_search(c, init, max_passes)
        if best is None or better(v, best[1]):
            best = (o, v)
    order = canonical(best[0])
    return order, ring_cost(c, order)


def optimise_ring(cost, exact_max: int = 10, seed: int = 0, starts: int = 8) -> tuple[Order, Value]:
    """Exact Held-Karp for ``n ≤ exact_max`` peers, multi-start 2-opt beyond."""
    c = check_cost(cost)
    if exact_max > 16:
        raise ValueError(f"exact_max must be <= 16 (Held-Karp is O(2^n n^2)), got {exact_max}")
    if c.shape[0] <= exact_max:
        return exact_ring(c)
    return two_opt_ring(c, seed=seed, starts=starts)
