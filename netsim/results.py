"""Result folders: tidy Parquet, a CSV summary, a manifest, figures; written atomically.

A run writes into a temporary sibling folder that is renamed into place only when every
file is complete, so a failed run leaves the output path untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError
from .stats import summarize

__all__ = [
    "KINDS",
    "atomic_output_dir",
    "check_output_kind",
    "command_line",
    "set_command_line",
    "manifest_kind",
    "default_summary",
    "git_revision",
    "make_parents",
    "package_versions",
    "remove_empty",
    "write_json",
    "write_parquet",
    "MANIFEST",
]

MANIFEST = "manifest.json"
#: the kinds of results folder; each manifest names its kind under ``"kind"``
KINDS = ("run", "sweep", "train", "bench")
_KEY_PACKAGES = (
    "netsim", "numpy", "scipy", "simpy", "networkx", "gymnasium", "stable-baselines3",
    "torch", "pandas", "pyarrow", "scikit-learn", "pydantic", "dask", "distributed",
)
_NON_KEYS = {"rep", "seed", "value", "time"}
_SERIES_KINDS = {"sample", "level"}


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_revision(path: str | Path | None = None) -> str | None:
    """``HEAD`` of the git checkout holding ``path`` (default: this package), with a
    ``-dirty`` suffix for uncommitted changes; ``None`` outside a checkout."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty else "") if rev else None


def default_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, CV and 95% Student-t CI across replications of every scalar metric.

    Rows of kind ``sample`` / ``level`` (time series) are left out; the groups are all
    columns except ``rep``, ``seed``, ``time`` and ``value``.
    """
    if "kind" in df.columns:
        df = df[~df["kind"].isin(_SERIES_KINDS)]
    keys = [c for c in df.columns if c not in _NON_KEYS]
    return summarize(df, keys)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False, engine="pyarrow")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def write_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_manifest(fields: dict[str, Any], folder: Path, stamp: str = "finished_utc") -> None:
    """``folder/manifest.json``: ``fields`` plus provenance (package versions, git revision,
    the shell-quoted command line and a UTC time stamp under ``stamp``)."""
    provenance = {"versions": package_versions(), "git_revision": git_revision(),
                  "command": command_line(), stamp: now_utc()}
    write_json(fields | provenance, folder / MANIFEST)


def _replaceable(out: Path) -> bool:
    return not out.exists() or (
        out.is_dir() and (not any(out.iterdir()) or (out / MANIFEST).is_file())
    )


def manifest_kind(out: str | Path) -> str | None:
    """The kind (:data:`KINDS`) of the netsim results folder ``out``, or ``None`` when ``out``
    holds no readable manifest. Manifests written before kinds existed are recognised by their
    keys (a sweep has a ``fingerprint``, a training run an ``algo``, a run ``rep_seeds``)."""
    try:
        data = json.loads((Path(out) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    kind = data.get("kind")
    if isinstance(kind, str):
        return kind
    for key, guess in (("fingerprint", "sweep"), ("algo", "train"), ("rep_seeds", "run")):
        if key in data:
            return guess
    return "unknown"


def check_output_kind(out: str | Path, kind: str, force: bool = False) -> None:
    """Refuse to replace a results folder of another kind.

    ``netsim run --out <a sweep folder>`` would otherwise silently replace a whole sweep. A
    missing or empty ``out``, or one holding results of the same ``kind``, passes; a folder
    whose manifest names another kind raises a ConfigError unless ``force``. (A folder that is
    not a netsim results folder at all is refused by :func:`atomic_output_dir` even with
    ``force``.)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    found = manifest_kind(out)
    if found is None or found == kind or force:
        return
    raise ConfigError(
        f"--out {Path(out)}: holds {found} results, not {kind} results; "
        "choose another folder or pass --force to replace it"
    )


@contextlib.contextmanager
def atomic_output_dir(
    out: str | Path, kind: str | None = None, force: bool = False
) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out`` when the block succeeds.

    ``out`` may be missing, empty, or an earlier netsim result (it has a manifest); any
    other existing path is refused with a ConfigError before anything is written. With a
    ``kind``, an earlier result of another kind is refused too, unless ``force``
    (:func:`check_output_kind`).
    """
    out = Path(out).resolve()
    if not _replaceable(out):
        raise ConfigError(f"--out {out}: exists and is not a netsim results folder; choose another")
    if kind is not None:
        check_output_kind(out, kind, force)
    created = make_parents(out)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        remove_empty(created)
        raise ConfigError(f"--out {out}: cannot write into {out.parent} ({exc.strerror})") from None
    try:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
            try:
                os.replace(tmp, out)
            except BaseException:
                os.replace(old, out)  # put the previous results back
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_empty(created)
        raise


def make_parents(out: Path) -> list[Path]:
    """Create the missing parent folders of ``out``; returns them, deepest first, so that a
    failed run can remove them again. A parent that cannot be created is a ConfigError."""
    missing = [p for p in out.parents if not p.exists()]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        remove_empty(missing)
        raise ConfigError(f"--out {out}: cannot create parent folder ({exc.strerror})") from None
    return missing


def remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) as long as they are empty."""
    for p in folders:
        try:
            p.rmdir()
        except OSError:
            return


_COMMAND: list[str] | None = None


def set_command_line(argv: list[str] | None) -> None:
    """Record the command line the CLI is running (``["netsim", "run", ...]``), for
    :func:`command_line`; ``None`` falls back to ``sys.argv``."""
    global _COMMAND
    _COMMAND = None if argv is None else list(argv)


def command_line(argv: list[str] | None = None) -> str:
    """The command that made this process's results, shell-quoted so it can be pasted back
    (``netsim run mm1 --set 'stations=[{servers: 2}]'``). ``argv`` defaults to the command
    recorded by :func:`set_command_line`, else ``sys.argv``."""
    if argv is None:
        argv = _COMMAND if _COMMAND is not None else sys.argv
    args = list(argv)
    if not args:
        return "netsim"
    return shlex.join([Path(args[0]).name, *args[1:]])
