"""Allocation with concave, demand-capped utilities ``u_i = a_i·min(Σ_j v_ij·x_ij, D_i)``.

A UE in trouble needs ``D_i`` more Mbit/s (its application's desired rate minus what its
primary link gives, :mod:`ran.comp.apps`); beyond that, PRBs are worth nothing to it. ``a_i``
is its urgency. Every function here takes a :class:`~ran.comp.market.MarketInstance` with
``cap`` (D) and ``weight`` (a) set; all return PRBs ``(N, K)``.

* :func:`capped_best_response` - the price-anticipating best response in the trading post:
  maximise ``a·min(r(b), D) - μ·Σ_j b_j`` s.t. ``Σ_j b_j <= B`` with
  ``r(b) = Σ_j w_j·b_j/(b_j + y_j)``, ``w_j = v_j·C_j``. On ``r < D`` the KKT conditions are
  those of the linear game with multiplier ``(μ + λ)/a``, so the bids are
  ``b_j(θ) = (sqrt(w_j·y_j·θ) - y_j)^+`` for one scalar θ per UE; spend and rate both grow
  with θ, hence ``θ* = min(a/μ, θ_budget, θ_cap)``, found by bisection (vectorised over UEs).
* :func:`run_capped_market` - damped simultaneous best responses until they stop moving.
* :func:`capped_welfare_optimum` / :func:`capped_eisenberg_gale` - the welfare optimum and the
  budget-weighted log-utility (Eisenberg-Gale) allocation with the same caps, by cvxpy
  (concave programs; with caps a satiated UE keeps money, as in Fisher markets with
  satiation).
* :func:`fair_share` - demand-capped equal share: each BS, strongest cluster position first,
  water-fills its spare PRBs max-min fairly up to each UE's remaining need (the strongest
  simple rule: no prices, no money).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .baselines import EG_TOL, BaselineResult
from .market import Y_FLOOR, MarketInstance, MarketResult, allocate
from .newton_kernel import capped_response_rows

__all__ = [
    "capped_best_response",
    "capped_payoff",
    "capped_nash_gap",
    "run_capped_market",
    "capped_welfare_optimum",
    "capped_eisenberg_gale",
    "fair_share",
]

_BISECT = 60


def _bids_at(theta, w, y):
    with np.errstate(invalid="ignore"):
        b = np.sqrt(w * y * theta[:, None]) - y
    return np.where(w > 0, np.maximum(b, 0.0), 0.0)


def _rate(w, b, y):
    return np.sum(np.where(b > 0, w * b / (b + y), 0.0), axis=1)


def capped_best_response(
    w, y, budget, money_value, weight, cap, compiled: bool = True
) -> np.ndarray:
    """Best response ``(N, K)`` for capped utilities (see the module docstring). ``w``
    ``(N, K)`` = ``v·C``; ``y`` others' bids plus reserve (floored at a tiny number);
    ``budget``, ``weight`` (a) and ``cap`` (D) ``(N,)``; ``money_value`` μ. ``compiled``
    runs the same bisection in :func:`ran.comp.newton_kernel.capped_response_rows`; False is
    the vectorised numpy reference."""
    w = np.asarray(w, dtype=float)
    y = np.maximum(np.asarray(y, dtype=float), Y_FLOOR)
    budget, weight, cap = (np.asarray(x, dtype=float) for x in (budget, weight, cap))
    if compiled:
        return capped_response_rows(w, y, budget, float(money_value), weight, cap, _BISECT)
    act = (w > 0) & (budget > 0)[:, None] & (cap > 0)[:, None] & (weight > 0)[:, None]
    w = np.where(act, w, 0.0)
    if not act.any():
        return np.zeros_like(w)
    # at θ_hi every active UE bids at least its budget on one BS
    with np.errstate(divide="ignore"):
        need = np.where(act, (budget[:, None] + y) ** 2 / np.where(act, w * y, 1.0), np.inf)
    hi = need.min(axis=1)
    if money_value > 0:
        hi = np.minimum(hi, weight / money_value)
    hi = np.where(np.isfinite(hi) & (hi > 0), hi, 1.0)
    lo = np.where(act, y / np.where(act, w, 1.0), np.inf).min(axis=1)  # below: bids all 0
    lo = np.minimum(np.where(np.isfinite(lo), lo, hi), hi)

    def ok(theta):
        b = _bids_at(theta, w, y)
        return (b.sum(axis=1) <= budget * (1 + 1e-12)) & (_rate(w, b, y) <= cap * (1 + 1e-12))

    top = ok(hi)
    llo, lhi = np.log(lo), np.log(hi)
    for _ in range(_BISECT):
        mid = 0.5 * (llo + lhi)
        good = ok(np.exp(mid))
        llo = np.where(good, mid, llo)
        lhi = np.where(good, lhi, mid)
    theta = np.where(top, hi, np.exp(llo))
    b = _bids_at(theta, w, y)
    spend = b.sum(axis=1)
    over = spend > budget
    b[over] *= (budget[over] / spend[over])[:, None]
    return np.where(act, b, 0.0)


def capped_payoff(inst: MarketInstance, bids, y) -> np.ndarray:
    """``a·min(r(b), D) - μ·Σ b`` per UE against others' bids ``y``."""
    r = _rate(inst.weights, bids, np.maximum(y, Y_FLOOR))
    return inst.urgency * np.minimum(r, inst.cap) - inst.money_value * bids.sum(axis=1)


def _others(inst, bids):
    return (inst.per_bs(bids) + inst.reserve)[inst.cluster] - bids


def capped_nash_gap(inst: MarketInstance, bids) -> float:
    """Largest relative payoff gain of a unilateral best response (0 at a Nash equilibrium)."""
    bids = np.asarray(bids, dtype=float)
    y = _others(inst, bids)
    br = capped_best_response(
        inst.weights, y, inst.budget, inst.money_value, inst.urgency, inst.cap
    )
    best, now = capped_payoff(inst, br, y), capped_payoff(inst, bids, y)
    scale = np.maximum(np.maximum(np.abs(best), np.abs(now)), 1e-300)
    return float(np.where(best > now, (best - now) / scale, 0.0).max(initial=0.0))


def run_capped_market(
    inst: MarketInstance,
    eps: float = 1e-4,
    max_rounds: int = 200,
    latency_s: float = 5e-4,
    init_bids=None,
) -> MarketResult:
    """Trading post with capped utilities: simultaneous best responses, damped by ``2/n``
    (``n`` the most bidders at the UE's BSs), until no bid moves by more than ``eps`` of the
    budget. A round is one bid and one posted total per cluster link (``2·N·K`` messages,
    two latencies)."""
    w, budget, mu = inst.weights, inst.budget, inst.money_value
    bids = (
        np.zeros(w.shape) if init_bids is None else np.asarray(init_bids, dtype=float).copy()
    )
    if init_bids is None:
        n_act = np.maximum((w > 0).sum(axis=1, keepdims=True), 1)
        bids = np.where(w > 0, 0.1 * budget[:, None] / n_act, 0.0)
    scale = np.maximum(budget, 1e-12)[:, None]
    nb = inst.per_bs((w > 0).astype(float))
    alpha = np.minimum(1.0, 2.0 / np.maximum(nb[inst.cluster].max(axis=1, initial=1.0), 1.0))
    rounds, converged = 0, False
    for rounds in range(1, int(max_rounds) + 1):  # noqa: B007 - reported
        br = capped_best_response(w, _others(inst, bids), budget, mu, inst.urgency, inst.cap)
        step = br - bids
        bids = bids + alpha[:, None] * step
        if np.max(np.abs(step) / scale, initial=0.0) < eps:
            converged = True
            break
    messages = 2 * rounds * int(inst.cluster.size)
    return MarketResult(
        bids, allocate(inst, bids), rounds, messages, converged, rounds * 2.0 * latency_s
    )


def _slots(inst: MarketInstance):
    n, k = inst.cluster.shape
    # needs below 1 kbit/s (round-off of desired - primary) are none
    usable = (inst.value > 0) & (inst.spare[inst.cluster] > 0) & (inst.cap > 1e-3)[:, None]
    idx = np.flatnonzero(usable.ravel())
    ue = idx // k
    bs = inst.cluster.ravel()[idx]
    rows = np.unique(bs)
    cap = sp.csr_matrix(
        (np.ones(idx.size), (np.searchsorted(rows, bs), np.arange(idx.size))),
        shape=(rows.size, idx.size),
    )
    util = sp.csr_matrix((inst.value.ravel()[idx], (ue, np.arange(idx.size))), shape=(n, idx.size))
    return idx, rows, cap, util


def _solve(prob, tol):
    """Clarabel at ``tol``; if it stalls there (numerically hard instances), once more at
    Clarabel's own defaults (1e-8 gaps), then SCS."""
    import warnings

    import cvxpy as cp

    opts = {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol, "tol_ktratio": tol}
    good = (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
    for solver, kw in ((cp.CLARABEL, opts), (cp.CLARABEL, {}), (cp.SCS, {"eps": 1e-7})):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate": see below
                prob.solve(solver=solver, **kw)
        except cp.error.SolverError:
            continue
        if prob.status in good:
            return
    if prob.status not in good:
        raise RuntimeError(f"capped program failed: {prob.status}")


def capped_welfare_optimum(
    inst: MarketInstance, method: str = "lp", tol: float = EG_TOL
) -> BaselineResult:
    """``max Σ_i a_i·min(Σ_j v_ij·x_ij, D_i)`` under the capacities: with ``t_i`` the capped
    utility, the LP ``max Σ a_i·t_i`` s.t. ``t_i <= Σ_j v_ij·x_ij``, ``t_i <= D_i``,
    ``Σ_i x_ij <= C_j``. ``method="lp"`` solves it with HiGHS (fast), ``"cvxpy"`` states the
    concave program directly (Clarabel; the tests check that both agree)."""
    x = np.zeros(inst.cluster.shape)
    nan = np.full(inst.n_bs, np.nan)
    idx, rows, cap, util = _slots(inst)
    if idx.size == 0:
        return BaselineResult(x, nan, nan.copy())
    prices = nan.copy()
    if method == "lp":
        from scipy.optimize import linprog

        n, s = inst.n_ues, idx.size
        c = np.r_[np.zeros(s), -inst.urgency]
        a_ub = sp.vstack(
            [sp.hstack([-util, sp.eye(n)]), sp.hstack([cap, sp.csr_matrix((rows.size, n))])]
        ).tocsr()
        b_ub = np.r_[np.zeros(n), inst.spare[rows]]
        bounds = [(0, None)] * s + [(0, d) for d in inst.cap]
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"capped welfare LP failed: {res.message}")
        x.ravel()[idx] = np.maximum(res.x[:s], 0.0)
        prices[rows] = -np.asarray(res.ineqlin.marginals)[n:]
        return BaselineResult(x, prices, nan.copy())
    if method != "cvxpy":
        raise ValueError(f"method: unknown {method!r} (allowed: lp, cvxpy)")
    import cvxpy as cp

    z = cp.Variable(idx.size, nonneg=True)
    capacity = cap @ z <= inst.spare[rows]
    obj = cp.Maximize(inst.urgency @ cp.minimum(util @ z, inst.cap))
    prob = cp.Problem(obj, [capacity])
    _solve(prob, tol)
    x.ravel()[idx] = np.maximum(z.value, 0.0)
    prices[rows] = np.maximum(np.asarray(capacity.dual_value, dtype=float), 0.0)
    return BaselineResult(x, prices, nan.copy())


def capped_eisenberg_gale(inst: MarketInstance, tol: float = EG_TOL) -> BaselineResult:
    """``max Σ_i B_i·log(min(Σ_j v_ij·x_ij, D_i))`` under the capacities (cvxpy): the Fisher
    allocation with satiation; prices are the capacity duals (per PRB). UEs without budget
    or need get nothing."""
    import cvxpy as cp

    x = np.zeros(inst.cluster.shape)
    prices = np.zeros(inst.n_bs)
    idx, rows, cap, util = _slots(inst)
    buyers = np.flatnonzero((inst.budget > 0) & (np.asarray(util.sum(axis=1)).ravel() > 0))
    if idx.size == 0 or buyers.size == 0:
        return BaselineResult(x, prices, prices.copy())
    keep = np.isin(idx // inst.cluster.shape[1], buyers)
    idx = idx[keep]
    cap, util = cap[:, keep], util[buyers][:, keep]
    z = cp.Variable(idx.size, nonneg=True)
    capacity = cap @ z <= inst.spare[rows]
    obj = cp.Maximize(inst.budget[buyers] @ cp.log(cp.minimum(util @ z, inst.cap[buyers])))
    prob = cp.Problem(obj, [capacity])
    _solve(prob, tol)
    x.ravel()[idx] = np.maximum(z.value, 0.0)
    prices[rows] = np.maximum(np.asarray(capacity.dual_value, dtype=float), 0.0)
    return BaselineResult(x, prices, prices * inst.spare)


def fair_share(inst: MarketInstance) -> BaselineResult:
    """Demand-capped max-min share (see the module docstring); needs ``cap``."""
    n, k = inst.cluster.shape
    x = np.zeros((n, k))
    need = inst.cap.astype(float).copy()
    left = inst.spare.astype(float).copy()
    for pos in range(k):
        bs = inst.cluster[:, pos]
        v = inst.value[:, pos]
        want = np.where((v > 0) & (need > 0), need / np.where(v > 0, v, 1.0), 0.0)
        for m in np.unique(bs[want > 0]):
            rows = np.flatnonzero((bs == m) & (want > 0))
            d = np.sort(want[rows])
            cap_m = left[m]
            # water level: the largest L with Σ min(d, L) <= cap_m
            cum = np.cumsum(d)
            cnt = np.arange(d.size, 0, -1)
            fill = np.r_[0.0, cum[:-1]] + d * cnt  # total if the level were d[j]
            j = int(np.searchsorted(fill, cap_m, side="right"))
            level = (
                np.inf if j >= d.size else (cap_m - (cum[j - 1] if j else 0.0)) / (d.size - j)
            )
            got = np.minimum(want[rows], level)
            x[rows, pos] = got
            left[m] -= got.sum()
            need[rows] = np.maximum(need[rows] - got * v[rows], 0.0)
    nan = np.full(inst.n_bs, np.nan)
    return BaselineResult(x, nan, np.zeros(inst.n_bs))
