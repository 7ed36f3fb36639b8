"""Path selection for the steps of a collective on a leaf-spine fabric.

## Description
A collective (ring all-reduce by default) runs step-synchronously over a leaf-spine fabric
modelled as a max-min fair fluid network. Before each step the agent places the step's
cross-leaf flows: each flow is cut into ``split`` equal pieces and every piece goes to one
spine (or is sprayed over all spines). The step ends when its last byte arrives (plus
``alpha_us``); the next step then starts. The default fabric is asymmetric: the links of the
first ``degraded_spines`` spines run at ``degraded_capacity`` of their rate (a link that
trained down to fewer lanes, or a spine shared with other traffic), so neither even spraying
nor the symmetric minimal split of Addanki et al. (arXiv:2407.00550) is optimal. Optional
ECMP background traffic shares the links. Without background each step is solved in closed
loop (:func:`transport.stepfluid.drain_times_s`, the same max-min physics as the engine's
fluid transport, tested equal), which makes the default env fast.

## Action Space
``MultiDiscrete([spines + 1] * slots)`` with ``slots = max_step_flows · split``: entries
``i·split .. (i+1)·split − 1`` place the pieces of the step's ``i``-th cross-leaf flow (value
``s < spines``: spine ``s``; value ``spines``: spray that piece). Entries past the step's
cross-leaf flows are ignored.

## Observation Space
``Box(0, 1, (3·slots + 4·leaves·spines,), float32)``: per slot (source leaf / (leaves−1),
destination leaf / (leaves−1), 1 if the slot belongs to a cross-leaf flow of the step),
then the current load/capacity of every uplink (leaf-major) and downlink (spine-major) from
background traffic, then the capacity of every uplink and downlink over the nominal rate.

## Rewards
``−(duration of the step) / CCT_lower_bound``; the episode return is ``−CCT / CCT_LB`` where
``CCT_LB`` sums, over steps, the min-congestion LP of the step (the best fractional split of
its flows over the spines; the spraying bound on a symmetric fabric) plus its shortest route
delay and α. −1 would be optimal; it is reachable only with fractional splits.

## Starting State
A fresh fabric; ranks placed on hosts (``placement``); the first step waits for an action.

## Episode End
Terminated when the collective completes; truncated at ``horizon`` simulated seconds.

## Arguments
``leaves``, ``spines``, ``hosts_per_leaf``, ``oversubscription``, ``host_rate_gbps``,
``degraded_spines``, ``degraded_capacity``, ``collective`` (ring_allreduce, tree_allreduce,
rabenseifner_allreduce, ring_allgather, ring_reducescatter, alltoall), ``ranks`` (0 = every
host), ``message_mb``, ``placement`` (packed, random), ``split`` (0 = spines), ``alpha_us``,
``background_load``, ``background_mb``, ``horizon`` (s).

## Baselines
``random``; heuristics ``ecmp`` (5-tuple hash per flow), ``spray`` (every piece sprayed),
``minimal_split`` (König matchings to spines round-robin; assumes equal spines),
``adaptive`` (greedy least-loaded pieces, capacity-aware: what adaptive routing in a switch
sees); oracle ``lp_bound`` (the return −1 of the per-step min-congestion LP: a bound, not a
policy); learned ``ppo``. :func:`baselines` registers them for ``netsim bench``.

## Version History
v0: 4 leaves × 2 spines × 2 hosts with spine 0 at half rate (contested; closed-loop steps
for >= 1,000 steps/s), capacity observation, LP lower bound. The former default (4 × 4 × 4,
equal spines) is ``netsim/CollectiveRouting-Symmetric-v0``; the 1,024-GPU fabric
(64 leaves × 8 spines × 16 hosts, one spine or spraying per flow) is
``netsim/CollectiveRouting-1024-v0`` (about 2 s per step with random actions).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import gymnasium as gym
import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from netsim import Config, SimEnv, Simulation
from netsim.baselines import Baseline
from transport.collectives import COLLECTIVES, build_collective
from transport.network import leaf_spine_network
from transport.routing import RoutingModel, max_cross_flows

__all__ = [
    "CollectiveRoutingConfig",
    "CollectiveRoutingEnv",
    "CollectiveRouting1024Env",
    "CollectiveRoutingSymmetricEnv",
    "baselines",
]


class CollectiveRoutingConfig(Config):
    leaves: int = Field(4, ge=2, le=64)
    spines: int = Field(2, ge=1, le=64, description="spines (equal-cost paths between leaves)")
    hosts_per_leaf: int = Field(2, ge=1, le=64)
    oversubscription: float = Field(1.0, gt=0, le=64, description="host:uplink capacity ratio")
    host_rate_gbps: float = Field(100.0, gt=0, description="host link rate (Gb/s)")
    degraded_spines: int = Field(1, ge=0, description="spines whose links run degraded")
    degraded_capacity: float = Field(
        0.5, gt=0, le=1, description="capacity of a degraded spine's links / nominal rate"
    )
    collective: Literal[tuple(COLLECTIVES)] = "ring_allreduce"
    ranks: int = Field(0, ge=0, description="ranks; 0 = one per host")
    message_mb: float = Field(16.0, gt=0, description="nccl-tests size S (MB)")
    placement: Literal["packed", "random"] = "random"
    split: int = Field(0, ge=0, le=64, description="pieces per cross-leaf flow; 0 = spines")
    alpha_us: float = Field(1.0, ge=0, description="per-transfer latency (µs)")
    background_load: float = Field(0.0, ge=0, lt=1, description="offered load per host link")
    background_mb: float = Field(1.0, gt=0, description="mean background flow size (MB)")
    horizon: float = Field(10.0, gt=0, description="episode cap (simulated s)")

    @field_validator("degraded_spines")
    @classmethod
    def _spines(cls, v: int, info: ValidationInfo) -> int:
        if v > info.data.get("spines", 1):
            raise ValueError(f"degraded_spines ({v}) must be <= spines")
        return v

    @field_validator("ranks")
    @classmethod
    def _fit(cls, v: int, info: ValidationInfo) -> int:
        hosts = info.data.get("leaves", 1) * info.data.get("hosts_per_leaf", 1)
        if v > hosts:
            raise ValueError(f"ranks ({v}) must be <= hosts = leaves·hosts_per_leaf ({hosts})")
        if v == 1:
            raise ValueError("a collective needs 0 (= all hosts) or at least 2 ranks")
        return v


class CollectiveRoutingEnv(SimEnv):
    config_cls = CollectiveRoutingConfig

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        c = self.config
        net = leaf_spine_network(
            c.leaves, c.spines, c.hosts_per_leaf, c.host_rate_gbps * 1e9, c.oversubscription
        )
        cap = net.capacity_bps.copy()
        nominal = net.capacity_bps[np.r_[net.uplinks().ravel(), net.downlinks().ravel()]]
        bad = np.r_[net.uplinks()[:, : c.degraded_spines].ravel(),
                    net.downlinks()[: c.degraded_spines].ravel()]
        cap[bad] *= c.degraded_capacity
        self.net = replace(net, capacity_bps=cap)
        fab = np.r_[self.net.uplinks().ravel(), self.net.downlinks().ravel()]
        self._cap_obs = (cap[fab] / nominal).astype(np.float32)
        self.n_ranks = c.ranks or c.leaves * c.hosts_per_leaf
        self.split = c.split or c.spines
        probe = build_collective(c.collective, self.n_ranks, c.message_mb * 1e6)
        self.slots = max_cross_flows(probe) * self.split
        n_links = 2 * c.leaves * c.spines
        self.action_space = gym.spaces.MultiDiscrete([c.spines + 1] * self.slots)
        self.observation_space = gym.spaces.Box(
            0.0, 1.0, (3 * self.slots + 2 * n_links,), dtype=np.float32
        )
        self.model: RoutingModel | None = None

    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        self.model = RoutingModel(
            sim,
            self.net,
            c.collective,
            self.n_ranks,
            c.message_mb * 1e6,
            c.placement,
            self.split,
            c.alpha_us * 1e-6,
            c.background_load,
            c.background_mb * 1e6,
            self.decisions,
        )

    def _apply(self, action) -> None:
        self.decisions.respond(np.asarray(action, dtype=np.int64))

    def _observe(self) -> np.ndarray:
        obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        m = self.model
        b = m.batch() if m is not None else None
        if b is not None:
            cross = m.cross(b)
            scale = max(self.config.leaves - 1, 1)
            feats = np.zeros((self.slots // self.split, 3))
            feats[: cross.size, 0] = self.net.tor[b.src_hosts[cross]] / scale
            feats[: cross.size, 1] = self.net.tor[b.dst_hosts[cross]] / scale
            feats[: cross.size, 2] = 1.0
            obs[: 3 * self.slots] = np.repeat(feats, self.split, axis=0).ravel()
        n = self._cap_obs.size
        if m is not None:
            obs[3 * self.slots : 3 * self.slots + n] = np.clip(m.fabric_utilisation(), 0.0, 1.0)
        obs[3 * self.slots + n :] = self._cap_obs
        return obs

    def _reward_total(self) -> float:
        return -self.sim.now / self.model.lower_bound_s

    def _terminated(self) -> bool:
        return self.model.done

    def _info(self) -> dict:
        m = self.model
        b = m.batch()
        return {
            "step": int(m.n_batches),
            "cross_flows": int(m.cross(b).size) if b is not None else 0,
            "elapsed_s": float(self.sim.now),
            "cct_s": m.cct_s if m.done else -1.0,  # -1 until the collective completes
            "cct_lower_bound_s": m.lower_bound_s,
            "subflows": int(m.n_subflows),
        }

    def baseline_policies(self):
        return {
            name: (lambda _obs, name=name: self.model.baseline_action(name, self.slots))
            for name in HEURISTICS
        } | super().baseline_policies()


class _SymmetricConfig(CollectiveRoutingConfig):
    """The former default: 16 GPUs, 4 equal spines."""

    spines: int = Field(4, ge=1, le=64)
    hosts_per_leaf: int = Field(4, ge=1, le=64)
    degraded_spines: int = Field(0, ge=0)


class _LargeConfig(CollectiveRoutingConfig):
    """The 1,024-GPU fabric: 64 leaves × 8 spines × 16 hosts, equal spines, one spine (or
    spraying) per flow (``split`` 1: 8-piece random splits make every max-min level distinct
    and a step take minutes)."""

    leaves: int = Field(64, ge=2, le=64)
    spines: int = Field(8, ge=1, le=64)
    hosts_per_leaf: int = Field(16, ge=1, le=64)
    degraded_spines: int = Field(0, ge=0)
    split: int = Field(1, ge=0, le=64)


class CollectiveRoutingSymmetricEnv(CollectiveRoutingEnv):
    """``netsim/CollectiveRouting-Symmetric-v0``: 4 leaves × 4 equal spines × 4 hosts."""

    config_cls = _SymmetricConfig


class CollectiveRouting1024Env(CollectiveRoutingEnv):
    """``netsim/CollectiveRouting-1024-v0``: 1,024 GPUs (64 × 8 × 16), one piece per flow."""

    config_cls = _LargeConfig


HEURISTICS = ("ecmp", "spray", "minimal_split", "adaptive")


def _rule(name: str):
    def factory(env):
        return lambda _obs: env.model.baseline_action(name, env.slots)

    return factory


def _lp_bound(env, seed: int) -> float:
    """The episode return of the per-step min-congestion LP: −CCT_LB/CCT_LB = −1."""
    env.reset(seed=seed)
    return -1.0


def baselines() -> list[Baseline]:
    """The CollectiveRouting-v0 policies scored by ``netsim bench``."""
    text = {
        "ecmp": "one spine per flow from a 5-tuple hash (RFC 2992)",
        "spray": "every piece sprayed evenly over all spines",
        "minimal_split": "Konig minimal split of Addanki et al. (assumes equal spines)",
        "adaptive": "greedy least-loaded pieces, capacity-aware",
    }
    return [
        *(Baseline(n, "heuristic", policy=_rule(n), description=text[n]) for n in HEURISTICS),
        Baseline("lp_bound", "oracle", episode=_lp_bound,
                 description="per-step min-congestion LP (fractional split): return -1"),
        Baseline("ppo", "learned", algo="PPO", timesteps=100_000),
    ]
