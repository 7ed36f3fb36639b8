"""Auction instances from trace rows plus the IoT attributes the trace does not have.

From the trace (real sample or synthetic with its marginals): request demand (CPU request),
priority, requester (user), submit time; resource capacity (CPU) and platform. Everything else
is synthetic and drawn from the named stream passed in, with the distributions below (the
Google trace has no prices, budgets, locations, reliabilities or energy data):

* resource type = platform (the 2011 cell has 3); a request's type is drawn in proportion to
  the offered capacity of each type, so every type sees demand;
* offered capacity = ``spare_fraction`` × CPU capacity (the auction sells spare capacity of
  machines that already run other work; this sets contention); with ``memory=True`` also
  ``spare_fraction`` × the machine's memory, and each request's memory request (a missing
  one counts 0): the instance is then a vector packing (CPU and memory). The memory arrays are
  added after every random draw, so the rest of the instance is the CPU-only one;
* locations: ``sites`` hotspots uniform in an ``area_km`` square; resources and requests sit
  around a uniformly chosen hotspot with a Gaussian spread of ``site_spread_km``;
* reliability ``1 − 10^U(−3,−1)`` (0.9-0.999), availability ``1 − 10^U(−4,−1.5)``;
  energy efficiency = a per-platform level U(0.4, 0.9) plus N(0, 0.05), clipped to [0.05, 1];
* unit cost ``c̄·(0.5 + (rel + eff)/2)·LogNormal(0, 0.1)`` - better resources cost more;
* budget ``B_i = d_i·v_i`` with ``v_i = c̄·budget_factor·(1 + priority/11)·LogNormal(0, σ_b)``;
* a fraction ``qos_floor_fraction`` of requests has a reliability floor U(0.9, 0.99) and a
  latency ceiling U(0.5, 1.5) × the latency to their hotspot's centre plus 2 ms;
* holding time (online auction): exponential with mean ``mean_duration_s``, or with
  ``durations="trace"`` the task's own run time in the trace (``run_s``; a task that did not
  end within the excerpt holds its resource to the end, ``inf``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import Instance, Requests, Resources, UtilityParams
from .traces import Trace

__all__ = ["WorkloadSpec", "codes", "make_instance", "instance_from_arrays", "trace_instance"]


@dataclass(frozen=True)
class WorkloadSpec:
    """Distributions of the synthetic IoT attributes (see the module docstring)."""

    spare_fraction: float = 0.2
    area_km: float = 200.0
    sites: int = 8
    site_spread_km: float = 15.0
    unit_cost: float = 1.0
    budget_factor: float = 1.5
    budget_sigma: float = 0.4
    qos_floor_fraction: float = 0.2
    mean_duration_s: float = 60.0
    types: str = "platform"  # "platform" or "single"
    durations: str = "exponential"  # "exponential" or "trace" (the trace's run_s)
    memory: bool = False  # vector packing: memory request and spare memory from the trace too

    def __post_init__(self):
        if not 0 < self.spare_fraction <= 1:
            raise ValueError(f"spare_fraction must be in (0, 1], got {self.spare_fraction}")
        if self.area_km <= 0 or self.sites < 1 or self.site_spread_km < 0:
            raise ValueError("area_km must be > 0, sites >= 1, site_spread_km >= 0")
        if self.unit_cost <= 0 or self.budget_factor <= 0 or self.budget_sigma < 0:
            raise ValueError("unit_cost and budget_factor must be > 0, budget_sigma >= 0")
        if not 0 <= self.qos_floor_fraction <= 1:
            raise ValueError(f"qos_floor_fraction must be in [0, 1], got {self.qos_floor_fraction}")
        if self.mean_duration_s <= 0:
            raise ValueError(f"mean_duration_s must be > 0, got {self.mean_duration_s}")
        if self.durations not in ("exponential", "trace"):
            raise ValueError(f"durations must be 'exponential' or 'trace', got {self.durations!r}")
        if self.types not in ("platform", "single"):
            raise ValueError(f"types must be 'platform' or 'single', got {self.types!r}")


def codes(values: pd.Series) -> np.ndarray:
    """Integer codes ordered by frequency (most common first), ties by value."""
    counts = values.value_counts(sort=False)
    order = sorted(counts.index, key=lambda v: (-counts[v], str(v)))
    return values.map({v: k for k, v in enumerate(order)}).to_numpy(np.int64)


def make_instance(
    trace: Trace,
    rng: np.random.Generator,
    spec: WorkloadSpec | None = None,
    params: UtilityParams | None = None,
) -> Instance:
    """Build an :class:`Instance` from all rows of ``trace`` with synthetic IoT attributes."""
    spec = spec or WorkloadSpec()
    req, mach = trace.requests, trace.machines
    n, m = len(req), len(mach)
    if spec.durations == "trace" and "run_s" not in req.columns:
        raise ValueError("durations='trace' needs a trace with run times (column run_s)")
    return instance_from_arrays(
        time_s=req["time_s"].to_numpy(float),
        cpu=req["cpu"].to_numpy(float),
        priority=req["priority"].to_numpy(np.int64),
        requester=codes(req["user"].astype(str)) if n else np.zeros(0, np.int64),
        run_s=req["run_s"].to_numpy(float) if "run_s" in req.columns else None,
        machine_cpus=mach["cpus"].to_numpy(float),
        platform=codes(mach["platform"].astype(str)) if m else np.zeros(0, np.int64),
        rng=rng,
        spec=spec,
        params=params,
        memory=req["memory"].to_numpy(float) if spec.memory else None,
        machine_memory=mach["memory"].to_numpy(float) if spec.memory else None,
    )


def instance_from_arrays(
    time_s: np.ndarray,
    cpu: np.ndarray,
    priority: np.ndarray,
    requester: np.ndarray,
    run_s: np.ndarray | None,
    machine_cpus: np.ndarray,
    platform: np.ndarray,
    rng: np.random.Generator,
    spec: WorkloadSpec | None = None,
    params: UtilityParams | None = None,
    memory: np.ndarray | None = None,
    machine_memory: np.ndarray | None = None,
) -> Instance:
    """:func:`make_instance` on plain arrays (request rows; machine CPUs and platform codes
    0..P-1 ordered by frequency), for callers that build many instances from one trace.
    With ``spec.memory`` the request ``memory`` and ``machine_memory`` arrays are needed."""
    spec = spec or WorkloadSpec()
    if spec.memory and (memory is None or machine_memory is None):
        raise ValueError("memory=True needs the requests' memory and the machines' memory")
    params = params or UtilityParams()
    n, m = len(time_s), len(machine_cpus)
    platform = np.asarray(platform, np.int64)
    rtype = platform if spec.types == "platform" else np.zeros(m, np.int64)
    capacity = spec.spare_fraction * np.asarray(machine_cpus, float)
    sites = rng.uniform(0.0, spec.area_km, size=(spec.sites, 2))
    res_site = rng.integers(0, spec.sites, m)
    res_loc = sites[res_site] + rng.normal(0.0, spec.site_spread_km, size=(m, 2))
    rel = 1.0 - 10.0 ** rng.uniform(-3.0, -1.0, m)
    avail = 1.0 - 10.0 ** rng.uniform(-4.0, -1.5, m)
    level = rng.uniform(0.4, 0.9, int(platform.max()) + 1 if m else 1)
    eff = np.clip(level[platform] + rng.normal(0.0, 0.05, m), 0.05, 1.0)
    cost = spec.unit_cost * (0.5 + 0.5 * (rel + eff)) * rng.lognormal(0.0, 0.1, m)
    mem_cap = spec.spare_fraction * np.asarray(machine_memory, float) if spec.memory else None
    resources = Resources(rtype, capacity, cost, res_loc, rel, avail, eff, mem_cap)

    n_types = int(rtype.max()) + 1 if m else 1
    share = np.bincount(rtype, weights=capacity, minlength=n_types)
    share = share / share.sum() if share.sum() > 0 else np.full(n_types, 1.0 / n_types)
    qtype = rng.choice(n_types, size=n, p=share)
    demand = np.asarray(cpu, float)
    prio = np.asarray(priority, np.int64)
    v = (
        spec.unit_cost
        * spec.budget_factor
        * (1.0 + prio / 11.0)
        * rng.lognormal(0.0, spec.budget_sigma, n)
    )
    req_site = rng.integers(0, spec.sites, n)
    req_loc = sites[req_site] + rng.normal(0.0, spec.site_spread_km, size=(n, 2))
    floor = rng.random(n) < spec.qos_floor_fraction
    min_rel = np.where(floor, rng.uniform(0.9, 0.99, n), 0.0)
    to_site = np.hypot(*(req_loc - sites[req_site]).T)
    lat_site = params.latency_base_ms + params.latency_ms_per_km * to_site
    max_lat = np.where(floor, rng.uniform(0.5, 1.5, n) * lat_site + 2.0, np.inf)
    t = np.asarray(time_s, float)
    hold = rng.exponential(spec.mean_duration_s, n)
    if spec.durations == "trace":
        if run_s is None:
            raise ValueError("durations='trace' needs a trace with run times (column run_s)")
        run = np.asarray(run_s, float)
        hold = np.where(np.isfinite(run), run, np.inf)
    requests = Requests(
        type=qtype,
        demand=demand,
        budget=demand * v,
        priority=prio,
        location=req_loc,
        requester=requester,
        min_reliability=min_rel,
        max_latency_ms=max_lat,
        arrival_s=t - (t.min() if n else 0.0),
        duration_s=hold,
        mem_demand=np.nan_to_num(np.asarray(memory, float)) if spec.memory else None,
    )
    return Instance(resources, requests)


def trace_instance(
    trace: Trace,
    n_requests: int,
    n_resources: int,
    rng: np.random.Generator,
    spec: WorkloadSpec | None = None,
    params: UtilityParams | None = None,
) -> Instance:
    """``n_requests`` SUBMIT rows and ``n_resources`` machines drawn without replacement from
    ``trace`` (kept in trace order), with synthetic IoT attributes."""
    if n_requests > len(trace.requests) or n_resources > len(trace.machines):
        raise ValueError(
            f"trace has {len(trace.requests)} requests and {len(trace.machines)} machines; "
            f"asked for {n_requests} and {n_resources}"
        )
    qi = np.sort(rng.choice(len(trace.requests), n_requests, replace=False))
    mi = np.sort(rng.choice(len(trace.machines), n_resources, replace=False))
    sub = Trace(
        trace.requests.iloc[qi].reset_index(drop=True),
        trace.machines.iloc[mi].reset_index(drop=True),
        trace.format,
    )
    return make_instance(sub, rng, spec, params)
