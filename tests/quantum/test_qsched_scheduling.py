"""Periodic schedules over the hyperperiod: validity (property-tested, also by a checker
written here from the operations' semantics, independent of the scheduler's interval code),
an independent uniprocessor NP-EDF oracle for PTS, and the CP-SAT optimum as an upper bound
for admission."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from quantum.capabilities import attach_capabilities
from quantum.protocol_search import SearchParams, search_protocol
from quantum.scheduling import (
    SCHEDULERS,
    Job,
    PeriodicTask,
    Schedule,
    Timeline,
    _preempt,
    admit,
    build_schedule,
    exact_admission,
    hyperperiod,
    profile,
    schedule_metrics,
    validate_schedule,
)
from quantum.topologies import build_topology, equip

SLOT = 0.01


def _pool(repeater=(2, 3), tau=1.5, extra_paths=None, fids=(0.55, 0.62)):
    plans, graphs = [], {}
    paths_of = {
        "H": [(0, 1, 2), (0, 1, 4, 5), (3, 4, 5), (2, 1, 4, 3)],
        "star": [(1, 0, 2), (2, 0, 3)],
        "line": [(0, 1), (1, 2, 3), (4, 5)],
    }
    for topo, paths in paths_of.items():
        g = attach_capabilities(build_topology(topo), "nv")
        graphs[topo] = g = equip(g, repeater=repeater, coherence_s=tau)
        for path in paths + (extra_paths or {}).get(topo, []):
            for f in fids:
                p = search_protocol(g, path, f, SearchParams(plan_creation="end"))
                if p is not None:
                    plans.append((topo, p, f))
    return plans, graphs


POOL, GRAPHS = _pool()
BY_TOPO = {t: [(p, f) for tt, p, f in POOL if tt == t] for t in ("H", "star", "line")}
# long memories and one communication qubit per repeater: lower-priority jobs block urgent
# ones and may be postponed without losing F_min, so RCPSP-PB-EDF really preempts here
PB_POOL, PB_GRAPHS = _pool(
    (1, 3), 1e4, {"H": [(0, 1), (1, 4)], "star": [(0, 1), (0, 3)], "line": [(0, 1, 2)]}, (0.55, 0.7)
)
PB_BY_TOPO = {t: [(p, f) for tt, p, f in PB_POOL if tt == t] for t in ("H", "star", "line")}


def tasks_from(draw_list, topo, by_topo=None, tight=False):
    """Tasks from ``(plan index, multiplier[, extra slots])`` draws: the period is the plan's
    makespan rounded up to 8·2^k (``tight``: the makespan itself), times the multiplier, plus
    the extra slots (non-zero extras make the periods non-harmonic, so the hyperperiod
    exceeds the longest period)."""
    plans = (by_topo or BY_TOPO)[topo]
    out = []
    for i, (j, mult, *extra) in enumerate(draw_list):
        plan, f = plans[j % len(plans)]
        rounded = 8 * 2 ** math.ceil(math.log2(math.ceil(plan.makespan / 8)))
        base = plan.makespan if tight else rounded
        out.append(PeriodicTask(f"t{i}", plan.shape, int(base * mult + sum(extra)), f))
    return out


task_lists = st.tuples(
    st.sampled_from(["H", "star", "line"]),
    st.lists(st.tuples(st.integers(0, 20), st.sampled_from([1, 2, 4])), min_size=1, max_size=6),
)


def _task_lists(multipliers, extras, min_size, max_size):
    """(topology, [(plan index, multiplier, extra slots), ...]) draws for ``tasks_from``."""
    return st.tuples(
        st.sampled_from(["H", "star", "line"]),
        st.lists(
            st.tuples(st.integers(0, 20), st.sampled_from(multipliers), st.sampled_from(extras)),
            min_size=min_size,
            max_size=max_size,
        ),
    )


# periods such as 24, 40, 56: hyperperiods larger than every period
nonharmonic_task_lists = _task_lists([1, 2, 4], [0, 8, 24], 1, 5)


def _bbpssw(f1, f2):
    """Bennett et al. 1996, Werner inputs: F' = (F1F2 + r1r2)/(F1F2 + F1r2 + r1F2 + 5r1r2)."""
    r1, r2 = (1 - f1) / 3, (1 - f2) / 3
    return (f1 * f2 + r1 * r2) / (f1 * f2 + f1 * r2 + r1 * f2 + 5 * r1 * r2)


def independent_violations(sched, g, slot_s, budget=None) -> list[str]:
    """Schedule checker written from the operations' semantics only (it does not use the
    shapes' qubit mapping, intervals or fidelity code):

    * every task has H/period jobs, job k is released at k·p and due at (k + 1)·p, all its
      operations lie in [release, deadline] and inside [0, H] (so the schedule repeats);
    * an operation starts after its inputs end;
    * per node and slot, with ``gen`` link generations (one communication qubit each) and
      ``held`` stored halves (a pair's halves are held from its op's end until its consumer
      ends): gen <= comm, gen + held <= comm + storage, gen + max(0, held − storage) <= comm;
    * the delivered fidelity, recomputed by a scalar recursion (depolarising decay per stored
      qubit, swap F1F2 + (1−F1)(1−F2)/3, BBPSSW), meets F_min;
    * with ``budget``: no operation starts more than ``budget`` slots after its place in the
      job's unpreempted shape.
    """
    errs: list[str] = []
    h = sched.hyperperiod
    events: dict = {}
    count = [0] * len(sched.tasks)

    def decay(f, dt, ends):
        t_u, t_v = (g.nodes[n]["coherence_s"] for n in ends)
        return 0.25 + (f - 0.25) * math.exp(-dt / t_u - dt / t_v)

    for job in sched.jobs:
        task = sched.tasks[job.task]
        ops, s, p = task.shape.ops, job.op_starts, task.period
        tag = f"{task.name}#{job.k}"
        count[job.task] += 1
        ends = [s[k] + op.duration for k, op in enumerate(ops)]
        if (job.release, job.deadline) != (job.k * p, (job.k + 1) * p):
            errs.append(f"{tag}: release/deadline")
        if min(s) < job.release or max(ends) > job.deadline or max(ends) != job.finish:
            errs.append(f"{tag}: outside [release, deadline]")
        if min(s) < 0 or max(ends) > h:
            errs.append(f"{tag}: outside the hyperperiod")
        if budget is not None:
            late = max(a - (job.start + b) for a, b in zip(s, task.shape.start, strict=True))
            if late > budget:
                errs.append(f"{tag}: postponed {late} > budget {budget}")
        consumer = {}
        for k, op in enumerate(ops):
            for i in op.inputs:
                consumer[i] = k
                if s[k] < ends[i]:
                    errs.append(f"{tag}: op {k} before its input {i}")
        for k, op in enumerate(ops):
            for n in op.ends:
                if op.kind == "link":
                    events.setdefault(n, []).extend([(s[k], 1, 0), (ends[k], -1, 0)])
                if k in consumer:
                    events.setdefault(n, []).extend([(ends[k], 0, 1), (ends[consumer[k]], 0, -1)])
        fid, t_ref = {}, {}
        for k, op in enumerate(ops):
            if op.kind == "link":
                fid[k] = op.fidelity
                t_ref[k] = (s[k] if task.shape.creation == "start" else ends[k]) * slot_s
                continue
            i, j = op.inputs
            te = ends[k] * slot_s
            fi = decay(fid[i], te - t_ref[i], ops[i].ends)
            fj = decay(fid[j], te - t_ref[j], ops[j].ends)
            fid[k] = fi * fj + (1 - fi) * (1 - fj) / 3 if op.kind == "swap" else _bbpssw(fi, fj)
            t_ref[k] = te
        last = len(ops) - 1
        f = decay(fid[last], ends[last] * slot_s - t_ref[last], ops[last].ends)
        if f < task.f_min - 1e-12:
            errs.append(f"{tag}: fidelity {f:.4f} below F_min {task.f_min}")
    for i, task in enumerate(sched.tasks):
        if count[i] != h // task.period:
            errs.append(f"{task.name}: {count[i]} jobs, expected {h // task.period}")
    for n, ev in events.items():
        comm, stor = g.nodes[n]["comm_qubits"], g.nodes[n]["storage_qubits"]
        gen = held = 0
        for t, dg, dh in sorted(ev, key=lambda e: (e[0], e[1] + e[2])):  # frees first
            gen, held = gen + dg, held + dh
            if gen > comm or gen + held > comm + stor or gen + max(0, held - stor) > comm:
                errs.append(f"node {n} over capacity at slot {t}: gen {gen}, held {held}")
                break
    return errs


@settings(max_examples=30, deadline=None)
@given(
    st.one_of(task_lists, nonharmonic_task_lists),
    st.sampled_from(list(SCHEDULERS)),
    st.integers(0, 6),
)
def test_every_scheduler_produces_valid_schedules(spec, scheduler, budget):
    topo, draws = spec
    tasks = tasks_from(draws, topo)
    admitted, sched = admit(tasks, scheduler, budget, SLOT)
    assert sched.feasible
    assert validate_schedule(sched, SLOT) == []
    assert independent_violations(sched, GRAPHS[topo], SLOT, budget) == []
    assert [t.name for t in sched.tasks] == [tasks[i].name for i in admitted]
    h = sched.hyperperiod
    assert h == hyperperiod([t.period for t in sched.tasks]) or not admitted
    for i, task in enumerate(sched.tasks):
        jobs = [j for j in sched.jobs if j.task == i]
        assert len(jobs) == h // task.period  # every period of the hyperperiod is served
        assert all(j.release <= j.start and j.finish <= j.deadline for j in jobs)


tight_task_lists = _task_lists([1, 2, 3], [0, 1, 3], 2, 5)


@settings(max_examples=25, deadline=None)
@given(tight_task_lists, st.sampled_from([4, 16, 64]))
def test_preemption_budget_schedules_are_valid_where_preemption_happens(spec, budget):
    """RCPSP-PB-EDF in a regime where it preempts (long memories, one communication qubit
    per repeater, periods close to the makespans): the schedule passes both checkers and no
    operation is postponed beyond the budget."""
    topo, draws = spec
    tasks = tasks_from(draws, topo, PB_BY_TOPO, tight=True)
    _, sched = admit(tasks, "RCPSP-PB-EDF", budget, SLOT)
    assert sched.feasible
    assert validate_schedule(sched, SLOT) == []
    assert independent_violations(sched, PB_GRAPHS[topo], SLOT, budget) == []
    assert all(0 <= j.preempted <= budget for j in sched.jobs)


def test_preemption_happens_and_checkers_catch_broken_schedules():
    """The PB regime above does preempt (so the property test reaches preempted schedules),
    and the independent checker rejects a double-booked, a late and a decohered schedule."""
    import random

    rng = random.Random(1)
    preempted = 0
    for _ in range(60):
        topo = rng.choice(["H", "star", "line"])
        n = len(PB_BY_TOPO[topo])
        draws = [
            (rng.randrange(n), rng.choice([1, 2, 3]), rng.choice([0, 1, 3]))
            for _ in range(rng.randint(2, 5))
        ]
        tasks = tasks_from(draws, topo, PB_BY_TOPO, tight=True)
        _, sched = admit(tasks, "RCPSP-PB-EDF", 64, SLOT)
        if any(j.preempted for j in sched.jobs):
            preempted += 1
            assert independent_violations(sched, PB_GRAPHS[topo], SLOT, 64) == []
    assert preempted >= 5
    # broken schedules: two jobs of a 2-hop task on top of each other at the repeater, a job
    # past its deadline, and a swap delayed so long that the pairs decohere below F_min
    two_hop = next(p for p, _ in BY_TOPO["star"] if len(p.shape.ops) == 3)
    task = PeriodicTask("x", two_hop.shape, 2 * two_hop.makespan, 0.55)
    g = GRAPHS["star"]
    sched = build_schedule([task, task], "RCPSP-NP-EDF", slot_s=SLOT)
    assert independent_violations(sched, g, SLOT) == []
    for j in sched.jobs:
        j.start, j.finish = 0, task.makespan
        j.op_starts = tuple(task.shape.start)
    assert any("over capacity" in e for e in independent_violations(sched, g, SLOT))
    sched = build_schedule([task], "RCPSP-NP-EDF", slot_s=SLOT)
    (job,) = sched.jobs
    job.op_starts = tuple(s + task.period for s in job.op_starts)
    job.finish += task.period
    assert any("deadline" in e for e in independent_violations(sched, g, SLOT))
    slow = PeriodicTask("slow", two_hop.shape, 4096, 0.55)
    sched = build_schedule([slow], "RCPSP-NP-EDF", slot_s=SLOT)
    (job,) = sched.jobs
    job.op_starts = (*job.op_starts[:-1], job.op_starts[-1] + 3000)
    job.finish = job.op_starts[-1] + 1
    assert any("below F_min" in e for e in independent_violations(sched, g, SLOT))


def np_edf_uniprocessor(costs, periods):
    """Independent oracle: non-preemptive EDF on one processor, synchronous periodic jobs."""
    h = math.lcm(*periods)
    jobs = sorted((k * p, (k + 1) * p, i, k) for i, p in enumerate(periods) for k in range(h // p))
    t, starts, ready, nxt = 0, {}, [], 0
    while nxt < len(jobs) or ready:
        while nxt < len(jobs) and jobs[nxt][0] <= t:
            ready.append(jobs[nxt])
            nxt += 1
        if not ready:
            t = jobs[nxt][0]
            continue
        ready.sort(key=lambda j: (j[1], j[2], j[3]))
        r, d, i, k = ready.pop(0)
        if t + costs[i] > d:
            return None
        starts[(i, k)] = t
        t += costs[i]
    return starts


@settings(max_examples=40, deadline=None)
@given(st.one_of(task_lists, nonharmonic_task_lists))
def test_pts_is_uniprocessor_np_edf(spec):
    tasks = tasks_from(spec[1], spec[0])
    assume(hyperperiod([t.period for t in tasks]) <= 200_000)  # build_schedule's limit
    sched = build_schedule(tasks, "PTS-NP-EDF", slot_s=SLOT)
    oracle = np_edf_uniprocessor([t.makespan for t in tasks], [t.period for t in tasks])
    assert sched.feasible == (oracle is not None)
    if oracle is not None:
        assert {(j.task, j.k): j.start for j in sched.jobs} == oracle
    if sum(t.makespan / t.period for t in tasks) > 1:
        assert not sched.feasible  # utilisation above one cannot fit one resource


def test_budget_zero_preemptive_equals_rcpsp_and_schedules_are_deterministic():
    tasks = tasks_from([(j, 1) for j in range(8)], "H")
    a = admit(tasks, "RCPSP-NP-EDF", 0, SLOT)
    b = admit(tasks, "RCPSP-PB-EDF", 0, SLOT)
    c = admit(tasks, "RCPSP-NP-EDF", 0, SLOT)
    key = lambda s: [(j.task, j.k, j.start, j.op_starts) for j in s[1].jobs]  # noqa: E731
    assert a[0] == b[0] and key(a) == key(b) == key(c)


def test_preemption_postpones_a_lower_priority_job_within_its_budget():
    """A 2-hop job V holds the repeater's single communication qubit in two windows; an
    urgent 1-hop job J needing that qubit at t = 3 preempts V's second window."""
    g = equip(attach_capabilities(build_topology("star"), "nv"), repeater=(1, 3), coherence_s=1e6)
    params = SearchParams(plan_creation="end")
    v_task = PeriodicTask("V", search_protocol(g, (1, 0, 2), 0.55, params).shape, 64, 0.55)
    j_task = PeriodicTask("J", search_protocol(g, (0, 3), 0.7, params).shape, 8, 0.7)
    assert v_task.shape.start == (0, 3, 6)  # L(1,0) [0,3), L(0,2) [3,6), swap [6,7)
    tasks = [v_task, j_task]
    tl = Timeline()
    v = Job(0, 0, 0, 64, 0, tuple(v_task.shape.start), v_task.makespan)
    tl.reserve(profile(v_task, "qubit"), 0, owner=id(v))
    j = Job(1, 0, 0, 8)
    prof = profile(j_task, "qubit")
    assert not tl.fits(prof, 3)
    before = tl.busy((0, "c", 0))
    assert not _preempt(tl, tasks, {id(v): v}, j, prof, 3, 1, SLOT)  # budget too small
    assert tl.busy((0, "c", 0)) == before and v.op_starts == (0, 3, 6)  # rolled back
    assert _preempt(tl, tasks, {id(v): v}, j, prof, 3, 8, SLOT)
    w = j_task.makespan
    assert v.op_starts == (0, 3 + w, 3 + w + 3) and v.preempted == w
    j.start, j.op_starts, j.finish = 3, tuple(3 + s for s in j_task.shape.start), 3 + w
    # one job each (not a whole hyperperiod): check qubits, precedence, deadlines, F_min
    sched = Schedule(tasks, "RCPSP-PB-EDF", 64, [v, j], feasible=False)
    assert validate_schedule(sched, SLOT) == []
    urgent = Job(1, 1, 0, 64)  # a later deadline than V's: no preemption of V
    assert not _preempt(tl, tasks, {id(v): v}, urgent, prof, 9, 8, SLOT)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.sampled_from([1, 2])), min_size=2, max_size=6))
def test_cpsat_optimum_bounds_the_greedy_admission(draws):
    tasks = tasks_from(draws, "H")
    for name, model in (
        ("PTS-NP-EDF", "network"),
        ("RCPSP-NP-FPR", "block"),
        ("RCPSP-NP-EDF", "qubit"),
    ):
        heur, _ = admit(tasks, name, 0, SLOT)
        opt, status = exact_admission(tasks, model, time_limit_s=20)
        assert status == "OPTIMAL"
        assert len(opt) >= len(heur)
        forced, status = exact_admission(tasks, model, time_limit_s=20, must_admit=heur)
        assert status == "OPTIMAL" and set(heur) <= set(forced)  # the greedy set is feasible


def test_profiles_nest_network_block_qubit():
    task = tasks_from([(1, 1)], "H")[0]
    q = profile(task, "qubit")
    b = profile(task, "block")
    assert {r for r, *_ in q} == {r for r, *_ in b}
    assert all(a == 0 and e == task.makespan for _, a, e in b)
    assert profile(task, "network") == ((("network",), 0, task.makespan),)


def test_single_task_metrics():
    task = tasks_from([(0, 1)], "H")[0]
    sched = build_schedule([task], "RCPSP-NP-EDF", slot_s=SLOT)
    (m,) = schedule_metrics(sched, SLOT)
    assert m["worst_response_s"] == pytest.approx(task.makespan * SLOT)
    assert m["jitter_s2"] == pytest.approx(0.0)
    assert m["rate_hz"] == pytest.approx(1 / (task.period * SLOT))


def test_scheduling_bad_input():
    task = tasks_from([(0, 1)], "H")[0]
    with pytest.raises(ValueError, match="scheduler"):
        build_schedule([task], "EDF-magic")
    with pytest.raises(ValueError, match="budget"):
        build_schedule([task], "RCPSP-PB-EDF", budget=-1)
    with pytest.raises(ValueError, match="period"):
        PeriodicTask("x", task.shape, 0, 0.6)
    with pytest.raises(ValueError, match="f_min"):
        PeriodicTask("x", task.shape, 16, 1.5)
    odd = [PeriodicTask(f"p{p}", task.shape, p, 0.6) for p in (97, 89, 83)]
    with pytest.raises(ValueError, match="hyperperiod"):
        build_schedule(odd, max_hyperperiod=1000)
    assert admit(odd, max_hyperperiod=1000)[0] == [0]  # too-long hyperperiods are not admitted
    with pytest.raises(ValueError, match="resource model"):
        profile(task, "galaxy")
    assert np.isfinite(task.makespan)
