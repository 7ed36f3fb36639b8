"""Online scheduling of entanglement-delivery tasks on a shared quantum-network resource.

## Description
A small quantum network (default: the H of Skrzypczyk & Wehner 2021, NV links) serves a set
of demands ``(src, dst, F_min, rate)``. Each demand has a repeater protocol (found by the
ESSS-like search of :mod:`quantum.protocol_search`) that is run as a periodic task: every
``period`` slots a job is released and must finish before the next release. Jobs compete
for a shared resource: the whole network (``resource: network``, as in periodic task
scheduling) or the individual qubits (``resource: qubit``). Whenever at least one released
job could start now, the agent picks which task's job starts. Link generation is heralded:
a job's pair may be lost (a window without success or a failed distillation) and a
delivered pair may fall below F_min if it was created early in its window. Jobs that can no
longer meet their deadline are dropped. The model is :class:`quantum.qos.OnlineDispatcher`.

## Action Space
``Discrete(max_tasks)``: the index of the task whose pending job starts now. Choosing a
task that has no job able to start (also an empty task slot) waits until the next event
(a release or a resource freeing up). ``action_masks()`` marks the tasks that can start.

## Observation Space
``Box(0, 1, (max_tasks * 6,), float32)``, six features per task slot: present, job pending,
job can start now, time to deadline / longest period, makespan / period, period / longest
period. Empty slots are all zero.

## Rewards
The number of pairs delivered with fidelity >= F_min since the previous step, minus
``miss_penalty`` per job dropped for missing its deadline.

## Starting State
A fresh random workload at every reset: ``demands`` demands between random end nodes at
``f_min``, each with a period drawn from ``periods`` among those its protocol sustains;
demands without a protocol are left out (at least one task is guaranteed). All tasks release
their first job at t = 0.

## Episode End
Truncated when the simulated clock reaches ``horizon`` seconds; never terminated.

## Arguments
``topology`` (line, H, star, symm), ``f_min``, ``demands``, ``max_tasks``, ``periods``
(slots), ``repeater_comm``, ``repeater_storage``, ``coherence_s``, ``slot_s``,
``resource`` (network | qubit), ``link_model`` (heralded | deterministic),
``plan_creation`` (start | end), ``miss_penalty``, ``horizon`` (s).

## Baselines
``edf``: earliest deadline first among the jobs that can start (the reference);
``rate_monotonic``: shortest period first; ``random``.

## Version History
v0: initial version.
"""

from __future__ import annotations

from typing import Literal

import gymnasium as gym
import numpy as np
from pydantic import Field

from netsim import Config, SimEnv, Simulation, validate
from netsim.rng import stream
from quantum.demands import path_length_km
from quantum.qos import OnlineDispatcher, edf_choice
from quantum.scenario import QoSConfig, build_network, exec_params, make_workload

FEATURES = 6


class QuantumSchedulingConfig(Config):
    topology: Literal["line", "H", "star", "symm"] = "H"
    f_min: float = Field(0.6, gt=0.25, le=1.0)
    demands: int = Field(6, ge=1, le=64, description="demands drawn per episode")
    max_tasks: int = Field(8, ge=1, le=64, description="task slots in the action space")
    periods: list[int] = Field(default_factory=lambda: [16, 32, 64], min_length=1)
    repeater_comm: int = Field(2, ge=1, le=8)
    repeater_storage: int = Field(3, ge=0, le=16)
    coherence_s: float = Field(1.5, gt=0)
    slot_s: float = Field(0.01, gt=0, le=1.0)
    resource: Literal["network", "qubit"] = "network"
    link_model: Literal["heralded", "deterministic"] = "heralded"
    plan_creation: Literal["start", "end"] = "end"
    miss_penalty: float = Field(0.0, ge=0)
    horizon: float = Field(10.0, gt=0, description="episode length (simulated s)")


class QuantumSchedulingEnv(SimEnv):
    config_cls = QuantumSchedulingConfig

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        c = self.config
        self.qos_config = validate(
            QoSConfig,
            dict(
                topology=c.topology,
                f_min=c.f_min,
                demands=c.demands,
                periods=c.periods,
                repeater={"comm": c.repeater_comm, "storage": c.repeater_storage},
                coherence_s=c.coherence_s,
                slot_s=c.slot_s,
                link_model=c.link_model,
                plan_creation=c.plan_creation,
                hyperperiods=1,
            ),
        )
        self.network = build_network(self.qos_config)
        self._plans: dict = {}
        self.action_space = gym.spaces.Discrete(c.max_tasks)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (c.max_tasks * FEATURES,), np.float32)
        self.model: OnlineDispatcher | None = None
        self.tasks: list = []
        self._marks = (0, 0)

    def _workload(self, seed: int) -> list:
        for attempt in range(64):
            offers = make_workload(
                self.network, self.qos_config, stream(seed, f"env.workload.{attempt}"), self._plans
            )
            servable = [o for o in offers if o.task() is not None][: self.config.max_tasks]
            if servable:
                return servable
        raise ValueError(
            f"f_min={self.config.f_min} on {self.config.topology}: no demand has a protocol; "
            "lower f_min or add qubits"
        )

    def _setup(self, sim: Simulation, options) -> None:
        offers = self._workload(int(sim.rng("env.seed").integers(2**62)))
        self.tasks = [o.task() for o in offers]
        paths = [path_length_km(self.network, list(o.path)) for o in offers]
        self.model = OnlineDispatcher(
            sim,
            self.tasks,
            self.config.resource,
            exec_params(self.qos_config),
            paths,
            decisions=self.decisions,
        )
        self._marks = (0, 0)

    def _apply(self, action) -> None:
        self.decisions.respond(int(action))

    def _state(self) -> dict:
        if self.decisions is not None and self.decisions.waiting:
            return self.decisions.state
        return self.model.state(int(round(self.sim.now / self.config.slot_s)))

    def _observe(self) -> np.ndarray:
        st = self._state()
        obs = np.zeros((self.config.max_tasks, FEATURES), dtype=np.float32)
        pmax = float(max(t.period for t in self.tasks))
        fits = set(st["fits"])
        for i, task in enumerate(self.tasks):
            pending = st["pending"][i]
            ttd = (st["deadline"][i] - st["t"]) / pmax if pending else 0.0
            obs[i] = (
                1.0,
                float(pending),
                float(i in fits),
                min(max(ttd, 0.0), 1.0),
                min(task.makespan / task.period, 1.0),
                task.period / pmax,
            )
        return obs.reshape(-1)

    def _reward(self) -> float:
        good, missed = self.model.good, self.model.missed
        r = (good - self._marks[0]) - self.config.miss_penalty * (missed - self._marks[1])
        self._marks = (good, missed)
        return float(r)

    def _info(self) -> dict:
        m = self.model
        return {
            "tasks": len(self.tasks),
            "started": m.started,
            "missed": m.missed,
            "delivered": m.delivered,
            "good": m.good,
        }

    def action_masks(self) -> np.ndarray:
        mask = np.zeros(self.config.max_tasks, dtype=bool)
        mask[self._state()["fits"]] = True
        if not mask.any():
            mask[:] = True  # nothing can start: every action waits
        return mask

    def baseline_policies(self):
        n = self.config.max_tasks

        def from_obs(obs, key):
            f = np.asarray(obs, dtype=float).reshape(n, FEATURES)
            can = np.flatnonzero(f[:, 2] > 0.5)
            if can.size == 0:
                return 0
            return int(can[np.argmin(f[can, key])])

        return {
            "edf": lambda obs: from_obs(obs, 3),
            "rate_monotonic": lambda obs: from_obs(obs, 5),
            **super().baseline_policies(),
        }

    def edf_action(self) -> int:
        """EDF on the exact state (no rounding of deadlines in the observation)."""
        choice = edf_choice(self._state())
        return 0 if choice is None else int(choice)
