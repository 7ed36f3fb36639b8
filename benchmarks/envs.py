"""Steps per second of every registered netsim env with random actions at its default config,
in one process, beside Gymnasium's CartPole-v1 measured in the same run (a pure-Python env
with almost no per-step work: the ratio shows the per-step cost of the model).

* Single envs: ``--steps`` random steps (episodes restart as needed), best of ``--repeat``,
  wall and CPU (process) time; target >= 1,000 steps/s.
* Batched envs (a ``vector_entry_point``): ``gym.make_vec(id, num_envs=N,
  vectorization_mode="vector_entry_point")`` at N = ``--num-envs``; aggregate steps/s
  (env-steps, i.e. N per call); target >= 50k at N = 256.
* PPO (``--ppo``): wall time of SB3's PPO (or MaskablePPO for masked envs) for 2,048 steps,
  extrapolated to each env's declared training budget (the ``learned`` baseline); ``--ppo
  full`` trains the whole budget instead.

Usage: ``python benchmarks/envs.py [ENV_ID ...] [--steps N] [--repeat R] [--num-envs N]
[--ppo {none,estimate,full}]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# this file is named like the ``envs`` package: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

from netsim.baselines import baselines_for  # noqa: E402
from netsim.registry import env_ids, load_env_plugins  # noqa: E402
from netsim.timing import best_of  # noqa: E402

TARGET_STEPS_S = 1_000
TARGET_VECTOR_STEPS_S = 50_000


def _random_steps(env: gym.Env, steps: int, seed: int = 1) -> int:
    env.reset(seed=seed)
    env.action_space.seed(seed)
    masks = getattr(env.unwrapped, "action_masks", None)
    rng = np.random.default_rng(seed)
    n = 0
    while n < steps:
        if callable(masks):
            action = int(rng.choice(np.flatnonzero(masks())))
        else:
            action = env.action_space.sample()
        _, _, term, trunc, _ = env.step(action)
        n += 1
        if term or trunc:
            env.reset()
    return n


def single(env_id: str, steps: int, repeat: int) -> tuple[float, float]:
    """(wall steps/s, CPU steps/s) of one env with random actions (best of ``repeat``)."""
    env = gym.make(env_id)
    _random_steps(env, min(50, steps))  # warm-up: imports, caches, first traffic chunk
    n, wall, cpu = best_of(lambda: _random_steps(env, steps), repeat)
    env.close()
    return n / wall, n / cpu


def has_vector(env_id: str) -> bool:
    return gym.spec(env_id).vector_entry_point is not None


def vector(env_id: str, num_envs: int, calls: int, repeat: int) -> tuple[float, float]:
    """Aggregate (wall, CPU) env-steps/s of the native batched version."""
    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    venv.action_space.seed(0)

    def run() -> int:
        for _ in range(calls):
            venv.step(venv.action_space.sample())
        return calls * num_envs

    run()
    n, wall, cpu = best_of(run, repeat)
    venv.close()
    return n / wall, n / cpu


def ppo_wall(env_id: str, mode: str) -> tuple[str, int, float]:
    """(algorithm, budget, wall seconds to the declared budget), measured or extrapolated."""
    import torch
    from stable_baselines3.common.env_util import make_vec_env

    from netsim.train import load_algo

    env = gym.make(env_id)
    learned = [b for b in baselines_for(env_id, env.unwrapped).values() if b.kind == "learned"]
    masked = hasattr(env.unwrapped, "action_masks")
    env.close()
    algo = learned[0].algo if learned else ("MaskablePPO" if masked else "PPO")
    budget = learned[0].timesteps if learned else 100_000
    name = algo.lower().replace("maskableppo", "maskable_ppo")
    torch.set_num_threads(1)
    vec = make_vec_env(env_id, n_envs=1, seed=0)
    model = load_algo(name)("MlpPolicy", vec, seed=0, device="cpu", verbose=0)
    steps = budget if mode == "full" else min(2_048, budget)
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps)
    wall = time.perf_counter() - t0
    vec.close()
    return algo, budget, wall * budget / steps


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("env_ids", nargs="*", help="env ids (default: all registered)")
    p.add_argument("--steps", type=int, default=3_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--num-envs", type=int, default=256)
    p.add_argument("--ppo", choices=["none", "estimate", "full"], default="none")
    args = p.parse_args()
    load_env_plugins()
    ids = args.env_ids or env_ids()

    cart_wall, cart_cpu = single("CartPole-v1", 20_000, args.repeat)
    print(f"reference CartPole-v1: {cart_wall:,.0f} steps/s wall, {cart_cpu:,.0f} CPU")
    head = f"{'env':42s} {'steps/s':>9s} {'CPU':>9s} {'target':>7s} {'/CartPole':>9s}"
    print(head)
    rows = []
    for env_id in ids:
        wall, cpu = single(env_id, args.steps, args.repeat)
        ok = "ok" if cpu >= TARGET_STEPS_S else "BELOW"
        print(f"{env_id:42s} {wall:9,.0f} {cpu:9,.0f} {ok:>7s} {cpu / cart_cpu:9.4f}")
        rows.append((env_id, wall, cpu))
    for env_id in [e for e in ids if has_vector(e)]:
        wall, cpu = vector(env_id, args.num_envs, 200, args.repeat)
        ok = "ok" if cpu >= TARGET_VECTOR_STEPS_S else "BELOW"
        single_cpu = dict((e, c) for e, _, c in rows)[env_id]
        print(
            f"{env_id} batched N={args.num_envs}: {wall:,.0f} steps/s wall, {cpu:,.0f} CPU "
            f"({ok}; {cpu / single_cpu:.1f}x the single env)"
        )
    if args.ppo != "none":
        print(f"{'env':42s} {'algo':>12s} {'budget':>9s} {'PPO wall':>10s}")
        for env_id in ids:
            algo, budget, wall = ppo_wall(env_id, args.ppo)
            tag = "" if args.ppo == "full" else " (extrapolated from 2,048 steps)"
            print(f"{env_id:42s} {algo:>12s} {budget:9,d} {wall:9.0f}s{tag}")


if __name__ == "__main__":
    main()
