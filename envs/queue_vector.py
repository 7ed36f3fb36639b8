"""Native batched QueueAdmission: N copies stepped in one numpy call.

## Description
The same decision problem as :class:`envs.queue.QueueAdmissionEnv`, as a
``gymnasium.vector.VectorEnv`` over :class:`queueing.admission_batch.AdmissionBatch`.
``gym.make_vec("netsim/QueueAdmission-v0", num_envs=N, vectorization_mode="vector_entry_point")``
returns it. It is bit-identical to N independent ``QueueAdmissionEnv`` in a
``SyncVectorEnv`` with the same seeds: the same observations, rewards, terminations and
truncations (tested), because each copy seeds itself exactly as ``SimEnv.reset`` does and
draws the same numbers from the same named streams.

## Action Space
``MultiDiscrete([2] * N)``: per copy 0 = reject, 1 = accept.

## Observation Space
``MultiDiscrete([capacity] * N)``: per copy the number in system seen by the arrival.

## Rewards, Starting State, Episode End, Arguments
As in :mod:`envs.queue` (same config schema and presets; ``preset=`` works here too).
Autoreset follows Gymnasium 1.x's default, ``AutoresetMode.NEXT_STEP``: the step after a copy
ends resets it, ignores its action and returns its first observation with reward 0.

## Version History
v0: initial version.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.queue import QueueAdmissionEnv
from netsim.config import deep_merge, validate
from netsim.errors import ConfigError
from queueing.admission_batch import AdmissionBatch

__all__ = ["QueueAdmissionVectorEnv"]


class QueueAdmissionVectorEnv(VectorEnv):
    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, config: Any = None, preset: str | None = None,
                 render_mode: str | None = None, **kwargs: Any):
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ConfigError(f"num_envs: must be an integer >= 1 (got {num_envs!r})")
        if render_mode is not None:
            raise ConfigError("render_mode: the batched env does not render (use sync mode)")
        kwargs.pop("max_episode_steps", None)
        presets = QueueAdmissionEnv.presets
        if preset is not None:
            if preset not in presets:
                known = ", ".join(presets) or "none"
                raise ConfigError(f"preset: unknown preset {preset!r} (presets: {known})")
            config = deep_merge(presets[preset], dict(config or {}))
        self.config = c = validate(QueueAdmissionEnv.config_cls, config, **kwargs)
        self.num_envs = num_envs
        self.render_mode = None
        self.single_action_space = spaces.Discrete(2)
        self.single_observation_space = spaces.Discrete(c.capacity)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.batch = AdmissionBatch(
            num_envs, c.arrival_rate, c.service_rate, c.servers, c.capacity, c.revenue,
            c.holding_cost, c.horizon,
        )
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._mark = np.zeros(num_envs)
        self._empty = np.zeros(num_envs, dtype=bool)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._started = False

    # -- seeding as SimEnv.reset does it --------------------------------------------------------
    def _reset_envs(self, envs: np.ndarray, seeds: list[int | None]) -> None:
        sim_seeds = []
        for i, s in zip(envs.tolist(), seeds, strict=True):
            if s is not None or self._rngs[i] is None:
                self._rngs[i], _ = seeding.np_random(s)
                if s is not None:  # SimEnv seeds its action space from np_random first
                    self._rngs[i].integers(2**31 - 1)
            sim_seeds.append(int(self._rngs[i].integers(2**63 - 1)))
        self.batch.reset(envs, sim_seeds)
        self._mark[envs] = 0.0
        self._empty[envs] = self.batch.over[envs]
        self._autoreset[envs] = False

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None):
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed: a list needs num_envs={self.num_envs} seeds")
        envs = np.arange(self.num_envs)
        if options is not None and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=bool)
            envs = np.flatnonzero(mask)
            seeds = [seeds[i] for i in envs.tolist()]
        self._reset_envs(envs, seeds)
        self._started = True
        return self.batch.observe(np.arange(self.num_envs)), self._infos()

    def step(self, actions):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions).reshape(self.num_envs)
        n = self.num_envs
        rewards = np.zeros(n)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        auto = np.flatnonzero(self._autoreset)
        if auto.size:
            self._reset_envs(auto, [None] * auto.size)
        live = ~np.zeros(n, dtype=bool)
        live[auto] = False
        empty = live & self._empty
        self._empty[empty] = False
        normal = np.flatnonzero(live & ~empty)
        if normal.size:
            self.batch.decide(normal, actions[normal].astype(bool))
        stepped = np.flatnonzero(live)
        total = self.batch.reward_total(stepped)
        rewards[stepped] = total - self._mark[stepped]
        self._mark[stepped] = total
        truncated[stepped] = self.batch.over[stepped]
        self._autoreset = terminated | truncated
        return self.batch.observe(np.arange(n)), rewards, terminated, truncated, self._infos()

    def _infos(self) -> dict[str, Any]:
        b = self.batch
        return {
            "n_in_system": b.in_system.copy(),
            "accepted": b.accepted.astype(np.int64),
            "rejected": b.rejected.astype(np.int64),
            "blocked": b.blocked.astype(np.int64),
        }

    def close_extras(self, **kwargs: Any) -> None:
        self._started = False
