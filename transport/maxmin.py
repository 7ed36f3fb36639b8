"""Max-min fair rate allocation by progressive filling (water-filling), vectorised.

Every flow ``f`` loads link ``l`` with ``a[f, l] · x_f`` (``a`` is the flow×link incidence;
``a = 1`` for a link on the flow's path, ``1/k`` when the flow is sprayed evenly over ``k``
paths). Progressive filling raises all unfrozen rates together (``x_f = w_f · t``) and freezes
the flows of a link when it saturates (Bertsekas & Gallager, *Data Networks*, 2nd ed., §6.5.2).

The vectorised solver freezes, in one round, every link whose fair share
``s_l = remaining_l / Σ_f a[f,l]·w_f`` is no larger than the share of any other link (or the
demand cap) of any of its flows. Such a link saturates exactly at ``s_l`` in progressive
filling: every other constraint of its flows saturates at a level ``≥`` its own current share
``≥ s_l``, so none of its flows freezes earlier. A round therefore never freezes a flow at a
wrong rate, and each round freezes at least the globally tightest link, so the result equals
sequential progressive filling (which :func:`max_min_rates_reference` implements, one
bottleneck level per iteration, for tests and benchmarks).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["max_min_rates", "max_min_rates_coo", "max_min_rates_reference", "link_loads"]

_REL = 1e-9  # relative tolerance when comparing fair shares


def _as_coo(incidence, n_links: int):
    """(rows, cols, coef, n_flows) of a sparse/dense flow×link incidence matrix."""
    m = sp.coo_matrix(incidence) if not sp.issparse(incidence) else incidence.tocoo()
    if m.shape[1] != n_links:
        raise ValueError(
            f"incidence has {m.shape[1]} link columns but capacity_bps has {n_links} entries"
        )
    return m.row.astype(np.int64), m.col.astype(np.int64), m.data.astype(float), m.shape[0]


def _check(capacity, demand, weights, n_flows, coef):
    cap = np.asarray(capacity, dtype=float)
    if cap.ndim != 1:
        raise ValueError("capacity_bps must be a 1-D array (one entry per link)")
    if np.any(~np.isfinite(cap)) or np.any(cap < 0):
        raise ValueError("capacity_bps: every link capacity must be finite and >= 0")
    if np.any(coef < 0) or np.any(~np.isfinite(coef)):
        raise ValueError("incidence: entries must be finite and >= 0")
    w = np.ones(n_flows) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n_flows,) or np.any(w <= 0) or np.any(~np.isfinite(w)):
        raise ValueError(f"weights: need {n_flows} finite values > 0")
    d = np.full(n_flows, np.inf) if demand is None else np.asarray(demand, dtype=float)
    if d.shape != (n_flows,) or np.any(d < 0) or np.any(np.isnan(d)):
        raise ValueError(f"demand_bps: need {n_flows} values >= 0 (inf = no cap)")
    return cap, d, w


def max_min_rates(incidence, capacity_bps, *, demand_bps=None, weights=None) -> np.ndarray:
    """Weighted max-min fair rates (bps) of flows sharing capacitated links.

    Args:
        incidence: ``(n_flows, n_links)`` matrix (scipy.sparse or dense) of the fraction of a
            flow's rate that crosses each link (1 on its path; 1/k per path when sprayed over
            k paths; 0 elsewhere).
        capacity_bps: ``(n_links,)`` link capacities.
        demand_bps: optional ``(n_flows,)`` rate caps (``inf`` = elastic), e.g. window/RTT.
        weights: optional ``(n_flows,)`` positive weights (rates grow as ``w_f · t``).

    Returns:
        ``(n_flows,)`` rates in bps. A flow that crosses no link and has no cap gets ``inf``.
        The allocation is feasible (``incidenceᵀ·rates ≤ capacity``) and max-min fair.
    """
    cap = np.asarray(capacity_bps, dtype=float)
    rows, cols, coef, n = _as_coo(incidence, cap.shape[0] if cap.ndim == 1 else -1)
    return max_min_rates_coo(rows, cols, coef, n, cap, demand_bps=demand_bps, weights=weights)


def max_min_rates_coo(
    rows, cols, coef, n_flows: int, capacity_bps, *, demand_bps=None, weights=None
) -> np.ndarray:
    """:func:`max_min_rates` on a COO incidence ``(rows, cols, coef)`` (flow, link, fraction).

    Zero entries are ignored; duplicate (flow, link) entries add up.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    coef = np.asarray(coef, dtype=float)
    cap, demand, w = _check(capacity_bps, demand_bps, weights, n_flows, coef)
    if rows.shape != cols.shape or rows.shape != coef.shape:
        raise ValueError("rows, cols and coef must have the same length")
    if rows.size and (rows.min() < 0 or rows.max() >= n_flows):
        raise ValueError(f"rows: flow indices must lie in [0, {n_flows})")
    if cols.size and (cols.min() < 0 or cols.max() >= cap.size):
        raise ValueError(f"cols: link indices must lie in [0, {cap.size})")
    keep = coef > 0
    return _progressive_fill(rows[keep], cols[keep], coef[keep], n_flows, cap, demand, w)


def _gather(indptr, idx):
    """Positions ``indptr[i]..indptr[i+1]-1`` of every ``i`` in ``idx``, concatenated."""
    starts = indptr[idx]
    lens = indptr[idx + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.cumsum(lens) - lens
    return np.repeat(starts - offs, lens) + np.arange(total)


def _progressive_fill(rows, cols, coef, n_flows, cap, demand, w):
    """Rounds of 'freeze every locally tightest link', restricted to the candidate links whose
    share is among the smallest (links with a larger share cannot block them), so a round
    costs O(links + nnz of the candidates) instead of O(nnz)."""
    n_links = cap.size
    rate = np.zeros(n_flows)
    level_cap = demand / w
    # flow-major (CSR) and link-major (CSC) views of the incidence
    o = np.argsort(rows, kind="stable")
    r_cols, r_coef = cols[o], coef[o]
    r_ptr = np.zeros(n_flows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_flows), out=r_ptr[1:])
    o = np.argsort(cols, kind="stable")
    c_rows = rows[o]
    c_ptr = np.zeros(n_links + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=n_links), out=c_ptr[1:])

    on_links = np.diff(r_ptr) > 0
    rate[~on_links] = demand[~on_links]  # crosses no link: only its cap binds
    active = on_links.copy()
    capped = np.flatnonzero(active & np.isfinite(level_cap))
    capped = capped[np.argsort(level_cap[capped], kind="stable")]
    capped_levels = level_cap[capped]
    denom = np.bincount(cols, weights=coef * w[rows], minlength=n_links)
    count = np.bincount(cols, minlength=n_links)
    rem = cap.copy()
    n_active = int(active.sum())
    r_len, c_len = np.diff(r_ptr), np.diff(c_ptr)
    f_min_all = np.full(n_flows, np.inf)
    freeze_all = np.zeros(n_flows, dtype=bool)
    while n_active:
        live = count > 0
        share = np.full(n_links, np.inf)
        share[live] = np.maximum(rem[live], 0.0) / denom[live]
        live_idx = np.flatnonzero(live)
        k = min(live_idx.size, max(32, live_idx.size // 50))
        theta = np.partition(share[live_idx], k - 1)[k - 1]
        n_cap = int(np.searchsorted(capped_levels, theta, side="right"))
        cand = live_idx[share[live_idx] <= theta]
        pos = _gather(c_ptr, cand)
        f_nz = c_rows[pos]
        l_nz = np.repeat(cand, c_len[cand])
        ok = active[f_nz]
        f_nz, l_nz = f_nz[ok], l_nz[ok]
        cap_f = capped[:n_cap]
        cap_f = cap_f[active[cap_f]]
        # per candidate flow: its tightest candidate link or its own cap (scratch arrays
        # indexed by flow id, reset after use)
        f_min_all[f_nz] = level_cap[f_nz]
        f_min_all[cap_f] = level_cap[cap_f]
        s_nz = share[l_nz]
        np.minimum.at(f_min_all, f_nz, s_nz)
        # a candidate link is a bottleneck unless one of its flows is held lower elsewhere
        lower = f_min_all[f_nz] < s_nz * (1.0 - _REL)
        blocked = np.zeros(n_links, dtype=bool)
        blocked[l_nz[lower]] = True
        sub_f = np.concatenate([f_nz, cap_f])
        freeze_all[f_nz[~blocked[l_nz]]] = True
        freeze_all[sub_f] |= level_cap[sub_f] <= f_min_all[sub_f] * (1.0 + _REL)
        fr = np.flatnonzero(freeze_all) if sub_f.size > n_flows // 8 else None
        if fr is None:
            fr = np.unique(sub_f[freeze_all[sub_f]])
        if fr.size == 0:  # numerical safety net: freeze the tightest flows
            lv = f_min_all[sub_f]
            fr = np.unique(sub_f[lv <= lv.min() * (1.0 + _REL)])
        rate[fr] = f_min_all[fr] * w[fr]
        f_min_all[sub_f] = np.inf
        freeze_all[sub_f] = False
        active[fr] = False
        n_active -= fr.size
        pos = _gather(r_ptr, fr)
        lc = r_cols[pos]
        owner = np.repeat(fr, r_len[fr])
        rem -= np.bincount(lc, weights=r_coef[pos] * rate[owner], minlength=n_links)
        denom -= np.bincount(lc, weights=r_coef[pos] * w[owner], minlength=n_links)
        count -= np.bincount(lc, minlength=n_links)
    return rate


def max_min_rates_reference(incidence, capacity_bps, *, demand_bps=None, weights=None):
    """Textbook progressive filling: raise all unfrozen rates to the next saturation level,
    freeze the flows of the saturated links (or capped flows), repeat. One bottleneck level
    per iteration; used as the oracle and the benchmark baseline."""
    cap = np.asarray(capacity_bps, dtype=float)
    rows, cols, coef, n = _as_coo(incidence, cap.shape[0] if cap.ndim == 1 else -1)
    cap, demand, w = _check(cap, demand_bps, weights, n, coef)
    a = sp.csr_matrix((coef, (rows, cols)), shape=(n, cap.size))
    at = a.T.tocsr()
    active = np.ones(n, dtype=bool)
    level = np.zeros(n)  # water level t of each flow
    has_link = np.asarray((a > 0).sum(axis=1)).ravel() > 0
    rate = np.zeros(n)
    rate[~has_link] = demand[~has_link]
    active &= has_link
    used = np.zeros(cap.size)
    while active.any():
        wa = np.where(active, w, 0.0)
        grow = at @ wa  # d(load)/dt per link
        with np.errstate(divide="ignore", invalid="ignore"):
            dt_link = np.where(grow > 0, (cap - used) / grow, np.inf)
        t_now = level[active].max() if active.any() else 0.0
        dt_dem = np.where(active, demand / w - t_now, np.inf)
        dt = max(min(dt_link.min(), dt_dem.min()), 0.0)
        level[active] = t_now + dt
        used += grow * dt
        sat = dt_link <= dt * (1 + _REL) + 1e-300
        hit = np.asarray(a[:, sat].sum(axis=1)).ravel() > 0
        hit |= dt_dem <= dt * (1 + _REL)
        newly = active & hit
        if not newly.any():
            newly = active.copy()
        rate[newly] = level[newly] * w[newly]
        active &= ~newly
    return rate


def link_loads(rows, cols, coef, rates, n_links: int) -> np.ndarray:
    """Per-link load ``Σ_f a[f,l]·x_f`` (bps) of a COO incidence and flow rates."""
    rows = np.asarray(rows, dtype=np.int64)
    return np.bincount(
        np.asarray(cols), weights=np.asarray(coef) * np.asarray(rates)[rows], minlength=n_links
    )
