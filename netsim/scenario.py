"""Scenarios: a pydantic schema, a run function and a YAML preset, found by entry point.

A package registers scenarios under the entry-point group ``netsim.scenarios``::

    [project.entry-points."netsim.scenarios"]
    mm1 = "queueing.scenario:MM1"

Each entry is a :class:`Scenario`. Its ``run(config, ctx)`` performs one replication and
returns a tidy ``DataFrame`` with at least ``metric`` and ``value`` columns. Its ``preset``
names a YAML file (``"package:file.yaml"``) holding the default ``config``, ``seed`` and
``reps``. netsim itself never imports a model module by name: it only loads entry points.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pandas as pd

from .config import Config, apply_overrides, load_yaml, validate
from .errors import ConfigError

__all__ = [
    "Scenario",
    "RunContext",
    "Resolved",
    "scenario_entry_points",
    "load_scenario",
    "resolve",
    "run_replication",
    "GROUP",
]

GROUP = "netsim.scenarios"
_RESERVED = {"scenario", "description", "seed", "reps", "config"}


@dataclass
class RunContext:
    """What a run function receives besides its config.

    Attributes:
        seed: this replication's seed; build ``Simulation(seed=ctx.seed)`` from it.
        rep: replication index.
        workdir: a folder for extra artefacts (tables, trained models, figures) that end up
            in the output folder; ``None`` when the caller keeps no artefacts (sweeps).
        progress: call with the fraction (0..1) of this run that is done.
    """

    seed: int
    rep: int = 0
    workdir: Path | None = None
    progress: Callable[[float], None] = field(default=lambda _f: None)


@dataclass(frozen=True)
class Scenario:
    """A runnable scenario.

    Attributes:
        name: the id users type (``netsim run NAME``); equals the entry-point name.
        schema: the pydantic config schema (a :class:`netsim.Config` subclass).
        run: ``run(config, ctx) -> DataFrame`` for one replication.
        preset: ``"package:file.yaml"`` with defaults, or ``None`` (schema defaults).
        plot: optional ``plot(results, config, out_dir)`` writing PNG files.
        summarize: optional ``summarize(results) -> DataFrame``; the default gives mean and
            95% Student-t CI across replications of every scalar metric.
        description: one line for ``netsim list``.
    """

    name: str
    schema: type[Config]
    run: Callable[[Any, RunContext], pd.DataFrame]
    preset: str | None = None
    plot: Callable[[pd.DataFrame, Any, Path], None] | None = None
    summarize: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    description: str = ""

    def preset_path(self) -> Path | None:
        if self.preset is None:
            return None
        package, _, resource = self.preset.partition(":")
        return Path(str(importlib.resources.files(package).joinpath(resource)))


@dataclass(frozen=True)
class Resolved:
    """A scenario with its validated config and run settings."""

    scenario: Scenario
    config: Config
    seed: int
    reps: int
    source: str  # the preset or file the defaults came from


def scenario_entry_points() -> dict[str, EntryPoint]:
    """Registered scenarios by name (not yet imported)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_scenario(name: str) -> Scenario:
    """Import and return the scenario registered as ``name``."""
    eps = scenario_entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise ConfigError(f"unknown scenario '{name}' (known: {known})")
    obj = eps[name].load()
    if not isinstance(obj, Scenario):
        raise TypeError(f"entry point {name!r} does not point at a netsim.Scenario")
    return obj


def _split_file(data: dict, source: str) -> tuple[dict, dict]:
    unknown = set(data) - _RESERVED
    if unknown:
        raise ConfigError(
            f"{source}: unknown top-level key '{sorted(unknown)[0]}' "
            f"(allowed: {', '.join(sorted(_RESERVED))})"
        )
    cfg = data.get("config") or {}
    if not isinstance(cfg, dict):
        raise ConfigError(f"{source}: 'config' must be a mapping")
    return {k: data[k] for k in ("seed", "reps") if k in data}, cfg


def resolve(
    target: str,
    sets: Sequence[str] = (),
    seed: int | None = None,
    reps: int | None = None,
) -> Resolved:
    """Resolve ``target`` (a scenario name or a YAML file naming one) with overrides.

    Precedence, lowest first: schema defaults, the scenario's preset, the YAML file, ``sets``.
    """
    file_settings: dict = {}
    file_cfg: dict = {}
    path = Path(target)
    if target.endswith((".yaml", ".yml")) or path.is_file():
        data = load_yaml(path)
        name = data.get("scenario")
        if not isinstance(name, str):
            raise ConfigError(f"{path}: missing 'scenario: NAME' naming a registered scenario")
        file_settings, file_cfg = _split_file(data, str(path))
        source = str(path)
    else:
        name, source = target, target
    scenario = load_scenario(name)
    settings: dict = {"seed": 0, "reps": 1}
    cfg: dict = {}
    preset = scenario.preset_path()
    if preset is not None:
        pre_settings, pre_cfg = _split_file(load_yaml(preset), str(preset))
        settings.update(pre_settings)
        cfg.update(pre_cfg)
    settings.update(file_settings)
    cfg.update(file_cfg)
    cfg = apply_overrides(cfg, sets)
    if seed is not None:
        settings["seed"] = seed
    if reps is not None:
        settings["reps"] = reps
    for key in ("seed", "reps"):
        v = settings[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < (1 if key == "reps" else 0):
            allowed = "an integer >= 1" if key == "reps" else "an integer >= 0"
            raise ConfigError(f"{key}: must be {allowed} (got {v!r})")
    config = validate(scenario.schema, cfg)
    return Resolved(scenario, config, settings["seed"], settings["reps"], source)


def run_replication(
    scenario: Scenario,
    config: Config,
    seed: int,
    rep: int = 0,
    workdir: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """Run one replication and return its tidy frame with ``rep`` and ``seed`` columns."""
    ctx = RunContext(seed=seed, rep=rep, workdir=workdir)
    if progress is not None:
        ctx.progress = progress
    df = scenario.run(config, ctx)
    if not isinstance(df, pd.DataFrame) or not {"metric", "value"} <= set(df.columns):
        raise TypeError(
            f"scenario {scenario.name!r}: run() must return a DataFrame with 'metric' and "
            "'value' columns"
        )
    df = df.copy()
    df.insert(0, "rep", rep)
    df.insert(1, "seed", seed)
    return df
