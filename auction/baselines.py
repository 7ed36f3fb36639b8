"""Baseline mechanisms and the optimum, all on MOHAF's constraints and scored on the same F.

Every baseline serves requests one at a time in its own order and gives each the resource its
rule picks among the feasible ones (type, residual capacity - CPU, and memory when the instance
has it - reserve price ρ_j·d_i ≤ B_i, QoS floors), at fixed reserve prices ρ (no price dynamics):

* ``greedy_priority``: highest priority first (ties: earlier submission), cheapest feasible
  resource; pays the posted price ρ_j·d_i.
* ``first_price``: sealed bids per unit demand ``b_i = v_i·(n − k)/(n − k + 1)``: the
  risk-neutral symmetric equilibrium of the pay-as-bid auction of k identical units among n
  unit-demand bidders with i.i.d. uniform values (v_i = B_i/d_i; Krishna, *Auction Theory*,
  2nd ed. 2010, §13.5: the bid is the expected (k+1)-th highest value given a win,
  v(n − k)/(n − k + 1); k = 1 gives the single-item v(n − 1)/n). Competition is counted per
  resource: n = the requests that prefer it (largest w_ij), k = how many of their mean demand
  its capacity holds (1 in ``exclusive`` mode). A bid never goes below the reserve of the
  preferred resource (with k ≥ n, no competition, it is that reserve) and never above v.
  Highest bid first; the winner takes the feasible resource it values most among those with
  ρ_j ≤ b_i and pays its bid ``b_i·d_i``.
* ``gsp`` (generalised second price): truthful bids ``b_i = v_i``, same order and choice; the
  winner pays the next highest bid per unit among the requests of its type, at least the
  reserve, at most its budget. **Not** Vickrey for several units and not truthful (2 units,
  values 10/8/5: it charges 8 and 5, where Vickrey charges 5 and 5; the top bidder gains by
  bidding 6).
* ``uniform_price``, ``posted_price`` (truthful.py): the multi-unit Vickrey (uniform price at
  the highest losing bid) and first-come-first-served at posted prices; ``vcg`` for small
  instances.
* ``random_allocation``: uniformly random order, uniformly random feasible resource; posted price.
* ``optimum``: exact maximum of F by MILP (HiGHS through ``scipy.optimize.milp``), the
  concave fairness term linearised exactly by its harmonic increments; for one-to-one
  matching with a modular objective, ``scipy.optimize.linear_sum_assignment``.
* ``upper_bound``: Σ_i max_j w_ij + δ Σ_k H(n_k), the capacity-free relaxation (for large
  instances where the MILP is out of reach).

Both maximise the scoring objective (cost term at ``prices``, utility.reference_utility) over
the pairs whose budgets allow ``floor_prices`` (default ``prices``). MOHAF's price rounds can
take prices down to ρ_min, below the reserve, and so win pairs no fixed-price mechanism can:
pass ``floor_prices = ρ_min`` for an optimum that bounds every mechanism.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp
from scipy.sparse import coo_matrix

from .greedy import Mode
from .model import Allocation, Instance, UtilityParams, Weights
from .objective import harmonic
from .utility import reference_matrix, utility_matrix, value_per_unit

__all__ = [
    "greedy_priority",
    "first_price",
    "gsp",
    "random_allocation",
    "optimum",
    "upper_bound",
    "BASELINES",
]


def _sequential(
    inst: Instance, order: np.ndarray, pick, feas: np.ndarray, mode: Mode, extra=None
) -> tuple[np.ndarray, np.ndarray]:
    """Serve requests in ``order``; ``pick(i, candidates)`` chooses among feasible resources."""
    d = inst.requests.demand
    resid = inst.resources.capacity.astype(float).copy()
    mem = inst.memory  # vector packing: memory must fit too
    if mem:
        md = inst.requests.mem_demand
        mresid = inst.resources.mem_capacity.astype(float).copy()
    out_i, out_j = [], []
    for i in order.tolist():
        ok = feas[i] & (resid >= d[i])
        if mem:
            ok &= mresid >= md[i]
        if extra is not None:
            ok &= extra(i)
        cand = np.flatnonzero(ok)
        if cand.size == 0:
            continue
        j = int(pick(i, cand))
        out_i.append(i)
        out_j.append(j)
        resid[j] = -1.0 if mode == "exclusive" else resid[j] - d[i]
        if mem:
            mresid[j] -= md[i]
    return np.asarray(out_i, np.int64), np.asarray(out_j, np.int64)


def _pay(per_unit, demand, budget) -> np.ndarray:
    """``min(price per unit × demand, budget)``; zero-demand requests (bid = inf) pay 0."""
    with np.errstate(invalid="ignore"):
        return np.where(demand > 0, np.minimum(per_unit * demand, budget), 0.0)


def _alloc(i, j, pay) -> Allocation:
    return Allocation(i, j, np.full(i.size, np.nan), np.asarray(pay, float))


def _posted(inst, prices, weights, params, mode, order, pick=None) -> Allocation:
    """Serve requests in ``order`` at the posted prices ``ρ_j·d_i``; each takes
    ``pick(candidates)`` among its feasible resources (default: the cheapest)."""
    _, feas = utility_matrix(inst, prices, weights, params)
    if pick is None:
        i, j = _sequential(inst, order, lambda _i, c: c[np.argmin(prices[c])], feas, mode)
    else:
        i, j = _sequential(inst, order, lambda _i, c: pick(c), feas, mode)
    return _alloc(i, j, prices[j] * inst.requests.demand[i])


def greedy_priority(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    rng=None,
) -> Allocation:
    """Highest priority first, cheapest feasible resource, posted price."""
    Q = inst.requests
    return _posted(inst, prices, weights, params, mode, np.lexsort((Q.arrival_s, -Q.priority)))


def _bid_auction(inst, prices, weights, params, mode, shading: float, bid=None):
    """Serve requests in descending per-unit ``bid`` (default ``v·shading``); each takes its
    best feasible resource (largest w_ij) among those with ρ_j ≤ bid."""
    Q = inst.requests
    w, feas = utility_matrix(inst, prices, weights, params)
    if bid is None:
        bid = value_per_unit(Q.demand, Q.budget) * shading
    order = np.lexsort((np.arange(len(Q)), -bid))
    i, j = _sequential(
        inst,
        order,
        lambda i, c: c[np.argmax(w[i, c])],
        feas,
        mode,
        extra=lambda i: prices <= bid[i],
    )
    return i, j, bid, order


def units_per_resource(
    inst: Instance, best: np.ndarray, servable: np.ndarray, mode: Mode = "shared"
) -> tuple[np.ndarray, np.ndarray]:
    """Per resource j: bidders n_j (the servable requests whose preferred resource is j) and
    units k_j (how many of their mean demand its capacity holds, in the scarcer of CPU and
    memory when ``inst.memory``; 1 in ``exclusive`` mode)."""
    R = inst.resources
    m = len(R)
    b = best[servable]
    n = np.bincount(b, minlength=m).astype(float)
    if mode == "exclusive":
        return n, np.ones(m)
    mean_d = np.bincount(b, weights=inst.requests.demand[servable], minlength=m)
    mean_d = mean_d / np.maximum(n, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(mean_d > 0, np.floor(R.capacity / mean_d), np.inf)
        if inst.memory:  # the scarcer dimension sets the units
            mean_m = np.bincount(b, weights=inst.requests.mem_demand[servable], minlength=m)
            mean_m = mean_m / np.maximum(n, 1.0)
            k = np.minimum(k, np.where(mean_m > 0, np.floor(R.mem_capacity / mean_m), np.inf))
    return n, k


def first_price_shading(n, k) -> np.ndarray:
    """Equilibrium bid/value ratio ``(n − k)/(n − k + 1)`` of the k-unit pay-as-bid auction
    among n bidders (0 where k ≥ n: no competition)."""
    n, k = np.asarray(n, float), np.asarray(k, float)
    extra = np.maximum(n - k, 0.0)
    return np.where(k < n, extra / (extra + 1.0), 0.0)


def first_price(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    rng=None,
) -> Allocation:
    """Pay-as-bid sealed-bid auction with the k-unit equilibrium shading (n − k)/(n − k + 1)
    per type, never below the reserve of the resource the request values most (so that it
    can still win that one; without competition, k ≥ n, it bids exactly that reserve)."""
    Q = inst.requests
    v = value_per_unit(Q.demand, Q.budget)
    w, feas = utility_matrix(inst, prices, weights, params)
    best = np.argmax(np.where(feas, w, -np.inf), axis=1)
    reserve = np.where(feas.any(axis=1), np.asarray(prices, float)[best], np.inf)
    n, k = units_per_resource(inst, best, feas.any(axis=1), mode)
    with np.errstate(invalid="ignore"):  # zero demand: v = inf, bids inf (served first, pays 0)
        shaded = np.where(np.isfinite(v), v * first_price_shading(n, k)[best], np.inf)
    bid = np.minimum(v, np.maximum(shaded, reserve))
    i, j, bid, _ = _bid_auction(inst, prices, weights, params, mode, 1.0, bid=bid)
    return _alloc(i, j, _pay(bid[i], Q.demand[i], Q.budget[i]))


def gsp(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    rng=None,
) -> Allocation:
    """Generalised second price: truthful bids, each winner pays the next-highest bid per unit
    of its type (0 if none: then the reserve). Not truthful with several units (module doc)."""
    Q = inst.requests
    i, j, bid, order = _bid_auction(inst, prices, weights, params, mode, 1.0)
    nxt = np.zeros(len(Q))
    by_type = order[np.argsort(Q.type[order], kind="stable")]  # per type, bids descending
    same = Q.type[by_type[1:]] == Q.type[by_type[:-1]]
    nxt[by_type[:-1][same]] = bid[by_type[1:][same]]  # the bid ranked just below, same type
    nxt = np.where(np.isfinite(nxt), nxt, bid)
    per_unit = np.maximum(prices[j], nxt[i])
    return _alloc(i, j, _pay(per_unit, Q.demand[i], Q.budget[i]))


def random_allocation(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    rng: np.random.Generator | None = None,
) -> Allocation:
    """Random order, random feasible resource, posted price."""
    if rng is None:
        raise ValueError("random_allocation needs rng (a numpy Generator from a named stream)")
    order = rng.permutation(len(inst.requests))
    return _posted(inst, prices, weights, params, mode, order, lambda c: c[rng.integers(c.size)])


def _milp(
    w: np.ndarray,
    feas: np.ndarray,
    inst: Instance,
    delta: float,
    mode: Mode,
    max_allocations: int | None,
    held0,
    time_limit_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    Q, R = inst.requests, inst.resources
    pi, pj = np.nonzero(feas)
    P = pi.size
    if P == 0:
        return pi, pj
    owner = Q.requester[pi]
    k_all = Q.n_requesters
    h0 = np.zeros(k_all, np.int64) if held0 is None else np.asarray(held0, np.int64)
    # fairness: y_{k,m} in [0, 1], m = 1..cap_k (pairs of k), Σ_m y = Σ x over k's pairs,
    # objective δ/(h0_k + m) per y_{k,m}; decreasing coefficients make the LP fill them in order
    caps = np.bincount(owner, minlength=k_all)
    ks = np.repeat(np.arange(k_all), caps)
    ms = np.concatenate([np.arange(1, c + 1) for c in caps]) if caps.sum() else np.zeros(0, int)
    Y = ks.size
    c = -np.concatenate([w[pi, pj], delta / (h0[ks] + ms)])
    blocks = []  # (row index within block, column, value, lower bounds, upper bounds)
    zk = np.zeros(k_all)
    blocks.append(
        (
            np.concatenate([owner, ks]),
            np.arange(P + Y),
            np.concatenate([np.ones(P), -np.ones(Y)]),
            zk,
            zk,
        )
    )  # Σx_k − Σy_k = 0
    if mode != "unconstrained":  # each request at most once
        blocks.append((pi, np.arange(P), np.ones(P), np.full(len(Q), -np.inf), np.ones(len(Q))))
    if mode == "shared":  # Σ d_i x_ij ≤ C_j
        blocks.append((pj, np.arange(P), Q.demand[pi], np.full(len(R), -np.inf), R.capacity))
        if inst.memory:  # Σ m_i x_ij ≤ M_j
            blocks.append(
                (pj, np.arange(P), Q.mem_demand[pi], np.full(len(R), -np.inf), R.mem_capacity)
            )
    elif mode == "exclusive":  # each resource at most once
        blocks.append((pj, np.arange(P), np.ones(P), np.full(len(R), -np.inf), np.ones(len(R))))
    if max_allocations is not None:  # |S| ≤ k
        blocks.append((np.zeros(P, int), np.arange(P), np.ones(P), [-np.inf], [max_allocations]))
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    for ri, ci, v, low, high in blocks:
        rows.append(np.asarray(ri) + r)
        cols.append(ci)
        vals.append(v)
        lo.append(np.asarray(low, float))
        hi.append(np.asarray(high, float))
        r += len(low)
    A = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, P + Y)
    ).tocsr()
    cons = LinearConstraint(A, np.concatenate(lo), np.concatenate(hi))
    integrality = np.concatenate([np.ones(P), np.zeros(Y)])
    res = milp(
        c,
        constraints=cons,
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit_s, "mip_rel_gap": 0.0},
    )
    if res.x is None or res.status != 0:
        raise RuntimeError(f"optimum: MILP did not solve to optimality ({res.message})")
    x = res.x[:P] > 0.5
    return pi[x], pj[x]


def optimum(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    max_allocations: int | None = None,
    held0=None,
    time_limit_s: float = 60.0,
    floor_prices: np.ndarray | None = None,
) -> Allocation:
    """Exact maximiser of F at ``prices`` over the pairs feasible at ``floor_prices`` (default
    ``prices``; see the module docstring) on small instances."""
    Q = inst.requests
    w, feas = reference_matrix(inst, prices, weights, params, floor_prices)
    delta = weights.normalised()[3]
    one_each = np.bincount(Q.requester).max(initial=0) <= 1 and held0 is None
    if mode == "exclusive" and max_allocations is None and (delta == 0 or one_each):
        gain = np.where(feas, w + delta, 0.0)  # fairness adds δ to each served request
        ri, rj = linear_sum_assignment(gain, maximize=True)
        keep = feas[ri, rj]
        i, j = ri[keep], rj[keep]
    else:
        i, j = _milp(w, feas, inst, delta, mode, max_allocations, held0, time_limit_s)
    i, j = i.astype(np.int64), j.astype(np.int64)
    return _alloc(i, j, _pay(prices[j], Q.demand[i], Q.budget[i]))


def upper_bound(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    floor_prices: np.ndarray | None = None,
) -> float:
    """Capacity-free relaxation: every request gets its best resource feasible at
    ``floor_prices`` (default ``prices``), scored at ``prices``."""
    Q = inst.requests
    w, feas = reference_matrix(inst, prices, weights, params, floor_prices)
    best = np.where(feas.any(axis=1), w.max(axis=1, initial=-np.inf, where=feas), 0.0)
    servable = feas.any(axis=1)
    counts = np.bincount(Q.requester[servable], minlength=Q.n_requesters)
    return float(best[servable].sum() + weights.normalised()[3] * harmonic(counts).sum())


def _truthful():
    from .truthful import posted_price, uniform_price  # truthful.py builds on this module

    return {"uniform_price": uniform_price, "posted_price": posted_price}


#: name -> baseline function ``(inst, prices, weights, params, mode, rng) -> Allocation``
BASELINES = {
    "greedy_priority": greedy_priority,
    "first_price": first_price,
    "gsp": gsp,
    **_truthful(),
    "random": random_allocation,
}
