"""Google cluster trace loaders (2011 and 2019 formats) and a synthetic generator matching the
real sample's marginals.

Both loaders return a :class:`Trace` of two tidy frames:

* ``requests``: one row per SUBMIT event - ``time_s, collection_id, instance_index, user,
  priority, scheduling_class, cpu, memory, run_s``; ``run_s`` is the task's run time in the
  excerpt, from its first SCHEDULE after the SUBMIT to its first end event (EVICT, FAIL,
  FINISH, KILL, LOST) after that, and NaN when it does not end within the excerpt (censored:
  it still ran at the excerpt's end);
* ``machines``: one row per machine alive at the end of the file, with its last ADD/UPDATE
  capacities - ``machine_id, platform, cpus, memory``.

Formats (Reiss, Wilkes & Hellerstein, "Google cluster-usage traces: format + schema", v2.1,
2011; Wilkes, "Google cluster-usage traces v3", 2020, ``clusterdata_trace_format_v3.proto``):

* 2011: headerless CSV. ``task_events``: time (µs), missing info, job ID, task index, machine
  ID, event type (0 SUBMIT ... 8 UPDATE_RUNNING), user, scheduling class, priority, CPU
  request, memory request, disk request, different-machine constraint. ``machine_events``:
  time, machine ID, event type (0 ADD, 1 REMOVE, 2 UPDATE), platform ID, CPUs, memory.
* 2019: BigQuery exports, CSV with a header or JSON lines. ``instance_events``: ``time``,
  ``type`` (0 SUBMIT, 1 QUEUE, 2 ENABLE, 3 SCHEDULE, ...), ``collection_id``,
  ``instance_index``, ``priority``, ``scheduling_class``, ``resource_request`` (``cpus``,
  ``memory``; nested or flattened as ``resource_request.cpus``); ``user`` is optional (it lives
  in ``collection_events``; without it the collection is the requester). ``machine_events``:
  ``time``, ``machine_id``, ``type`` (1 ADD, 2 REMOVE, 3 UPDATE), ``capacity`` (``cpus``,
  ``memory``), ``platform_id``.

Empty optional fields (missing-info, machine ID of a SUBMIT, an UPDATE without capacities) are
allowed; SUBMIT rows without a CPU request are dropped and counted in ``Trace.dropped``.

**Resubmissions.** A task that is evicted, fails or is killed is SUBMITted again under the same
(job/collection, task/instance index); the trace documents this lifecycle (Reiss et al. 2011,
§ "task states"). It is the same request, not a new one: the loaders keep the **first** SUBMIT
of each (collection_id, instance_index) pair in the excerpt (its arrival) and count the later
ones in ``Trace.resubmitted`` (the 2011 sample: 287 of 3,827 SUBMIT rows, leaving 3,540
requests; their CPU, memory and priority never differ from the first SUBMIT's).
"""

from __future__ import annotations

import ast
import functools
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "Trace",
    "TASK_EVENTS_2011",
    "MACHINE_EVENTS_2011",
    "load_trace",
    "load_2011",
    "load_2019",
    "load_sample",
    "Marginals",
    "synthetic_trace",
]

TASK_EVENTS_2011 = (
    "time",
    "missing_info",
    "job_id",
    "task_index",
    "machine_id",
    "event_type",
    "user",
    "scheduling_class",
    "priority",
    "cpu_request",
    "memory_request",
    "disk_request",
    "different_machine",
)
MACHINE_EVENTS_2011 = ("time", "machine_id", "event_type", "platform_id", "cpus", "memory")
REQUEST_COLUMNS = (
    "time_s",
    "collection_id",
    "instance_index",
    "user",
    "priority",
    "scheduling_class",
    "cpu",
    "memory",
    "run_s",
)
MACHINE_COLUMNS = ("machine_id", "platform", "cpus", "memory")
SUBMIT = 0  # the SUBMIT event type in both formats (2011 task_events, 2019 instance_events)
_MACHINE_TYPES = {
    "2011": {"add": 0, "remove": 1, "update": 2},
    "2019": {"add": 1, "remove": 2, "update": 3},
}
FORMATS = ("2011", "2019")
#: task event codes of SCHEDULE and of the events that end a run (EVICT, FAIL, FINISH, KILL, LOST)
_TASK_TYPES = {
    "2011": {"schedule": 1, "end": (2, 3, 4, 5, 6)},
    "2019": {"schedule": 3, "end": (4, 5, 6, 7, 8)},
}


@dataclass(frozen=True)
class Trace:
    """Requests (SUBMIT events) and machines of a trace excerpt."""

    requests: pd.DataFrame
    machines: pd.DataFrame
    format: str
    dropped: int = 0  # SUBMIT rows without a CPU request
    resubmitted: int = 0  # later SUBMITs of a (collection_id, instance_index) already seen


def _read_headerless(path: str | Path, columns: tuple[str, ...], table: str) -> pd.DataFrame:
    df = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    if df.shape[1] != len(columns):
        raise ValueError(
            f"{table}: expected {len(columns)} columns in the 2011 format, "
            f"got {df.shape[1]} in {path}"
        )
    df.columns = list(columns)
    return df.replace("", np.nan)


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def _machines(df: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """Last ADD/UPDATE capacities of every machine whose last event is not REMOVE."""
    codes = _MACHINE_TYPES[fmt]
    df = df.assign(time=_num(df["time"]), event_type=_num(df["event_type"]))
    df = df.sort_values(["machine_id", "time"], kind="stable")
    last = df.groupby("machine_id", sort=True).tail(1)
    alive = set(last.loc[last["event_type"] != codes["remove"], "machine_id"])
    up = df[
        df["event_type"].isin([codes["add"], codes["update"]]) & df["machine_id"].isin(alive)
    ].copy()
    for col in ("platform", "cpus", "memory"):  # an UPDATE may leave fields empty
        up[col] = up.groupby("machine_id", sort=False)[col].ffill()
    out = up.groupby("machine_id", sort=True).tail(1)
    out = out.assign(cpus=_num(out["cpus"]), memory=_num(out["memory"]))
    out = out[out["cpus"].notna()]
    return out.loc[:, list(MACHINE_COLUMNS)].reset_index(drop=True)


def _run_times(df: pd.DataFrame, fmt: str, key: pd.DataFrame) -> np.ndarray:
    """Run time of each task in ``key`` (columns collection_id, instance_index, time_s of
    its SUBMIT): first end event after its first SCHEDULE after the SUBMIT; NaN if none."""
    codes = _TASK_TYPES[fmt]
    ev = pd.DataFrame(
        {
            "collection_id": df["collection_id"].astype(str),
            "instance_index": _num(df["instance_index"]).fillna(-1).astype(np.int64),
            "t": _num(df["time"]) / 1e6,
            "e": _num(df["event_type"]),
        }
    )
    k = key.reset_index().rename(columns={"index": "row"})
    sch = ev[ev["e"] == codes["schedule"]].merge(k, on=["collection_id", "instance_index"])
    sch = sch[sch["t"] >= sch["time_s"]].groupby("row")["t"].min().rename("start")
    end = ev[ev["e"].isin(codes["end"])].merge(sch.reset_index().merge(k, on="row"))
    end = (
        end[end["t"] >= end["start"]]
        .groupby("row")
        .agg(stop=("t", "min"), start=("start", "first"))
    )
    out = np.full(len(key), np.nan)
    out[end.index.to_numpy()] = (end["stop"] - end["start"]).to_numpy()
    return out


def _requests(df: pd.DataFrame, fmt: str) -> tuple[pd.DataFrame, int, int]:
    """SUBMIT rows as requests, sorted by time; drops rows without a CPU request and the
    resubmissions (the first SUBMIT of each (collection_id, instance_index) stays)."""
    sub = df[_num(df["event_type"]) == SUBMIT]
    cpu = _num(sub["cpu"])
    out = pd.DataFrame(
        {
            "time_s": _num(sub["time"]).to_numpy() / 1e6,
            "collection_id": sub["collection_id"].astype(str).to_numpy(),
            "instance_index": _num(sub["instance_index"]).fillna(-1).astype(np.int64).to_numpy(),
            "user": sub["user"].astype(str).to_numpy(),
            "priority": _num(sub["priority"]).fillna(0).astype(np.int64).to_numpy(),
            "scheduling_class": _num(sub["scheduling_class"]).fillna(0).astype(np.int64).to_numpy(),
            "cpu": cpu.to_numpy(),
            "memory": _num(sub["memory"]).to_numpy(),
        }
    )
    keep = out["cpu"].notna().to_numpy()
    out = out[keep].sort_values("time_s", kind="stable")
    again = out.duplicated(["collection_id", "instance_index"], keep="first").to_numpy()
    out = out[~again].reset_index(drop=True)
    out["run_s"] = _run_times(df, fmt, out.loc[:, ["collection_id", "instance_index", "time_s"]])
    return out, int((~keep).sum()), int(again.sum())


def load_2011(task_events: str | Path, machine_events: str | Path) -> Trace:
    """Load headerless 2011 ``task_events`` and ``machine_events`` CSV files (gz is fine)."""
    t = _read_headerless(task_events, TASK_EVENTS_2011, "task_events")
    t = t.rename(
        columns={
            "job_id": "collection_id",
            "task_index": "instance_index",
            "cpu_request": "cpu",
            "memory_request": "memory",
        }
    )
    req, dropped, again = _requests(t, "2011")
    m = _read_headerless(machine_events, MACHINE_EVENTS_2011, "machine_events")
    m = m.rename(columns={"platform_id": "platform"})
    return Trace(req, _machines(m, "2011"), "2011", dropped, again)


def _read_2019(path: str | Path) -> pd.DataFrame:
    p = str(path)
    if p.endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz")):
        raw = pd.read_json(p, lines=True, dtype=False)
        df = pd.json_normalize(raw.to_dict(orient="records"))
    else:
        df = pd.read_csv(p, dtype=str, keep_default_na=False).replace("", np.nan)
    # a nested column exported as text, e.g. "{'cpus': 0.1, 'memory': 0.2}"
    for col in ("resource_request", "capacity"):
        if col in df.columns:
            parsed = df[col].map(_parse_resources)
            for k, name in enumerate(("cpus", "memory")):
                vals = parsed.map(lambda r, k=k: r[k])
                flat = f"{col}.{name}"
                df[flat] = df[flat].fillna(vals) if flat in df.columns else vals
    return df


def _parse_resources(v) -> tuple[float, float]:
    if isinstance(v, dict):
        return v.get("cpus", np.nan), v.get("memory", np.nan)
    if isinstance(v, str) and v.strip():
        try:
            d = ast.literal_eval(v.strip())
        except (ValueError, SyntaxError):
            raise ValueError(
                f"resources: cannot parse {v!r} (expected {{'cpus': x, 'memory': y}})"
            ) from None
        if isinstance(d, dict):
            return d.get("cpus", np.nan), d.get("memory", np.nan)
    return np.nan, np.nan


def _require(df: pd.DataFrame, cols: tuple[str, ...], table: str) -> None:
    for c in cols:
        if c not in df.columns:
            raise ValueError(f"{table}: missing column '{c}' (2019 format needs {', '.join(cols)})")


def load_2019(instance_events: str | Path, machine_events: str | Path) -> Trace:
    """Load 2019 ``instance_events`` and ``machine_events`` (CSV with header or JSON lines)."""
    ie = _read_2019(instance_events)
    _require(
        ie,
        (
            "time",
            "type",
            "collection_id",
            "instance_index",
            "priority",
            "scheduling_class",
            "resource_request.cpus",
            "resource_request.memory",
        ),
        "instance_events",
    )
    user = ie["user"] if "user" in ie.columns else ie["collection_id"]
    t = pd.DataFrame(
        {
            "time": ie["time"],
            "event_type": ie["type"],
            "collection_id": ie["collection_id"],
            "instance_index": ie["instance_index"],
            "user": user,
            "priority": ie["priority"],
            "scheduling_class": ie["scheduling_class"],
            "cpu": ie["resource_request.cpus"],
            "memory": ie["resource_request.memory"],
        }
    )
    req, dropped, again = _requests(t, "2019")
    me = _read_2019(machine_events)
    _require(
        me,
        ("time", "machine_id", "type", "capacity.cpus", "capacity.memory", "platform_id"),
        "machine_events",
    )
    m = pd.DataFrame(
        {
            "time": me["time"],
            "machine_id": me["machine_id"].astype(str),
            "event_type": me["type"],
            "platform": me["platform_id"],
            "cpus": me["capacity.cpus"],
            "memory": me["capacity.memory"],
        }
    )
    return Trace(req, _machines(m, "2019"), "2019", dropped, again)


def load_trace(fmt: str, events: str | Path, machine_events: str | Path) -> Trace:
    """Load a trace excerpt in format ``"2011"`` or ``"2019"``."""
    if str(fmt) not in FORMATS:
        raise ValueError(f"trace format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    loader = load_2011 if str(fmt) == "2011" else load_2019
    return loader(events, machine_events)


@functools.cache
def load_sample() -> Trace:
    """The real clusterdata-2011-2 sample shipped in ``auction/data`` (see its README)."""
    root = importlib.resources.files("auction").joinpath("data")
    return load_2011(
        Path(str(root.joinpath("task_events_600s-900s.csv.gz"))),
        Path(str(root.joinpath("machine_events_0-900s.csv.gz"))),
    )


@dataclass(frozen=True)
class Marginals:
    """Empirical marginals of a trace: request rows (cpu, memory, priority, scheduling class),
    tasks per user, machine rows (cpus, memory, platform) and the SUBMIT rate (1/s)."""

    request_rows: pd.DataFrame
    tasks_per_user: np.ndarray
    machine_rows: pd.DataFrame
    submit_rate: float

    @classmethod
    def fit(cls, trace: Trace) -> Marginals:
        r = trace.requests
        span = float(r["time_s"].max() - r["time_s"].min()) if len(r) > 1 else 1.0
        return cls(
            request_rows=r.loc[:, ["cpu", "memory", "priority", "scheduling_class"]].reset_index(
                drop=True
            ),
            tasks_per_user=r["user"].value_counts().to_numpy(),
            machine_rows=trace.machines.loc[:, ["cpus", "memory", "platform"]].reset_index(
                drop=True
            ),
            submit_rate=len(r) / max(span, 1e-9),
        )


def synthetic_trace(
    n_requests: int, n_machines: int, rng: np.random.Generator, marginals: Marginals | None = None
) -> Trace:
    """A synthetic trace of any size whose marginals match ``marginals`` (default: the sample).

    Request rows and machine rows are bootstrap draws (with replacement) of the sample's rows,
    so the CPU, memory, priority and capacity distributions - atoms included - are the
    sample's. Users get sizes drawn from the sample's tasks-per-user distribution. Submit
    times are a Poisson process at the sample's SUBMIT rate.
    """
    if n_requests < 0 or n_machines < 0:
        raise ValueError("synthetic_trace: n_requests and n_machines must be >= 0")
    mg = marginals or Marginals.fit(load_sample())
    rows = mg.request_rows.iloc[rng.integers(0, len(mg.request_rows), n_requests)].reset_index(
        drop=True
    )
    sizes = []
    while sum(sizes) < n_requests:
        sizes.append(int(mg.tasks_per_user[rng.integers(0, mg.tasks_per_user.size)]))
    user = np.repeat(np.arange(len(sizes)), sizes)[:n_requests]
    times = 600.0 + np.cumsum(rng.exponential(1.0 / mg.submit_rate, n_requests))
    req = pd.DataFrame(
        {
            "time_s": times,
            "collection_id": user.astype(str),
            "instance_index": np.arange(n_requests),
            "user": user.astype(str),
            "priority": rows["priority"].to_numpy(),
            "scheduling_class": rows["scheduling_class"].to_numpy(),
            "cpu": rows["cpu"].to_numpy(),
            "memory": rows["memory"].to_numpy(),
        }
    )
    mrows = mg.machine_rows.iloc[rng.integers(0, len(mg.machine_rows), n_machines)].reset_index(
        drop=True
    )
    mach = pd.DataFrame(
        {
            "machine_id": np.arange(n_machines).astype(str),
            "platform": mrows["platform"].to_numpy(),
            "cpus": mrows["cpus"].to_numpy(),
            "memory": mrows["memory"].to_numpy(),
        }
    )
    return Trace(req, mach, "synthetic")
