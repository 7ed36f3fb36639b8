"""CPU + memory vector packing (issue 15 §3) against brute force.

Oracles: exhaustive enumeration with a memory row per resource (auction.bruteforce), a hand
example where memory, not CPU, binds, and the CPU-only instance (memory that never binds
must change nothing, bit for bit)."""

from dataclasses import replace

import numpy as np
import pytest
from auction_oracles import tiny_instance

from auction.baselines import BASELINES, optimum, upper_bound
from auction.bruteforce import brute_force, random_pairs
from auction.capacity import density_greedy, feasible_pairs, lagrangian_bound
from auction.greedy import lazy_greedy, plain_greedy
from auction.metrics import evaluate, score, violations
from auction.model import Instance, Requests, Resources, UtilityParams, Weights
from auction.mohaf import MohafParams, run_mohaf
from auction.scenario import MohafStudyConfig, build
from auction.truthful import vcg
from auction.utility import reference_matrix
from netsim import validate

W, U = Weights(), UtilityParams()
DELTA = W.normalised()[3]


def with_memory(inst: Instance, rng, tight: float = 0.6) -> Instance:
    """The instance with memory demands and capacities where memory binds on most resources
    (offered memory ``tight`` × the CPU-proportional amount)."""
    Q, R = inst.requests, inst.resources
    mem = Q.demand * rng.uniform(0.5, 2.5, len(Q))
    mcap = R.capacity * rng.uniform(0.3, 1.2, len(R)) * tight / 0.6
    return Instance(replace(R, mem_capacity=mcap), replace(Q, mem_demand=mem))


def _one_machine_two_jobs() -> Instance:
    """One machine, CPU for both requests, memory for one: the more valuable one (budget)."""
    res = Resources(
        type=[0], capacity=[1.0], unit_cost=[0.1], location=np.zeros((1, 2)),
        reliability=[0.99], availability=[0.99], energy_efficiency=[0.5], mem_capacity=[1.0],
    )
    req = Requests(
        type=[0, 0], demand=[0.3, 0.3], budget=[0.2, 5.0], priority=[0, 0],
        location=np.zeros((2, 2)), requester=[0, 1], min_reliability=np.zeros(2),
        max_latency_ms=np.full(2, np.inf), mem_demand=[0.6, 0.6],
    )
    return Instance(res, req)


def test_memory_binds_by_hand():
    """CPU alone admits both requests; memory (0.6 + 0.6 > 1) admits one. Every mechanism
    serves exactly one, the optimum the more valuable one; without memory all serve two."""
    inst = _one_machine_two_jobs()
    ref = inst.resources.unit_cost
    cpu_only = Instance(
        replace(inst.resources, mem_capacity=None), replace(inst.requests, mem_demand=None)
    )
    assert inst.memory and not cpu_only.memory
    assert len(optimum(cpu_only, ref, W, U)) == 2
    opt = optimum(inst, ref, W, U)
    assert opt.request.tolist() == [1]
    for name, fn in BASELINES.items():
        a = fn(inst, ref, W, U, "shared", np.random.default_rng(0))
        assert len(a) == 1 and violations(inst, a, ref) == [], name
    a = run_mohaf(inst, MohafParams(n_clusters=1, resources_per_cluster=None)).allocation
    assert len(a) == 1 and violations(inst, a, ref) == []
    assert len(density_greedy(inst, feasible_pairs(inst, ref, W, U), DELTA)) == 1
    assert len(vcg(inst, ref, W, U)) == 1
    kp = evaluate(inst, opt, W, U, ref)
    assert kp["mem_utilisation"] == pytest.approx(0.6) and kp["utilisation"] == pytest.approx(0.3)
    # a feasible-looking CPU allocation breaks the memory row
    both = type(opt)(np.array([0, 1]), np.array([0, 0]), np.zeros(2), np.zeros(2))
    assert "memory exceeded" in violations(inst, both, ref)
    assert violations(cpu_only, both, ref) == []


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["shared", "exclusive", "unconstrained"])
def test_lazy_equals_plain_greedy_with_memory(mode, seed):
    """The compiled lazy greedy picks exactly what plain greedy picks with two residuals, and
    its picks fit both dimensions (shared mode)."""
    rng = np.random.default_rng(300 + seed)
    n, m = 40, 10
    w, owner, demand, cap = random_pairs(rng, n, m, 7)
    w = np.round(w, 2)
    mem = rng.uniform(0.05, 1.0, n)
    mcap = rng.uniform(0.3, 1.5, m)
    k = 15 if mode == "unconstrained" else None
    blocks = [(np.arange(0, 20), np.arange(m), w[:20]), (np.arange(20, 40), np.arange(m), w[20:])]
    lazy = lazy_greedy(blocks, n, m, demand, owner, cap, 0.3, mode, k, None, mem, mcap)
    ii, jj = np.nonzero(np.isfinite(w))
    plain = plain_greedy(ii, jj, w[ii, jj], m, demand, owner, cap, 0.3, mode, k, None, mem, mcap)
    for a, b in zip(lazy, plain, strict=True):
        np.testing.assert_array_equal(a, b)
    if mode == "shared":
        i, j, _ = lazy
        assert np.all(np.bincount(j, weights=mem[i], minlength=m) <= mcap + 1e-12)
        assert np.all(np.bincount(j, weights=demand[i], minlength=m) <= cap + 1e-12)
        cpu = lazy_greedy(blocks, n, m, demand, owner, cap, 0.3, mode, k)
        assert not np.all(np.bincount(cpu[1], weights=mem[cpu[0]], minlength=m) <= mcap)


@pytest.mark.parametrize("seed", range(8))
def test_every_mechanism_is_feasible_and_below_the_brute_force_optimum(seed):
    """Tiny instances where memory binds: the MILP optimum equals exhaustive search with a
    memory row per resource; every mechanism's allocation fits both rows and scores at most
    that optimum; the Lagrangian bound (prices on both rows) lies above it and below the
    capacity-free bound."""
    rng = np.random.default_rng(900 + seed)
    inst = with_memory(tiny_instance(rng, n=6, m=2, n_owners=3), rng)
    Q, R = inst.requests, inst.resources
    ref = R.unit_cost
    w, _ = reference_matrix(inst, ref, W, U)
    opt = brute_force(
        w, Q.requester, Q.demand, R.capacity, DELTA, "shared", mem=(Q.mem_demand, R.mem_capacity)
    )
    cpu_opt = brute_force(w, Q.requester, Q.demand, R.capacity, DELTA, "shared")
    assert opt <= cpu_opt + 1e-12
    milp = optimum(inst, ref, W, U)
    assert violations(inst, milp, ref) == []
    assert score(inst, milp, W, U, ref) == pytest.approx(opt, abs=1e-9)
    found = {n: fn(inst, ref, W, U, "shared", np.random.default_rng(seed)) for n, fn in
             BASELINES.items()}
    found["mohaf_at_reserve"] = run_mohaf(
        inst, MohafParams(n_clusters=1, resources_per_cluster=None, cost_floor=True)
    ).allocation
    pairs = feasible_pairs(inst, ref, W, U)
    found["density_greedy"] = density_greedy(inst, pairs, DELTA)
    found["vcg"] = vcg(inst, ref, W, U)
    for name, a in found.items():
        assert violations(inst, a, ref) == [], name
        assert score(inst, a, W, U, ref) <= opt + 1e-9, name
    dg = score(inst, found["density_greedy"], W, U, ref)
    bound, _ = lagrangian_bound(inst, pairs, DELTA, lower=dg, iterations=100)
    assert opt - 1e-9 <= bound <= upper_bound(inst, ref, W, U) + 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_slack_memory_changes_nothing(seed):
    """Memory that never binds (zero demands) gives the CPU-only allocations bit for bit."""
    rng = np.random.default_rng(50 + seed)
    base = tiny_instance(rng, n=30, m=6, n_owners=5, types=2)
    slack = Instance(
        replace(base.resources, mem_capacity=np.ones(6)),
        replace(base.requests, mem_demand=np.zeros(30)),
    )
    ref = base.resources.unit_cost
    p = MohafParams(n_clusters=2, resources_per_cluster=None)
    runs = {
        "mohaf": lambda i: run_mohaf(i, p).allocation,
        "clearing": lambda i: run_mohaf(i, replace(p, price_update="excess")).allocation,
        "density": lambda i: density_greedy(i, feasible_pairs(i, ref, W, U), DELTA),
        **{n: (lambda i, f=fn: f(i, ref, W, U, "shared", np.random.default_rng(1)))
           for n, fn in BASELINES.items()},
    }
    for name, f in runs.items():
        a, b = f(base), f(slack)
        for x, y in zip((a.request, a.resource, a.payment), (b.request, b.resource, b.payment),
                        strict=True):
            np.testing.assert_array_equal(x, y, err_msg=name)
    pairs = feasible_pairs(base, ref, W, U)
    assert lagrangian_bound(base, pairs, DELTA, iterations=30)[0] == pytest.approx(
        lagrangian_bound(slack, pairs, DELTA, iterations=30)[0], rel=1e-12
    )


def test_trace_instance_with_memory():
    """The study's instance with memory: the trace's memory requests and spare memory; the
    rest of the instance is the CPU-only one (the memory arrays draw no random numbers)."""
    cfg = validate(MohafStudyConfig, dict(n_requests=300, n_resources=60))
    a = build(cfg, 3)
    b = build(cfg.model_copy(update={"memory": True}), 3)
    assert not a.memory and b.memory
    np.testing.assert_array_equal(a.requests.demand, b.requests.demand)
    np.testing.assert_array_equal(a.resources.unit_cost, b.resources.unit_cost)
    np.testing.assert_array_equal(
        b.resources.mem_capacity / b.resources.capacity > 0, np.ones(60, bool)
    )
    assert b.requests.mem_demand.mean() > a.requests.demand.mean()  # the trace asks more memory
    res = run_mohaf(b, MohafParams())
    assert violations(b, res.allocation, res.prices) == []


def test_bad_memory_input():
    with pytest.raises(ValueError, match="mem_demand"):
        replace(_one_machine_two_jobs().requests, mem_demand=[-1.0, 0.1])
    with pytest.raises(ValueError, match="mem_demand: expected 2 rows"):
        replace(_one_machine_two_jobs().requests, mem_demand=[0.1])
    with pytest.raises(ValueError, match="mem_capacity"):
        replace(_one_machine_two_jobs().resources, mem_capacity=[np.nan])
