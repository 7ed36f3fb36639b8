"""The handover tables of ``satellite/README.md``: every registered baseline of a
SatelliteHandover env (and the ``perfect_forecast`` rule) on the episode seeds of ``netsim
bench`` (common random numbers), with what the return hides: delivered volume, outage seconds,
interruption and handovers, each a mean with its Student-t 95 % CI over the episodes.

The ``return`` column equals ``netsim bench``'s leaderboard for the same ``--seeds/--seed``
(same seeds, same policies); ``normalised`` and the contested check use
:func:`netsim.bench.leaderboard` and :func:`netsim.bench.contested` on these episodes.

Run: ``python benchmarks/satellite_handover.py netsim/SatelliteHandover-LEO-v0 [--seeds 10]
[--seed 0] [--set key=value ...] [--out table.md]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# this file is named like the package it measures: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import gymnasium as gym  # noqa: E402

from netsim.baselines import baselines_for  # noqa: E402
from netsim.bench import contested, episode_seeds, leaderboard  # noqa: E402
from netsim.registry import load_env_plugins  # noqa: E402
from netsim.stats import t_interval  # noqa: E402

METRICS = ("return", "delivered_gb", "outage_s", "interruption_s", "handovers")


def episode(env, act, seed: int) -> dict:
    """One episode from ``reset(seed=seed)``: the return and the final ``info`` totals."""
    obs, info = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, r, term, trunc, info = env.step(act(obs))
        total += float(r)
        done = term or trunc
    return {"return": total} | {k: float(info[k]) for k in METRICS[1:]}


def run(env_id: str, seeds: int, seed: int, config: dict) -> pd.DataFrame:
    """Per-episode rows ``policy, kind, seed`` + :data:`METRICS` (one env reused: the flight
    pool and worlds are cached in the process, and every reset reseeds the env)."""
    load_env_plugins()
    env = gym.make(env_id, config=config)
    u = env.unwrapped
    listed = baselines_for(env_id, u)
    pols = [(n, b.kind, b.policy) for n, b in listed.items() if b.policy is not None]
    pols.append(("perfect_forecast", "extra", lambda e: e.baseline_policies()["perfect_forecast"]))
    rows = []
    for name, kind, factory in pols:
        act = factory(u)
        for s in episode_seeds(seed, seeds):
            rows.append({"policy": name, "kind": kind, "seed": s} | episode(env, act, s))
    env.close()
    return pd.DataFrame(rows)


def table(env_id: str, eps: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The markdown table and the contested check of ``eps``."""
    bench = eps[eps["kind"] != "extra"].assign(env=env_id, candidate=None, steps=0, wall_s=0.0)
    kinds = {(env_id, p): k for p, k in zip(bench["policy"], bench["kind"], strict=True)}
    board = leaderboard(bench, kinds)
    check = contested(bench, board)
    norm = dict(zip(board["policy"], board["normalised"], strict=True))
    lo = float(board.loc[board["kind"] == "random", "mean"].iloc[0])
    hi = float(board.loc[board["kind"] == "oracle", "mean"].max())
    order = list(board["policy"]) + ["perfect_forecast"]
    head = "| policy | kind | return (Gbit) | delivered (GB) | outage (s) | interruption (s) " \
           "| handovers | normalised |"
    lines = [head, "|" + "---|" * 8]
    for p in order:
        g = eps[eps["policy"] == p]
        cells = []
        for m in METRICS:
            mean, half = t_interval(g[m].to_numpy())
            cells.append(f"{mean:.1f} ± {half:.1f}")
        mean_ret = float(g["return"].mean())
        nz = norm.get(p, (mean_ret - lo) / (hi - lo))
        kind = g["kind"].iloc[0] if g["kind"].iloc[0] != "extra" else "reference"
        lines.append(f"| {p} | {kind} | " + " | ".join(cells) + f" | {nz:.3f} |")
    c = check.iloc[0]
    lines.append("")
    lines.append(
        f"Contested check (`netsim.bench.contested`): best heuristic **{c['best_heuristic']}** "
        f"at {c['normalised']:.3f}; paired gap to random {c['gap_random']:.1f} "
        f"[{c['gap_random_low']:.1f}, {c['gap_random_high']:.1f}] Gbit, to the oracle "
        f"{c['gap_reference']:.1f} [{c['gap_reference_low']:.1f}, "
        f"{c['gap_reference_high']:.1f}] Gbit: **{'passes' if c['contested'] else 'fails'}** "
        f"({c['note']})."
    )
    return "\n".join(lines) + "\n", check


def _parse_set(items: list[str]) -> dict:
    import yaml

    out: dict = {}
    for item in items:
        key, _, value = item.partition("=")
        node = out
        *parents, leaf = key.split(".")
        for k in parents:
            node = node.setdefault(k, {})
        node[leaf] = yaml.safe_load(value)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("env_id")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], help="config key=value")
    ap.add_argument("--out", type=Path, default=None, help="write the markdown here too")
    a = ap.parse_args(argv)
    t0, c0 = time.perf_counter(), time.process_time()
    eps = run(a.env_id, a.seeds, a.seed, _parse_set(a.set))
    text, _ = table(a.env_id, eps)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    text += (
        f"\n{a.seeds} episodes per policy (`netsim.bench.episode_seeds({a.seed}, {a.seeds})`), "
        f"{len(eps)} episodes in {wall:.0f} s wall / {cpu:.0f} s CPU.\n"
    )
    print(text)
    if a.out is not None:
        a.out.write_text(text)
        eps.to_csv(a.out.with_suffix(".csv"), index=False)
    return 0 if np.isfinite(eps["return"]).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
