"""Parameter sweeps on any ``concurrent.futures.Executor``: local processes or Dask.

A sweep expands ``--grid`` axes (or samples ``--random N`` points from them) into points,
gives every (point, replication) its own seed derived from the sweep seed, and submits
picklable :class:`RunSpec` tasks to an executor:

* ``workers=1``: in this process (easy to debug);
* ``workers=K``: a local ``ProcessPoolExecutor`` (spawned workers);
* ``scheduler="tcp://host:port"``: a ``dask.distributed`` cluster through
  ``Client(address).get_executor()`` - the same code path, so results are identical.

Each finished run is written at once as ``results/point=<id>/rep-<r>.parquet`` (Hive
partitioning, readable with ``pandas.read_parquet(dir, filters=[("point", "==", id)])``); a run
that raises is recorded in ``failures/`` with its traceback and the others go on.
``resume=True`` runs only what is missing or failed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import shutil
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .config import parse_value, set_dotted, validate
from .errors import ConfigError
from .lifeline import exit_with_parent
from .progress import progress_bar
from .results import (
    MANIFEST,
    check_output_kind,
    default_summary,
    make_parents,
    write_json,
    write_manifest,
)
from .rng import derive_seed, stream
from .scenario import load_scenario, resolve, run_replication

__all__ = [
    "RunSpec",
    "Outcome",
    "SweepPlan",
    "Range",
    "parse_grid",
    "expand_points",
    "plan_sweep",
    "run_sweep",
    "execute",
    "read_results",
    "SerialExecutor",
]


# -- axes and points --
@dataclass(frozen=True)
class Range:
    """A continuous axis ``lo:hi`` (``:log`` for log-uniform, ``:int`` for integers); only
    usable with random sampling."""

    lo: float
    hi: float
    scale: str = "linear"  # linear | log | int

    def sample(self, rng) -> float | int:
        if self.scale == "int":
            return int(rng.integers(int(self.lo), int(self.hi) + 1))
        if self.scale == "log":
            return float(math.exp(rng.uniform(math.log(self.lo), math.log(self.hi))))
        return float(rng.uniform(self.lo, self.hi))


def _parse_range(key: str, text: str) -> Range:
    parts = text.split(":")
    scale = parts[2] if len(parts) == 3 else "linear"
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except (ValueError, IndexError):
        raise ConfigError(f"--grid {key}: range must be lo:hi[:log|:int], got {text!r}") from None
    if len(parts) > 3 or scale not in ("linear", "log", "int") or not lo < hi:
        raise ConfigError(
            f"--grid {key}: range must be lo:hi[:log|:int] with lo < hi, got {text!r}"
        )
    if scale == "log" and lo <= 0:
        raise ConfigError(f"--grid {key}: a log range needs lo > 0, got {text!r}")
    return Range(lo, hi, scale)


def parse_grid(items: Sequence[str]) -> dict[str, list[Any] | Range]:
    """``["a=1,2,4", "b=x,y", "c=[1,[2,3]]", "d=0.1:10:log"]`` -> axes."""
    grid: dict[str, list[Any] | Range] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise ConfigError(f"--grid expects key=v1,v2,... got {item!r}")
        if key in grid:
            raise ConfigError(f"--grid {key}: given twice")
        if text.startswith("["):
            values = parse_value(text)
            if not isinstance(values, list) or not values:
                raise ConfigError(f"--grid {key}: expected a non-empty [list], got {text!r}")
            grid[key] = values
        elif ":" in text and "," not in text and not text.startswith(("tcp", "http")):
            grid[key] = _parse_range(key, text)
        else:
            grid[key] = [parse_value(v.strip()) for v in text.split(",") if v.strip()]
    return grid


def expand_points(
    grid: Mapping[str, list[Any] | Range], random: int | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """Every grid combination, or ``random`` points sampled uniformly from the axes."""
    keys = list(grid)
    if random is None:
        ranges = [k for k in keys if isinstance(grid[k], Range)]
        if ranges:
            raise ConfigError(f"--grid {ranges[0]}: a lo:hi range needs --random N")
        combos = itertools.product(*(grid[k] for k in keys))
        return [dict(zip(keys, c, strict=True)) for c in combos]
    if random < 1:
        raise ConfigError(f"--random: must be >= 1 (got {random})")
    rng = stream(seed, "sweep.random")
    points, seen = [], set()
    for _ in range(random):
        p = {}
        for k in keys:
            axis = grid[k]
            p[k] = axis.sample(rng) if isinstance(axis, Range) else axis[rng.integers(len(axis))]
        pid = point_id(p)
        if pid not in seen:
            seen.add(pid)
            points.append(p)
    return points


def point_id(params: Mapping[str, Any]) -> str:
    """A stable 12-hex-digit id of a point's parameter values."""
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


# -- tasks --
@dataclass(frozen=True)
class RunSpec:
    """One (point, replication): everything a worker needs, picklable."""

    scenario: str
    config: dict
    seed: int
    point: str
    rep: int
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> tuple[str, int]:
        return self.point, self.rep


@dataclass
class Outcome:
    spec: RunSpec
    frame: pd.DataFrame | None
    error: str | None = None
    traceback: str | None = None
    wall_s: float = 0.0


def _column_value(v: Any) -> Any:
    """Scalars stay as they are; lists and mappings become canonical JSON text."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return json.dumps(v, sort_keys=True)


def execute(spec: RunSpec) -> Outcome:
    """Run one spec; exceptions become a failed :class:`Outcome` (never raised)."""
    t0 = time.perf_counter()
    try:
        sc = load_scenario(spec.scenario)
        cfg = validate(sc.schema, spec.config)
        df = run_replication(sc, cfg, spec.seed, spec.rep)
        for i, (k, v) in enumerate(spec.params):
            df.insert(i, k, _column_value(v))
        return Outcome(spec, df, wall_s=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
        msg = " ".join(f"{type(exc).__name__}: {exc}".split())
        return Outcome(spec, None, msg, traceback.format_exc(), time.perf_counter() - t0)


@dataclass
class SweepPlan:
    scenario: str
    base_config: dict
    grid: dict
    random: int | None
    seed: int
    reps: int
    points: list[dict]
    specs: list[RunSpec] = field(default_factory=list)

    def fingerprint(self) -> str:
        body = json.dumps(
            [self.scenario, self.base_config, self.points, self.seed, self.reps],
            sort_keys=True,
            default=str,
        )
        return hashlib.blake2b(body.encode(), digest_size=8).hexdigest()


def _normalise_axis(values: list[Any]) -> list[Any]:
    """Give an axis one column type: ints and floats mixed become floats."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        if any(isinstance(v, float) for v in values):
            return [float(v) for v in values]
    return values


def plan_sweep(
    target: str,
    grid_items: Sequence[str],
    reps: int | None = None,
    seed: int | None = None,
    sets: Sequence[str] = (),
    random: int | None = None,
    preset: str | None = None,
) -> SweepPlan:
    """Validate everything up front (bad input raises before anything is written)."""
    base = resolve(target, sets, seed=seed, reps=reps, preset=preset)
    grid = parse_grid(grid_items)
    if not grid:
        raise ConfigError("sweep needs at least one --grid key=v1,v2,...")
    for k, axis in grid.items():
        if isinstance(axis, list):
            grid[k] = _normalise_axis(axis)
    points = expand_points(grid, random, base.seed)
    base_cfg = base.config.model_dump(mode="json")
    plan = SweepPlan(
        base.scenario.name, base_cfg,
        {k: (v if isinstance(v, list) else vars(v)) for k, v in grid.items()},
        random, base.seed, base.reps, points,
    )
    for p in points:
        cfg = json.loads(json.dumps(base_cfg))
        for k, v in p.items():
            set_dotted(cfg, k, v)
        cfg = validate(base.scenario.schema, cfg).model_dump(mode="json")
        pid = point_id(p)
        params = tuple(sorted(p.items()))
        for r in range(base.reps):
            s = derive_seed(base.seed, "point", pid, "rep", r)
            plan.specs.append(RunSpec(plan.scenario, cfg, s, pid, r, params))
    return plan


# -- executors --
class SerialExecutor(cf.Executor):
    """Runs each task at submission, in this process (Ctrl-C is not caught)."""

    def submit(self, fn, /, *args, **kwargs):
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut


@contextlib.contextmanager
def make_executor(workers: int | None, scheduler: str | None) -> Iterator[tuple[cf.Executor, int]]:
    """The executor and how many tasks to keep in flight on it.

    Tasks are submitted a window at a time rather than all at once, so that a serial run
    writes each result before it starts the next and a big sweep does not queue millions of
    futures."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - dask is a dependency
            raise ConfigError("--scheduler needs dask.distributed installed") from None
        try:
            client = Client(scheduler, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            msg = " ".join(str(exc).split())[:200]
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({msg})") from None
        with client:
            threads = sum(client.nthreads().values())
            yield client.get_executor(), max(64, 4 * threads)
        return
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers: must be an integer >= 1 (got {workers!r})")
    if workers == 1:
        yield SerialExecutor(), 1
        return
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=exit_with_parent,
        initargs=(os.getpid(),),
    ) as ex:
        yield ex, 2 * workers


# -- writing and reading --
def _part_path(out: Path, spec: RunSpec) -> Path:
    return out / "results" / f"point={spec.point}" / f"rep-{spec.rep:05d}.parquet"


def _failure_path(out: Path, spec: RunSpec) -> Path:
    return out / "failures" / f"{spec.point}-rep-{spec.rep:05d}.json"


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _record(out: Path, o: Outcome) -> None:
    fail = _failure_path(out, o.spec)
    if o.frame is not None:
        _atomic_write(_part_path(out, o.spec), lambda p: o.frame.to_parquet(p, index=False))
        fail.unlink(missing_ok=True)
    else:
        body = {
            "point": o.spec.point, "rep": o.spec.rep, "seed": o.spec.seed,
            "params": dict(o.spec.params), "error": o.error, "traceback": o.traceback,
        }
        _atomic_write(fail, lambda p: write_json(body, p))


def read_results(out: str | Path, filters: list | None = None) -> pd.DataFrame:
    """All result parts of a sweep (with a ``point`` column), optionally filtered."""
    root = Path(out) / "results"
    if not root.is_dir():
        return pd.DataFrame()
    df = pd.read_parquet(root, filters=filters, engine="pyarrow")
    if "point" in df.columns:
        df["point"] = df["point"].astype(str)
    return df


@dataclass
class SweepReport:
    total: int
    done: int
    failed: int
    skipped: int
    out: Path

    @property
    def ok(self) -> bool:
        return self.failed == 0


def _prepare_out(out: Path, plan: SweepPlan, resume: bool, force: bool = False) -> None:
    manifest = out / MANIFEST
    if force and not resume and out.is_dir() and manifest.is_file():
        shutil.rmtree(out)  # an earlier netsim result of any kind: --force replaces it
    if resume:
        if not manifest.is_file():
            raise ConfigError(f"--resume: {out} holds no sweep to resume")
        try:
            old = json.loads(manifest.read_text()).get("fingerprint")
        except (OSError, ValueError):
            old = None
        if old != plan.fingerprint():
            raise ConfigError(f"--resume: {out} holds a different sweep (scenario, config or grid)")
        return
    check_output_kind(out, "sweep", force)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out}: exists; pass --resume to continue it or choose another")
    make_parents(out)
    try:
        out.mkdir(exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write there ({exc.strerror})") from None
    rows = [
        {"point": point_id(p), **{k: _column_value(v) for k, v in p.items()}} for p in plan.points
    ]
    pd.DataFrame(rows).to_csv(out / "points.csv", index=False)
    write_manifest(
        {
            "kind": "sweep", "scenario": plan.scenario, "base_config": plan.base_config,
            "grid": plan.grid, "random": plan.random, "seed": plan.seed, "reps": plan.reps,
            "points": rows, "fingerprint": plan.fingerprint(),
        },
        out,
        stamp="started_utc",
    )


def run_sweep(
    plan: SweepPlan,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    force: bool = False,
) -> SweepReport:
    """Run the plan's missing specs and write parts, failures and ``summary.csv``.

    ``out`` must be missing or empty, or hold this very sweep with ``resume``; ``force``
    replaces an earlier netsim result of any kind (never a folder that is not one)."""
    out = Path(out).resolve()
    if not resume:
        check_output_kind(out, "sweep", force)
    with make_executor(workers, scheduler) as (ex, window):
        # the executor exists (a cluster answered) before anything is written
        _prepare_out(out, plan, resume, force)
        todo = [s for s in plan.specs if not _part_path(out, s).is_file()]
        skipped = len(plan.specs) - len(todo)
        with progress_bar(len(todo), plan.scenario, progress) as bar:
            done, failed = _run_specs(ex, window, todo, out, bar, plan.scenario)
    _write_summary(out)
    return SweepReport(len(plan.specs), done, failed, skipped, out)


def _run_specs(
    ex: cf.Executor, window: int, todo: list[RunSpec], out: Path, bar, name: str
) -> tuple[int, int]:
    """Run ``todo`` with at most ``window`` tasks in flight, writing each outcome as soon as
    it arrives; returns (done, failed)."""
    done = failed = 0
    pending = iter(todo)
    in_flight: dict[cf.Future, RunSpec] = {}

    def label() -> str:
        left = len(todo) - done - failed
        return f"{name}: {done} done · {failed} failed · {left} left"

    def refill() -> None:
        while len(in_flight) < window:
            spec = next(pending, None)
            if spec is None:
                return
            in_flight[ex.submit(execute, spec)] = spec

    bar.update(description=label())
    try:
        refill()
        while in_flight:
            finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                spec = in_flight.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001 - worker died or cluster failed
                    outcome = Outcome(
                        spec, None, f"{type(exc).__name__}: {exc}", traceback.format_exc()
                    )
                _record(out, outcome)
                if outcome.frame is not None:
                    done += 1
                else:
                    failed += 1
                bar.update(completed=done + failed, description=label())
            refill()
    except BaseException:
        for f in in_flight:
            f.cancel()
        raise
    return done, failed


def _write_summary(out: Path) -> None:
    df = read_results(out)
    if df.empty:
        return
    default_summary(df).to_csv(out / "summary.csv", index=False)
