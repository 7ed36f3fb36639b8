"""One batch of fluid flows that start together, solved in closed loop without the engine.

The flows of a step-synchronous collective step all start at the same instant and nothing
else shares the fabric (no background). Their max-min fair fluid evolution is then a short
sequence of phases: solve the max-min rates (progressive filling, Bertsekas & Gallager,
*Data Networks*, 2nd ed., §6.5.2), run until the next flow drains, drop it, solve again.
:func:`drain_times_s` does exactly that on a small dense incidence matrix; it gives the same
drain times as :class:`transport.flowsim.FlowTransport` on the engine (tested), at a fraction
of the cost, which is what makes the ``CollectiveRouting`` env fast.

:func:`min_congestion_s` is the per-step oracle: the smallest maximum link drain time
``max_l bytes_l·8/c_l`` over every fractional split of the cross-leaf flows over the spines
(a linear program). No routing, however clever, beats it; with equal spine capacities it is
the spraying bound.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.optimize import linprog

from .network import Network

__all__ = [
    "drain_times_csr_s",
    "drain_times_s",
    "max_min_dense",
    "min_congestion_s",
    "step_lower_bound_s",
]

_REL = 1e-12
_LP_MEMO: dict[tuple, float] = {}


def max_min_dense(a: np.ndarray, capacity_bps: np.ndarray) -> np.ndarray:
    """Max-min fair rates (bps) of the flows of the dense ``(flows, links)`` incidence ``a``
    (fraction of each flow's rate on each link) by sequential progressive filling: every
    unfrozen rate grows by the smallest fair share ``rem_l / Σ_unfrozen a_fl`` of any link;
    the flows of the links that saturate freeze. A flow that crosses no link gets 0."""
    a = np.ascontiguousarray(a, dtype=float)
    cap = np.asarray(capacity_bps, dtype=float)
    return _fill(a, cap, np.ones(a.shape[0], dtype=np.bool_))


def drain_times_s(a: np.ndarray, capacity_bps: np.ndarray, nbytes: np.ndarray) -> np.ndarray:
    """Time (s, from the common start) at which each flow's last byte leaves its source, for
    flows of ``nbytes`` bytes with incidence ``a`` (dense ``(flows, links)``) sharing links of
    ``capacity_bps`` max-min fairly, re-solved each time a flow drains. Every flow with bytes
    must cross a link."""
    a = np.ascontiguousarray(a, dtype=float)
    used = a.any(axis=0)
    return _drain(
        np.ascontiguousarray(a[:, used]),
        np.asarray(capacity_bps, dtype=float)[used],
        np.asarray(nbytes, dtype=float) * 8.0,
    )


def drain_times_csr_s(ptr, idx, val, capacity_bps, nbytes) -> np.ndarray:
    """:func:`drain_times_s` on a CSR incidence (row ``f``: links ``idx[ptr[f]:ptr[f+1]]``
    with fractions ``val``), for batches too big for a dense matrix."""
    return _drain_csr(
        np.asarray(ptr, dtype=np.int64),
        np.asarray(idx, dtype=np.int64),
        np.asarray(val, dtype=float),
        np.asarray(capacity_bps, dtype=float),
        np.asarray(nbytes, dtype=float) * 8.0,
    )


@njit(cache=True)
def _fair_share(rem, denom):  # pragma: no cover - compiled
    """Smallest ``rem_l / denom_l`` over the links that carry live flows (inf if none)."""
    t = np.inf
    for j in range(denom.size):
        if denom[j] > 0:
            t = min(t, rem[j] / denom[j])
    return t


@njit(cache=True)
def _advance(rate, left, alive, out, now):  # pragma: no cover - compiled
    """Run the live flows at ``rate`` until the next one drains (in place: ``left`` bits,
    ``alive``, drain times ``out``); return the new time."""
    step = np.inf
    for f in range(rate.size):
        if alive[f]:
            step = min(step, left[f] / rate[f])
    now += step
    for f in range(rate.size):
        if alive[f]:
            if left[f] / rate[f] <= step * (1.0 + 1e-9):
                out[f] = now
                alive[f] = False
            else:
                left[f] -= rate[f] * step
    return now


@njit(cache=True)
def _fill_csr(ptr, idx, val, cap, alive):  # pragma: no cover - compiled
    n = ptr.size - 1
    m = cap.size
    rate = np.zeros(n)
    act = alive.copy()
    rem = cap.copy()
    tol = _REL * max(cap.max(), 1.0)
    denom = np.zeros(m)
    sat = np.zeros(m, dtype=np.bool_)
    while True:
        denom[:] = 0.0
        any_act = False
        for f in range(n):
            if act[f]:
                any_act = True
                for q in range(ptr[f], ptr[f + 1]):
                    denom[idx[q]] += val[q]
        if not any_act:
            return rate
        t = _fair_share(rem, denom)
        if t == np.inf:
            return rate
        for j in range(m):
            sat[j] = False
            if denom[j] > 0:
                rem[j] -= t * denom[j]
                sat[j] = rem[j] <= tol
        for f in range(n):
            if act[f]:
                rate[f] += t
                for q in range(ptr[f], ptr[f + 1]):
                    if sat[idx[q]]:
                        act[f] = False
                        break


@njit(cache=True)
def _drain_csr(ptr, idx, val, cap, bits):  # pragma: no cover - compiled
    left = bits.copy()
    out = np.zeros(bits.size)
    alive = left > 0
    now = 0.0
    while alive.any():
        now = _advance(_fill_csr(ptr, idx, val, cap, alive), left, alive, out, now)
    return out


@njit(cache=True)
def _fill(a, cap, alive):  # pragma: no cover - compiled
    n, m = a.shape
    rate = np.zeros(n)
    act = alive.copy()
    rem = cap.copy()
    tol = _REL * max(cap.max(), 1.0)
    denom = np.zeros(m)
    while True:
        denom[:] = 0.0
        for f in range(n):
            if act[f]:
                for j in range(m):
                    denom[j] += a[f, j]
        t = _fair_share(rem, denom)
        if t == np.inf:
            return rate
        for f in range(n):
            if act[f]:
                rate[f] += t
        for j in range(m):
            if denom[j] > 0:
                rem[j] -= t * denom[j]
                if rem[j] <= tol:
                    for f in range(n):
                        if a[f, j] > 0:
                            act[f] = False


@njit(cache=True)
def _drain(a, cap, bits):  # pragma: no cover - compiled
    left = bits.copy()
    out = np.zeros(bits.size)
    alive = left > 0
    now = 0.0
    while alive.any():
        now = _advance(_fill(a, cap, alive), left, alive, out, now)
    return out


def min_congestion_s(net: Network, src_hosts, dst_hosts, nbytes) -> float:
    """Smallest possible maximum link drain time (s) of one batch on a leaf-spine: the LP
    ``min T`` over spine fractions ``x_fs ≥ 0``, ``Σ_s x_fs = 1`` per cross-leaf flow, with
    ``Σ_f 8·b_f·x_fs ≤ T·c`` on every uplink (leaf→spine s) and downlink (spine s→leaf),
    and every host link's bytes ``≤ T·c`` (fixed: a host has one link)."""
    if net.kind != "leaf_spine":
        raise ValueError("min_congestion_s: needs a leaf-spine network")
    src = np.asarray(src_hosts, dtype=np.int64)
    dst = np.asarray(dst_hosts, dtype=np.int64)
    bits = np.asarray(nbytes, dtype=float) * 8.0
    cap = net.capacity_bps
    host = np.bincount(net.host_up[src], weights=bits, minlength=net.n_links)
    host += np.bincount(net.host_down[dst], weights=bits, minlength=net.n_links)
    t_host = float((host / cap).max(initial=0.0))
    ls, ld = net.tor[src], net.tor[dst]
    cross = np.flatnonzero(ls != ld)
    if cross.size == 0:
        return t_host
    trip = np.stack([ls[cross], ld[cross], bits[cross]])
    trip = trip[:, np.lexsort(trip)]  # the fabric part depends only on leaf pairs and sizes
    key = (net.capacity_bps.tobytes(), net.spines, trip.tobytes())
    hit = _LP_MEMO.get(key)
    if hit is None:
        hit = _LP_MEMO[key] = _fabric_lp(net, ls, ld, bits, cross)
        if len(_LP_MEMO) > 4096:
            _LP_MEMO.pop(next(iter(_LP_MEMO)))
    return max(hit, t_host)


def _fabric_lp(net: Network, ls, ld, bits, cross) -> float:
    """The LP of :func:`min_congestion_s` over the fabric links only (s).

    Closed form when every spine ``s`` has one capacity ``c_s`` on all its links: a leaf's
    uplinks together carry all its cross-leaf bytes, so ``T ≥ B_i / Σ_s c_s`` (``B_i`` the
    larger of the leaf's sent and received bits), and splitting every flow in proportion
    ``c_s / Σc`` meets that bound on every link."""
    cap = net.capacity_bps
    up, down = net.uplinks(), net.downlinks()
    c_up, c_down = cap[up], cap[down].T  # (leaves, spines) both
    if np.all(c_up == c_up[:1]) and np.all(c_down == c_up[:1]):
        out = np.bincount(ls[cross], weights=bits[cross], minlength=net.n_tors)
        inn = np.bincount(ld[cross], weights=bits[cross], minlength=net.n_tors)
        return float(max(out.max(), inn.max()) / c_up[0].sum())
    S = net.spines
    up, down = net.uplinks(), net.downlinks()
    nf = cross.size
    nv = nf * S + 1  # x_fs then T
    rows, cols, vals = [], [], []
    link_row: dict[int, int] = {}
    for i, f in enumerate(cross.tolist()):
        for s in range(S):
            for link in (int(up[ls[f], s]), int(down[s, ld[f]])):
                r = link_row.setdefault(link, len(link_row))
                rows.append(r)
                cols.append(i * S + s)
                vals.append(bits[f] / cap[link])
    n_rows = len(link_row)
    rows += list(range(n_rows))
    cols += [nv - 1] * n_rows
    vals += [-1.0] * n_rows
    a_ub = sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, nv))  # duplicates add up
    eq_cols = np.arange(nf * S)
    a_eq = sp.csr_matrix((np.ones(nf * S), (eq_cols // S, eq_cols)), shape=(nf, nv))
    c = np.zeros(nv)
    c[-1] = 1.0
    res = linprog(
        c, A_ub=a_ub, b_ub=np.zeros(n_rows), A_eq=a_eq, b_eq=np.ones(nf), method="highs"
    )
    if not res.success:  # cannot happen: spraying is feasible
        raise RuntimeError(f"min_congestion_s: LP failed ({res.message})")
    return float(res.x[-1])


def step_lower_bound_s(net: Network, src_hosts, dst_hosts, nbytes) -> float:
    """Lower bound (s) on the fluid duration of one step (flows starting together, last byte
    arrived), whatever the routing; the largest of:

    * every link group that must carry fixed bytes (a host link; the uplinks of a leaf; the
      downlinks into a leaf): its bits / its total capacity, plus the shortest route delay
      of the flows that use it (the last byte still has to travel);
    * every flow: its route delay + bits / its max-flow rate (host links, Σ over spines of
      the smaller of the uplink and downlink capacity);
    * the min-congestion LP (:func:`min_congestion_s`) plus the step's shortest route delay.

    On equal spines it is the step bound of :func:`transport.metrics.step_bounds`."""
    src = np.asarray(src_hosts, dtype=np.int64)
    dst = np.asarray(dst_hosts, dtype=np.int64)
    bits = np.asarray(nbytes, dtype=float) * 8.0
    cap = net.capacity_bps
    up, down = net.uplinks(), net.downlinks()
    ls, ld = net.tor[src], net.tor[dst]
    cross = ls != ld
    d = net.delay_s
    prop = d[net.host_up[src]] + d[net.host_down[dst]]
    prop = prop + np.where(cross, d[up[ls]].mean(axis=1) + d[down[:, ld]].mean(axis=0), 0.0)
    best = 0.0
    for links in (net.host_up[src], net.host_down[dst]):
        load = np.bincount(links, weights=bits, minlength=net.n_links)
        first = np.full(net.n_links, np.inf)
        np.minimum.at(first, links, prop)
        used = np.unique(links)
        best = max(best, float((load[used] / cap[used] + first[used]).max()))
    if cross.any():
        for leaf, group in ((ls, cap[up].sum(axis=1)), (ld, cap[down].sum(axis=0))):
            load = np.bincount(leaf[cross], weights=bits[cross], minlength=net.n_tors)
            first = np.full(net.n_tors, np.inf)
            np.minimum.at(first, leaf[cross], prop[cross])
            used = np.unique(leaf[cross])
            best = max(best, float((load[used] / group[used] + first[used]).max()))
    rate = np.minimum(cap[net.host_up[src]], cap[net.host_down[dst]])
    spine = np.minimum(cap[up[ls]], cap[down[:, ld]].T).sum(axis=1)
    rate = np.where(cross, np.minimum(rate, spine), rate)
    best = max(best, float((prop + bits / rate).max(initial=0.0)))
    lp = min_congestion_s(net, src, dst, nbytes) + float(prop.min(initial=0.0))
    return max(best, lp)
