"""Truthful comparators: the multi-unit Vickrey auction, a posted-price mechanism and VCG.

Bidders are single-minded: request i wants ``d_i`` units of one resource of its type that
meets its QoS floors and is worth ``B_i`` (money) to it, whichever such resource it gets
(value per unit ``v_i = B_i/d_i``). Its utility is ``B_i − payment`` if served, else 0. A
mechanism is truthful when reporting the true ``B_i`` maximises that utility whatever the
others report; :func:`misreport_gain` checks it numerically.

* :func:`uniform_price` (multi-unit Vickrey): bids ``b_i = v_i``, served in descending bid
  order, each on its best feasible resource with reserve ρ_j ≤ b_i (as ``gsp``); every winner
  of type t pays per unit the **highest losing bid** of its type (among losers that some
  resource of the type could have served), at least its resource's reserve, at most its bid.
  For unit demands on identical units (one type, equal reserves) this is exactly Vickrey's
  k-unit auction = VCG (Vickrey 1961; Krishna, *Auction Theory*, 2010, §12.2): 2 units and
  values 10/8/5 pay 5 and 5; 3 units pay the reserve. With unequal demands, packing into
  machines and unequal reserves it is a heuristic and truthfulness is only approximate (the
  study reports the measured gain from misreporting).
* :func:`posted_price`: first come, first served at the posted (reserve) prices: each request
  in arrival order takes the cheapest feasible resource if its budget covers the price and
  pays that price. Its own report never changes the price it faces or the order, so it is
  truthful (and ``greedy_priority``, the same in priority order, too).
* :func:`vcg` (small instances): the welfare-maximising allocation
  ``max Σ (b_i − ρ_j d_i) x_ij`` (reserve = provider cost) by MILP, and Clarke pivot payments
  ``p_i = b_i − (W* − W*_{−i})`` (Vickrey 1961; Clarke 1971; Groves 1973); truthful and
  individually rational for any exact optimiser.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from .baselines import _alloc, _bid_auction, _pay, _posted
from .greedy import Mode
from .model import Allocation, Instance, UtilityParams, Weights
from .utility import static_matrix

__all__ = ["uniform_price", "posted_price", "vcg", "welfare", "misreport_gain"]


def uniform_price(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    rng=None,
) -> Allocation:
    """Multi-unit Vickrey: uniform price per type at the highest losing bid (module doc)."""
    Q, R = inst.requests, inst.resources
    i, j, bid, _ = _bid_auction(inst, prices, weights, params, mode, 1.0)
    _, ok = static_matrix(inst, weights, params)
    lost = np.ones(len(Q), bool)
    lost[i] = False
    lost &= ok.any(axis=1)  # could have been served by some resource of its type
    nt = int(max(Q.type.max(initial=-1), R.type.max(initial=-1))) + 1
    clearing = np.zeros(nt)
    np.maximum.at(clearing, Q.type[lost], np.where(np.isfinite(bid[lost]), bid[lost], 0.0))
    per_unit = np.maximum(prices[j], np.minimum(clearing[Q.type[i]], bid[i]))
    return _alloc(i, j, _pay(per_unit, Q.demand[i], Q.budget[i]))


def posted_price(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    rng=None,
) -> Allocation:
    """First come, first served at posted prices; cheapest feasible resource."""
    order = np.lexsort((np.arange(len(inst.requests)), inst.requests.arrival_s))
    return _posted(inst, prices, weights, params, mode, order)


def _surplus(inst: Instance, prices, weights, params, budget) -> tuple[np.ndarray, np.ndarray]:
    _, ok = static_matrix(inst, weights, params)
    gain = (
        np.asarray(budget, float)[:, None]
        - np.asarray(prices, float)[None, :] * (inst.requests.demand[:, None])
    )
    return gain, ok & (gain >= 0)


def welfare(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    budget: np.ndarray | None = None,
    exclude: int | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Exact ``max Σ (b_i − ρ_j d_i) x_ij`` (MILP, HiGHS) over the pairs allowed by type, QoS
    and capacity; ``exclude`` leaves one bidder out. Returns (W*, requests, resources)."""
    Q, R = inst.requests, inst.resources
    b = Q.budget if budget is None else np.asarray(budget, float)
    gain, feas = _surplus(inst, prices, weights, params, b)
    if exclude is not None:
        feas[exclude] = False
    pi, pj = np.nonzero(feas)
    if pi.size == 0:
        return 0.0, pi, pj
    P = pi.size
    rows = [pi]
    vals = [np.ones(P)]
    hi = [np.ones(len(Q))]
    if mode == "shared":
        rows.append(len(Q) + pj)
        vals.append(Q.demand[pi])
        hi.append(R.capacity)
        if inst.memory:
            rows.append(len(Q) + len(R) + pj)
            vals.append(Q.mem_demand[pi])
            hi.append(R.mem_capacity)
    else:
        rows.append(len(Q) + pj)
        vals.append(np.ones(P))
        hi.append(np.ones(len(R)))
    A = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.tile(np.arange(P), len(rows)))),
        shape=(len(Q) + len(R) * (len(rows) - 1), P),
    ).tocsr()
    res = milp(
        -gain[pi, pj],
        constraints=LinearConstraint(A, -np.inf, np.concatenate(hi)),
        integrality=np.ones(P),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0},
    )
    if res.x is None or res.status != 0:
        raise RuntimeError(f"vcg: welfare MILP did not solve to optimality ({res.message})")
    x = res.x > 0.5
    return float(gain[pi[x], pj[x]].sum()), pi[x], pj[x]


def vcg(
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    rng=None,
    budget: np.ndarray | None = None,
) -> Allocation:
    """VCG with Clarke pivot payments (small instances: one MILP per winner)."""
    Q = inst.requests
    b = Q.budget if budget is None else np.asarray(budget, float)
    w_all, i, j = welfare(inst, prices, weights, params, mode, b)
    pay = np.array(
        [b[k] - (w_all - welfare(inst, prices, weights, params, mode, b, exclude=k)[0]) for k in i]
    )
    return _alloc(i.astype(np.int64), j.astype(np.int64), np.maximum(pay, 0.0))


def misreport_gain(
    mechanism,
    inst: Instance,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    mode: Mode = "shared",
    factors=(0.25, 0.5, 0.75, 0.9, 1.1, 1.5, 2.0, 4.0),
) -> np.ndarray:
    """Per bidder, the largest utility gain from reporting budget ``f·B_i`` instead of
    ``B_i`` (true value kept for the utility), over ``factors``; ≤ 0 everywhere means no
    profitable misreport was found. ``mechanism(inst, prices, weights, params, mode)``."""
    Q = inst.requests

    def utility(alloc: Allocation, k: int) -> float:
        won = np.flatnonzero(alloc.request == k)
        return float(Q.budget[k] - alloc.payment[won].sum()) if won.size else 0.0

    truth = mechanism(inst, prices, weights, params, mode)
    out = np.zeros(len(Q))
    for k in range(len(Q)):
        base = utility(truth, k)
        best = -np.inf
        for f in factors:
            b = Q.budget.copy()
            b[k] *= f
            lie = type(inst)(inst.resources, _with_budget(Q, b))
            best = max(best, utility(mechanism(lie, prices, weights, params, mode), k) - base)
        out[k] = best
    return out


def _with_budget(Q, budget):
    return replace(Q, budget=np.asarray(budget, float))
