"""Comparators for the CoMP market on the same instances (all return PRBs ``(N, K)``).

* :func:`welfare_optimum` - the LP ``max Σ v_ij·x_ij`` s.t. ``Σ_i x_ij <= C_j``, ``x >= 0``
  (HiGHS via ``scipy.optimize.linprog``); its closed form gives each BS to its best UE.
* :func:`eisenberg_gale` - the price-taking (Fisher-market) equilibrium: the convex program
  ``max Σ_i B_i·log(Σ_j v_ij·x_ij)`` under the same capacities (Eisenberg & Gale, Ann. Math.
  Stat. 30(1), 1959), solved with cvxpy; prices are the capacity duals.
* :func:`proportional_response` - the distributed dynamics ``b_ij ← B_i·v_ij·x_ij/u_i`` that
  converge to the same equilibrium (Wu & Zhang, STOC 2007; Zhang, TCS 412(24), 2011).
* :func:`equal_share` - each BS splits its spare PRBs equally among the UEs that can use them.
* :func:`second_price` - each BS sells its whole spare block in a sealed-bid second-price
  (Vickrey) auction; UEs bid their budget split in proportion to ``w_ij = v_ij·C_j``, capped
  by the block's value in tokens ``w_ij/μ`` when ``μ > 0``; the winner pays the larger of the
  second bid and the reserve.
* :func:`no_comp` - no extra PRBs: the primary link alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .market import MarketInstance

__all__ = [
    "BaselineResult",
    "welfare_optimum",
    "eisenberg_gale",
    "proportional_response",
    "equal_share",
    "second_price",
    "no_comp",
    "envy_ratio",
]


@dataclass(frozen=True)
class BaselineResult:
    """PRBs ``(N, K)``, prices per PRB and revenue ``(M,)`` (NaN where not defined), the
    iterations a dynamic needed (0 for one-shot rules) and its final bids, if any."""

    prbs: np.ndarray
    prices: np.ndarray
    revenue: np.ndarray
    iterations: int = 0
    bids: np.ndarray | None = None


def _nan_bs(inst: MarketInstance) -> np.ndarray:
    return np.full(inst.n_bs, np.nan)


def _capacity_matrix(inst: MarketInstance) -> sp.csr_matrix:
    n, k = inst.cluster.shape
    return sp.csr_matrix(
        (np.ones(n * k), (inst.cluster.ravel(), np.arange(n * k))), shape=(inst.n_bs, n * k)
    )


def welfare_optimum(inst: MarketInstance, method: str = "lp") -> BaselineResult:
    """Welfare-maximising PRBs: ``method="lp"`` solves the LP with HiGHS, ``"closed_form"``
    gives every BS's spare PRBs to the UE valuing them most (the LP's vertex optimum)."""
    if method == "closed_form":
        x = np.zeros(inst.cluster.shape)
        v = inst.value.ravel()
        order = np.lexsort((-v, inst.cluster.ravel()))
        bs = inst.cluster.ravel()[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = bs[1:] != bs[:-1]
        win = order[first & (v[order] > 0)]
        x.ravel()[win] = inst.spare[inst.cluster.ravel()[win]]
        return BaselineResult(x, _nan_bs(inst), _nan_bs(inst))
    if method != "lp":
        raise ValueError(f"method: unknown {method!r} (allowed: lp, closed_form)")
    if inst.n_ues == 0:
        return BaselineResult(np.zeros(inst.cluster.shape), _nan_bs(inst), _nan_bs(inst))
    res = linprog(
        -inst.value.ravel(),
        A_ub=_capacity_matrix(inst),
        b_ub=inst.spare,
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"welfare LP failed: {res.message}")
    prices = -np.asarray(res.ineqlin.marginals)
    return BaselineResult(res.x.reshape(inst.cluster.shape), prices, _nan_bs(inst))


def _fisher_support(inst: MarketInstance):
    """Slots that can carry goods in a Fisher market, and the UEs that take part."""
    usable = (inst.value > 0) & (inst.spare[inst.cluster] > 0)
    buyers = (inst.budget > 0) & usable.any(axis=1)
    return usable & buyers[:, None], buyers


#: gap and feasibility tolerance asked of Clarabel (its defaults, 1e-8 abs and 1e-8 rel gap but
#: 1e-8 feasibility with early "almost solved" exits, gave prices good to ~1e-4 only)
EG_TOL = 1e-10


def eisenberg_gale(
    inst: MarketInstance, solver: str | None = None, tol: float = EG_TOL
) -> BaselineResult:
    """The Fisher-market equilibrium from the Eisenberg-Gale convex program (cvxpy).

    UEs without budget or without a usable link get nothing. Prices are the duals of the
    capacity constraints (per PRB); revenue is ``price·C`` per BS. ``tol`` sets Clarabel's
    gap and feasibility tolerances (absolute and relative); other solvers use their own
    defaults.
    """
    import cvxpy as cp

    usable, buyers = _fisher_support(inst)
    x = np.zeros(inst.cluster.shape)
    prices = np.zeros(inst.n_bs)
    idx = np.flatnonzero(usable.ravel())
    if idx.size == 0:
        return BaselineResult(x, prices, prices.copy())
    n, k = inst.cluster.shape
    ue = idx // k
    buyer_ids = np.flatnonzero(buyers)
    row = np.searchsorted(buyer_ids, ue)
    util = sp.csr_matrix(
        (inst.value.ravel()[idx], (row, np.arange(idx.size))), shape=(buyer_ids.size, idx.size)
    )
    bs = inst.cluster.ravel()[idx]
    cap_rows = np.unique(bs)
    cap = sp.csr_matrix(
        (np.ones(idx.size), (np.searchsorted(cap_rows, bs), np.arange(idx.size))),
        shape=(cap_rows.size, idx.size),
    )
    z = cp.Variable(idx.size, nonneg=True)
    capacity = cap @ z <= inst.spare[cap_rows]
    objective = cp.Maximize(inst.budget[buyer_ids] @ cp.log(util @ z))
    prob = cp.Problem(objective, [capacity])
    solver = solver or cp.CLARABEL
    opts = (
        {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol, "tol_ktratio": tol}
        if solver == cp.CLARABEL
        else {}
    )
    prob.solve(solver=solver, **opts)
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise RuntimeError(f"Eisenberg-Gale program failed: {prob.status}")
    x.ravel()[idx] = np.maximum(z.value, 0.0)
    prices[cap_rows] = np.maximum(np.asarray(capacity.dual_value, dtype=float), 0.0)
    return BaselineResult(x, prices, prices * inst.spare)


def proportional_response(
    inst: MarketInstance, tol: float = 1e-9, max_iter: int = 100_000, init_bids=None
) -> BaselineResult:
    """Proportional-response dynamics of the linear Fisher market, vectorised over UEs:
    ``p_j = Σ_i b_ij``, ``x_ij = C_j·b_ij/p_j``, ``u_i = Σ_j v_ij·x_ij`` and
    ``b_ij ← B_i·v_ij·x_ij/u_i``, from bids split evenly (or ``init_bids``, rescaled to the
    budgets, where positive); stops when no price moves by more than ``tol`` relative.
    Converges to the Eisenberg-Gale equilibrium (Wu & Zhang 2007). ``revenue`` holds the bids
    per BS and ``iterations`` the rounds used."""
    usable, _ = _fisher_support(inst)
    n_use = np.maximum(usable.sum(axis=1, keepdims=True), 1)
    b = np.where(usable, inst.budget[:, None] / n_use, 0.0)
    if init_bids is not None:
        # keep every usable slot positive (PR never revives a zero bid)
        floor = 1e-9 * inst.budget[:, None]
        w0 = np.where(
            usable, np.maximum(np.nan_to_num(np.asarray(init_bids, dtype=float)), floor), 0.0
        )
        tot = w0.sum(axis=1, keepdims=True)
        b = np.where(tot > 0, inst.budget[:, None] * w0 / np.where(tot > 0, tot, 1.0), b)
    cap = inst.spare[inst.cluster]
    prices = inst.per_bs(b)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - it is reported
        p = prices[inst.cluster]
        x = np.where(usable, cap * b / np.where(p > 0, p, 1.0), 0.0)
        u = np.sum(inst.value * x, axis=1, keepdims=True)
        b = np.where(usable, inst.budget[:, None] * inst.value * x / np.where(u > 0, u, 1.0), 0.0)
        new = inst.per_bs(b)
        moved = np.max(np.abs(new - prices) / np.maximum(new, 1e-300), initial=0.0)
        prices = new
        if moved < tol:
            break
    p = prices[inst.cluster]
    x = np.where(usable, cap * b / np.where(p > 0, p, 1.0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_prb = np.where(inst.spare > 0, prices / inst.spare, np.nan)
    return BaselineResult(x, per_prb, prices, it, b)


def equal_share(inst: MarketInstance) -> BaselineResult:
    """Each BS divides its spare PRBs equally among UEs with a positive value for them."""
    usable = inst.value > 0
    count = inst.per_bs(usable.astype(float))
    c = count[inst.cluster]
    x = np.where(usable, inst.spare[inst.cluster] / np.where(c > 0, c, 1.0), 0.0)
    return BaselineResult(x, _nan_bs(inst), np.zeros(inst.n_bs))


def second_price(inst: MarketInstance) -> BaselineResult:
    """Per-BS sealed-bid second-price auction of the whole spare block (see module doc).
    Ties go to the lower UE index; a lone bidder pays the reserve; a block whose highest bid
    is below the reserve (or zero) stays unsold."""
    w = inst.weights
    tot = w.sum(axis=1, keepdims=True)
    bids = np.where(tot > 0, inst.budget[:, None] * w / np.where(tot > 0, tot, 1.0), 0.0)
    if inst.money_value > 0:
        bids = np.minimum(bids, w / inst.money_value)
    flat_bs, flat_b = inst.cluster.ravel(), bids.ravel()
    order = np.lexsort((np.arange(flat_b.size), -flat_b, flat_bs))
    bs = flat_bs[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = bs[1:] != bs[:-1]
    second = np.zeros(order.size, dtype=bool)
    second[1:] = first[:-1] & ~first[1:]
    top = order[first]
    top_bs = flat_bs[top]
    pay = inst.reserve.copy()
    runner = order[second]
    pay[flat_bs[runner]] = np.maximum(pay[flat_bs[runner]], flat_b[runner])
    wins = (flat_b[top] > 0) & (flat_b[top] >= inst.reserve[top_bs]) & (inst.spare[top_bs] > 0)
    x = np.zeros(flat_b.size)
    x[top[wins]] = inst.spare[top_bs[wins]]
    revenue = np.zeros(inst.n_bs)
    revenue[top_bs[wins]] = pay[top_bs[wins]]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_prb = np.where(inst.spare > 0, revenue / inst.spare, np.nan)
    return BaselineResult(x.reshape(inst.cluster.shape), per_prb, revenue)


def no_comp(inst: MarketInstance) -> BaselineResult:
    """No CoMP bandwidth at all."""
    return BaselineResult(np.zeros(inst.cluster.shape), _nan_bs(inst), np.zeros(inst.n_bs))


def envy_ratio(value_dense, share_dense) -> float:
    """``min_{i,k} U_i(x_i)/U_i(x_k)`` for dense ``(N, M)`` values and shares (every UE can
    use every BS); an allocation is c-envy-free when this is >= c (Zhang 2005, §5)."""
    v = np.asarray(value_dense, dtype=float)
    x = np.asarray(share_dense, dtype=float)
    u = v @ x.T  # u[i, k] = U_i(bundle of k)
    own = np.diag(u)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(u > 0, own / u, np.inf)
    return float(r.min())
