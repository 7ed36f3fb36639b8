"""``OranSlicing-v0`` batched natively: N copies of the contested cell stepped in one call.

``gym.make_vec("netsim/OranSlicing-v0", num_envs=N, vectorization_mode="vector_entry_point")``
returns :class:`OranSlicingVectorEnv`. It keeps the state of the N cells in arrays
(:class:`ran.slicing.fluid.FluidCell`) and advances all of them with one compiled call per
step, instead of N Python envs and N SimPy engines.

It is bit-identical to ``SyncVectorEnv`` over N ``OranSlicing-v0`` envs reset with the same
seeds: each copy seeds its generator as :class:`netsim.SimEnv` does (the reset seed seeds
``np_random``, which seeds the action space and draws the episode's run seed; the cell draws
from that run seed's ``"ran.cell"`` stream), and autoresets in gymnasium's ``NEXT_STEP``
mode (the step after an episode ends resets that copy and ignores its action).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from netsim.config import validate
from netsim.rng import stream
from ran.slicing.fluid import SPLITS, FluidCell

from .oran import _STREAM, OBS_HIGH, OBS_LOW, OranSlicingConfig, observe

__all__ = ["OranSlicingVectorEnv"]


class OranSlicingVectorEnv(VectorEnv):
    """N copies of ``netsim/OranSlicing-v0``.

    Args:
        num_envs: number of copies.
        config: the env's arguments (:class:`envs.oran.OranSlicingConfig`), same for all.
        **kwargs: more arguments, merged over ``config``.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, config=None, render_mode=None, **kwargs: Any):
        if render_mode is not None:
            raise gym.error.Error("OranSlicingVectorEnv does not render")
        self.config = validate(OranSlicingConfig, config, **kwargs)
        self.num_envs = int(num_envs)
        self.single_observation_space = gym.spaces.Box(OBS_LOW, OBS_HIGH, dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(len(SPLITS))
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self.cell = FluidCell(self.num_envs, self.config.params())
        self._n_steps = self.config.n_steps
        self._np_randoms: list[np.random.Generator | None] = [None] * self.num_envs
        self._t = np.zeros(self.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._obs = np.zeros((self.num_envs, OBS_HIGH.size), dtype=np.float32)

    def _reset_copy(self, e: int, seed: int | None) -> None:
        """Reset copy ``e`` as :meth:`netsim.SimEnv.reset` resets one env."""
        if seed is not None:
            self._np_randoms[e], _ = seeding.np_random(seed)
            self._np_randoms[e].integers(2**31 - 1)  # SimEnv seeds its action space with it
        elif self._np_randoms[e] is None:
            self._np_randoms[e], _ = seeding.np_random()
        run_seed = int(self._np_randoms[e].integers(2**63 - 1))
        self.cell.reset_copy(e, stream(run_seed, _STREAM), self.config.rbgs)
        self._t[e] = 0
        self._autoreset[e] = False

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed: need {self.num_envs} seeds (got {len(seeds)})")
        if seed is not None:
            self.action_space.seed(seeds[0])
        for e, s in enumerate(seeds):
            self._reset_copy(e, s)
        return observe(self.cell, self._obs).copy(), {}

    def step(self, actions):
        a = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        if ((a < 0) | (a >= len(SPLITS))).any():
            raise ValueError(f"actions: must be in 0..{len(SPLITS) - 1}")
        fresh = np.flatnonzero(self._autoreset)
        live = np.flatnonzero(~self._autoreset)
        for e in fresh.tolist():
            self._reset_copy(e, None)
        self.cell.splits[live] = SPLITS[a[live]]
        rewards = self.cell.step(live).copy()
        self._t[live] += 1
        observe(self.cell, self._obs)
        rewards[fresh] = 0.0
        truncated = np.zeros(self.num_envs, dtype=bool)
        truncated[live] = self._t[live] >= self._n_steps
        self._autoreset = truncated.copy()
        terminated = np.zeros(self.num_envs, dtype=bool)
        return self._obs.copy(), rewards, terminated, truncated, {}

    def action_masks(self) -> np.ndarray:
        """Every split of every copy is valid."""
        return np.ones((self.num_envs, len(SPLITS)), dtype=bool)
