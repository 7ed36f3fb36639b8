"""Executing schedules on the engine: the deterministic link model reproduces the plan, the
heralded model matches the analytic success probability, worst-case planning guarantees
F_min, and the online EDF dispatcher reproduces the offline EDF schedule."""

import numpy as np
import pytest
from scipy import stats

from netsim import Simulation
from quantum.capabilities import attach_capabilities
from quantum.protocol_search import SearchParams, evaluate, search_protocol, success_probability
from quantum.qos import (
    ExecParams,
    OnlineDispatcher,
    aggregate_qos,
    draw_outcomes,
    edf_choice,
    execute,
    task_qos,
)
from quantum.scheduling import PeriodicTask, admit
from quantum.topologies import build_topology, equip

SLOT = 0.01


def tasks_on_h(creation="end", f=0.55):
    g = equip(attach_capabilities(build_topology("H"), "nv"), repeater=(2, 3), coherence_s=1.5)
    params = SearchParams(plan_creation=creation)
    out = []
    for i, (path, period) in enumerate(
        [((0, 1, 2), 16), ((3, 4, 5), 32), ((0, 1, 4, 5), 64), ((2, 1, 4, 3), 64)]
    ):
        plan = search_protocol(g, path, f, params)
        out.append(PeriodicTask(f"d{i}", plan.shape, period, f))
    return out


def run(tasks, link_model, seed=1, reps=10, scheduler="RCPSP-NP-EDF"):
    admitted, sched = admit(tasks, scheduler, 0, SLOT)
    sim = Simulation(seed)
    out = execute(sim, sched, [10.0] * len(sched.tasks), ExecParams(SLOT, link_model, 1.0, reps))
    return sched, out, sim


def test_deterministic_links_reproduce_the_planned_rates_and_fidelities():
    sched, out, sim = run(tasks_on_h("end"), "deterministic")
    horizon = sched.hyperperiod * SLOT * 10
    for task, d in zip(sched.tasks, out, strict=True):
        jobs = [j for j in sched.jobs if j.task == sched.tasks.index(task)]
        nominal = float(
            evaluate(task.shape, SLOT, start=[[s - jobs[0].start for s in jobs[0].op_starts]])[1][0]
        )
        # every job delivers (no distillation in these plans) exactly the planned fidelity
        assert all(d.ok) and len(d.ok) == 10 * len(jobs)
        assert np.nanmin(d.fidelity) >= task.f_min
        assert d.fidelity[0] == pytest.approx(nominal)
        q = task_qos(d, task, horizon, SLOT)
        assert q["throughput_hz"] == pytest.approx(1 / (task.period * SLOT))
        # classical delay of 10 km of fibre on top of the schedule's completion time
        assert d.delivered_s[0] == pytest.approx(jobs[0].finish * SLOT + 10e3 / 2e8)
    assert sim.metrics.counter("qos.delivered").value == sum(len(d.ok) for d in out)


def test_heralded_success_rate_matches_the_analytic_probability():
    """Swaps only: P(success) = prod_links (1 - exp(-R·W)) exactly. With distillation the
    planned (worst-case) fidelities make the analytic value a lower bound."""
    swap_only, distilled = tasks_on_h("start")[0], tasks_on_h("start")[2]
    assert {op.kind for op in swap_only.shape.ops} == {"link", "swap"}
    assert "distill" in {op.kind for op in distilled.shape.ops}
    for task, exact in ((swap_only, True), (distilled, False)):
        p = success_probability(task.shape, SearchParams(plan_creation="start"))
        starts = np.tile(np.asarray(task.shape.start), (20000, 1))
        ok, fid = draw_outcomes(
            task.shape, starts, np.random.default_rng(5), ExecParams(SLOT, "heralded")
        )
        lo, hi = stats.binomtest(int(ok.sum()), ok.size).proportion_ci(0.999)
        assert lo <= p <= hi if exact else p <= hi
    # planned for the worst case: every delivered pair meets F_min, none beats the best case
    assert np.nanmin(fid) >= task.f_min
    best = float(
        evaluate(task.shape.__class__(**{**task.shape.__dict__, "creation": "end"}), SLOT)[1][0]
    )
    assert np.nanmax(fid) <= best + 1e-12
    assert np.all((fid[ok] >= 0.25) & (fid[ok] <= 1.0))


def test_same_seed_same_outcomes_and_different_seed_differs():
    tasks = tasks_on_h("start")
    a = run(tasks, "heralded", seed=3)[1]
    b = run(tasks, "heralded", seed=3)[1]
    c = run(tasks, "heralded", seed=4)[1]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.fidelity, y.fidelity)  # bit-identical (NaN == NaN)
        assert x.ok == y.ok and x.delivered_s == y.delivered_s
    assert [d.ok for d in a] != [d.ok for d in c]


def test_online_edf_matches_the_offline_schedule():
    tasks = tasks_on_h("end")
    for model, name in (("network", "PTS-NP-EDF"), ("qubit", "RCPSP-NP-EDF")):
        admitted, sched = admit(tasks, name, 0, SLOT)
        chosen = [tasks[i] for i in admitted]
        sim = Simulation(0)
        log = []

        def policy(state, log=log):
            c = edf_choice(state)
            log.append((state["t"], c))
            return c

        d = OnlineDispatcher(
            sim,
            chosen,
            model,
            ExecParams(SLOT, "deterministic"),
            [0.0] * len(chosen),
            policy=policy,
        )
        sim.run(until=sched.hyperperiod * SLOT - 1e-9)
        online = sorted((t, i) for t, i in log)
        offline = sorted((j.start, j.task) for j in sched.jobs)
        assert online == offline and d.missed == 0


def test_aggregate_and_bad_parameters():
    agg = aggregate_qos([], offered=5)
    assert agg["admitted_fraction"] == 0.0 and agg["throughput_hz"] == 0.0
    with pytest.raises(ValueError, match="link_model"):
        ExecParams(link_model="magic")
    with pytest.raises(ValueError, match="hyperperiods"):
        ExecParams(hyperperiods=0)
    with pytest.raises(ValueError, match="exactly one"):
        OnlineDispatcher(Simulation(0), [], "network", ExecParams(), [])


def test_task_qos_hand_values_and_jitter_is_a_variance():
    """Issue 6 / LinkScheduling ``np.var(s2 − s1 − p)``: jitter is the variance of the
    inter-delivery times minus the period. Period 0.1 s; the job released at 0.2 s is lost
    and the one released at 0.4 s misses F_min: good deliveries at 0.05, 0.15, 0.35 s, so
    Δ − p = (0, 0.1) and the jitter is 0.0025 s² (a mean square would give 0.005)."""
    from types import SimpleNamespace

    from quantum.qos import Delivery

    task = SimpleNamespace(period=10, f_min=0.7)
    d = Delivery(
        release_s=[0.0, 0.1, 0.2, 0.3, 0.4],
        delivered_s=[0.05, 0.15, 0.25, 0.35, 0.45],
        fidelity=[0.8, 0.75, float("nan"), 0.9, 0.6],
        ok=[True, True, False, True, True],
    )
    q = task_qos(d, task, horizon_s=0.5, slot_s=0.01)
    assert q["scheduled_rate_hz"] == pytest.approx(10.0)
    assert q["throughput_hz"] == pytest.approx(3 / 0.5)
    assert q["delivered_hz"] == pytest.approx(4 / 0.5)
    assert q["fidelity"] == pytest.approx((0.8 + 0.75 + 0.9 + 0.6) / 4)
    assert q["fidelity_ok_fraction"] == pytest.approx(3 / 4)
    assert q["latency_worst_s"] == pytest.approx(0.05)
    assert q["latency_mean_s"] == pytest.approx(0.05)
    assert q["jitter_s2"] == pytest.approx(0.0025)
