"""Per-cluster pricing of an online MOHAF auction on the Google trace (AuctionPricing-v0).

## Description
A window of ``horizon`` seconds of the real clusterdata-2011-2 sample (auction/data) is
replayed on the engine: every distinct task SUBMITted in the window arrives at its own
timestamp and, once it wins, holds its CPU request for its own run time in the trace (tasks
still running at the end of the excerpt, about 98 %, hold to the end of the episode). The
window's start, the ``n_resources`` machines (their spare capacity is on offer) and the
synthetic IoT attributes (budgets, locations, QoS; auction.workload) are drawn per episode.
Every ``round_interval_s`` MOHAF's lazy greedy allocates the queue against the residual
capacity (auction.online); requests wait at most ``patience_s``. At the default the offered
CPU is several times the capacity, so the machines fill within the episode and prices decide
who gets them. Before every round the agent sets one price multiplier per k-means cluster of
machines: prices are ``unit cost × multiplier``; they enter the utility's cost term, budget
feasibility and the payments ``π = min(ρ·d·(0.8 + 0.4·U), B)``.

## Action Space
``Box(-1, 1, (n_clusters,))``: multiplier ``m_c = max_multiplier ** a_c`` (0: unit cost).

## Observation Space
``Box(0, hi, (3·n_clusters + 1,), float32)``: per cluster the utilisation (0-1), the queued
CPU demand as a fraction of the cluster's capacity (clipped at ``queue_clip``) and the current
multiplier (``1/max_multiplier`` .. ``max_multiplier``); then the elapsed fraction of the
horizon (0-1).

## Rewards
Change of ``mix_weight · ΣU / A + (1 − mix_weight) · Σπ / (A · p̄)`` over the round's winners,
with ``A`` the mean arrivals per round and ``p̄`` the mean posted price of a request at unit
cost; ``reward=efficiency`` (mix_weight 1) or ``revenue`` (0) select one term.

## Starting State
Empty machines and queue at the window's start, multipliers 1; the first decision is at
``round_interval_s``.

## Episode End
Truncated at ``horizon`` simulated seconds; never terminated.

## Arguments
``horizon`` (s, window length, ≤ 300), ``n_resources``, ``n_clusters``, ``spare_fraction``,
``round_interval_s``, ``patience_s``, ``max_multiplier``, ``reward``, ``mix_weight``, ``eta``
and ``tatonnement_eta`` (steps of the rule baselines), ``queue_clip``.

## Baselines
``min_price`` (every multiplier 1/max_multiplier), ``fixed_price`` (1), ``mohaf_rule``
(``m ← m + η(u − 0.8)``, MOHAF's utilisation rule), ``tatonnement`` (``m ← m·exp(η·z)``, z the
excess demand, floor 1 = unit cost), ``clearing`` (per cluster the uniform price at which the
queued bids just fill the free capacity, floor 1; reads the queue, not the future),
``best_fixed`` (the best single multiplier in hindsight over the evaluation
seeds), ``oracle`` (an LP upper bound in hindsight on any policy's return, auction.hindsight),
``ppo`` (learned, 50k steps), ``random``. See :func:`baselines`. ``netsim bench`` (10 seeds):
random 2.23, MOHAF rule 1.61, fixed price 2.57, tâtonnement 3.18, clearing 3.75 (0.37
normalised), PPO 3.76 (it does **not** beat the clearing price: overlapping CIs), best fixed
×2.5 in hindsight 4.19, LP bound 6.35.

## Version History
v0 (issue 15): replays the trace's arrivals and run times (was: Poisson arrivals of synthetic
rows with exponential holds at utilisation 0.27-0.31); contested default (offered CPU well
above capacity); observation gains queued demand and elapsed time; more baselines.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Literal

import gymnasium as gym
import numpy as np
from pydantic import Field

from auction.hindsight import online_bound
from auction.mohaf import MohafParams
from auction.online import (
    OnlineAuction,
    OnlineParams,
    RoundState,
    clearing_multipliers,
    mohaf_rule,
    tatonnement_rule,
)
from auction.traces import load_sample
from auction.workload import WorkloadSpec, codes, instance_from_arrays
from netsim import Config, ConfigError, SimEnv, Simulation
from netsim.baselines import Baseline, env_policy

#: start and end of the shipped trace excerpt (s)
TRACE_START_S, TRACE_END_S = 600.0, 900.0


class AuctionPricingConfig(Config):
    horizon: float = Field(
        300.0, gt=0, le=TRACE_END_S - TRACE_START_S, description="episode = trace window (s)"
    )
    n_resources: int = Field(16, ge=1, le=12_000, description="machines drawn from the trace")
    n_clusters: int = Field(4, ge=1, le=64, description="k-means clusters = action dimension")
    spare_fraction: float = Field(0.5, gt=0, le=1, description="machine CPU on offer")
    round_interval_s: float = Field(5.0, gt=0, description="auction round period (s)")
    patience_s: float = Field(30.0, ge=0, description="max queueing time before a drop (s)")
    max_multiplier: float = Field(4.0, ge=1, le=100)
    reward: Literal["efficiency", "revenue", "mix"] = "mix"
    mix_weight: float = Field(0.5, ge=0, le=1)
    eta: float = Field(0.5, ge=0, description="step of the mohaf_rule baseline")
    tatonnement_eta: float = Field(0.1, ge=0, description="step of the tatonnement baseline")
    queue_clip: float = Field(10.0, gt=0)


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
        hi = np.concatenate(
            [np.ones(K), np.full(K, c.queue_clip), np.full(K, c.max_multiplier), [1.0]]
        )
        self.observation_space = gym.spaces.Box(
            np.zeros(3 * K + 1, np.float32), hi.astype(np.float32), dtype=np.float32
        )
        self.model: OnlineAuction | None = None

    @property
    def weight(self) -> float:
        c = self.config
        return {"efficiency": 1.0, "revenue": 0.0, "mix": c.mix_weight}[c.reward]

    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        tr = _trace_arrays()
        span = TRACE_END_S - TRACE_START_S
        # circular replay of the excerpt from a random offset: the trace's own gaps and bursts,
        # at a different phase each episode
        offset = sim.rng("auction.window").uniform(0.0, span)
        at = np.mod(tr["time_s"] - TRACE_START_S - offset, span)
        rows = np.flatnonzero(at < c.horizon)
        rows = rows[np.argsort(at[rows], kind="stable")]
        n_mach = tr["machine_cpus"].size
        mi = np.sort(sim.rng("auction.machines").choice(n_mach, c.n_resources, replace=False))
        # one resource type, so the hierarchy has exactly n_clusters clusters (the action size)
        spec = WorkloadSpec(spare_fraction=c.spare_fraction, types="single", durations="trace")
        inst = instance_from_arrays(
            at[rows], tr["cpu"][rows], tr["priority"][rows], tr["requester"][rows],
            tr["run_s"][rows], tr["machine_cpus"][mi], np.zeros(mi.size, np.int64),
            sim.rng("auction.attributes"), spec,
        )
        inst = type(inst)(inst.resources, replace(inst.requests, arrival_s=at[rows]))
        params = OnlineParams(
            round_interval_s=c.round_interval_s,
            patience_s=c.patience_s,
            max_multiplier=c.max_multiplier,
            eta=c.eta,
            mohaf=MohafParams(n_clusters=c.n_clusters, resources_per_cluster=None, neighbours=1),
        )
        self.model = OnlineAuction(sim, inst, params, decisions=self.decisions, horizon_s=c.horizon)
        rate = TRACE_REQUESTS_PER_S
        self._arrivals_per_round = rate * c.round_interval_s
        Q = inst.requests
        self._price_scale = max(
            float(np.mean(Q.demand) if len(Q) else 0.0) * float(np.mean(inst.resources.unit_cost)),
            1e-9,
        )

    def _apply(self, action) -> None:
        a = np.clip(np.asarray(action, dtype=float).reshape(-1), -1.0, 1.0)
        self.decisions.respond(self.config.max_multiplier**a)

    def _observe(self) -> np.ndarray:
        st = self.decisions.state if self.decisions.waiting else self.model.state()
        obs = np.concatenate([st.utilisation, st.demand, st.multiplier, [st.time_fraction]])
        return np.clip(obs, self.observation_space.low, self.observation_space.high).astype(
            np.float32
        )

    def reward_scales(self) -> tuple[float, float]:
        """``(w/A, (1 − w)/(A·p̄))``: the reward is ``eff·ΣU + rev·Σπ``."""
        w, A = self.weight, self._arrivals_per_round
        return w / A, (1.0 - w) / (A * self._price_scale)

    def _reward_total(self) -> float:
        m = self.model
        eff, rev = self.reward_scales()
        return eff * float(m.utility.value) + rev * float(m.revenue.value)

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

    # -- baselines ----------------------------------------------------------------------------
    def _to_action(self, m) -> np.ndarray:
        mx = self.config.max_multiplier
        lm = np.log(mx) if mx > 1 else 1.0
        return np.clip(np.log(m) / lm, -1.0, 1.0).astype(np.float32)

    def _state(self, obs) -> RoundState:
        K = self.config.n_clusters
        o = np.asarray(obs, float)
        return RoundState(o[:K], np.zeros(K), o[2 * K : 3 * K], o[K : 2 * K], float(o[-1]))

    def baseline_policies(self):
        c = self.config
        K = c.n_clusters
        return {
            "min_price": lambda obs: np.full(K, -1.0, np.float32),
            "fixed_price": lambda obs: np.zeros(K, np.float32),
            "mohaf_rule": lambda obs: self._to_action(
                mohaf_rule(self._state(obs), c.eta, 0.8, c.max_multiplier)
            ),
            "tatonnement": lambda obs: self._to_action(
                tatonnement_rule(self._state(obs), c.tatonnement_eta, c.max_multiplier, 1.0)
            ),
            "clearing": lambda obs: self._to_action(clearing_multipliers(self.model, 1.0)),
            **super().baseline_policies(),
        }

    def hindsight_bound(self) -> float:
        """The LP bound (auction.hindsight) on this episode's return; call after ``reset``."""
        c, m = self.config, self.model
        mp = m.params.mohaf
        eff, rev = self.reward_scales()
        rounds = np.arange(1, int(np.floor(c.horizon / c.round_interval_s)) + 1)
        return online_bound(
            m.inst, mp.weights, mp.utility, c.max_multiplier, eff, rev,
            rounds * c.round_interval_s, c.patience_s,
        )


@functools.cache
def _trace_arrays() -> dict[str, np.ndarray]:
    """The shipped excerpt's request and machine columns as arrays (parsed once)."""
    tr = load_sample()
    r = tr.requests
    return {
        "time_s": r["time_s"].to_numpy(float),
        "cpu": r["cpu"].to_numpy(float),
        "priority": r["priority"].to_numpy(np.int64),
        "requester": codes(r["user"].astype(str)),
        "run_s": r["run_s"].to_numpy(float),
        "machine_cpus": tr.machines["cpus"].to_numpy(float),
    }


#: mean SUBMIT rate of the distinct tasks in the excerpt (3,540 in 300 s), for the reward scale
TRACE_REQUESTS_PER_S = 3540 / (TRACE_END_S - TRACE_START_S)

#: multipliers tried by the best-fixed-price-in-hindsight baseline
FIXED_MULTIPLIERS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)


def _fixed() -> dict:
    """One candidate per multiplier, every cluster at it (clipped to the env's range)."""
    return {
        f"x{m:g}": (lambda env, m=m: lambda _obs: env._to_action(np.full(env.config.n_clusters, m)))
        for m in FIXED_MULTIPLIERS
    }


def _oracle(env, seed: int) -> float:
    env.reset(seed=seed)
    return env.unwrapped.hindsight_bound() if hasattr(env, "unwrapped") else env.hindsight_bound()


def baselines() -> list[Baseline]:
    """The AuctionPricing-v0 policies scored by ``netsim bench``."""
    return [
        Baseline("min_price", "heuristic", policy=env_policy("min_price"),
                 description="every multiplier at 1/max_multiplier"),
        Baseline("fixed_price", "heuristic", policy=env_policy("fixed_price"),
                 description="unit-cost prices (multiplier 1)"),
        Baseline("mohaf_rule", "heuristic", policy=env_policy("mohaf_rule"),
                 description="MOHAF's utilisation rule per cluster, m += eta(u - 0.8)"),
        Baseline("tatonnement", "heuristic", policy=env_policy("tatonnement"),
                 description="log-price tatonnement on excess demand, cost floor"),
        Baseline("clearing", "heuristic", policy=env_policy("clearing"),
                 description="uniform price clearing queued bids against free capacity"),
        Baseline("best_fixed", "hindsight", candidates=_fixed(),
                 description="best single multiplier over the evaluation seeds"),
        Baseline("oracle", "oracle", episode=_oracle,
                 description="LP upper bound in hindsight (auction.hindsight)"),
        Baseline("ppo", "learned", algo="PPO", timesteps=50_000),
    ]


__all__ = ["AuctionPricingConfig", "AuctionPricingEnv", "baselines"]
