"""Path selection for the steps of a collective on a leaf-spine fabric.

## Description
A collective (ring all-reduce by default) runs step-synchronously over a leaf-spine fabric
modelled as a max-min fair fluid network (:mod:`transport.flowsim`). Before each step the
agent places the step's cross-leaf flows: each flow is cut into ``split`` equal pieces and
every piece goes to one spine (or is sprayed over all spines). The step ends when its last
byte arrives (plus ``alpha_us``); the next step then starts. Optional ECMP background traffic
shares the links. The single-path minimal split of Addanki et al. (arXiv:2407.00550) reaches
the spraying bound on maximum congestion, so it is a strong reference.

## Action Space
``MultiDiscrete([spines + 1] * slots)`` with ``slots = max_step_flows · split``: entries
``i·split .. (i+1)·split − 1`` place the pieces of the step's ``i``-th cross-leaf flow (value
``s < spines``: spine ``s``; value ``spines``: spray that piece). Entries past the step's
cross-leaf flows are ignored.

## Observation Space
``Box(0, 1, (3·slots + 2·leaves·spines,), float32)``: per slot (source leaf / (leaves−1),
destination leaf / (leaves−1), 1 if the slot belongs to a cross-leaf flow of the step),
then the current load/capacity of every uplink (leaf-major) and downlink (spine-major).

## Rewards
``−(duration of the step) / CCT_lower_bound``; the episode return is ``−CCT / CCT_LB`` where
``CCT_LB`` is the step-synchronous spraying lower bound (plus latencies), so −1 is optimal.

## Starting State
A fresh fabric; ranks placed on hosts (``placement``); the first step waits for an action.

## Episode End
Terminated when the collective completes; truncated at ``horizon`` simulated seconds.

## Arguments
``leaves``, ``spines``, ``hosts_per_leaf``, ``oversubscription``, ``host_rate_gbps``,
``collective`` (ring_allreduce, tree_allreduce, rabenseifner_allreduce, ring_allgather,
ring_reducescatter, alltoall), ``ranks`` (0 = every host), ``message_mb``, ``placement``
(packed, random), ``split`` (0 = spines), ``alpha_us``, ``background_load``,
``background_mb``, ``horizon`` (s).

## Baselines
``ecmp`` (5-tuple hash per flow), ``spray`` (every piece sprayed), ``minimal_split`` (König
matchings to spines round-robin), ``random``.

## Version History
v0: initial version.
"""

from __future__ import annotations

from typing import Literal

import gymnasium as gym
import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from netsim import Config, SimEnv, Simulation
from transport.collectives import COLLECTIVES, build_collective
from transport.network import leaf_spine_network
from transport.routing import RoutingModel, max_cross_flows


class CollectiveRoutingConfig(Config):
    leaves: int = Field(4, ge=2, le=64)
    spines: int = Field(4, ge=1, le=64, description="spines (equal-cost paths between leaves)")
    hosts_per_leaf: int = Field(4, ge=1, le=64)
    oversubscription: float = Field(1.0, gt=0, le=64, description="host:uplink capacity ratio")
    host_rate_gbps: float = Field(100.0, gt=0, description="host link rate (Gb/s)")
    collective: Literal[tuple(COLLECTIVES)] = "ring_allreduce"
    ranks: int = Field(0, ge=0, description="ranks; 0 = one per host")
    message_mb: float = Field(16.0, gt=0, description="nccl-tests size S (MB)")
    placement: Literal["packed", "random"] = "random"
    split: int = Field(0, ge=0, le=64, description="pieces per cross-leaf flow; 0 = spines")
    alpha_us: float = Field(1.0, ge=0, description="per-transfer latency (µs)")
    background_load: float = Field(0.0, ge=0, lt=1, description="offered load per host link")
    background_mb: float = Field(1.0, gt=0, description="mean background flow size (MB)")
    horizon: float = Field(10.0, gt=0, description="episode cap (simulated s)")

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
        self.net = leaf_spine_network(
            c.leaves, c.spines, c.hosts_per_leaf, c.host_rate_gbps * 1e9, c.oversubscription
        )
        self.n_ranks = c.ranks or c.leaves * c.hosts_per_leaf
        self.split = c.split or c.spines
        probe = build_collective(c.collective, self.n_ranks, c.message_mb * 1e6)
        self.slots = max_cross_flows(probe) * self.split
        n_links = 2 * c.leaves * c.spines
        self.action_space = gym.spaces.MultiDiscrete([c.spines + 1] * self.slots)
        self.observation_space = gym.spaces.Box(
            0.0, 1.0, (3 * self.slots + n_links,), dtype=np.float32
        )
        self.model: RoutingModel | None = None
        self._t_mark = 0.0

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
        self._t_mark = 0.0

    def _apply(self, action) -> None:
        self._t_mark = self.sim.now
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
        if m is not None:
            obs[3 * self.slots :] = np.clip(m.fabric_utilisation(), 0.0, 1.0)
        return obs

    def _reward(self) -> float:
        return -(self.sim.now - self._t_mark) / self.model.lower_bound_s

    def _terminated(self) -> bool:
        return self.model.done

    def _info(self) -> dict:
        m = self.model
        b = m.batch()
        return {
            "step": int(m.run.batches),
            "cross_flows": int(m.cross(b).size) if b is not None else 0,
            "elapsed_s": float(self.sim.now),
            "cct_s": m.run.cct_s if m.done else -1.0,  # -1 until the collective completes
            "cct_lower_bound_s": m.lower_bound_s,
            "subflows": int(m.run.subflows),
        }

    def baseline_policies(self):
        return {
            name: (lambda _obs, name=name: self.model.baseline_action(name, self.slots))
            for name in ("ecmp", "spray", "minimal_split")
        } | super().baseline_policies()
