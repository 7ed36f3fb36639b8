"""Per-cluster pricing of an online MOHAF auction (``netsim/AuctionPricing-v0``).

## Description
Requests drawn with the marginals of the Google cluster trace (clusterdata-2011-2 sample)
arrive as a Poisson process at the sample's submit rate, queue, and are allocated every
``round_interval_s`` seconds by MOHAF's lazy greedy against the residual capacity of
``n_resources`` resources grouped into ``n_clusters`` k-means clusters; winners hold their
resource for an exponential time and release it (auction.online). Before every round the
agent sets one price multiplier per cluster: prices are ``unit cost × multiplier``, which
enter the cost term of the utility, budget feasibility and the payments.

## Action Space
``Box(-1, 1, (n_clusters,))``: multiplier ``m_c = max_multiplier ** a_c`` (0 gives the
unit-cost price).

## Observation Space
``Box(0, hi, (3·n_clusters,), float32)``: per cluster the utilisation (0-1), the queued
requests divided by the mean arrivals per round per cluster (clipped at ``queue_clip``) and
the current multiplier (``1/max_multiplier`` .. ``max_multiplier``).

## Rewards
Per round, with ``A = arrival_rate · round_interval_s``: ``efficiency`` = ΣU of the round's
winners / A; ``revenue`` = Σ payments / (A · mean posted price of a request at unit cost);
``mix`` = ``mix_weight · efficiency + (1 − mix_weight) · revenue``.

## Starting State
Empty resources and queue at t = 0, multipliers 1; the first decision is at
``round_interval_s``.

## Episode End
Truncated at ``horizon`` simulated seconds; never terminated.

## Arguments
``n_requests`` (per episode, arrivals spread over ``horizon``), ``n_resources``,
``n_clusters``, ``round_interval_s``, ``patience_s``, ``mean_duration_s``, ``spare_fraction``,
``max_multiplier``, ``reward`` (efficiency | revenue | mix), ``mix_weight``, ``eta``
(step of the MOHAF-rule baseline), ``horizon`` (s).

## Baselines
``fixed_price`` (all multipliers 1), ``mohaf_rule`` (``m ← clip(m + η(u − 0.8))``, MOHAF's
price update per cluster), ``random``.

## Version History
v0: initial version.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import gymnasium as gym
import numpy as np
from pydantic import Field

from auction.mohaf import MohafParams
from auction.online import OnlineAuction, OnlineParams, RoundState, mohaf_rule
from auction.traces import synthetic_trace
from auction.workload import WorkloadSpec, make_instance
from netsim import Config, ConfigError, SimEnv, Simulation


class AuctionPricingConfig(Config):
    n_requests: int = Field(1500, ge=1, le=200_000, description="requests per episode")
    n_resources: int = Field(120, ge=1, le=50_000)
    n_clusters: int = Field(4, ge=1, le=64, description="k-means clusters = action dimension")
    round_interval_s: float = Field(5.0, gt=0, description="auction round period (s)")
    patience_s: float = Field(30.0, ge=0, description="max queueing time before a drop (s)")
    mean_duration_s: float = Field(40.0, gt=0, description="mean holding time (s)")
    spare_fraction: float = Field(0.2, gt=0, le=1, description="machine capacity on offer")
    max_multiplier: float = Field(4.0, ge=1, le=100)
    reward: Literal["efficiency", "revenue", "mix"] = "mix"
    mix_weight: float = Field(0.5, ge=0, le=1)
    eta: float = Field(0.5, ge=0, description="step of the mohaf_rule baseline")
    queue_clip: float = Field(10.0, gt=0)
    horizon: float = Field(300.0, gt=0, description="episode length (simulated s)")


class AuctionPricingEnv(SimEnv):
    config_cls = AuctionPricingConfig

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        c = self.config
        if c.n_clusters > c.n_resources:
            raise ConfigError(
                f"n_clusters: must be <= n_resources ({c.n_resources}), got {c.n_clusters}"
            )
        K = c.n_clusters
        self.action_space = gym.spaces.Box(-1.0, 1.0, (K,), dtype=np.float32)
        hi = np.concatenate([np.ones(K), np.full(K, c.queue_clip), np.full(K, c.max_multiplier)])
        self.observation_space = gym.spaces.Box(
            np.zeros(3 * K, np.float32), hi.astype(np.float32), dtype=np.float32
        )
        self.model: OnlineAuction | None = None
        self._state: RoundState | None = None

    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        rate = c.n_requests / c.horizon
        tr = synthetic_trace(c.n_requests, c.n_resources, sim.rng("auction.trace"))
        # one resource type, so the hierarchy has exactly n_clusters clusters (the action size)
        spec = WorkloadSpec(
            spare_fraction=c.spare_fraction, mean_duration_s=c.mean_duration_s, types="single"
        )
        inst = make_instance(tr, sim.rng("auction.attributes"), spec)
        # Poisson arrivals over the horizon at n_requests/horizon (trace times are rescaled)
        gaps = sim.rng("auction.arrivals").exponential(1.0 / rate, c.n_requests)
        inst = type(inst)(inst.resources, _with_arrivals(inst.requests, np.cumsum(gaps)))
        params = OnlineParams(
            round_interval_s=c.round_interval_s,
            patience_s=c.patience_s,
            max_multiplier=c.max_multiplier,
            eta=c.eta,
            mohaf=MohafParams(n_clusters=c.n_clusters, resources_per_cluster=None, neighbours=1),
        )
        self.model = OnlineAuction(sim, inst, params, decisions=self.decisions)
        self._arrivals_per_round = rate * c.round_interval_s
        Q = inst.requests
        self._price_scale = max(float(np.mean(Q.demand) * np.mean(inst.resources.unit_cost)), 1e-9)

    def _apply(self, action) -> None:
        a = np.clip(np.asarray(action, dtype=float).reshape(-1), -1.0, 1.0)
        self.decisions.respond(self.config.max_multiplier**a)

    def _observe(self) -> np.ndarray:
        c = self.config
        st = self.decisions.state if self.decisions.waiting else self.model.state()
        per = max(self._arrivals_per_round / c.n_clusters, 1e-9)
        obs = np.concatenate(
            [st.utilisation, np.clip(st.queue / per, 0.0, c.queue_clip), st.multiplier]
        )
        return np.clip(obs, self.observation_space.low, self.observation_space.high).astype(
            np.float32
        )

    def _reward(self) -> float:
        c, m = self.config, self.model
        eff = m.round_utility / self._arrivals_per_round
        rev = m.round_revenue / (self._arrivals_per_round * self._price_scale)
        if c.reward == "efficiency":
            return eff
        if c.reward == "revenue":
            return rev
        return c.mix_weight * eff + (1.0 - c.mix_weight) * rev

    def _info(self) -> dict:
        m = self.model
        return {
            "served": int(m.served.value),
            "dropped": int(m.dropped.value),
            "queue": len(m.queue),
            "round_utility": m.round_utility,
            "round_revenue": m.round_revenue,
            "utilisation": float(m.util_level.value),
        }

    def baseline_policies(self):
        c = self.config
        K = c.n_clusters
        lm = np.log(c.max_multiplier) if c.max_multiplier > 1 else 1.0

        def rule(obs):
            st = RoundState(
                obs[:K].astype(float), obs[K : 2 * K].astype(float), obs[2 * K :].astype(float)
            )
            m = mohaf_rule(st, c.eta, 0.8, c.max_multiplier)
            return (np.log(m) / lm).astype(np.float32)

        return {
            "fixed_price": lambda obs: np.zeros(K, dtype=np.float32),
            "mohaf_rule": rule,
            **super().baseline_policies(),
        }


def _with_arrivals(req, arrival_s):
    return replace(req, arrival_s=np.asarray(arrival_s, float))
