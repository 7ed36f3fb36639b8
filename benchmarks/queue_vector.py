"""Batched QueueAdmission against the scalar env (issue 12 §3): aggregate env steps per second
with random actions, default config, in one process.

    python benchmarks/queue_vector.py [--envs 256] [--steps 2000]

Baseline in the same process: the scalar ``QueueAdmissionEnv`` (the SimPy model) stepped in a
loop; printed last is the ratio. Figures are CPU-time based (``netsim.timing``), the steadier
measure on a shared machine.
"""

import argparse

import gymnasium as gym
import numpy as np

import envs  # noqa: F401 - registers the ids
from netsim.timing import best_of

ENV_ID = "netsim/QueueAdmission-v0"


def vector_rate(n: int, steps: int) -> float:
    vec = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point")
    acts = np.random.default_rng(0).integers(2, size=(steps, n))

    def run():
        vec.reset(seed=0)
        for a in acts:
            vec.step(a)

    _, _, cpu = best_of(run, 3)
    return n * steps / cpu


def scalar_rate(steps: int) -> float:
    env = gym.make(ENV_ID)
    acts = np.random.default_rng(0).integers(2, size=steps).tolist()

    def run():
        env.reset(seed=0)
        for a in acts:
            _, _, term, trunc, _ = env.step(a)
            if term or trunc:
                env.reset()

    _, _, cpu = best_of(run, 3)
    return steps / cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--envs", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    base = scalar_rate(args.steps * 5)
    vec = vector_rate(args.envs, args.steps)
    print(f"scalar QueueAdmissionEnv:            {base:12,.0f} steps/s (CPU time)")
    print(f"QueueAdmissionVectorEnv, N={args.envs:<5d}   {vec:12,.0f} steps/s aggregate")
    print(f"ratio batched / scalar: {vec / base:.1f}x")


if __name__ == "__main__":
    main()
