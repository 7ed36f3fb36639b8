"""Scenarios: a pydantic schema, a run function and a YAML preset, found by entry point.

A package registers scenarios under the entry-point group ``netsim.scenarios``::

    [project.entry-points."netsim.scenarios"]
    mm1 = "scenarios.queues:MM1"

Each entry is a :class:`Scenario`. Its ``run(config, ctx)`` performs one replication and
returns a tidy ``DataFrame`` with at least ``metric`` and ``value`` columns. Its ``preset``
names a YAML file (``"package:file.yaml"``) holding the default ``config``, ``seed`` and
``reps``. netsim itself never imports a model module by name: it only loads entry points.

Named presets are YAML files beside the default one: ``<stem>.<preset>.yaml`` next to
``<stem>.yaml`` (``scenarios/mm1.quick.yaml`` is preset ``quick`` of ``mm1``). A named preset
lists only what differs from the default; it is deep-merged over it. Precedence, lowest
first: schema defaults, the default preset, the named preset, a YAML file, ``--set``.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pandas as pd

from .config import Config, apply_overrides, deep_merge, load_yaml, validate
from .errors import ConfigError

__all__ = [
    "Scenario",
    "RunContext",
    "Resolved",
    "scenario_entry_points",
    "load_scenario",
    "resolve",
    "resolve_manifest",
    "run_replication",
    "GROUP",
]

GROUP = "netsim.scenarios"
_RESERVED = {"scenario", "description", "seed", "reps", "config"}
_PRESET_NAME = re.compile(r"[A-Za-z0-9_-]+")
#: largest accepted root seed (seeds are stored as signed 64-bit integers)
MAX_SEED = 2**63 - 1


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

    def preset_path(self, name: str | None = None) -> Path | None:
        """The default preset file, or named preset ``name`` (``<stem>.<name>.yaml``)."""
        if self.preset is None:
            return None
        package, _, resource = self.preset.partition(":")
        path = Path(str(importlib.resources.files(package).joinpath(resource)))
        if name is None:
            return path
        return path.with_name(f"{path.stem}.{name}{path.suffix}")

    def presets(self) -> dict[str, Path]:
        """Named presets beside the default preset file: name -> path, sorted by name."""
        default = self.preset_path()
        if default is None or not default.parent.is_dir():
            return {}
        found = {}
        for p in default.parent.glob(f"{default.stem}.*{default.suffix}"):
            name = p.name[len(default.stem) + 1 : -len(default.suffix)]
            if _PRESET_NAME.fullmatch(name):
                found[name] = p
        return dict(sorted(found.items()))


@dataclass(frozen=True)
class Resolved:
    """A scenario with its validated config and run settings."""

    scenario: Scenario
    config: Config
    seed: int
    reps: int
    source: str  # the preset or file the defaults came from
    preset: str | None = None  # the named preset applied, if any


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


def _check_settings(settings: dict) -> None:
    for key, allowed in (("seed", f"an integer in 0..{MAX_SEED}"), ("reps", "an integer >= 1")):
        v = settings[key]
        low, high = (0, MAX_SEED) if key == "seed" else (1, float("inf"))
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise ConfigError(f"{key}: must be {allowed} (got {v!r})")


def _load_preset(scenario: Scenario, preset: str | None) -> tuple[dict, dict]:
    """Settings and config of the default preset with the named ``preset`` deep-merged over."""
    settings: dict = {}
    cfg: dict = {}
    default = scenario.preset_path()
    if default is not None:
        settings, cfg = _split_file(load_yaml(default), str(default))
    if preset is None:
        return settings, cfg
    known = scenario.presets()
    if preset not in known:
        listed = ", ".join(known) or "none"
        raise ConfigError(f"--preset: scenario '{scenario.name}' has no preset '{preset}' "
                          f"(presets: {listed})")
    data = load_yaml(known[preset])
    if data.get("scenario", scenario.name) != scenario.name:
        raise ConfigError(f"{known[preset]}: names scenario '{data['scenario']}', "
                          f"not '{scenario.name}'")
    pre_settings, pre_cfg = _split_file(data, str(known[preset]))
    return {**settings, **pre_settings}, deep_merge(cfg, pre_cfg)


def resolve(
    target: str,
    sets: Sequence[str] = (),
    seed: int | None = None,
    reps: int | None = None,
    preset: str | None = None,
) -> Resolved:
    """Resolve ``target`` (a scenario name or a YAML file naming one) with overrides.

    Precedence, lowest first: schema defaults, the scenario's default preset, the named
    ``preset``, the YAML file, ``sets``. Mappings are merged deeply at every level (a file
    giving ``model: {connections: 4}`` keeps the preset's other ``model`` keys).
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
    pre_settings, pre_cfg = _load_preset(scenario, preset)
    settings: dict = {"seed": 0, "reps": 1, **pre_settings, **file_settings}
    cfg = deep_merge(pre_cfg, file_cfg)
    cfg = apply_overrides(cfg, sets)
    if seed is not None:
        settings["seed"] = seed
    if reps is not None:
        settings["reps"] = reps
    _check_settings(settings)
    config = validate(scenario.schema, cfg)
    return Resolved(scenario, config, settings["seed"], settings["reps"], source, preset)


def resolve_manifest(
    path: str | Path,
    sets: Sequence[str] = (),
    seed: int | None = None,
    reps: int | None = None,
) -> Resolved:
    """Resolve the run recorded in a ``manifest.json`` (``netsim run --from``).

    The manifest's resolved config, seed and reps are used as they stand, so the run repeats
    bit for bit; ``sets``, ``seed`` and ``reps`` may still override them.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "manifest.json"
    if not p.is_file():
        raise ConfigError(f"--from: file not found: {p}")
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--from {p}: not a readable JSON manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("kind", "run") != "run" or not all(
        k in data for k in ("scenario", "config", "seed", "reps")
    ):
        raise ConfigError(f"--from {p}: not the manifest of a 'netsim run' (needs kind run, "
                          "scenario, config, seed and reps)")
    scenario = load_scenario(data["scenario"])
    settings = {"seed": data["seed"] if seed is None else seed,
                "reps": data["reps"] if reps is None else reps}
    _check_settings(settings)
    cfg = apply_overrides(data["config"] or {}, sets)
    config = validate(scenario.schema, cfg)
    return Resolved(scenario, config, settings["seed"], settings["reps"], str(p),
                    data.get("preset"))


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
