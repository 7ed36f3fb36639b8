"""An upper bound, in hindsight, on what any pricing policy can earn in the online auction.

Knowing every arrival, budget and hold time of an episode, the best any sequence of price
multipliers (or any allocation at all) can collect in the online auction (online.py) is at most
the optimum of this linear programme (a relaxation, so an upper bound):

* one variable ``x_{i,r} ∈ [0, 1]`` per request i and auction round r at which it can be
  served (``a_i ≤ t_r ≤ a_i + patience``, ``t_r ≤ horizon``); ``Σ_r x_{i,r} ≤ 1``;
* capacity per resource type τ and round q: the requests started at rounds ``t_r ≤ t_q`` and
  still held (``t_q < t_r + hold_i``) use at most the type's total capacity (pooling the
  machines of a type relaxes the packing; the cluster and neighbour restrictions are relaxed);
* each served request earns at most its best reward over the resources that could serve it
  (type, QoS floors, capacity ≥ demand) and over every price the multipliers allow
  ``ρ = c_j·m``, ``m ∈ [1/m_max, m_max]``, ``ρ ≤ v_i``: with the reward
  ``w·U/A + (1 − w)·π/(A·scale)``, ``U = α(1 − ρ/v) + s_ij + δ/(1 + h)`` and
  ``π = min(B, ρ·d·(0.8 + 0.4·U))`` (utility.payment), the maximum over a price cell
  ``[ρ_lo, ρ_hi]`` is bounded by U at ρ_lo and π at ρ_hi (64 geometric cells);
* fairness: the m-th request of requester k that holds to the end (hold ``inf``) is accepted
  while k holds at least m − 1, so its term is at most δ/m (harmonic variables ``y_{k,m}``, as
  in the MILP of baselines.py); requests that leave early keep the bound δ.

HiGHS (``scipy.optimize.linprog``) solves an episode of the default env (about 700 requests,
60 rounds) in well under a second.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from .model import Instance, UtilityParams, Weights
from .utility import static_matrix, value_per_unit

__all__ = ["reward_caps", "online_bound"]


def _ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start_k, start_k + count_k)`` over k (vectorised)."""
    count = np.asarray(count, np.int64)
    offset = np.repeat(np.cumsum(count) - count, count)
    return np.arange(count.sum(), dtype=np.int64) - offset + np.repeat(start, count)


def reward_caps(
    inst: Instance,
    weights: Weights,
    params: UtilityParams,
    max_multiplier: float,
    eff_scale: float,
    rev_scale: float,
    cells: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Per request: the largest reward without the fairness term, ``eff_scale·(α(1 − ρ/v)
    + s) + rev_scale·π`` over its feasible resources and allowed prices (module doc), and
    whether any resource can serve it. ``eff_scale = w/A``, ``rev_scale = (1 − w)/(A·scale)``."""
    Q, R = inst.requests, inst.resources
    n, m = inst.shape
    a, _, _, d = weights.normalised()
    s, ok = static_matrix(inst, weights, params)
    v = value_per_unit(Q.demand, Q.budget)[:, None]
    grid = np.geomspace(1.0 / max_multiplier, max_multiplier, cells + 1)
    best = np.full((n, m), -np.inf)
    for lo, hi in zip(grid[:-1], grid[1:], strict=True):
        rho_lo = R.unit_cost[None, :] * lo
        rho_hi = np.minimum(R.unit_cost[None, :] * hi, v)
        feas = ok & (rho_lo <= v)
        with np.errstate(invalid="ignore", divide="ignore"):
            u = a * np.where(np.isfinite(v), 1.0 - rho_lo / v, 1.0) + s
            pay = np.minimum(Q.budget[:, None], rho_hi * Q.demand[:, None] * (0.8 + 0.4 * (u + d)))
        val = np.where(feas, eff_scale * u + rev_scale * pay, -np.inf)
        best = np.maximum(best, val)
    servable = np.isfinite(best).any(axis=1)
    return np.where(servable, best.max(axis=1), 0.0), servable


def online_bound(
    inst: Instance,
    weights: Weights,
    params: UtilityParams,
    max_multiplier: float,
    eff_scale: float,
    rev_scale: float,
    round_times: np.ndarray,
    patience_s: float,
) -> float:
    """The LP upper bound of the module docstring on an episode's total reward."""
    Q, R = inst.requests, inst.resources
    caps, servable = reward_caps(inst, weights, params, max_multiplier, eff_scale, rev_scale)
    delta = weights.normalised()[3]
    t = np.asarray(round_times, float)
    a = Q.arrival_s
    # candidate (request, round) pairs
    lo = np.searchsorted(t, a, side="left")
    hi = np.searchsorted(t, a + patience_s, side="right")
    cnt = np.where(servable, np.maximum(hi - lo, 0), 0)
    req = np.repeat(np.arange(len(Q)), cnt)
    start = _ranges(lo, cnt)
    P = req.size
    if P == 0:
        return 0.0
    hold = Q.duration_s[req]
    forever = ~np.isfinite(Q.duration_s)
    # fairness: y_{k,m} for the m-th hold-forever request of requester k
    per_k = np.bincount(Q.requester[forever & servable], minlength=Q.n_requesters)
    ks = np.repeat(np.arange(per_k.size), per_k)
    ms = np.concatenate([np.arange(1, c + 1) for c in per_k if c > 0] or [[]]).astype(float)
    Y = ks.size
    coef = caps[req] + np.where(forever[req], 0.0, eff_scale * delta)
    c = -np.concatenate([coef, eff_scale * delta / ms])
    rows, cols, vals, ub = [], [], [], []
    r0 = 0
    # each request at most once
    rows.append(req)
    cols.append(np.arange(P))
    vals.append(np.ones(P))
    ub.append(np.ones(len(Q)))
    r0 += len(Q)
    # capacity per (type, round): pair p covers rounds q with start_p <= q and t_q < t_s + hold
    types = np.unique(R.type)
    tcode = np.searchsorted(types, Q.type[req])
    last = np.searchsorted(t, t[start] + hold, side="left")  # first round no longer held
    span = np.maximum(last - start, 0)
    pp = np.repeat(np.arange(P), span)
    qq = _ranges(start, span)
    rows.append(r0 + tcode[pp] * t.size + qq)
    cols.append(pp)
    vals.append(Q.demand[req][pp])
    cap_t = np.array([R.capacity[R.type == ty].sum() for ty in types])
    ub.append(np.repeat(cap_t, t.size))
    r0 += types.size * t.size
    # fairness link: Σ_m y_{k,m} − Σ x over k's hold-forever pairs ≤ 0 (y only pays if x does)
    fx = np.flatnonzero(forever[req])
    rows.append(np.concatenate([r0 + Q.requester[req[fx]], r0 + ks]))
    cols.append(np.concatenate([fx, P + np.arange(Y)]))
    vals.append(np.concatenate([-np.ones(fx.size), np.ones(Y)]))
    ub.append(np.zeros(per_k.size))
    r0 += per_k.size
    A = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, P + Y)
    ).tocsr()
    res = linprog(c, A_ub=A, b_ub=np.concatenate(ub), bounds=(0, 1), method="highs")
    if res.status != 0:
        raise RuntimeError(f"online_bound: LP not solved ({res.message})")
    return float(-res.fun)
