"""Periodic-task schedules for a quantum network, engine-free (Skrzypczyk & Wehner 2021).

Each admitted demand is a periodic task: every ``period`` slots a job is released that must
run one instance of the demand's :class:`~quantum.protocol_search.TaskShape` and finish by
the next release (implicit deadline). A schedule is built for one hyperperiod
``H = lcm(periods)`` and then repeats; a task set is *schedulable* when every job of the
hyperperiod meets its deadline (since all jobs finish by ``H``, the schedule is cyclic).

Schedulers (non-preemptive list scheduling in time order; ties by task index):

* ``PTS-NP-EDF``: periodic task scheduling with the whole network as one resource; a job
  occupies it for its whole makespan; earliest deadline first.
* ``RCPSP-NP-EDF``: resource-constrained: a job reserves exactly the qubit intervals of its
  shape (per-qubit reservations), so jobs on disjoint qubits, or interleaving in time on the
  same qubits, run concurrently; EDF order.
* ``RCPSP-NP-FPR``: full-path (block) reservation: a job reserves every qubit it touches for
  its whole makespan; EDF order (LinkScheduling's ``MultipleResourceBlockNPEDFScheduler``,
  which the paper labels RCPSP-NP-FPR).
* ``RCPSP-PB-EDF``: per-qubit with a *preemption budget*: when a job would miss its
  deadline, it may preempt the lower-priority (later-deadline) jobs in its way: their
  operations that have not started yet are postponed, each by at most ``budget`` slots from
  its original time, while the pairs they already made wait in memory (and decohere). The
  preemption happens only if every postponed job still meets its deadline and its nominal
  delivered fidelity stays >= F_min.

Differences from the paper's code: jobs are dispatched in time order (a work-conserving list
schedule) rather than placed one by one in deadline order; a shape keeps its own qubits
(no remapping onto other qubits of the same node); and the preemption budget is one cap in
slots for every task, with the decoherence limit (the paper's per-task budget, derived from
the fidelity slack) enforced by re-evaluating F_min, and with preemption at operation
boundaries of the lower-priority jobs rather than at the gaps of the preempted job's own
resource occupation.

Admission control (:func:`admit`) adds demands one at a time and keeps a demand only if the
enlarged set stays schedulable. :func:`exact_admission` solves the same admission problem
to optimality with OR-Tools CP-SAT on small instances (fixed shapes, no preemption), to
measure how far the greedy heuristics are from the optimum.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np

from .protocol_search import TaskShape, evaluate

__all__ = [
    "SCHEDULERS",
    "PeriodicTask",
    "Job",
    "Schedule",
    "Timeline",
    "hyperperiod",
    "profile",
    "build_schedule",
    "admit",
    "validate_schedule",
    "schedule_metrics",
    "exact_admission",
]

#: name -> (resource model, preemption budget allowed)
SCHEDULERS: dict[str, tuple[str, bool]] = {
    "PTS-NP-EDF": ("network", False),
    "RCPSP-NP-EDF": ("qubit", False),
    "RCPSP-NP-FPR": ("block", False),
    "RCPSP-PB-EDF": ("qubit", True),
}
NETWORK = ("network",)


@dataclass(frozen=True, eq=False)
class PeriodicTask:
    """A demand served by one instance of ``shape`` every ``period`` slots."""

    name: str
    shape: TaskShape
    period: int
    f_min: float

    def __post_init__(self) -> None:
        if (
            isinstance(self.period, bool)
            or not isinstance(self.period, int | np.integer)
            or self.period < 1
        ):
            raise ValueError(f"period: must be an integer >= 1 slot (got {self.period!r})")
        if not 0.25 < self.f_min <= 1.0:
            raise ValueError(f"f_min: must be in (0.25, 1] (got {self.f_min!r})")

    @property
    def makespan(self) -> int:
        return self.shape.makespan


@dataclass
class Job:
    """The ``k``-th job of task ``task``: released at ``release``, due by ``deadline``; it
    starts at ``start`` with absolute op start slots ``op_starts`` and ends at ``finish``."""

    task: int
    k: int
    release: int
    deadline: int
    start: int = -1
    op_starts: tuple[int, ...] = ()
    finish: int = -1
    preempted: int = 0  # largest postponement (slots) of one of its operations by preemption


@dataclass
class Schedule:
    """Jobs of one hyperperiod; ``feasible`` when every job met its deadline."""

    tasks: list[PeriodicTask]
    scheduler: str
    hyperperiod: int
    jobs: list[Job] = field(default_factory=list)
    feasible: bool = True
    missed: list[Job] = field(default_factory=list)


def hyperperiod(periods) -> int:
    """``lcm`` of the periods (slots)."""
    periods = [int(p) for p in periods]
    return reduce(math.lcm, periods, 1) if periods else 0


def profile(task: PeriodicTask, model: str) -> tuple[tuple[Any, int, int], ...]:
    """Reservations ``(resource, a, b)`` a job of ``task`` needs relative to its start:
    the whole network (``network``), every qubit it uses for its whole makespan
    (``block``), or exactly its qubit intervals (``qubit``)."""
    c = task.makespan
    if model == "network":
        return ((NETWORK, 0, c),)
    if model == "block":
        return tuple((q, 0, c) for q in task.shape.qubits)
    if model == "qubit":
        return tuple(task.shape.intervals())
    raise ValueError(f"resource model: unknown {model!r} (allowed: network, block, qubit)")


class Timeline:
    """Reservations per resource: sorted, non-overlapping half-open slot intervals, each
    with an optional owner (so that one owner's reservations can be withdrawn)."""

    def __init__(self) -> None:
        self._starts: dict[Any, list[int]] = {}
        self._ends: dict[Any, list[int]] = {}
        self._owners: dict[Any, list[Any]] = {}
        self._by_owner: dict[Any, list[tuple[Any, int, int]]] = {}

    def conflict(self, res, a: int, b: int) -> int | None:
        """End of a reservation of ``res`` overlapping ``[a, b)``, or ``None``."""
        starts = self._starts.get(res)
        if not starts:
            return None
        i = bisect_left(starts, b) - 1
        if i >= 0 and self._ends[res][i] > a:
            return self._ends[res][i]
        return None

    def owners(self, res, a: int, b: int) -> set:
        """Owners of the reservations of ``res`` overlapping ``[a, b)``."""
        starts = self._starts.get(res)
        out: set = set()
        if not starts:
            return out
        i = bisect_left(starts, b) - 1
        while i >= 0 and self._ends[res][i] > a:
            out.add(self._owners[res][i])
            i -= 1
        return out

    def fits(self, prof, t: int) -> bool:
        return all(self.conflict(r, t + a, t + b) is None for r, a, b in prof)

    def earliest(self, prof, t: int) -> int:
        """Smallest ``s >= t`` at which ``prof`` fits."""
        s = t
        moved = True
        while moved:
            moved = False
            for r, a, b in prof:
                end = self.conflict(r, s + a, s + b)
                if end is not None:
                    s = end - a
                    moved = True
                    break
        return s

    def reserve(self, prof, t: int, owner: Any = None) -> None:
        for r, a, b in prof:
            if b <= a:
                continue
            if self.conflict(r, t + a, t + b) is not None:
                raise RuntimeError(f"double booking of {r} in [{t + a}, {t + b})")
            starts = self._starts.setdefault(r, [])
            i = bisect_left(starts, t + a)
            starts.insert(i, t + a)
            self._ends.setdefault(r, []).insert(i, t + b)
            self._owners.setdefault(r, []).insert(i, owner)
            self._by_owner.setdefault(owner, []).append((r, t + a, t + b))

    def withdraw(self, owner: Any) -> list[tuple[Any, int, int]]:
        """Remove and return every reservation of ``owner`` (absolute intervals)."""
        items = self._by_owner.pop(owner, [])
        for r, a, _b in items:
            i = bisect_left(self._starts[r], a)
            for lst in (self._starts[r], self._ends[r], self._owners[r]):
                del lst[i]
        return items

    def busy(self, res) -> list[tuple[int, int]]:
        return list(zip(self._starts.get(res, []), self._ends.get(res, []), strict=True))


def _replan_rest(
    tl: Timeline, task: PeriodicTask, job: Job, t: int, budget: int, slot_s: float
) -> list[int] | None:
    """Re-place the operations of a preempted ``job`` that have not started by ``t``, in
    their planned order, each at the first slot where its generation window and the holding
    of its inputs (which wait in memory meanwhile) fit, at most ``budget`` slots after its
    original time. The reservations are made under the job's owner id. Returns the new
    absolute op starts, or ``None`` if an operation, the deadline or F_min fails."""
    shape = task.shape
    new = list(job.op_starts)
    orig = [job.start + b for b in shape.start]
    for k in sorted(range(len(shape.ops)), key=lambda k: (job.op_starts[k], k)):
        if job.op_starts[k] < t:
            continue
        op = shape.ops[k]
        lo = max([job.op_starts[k]] + [new[i] + shape.ops[i].duration for i in op.inputs])
        for s in range(lo, orig[k] + budget + 1):
            ivs = [(q, s, s + op.duration) for q in (shape.gen_qubits[k] or ())]
            for i in op.inputs:
                ivs += [
                    (q, new[i] + shape.ops[i].duration, s + op.duration)
                    for q in shape.hold_qubits[i]
                ]
            if all(tl.conflict(q, a, b) is None for q, a, b in ivs):
                tl.reserve(ivs, 0, owner=id(job))
                new[k] = s
                break
        else:
            return None
    finish = max(s + op.duration for s, op in zip(new, shape.ops, strict=True))
    rel = [s - job.start for s in new]
    if finish > job.deadline or float(evaluate(shape, slot_s, start=[rel])[1][0]) < task.f_min:
        return None
    return new


def _fixed_part(task: PeriodicTask, job: Job, t: int) -> list[tuple[Any, int, int]]:
    """Reservations of ``job`` that preemption at ``t`` cannot move: generation windows of
    operations started before ``t`` and the holding of pairs consumed by such operations."""
    shape = task.shape
    out = []
    for k, op in enumerate(shape.ops):
        s = job.op_starts[k]
        if s >= t:
            continue
        e = s + op.duration
        out += [(q, s, e) for q in (shape.gen_qubits[k] or ())]
        c = shape.consumer[k]
        if c >= 0 and job.op_starts[c] < t:
            out += [(q, e, job.op_starts[c] + shape.ops[c].duration) for q in shape.hold_qubits[k]]
    return out


def _preempt(
    tl: Timeline, tasks, placed: dict, job: Job, prof, t: int, budget: int, slot_s: float
) -> bool:
    """Start ``job`` at ``t`` by postponing the not-yet-started operations of the lower
    priority (later deadline) jobs in its way, each operation by at most ``budget`` slots
    from its original time; all or nothing."""
    victims = set()
    for r, a, b in prof:
        victims |= tl.owners(r, t + a, t + b)
    vjobs = [placed[v] for v in victims]
    if not vjobs or any(
        (v.deadline, v.task, v.k) <= (job.deadline, job.task, job.k) for v in vjobs
    ):
        return False
    saved = {id(v): tl.withdraw(id(v)) for v in vjobs}
    for v in vjobs:
        tl.reserve(_fixed_part(tasks[v.task], v, t), 0, owner=id(v))
    ok = tl.fits(prof, t)
    if ok:
        tl.reserve(prof, t, owner=id(job))
        new = {}
        for v in sorted(vjobs, key=lambda v: (v.deadline, v.task, v.k)):
            starts = _replan_rest(tl, tasks[v.task], v, t, budget, slot_s)
            if starts is None:
                ok = False
                break
            new[id(v)] = starts
    if not ok:
        tl.withdraw(id(job))
        for v in vjobs:
            tl.withdraw(id(v))
            tl.reserve(saved[id(v)], 0, owner=id(v))
        return False
    for v in vjobs:
        starts = new[id(v)]
        shape = tasks[v.task].shape
        v.preempted = max(
            v.preempted, max(s - (v.start + b) for s, b in zip(starts, shape.start, strict=True))
        )
        v.op_starts = tuple(starts)
        v.finish = max(s + op.duration for s, op in zip(starts, shape.ops, strict=True))
    return True


def build_schedule(
    tasks: list[PeriodicTask],
    scheduler: str = "RCPSP-NP-EDF",
    budget: int = 0,
    slot_s: float = 0.01,
    max_hyperperiod: int = 200_000,
    stop_on_miss: bool = True,
) -> Schedule:
    """Schedule one hyperperiod of ``tasks`` with ``scheduler`` (see :data:`SCHEDULERS`).

    Jobs are dispatched in time order: at each decision time every released, unstarted job
    that fits is started, in EDF order (deadline, then task index). A job that can no longer
    meet its deadline is a miss; with ``stop_on_miss`` the search stops at the first one.

    Raises:
        ValueError: an unknown scheduler, a negative budget, or a hyperperiod beyond
            ``max_hyperperiod`` slots.
    """
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler: unknown {scheduler!r} (allowed: {', '.join(SCHEDULERS)})")
    if budget < 0:
        raise ValueError(f"budget: must be >= 0 slots (got {budget})")
    model, preemptive = SCHEDULERS[scheduler]
    budget = budget if preemptive else 0
    h = hyperperiod([t.period for t in tasks])
    if h > max_hyperperiod:
        raise ValueError(f"hyperperiod of {h} slots exceeds max_hyperperiod={max_hyperperiod}")
    sched = Schedule(list(tasks), scheduler, h)
    if not tasks:
        return sched
    profs = [profile(t, model) for t in tasks]
    jobs = sorted(
        (
            Job(i, k, k * t.period, (k + 1) * t.period)
            for i, t in enumerate(tasks)
            for k in range(h // t.period)
        ),
        key=lambda j: (j.release, j.task, j.k),
    )
    tl = Timeline()
    pending: list[Job] = []
    placed: dict[int, Job] = {}
    nxt = 0
    t = 0
    while nxt < len(jobs) or pending:
        while nxt < len(jobs) and jobs[nxt].release <= t:
            insort(pending, jobs[nxt], key=lambda j: (j.deadline, j.task, j.k))
            nxt += 1
        for job in list(pending):
            task = tasks[job.task]
            prof = profs[job.task]
            started = False
            if tl.fits(prof, t):
                tl.reserve(prof, t, owner=id(job))
                started = True
            elif budget > 0 and tl.earliest(prof, t) > job.deadline - task.makespan:
                # preempt lower-priority jobs only when this job would otherwise miss
                started = _preempt(tl, tasks, placed, job, prof, t, budget, slot_s)
            if started:
                job.start = t
                job.op_starts = tuple(t + s for s in task.shape.start)
                job.finish = t + task.makespan
                sched.jobs.append(job)
                placed[id(job)] = job
                pending.remove(job)
        candidates = [jobs[nxt].release] if nxt < len(jobs) else []
        for job in list(pending):
            latest = job.deadline - tasks[job.task].makespan
            e = tl.earliest(profs[job.task], t + 1)
            if e > latest and budget > 0 and t + 1 <= latest:
                e = t + 1  # keep trying a preemptive placement slot by slot
            if e > latest:
                sched.feasible = False
                sched.missed.append(job)
                pending.remove(job)
                if stop_on_miss:
                    return sched
            else:
                candidates.append(e)
        if not candidates:
            break
        t = min(candidates)
    sched.jobs.sort(key=lambda j: (j.start, j.task, j.k))
    return sched


def admit(
    tasks: list[PeriodicTask],
    scheduler: str = "RCPSP-NP-EDF",
    budget: int = 0,
    slot_s: float = 0.01,
    max_hyperperiod: int = 200_000,
) -> tuple[list[int], Schedule]:
    """Greedy admission in the given order: task ``i`` is admitted if the admitted tasks plus
    ``i`` are schedulable. Returns the admitted indices and their schedule."""
    admitted: list[int] = []
    best = build_schedule([], scheduler, budget, slot_s)
    for i, task in enumerate(tasks):
        trial = [tasks[j] for j in admitted] + [task]
        if hyperperiod([t.period for t in trial]) > max_hyperperiod:
            continue
        s = build_schedule(trial, scheduler, budget, slot_s, max_hyperperiod)
        if s.feasible:
            admitted.append(i)
            best = s
    return admitted, best


def validate_schedule(sched: Schedule, slot_s: float = 0.01) -> list[str]:
    """Violations of a schedule, empty when it is valid: a qubit used by two operations at
    once, an operation starting before its inputs end, a job outside [release, deadline],
    a task without exactly ``H/period`` jobs, or a delivered nominal fidelity below F_min."""
    errors: list[str] = []
    busy: dict[Any, list[tuple[int, int, str]]] = {}
    counts = [0] * len(sched.tasks)
    for job in sched.jobs:
        task = sched.tasks[job.task]
        shape = task.shape
        counts[job.task] += 1
        rel = [s - job.start for s in job.op_starts]
        tag = f"{task.name}#{job.k}"
        for k, op in enumerate(shape.ops):
            for i in op.inputs:
                if job.op_starts[k] < job.op_starts[i] + shape.ops[i].duration:
                    errors.append(f"{tag}: op {k} starts before its input {i} ends")
        if job.start < job.release:
            errors.append(f"{tag}: starts at {job.start} before its release {job.release}")
        if job.finish > job.deadline:
            errors.append(f"{tag}: finishes at {job.finish} after its deadline {job.deadline}")
        for q, a, b in shape.raw_intervals(rel):
            busy.setdefault(q, []).append((job.start + a, job.start + b, tag))
        f = float(evaluate(shape, slot_s, start=[rel])[1][0])
        if f < task.f_min - 1e-12:
            errors.append(f"{tag}: nominal fidelity {f:.4f} below F_min {task.f_min}")
    for q, ivs in busy.items():
        ivs.sort()
        for (a1, b1, t1), (a2, b2, t2) in zip(ivs, ivs[1:], strict=False):
            if a2 < b1:
                errors.append(f"qubit {q} double-booked: {t1} [{a1},{b1}) and {t2} [{a2},{b2})")
    if sched.feasible:
        for i, task in enumerate(sched.tasks):
            want = sched.hyperperiod // task.period
            if counts[i] != want:
                errors.append(f"{task.name}: {counts[i]} jobs in the hyperperiod, expected {want}")
    return errors


def schedule_metrics(sched: Schedule, slot_s: float = 0.01) -> list[dict]:
    """Per task of a feasible schedule (cyclic): scheduled rate (pairs/s), worst-case and
    mean response time (s, finish − release), jitter ``Var(Δ − p)`` of the inter-completion
    times Δ including the wrap into the next hyperperiod (s²), and the preemption slots used."""
    out = []
    h = sched.hyperperiod
    for i, task in enumerate(sched.tasks):
        jobs = sorted((j for j in sched.jobs if j.task == i), key=lambda j: j.k)
        if not jobs:
            continue
        finish = np.array([j.finish for j in jobs], dtype=float)
        resp = np.array([j.finish - j.release for j in jobs], dtype=float) * slot_s
        gaps = np.diff(np.append(finish, finish[0] + h)) * slot_s
        out.append(
            {
                "task": i,
                "name": task.name,
                "rate_hz": 1.0 / (task.period * slot_s),
                "worst_response_s": float(resp.max()),
                "mean_response_s": float(resp.mean()),
                "jitter_s2": float(np.var(gaps - task.period * slot_s)),
                "preempted_slots": int(sum(j.preempted for j in jobs)),
            }
        )
    return out


def exact_admission(
    tasks: list[PeriodicTask],
    model: str = "qubit",
    time_limit_s: float = 10.0,
    must_admit: list[int] | None = None,
    workers: int = 1,
) -> tuple[list[int], str]:
    """Largest set of tasks that can be scheduled together (rigid shapes, no preemption),
    by CP-SAT (OR-Tools): one optional interval per reservation of every job of the
    hyperperiod, ``NoOverlap`` per resource, jobs within [release, deadline], maximise the
    number of admitted tasks. Returns (admitted indices, solver status name); the status is
    ``OPTIMAL`` when the optimum was proven within the time limit."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    h = hyperperiod([t.period for t in tasks])
    present = [m.NewBoolVar(f"x{i}") for i in range(len(tasks))]
    per_res: dict[Any, list] = {}
    for i, task in enumerate(tasks):
        c = task.makespan
        for k in range(h // task.period):
            r, d = k * task.period, (k + 1) * task.period
            if d - c < r:
                m.Add(present[i] == 0)
                break
            s = m.NewIntVar(r, d - c, f"s{i}_{k}")
            for res, a, b in profile(task, model):
                iv = m.NewOptionalFixedSizeIntervalVar(s + a, b - a, present[i], f"iv{i}_{k}_{a}")
                per_res.setdefault(res, []).append(iv)
    for ivs in per_res.values():
        m.AddNoOverlap(ivs)
    for i in must_admit or []:
        m.Add(present[i] == 1)
    m.Maximize(sum(present))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = 0
    status = solver.Solve(m)
    name = solver.StatusName(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], name
    return [i for i, x in enumerate(present) if solver.Value(x)], name
