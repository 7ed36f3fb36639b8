"""Executing a periodic schedule on the engine and measuring the QoS it delivers.

The schedule of one hyperperiod repeats ``hyperperiods`` times. Every job runs its task's
operations at the scheduled slots:

* **link generation** (heralded, default): attempts fill the reserved window of ``W`` slots;
  the first success comes after an ``Exp(R)`` time (the continuum limit of Bernoulli attempts
  at average rate R), so the window succeeds with probability ``1 − exp(−R·W·slot)`` and the
  pair is created at ``window start + T`` and decays in memory from then on. A failed window
  loses the job's instance. ``deterministic``: the pair appears at the window's end (the
  model the schedule was planned with; executing it reproduces the nominal fidelities);
* **swap**: succeeds with probability ``swap_success``, ``F = F1·F2 + (1−F1)(1−F2)/3``;
* **distillation**: BBPSSW, succeeding with ``p = (1 + w1·w2)/2`` at the actual (decayed)
  input fidelities.

A delivered pair reaches the application when the final swap or distillation outcome has
crossed the path: ``delivery = finish + L_path / c_fiber``. Each delivery is an event on the
engine clock. Per demand the run reports throughput (pairs/s delivered at F >= F_min),
mean delivered fidelity, worst-case and mean latency (delivery − release) and jitter
``Var(Δ − p)`` of the inter-delivery times Δ of good pairs (issue 6; LinkScheduling's
``np.var(s2 − s1 − p)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from netsim import Simulation

from .physics import C_FIBER_M_S
from .protocol_search import LINK, SWAP, evaluate
from .scheduling import Schedule

__all__ = ["ExecParams", "draw_outcomes", "Delivery", "execute", "task_qos", "aggregate_qos"]

LINK_MODELS = ("heralded", "deterministic")


@dataclass(frozen=True)
class ExecParams:
    """Execution settings: slot (s), link model, swap success probability, repetitions."""

    slot_s: float = 0.01
    link_model: str = "heralded"
    swap_success: float = 1.0
    hyperperiods: int = 20

    def __post_init__(self) -> None:
        if self.link_model not in LINK_MODELS:
            raise ValueError(
                f"link_model: unknown {self.link_model!r} (allowed: {', '.join(LINK_MODELS)})"
            )
        if not (self.slot_s > 0 and math.isfinite(self.slot_s)):
            raise ValueError(f"slot_s: must be a positive number of seconds (got {self.slot_s!r})")
        if not 0 < self.swap_success <= 1:
            raise ValueError(f"swap_success: must be in (0, 1] (got {self.swap_success!r})")
        if (
            isinstance(self.hyperperiods, bool)
            or not isinstance(self.hyperperiods, int)
            or self.hyperperiods < 1
        ):
            raise ValueError(f"hyperperiods: must be an integer >= 1 (got {self.hyperperiods!r})")


def draw_outcomes(shape, starts: np.ndarray, rng: np.random.Generator, params: ExecParams):
    """Success and delivered fidelity of ``J`` instances of ``shape`` whose ops start at
    ``starts`` (``(J, K)`` absolute slots). Vectorised over instances; draws come from
    ``rng`` in a fixed order (generation times, swap and distillation uniforms)."""
    starts = np.atleast_2d(np.asarray(starts, dtype=np.int64))
    n, k_ops = starts.shape
    slot = params.slot_s
    t_gen = rng.exponential(1.0, size=(n, k_ops))
    u_swap = rng.random((n, k_ops))
    u_dist = rng.random((n, k_ops))
    created = np.full((n, k_ops), np.nan)
    swap_ok = np.ones((n, k_ops), dtype=bool)
    for k, op in enumerate(shape.ops):
        if op.kind == LINK:
            w0 = starts[:, k] * slot
            window = op.duration * slot
            if params.link_model == "deterministic":
                created[:, k] = w0 + window
            else:
                t = t_gen[:, k] / op.rate_hz
                created[:, k] = np.where(t <= window, w0 + t, np.nan)
        elif op.kind == SWAP:
            swap_ok[:, k] = u_swap[:, k] < params.swap_success
    return evaluate(shape, slot, start=starts, created_s=created, swap_ok=swap_ok, distill_u=u_dist)


@dataclass
class Delivery:
    """Outcomes of one demand's jobs, in delivery order."""

    release_s: list
    delivered_s: list
    fidelity: list
    ok: list


def execute(
    sim: Simulation,
    sched: Schedule,
    path_km: list[float],
    params: ExecParams,
) -> list[Delivery]:
    """Run the cyclic schedule for ``params.hyperperiods`` hyperperiods on ``sim``.

    ``path_km[i]`` is the fibre length of task ``i``'s path (classical delay of the final
    outcome). Task ``i`` draws from stream ``qos.<task name>`` so that the same demand sees
    the same randomness under every scheduler (common random numbers). Returns one
    :class:`Delivery` per task; each delivery is an engine event at its delivery time.
    """
    h = sched.hyperperiod
    reps = params.hyperperiods
    slot = params.slot_s
    out = [Delivery([], [], [], []) for _ in sched.tasks]

    def record(i: int, release: float, f: float, ok: bool) -> None:
        d = out[i]
        d.release_s.append(release)
        d.delivered_s.append(sim.now)
        d.fidelity.append(f)
        d.ok.append(ok)
        sim.metrics.counter("qos.jobs").add()
        if ok:
            sim.metrics.counter("qos.delivered").add()

    for i, task in enumerate(sched.tasks):
        jobs = [j for j in sched.jobs if j.task == i]
        if not jobs:
            continue
        base = np.array([j.op_starts for j in jobs], dtype=np.int64)
        offsets = (np.arange(reps, dtype=np.int64) * h)[:, None, None]
        starts = (base[None, :, :] + offsets).reshape(-1, base.shape[1])
        ok, fid = draw_outcomes(task.shape, starts, sim.rng(f"qos.{task.name}"), params)
        finish = (np.array([j.finish for j in jobs])[None, :] + offsets[:, :, 0]).reshape(-1)
        release = (np.array([j.release for j in jobs])[None, :] + offsets[:, :, 0]).reshape(-1)
        delay = path_km[i] * 1e3 / C_FIBER_M_S
        for r, f_s, f, good in zip(
            release.tolist(), finish.tolist(), fid.tolist(), ok.tolist(), strict=True
        ):
            sim.schedule(f_s * slot + delay - sim.now, record, i, r * slot, f, bool(good))
    sim.run()
    return out


def task_qos(d: Delivery, task, horizon_s: float, slot_s: float) -> dict:
    """QoS of one demand: throughput at >= F_min (pairs/s), mean delivered fidelity, fraction
    of delivered pairs meeting F_min, worst-case and mean latency (s) and jitter
    ``Var(Δ − p)`` (s²) of the inter-delivery times Δ of the good pairs."""
    ok = np.asarray(d.ok, dtype=bool)
    fid = np.asarray(d.fidelity, dtype=float)
    good = ok & (np.nan_to_num(fid, nan=0.0) >= task.f_min - 1e-12)
    t = np.asarray(d.delivered_s, dtype=float)[good]
    lat = t - np.asarray(d.release_s, dtype=float)[good]
    period_s = task.period * slot_s
    gaps = np.round(np.diff(t), 9)  # ns resolution: no float noise on exact periods
    return {
        "scheduled_rate_hz": 1.0 / period_s,
        "throughput_hz": float(good.sum() / horizon_s),
        "delivered_hz": float(ok.sum() / horizon_s),
        "fidelity": float(np.nanmean(fid[ok])) if ok.any() else float("nan"),
        "fidelity_ok_fraction": float(good.sum() / ok.sum()) if ok.any() else float("nan"),
        "latency_worst_s": float(lat.max()) if lat.size else float("nan"),
        "latency_mean_s": float(lat.mean()) if lat.size else float("nan"),
        "jitter_s2": float(np.var(gaps - period_s)) if gaps.size else float("nan"),
    }


def aggregate_qos(per_task: list[dict], offered: int) -> dict:
    """Network totals: summed rates, pair-weighted fidelity, mean of the per-demand
    worst-case latencies and jitters, worst latency overall, and the admitted fraction."""
    n = len(per_task)
    if n == 0:
        nan = float("nan")
        return {
            "admitted_fraction": 0.0 if offered else nan,
            "admitted": 0,
            "throughput_hz": 0.0,
            "scheduled_rate_hz": 0.0,
            "delivered_hz": 0.0,
            "fidelity": nan,
            "latency_s": nan,
            "latency_worst_s": nan,
            "jitter_s2": nan,
        }

    def col(key):
        return np.array([m[key] for m in per_task], dtype=float)

    w = col("delivered_hz")
    fid = col("fidelity")
    has = w > 0

    def nan_stat(fn, x):
        x = x[np.isfinite(x)]
        return float(fn(x)) if x.size else float("nan")

    return {
        "admitted_fraction": n / offered if offered else float("nan"),
        "admitted": n,
        "throughput_hz": float(col("throughput_hz").sum()),
        "scheduled_rate_hz": float(col("scheduled_rate_hz").sum()),
        "delivered_hz": float(w.sum()),
        "fidelity": float(np.average(fid[has], weights=w[has])) if has.any() else float("nan"),
        "latency_s": nan_stat(np.mean, col("latency_worst_s")),
        "latency_worst_s": nan_stat(np.max, col("latency_worst_s")),
        "jitter_s2": nan_stat(np.mean, col("jitter_s2")),
    }


class OnlineDispatcher:
    """Online non-preemptive dispatching of periodic jobs on the engine.

    Jobs of ``tasks`` are released every period (implicit deadlines). Whenever at least one
    released job fits the resources at the current slot, a decision is taken: by
    ``decisions`` (a :class:`netsim.DecisionPoint`; the answer is a task index) or by
    ``policy(state)``. The chosen job starts if it fits; any other answer waits until the
    next event (release or a resource freeing). A job that can no longer finish by its
    deadline is dropped (a miss). Each started job's outcome is drawn with
    :func:`draw_outcomes` and delivered ``L/c`` after it ends. Resources: ``network``
    (one shared resource) or ``qubit`` (per-qubit reservations).

    The state handed to the decision maker is a dict with ``t`` (slot), ``fits`` (task
    indices that can start now) and per task ``pending``, ``deadline``.
    """

    def __init__(
        self,
        sim: Simulation,
        tasks,
        model: str,
        params: ExecParams,
        path_km,
        decisions=None,
        policy=None,
    ):
        from .scheduling import Timeline, profile

        if (decisions is None) == (policy is None):
            raise ValueError("give exactly one of decisions or policy")
        self.sim, self.tasks, self.params = sim, list(tasks), params
        self.decisions, self.policy = decisions, policy
        self.profiles = [profile(t, model) for t in self.tasks]
        self.delay_s = [km * 1e3 / C_FIBER_M_S for km in path_km]
        self.timeline = Timeline()
        n = len(self.tasks)
        self.pending: list = [None] * n  # (release, deadline) of the unstarted job
        self.next_k = [0] * n
        self.started = self.missed = self.delivered = self.good = 0
        self.fidelities: list[float] = []
        self.rngs = [sim.rng(f"qos.online.{t.name}") for t in self.tasks]
        self.process = sim.process(self._run())

    def state(self, t: int) -> dict:
        fits = [
            i
            for i, p in enumerate(self.pending)
            if p is not None and self.timeline.fits(self.profiles[i], t)
        ]
        return {
            "t": t,
            "fits": fits,
            "pending": [p is not None for p in self.pending],
            "deadline": [p[1] if p is not None else -1 for p in self.pending],
        }

    def _release(self, t: int) -> None:
        for i, task in enumerate(self.tasks):
            while self.next_k[i] * task.period <= t:
                r = self.next_k[i] * task.period
                if self.pending[i] is not None:
                    self.missed += 1
                self.pending[i] = (r, r + task.period)
                self.next_k[i] += 1
            p = self.pending[i]
            if p is not None and t > p[1] - task.makespan:
                self.pending[i] = None
                self.missed += 1

    def _start(self, i: int, t: int) -> None:
        task = self.tasks[i]
        self.timeline.reserve(self.profiles[i], t)
        starts = np.asarray(task.shape.start, dtype=np.int64)[None, :] + t
        ok, fid = draw_outcomes(task.shape, starts, self.rngs[i], self.params)
        done_s = (t + task.makespan) * self.params.slot_s + self.delay_s[i]
        self.sim.schedule(done_s - self.sim.now, self._deliver, task, bool(ok[0]), float(fid[0]))
        self.pending[i] = None
        self.started += 1

    def _deliver(self, task, ok: bool, f: float) -> None:
        if ok:
            self.delivered += 1
            self.fidelities.append(f)
            if f >= task.f_min - 1e-12:
                self.good += 1

    def _next_time(self, t: int) -> int:
        cands = [self.next_k[i] * task.period for i, task in enumerate(self.tasks)]
        for i, p in enumerate(self.pending):
            if p is not None:
                latest = p[1] - self.tasks[i].makespan
                cands.append(min(self.timeline.earliest(self.profiles[i], t + 1), latest + 1))
        return max(t + 1, min(cands))

    def _run(self):
        slot = self.params.slot_s
        t = 0
        while True:
            self._release(t)
            st = self.state(t)
            if st["fits"]:
                if self.decisions is not None:
                    choice = yield self.decisions.request(st)
                else:
                    choice = self.policy(st)
                if choice is not None and int(choice) in st["fits"]:
                    self._start(int(choice), t)
                    continue
            t = self._next_time(t)
            yield self.sim.timeout(max(0.0, t * slot - self.sim.now))


def edf_choice(state: dict):
    """Earliest deadline first among the jobs that fit (ties: lowest task index)."""
    fits = state["fits"]
    if not fits:
        return None
    return min(fits, key=lambda i: (state["deadline"][i], i))
