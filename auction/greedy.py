"""Greedy maximisation of F (objective.py): lazy greedy with priority queues, and the plain
greedy it must equal.

Constraints (``mode``):

* ``"shared"``: each request takes at most one resource and a resource's demands sum to at
  most its capacity (the paper's model: a generalised assignment problem; knapsack rows);
* ``"exclusive"``: one-to-one matching (each resource serves at most one request) - the
  intersection of two partition matroids, where greedy is a 1/3-approximation
  (1/(p+1) with p = 2; Fisher, Nemhauser & Wolsey 1978);
* ``"unconstrained"``: any set of feasible pairs, usually with ``max_allocations = k`` - a
  cardinality constraint (uniform matroid), where greedy is a (1 − 1/e)-approximation
  (Nemhauser, Wolsey & Fisher 1978).

In ``"shared"`` mode no constant bound holds for plain greedy (a knapsack row can make it
arbitrarily bad, cf. Khuller, Moss & Naor 1999); tests measure its ratio to the MILP optimum.
So the paper's (1 − 1/e) claim holds for this implementation only under a cardinality
constraint - where, for this F, greedy is even exactly optimal: per requester the increments
``w + δ/m`` (w sorted descending) decrease, and greedy takes the k largest. In the paper's own
setting (shared capacities) it is a heuristic; in one-to-one matching it guarantees 1/3.

Lazy greedy (Minoux 1978). The marginal gain of pair (i, j) is ``w_ij + δ/(1 + h_k)``; the
fairness part is shared by every pair of requester k, so the queue is two-level: each request
keeps its candidates sorted by (w desc, resource asc), each requester a heap of its requests'
best candidates, and a global heap holds one entry per requester. Stored keys are upper bounds
of the true gains (a candidate can only become infeasible, a requester's fairness term only
shrinks), so the first up-to-date, feasible top is the exact greedy choice. Ties break by the
smaller pair index ``i·M + j`` in both implementations, which therefore pick identical pairs
(up to the case of two base utilities less than one ulp apart).
"""

from __future__ import annotations

import functools
import gc
import heapq
from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["Mode", "MODES", "Block", "lazy_greedy", "plain_greedy"]

Mode = Literal["shared", "exclusive", "unconstrained"]
MODES = ("shared", "exclusive", "unconstrained")

#: a block of candidates: (request indices (n,), resource indices (m,) sorted, w (n, m) with
#: -inf for infeasible pairs)
Block = tuple[np.ndarray, np.ndarray, np.ndarray]


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")


def _without_gc(fn):
    """Run ``fn`` with the cyclic garbage collector paused: the greedy loop allocates many small
    tuples and no reference cycles, and collections would only add pauses."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return wrapper


def _initial_residual(capacity: np.ndarray, mode: str) -> np.ndarray:
    if mode == "unconstrained":
        return np.full(capacity.shape, np.inf)
    return np.asarray(capacity, float).copy()


class _Lists:
    """Each request's candidates sorted by (w desc, resource asc). Only the best one is found up
    front (one vectorised argmax per block); a request's full sorted list is built the first
    time it has to move past that one, so requests served at their first choice cost nothing
    more."""

    def __init__(self, blocks: Sequence[Block], n_requests: int):
        self.blocks = blocks
        self.where = np.full((n_requests, 2), -1, dtype=np.int64)  # (block, row)
        self.cj: list[list[int]] = [[] for _ in range(n_requests)]
        self.cw: list[list[float]] = [[] for _ in range(n_requests)]
        self.full = bytearray(b"\x01") * n_requests  # 1: cj/cw hold every candidate
        for b, (req, res, w) in enumerate(blocks):
            if req.size == 0 or res.size == 0:
                continue
            self.where[req, 0] = b
            self.where[req, 1] = np.arange(req.size)
            best = np.argmax(w, axis=1)  # first maximum: the smallest resource among ties
            wb = w[np.arange(req.size), best]
            for i, j, v in zip(req.tolist(), res[best].tolist(), wb.tolist(), strict=True):
                if v > -np.inf:
                    self.cj[i], self.cw[i], self.full[i] = [j], [v], 0

    def build(self, i: int) -> None:
        """Replace request ``i``'s one-element list by all its feasible candidates, sorted (the
        first element is the one it had)."""
        b, r = self.where[i]
        _, res, w = self.blocks[b]
        row = w[r]
        idx = np.flatnonzero(row > -np.inf)
        order = idx[np.argsort(-row[idx], kind="stable")]
        self.cj[i], self.cw[i], self.full[i] = res[order].tolist(), row[order].tolist(), 1


@_without_gc
def lazy_greedy(
    blocks: Sequence[Block],
    n_requests: int,
    n_resources: int,
    demand: np.ndarray,
    requester: np.ndarray,
    capacity: np.ndarray,
    delta: float,
    mode: Mode = "shared",
    max_allocations: int | None = None,
    held0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy maximisation of F with a two-level priority queue of marginal gains.

    Args:
        blocks: candidate blocks ``(req, res, w)``; each request appears in one block.
        demand, requester: per request; ``capacity`` per resource (residual capacities).
        delta: normalised fairness weight δ.
        held0: requests each requester already holds (default none).

    Returns:
        ``(request, resource, gain)`` of the accepted pairs in acceptance order; ``gain`` is
        the marginal utility U_ij at acceptance.
    """
    _check_mode(mode)
    limit = np.inf if max_allocations is None else int(max_allocations)
    lists = _Lists(blocks, n_requests)
    full = lists.full
    cj, cw = lists.cj, lists.cw
    d = np.asarray(demand, float).tolist()
    resid = _initial_residual(capacity, mode).tolist()
    owner = np.asarray(requester, np.int64)
    n_k = int(owner.max()) + 1 if owner.size else 0
    held = [0] * n_k if held0 is None else [int(h) for h in np.asarray(held0)[:n_k]]
    held += [0] * (n_k - len(held))
    own = owner.tolist()
    ptr = [0] * n_requests
    ver_i = [0] * n_requests
    ver_k = [0] * n_k
    taken: list[set[int]] = [set() for _ in range(n_requests)] if mode == "unconstrained" else []
    heaps: list[list] = [[] for _ in range(n_k)]
    M = int(n_resources)
    for i in range(n_requests):
        if cj[i]:
            heaps[own[i]].append((-cw[i][0], i * M + cj[i][0], i, 0))
    glob = []

    def top(k: int):
        h = heaps[k]
        while h and h[0][3] != ver_i[h[0][2]]:
            heapq.heappop(h)
        return h[0] if h else None

    def push_requester(k: int) -> None:
        ver_k[k] += 1
        t = top(k)
        if t is not None:
            gain = -t[0] + delta / (1.0 + held[k])
            heapq.heappush(glob, (-gain, t[1], k, ver_k[k]))

    def advance(i: int) -> bool:
        """Move request i to its next candidate that is feasible now; False if none."""
        if not full[i]:
            lists.build(i)
        p, js, di = ptr[i] + 1, cj[i], d[i]
        ex = taken[i] if taken else None
        n = len(js)
        while p < n and (resid[js[p]] < di or (ex and js[p] in ex)):
            p += 1
        ptr[i] = p
        return p < n

    pop, push = heapq.heappop, heapq.heappush
    for k in range(n_k):
        if heaps[k]:
            heapq.heapify(heaps[k])
            push_requester(k)

    out_i, out_j, out_g = [], [], []
    exclusive, unconstrained = mode == "exclusive", mode == "unconstrained"
    while glob and len(out_i) < limit:
        _neg, _pidx, k, vk = pop(glob)
        if vk != ver_k[k]:
            continue
        hk = heaps[k]
        # serve requester k while its (fresh) top stays the global maximum: the other entries
        # of ``glob`` are upper bounds, so this picks exactly what a heap round trip would
        while True:
            negw, _, i, _ = pop(hk)
            ver_i[i] += 1
            j = cj[i][ptr[i]]
            if resid[j] >= d[i]:
                out_i.append(i)
                out_j.append(j)
                out_g.append(-negw + delta / (1.0 + held[k]))
                held[k] += 1
                resid[j] = -1.0 if exclusive else resid[j] - d[i]
                alive = False
                if unconstrained:
                    taken[i].add(j)
                    alive = advance(i)
            else:
                alive = advance(i)
            if alive:
                p = ptr[i]
                push(hk, (-cw[i][p], i * M + cj[i][p], i, ver_i[i]))
            t = top(k)
            ver_k[k] += 1
            if t is None:
                break
            key = (-(-t[0] + delta / (1.0 + held[k])), t[1])
            while glob and glob[0][3] != ver_k[glob[0][2]]:
                pop(glob)  # drop stale entries so the comparison below is against a live bound
            if len(out_i) >= limit or (glob and (glob[0][0], glob[0][1]) < key):
                push(glob, (key[0], key[1], k, ver_k[k]))
                break
    return (
        np.asarray(out_i, dtype=np.int64),
        np.asarray(out_j, dtype=np.int64),
        np.asarray(out_g, dtype=float),
    )


def plain_greedy(
    req: np.ndarray,
    res: np.ndarray,
    w: np.ndarray,
    n_resources: int,
    demand: np.ndarray,
    requester: np.ndarray,
    capacity: np.ndarray,
    delta: float,
    mode: Mode = "shared",
    max_allocations: int | None = None,
    held0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Textbook greedy: at every step evaluate every remaining feasible pair's marginal gain
    ``w + δ/(1 + h_k)`` and take the largest (ties: smallest pair index). O(k·P); the
    reference lazy_greedy is tested against."""
    _check_mode(mode)
    req = np.asarray(req, np.int64)
    res = np.asarray(res, np.int64)
    w = np.asarray(w, float)
    order = np.argsort(req * int(n_resources) + res, kind="stable")
    req, res, w = req[order], res[order], w[order]
    keep = w > -np.inf
    req, res, w = req[keep], res[keep], w[keep]
    dem = np.asarray(demand, float)
    owner = np.asarray(requester, np.int64)
    held = np.zeros(int(owner.max()) + 1 if owner.size else 0, dtype=np.int64)
    if held0 is not None:
        held[: len(held0)] += np.asarray(held0, np.int64)[: held.size]
    resid = _initial_residual(capacity, mode)
    alive = np.ones(req.size, dtype=bool)
    done = np.zeros(dem.size, dtype=bool)
    limit = np.inf if max_allocations is None else int(max_allocations)
    out_i, out_j, out_g = [], [], []
    grp = owner[req]
    while len(out_i) < limit:
        ok = alive & (resid[res] >= dem[req]) & ~done[req]
        if not ok.any():
            break
        gain = np.where(ok, w + delta / (1.0 + held[grp]), -np.inf)
        e = int(np.argmax(gain))
        i, j = int(req[e]), int(res[e])
        out_i.append(i)
        out_j.append(j)
        out_g.append(float(gain[e]))
        held[grp[e]] += 1
        alive[e] = False
        if mode == "exclusive":
            resid[j] = -1.0
        else:
            resid[j] -= dem[i]
        if mode != "unconstrained":
            done[i] = True
    return np.asarray(out_i, np.int64), np.asarray(out_j, np.int64), np.asarray(out_g, float)
