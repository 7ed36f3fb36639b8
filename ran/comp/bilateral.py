"""The bilateral posted-price protocol: BSs post prices, UEs request their desired amounts,
prices move on excess demand (the decentralised mechanism of Mukherjee & Huberman's setting:
every exchange is between one BS and one UE, and no central solver runs).

Each round (two message latencies, ``2·N·K`` messages):

1. every BS ``j`` posts its price ``p_j`` (tokens per PRB) to the UEs of its cluster;
2. every UE, a price taker with utility ``a_i·min(Σ_j v_ij·x_ij, D_i)``, budget ``B_i`` and
   money value μ, requests its *desired amounts*: it goes through its BSs by value per token
   ``v_ij/p_j`` (best first) and asks each for ``min(need/v_ij, money/p_j)`` PRBs, while
   ``a_i·v_ij/p_j >= μ`` (a PRB is worth its price);
3. every BS moves its price on the excess demand ``z_j = (Σ_i x_ij - C_j)/C_j``:
   ``p_j ← max(p_min_j, p_j·exp(η_t·clip(z_j, -1, 1)))`` with ``η_t = η/√t`` (tâtonnement with
   a decreasing step, Walras 1874 / Arrow-Hurwicz 1958; multiplicative as in Cole & Fleischer,
   STOC 2008).

It stops when no BS is over-demanded by more than ``tol`` and every under-demanded BS is at its
floor price, or after ``max_rounds``. Each BS then serves the requests it holds, scaled by
``min(1, C_j/Σ_i x_ij)`` so capacities hold. The floor ``p_min`` is the BS's reserve price
(or ``p0`` when it has none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .market import MarketInstance

__all__ = ["PostedPriceResult", "desired_amounts", "posted_prices"]


@dataclass(frozen=True)
class PostedPriceResult:
    """PRBs ``(N, K)``, prices per PRB ``(M,)``, payments per UE, rounds, messages, whether
    the stop rule was met, and the elapsed time (rounds × 2 × latency)."""

    prbs: np.ndarray
    prices: np.ndarray
    payments: np.ndarray
    rounds: int
    messages: int
    converged: bool
    time_s: float


def desired_amounts(inst: MarketInstance, prices: np.ndarray) -> np.ndarray:
    """Each UE's requests ``(N, K)`` at posted ``prices`` (step 2 of the module docstring)."""
    n, k = inst.cluster.shape
    p = np.maximum(prices[inst.cluster], 1e-300)
    v = inst.value
    bang = np.where(v > 0, v / p, 0.0)
    order = np.argsort(-bang, axis=1, kind="stable")
    need = (inst.cap if inst.cap is not None else np.full(n, np.inf)).astype(float).copy()
    money = inst.budget.astype(float).copy()
    a = inst.urgency
    x = np.zeros((n, k))
    rows = np.arange(n)
    for pos in range(k):
        j = order[:, pos]
        vj, pj = v[rows, j], p[rows, j]
        worth = (vj > 0) & (a * vj >= inst.money_value * pj)
        amt = np.where(worth, np.minimum(need / np.where(vj > 0, vj, 1.0), money / pj), 0.0)
        amt = np.maximum(amt, 0.0)
        x[rows, j] = amt
        need = np.maximum(need - amt * vj, 0.0)
        money = np.maximum(money - amt * pj, 0.0)
    return x


def posted_prices(
    inst: MarketInstance,
    eta: float = 0.5,
    tol: float = 0.02,
    max_rounds: int = 60,
    latency_s: float = 5e-4,
    p0: float = 1e-3,
) -> PostedPriceResult:
    """Run the protocol on ``inst`` (see the module docstring)."""
    c = inst.spare.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(c > 0, inst.reserve / np.where(c > 0, c, 1.0), 0.0)
    floor = np.maximum(floor, p0)
    prices = floor.copy()
    req = np.zeros(inst.cluster.shape)
    rounds, converged = 0, False
    for rounds in range(1, int(max_rounds) + 1):  # noqa: B007 - reported
        req = desired_amounts(inst, prices)
        demand = inst.per_bs(req)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(c > 0, (demand - c) / np.where(c > 0, c, 1.0), 0.0)
        at_floor = prices <= floor * (1 + 1e-12)
        if np.all(z <= tol) and np.all((z >= -tol) | at_floor | (demand == 0)):
            converged = True
            break
        prices = np.maximum(floor, prices * np.exp(eta / np.sqrt(rounds) * np.clip(z, -1, 1)))
    demand = inst.per_bs(req)
    with np.errstate(divide="ignore", invalid="ignore"):
        ration = np.where(demand > c, c / np.where(demand > 0, demand, 1.0), 1.0)
    prbs = req * ration[inst.cluster]
    pay = np.sum(prbs * prices[inst.cluster], axis=1)
    return PostedPriceResult(
        prbs,
        prices,
        pay,
        rounds,
        2 * rounds * int(inst.cluster.size),
        converged,
        rounds * 2.0 * latency_s,
    )
