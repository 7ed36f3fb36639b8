"""MOHAF's dynamic price rule (Agrawal et al. 2025, §IV-C).

Each round, every resource's price per unit demand moves with its utilisation:

    ρ_j ← clip(ρ_j + η_t·(util_j/C_j − τ), ρ_min, ρ_max),   η_t = η_0/t  (t = 1, 2, ...)

so over-used resources (above the target utilisation τ, default 0.8) get dearer and idle ones
cheaper. The step size η_0/t is the Robbins-Monro schedule: Σ η_t = ∞, so prices can travel
anywhere in [ρ_min, ρ_max]; and since a move is at most η_t·max(τ, 1 − τ), rounds end
(``|Δρ| < ε``) after at most ⌈η_0·max(τ, 1 − τ)/ε⌉ rounds. Winners pay
``π_ij = min(ρ_j·d_i·(0.8 + 0.4·U_ij), B_i)`` (utility.payment).

Defaults η_0 = 2 and ε = 0.2 (prices are in units of the resources' unit costs, about 1): the
rule stops after ⌈0.8·η_0/ε⌉ + 1 = 9 rounds. Since the move bound η_0/t decides the stop, only
η_0/ε sets the number of rounds; a larger η_0 moves demand off crowded machines sooner. On the
trace instance η_0 = 2, ε = 0.2 (9 rounds) scored higher F than η_0 = 1, ε = 0.05 (17 rounds)
at about half the time; the stop is reached through the 1/t decay, not at an equilibrium.

**Pricing that clears** (``MohafParams.price_update="excess"``): the rule above reacts only
to utilisation, so a lone bidder on an idle machine drives its price to ρ_min whatever it
would pay. Tâtonnement (Walras; Arrow & Hurwicz 1958) moves prices on *excess demand*
instead, in log-prices: ``ρ_j ← clip(ρ_j·exp(η_t·z_j))`` with
``z_j = (wanted_j − C_j)/C_j``, ``wanted_j`` = demand served on j plus the demand of unserved
requests whose best candidate j is, so a price falls only where capacity stays unsold, and
``cost_floor`` keeps every price at or above the unit cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PriceRule", "utilisation", "update_prices", "excess_demand", "tatonnement_prices"]


@dataclass(frozen=True)
class PriceRule:
    """Parameters of the price update (prices in money per unit demand)."""

    eta0: float = 2.0
    tau: float = 0.8
    epsilon: float = 0.2
    max_rounds: int = 20
    rho_min: float = 0.1
    rho_max: float = 10.0

    def __post_init__(self):
        if not (
            self.eta0 >= 0 and 0 <= self.tau <= 1 and self.epsilon > 0 and self.max_rounds >= 1
        ):
            raise ValueError(
                "price rule: need eta0 >= 0, 0 <= tau <= 1, epsilon > 0, max_rounds >= 1"
            )
        if not (0 <= self.rho_min <= self.rho_max):
            raise ValueError(
                f"price rule: need 0 <= rho_min <= rho_max, got {self.rho_min}, {self.rho_max}"
            )

    def step(self, t: int) -> float:
        """η_t = η_0/t for round t ≥ 1."""
        return self.eta0 / t

    def rounds_bound(self) -> int:
        """Rounds after which a move is certainly below ε."""
        return max(1, math.ceil(self.eta0 * max(self.tau, 1 - self.tau) / self.epsilon))

    def clip(self, rho: np.ndarray) -> np.ndarray:
        return np.clip(rho, self.rho_min, self.rho_max)


def utilisation(used: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """``used_j/C_j`` (0 for a resource without capacity)."""
    used = np.asarray(used, float)
    cap = np.asarray(capacity, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cap > 0, used / cap, 0.0)


def excess_demand(wanted: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """``z_j = (wanted_j − C_j)/C_j`` (0 for a resource without capacity)."""
    cap = np.asarray(capacity, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cap > 0, (np.asarray(wanted, float) - cap) / cap, 0.0)


def tatonnement_prices(rho: np.ndarray, z: np.ndarray, t: int, rule: PriceRule) -> np.ndarray:
    """``clip(ρ·exp(η_t·z), ρ_min, ρ_max)``: tâtonnement on excess demand in log-prices."""
    return rule.clip(np.asarray(rho, float) * np.exp(rule.step(t) * np.asarray(z, float)))


def update_prices(rho: np.ndarray, util: np.ndarray, t: int, rule: PriceRule) -> np.ndarray:
    """One application of the rule: ``clip(ρ + η_t·(util − τ), ρ_min, ρ_max)``."""
    return rule.clip(np.asarray(rho, float) + rule.step(t) * (np.asarray(util, float) - rule.tau))
