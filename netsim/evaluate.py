"""Policy evaluation with common random numbers: every policy sees the same episode seeds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from .rng import derive_seed

__all__ = ["rollout", "evaluate_policies", "baseline_factories"]

Policy = Callable[[Any], Any]
PolicyFactory = Callable[[gym.Env], Policy]


def rollout(env: gym.Env, policy: Policy, seed: int, max_steps: int = 10**7) -> tuple[float, int]:
    """One episode from ``reset(seed=seed)``; returns (undiscounted return, steps)."""
    obs, _ = env.reset(seed=seed)
    total, steps = 0.0, 0
    while steps < max_steps:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += float(reward)
        steps += 1
        if terminated or truncated:
            break
    return total, steps


def baseline_factories(env: gym.Env) -> dict[str, PolicyFactory]:
    """Factories for the baselines an env declares (``SimEnv.baseline_policies``)."""
    names = list(env.unwrapped.baseline_policies())
    return {n: (lambda e, n=n: e.unwrapped.baseline_policies()[n]) for n in names}


def evaluate_policies(
    make_env: Callable[[], gym.Env],
    policies: Mapping[str, PolicyFactory],
    episodes: int,
    seed: int,
) -> pd.DataFrame:
    """Returns of each policy over ``episodes`` episodes; episode ``i`` of every policy is
    reset with the same seed. Columns: ``policy, episode, seed, return, steps``."""
    seeds = [derive_seed(seed, "eval", i) % (2**31) for i in range(episodes)]
    rows = []
    for name, factory in policies.items():
        env = make_env()
        try:
            policy = factory(env)
            for i, s in enumerate(seeds):
                ret, steps = rollout(env, policy, s)
                rows.append((name, i, s, ret, steps))
        finally:
            env.close()
    df = pd.DataFrame(rows, columns=["policy", "episode", "seed", "return", "steps"])
    df["return"] = df["return"].astype(np.float64)
    return df
