"""Compiled (numba) Newton price dynamics of :func:`ran.comp.market.run_market`.

The same arithmetic as the vectorised :func:`~ran.comp.market.respond_to_totals`,
:func:`~ran.comp.market.response_slope` and the per-BS Newton step of
``ran.comp.market._newton``, in one compiled loop: a small market (a handful of UEs in
trouble, as in the envs) is dominated by the per-call overhead of numpy, so this runs a
round in microseconds. ``tests/ran/comp/test_comp_market.py`` checks it against the numpy
path to 1e-12.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["newton_rounds"]

_Y_FLOOR = 1e-12


@njit(cache=True)
def _respond_row(w, t, budget, mu, b):
    """Bids of one UE against totals ``t`` (written into ``b``); returns True when its budget
    binds. See ``respond_to_totals``."""
    k = w.size
    ratio = np.zeros(k)
    for j in range(k):
        if t[j] < _Y_FLOOR:
            t[j] = _Y_FLOOR
        ratio[j] = w[j] / t[j] if w[j] > 0 else 0.0
    order = np.argsort(-ratio, kind="mergesort")
    n_act = 0
    for j in range(k):
        if w[j] > 0:
            n_act += 1
    for j in range(k):
        b[j] = 0.0
    if n_act == 0 or budget <= 0:
        return False
    s_t = 0.0
    s_q = 0.0
    lam_b = 0.0
    found = False
    last = 0.0
    for pos in range(k):
        j = order[pos]
        if not w[j] > 0:
            continue
        s_t += t[j]
        s_q += t[j] * t[j] / w[j]
        lam_k = (s_t - budget) / s_q
        nxt = ratio[order[pos + 1]] if pos + 1 < k else 0.0
        last = lam_k
        if not found and lam_k < ratio[j] and lam_k >= nxt:
            lam_b = lam_k
            found = True
    if not found:
        lam_b = last
    lam = max(mu, lam_b)
    spend = 0.0
    for j in range(k):
        if w[j] > 0:
            v = t[j] * (1.0 - lam * t[j] / w[j])
            b[j] = v if v > 0 else 0.0
            spend += b[j]
    if spend > budget:
        for j in range(k):
            b[j] *= budget / spend
    return lam_b > mu


@njit(cache=True)
def newton_rounds(cluster, w, budget, mu, reserve, n_bs, bids, eps, max_rounds, scale):
    """Run the Newton price rounds from ``bids``; returns ``(rounds, settled, bids)``."""
    n, k = w.shape
    totals = np.zeros(n_bs)
    wanted = np.zeros(n_bs, dtype=np.bool_)
    for i in range(n):
        for j in range(k):
            totals[cluster[i, j]] += bids[i, j]
            if w[i, j] > 0:
                wanted[cluster[i, j]] = True
    for m in range(n_bs):
        totals[m] = max(totals[m] + reserve[m], _Y_FLOOR)
    step = np.ones(n_bs)
    g_prev = np.zeros(n_bs)
    new = np.zeros((n, k))
    tc = np.zeros(k)
    for rnd in range(1, max_rounds + 1):
        f = np.zeros(n_bs)
        slope = np.zeros(n_bs)
        change = 0.0
        for i in range(n):
            for j in range(k):
                tc[j] = totals[cluster[i, j]]
            bound = _respond_row(w[i], tc, budget[i], mu, new[i])
            sq = 0.0
            if bound:
                for j in range(k):
                    if new[i, j] > 0:
                        sq += tc[j] * tc[j] / w[i, j]
            for j in range(k):
                m = cluster[i, j]
                f[m] += new[i, j]
                if new[i, j] > 0:
                    s = 2.0 * new[i, j] / tc[j] - 1.0
                    if bound and sq > 0:
                        s *= 1.0 - (tc[j] * tc[j] / w[i, j]) / sq
                    slope[m] += s
                d = abs(new[i, j] - bids[i, j]) / scale[i]
                if d > change:
                    change = d
        residual = 0.0
        g = np.empty(n_bs)
        for m in range(n_bs):
            g[m] = f[m] + reserve[m] - totals[m]
            if wanted[m] and abs(g[m]) / totals[m] > residual:
                residual = abs(g[m]) / totals[m]
        bids[:, :] = new
        if change < eps and residual < eps:
            return rnd, True, bids
        for m in range(n_bs):
            if g[m] * g_prev[m] < 0:
                step[m] *= 0.5
            else:
                step[m] = min(1.0, 1.25 * step[m])
            g_prev[m] = g[m]
            nw = -g[m] / (slope[m] - 1.0) if slope[m] - 1.0 < -1e-9 else g[m]
            t_new = min(max(totals[m] + step[m] * nw, totals[m] / 4.0), totals[m] * 4.0)
            totals[m] = max(t_new, _Y_FLOOR)
    return max_rounds, False, bids


@njit(cache=True)
def _fits(w, y, budget, cap, theta, b):
    """Bids at θ into ``b``; True when they keep within the budget and the cap."""
    spend = 0.0
    rate = 0.0
    for j in range(w.size):
        v = 0.0
        if w[j] > 0:
            v = np.sqrt(w[j] * y[j] * theta) - y[j]
            if v < 0:
                v = 0.0
        b[j] = v
        spend += v
        if v > 0:
            rate += w[j] * v / (v + y[j])
    return spend <= budget * (1 + 1e-12) and rate <= cap * (1 + 1e-12)


@njit(cache=True)
def capped_response_rows(w, y, budget, mu, weight, cap, iters):
    """Compiled :func:`ran.comp.capped.capped_best_response` (the same bisection on θ,
    row by row); ``y`` must already be floored."""
    n, k = w.shape
    out = np.zeros((n, k))
    b = np.zeros(k)
    for i in range(n):
        if not (budget[i] > 0 and cap[i] > 0 and weight[i] > 0):
            continue
        hi = np.inf
        lo = np.inf
        any_act = False
        for j in range(k):
            if w[i, j] > 0:
                any_act = True
                hi = min(hi, (budget[i] + y[i, j]) ** 2 / (w[i, j] * y[i, j]))
                lo = min(lo, y[i, j] / w[i, j])
        if not any_act:
            continue
        if mu > 0:
            hi = min(hi, weight[i] / mu)
        if not (np.isfinite(hi) and hi > 0):
            hi = 1.0
        lo = min(lo, hi)

        if _fits(w[i], y[i], budget[i], cap[i], hi, b):
            theta = hi
        else:
            llo, lhi = np.log(lo), np.log(hi)
            for _ in range(iters):
                mid = 0.5 * (llo + lhi)
                if _fits(w[i], y[i], budget[i], cap[i], np.exp(mid), b):
                    llo = mid
                else:
                    lhi = mid
            theta = np.exp(llo)
        _fits(w[i], y[i], budget[i], cap[i], theta, b)
        spend = 0.0
        for j in range(k):
            spend += b[j]
        scale = budget[i] / spend if spend > budget[i] else 1.0
        for j in range(k):
            out[i, j] = b[j] * scale
    return out
