"""Env steps per second of the OranSlicing envs with random actions:

* ``netsim/OranSlicing-v0`` (the contested cell, 10 UEs, one step = 100 ms), one env;
* its native batched VectorEnv at N = ``--num-envs`` (aggregate steps/s), against N times the
  single env measured in the same run;
* ``netsim/OranSlicing-TRACTOR-v0`` with 10 UEs (one step = 250 ms of per-TTI scheduling),
  beside mobile-env's ``mobile-small-central-v0`` measured in the same run.

mobile-env is a peer tool, not a dependency: it is looked up in this interpreter, then in
the separate venv ``/work/venvs/mobileenv`` (override with ``MOBILE_ENV_PYTHON``) and run
there in a subprocess. Both are timed in wall-clock and CPU (process) time; the comparison
alternates the two ``--repeat`` times and keeps each one's best run, since load from other
processes only ever slows a run down. Usage:
``python benchmarks/oran_env.py [--steps N] [--repeat R] [--num-envs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

# benchmarks/envs.py is named like the ``envs`` package: keep this folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import envs  # noqa: F401, E402
from netsim.timing import timed  # noqa: E402

MOBILE_ENV_PYTHON = os.environ.get("MOBILE_ENV_PYTHON", "/work/venvs/mobileenv/bin/python")
_MOBILE_SNIPPET = """
import json, sys, time
import gymnasium as gym
import mobile_env  # noqa: F401 - registers the ids
steps = int(sys.argv[1])
env = gym.make("mobile-small-central-v0")
env.reset(seed=0)
env.action_space.seed(0)
for _ in range(20):  # warm-up
    env.step(env.action_space.sample())
n, t0, c0 = 0, time.perf_counter(), time.process_time()
while n < steps:
    _, _, term, trunc, _ = env.step(env.action_space.sample())
    n += 1
    if term or trunc:
        env.reset()
print(json.dumps({"steps": n, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                  "version": __import__("importlib.metadata").metadata.version("mobile-env")}))
"""


def measure_contested(steps: int) -> dict:
    """Random actions on one ``netsim/OranSlicing-v0`` at its default config."""
    env = gym.make("netsim/OranSlicing-v0")
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(20):
        env.step(env.action_space.sample())

    def run() -> int:
        n = 0
        env.reset(seed=1)
        while n < steps:
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            n += 1
            if term or trunc:
                env.reset()
        return n

    n, wall, cpu = timed(run)
    return {"steps": n, "wall_s": wall, "cpu_s": cpu}


def measure_vector(num_envs: int, calls: int) -> dict:
    """Random actions on the batched ``OranSlicing-v0`` (aggregate env-steps)."""
    venv = gym.make_vec("netsim/OranSlicing-v0", num_envs=num_envs,
                        vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    acts = np.random.default_rng(0).integers(0, venv.single_action_space.n, (calls, num_envs))
    for a in acts[:5]:
        venv.step(a)

    def run() -> int:
        for a in acts:
            venv.step(a)
        return calls * num_envs

    n, wall, cpu = timed(run)
    return {"steps": n, "wall_s": wall, "cpu_s": cpu}


def measure_oran(steps: int, policy: str, traffic: str, users=(3, 3, 4)) -> dict:
    env = gym.make("netsim/OranSlicing-TRACTOR-v0", users=list(users), traffic=traffic,
                   horizon=30.0)
    act = env.unwrapped.baseline_policies()[policy]
    obs, _ = env.reset(seed=0)
    for _ in range(20):  # warm-up (caches, first traffic chunk)
        obs, *_ = env.step(act(obs))

    def run() -> int:
        n, episodes = 0, 0
        obs, _ = env.reset(seed=1)
        while n < steps:
            obs, _, term, trunc, _ = env.step(act(obs))
            n += 1
            if term or trunc:
                episodes += 1
                obs, _ = env.reset(seed=1 + episodes)
        return n

    n, wall, cpu = timed(run)
    return {"steps": n, "wall_s": wall, "cpu_s": cpu}


def measure_mobile_env(steps: int) -> dict | None:
    try:
        import mobile_env  # noqa: F401

        python = sys.executable
    except ImportError:
        python = MOBILE_ENV_PYTHON if Path(MOBILE_ENV_PYTHON).is_file() else None
    if python is None:
        return None
    out = subprocess.run([python, "-c", _MOBILE_SNIPPET, str(steps)], capture_output=True,
                         text=True, timeout=1800)
    if out.returncode != 0:
        print(f"mobile-env failed: {out.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rates(r: dict) -> tuple[float, float]:
    return r["steps"] / r["wall_s"], r["steps"] / r["cpu_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs of both (best kept)")
    ap.add_argument("--num-envs", type=int, default=256, help="copies in the batched env")
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} (timings are noisy under load)")
    one = [max(x) for x in zip(*(_rates(measure_contested(args.steps)) for _ in range(args.repeat)),
                               strict=True)]
    many = [max(x) for x in zip(*(_rates(measure_vector(args.num_envs, 200))
                                  for _ in range(args.repeat)), strict=True)]
    print(f"OranSlicing-v0 (contested, 10 UEs) one env: {one[0]:9,.0f} steps/s wall, "
          f"{one[1]:9,.0f} CPU (target >= 1,000)")
    print(f"OranSlicing-v0 batched N={args.num_envs}: {many[0]:9,.0f} steps/s wall, "
          f"{many[1]:9,.0f} CPU (target >= 50,000); {many[0] / one[0]:.1f}x one env wall, "
          f"{many[1] / one[1]:.1f}x CPU")
    for traffic in ("trace", "commag"):
        for policy in ("random", "expert"):
            wall, cpu = _rates(measure_oran(args.steps, policy, traffic))
            print(f"OranSlicing-TRACTOR-v0  10 UEs  traffic={traffic:6s} policy={policy:6s}: "
                  f"{wall:7.0f} steps/s wall, {cpu:7.0f} steps/s CPU")
    # the comparison: both envs in turn, best of --repeat runs each (load on a shared machine
    # only ever slows a run down)
    ours, theirs, version = [0.0, 0.0], [0.0, 0.0], None
    for _ in range(args.repeat):
        ours = [max(a, b) for a, b in zip(ours, _rates(measure_oran(args.steps, "random", "trace")),
                                          strict=True)]
        mob = measure_mobile_env(max(args.steps // 3, 300))
        if mob is None:
            print("mobile-env: not installed (pip install mobile-env in a separate venv, e.g. "
                  "/work/venvs/mobileenv); no baseline ratio")
            return
        theirs = [max(a, b) for a, b in zip(theirs, _rates(mob), strict=True)]
        version = mob["version"]
    print(f"best of {args.repeat}: OranSlicing-TRACTOR-v0 10 UEs trace random: "
          f"{ours[0]:7.0f} steps/s wall, {ours[1]:7.0f} steps/s CPU")
    print(f"best of {args.repeat}: mobile-env {version} mobile-small-central-v0 random actions: "
          f"{theirs[0]:7.0f} steps/s wall, {theirs[1]:7.0f} steps/s CPU")
    verdict = "met" if ours[0] >= 2000 else "NOT met"
    print(f"target >= 2000 steps/s: {verdict} ({ours[0]:.0f} wall, {ours[1]:.0f} CPU)")
    print(f"ratio OranSlicing-TRACTOR-v0 / mobile-env small: {ours[0] / theirs[0]:.2f}x wall, "
          f"{ours[1] / theirs[1]:.2f}x CPU (target >= 10x)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
