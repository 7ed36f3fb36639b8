"""Config schema and model factory for one QoS-scheduled quantum network run.

:class:`QoSConfig` describes the network (topology, link capabilities, qubits and memory
coherence per node), the timing (slot, operation durations), the workload (number of
demands, F_min, the menu of periods) and the schedulers to compare. :func:`build_network`
makes the graph, :func:`make_workload` draws demands and finds their protocols, and
:func:`run_point` admits, schedules and executes the workload under every scheduler, with
the same demands and the same random streams for each (common random numbers).

Defaults: NV links (5 km, LinkScheduling table), 1 communication + 3 storage qubits per node,
memory coherence τ = 1.5 s (the depolarising time that matches the initial fidelity decay of
a Bell pair under the T2 = 1 s dephasing of LinkScheduling's NV carbon memories: τ = 1.5·T2);
SURFnet uses the futuristic link (F = 0.999 at 1400 pairs/s) and τ = 60 s (NV nuclear-spin
memories with decoupling, Bradley et al., PRX 9, 031045, 2019).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from netsim import Config, Simulation
from netsim.rng import stream

from .capabilities import attach_capabilities
from .demands import Demand, path_length_km, period_slots, route
from .protocol_search import Plan, SearchParams, search_protocol
from .qos import ExecParams, aggregate_qos, execute, task_qos
from .scheduling import SCHEDULERS, PeriodicTask, admit, schedule_metrics
from .topologies import build_topology, end_nodes, equip

__all__ = [
    "QubitConfig",
    "QoSConfig",
    "Offer",
    "build_network",
    "search_params",
    "exec_params",
    "make_workload",
    "run_point",
    "NV_COHERENCE_S",
    "FUTURISTIC_COHERENCE_S",
]

NV_COHERENCE_S = 1.5
FUTURISTIC_COHERENCE_S = 60.0
SchedulerName = Literal["PTS-NP-EDF", "RCPSP-NP-EDF", "RCPSP-NP-FPR", "RCPSP-PB-EDF"]


class QubitConfig(Config):
    comm: int = Field(1, ge=1, le=8, description="communication qubits (>= 1 to make links)")
    storage: int = Field(3, ge=0, le=16, description="storage qubits")


class QoSConfig(Config):
    topology: Literal["line", "H", "star", "symm", "surfnet"] = "H"
    link: Literal["auto", "nv", "futuristic"] = Field(
        "auto", description="auto: futuristic on surfnet, else nv"
    )
    link_length_km: float = Field(
        5.0, gt=0, le=50, description="link length of the small networks (km)"
    )
    access_km: float = Field(1.0, ge=0, le=50, description="SURFnet end-node access fibre (km)")
    end_node: QubitConfig = Field(default_factory=QubitConfig)
    repeater: QubitConfig = Field(default_factory=QubitConfig)
    coherence_s: float | None = Field(
        None, gt=0, description="memory τ (s); None: 1.5 (nv), 60 (futuristic)"
    )
    slot_s: float = Field(0.01, gt=0, le=1.0, description="slot length (s)")
    window_factor: float = Field(1.0, gt=0, le=10, description="link window = factor / R")
    swap_slots: int = Field(1, ge=1, le=100)
    distill_slots: int = Field(1, ge=1, le=100)
    swap_success: float = Field(1.0, gt=0, le=1)
    max_distill_rounds: int = Field(2, ge=0, le=4)
    f_min: float = Field(0.6, gt=0.25, le=1.0, description="fidelity threshold of every demand")
    demands: int = Field(8, ge=1, le=500, description="demands offered (the offered load)")
    periods: list[int] = Field(
        default_factory=lambda: [16, 32, 64, 128],
        min_length=1,
        description="menu of periods (slots); a demand's rate is 1/(p·slot)",
    )
    schedulers: list[SchedulerName] = Field(default_factory=lambda: list(SCHEDULERS), min_length=1)
    preemption_budget: int = Field(4, ge=0, le=1000, description="idle slots a PB job may insert")
    plan_creation: Literal["start", "end"] = Field(
        "start", description="plan link pairs as created at the window start (worst case) or end"
    )
    link_model: Literal["heralded", "deterministic"] = "heralded"
    hyperperiods: int = Field(20, ge=1, le=100_000, description="hyperperiods executed")
    max_hyperperiod: int = Field(100_000, ge=1, description="largest hyperperiod admitted (slots)")

    @model_validator(mode="after")
    def _check(self):
        if any(p < 1 for p in self.periods):
            raise ValueError(f"periods: every period must be >= 1 slot (got {self.periods})")
        if len(set(self.schedulers)) != len(self.schedulers):
            raise ValueError("schedulers: each scheduler may appear once")
        return self

    @property
    def link_kind(self) -> str:
        if self.link != "auto":
            return self.link
        return "futuristic" if self.topology == "surfnet" else "nv"

    @property
    def tau_s(self) -> float:
        if self.coherence_s is not None:
            return self.coherence_s
        return FUTURISTIC_COHERENCE_S if self.link_kind == "futuristic" else NV_COHERENCE_S


def build_network(cfg: QoSConfig) -> nx.Graph:
    """The topology with link capabilities and qubits/memories on every node."""
    if cfg.topology == "surfnet":
        g = build_topology("surfnet", access_km=cfg.access_km)
    else:
        g = build_topology(cfg.topology, length_km=cfg.link_length_km)
    attach_capabilities(g, cfg.link_kind)
    return equip(
        g,
        (cfg.end_node.comm, cfg.end_node.storage),
        (cfg.repeater.comm, cfg.repeater.storage),
        cfg.tau_s,
    )


def search_params(cfg: QoSConfig) -> SearchParams:
    return SearchParams(
        slot_s=cfg.slot_s,
        window_factor=cfg.window_factor,
        swap_slots=cfg.swap_slots,
        distill_slots=cfg.distill_slots,
        swap_success=cfg.swap_success,
        max_distill_rounds=cfg.max_distill_rounds,
        plan_creation=cfg.plan_creation,
    )


def exec_params(cfg: QoSConfig) -> ExecParams:
    return ExecParams(cfg.slot_s, cfg.link_model, cfg.swap_success, cfg.hyperperiods)


@dataclass(frozen=True, eq=False)
class Offer:
    """An offered demand with its path, its protocol (``None`` if none meets F_min) and its
    period; ``reason`` says why it cannot be served (``""`` if it can)."""

    name: str
    demand: Demand
    path: tuple
    plan: Plan | None
    period: int
    reason: str

    def task(self) -> PeriodicTask | None:
        if self.plan is None or self.reason:
            return None
        return PeriodicTask(self.name, self.plan.shape, self.period, self.demand.f_min)


def make_workload(
    g: nx.Graph, cfg: QoSConfig, rng: np.random.Generator, cache: dict | None = None
) -> list[Offer]:
    """``cfg.demands`` random demands between distinct end nodes at ``cfg.f_min``.

    Each demand is routed on the shortest path (fibre length) and given the fastest
    protocol meeting F_min; its period is drawn uniformly from the menu entries the protocol
    can sustain (period >= makespan), as in paper (a) where rates are chosen among those the
    protocol supports. ``cache`` memoises protocols by (path, F_min) across calls.
    """
    ends = end_nodes(g)
    if len(ends) < 2:
        raise ValueError("the network needs at least two end nodes")
    params = search_params(cfg)
    cache = {} if cache is None else cache
    menu = sorted(set(cfg.periods))
    offers = []
    for i in range(cfg.demands):
        a, b = rng.choice(len(ends), size=2, replace=False)
        u = float(rng.random())  # drawn for every demand: the stream does not depend on plans
        src, dst = ends[int(a)], ends[int(b)]
        probe = Demand(src, dst, cfg.f_min, 1.0)
        path = tuple(route(g, probe))
        key = (path, cfg.f_min, cfg.plan_creation)
        if key not in cache:
            cache[key] = search_protocol(g, path, cfg.f_min, params, max_slots=menu[-1])
        plan = cache[key]
        eligible = [p for p in menu if plan is not None and p >= plan.makespan]
        if plan is None:
            period, reason = menu[int(u * len(menu))], "fidelity"
        elif not eligible:
            period, reason = menu[-1], "rate"
        else:
            period, reason = eligible[int(u * len(eligible))], ""
        rate = 1.0 / (period * cfg.slot_s)
        assert period_slots(rate, cfg.slot_s) == period
        offers.append(Offer(f"d{i}", Demand(src, dst, cfg.f_min, rate), path, plan, period, reason))
    return offers


def run_point(
    cfg: QoSConfig, seed: int, g: nx.Graph | None = None, cache: dict | None = None
) -> pd.DataFrame:
    """Admit, schedule and execute one random workload under every scheduler of ``cfg``.

    Returns tidy rows ``scheduler, metric, value`` with the network totals of
    :func:`~quantum.qos.aggregate_qos`, the schedule's own (deterministic) worst response
    time and jitter (``sched_latency_s``, ``sched_jitter_s2``), the offered rate and the
    number of demands that have a protocol (``servable``).
    """
    g = build_network(cfg) if g is None else g
    offers = make_workload(g, cfg, stream(seed, "qos.workload"), cache)
    candidates = [(o, o.task()) for o in offers if o.task() is not None]
    tasks = [t for _, t in candidates]
    paths = [path_length_km(g, list(o.path)) for o, _ in candidates]
    offered_rate = sum(o.demand.rate_hz for o in offers)
    xp = exec_params(cfg)
    rows = []
    for name in cfg.schedulers:
        admitted, sched = admit(tasks, name, cfg.preemption_budget, cfg.slot_s, cfg.max_hyperperiod)
        sim = Simulation(seed)
        deliveries = execute(sim, sched, [paths[i] for i in admitted], xp)
        horizon = sched.hyperperiod * cfg.slot_s * cfg.hyperperiods
        per = [
            task_qos(d, t, horizon, cfg.slot_s)
            for d, t in zip(deliveries, sched.tasks, strict=True)
        ]
        agg = aggregate_qos(per, len(offers))
        sm = schedule_metrics(sched, cfg.slot_s)
        agg["sched_latency_s"] = (
            float(np.mean([m["worst_response_s"] for m in sm])) if sm else float("nan")
        )
        agg["sched_jitter_s2"] = (
            float(np.mean([m["jitter_s2"] for m in sm])) if sm else float("nan")
        )
        agg["preempted_slots"] = float(sum(m["preempted_slots"] for m in sm))
        agg["offered_rate_hz"] = offered_rate
        agg["servable"] = len(tasks)
        rows.extend((name, k, float(v)) for k, v in agg.items())
    return pd.DataFrame(rows, columns=["scheduler", "metric", "value"])
