"""Shared capacities: the density greedy's stated bound on one resource (against brute force),
its best-single fallback, and the Lagrangian bound above the exact optimum (MILP)."""

import numpy as np
import pytest
from auction_oracles import tiny_instance

from auction.baselines import optimum, upper_bound
from auction.bruteforce import brute_force
from auction.capacity import KNAPSACK_RATIO, density_greedy, feasible_pairs, lagrangian_bound
from auction.metrics import score, violations
from auction.model import Instance, Requests, Resources, UtilityParams, Weights
from auction.utility import reference_matrix

W, U = Weights(), UtilityParams()
DELTA = W.normalised()[3]


@pytest.mark.parametrize("seed", range(12))
def test_density_greedy_meets_its_knapsack_bound(seed):
    """One resource (a knapsack) and monotone submodular F: density greedy with the
    best-single fallback reaches at least ½(1 − 1/e) of the brute-force optimum (Khuller,
    Moss & Naor 1999); its allocation is feasible and its gains sum to F."""
    inst = tiny_instance(np.random.default_rng(700 + seed), n=7, m=1, n_owners=3)
    ref = inst.resources.unit_cost
    a = density_greedy(inst, feasible_pairs(inst, ref, W, U), DELTA)
    assert violations(inst, a, ref) == []
    f = score(inst, a, W, U, ref)
    assert f == pytest.approx(a.utility.sum())
    w, _ = reference_matrix(inst, ref, W, U)
    Q, R = inst.requests, inst.resources
    opt = brute_force(w, Q.requester, Q.demand, R.capacity, DELTA, "shared")
    assert f >= KNAPSACK_RATIO * opt - 1e-12


def _one_machine(demand, budget, capacity=1.0):
    n = len(demand)
    res = Resources(
        type=[0], capacity=[capacity], unit_cost=[0.1], location=np.zeros((1, 2)),
        reliability=[0.99], availability=[0.99], energy_efficiency=[0.5],
    )
    req = Requests(
        type=[0] * n, demand=demand, budget=budget, priority=[0] * n,
        location=np.zeros((n, 2)), requester=list(range(n)), min_reliability=np.zeros(n),
        max_latency_ms=np.full(n, np.inf),
    )
    return Instance(res, req)


def test_best_single_fallback():
    """A small dense request blocks a large valuable one: greedy by density alone keeps the
    small one (about 0.9 of one request's utility); the fallback returns the large one."""
    inst = _one_machine(demand=[0.02, 0.99], budget=[0.0021, 50.0])
    ref = inst.resources.unit_cost
    pairs = feasible_pairs(inst, ref, W, U)
    a = density_greedy(inst, pairs, DELTA)
    assert a.request.tolist() == [1]
    w = dict(zip(pairs[0].tolist(), pairs[2].tolist(), strict=True))
    assert w[0] / 0.02 > w[1] / 0.99 and w[1] > w[0]  # density prefers 0, value prefers 1


@pytest.mark.parametrize("step", [2.0, 0.25])
@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_is_above_the_optimum(seed, step):
    """Weak duality: L(λ) ≥ the MILP optimum for every λ ≥ 0, and the subgradient search
    never ends above L(0), the capacity-free bound (baselines.upper_bound)."""
    inst = tiny_instance(np.random.default_rng(800 + seed), n=10, m=3, n_owners=4, types=2)
    ref = inst.resources.unit_cost
    pairs = feasible_pairs(inst, ref, W, U)
    opt = score(inst, optimum(inst, ref, W, U, "shared"), W, U, ref)
    dg = score(inst, density_greedy(inst, pairs, DELTA), W, U, ref)
    bound, lam = lagrangian_bound(inst, pairs, DELTA, lower=dg, iterations=100, step_scale=step)
    assert opt - 1e-9 <= bound <= upper_bound(inst, ref, W, U) + 1e-9
    assert np.all(lam >= 0)
    assert dg <= opt + 1e-9
