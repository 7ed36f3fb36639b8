"""Reserve-price controller of one CoMP cluster in the small-cell spare-PRB market.

## Description
A Manhattan small-cell city (:mod:`ran.comp`) where UEs in trouble (turning corners, blocked,
handing over) buy spare PRBs of their K nearest BSs in a proportional-share market with
price-anticipating bids (quasi-linear payoffs, ``money_value`` μ > 0, so bids respond to
prices). The agent operates the K BSs nearest the city centre and sets each one's reserve
price (tokens per PRB) every allocation epoch. A reserve bid ``p_res·C_j`` keeps part of the
spare capacity unsold but makes UEs bid more: revenue has an interior optimum (for one bidder
of value ``w``: reserve ``w/(4μ)``), while welfare falls with the reserve.

## Action Space
``Box(-1, 1, (K,))``: reserve price of each controlled BS, ``(a + 1)/2 ·
max_reserve_price`` tokens per PRB.

## Observation Space
``Box(0, 1, (4·K + 1,))``: per controlled BS its spare PRBs / ``n_prbs``, bidders /
``n_ues``, total bids / (``budget``·``n_ues``) and last price / ``max_reserve_price`` (clipped
to 1); then the fraction of UEs in trouble.

## Rewards
Per step (one allocation epoch, ``market_interval_s``): with ``objective="revenue"`` the bids
collected by the controlled BSs (tokens); with ``objective="welfare"`` the value of the PRBs
they sold (Mbit/s).

## Starting State
UEs placed uniformly on the streets; shadowing and blockage drawn from their stationary laws.

## Episode End
Truncated at ``horizon`` simulated seconds; never terminated.

## Arguments
Every key of :class:`ran.comp.scenario.CompConfig` (smaller defaults: 3x3 blocks, 40 UEs,
20 s, ``money_value`` 1, ``budget`` 5) plus ``objective`` ("revenue" | "welfare") and
``max_reserve_price`` (tokens per PRB).

## Baselines
``no_reserve`` (always 0), ``fixed_reserve`` (a quarter of the maximum), ``track_price``
(reserve at half of the last observed price), ``random``. In the default city UEs substitute
towards neighbouring BSs, so high reserves lose revenue; ``no_reserve`` and ``track_price``
are the strong baselines.

## Version History
v0: initial version.
"""

from __future__ import annotations

from typing import Literal

import gymnasium as gym
import numpy as np
from pydantic import Field

from netsim import SimEnv, Simulation
from ran.comp.model import CompNetwork
from ran.comp.scenario import CompConfig

__all__ = ["CompMarketEnvConfig", "CompMarketEnv"]


class CompMarketEnvConfig(CompConfig):
    blocks_x: int = Field(3, ge=1, le=50)
    blocks_y: int = Field(3, ge=1, le=50)
    n_ues: int = Field(40, ge=1, le=100_000)
    horizon: float = Field(20.0, gt=0)
    money_value: float = Field(1.0, ge=0)
    budget: float = Field(5.0, ge=0)
    reserve_price: float = Field(0.0, ge=0)
    policies: list[str] = Field(default_factory=lambda: ["market"], min_length=1)
    objective: Literal["revenue", "welfare"] = "revenue"
    max_reserve_price: float = Field(2.0, gt=0, description="tokens per PRB at action 1")
    controlled_bs: int = Field(3, ge=1, le=16, description="BSs whose reserve price the agent sets")


class CompMarketEnv(SimEnv):
    config_cls = CompMarketEnvConfig

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        k = self.config.controlled_bs
        self.decision_interval = self.config.market_interval_s
        self.action_space = gym.spaces.Box(-1.0, 1.0, (k,), dtype=np.float32)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (4 * k + 1,), dtype=np.float32)
        self.net: CompNetwork | None = None
        self.controlled = np.zeros(k, dtype=np.int64)
        self._epochs_seen = 0
        self._stats: dict | None = None
        self._last_price = np.zeros(k)

    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        if "market" not in c.policies:
            raise ValueError("policies: the pricing env needs the 'market' policy")
        self.net = CompNetwork(sim, c)
        centre = np.array([self.net.grid.width_m, self.net.grid.height_m]) / 2
        d = np.linalg.norm(self.net.bs_xy - centre, axis=1)
        self.controlled = np.argsort(d, kind="stable")[: c.controlled_bs]
        self._epochs_seen = 0
        self._stats = None
        self._last_price = np.zeros(c.controlled_bs)

    def _apply(self, action) -> None:
        a = np.clip(np.asarray(action, dtype=float).reshape(-1), -1.0, 1.0)
        self.net.reserve_price[self.controlled] = 0.5 * (a + 1.0) * self.config.max_reserve_price
        self._epochs_seen = len(self.net.epochs)

    def _collect(self) -> dict:
        """Stats of the controlled BSs in the epochs since the last action."""
        net, c = self.net, self.config
        out = {
            "revenue": 0.0,
            "welfare": 0.0,
            "bidders": np.zeros(c.controlled_bs),
            "bids": np.zeros(c.controlled_bs),
        }
        ep = net.last_epoch
        inst = ep.get("instance")
        if len(net.epochs) > self._epochs_seen and inst is not None and "market" in ep["outcomes"]:
            m = ep["outcomes"]["market"]
            rev = inst.per_bs(m.bids)[self.controlled]
            val = inst.per_bs(inst.value * m.prbs)[self.controlled]
            out.update(
                revenue=float(rev.sum()),
                welfare=float(val.sum()),
                bids=rev,
                bidders=inst.per_bs((inst.weights > 0).astype(float))[self.controlled],
            )
            price = m.prices[self.controlled]
            self._last_price = np.where(np.isfinite(price), price, 0.0)
        return out

    def _reward(self) -> float:
        stats = self._collect()
        self._stats = stats
        return stats[self.config.objective]

    def _observe(self) -> np.ndarray:
        net, c = self.net, self.config
        stats = self._stats or {
            "bidders": np.zeros(c.controlled_bs),
            "bids": np.zeros(c.controlled_bs),
        }
        obs = np.concatenate(
            [
                net.spare[self.controlled] / c.n_prbs,
                stats["bidders"] / c.n_ues,
                stats["bids"] / max(c.budget * c.n_ues, 1e-12),
                self._last_price / c.max_reserve_price,
                [net.in_trouble().mean()],
            ]
        )
        return np.clip(obs, 0.0, 1.0).astype(np.float32)

    def _info(self) -> dict:
        net = self.net
        return {
            "reserve_price": net.reserve_price[self.controlled].copy(),
            "n_trouble": int(net.in_trouble().sum()),
            "epochs": len(net.epochs),
        }

    def baseline_policies(self):
        k = self.config.controlled_bs
        return {
            "no_reserve": lambda _obs: np.full(k, -1.0, dtype=np.float32),
            "fixed_reserve": lambda _obs: np.full(k, -0.5, dtype=np.float32),
            "track_price": lambda obs: (obs[3 * k : 4 * k] - 1.0).astype(np.float32),
            **super().baseline_policies(),
        }
