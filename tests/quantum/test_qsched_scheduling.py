"""Periodic schedules over the hyperperiod: validity (property-tested), an independent
uniprocessor NP-EDF oracle for PTS, and the CP-SAT optimum as an upper bound for admission."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
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


def _pool():
    plans = []
    for topo, paths in {
        "H": [(0, 1, 2), (0, 1, 4, 5), (3, 4, 5), (2, 1, 4, 3)],
        "star": [(1, 0, 2), (2, 0, 3)],
        "line": [(0, 1), (1, 2, 3), (4, 5)],
    }.items():
        g = equip(attach_capabilities(build_topology(topo), "nv"), repeater=(2, 3), coherence_s=1.5)
        for path in paths:
            for f in (0.55, 0.62):
                p = search_protocol(g, path, f, SearchParams(plan_creation="end"))
                if p is not None:
                    plans.append((topo, p, f))
    return plans


POOL = _pool()
BY_TOPO = {t: [(p, f) for tt, p, f in POOL if tt == t] for t in ("H", "star", "line")}


def tasks_from(draw_list, topo):
    plans = BY_TOPO[topo]
    out = []
    for i, (j, mult) in enumerate(draw_list):
        plan, f = plans[j % len(plans)]
        period = 8 * 2 ** math.ceil(math.log2(max(1, math.ceil(plan.makespan / 8)))) * mult
        out.append(PeriodicTask(f"t{i}", plan.shape, int(period), f))
    return out


task_lists = st.tuples(
    st.sampled_from(["H", "star", "line"]),
    st.lists(st.tuples(st.integers(0, 20), st.sampled_from([1, 2, 4])), min_size=1, max_size=6),
)


@settings(max_examples=30, deadline=None)
@given(task_lists, st.sampled_from(list(SCHEDULERS)), st.integers(0, 6))
def test_every_scheduler_produces_valid_schedules(spec, scheduler, budget):
    topo, draws = spec
    tasks = tasks_from(draws, topo)
    admitted, sched = admit(tasks, scheduler, budget, SLOT)
    assert sched.feasible
    assert validate_schedule(sched, SLOT) == []
    assert [t.name for t in sched.tasks] == [tasks[i].name for i in admitted]
    h = sched.hyperperiod
    assert h == hyperperiod([t.period for t in sched.tasks]) or not admitted
    for i, task in enumerate(sched.tasks):
        jobs = [j for j in sched.jobs if j.task == i]
        assert len(jobs) == h // task.period  # every period of the hyperperiod is served
        assert all(j.release <= j.start and j.finish <= j.deadline for j in jobs)


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
@given(task_lists)
def test_pts_is_uniprocessor_np_edf(spec):
    tasks = tasks_from(spec[1], spec[0])
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
