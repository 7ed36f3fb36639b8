"""``netsim train``: Stable-Baselines3 on vectorised netsim envs, evaluated against the env's
baseline policies with common random numbers."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from .errors import ConfigError
from .evaluate import baseline_factories, evaluate_policies
from .plotting import new_figure, save_figure
from .progress import progress_bar
from .registry import load_env_plugins, require_env_id
from .results import (
    atomic_output_dir,
    write_manifest,
)
from .stats import summarize

__all__ = ["ALGOS", "MAX_TRAIN_SEED", "train", "load_algo", "make_registered"]

#: SB3 seeds NumPy's legacy generator and PyTorch, which take seeds in 0 .. 2**32 - 1
MAX_TRAIN_SEED = 2**32 - 1


def make_registered(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make(env_id, **kwargs)`` after running the ``netsim.envs`` registrations.

    A picklable env factory for subprocess workers (``SubprocVecEnv`` starts fresh
    interpreters in which no netsim id is registered yet)."""
    load_env_plugins()
    return gym.make(env_id, **kwargs)

#: algorithm name -> (module, class)
ALGOS = {
    "ppo": ("stable_baselines3", "PPO"),
    "a2c": ("stable_baselines3", "A2C"),
    "dqn": ("stable_baselines3", "DQN"),
    "maskable_ppo": ("sb3_contrib", "MaskablePPO"),
}


def load_algo(name: str):
    if name not in ALGOS:
        raise ConfigError(f"--algo: unknown algorithm '{name}' (allowed: {', '.join(ALGOS)})")
    module, cls = ALGOS[name]
    return getattr(__import__(module, fromlist=[cls]), cls)


def _check_compatible(algo: str, env: gym.Env) -> None:
    if algo == "dqn" and not isinstance(env.action_space, gym.spaces.Discrete):
        raise ConfigError(
            "--algo dqn needs a Discrete action space; "
            f"this env has {type(env.action_space).__name__}"
        )
    if algo == "maskable_ppo" and not hasattr(env.unwrapped, "action_masks"):
        raise ConfigError("--algo maskable_ppo needs an env with action_masks()")


def learned_policy(model, maskable: bool):
    """Factory ``env -> (obs -> action)`` for a trained SB3 model (greedy actions)."""

    def factory(env: gym.Env):
        def act(obs):
            kw = {"action_masks": env.unwrapped.action_masks()} if maskable else {}
            action, _ = model.predict(obs, deterministic=True, **kw)
            return action.item() if isinstance(action, np.ndarray) and action.ndim == 0 else action

        return act

    return factory


def _learning_curve(monitor_dir: Path, eval_df: pd.DataFrame, path: Path, title: str) -> None:
    from stable_baselines3.common.monitor import load_results

    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    try:
        mon = load_results(str(monitor_dir)).sort_values("t")
    except Exception:  # noqa: BLE001 - no finished episode: plot baselines only
        mon = pd.DataFrame()
    if not mon.empty:
        steps = mon["l"].cumsum().to_numpy()
        ret = mon["r"].to_numpy()
        window = max(1, len(ret) // 20)
        smooth = pd.Series(ret).rolling(window, min_periods=1).mean().to_numpy()
        ax.plot(steps, ret, ".", ms=2, alpha=0.3, color="tab:blue")
        ax.plot(steps, smooth, color="tab:blue", label=f"training episodes (mean of {window})")
    colors = iter(["tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:gray"])
    for pol, grp in eval_df.groupby("policy", sort=False):
        ax.axhline(grp["return"].mean(), ls="--", color=next(colors), label=f"eval: {pol}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def train(
    env_id: str,
    algo: str = "ppo",
    timesteps: int = 10_000,
    n_envs: int = 1,
    seed: int = 0,
    out: str | Path = "results/train",
    env_config: dict[str, Any] | None = None,
    eval_episodes: int = 10,
    subproc: bool = False,
    progress: bool = True,
    algo_kwargs: dict[str, Any] | None = None,
    torch_threads: int = 1,
    force: bool = False,
) -> pd.DataFrame:
    """Train ``algo`` on ``env_id`` and write model, evaluation, curve and manifest to ``out``.

    ``torch_threads`` caps PyTorch's intra-op threads: small MLP policies train fastest on one
    thread, and more only contend with the env workers. Returns the evaluation table
    (policy, episode, seed, return, steps). ``out`` may hold an earlier training run; a run,
    sweep or bench folder is refused unless ``force``.
    """
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    env_id = require_env_id(env_id)
    algo_cls = load_algo(algo)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_TRAIN_SEED:
        raise ConfigError(f"--seed: must be an integer in 0..{MAX_TRAIN_SEED} (got {seed!r})")
    for name, value, low in (
        ("timesteps", timesteps, 1),
        ("n-envs", n_envs, 1),
        ("eval-episodes", eval_episodes, 1),
        ("torch-threads", torch_threads, 1),
    ):
        if value < low:
            raise ConfigError(f"--{name}: must be >= {low} (got {value})")
    env_config = dict(env_config or {})
    probe = gym.make(env_id, config=env_config)  # validates the env config up front
    _check_compatible(algo, probe)
    probe.close()

    def make_env() -> gym.Env:
        return gym.make(env_id, config=env_config)

    torch.set_num_threads(torch_threads)
    t0 = time.perf_counter()
    with atomic_output_dir(out, kind="train", force=force) as tmp:
        vec = make_vec_env(
            partial(make_registered, env_id), n_envs=n_envs, seed=seed,
            env_kwargs={"config": env_config}, monitor_dir=str(tmp / "monitor"),
            vec_env_cls=SubprocVecEnv if subproc else DummyVecEnv,
        )
        model = algo_cls(
            "MlpPolicy", vec, seed=seed, device="cpu", verbose=0, **(algo_kwargs or {})
        )
        with progress_bar(timesteps, f"train {algo} on {env_id}", progress) as bar:

            class _Progress(BaseCallback):
                def _on_step(self) -> bool:
                    bar.update(completed=min(self.num_timesteps, timesteps))
                    return True

            model.learn(total_timesteps=timesteps, callback=_Progress())
        vec.close()
        model.save(tmp / "model.zip")
        policies = {"learned": learned_policy(model, algo == "maskable_ppo")}
        policies.update(baseline_factories(make_env()))
        ev = evaluate_policies(make_env, policies, eval_episodes, seed)
        ev.to_csv(tmp / "evaluation.csv", index=False)
        summary = summarize(ev, ["policy"], value="return")
        summary.to_csv(tmp / "summary.csv", index=False)
        _learning_curve(tmp / "monitor", ev, tmp / "learning_curve.png", f"{algo} on {env_id}")
        write_manifest(
            {
                "kind": "train", "env_id": env_id, "algo": algo, "timesteps": timesteps,
                "n_envs": n_envs, "seed": seed, "env_config": env_config,
                "eval_episodes": eval_episodes, "wall_time_s": round(time.perf_counter() - t0, 3),
            },
            tmp,
        )
    return ev
