"""Shared capacities (the paper's setting: each request on at most one resource, demands on a
resource within its capacity): a greedy with a guarantee and an upper bound that scales.

**Density greedy with the best-single fallback** (:func:`density_greedy`). Take pairs in
decreasing *density* ``gain/d_i`` (marginal gain of F per unit of capacity used, gain =
``w_ij + δ/(1 + h_k)``) while they fit, lazily re-evaluating gains whose requester's
holdings changed (they only fall: F is submodular); then return the better of that set and
the best single pair. Guarantee (stated for one resource, i.e. one knapsack, and tested
against brute force): F(S) ≥ ½(1 − 1/e)·OPT ≈ 0.316·OPT for monotone submodular F
(Khuller, Moss & Naor 1999; Leskovec et al. 2007, "cost-effective" CELF; for modular F the
classic ½, e.g. Kellerer, Pferschy & Pisinger 2004, §2.1). With several resources (a
generalised assignment problem with a submodular objective) no constant bound is claimed:
the study measures the ratio to the Lagrangian bound instead.

**Lagrangian upper bound** (:func:`lagrangian_bound`). Relax the capacity rows with prices
λ_j ≥ 0: ``L(λ) = Σ_j λ_j C_j + max_x Σ_ij (w_ij − λ_j d_i) x_ij + δ Σ_k H(n_k)`` over
"each request at most once". The inner problem separates by requester and is solved exactly:
each request takes its best resource ``a_i = max_j (w_ij − λ_j d_i)``; requester k serves its
m best requests with ``a_(m) + δ/m > 0`` (increments decrease in m). By weak duality every
``L(λ) ≥ OPT``; projected subgradient steps ``λ ← max(0, λ − s_t·(C − load(x)))`` with
Polyak-type steps ``s_t = θ_t (L − LB)/‖g‖²`` (Held, Wolfe & Crowder 1974; Fisher 1981)
drive it down. The bound reported is the smallest L seen; it holds whatever the number of
iterations. O(P) per iteration over the P feasible pairs: 3,540 × 888 (about 10⁶ pairs) in
seconds.

**Memory** (vector packing, ``inst.memory``): every pair must fit in CPU and memory. Density
greedy divides by ``d_i/C̄ + m_i/M̄`` and checks both residuals; the Lagrangian relaxes both
rows, with prices μ_j ≥ 0 on memory: ``a_i = max_j (w_ij − λ_j d_i − μ_j m_i)`` and
``L = λ·C + μ·M + inner``, stepped on both subgradients together.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from .model import Allocation, Instance, UtilityParams, Weights
from .utility import reference_utility

__all__ = ["feasible_pairs", "density_greedy", "lagrangian_bound", "KNAPSACK_RATIO"]

#: guarantee of density greedy + best single pair for one knapsack, monotone submodular F
KNAPSACK_RATIO = 0.5 * (1.0 - np.exp(-1.0))


def feasible_pairs(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    floor_prices: np.ndarray | None = None,
    chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (request, resource) pair feasible at ``floor_prices`` (type, QoS, capacity ≥
    demand, budget) with its base utility at ``prices`` (the common objective), computed
    type by type in row chunks: ``(i, j, w)``, sorted by request then resource."""
    Q, R = inst.requests, inst.resources
    out_i, out_j, out_w = [], [], []
    for t in np.unique(R.type).tolist():
        res = np.flatnonzero(R.type == t)
        req = np.flatnonzero(Q.type == t)
        for a in range(0, req.size, chunk):
            r = req[a : a + chunk]
            w, ok = reference_utility(
                inst, r[:, None], res[None, :], prices, weights, params, floor_prices
            )
            ii, jj = np.nonzero(ok)
            out_i.append(r[ii])
            out_j.append(res[jj])
            out_w.append(w[ii, jj])
    if not out_i:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    i, j, w = np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_w)
    order = np.lexsort((j, i))
    return i[order], j[order], w[order]


def density_greedy(
    inst: Instance,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    delta: float,
    capacity: np.ndarray | None = None,
    mem_capacity: np.ndarray | None = None,
) -> Allocation:
    """Density greedy with the best-single-pair fallback over ``pairs = (i, j, w)`` (sorted
    by request; module doc). ``utility`` holds each accepted pair's marginal gain.

    Lazy evaluation: a request's density is ``(w_ij + δ/(1 + h_k))/d_i``, so its best pair
    is its largest-w pair that still fits; one heap entry per request holds that density as
    of the holdings it was computed at, and an entry whose resource filled up or whose
    requester's holdings grew is re-keyed and pushed back (keys only fall).

    With ``inst.memory`` (vector packing) a pair must fit in CPU and memory, and the density
    divides by ``d_i/C̄ + m_i/M̄`` (demands over the mean capacities), the usual size of a
    multi-dimensional knapsack greedy; no constant guarantee is claimed then."""
    Q, R = inst.requests, inst.resources
    pi, pj, pw = pairs
    cap0 = R.capacity if capacity is None else capacity
    resid = np.asarray(cap0, float).copy()
    held = np.zeros(Q.n_requesters, np.int64)
    d, owner = Q.demand, Q.requester
    if pi.size == 0:
        return Allocation.empty()
    mem = inst.memory
    if mem:  # vector packing: size = CPU and memory demand, each over the mean capacity
        md = Q.mem_demand
        mcap0 = R.mem_capacity if mem_capacity is None else mem_capacity
        mresid = np.asarray(mcap0, float).copy()
        size = d / _mean_pos(cap0) + md / _mean_pos(mcap0)
    else:
        size = d

    def fits(i: int, j):
        ok = resid[j] >= d[i]
        return ok & (mresid[j] >= md[i]) if mem else ok

    order = np.lexsort((pj, -pw, pi))  # per request: w descending
    pi, pj, pw = pi[order], pj[order], pw[order]
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    ends = np.r_[starts[1:], pi.size]
    ptr = dict(zip(pi[starts].tolist(), starts.tolist(), strict=True))
    end = dict(zip(pi[starts].tolist(), ends.tolist(), strict=True))

    def key(i: int, e: int) -> float:
        g = pw[e] + delta / (1.0 + held[owner[i]])
        return -g / size[i] if size[i] > 0 else -np.inf

    heap = [(key(i, e), i, e, 0) for i, e in ptr.items()]
    heapq.heapify(heap)
    out_i, out_j, out_g = [], [], []
    while heap:
        _, i, e, h_seen = heapq.heappop(heap)
        k = int(owner[i])
        if not fits(i, pj[e]):  # its best pair filled up: move to the next one that fits
            fit = np.flatnonzero(fits(i, pj[e : end[i]]))
            if fit.size == 0:
                continue
            e = e + int(fit[0])
            heapq.heappush(heap, (key(i, e), i, e, int(held[k])))
            continue
        if held[k] != h_seen:  # stale fairness term: re-key
            heapq.heappush(heap, (key(i, e), i, e, int(held[k])))
            continue
        out_i.append(i)
        out_j.append(int(pj[e]))
        out_g.append(float(pw[e] + delta / (1.0 + held[k])))
        held[k] += 1
        resid[pj[e]] -= d[i]
        if mem:
            mresid[pj[e]] -= md[i]
    total = float(np.sum(out_g))
    fit = d[pi] <= np.asarray(cap0, float)[pj]
    if mem:
        fit &= md[pi] <= np.asarray(mcap0, float)[pj]
    if fit.any():
        e = int(np.flatnonzero(fit)[np.argmax(pw[fit])])
        if pw[e] + delta > total:  # the best single pair beats the greedy set
            out_i, out_j, out_g = [int(pi[e])], [int(pj[e])], [float(pw[e] + delta)]
    i = np.asarray(out_i, np.int64)
    j = np.asarray(out_j, np.int64)
    return Allocation(i, j, np.asarray(out_g, float), np.zeros(i.size))


def _mean_pos(cap) -> float:
    m = float(np.mean(cap)) if np.size(cap) else 1.0
    return m if m > 0 else 1.0


def _inner(pi, pj, pw, d, owner, starts, lam, delta, md=None, mu=None):
    """Exact maximiser of the Lagrangian's inner problem: value and per-resource load (and
    memory load with ``md``, ``mu``). ``starts``: first pair of each request (pairs sorted
    by request)."""
    val = pw - lam[pj] * d[pi]
    if md is not None:
        val = val - mu[pj] * md[pi]
    arg = starts + _segment_argmax(val, starts)
    best = val[arg]
    req = pi[starts]
    k = owner[req]
    order = np.lexsort((-best, k))
    kk, bb = k[order], best[order]
    rank = np.arange(kk.size) - np.searchsorted(kk, kk)  # 0-based rank within requester
    inc = bb + delta / (rank + 1.0)
    take = inc > 0  # increments decrease within a requester, so this is a prefix
    value = float(inc[take].sum())
    chosen = arg[order][take]
    load = np.bincount(pj[chosen], weights=d[pi[chosen]], minlength=lam.size)
    if md is None:
        return value, load
    return value, load, np.bincount(pj[chosen], weights=md[pi[chosen]], minlength=lam.size)


def _segment_argmax(val: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Offset of the (first) maximum inside each segment ``[starts[s], starts[s+1])``, O(P)."""
    lengths = np.diff(np.r_[starts, val.size])
    best = np.maximum.reduceat(val, starts)
    hit = np.flatnonzero(val >= np.repeat(best, lengths))
    seg = np.searchsorted(starts, hit, side="right") - 1
    first = hit[np.r_[True, seg[1:] != seg[:-1]]]
    return first - starts


def lagrangian_bound(
    inst: Instance,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    delta: float,
    lower: float = 0.0,
    iterations: int = 200,
    time_limit_s: float = 60.0,
    step_scale: float = 2.0,
) -> tuple[float, np.ndarray]:
    """Smallest ``L(λ)`` found by projected subgradient (module doc): an upper bound on F over
    ``pairs`` under the capacities. ``lower`` is a known feasible value (Polyak step target);
    ``step_scale`` is the initial θ (halved after 10 iterations without progress; smaller
    steps converge faster here, e.g. 0.25). Returns ``(bound, λ)``."""
    Q, R = inst.requests, inst.resources
    pi, pj, pw = pairs
    if pi.size == 0:
        return 0.0, np.zeros(len(R))
    d, owner, cap = Q.demand, Q.requester, R.capacity
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    mem = inst.memory
    if mem:  # vector packing: one more price per resource on its memory row
        md, mcap = Q.mem_demand, R.mem_capacity
        mu = np.zeros(len(R))
    lam = np.zeros(len(R))
    best, best_lam = np.inf, lam.copy()
    theta, stall = float(step_scale), 0
    t0 = time.perf_counter()
    for _ in range(iterations):
        if mem:
            inner, load, mload = _inner(pi, pj, pw, d, owner, starts, lam, delta, md, mu)
            L = float(lam @ cap) + float(mu @ mcap) + inner
        else:
            inner, load = _inner(pi, pj, pw, d, owner, starts, lam, delta)
            L = float(lam @ cap) + inner
        if L < best - 1e-12:
            best, best_lam, stall = L, lam.copy(), 0
        else:
            stall += 1
            if stall >= 10:  # halve the step scale after 10 iterations without progress
                theta, stall = theta / 2.0, 0
        g = cap - load
        g = np.where((lam <= 0) & (g > 0), 0.0, g)  # projected: λ cannot go below 0
        norm = float(g @ g)
        if mem:
            gm = mcap - mload
            gm = np.where((mu <= 0) & (gm > 0), 0.0, gm)
            norm += float(gm @ gm)
        if norm <= 1e-18 or time.perf_counter() - t0 > time_limit_s:
            break
        step = theta * max(L - lower, 1e-9) / norm
        lam = np.maximum(0.0, lam - step * g)
        if mem:
            mu = np.maximum(0.0, mu - step * gm)
    return best, best_lam
