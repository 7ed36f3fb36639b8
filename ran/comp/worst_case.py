"""Worst-case efficiency of the fixed-budget proportional-share market: the Θ(1/√m) family.

Zhang (ICALP 2005, "The efficiency and fairness of a fixed budget resource allocation game")
proves that in the *balanced* game (equal budgets, linear utilities normalised to
``U_i(all resources) = 1``) the Nash-equilibrium welfare of ``m`` players can fall to
``Θ(1/√m)`` of the optimum, and that this bound is tight. The published lower-bound instance
was not available to us, so :func:`sqrt_m_instance` builds one and derives its equilibrium in
closed form (derivation below); it reaches the ``Θ(1/√m)`` order of Zhang's bound.

Construction (``m`` UEs, ``r`` BSs with ``1 <= r <= m``, budgets ``B``, ``C`` spare PRBs each):

* UE ``j < r`` is *single-minded*: it values only BS ``j`` (``U = x_jj/C``);
* each of the other ``m - r`` UEs is *spread*: it values every BS at ``1/r`` (``U = Σ_j
  x_ij/(r·C)``).

Equilibrium: a single-minded UE can only bid its budget ``B`` on its BS. Given equal totals at
all BSs, a spread UE's payoff ``Σ_j (1/r)·b_j/(b_j + y_j)`` is symmetric and strictly concave,
so its unique best response is ``B/r`` on every BS; the profile is therefore a Nash
equilibrium with total ``T = B·m/r`` at every BS. A single-minded UE keeps ``r/m`` of its BS,
the spread UEs share the rest, so the welfare is ``r·(r/m) + (1 - r/m) = 1 + r(r - 1)/m``.
The optimum gives each BS to its single-minded UE (value 1 > 1/r) for welfare ``r``, hence

    efficiency(m, r) = (1 + r(r - 1)/m) / r = 1/r + (r - 1)/m.

Minimising over ``r`` gives ``r* ≈ √m`` and ``efficiency ≈ 2/√m - 1/m`` (exactly
``(2 - 1/r)/r`` when ``m = r²``), i.e. ``Θ(1/√m)``. Its local log-log slope
``-(1 - m^-1/2)/(2 - m^-1/2)`` tends to ``-1/2`` from above (``-0.47`` at ``m = 64``). The 3/4
bound of the one-BS and two-UE cases does not hold here: at ``m = 4`` the family sits at
exactly 3/4 and every larger ``m`` is below it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pandas as pd

from netsim.rng import stream

from .baselines import welfare_optimum
from .market import MarketInstance, nash_gap, run_market, welfare

__all__ = [
    "DEFAULT_MS",
    "closed_form_efficiency",
    "worst_bs_count",
    "sqrt_m_instance",
    "sqrt_m_equilibrium_bids",
    "random_start",
    "efficiency_vs_m",
    "loglog_slope",
    "report_rows",
]

#: numbers of UEs of the reported table (2, 4, ..., 256)
DEFAULT_MS = tuple(2**k for k in range(1, 9))
#: reserve bid per BS: tiny, so the market is the pure trading post (it only keeps T_j > 0)
RESERVE = 1e-12


def _check_mr(m: int, r: int) -> None:
    if isinstance(m, bool) or int(m) != m or m < 1:
        raise ValueError(f"m: number of UEs must be an integer >= 1 (got {m!r})")
    if isinstance(r, bool) or int(r) != r or not 1 <= r <= m:
        raise ValueError(f"r: number of BSs must be an integer in [1, m = {m}] (got {r!r})")


def closed_form_efficiency(m: int, r: int) -> float:
    """Equilibrium welfare over optimum of the family: ``1/r + (r - 1)/m`` (module docstring;
    1 when ``r = 1``: one BS that every UE values fully)."""
    _check_mr(m, r)
    return 1.0 / r + (r - 1.0) / m


def worst_bs_count(m: int) -> int:
    """The ``r`` in ``[1, m]`` minimising :func:`closed_form_efficiency` (``≈ √m``; the
    function ``1/r + (r - 1)/m`` is convex in ``r``, so the best integer is next to ``√m``)."""
    _check_mr(m, 1)
    cands = {max(1, min(m, c)) for c in (int(np.floor(np.sqrt(m))), int(np.ceil(np.sqrt(m))))}
    return min(sorted(cands), key=lambda r: closed_form_efficiency(m, r))


def sqrt_m_instance(
    m: int, r: int | None = None, budget: float = 1.0, spare_prbs: float = 1.0
) -> MarketInstance:
    """The Θ(1/√m) family as a dense :class:`MarketInstance` (every UE's cluster is all ``r``
    BSs; values are per PRB, normalised so that ``U_i(all spare PRBs) = 1``).

    Args:
        m: number of UEs (>= 1); r: number of BSs (default :func:`worst_bs_count`);
        budget: every UE's budget in tokens (> 0; balanced game); spare_prbs: spare PRBs per
        BS (> 0). The efficiency does not depend on ``budget`` or ``spare_prbs``.
    """
    r = worst_bs_count(m) if r is None else r
    _check_mr(m, r)
    if not (np.isfinite(budget) and budget > 0):
        raise ValueError(f"budget: must be > 0 (got {budget!r})")
    if not (np.isfinite(spare_prbs) and spare_prbs > 0):
        raise ValueError(f"spare_prbs: must be > 0 (got {spare_prbs!r})")
    norm = np.full((m, r), 1.0 / r)
    norm[:r] = np.eye(r)
    return MarketInstance(
        cluster=np.tile(np.arange(r, dtype=np.int64), (m, 1)),
        value=norm / spare_prbs,
        spare=np.full(r, float(spare_prbs)),
        budget=np.full(m, float(budget)),
        reserve=np.full(r, RESERVE),
    )


def sqrt_m_equilibrium_bids(m: int, r: int | None = None, budget: float = 1.0) -> np.ndarray:
    """Closed-form Nash-equilibrium bids ``(m, r)``: ``B`` on its own BS for single-minded
    UE ``j < r``, ``B/r`` on every BS for the spread UEs (module docstring)."""
    r = worst_bs_count(m) if r is None else r
    _check_mr(m, r)
    bids = np.full((m, r), budget / r)
    bids[:r] = budget * np.eye(r)
    return bids


def random_start(inst: MarketInstance, seed: int = 0) -> np.ndarray:
    """Starting bids away from the equilibrium: each UE splits its budget over the BSs it
    values with weights drawn uniformly in [0.05, 1) from ``netsim.rng.stream(seed,
    "comp.worst_case.start")`` (the market's own even split *is* the equilibrium here)."""
    rng = stream(seed, "comp.worst_case.start")
    act = inst.weights > 0
    u = np.where(act, rng.uniform(0.05, 1.0, act.shape), 0.0)
    return inst.budget[:, None] * u / u.sum(axis=1, keepdims=True)


def efficiency_vs_m(
    ms: Iterable[int] = DEFAULT_MS,
    eps: float = 1e-6,
    max_rounds: int = 10_000,
    dynamics: str = "newton",
    seed: int = 0,
) -> pd.DataFrame:
    """Run the market (:func:`ran.comp.market.run_market` from :func:`random_start`) on
    :func:`sqrt_m_instance` for each ``m`` and compare with the exact optimum (each BS to the
    UE valuing it most, ``welfare_optimum(..., "closed_form")``).

    Returns one row per ``m``: ``m_ues``, ``n_bs`` (r), ``welfare``, ``optimum``,
    ``efficiency`` (measured), ``closed_form`` (``1/r + (r - 1)/m``), ``eff_sqrt_m``
    (``efficiency·√m``, tends to 2), ``nash_gap``, ``rounds``, ``converged``.
    """
    rows = []
    for m in ms:
        inst = sqrt_m_instance(int(m))
        res = run_market(
            inst, eps, max_rounds, dynamics, init_bids=random_start(inst, seed + int(m))
        )
        w = welfare(inst, res.allocation.prbs)
        opt = welfare(inst, welfare_optimum(inst, "closed_form").prbs)
        eff = w / opt
        rows.append(
            {
                "m_ues": int(m),
                "n_bs": inst.n_bs,
                "welfare": w,
                "optimum": opt,
                "efficiency": eff,
                "closed_form": closed_form_efficiency(int(m), inst.n_bs),
                "eff_sqrt_m": eff * np.sqrt(m),
                "nash_gap": nash_gap(inst, res.bids),
                "rounds": res.rounds,
                "converged": res.converged,
            }
        )
    return pd.DataFrame(rows)


def loglog_slope(m, efficiency, m_min: float = 16.0) -> float:
    """Least-squares slope of ``log(efficiency)`` against ``log(m)`` over ``m >= m_min``
    (-1/2 for Θ(1/√m); the family's finite-m correction makes it about -0.47 on 16..256)."""
    m = np.asarray(m, dtype=float)
    eff = np.asarray(efficiency, dtype=float)
    keep = m >= m_min
    if keep.sum() < 2:
        raise ValueError(f"m_min: needs at least two m >= {m_min:g} (got {int(keep.sum())})")
    if np.any(eff[keep] <= 0):
        raise ValueError("efficiency: must be > 0 for a log-log fit")
    return float(np.polyfit(np.log(m[keep]), np.log(eff[keep]), 1)[0])


@lru_cache(maxsize=4)
def _report(ms: tuple[int, ...]) -> pd.DataFrame:
    table = efficiency_vs_m(ms)
    rows = [("worst_case_loglog_slope", loglog_slope(table["m_ues"], table["efficiency"]))]
    for t in table.itertuples():
        rows += [
            (f"worst_case_efficiency_m{t.m_ues:03d}", t.efficiency),
            (f"worst_case_rounds_m{t.m_ues:03d}", float(t.rounds)),
        ]
    return pd.DataFrame(rows, columns=["metric", "value"]).assign(policy="worst_case")


def report_rows(ms: Iterable[int] = DEFAULT_MS) -> pd.DataFrame:
    """Tidy rows (``policy = "worst_case"``, ``metric``, ``value``) for a study: the measured
    efficiency and rounds per ``m`` (``worst_case_efficiency_m016``, ...) and the log-log
    slope over ``m >= 16``. Reported, not asserted against 3/4. Deterministic, so cached."""
    return _report(tuple(int(m) for m in ms)).copy()
