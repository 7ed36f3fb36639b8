"""``netsim run``: replications of one scenario written to a results folder."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from .progress import progress_bar
from .results import (
    atomic_output_dir,
    default_summary,
    write_manifest,
    write_parquet,
)
from .rng import derive_seed
from .scenario import Resolved, run_replication

__all__ = ["rep_seed", "run_scenario"]


def rep_seed(seed: int, rep: int) -> int:
    """Seed of replication ``rep`` of a run with seed ``seed``."""
    return derive_seed(seed, "rep", rep)


def run_scenario(
    resolved: Resolved, out: str | Path, progress: bool = True, force: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every replication, then write ``results.parquet``, ``summary.csv``, figures and
    ``manifest.json`` into ``out`` (atomically). Returns (results, summary).

    ``out`` may hold an earlier run (it is replaced); a sweep, training or bench folder is
    refused unless ``force``. The manifest holds everything ``netsim run --from`` needs to
    repeat the run bit for bit: scenario, resolved config, seed and reps."""
    sc = resolved.scenario
    seeds = [rep_seed(resolved.seed, r) for r in range(resolved.reps)]
    t0 = time.perf_counter()
    with atomic_output_dir(out, kind="run", force=force) as tmp:
        frames = []
        with progress_bar(resolved.reps, sc.name, progress) as bar:
            for rep, seed in enumerate(seeds):
                frames.append(
                    run_replication(
                        sc,
                        resolved.config,
                        seed,
                        rep,
                        workdir=tmp,
                        progress=lambda f, rep=rep: bar.update(completed=rep + min(max(f, 0), 1)),
                    )
                )
                bar.update(completed=rep + 1)
        results = pd.concat(frames, ignore_index=True)
        write_parquet(results, tmp / "results.parquet")
        summary = (sc.summarize or default_summary)(results)
        summary.to_csv(tmp / "summary.csv", index=False)
        if sc.plot is not None:
            sc.plot(results, resolved.config, tmp)
        write_manifest(
            {
                "kind": "run",
                "scenario": sc.name,
                "source": resolved.source,
                "preset": resolved.preset,
                "config": resolved.config.model_dump(mode="json"),
                "seed": resolved.seed,
                "reps": resolved.reps,
                "rep_seeds": seeds,
                "wall_time_s": round(time.perf_counter() - t0, 3),
            },
            tmp,
        )
    return results, summary
