"""``netsim bench``: a leaderboard of every registered policy of each env, with common random
numbers.

For each env, every baseline of :func:`netsim.baselines.baselines_for` is scored on the same
``seeds`` episode seeds (episode ``i`` of every policy starts from ``reset(seed=s_i)``):

* ``random``, ``heuristic`` and policy-type ``oracle`` baselines: one task per (policy, seed);
* episode-type ``oracle`` baselines (bounds): one task per seed;
* ``hindsight`` baselines: one task per (candidate, seed); the candidate with the best mean
  over all seeds is reported (the best fixed setting in hindsight);
* ``learned`` baselines: one task per env, which trains the agent for its declared budget (or
  ``timesteps``) and evaluates it on the same seeds (the CI covers episodes, not training runs).

Tasks are picklable and run on the executor of :mod:`netsim.sweep` (this process, a local
pool, or a Dask cluster): results do not depend on where they ran. A failed task is recorded
in ``failures.json`` and the others go on.

The leaderboard has one row per (env, policy): ``mean, ci_low, ci_high`` (Student-t 95 % over
seeds), ``n_seeds`` and ``normalised`` = (mean − random) / (reference − random), where the
reference is the best oracle, or the best policy where no oracle exists. The **contested
check** takes the best heuristic and asks that 0.10 ≤ normalised ≤ 0.95 and that the paired
(same seeds) 95 % CIs of its gaps to random and to the reference both exclude 0.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .baselines import KINDS, Baseline, baselines_for
from .errors import ConfigError
from .progress import progress_bar
from .registry import env_ids, load_env_plugins, require_env_id
from .results import check_output_kind
from .rng import derive_seed
from .stats import t_interval
from .tables import markdown_table

__all__ = [
    "BenchTask",
    "bench",
    "episode_seeds",
    "plan_tasks",
    "run_task",
    "leaderboard",
    "contested",
]

CONTESTED_BAND = (0.10, 0.95)
LEADERBOARD_COLUMNS = [
    "env", "policy", "kind", "mean", "ci_low", "ci_high", "n_seeds", "normalised",
    "norm_low", "norm_high", "detail",
]


@dataclass(frozen=True)
class BenchTask:
    """One unit of bench work (picklable): a policy (or hindsight candidate) on some seeds."""

    env_id: str
    baseline: str
    seeds: tuple[int, ...]
    env_config: Mapping[str, Any] = field(default_factory=dict)
    candidate: str | None = None
    train_seed: int = 0
    timesteps: int | None = None

    @property
    def label(self) -> str:
        name = f"{self.baseline}[{self.candidate}]" if self.candidate else self.baseline
        return f"{self.env_id.split('/')[-1]} {name}"


def episode_seeds(seed: int, n: int) -> list[int]:
    """The ``n`` episode seeds every policy of every env is evaluated on."""
    return [derive_seed(seed, "bench", i) % (2**31) for i in range(n)]


def _make(env_id: str, env_config: Mapping[str, Any]):
    import gymnasium as gym

    load_env_plugins()  # spawned pool workers and Dask workers register the ids here
    return gym.make(env_id, config=dict(env_config))


def _rollout(env, act, seed: int) -> tuple[float, int]:
    from .evaluate import rollout

    return rollout(env, act, seed)


def _learned_factory(b: Baseline, task: BenchTask, env):
    """Train ``b.algo`` for the budget and return a greedy policy factory."""
    import torch
    from stable_baselines3.common.env_util import make_vec_env

    from .train import learned_policy, load_algo

    algo = b.algo.lower().replace("maskableppo", "maskable_ppo")
    algo_cls = load_algo(algo)
    torch.set_num_threads(1)
    vec = make_vec_env(
        lambda: _make(task.env_id, task.env_config), n_envs=1, seed=task.train_seed
    )
    model = algo_cls(
        "MlpPolicy", vec, seed=task.train_seed, device="cpu", verbose=0, **dict(b.algo_kwargs)
    )
    model.learn(total_timesteps=int(task.timesteps or b.timesteps))
    vec.close()
    return learned_policy(model, algo == "maskable_ppo")


def run_task(task: BenchTask) -> list[tuple]:
    """Run one task; rows ``(env, policy, candidate, seed, return, steps, wall_s)``."""
    env = _make(task.env_id, task.env_config)
    try:
        b = baselines_for(task.env_id, env.unwrapped)[task.baseline]
        if b.kind == "hindsight":
            factory = b.candidates[task.candidate]
        elif b.kind == "learned":
            factory = _learned_factory(b, task, env)
        else:
            factory = b.policy
        rows = []
        act = factory(env.unwrapped) if factory is not None else None
        for s in task.seeds:
            t0 = time.perf_counter()
            if act is None:  # an episode-type oracle (a bound)
                ret, steps = float(b.episode(env.unwrapped, s)), 0
            else:
                ret, steps = _rollout(env, act, s)
            wall = time.perf_counter() - t0
            rows.append((task.env_id, task.baseline, task.candidate, s, ret, steps, wall))
        return rows
    finally:
        env.close()


def plan_tasks(
    env_id: str,
    seeds: Sequence[int],
    env_config: Mapping[str, Any] | None = None,
    skip_learned: bool = False,
    timesteps: int | None = None,
    root_seed: int = 0,
) -> tuple[list[BenchTask], dict[str, Baseline]]:
    """Every task of one env, and its baselines by name."""
    env = _make(env_id, env_config or {})
    try:
        listed = baselines_for(env_id, env.unwrapped)
    finally:
        env.close()
    cfg = dict(env_config or {})
    tasks: list[BenchTask] = []
    for name, b in listed.items():
        if b.kind == "learned":
            if not skip_learned:
                train_seed = derive_seed(root_seed, "bench-train", env_id, name) % (2**31)
                task = BenchTask(env_id, name, tuple(seeds), cfg, None, train_seed, timesteps)
                tasks.append(task)
        elif b.kind == "hindsight":
            tasks += [BenchTask(env_id, name, (s,), cfg, c) for c in b.candidates for s in seeds]
        else:
            tasks += [BenchTask(env_id, name, (s,), cfg) for s in seeds]
    return tasks, listed


_EPISODE_COLUMNS = ["env", "policy", "candidate", "seed", "return", "steps", "wall_s"]


def _best_candidates(episodes: pd.DataFrame) -> pd.DataFrame:
    """Keep, for each hindsight baseline, only its best candidate (by mean over seeds)."""
    hind = episodes["candidate"].notna()
    if not hind.any():
        return episodes
    means = episodes[hind].groupby(["env", "policy", "candidate"])["return"].mean()
    best = means.groupby(level=["env", "policy"]).idxmax()
    keep = set(best.tolist())
    mask = [
        (not h) or ((e, p, c) in keep)
        for h, e, p, c in zip(
            hind, episodes["env"], episodes["policy"], episodes["candidate"], strict=True
        )
    ]
    return episodes[np.asarray(mask, dtype=bool)]


def leaderboard(episodes: pd.DataFrame, kinds: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """The leaderboard of per-seed ``episodes`` (columns of :data:`_EPISODE_COLUMNS`)."""
    ep = _best_candidates(episodes)
    rows = []
    for (env, policy), g in ep.groupby(["env", "policy"], sort=False):
        mean, half = t_interval(g["return"].to_numpy())
        cand = g["candidate"].dropna()
        detail = f"best: {cand.iloc[0]}" if len(cand) else ""
        rows.append((env, policy, kinds[(env, policy)], mean, mean - half, mean + half,
                     int(g["seed"].nunique()), detail))
    cols = ["env", "policy", "kind", "mean", "ci_low", "ci_high", "n_seeds", "detail"]
    lb = pd.DataFrame(rows, columns=cols)
    parts = []
    for _env, g in lb.groupby("env", sort=False):
        g = g.copy()
        lo = g.loc[g["kind"] == "random", "mean"]
        oracle = g.loc[g["kind"] == "oracle", "mean"]
        ref = oracle.max() if len(oracle) else g["mean"].max()
        base = lo.iloc[0] if len(lo) else np.nan
        span = ref - base
        scale = (lambda x, b=base, s=span: (x - b) / s) if np.isfinite(span) and span else None
        for src, dst in (("mean", "normalised"), ("ci_low", "norm_low"), ("ci_high", "norm_high")):
            g[dst] = scale(g[src]) if scale else np.nan
        g["_order"] = g["kind"].map({k: i for i, k in enumerate(KINDS)})
        parts.append(g.sort_values(["_order", "mean"]).drop(columns="_order"))
    out = pd.concat(parts, ignore_index=True) if parts else lb.assign(
        normalised=[], norm_low=[], norm_high=[]
    )
    return out[LEADERBOARD_COLUMNS]


def _paired(a: pd.Series, b: pd.Series) -> tuple[float, float, float]:
    """Mean and 95 % CI of ``a − b`` paired by seed."""
    d = (a - b).dropna().to_numpy()
    mean, half = t_interval(d)
    return mean, mean - half, mean + half


def contested(episodes: pd.DataFrame, board: pd.DataFrame) -> pd.DataFrame:
    """The contested-gap check per env (see the module docstring)."""
    ep = _best_candidates(episodes)
    rows = []
    for env, g in board.groupby("env", sort=False):
        heur = g[g["kind"] == "heuristic"]
        oracle = g[g["kind"] == "oracle"]
        if heur.empty or not (g["kind"] == "random").any():
            rows.append((env, None, np.nan, *(np.nan,) * 6, False, "no heuristic or random"))
            continue
        best = heur.loc[heur["mean"].idxmax()]
        ref = oracle.loc[oracle["mean"].idxmax()] if len(oracle) else g.loc[g["mean"].idxmax()]
        per = ep[ep["env"] == env].pivot_table(index="seed", columns="policy", values="return")
        up = _paired(per[best["policy"]], per[g.loc[g["kind"] == "random", "policy"].iloc[0]])
        down = _paired(per[ref["policy"]], per[best["policy"]])
        lo, hi = CONTESTED_BAND
        why = []
        if not lo <= best["normalised"] <= hi:
            why.append(f"normalised {best['normalised']:.3f} outside [{lo}, {hi}]")
        if not up[1] > 0:
            why.append("gap to random inside CI")
        if not down[1] > 0:
            why.append(f"gap to {ref['policy']} inside CI")
        ok = not why
        if not len(oracle):
            why.append(f"no oracle: reference is {ref['policy']}")
        rows.append((env, best["policy"], best["normalised"], *up, *down, ok,
                     "; ".join(why) or "contested"))
    cols = ["env", "best_heuristic", "normalised", "gap_random", "gap_random_low",
            "gap_random_high", "gap_reference", "gap_reference_low", "gap_reference_high",
            "contested", "note"]
    return pd.DataFrame(rows, columns=cols)


def _plot(board: pd.DataFrame, path: Path) -> None:
    from .plotting import new_figure, save_figure

    envs = list(dict.fromkeys(board["env"]))
    cols = min(2, len(envs))
    rows = -(-len(envs) // cols)
    fig = new_figure(6.0 * cols, 2.6 * rows + 0.4)
    colors = {"random": "tab:gray", "heuristic": "tab:blue", "hindsight": "tab:cyan",
              "oracle": "tab:red", "learned": "tab:green"}
    for i, env in enumerate(envs):
        ax = fig.add_subplot(rows, cols, i + 1)
        g = board[board["env"] == env]
        y = np.arange(len(g))
        val = g["normalised"].to_numpy(dtype=float)
        err = np.vstack([val - g["norm_low"].to_numpy(float), g["norm_high"].to_numpy(float) - val])
        ax.barh(y, val, xerr=np.nan_to_num(err), color=[colors[k] for k in g["kind"]],
                capsize=2)
        ax.set_yticks(y, g["policy"], fontsize=7)
        ax.axvline(0, color="k", lw=0.5)
        ax.axvline(1, color="k", lw=0.5, ls="--")
        ax.set_title(env.split("/")[-1], fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    fig.supxlabel("normalised return (0 = random, 1 = oracle or best), 95 % CI", fontsize=8)
    save_figure(fig, path)


def _markdown(board: pd.DataFrame, check: pd.DataFrame) -> str:
    shown = board.assign(ci=[f"[{a:.4g}, {b:.4g}]" for a, b in zip(
        board["ci_low"], board["ci_high"], strict=True)])
    shown = shown[["env", "policy", "kind", "mean", "ci", "n_seeds", "normalised", "detail"]]
    text = "# Leaderboard\n\n" + markdown_table(shown, floatfmt=".4g")
    text += "\n## Contested check\n\n" + markdown_table(
        check[["env", "best_heuristic", "normalised", "contested", "note"]], floatfmt=".3f"
    )
    return text


def bench(
    env_id_list: Sequence[str] | None = None,
    seeds: int = 10,
    out: str | Path | None = None,
    *,
    skip_learned: bool = False,
    timesteps: int | None = None,
    env_config: Mapping[str, Any] | None = None,
    seed: int = 0,
    workers: int | None = 1,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Benchmark every baseline of each env; returns ``(leaderboard, contested check)``.

    Writes ``leaderboard.parquet``/``.md``/``.png``, ``episodes.parquet``, ``contested.csv``
    and ``manifest.json`` to ``out`` (atomically) when ``out`` is given."""
    from .sweep import make_executor

    if seeds < 2:
        raise ConfigError(f"--seeds: must be >= 2 for a confidence interval (got {seeds})")
    if timesteps is not None and timesteps < 1:
        raise ConfigError(f"--timesteps: must be >= 1 (got {timesteps})")
    ids = [require_env_id(e) for e in env_id_list] if env_id_list else env_ids()
    if env_config and len(ids) != 1:
        raise ConfigError("--set: env overrides need exactly one env id")
    if out is not None:
        check_output_kind(out, "bench", force)
    ep_seeds = episode_seeds(seed, seeds)
    tasks: list[BenchTask] = []
    kinds: dict[tuple[str, str], str] = {}
    for env_id in ids:
        t, listed = plan_tasks(env_id, ep_seeds, env_config, skip_learned, timesteps, seed)
        tasks += t
        kinds.update({(env_id, n): b.kind for n, b in listed.items()})
    t0 = time.perf_counter()
    rows: list[tuple] = []
    failures: list[dict[str, str]] = []
    with make_executor(workers, scheduler) as (ex, window), progress_bar(
        len(tasks), "bench", progress
    ) as bar:
        pending: dict[Any, BenchTask] = {}
        queue = list(reversed(tasks))
        while queue or pending:
            while queue and len(pending) < window:
                task = queue.pop()
                pending[ex.submit(run_task, task)] = task
            done = next(iter(_as_completed(pending)))
            task = pending.pop(done)
            try:
                rows += done.result()
            except Exception as exc:  # noqa: BLE001 - a failed task never loses the others
                tb = "".join(traceback.format_exception(exc))
                failures.append({"task": task.label, "error": repr(exc), "traceback": tb})
            bar.advance()
    episodes = pd.DataFrame(rows, columns=_EPISODE_COLUMNS)
    episodes["candidate"] = episodes["candidate"].astype(object)
    episodes = episodes.sort_values(["env", "policy", "candidate", "seed"], na_position="first")
    board = leaderboard(episodes, kinds)
    check = contested(episodes, board)
    if out is not None:
        _write(Path(out), episodes, board, check, failures, {
            "kind": "bench", "env_ids": ids, "seeds": seeds, "seed": seed,
            "episode_seeds": ep_seeds, "skip_learned": skip_learned, "timesteps": timesteps,
            "env_config": dict(env_config or {}), "wall_time_s": time.perf_counter() - t0,
        })
    if failures:
        raise BenchFailures(failures, board, check)
    return board, check


class BenchFailures(RuntimeError):
    """Some bench tasks failed; the others' results are in ``board``/``check`` (and on disk)."""

    def __init__(self, failures: list[dict[str, str]], board, check):
        super().__init__(f"{len(failures)} bench task(s) failed: " + ", ".join(
            f["task"] for f in failures[:5]))
        self.failures, self.board, self.check = failures, board, check


def _as_completed(pending):
    import concurrent.futures as cf

    return cf.as_completed(list(pending))


def _write(out, episodes, board, check, failures, manifest) -> None:
    from .results import atomic_output_dir, write_json, write_manifest, write_parquet

    with atomic_output_dir(out, "bench", force=True) as tmp:
        write_parquet(episodes, tmp / "episodes.parquet")
        write_parquet(board, tmp / "leaderboard.parquet")
        check.to_csv(tmp / "contested.csv", index=False)
        (tmp / "leaderboard.md").write_text(_markdown(board, check), encoding="utf-8")
        _plot(board, tmp / "leaderboard.png")
        if failures:
            write_json(failures, tmp / "failures.json")
        write_manifest(manifest, tmp)
