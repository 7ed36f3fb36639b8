"""Scoring every mechanism the same way.

* **Common objective.** Every allocation is scored by F (objective.py) at the same reference
  prices ρ⁰ (the resources' unit costs) with ``u_cost = clip(1 − ρ⁰_j d_i/B_i, 0, 1)``, so the
  score depends on the allocation only, not on the mechanism's own prices. A mechanism whose
  prices fall below ρ⁰ (MOHAF's rounds, down to ρ_min) can win pairs whose budget is below the
  reserve price (they score u_cost = 0); the optimum and the upper bound therefore check budgets
  at ρ_min (utility.reference_utility), so they bound every mechanism.
* **Allocation efficiency** = F/N: ΣU over winners divided by the number of requests (the
  paper's definition).
* **Satisfaction rate** = served requests / N.
* **Jain's index over requesters** of each requester's served fraction (served/submitted),
  ``(Σx)²/(n Σx²)`` (Jain, Chiu & Hawe 1984); 1 when every requester gets the same share.
* **Cost** Σ c_j d_i (providers' cost at unit cost), **revenue** Σ π_ij (payments),
  **energy** Σ d_i/η_j (demand served divided by efficiency; relative units).
* **below_reserve**: share of the served pairs whose budget is below the reserve price
  ρ⁰_j d_i (only a mechanism that prices below the reserve can serve them).
* **utilisation** = served CPU / offered CPU; with memory (``inst.memory``) also
  **mem_utilisation** = served memory / offered memory.
"""

from __future__ import annotations

import numpy as np

from netsim.stats import jain_index

from .model import Allocation, Instance, UtilityParams, Weights
from .objective import harmonic
from .utility import reference_utility, static_terms

__all__ = [
    "score",
    "evaluate",
    "jain_requesters",
    "violations",
    "fit_slope",
]


def score(
    inst: Instance,
    alloc: Allocation,
    weights: Weights,
    params: UtilityParams,
    ref_prices: np.ndarray,
) -> float:
    """The common objective F(S) at the reference prices (utility.reference_utility).

    It scores the pairs whatever prices the mechanism posted; whether they are feasible is
    :func:`violations`' job (at the mechanism's own prices)."""
    if len(alloc) == 0:
        return 0.0
    w, _ = reference_utility(inst, alloc.request, alloc.resource, ref_prices, weights, params)
    Q = inst.requests
    counts = np.bincount(Q.requester[alloc.request], minlength=Q.n_requesters)
    return float(w.sum() + weights.normalised()[3] * harmonic(counts).sum())


def jain_requesters(inst: Instance, alloc: Allocation) -> float:
    """Jain's index over requesters of the fraction of their requests that were served."""
    Q = inst.requests
    k = Q.n_requesters
    sub = np.bincount(Q.requester, minlength=k)
    got = np.bincount(Q.requester[np.unique(alloc.request)], minlength=k)
    present = sub > 0
    return jain_index(got[present] / sub[present])


def evaluate(
    inst: Instance,
    alloc: Allocation,
    weights: Weights,
    params: UtilityParams,
    ref_prices: np.ndarray,
    runtime_s: float = float("nan"),
) -> dict[str, float]:
    """All KPIs of one allocation (see the module docstring)."""
    Q, R = inst.requests, inst.resources
    n = len(Q)
    F = score(inst, alloc, weights, params, ref_prices)
    d = Q.demand[alloc.request]
    served = np.unique(alloc.request).size
    out = {
        "efficiency": F / n if n else float("nan"),
        "objective": F,
        "satisfaction": served / n if n else float("nan"),
        "jain": jain_requesters(inst, alloc) if n else float("nan"),
        "cost": float(np.sum(R.unit_cost[alloc.resource] * d)),
        "revenue": float(np.sum(alloc.payment)),
        "energy": float(np.sum(d / np.maximum(R.energy_efficiency[alloc.resource], 1e-9))),
        "utilisation": float(d.sum() / R.capacity.sum()) if R.capacity.sum() > 0 else float("nan"),
        "below_reserve": (
            float(np.mean(ref_prices[alloc.resource] * d > Q.budget[alloc.request]))
            if len(alloc)
            else 0.0
        ),
        "runtime_s": float(runtime_s),
    }
    if inst.memory:
        mc = R.mem_capacity.sum()
        out["mem_utilisation"] = (
            float(Q.mem_demand[alloc.request].sum() / mc) if mc > 0 else float("nan")
        )
    return out


def violations(
    inst: Instance,
    alloc: Allocation,
    prices: np.ndarray,
    mode: str = "shared",
    params: UtilityParams | None = None,
) -> list[str]:
    """Broken constraints of ``alloc`` (empty list = feasible): types, capacity (and memory
    when ``inst.memory``), single
    assignment, payment ≤ budget, posted price ≤ budget, QoS floors."""
    params = params or UtilityParams()
    Q, R = inst.requests, inst.resources
    i, j = alloc.request, alloc.resource
    out = []
    if np.any(Q.type[i] != R.type[j]):
        out.append("type mismatch")
    if mode != "unconstrained" and np.unique(i).size != i.size:
        out.append("a request holds several resources")
    used = np.bincount(j, weights=Q.demand[i], minlength=len(R))
    if mode == "shared" and np.any(used > R.capacity * (1 + 1e-12) + 1e-12):
        out.append("capacity exceeded")
    if mode == "shared" and inst.memory:
        mused = np.bincount(j, weights=Q.mem_demand[i], minlength=len(R))
        if np.any(mused > R.mem_capacity * (1 + 1e-12) + 1e-12):
            out.append("memory exceeded")
    if mode == "exclusive" and (
        np.bincount(j, minlength=len(R)).max(initial=0) > 1 or np.any(Q.demand[i] > R.capacity[j])
    ):
        out.append("resource shared or too small")
    if np.any(alloc.payment > Q.budget[i] * (1 + 1e-12)):
        out.append("payment above budget")
    if np.any(prices[j] * Q.demand[i] > Q.budget[i] * (1 + 1e-12)):
        out.append("posted price above budget")
    _, ok = static_terms(inst, i, j, Weights(), params)
    if np.any(R.reliability[j] < Q.min_reliability[i]) or not np.all(ok):
        out.append("QoS floor or static feasibility violated")
    return out


def fit_slope(n, t) -> tuple[float, float]:
    """Least-squares slope and intercept of log10 t against log10 n."""
    x, y = np.log10(np.asarray(n, float)), np.log10(np.asarray(t, float))
    slope, icpt = np.polyfit(x, y, 1)
    return float(slope), float(icpt)
