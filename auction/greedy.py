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

With memory (``mem_demand``/``mem_capacity``: vector packing, CPU and memory) a pair is
feasible only if it fits both residuals, and taking it lowers both; without them the loop is
the CPU-only one (a flag, not a dummy dimension: the same picks bit for bit).

In ``"shared"`` mode no constant bound holds for plain greedy (a knapsack row can make it
arbitrarily bad, cf. Khuller, Moss & Naor 1999); tests measure its ratio to the MILP optimum.
So the paper's (1 − 1/e) claim holds for this implementation only under a cardinality
constraint - where, for this F, greedy is even exactly optimal: per requester the increments
``w + δ/m`` (w sorted descending) decrease, and greedy takes the k largest. In the paper's own
setting (shared capacities) it is a heuristic; in one-to-one matching it guarantees 1/3.

Lazy greedy (Minoux 1978). The marginal gain of pair (i, j) is ``w_ij + δ/(1 + h_k)``; the
fairness part is shared by every pair of requester k, so the queue is two-level: each request
has a current candidate (its best one in the order (w desc, resource asc) not yet ruled out),
each requester a heap of its requests' current candidates, and a global heap holds one entry
per requester. Stored keys are upper bounds of the true gains (a candidate can only become
infeasible, a requester's fairness term only shrinks), so the first up-to-date, feasible top is
the exact greedy choice. Ties break by the smaller pair index ``i·M + j`` in both
implementations, which therefore pick identical pairs (up to the case of two base utilities
less than one ulp apart).

The loop is compiled with numba: each pick depends on the capacities and fairness terms left
by the previous ones, so it is a sequential loop that numpy cannot vectorise (about three
priority-queue steps and a candidate scan per request). A request moves on by scanning its
row of candidates for the best one still feasible; candidates found infeasible are struck out
of the row (``-inf``), since residual capacities only shrink. The heaps are arrays (heap.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numba import njit

from . import heap

__all__ = ["Mode", "MODES", "Block", "lazy_greedy", "plain_greedy", "warm_up"]

Mode = Literal["shared", "exclusive", "unconstrained"]
MODES = ("shared", "exclusive", "unconstrained")

#: a block of candidates: (request indices (n,), resource indices (m,) sorted, w (n, m) with
#: -inf for infeasible pairs)
Block = tuple[np.ndarray, np.ndarray, np.ndarray]


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")


def _initial_residual(capacity: np.ndarray, mode: str) -> np.ndarray:
    if mode == "unconstrained":
        return np.full(capacity.shape, np.inf)
    return np.asarray(capacity, float).copy()


#: per-request state of the compiled loop: its row of candidates ``w[w_at : w_at + n]`` over
#: the resources ``res[res_at : res_at + n]`` (ascending), the position ``cur`` of its current
#: candidate in the row (-1: none), its demand and its memory demand (0 when CPU only)
REQUEST = np.dtype(
    [
        ("w_at", np.int64),
        ("res_at", np.int64),
        ("n", np.int64),
        ("cur", np.int64),
        ("demand", np.float64),
        ("mem", np.float64),
    ],
    align=True,
)


def _flatten(blocks: Sequence[Block], demand: np.ndarray, mem: np.ndarray | None = None):
    """The blocks as flat arrays ``w`` (rows of base utilities, a private copy that the loop
    edits) and ``res`` (each block's resources) plus a :data:`REQUEST` record per request
    (``n = 0``: in no block)."""
    req_state = np.zeros(demand.size, REQUEST)
    req_state["cur"] = -1
    req_state["demand"] = demand
    if mem is not None:
        req_state["mem"] = mem
    w_parts, res_parts, w_off, res_off = [], [], 0, 0
    for req, res, w in blocks:
        if req.size == 0 or res.size == 0:
            continue
        req_state["w_at"][req] = w_off + np.arange(req.size) * res.size
        req_state["res_at"][req] = res_off
        req_state["n"][req] = res.size
        w_parts.append(np.asarray(w, float).ravel())
        res_parts.append(np.asarray(res, np.int64))
        w_off += req.size * res.size
        res_off += res.size
    flat_w = np.concatenate(w_parts) if w_parts else np.zeros(0)
    flat_res = np.concatenate(res_parts) if res_parts else np.zeros(0, np.int64)
    return flat_w, flat_res, req_state


@njit(cache=True, inline="always")
def _fits(resid, mresid, use_mem, j, r) -> bool:
    """Request ``r`` fits in resource ``j``'s residual CPU (and memory, with ``use_mem``)."""
    return resid[j] >= r.demand and (not use_mem or mresid[j] >= r.mem)


@njit(cache=True)
def _advance(w, res, r, resid, mresid, use_mem) -> bool:
    """Drop request ``r``'s current candidate (it is infeasible, or taken) and move to its
    best candidate (w desc, resource asc) feasible now (``resid ≥ demand``, and memory with
    ``use_mem``); False if none.

    A candidate found infeasible is set to ``-inf`` in the row: residuals only shrink, so it
    stays infeasible for the rest of the greedy and later scans skip it at once. So ``w``
    holds exactly the candidates not yet ruled out, and the best of them is the next entry of
    the request's sorted candidate list that can still be taken.
    """
    if r.cur >= 0:
        w[r.w_at + r.cur] = -np.inf
    best, best_w = -1, -np.inf
    for q in range(r.n):
        x = w[r.w_at + q]
        if x > best_w:  # strict: among equal w the first, i.e. the smallest resource
            if _fits(resid, mresid, use_mem, res[r.res_at + q], r):
                best, best_w = q, x
            else:
                w[r.w_at + q] = -np.inf
    r.cur = best
    return best >= 0


@njit(cache=True)
def _first_candidates(w, res, req_state, resid, mresid, use_mem):
    """Each request's best candidate feasible now."""
    for i in range(req_state.size):
        _advance(w, res, req_state[i], resid, mresid, use_mem)


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
    mem_demand: np.ndarray | None = None,
    mem_capacity: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy maximisation of F with a two-level priority queue of marginal gains (compiled
    loop; the blocks are not modified).

    Args:
        blocks: candidate blocks ``(req, res, w)``; each request appears in one block.
        demand, requester: per request; ``capacity`` per resource (residual capacities).
        delta: normalised fairness weight δ.
        held0: requests each requester already holds (default none).
        mem_demand, mem_capacity: memory per request and (residual) per resource: a pair
            must fit in both dimensions (vector packing; default: CPU only).

    Returns:
        ``(request, resource, gain)`` of the accepted pairs in acceptance order; ``gain`` is
        the marginal utility U_ij at acceptance.
    """
    _check_mode(mode)
    use_mem = mem_demand is not None and mem_capacity is not None
    flat_w, flat_res, req_state = _flatten(
        blocks,
        np.asarray(demand, float)[:n_requests],
        np.asarray(mem_demand, float)[:n_requests] if use_mem else None,
    )
    resid = _initial_residual(capacity, mode)
    mresid = _initial_residual(mem_capacity, mode) if use_mem else np.zeros(1)
    _first_candidates(flat_w, flat_res, req_state, resid, mresid, use_mem)
    owner = np.asarray(requester, np.int64)
    n_k = int(owner.max()) + 1 if owner.size else 0
    held = np.zeros(n_k, np.int64)
    if held0 is not None:
        h0 = np.asarray(held0, np.int64)[:n_k]
        held[: h0.size] = h0
    M = int(n_resources)
    # requester heaps: one entry (-w, pair index) -> request per request with a candidate, in
    # segment k of one array for requester k; built sorted (a sorted array is a heap)
    live = np.flatnonzero(req_state["cur"] >= 0)
    at = req_state["cur"][live]
    top_w = flat_w[req_state["w_at"][live] + at]
    top_pair = live * M + flat_res[req_state["res_at"][live] + at]
    order = np.lexsort((top_pair, -top_w, owner[live]))
    seg = np.searchsorted(owner[live][order], np.arange(n_k + 1))
    size = np.diff(seg)
    heaps = _entries(-top_w[order], top_pair[order], live[order])
    # global heap: one entry (-gain of the requester's top, its pair index) -> requester, for
    # each requester with a candidate (it holds at most one entry per requester, so it fits)
    ks = np.flatnonzero(size > 0)
    top = heaps[seg[ks]]
    g_key = -(-top["key"] + delta / (1.0 + held[ks]))
    g = np.lexsort((top["tie"], g_key))
    glob = _entries(g_key[g], top["tie"][g], ks[g])
    n_pairs = int(req_state["n"][live].sum()) if mode == "unconstrained" else int(live.size)
    limit = n_pairs if max_allocations is None else min(int(max_allocations), n_pairs)
    out_i, out_j = np.empty(limit, np.int64), np.empty(limit, np.int64)
    out_g = np.empty(limit)
    n = _lazy_loop(
        flat_w, flat_res, req_state, resid, mresid, use_mem, held, float(delta), M,
        mode == "exclusive", mode == "unconstrained", limit, heaps, seg, size, glob, out_i,
        out_j, out_g,
    )
    return out_i[:n], out_j[:n], out_g[:n]


def _entries(key: np.ndarray, tie: np.ndarray, val: np.ndarray) -> np.ndarray:
    out = np.empty(key.size, heap.ENTRY)
    out["key"], out["tie"], out["val"] = key, tie, val
    return out


@njit(cache=True)
def _lazy_loop(
    w, res, req_state, resid, mresid, use_mem, held, delta, M, exclusive, unconstrained,
    limit, heaps, seg, size, glob, out_i, out_j, out_g,
):
    """The lazy greedy loop (compiled: it is sequential, each pick depends on the previous
    ones' capacities and fairness terms). Arrays are updated in place; returns the number of
    accepted pairs written to ``out_*``."""
    n_out = 0
    g_n = glob.size
    while g_n > 0 and n_out < limit:
        k = glob[0].val
        g_n = heap.pop(glob, 0, g_n)
        lo = seg[k]
        bonus = delta / (1.0 + held[k])
        # serve requester k while its top stays the global maximum: the entries of the global
        # heap are upper bounds, so this picks exactly what a heap round trip would
        while True:
            i = heaps[lo].val
            r = req_state[i]
            j = res[r.res_at + r.cur]
            move = True
            if _fits(resid, mresid, use_mem, j, r):
                out_i[n_out], out_j[n_out], out_g[n_out] = i, j, -heaps[lo].key + bonus
                n_out += 1
                held[k] += 1
                bonus = delta / (1.0 + held[k])
                resid[j] = -1.0 if exclusive else resid[j] - r.demand
                if use_mem:
                    mresid[j] -= r.mem
                if not unconstrained:  # the request is served: it leaves the queue
                    size[k] = heap.pop(heaps, lo, size[k])
                    move = False
            if move:
                if _advance(w, res, r, resid, mresid, use_mem):
                    key, tie = -w[r.w_at + r.cur], i * M + res[r.res_at + r.cur]
                    heap.replace(heaps, lo, size[k], key, tie, i)
                else:
                    size[k] = heap.pop(heaps, lo, size[k])
            if size[k] == 0:
                break
            key, tie = -(-heaps[lo].key + bonus), heaps[lo].tie
            if n_out >= limit or (g_n > 0 and heap.before(glob[0].key, glob[0].tie, key, tie)):
                g_n = heap.push(glob, 0, g_n, key, tie, k)
                break
    return n_out


def warm_up() -> None:
    """Compile the greedy loop now (or load it from numba's disk cache: about 0.3 s; a first
    compilation takes a few seconds), so that later timings exclude this one-off cost."""
    one = np.zeros(1, np.int64)
    lazy_greedy([(one, one, np.zeros((1, 1)))], 1, 1, np.zeros(1), one, np.ones(1), 0.0)


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
    mem_demand: np.ndarray | None = None,
    mem_capacity: np.ndarray | None = None,
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
    use_mem = mem_demand is not None and mem_capacity is not None
    mdem = np.asarray(mem_demand, float) if use_mem else np.zeros(dem.size)
    mresid = _initial_residual(mem_capacity, mode) if use_mem else np.full(resid.size, np.inf)
    alive = np.ones(req.size, dtype=bool)
    done = np.zeros(dem.size, dtype=bool)
    limit = np.inf if max_allocations is None else int(max_allocations)
    out_i, out_j, out_g = [], [], []
    grp = owner[req]
    while len(out_i) < limit:
        ok = alive & (resid[res] >= dem[req]) & (mresid[res] >= mdem[req]) & ~done[req]
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
            mresid[j] -= mdem[i]
        if mode != "unconstrained":
            done[i] = True
    return np.asarray(out_i, np.int64), np.asarray(out_j, np.int64), np.asarray(out_g, float)
