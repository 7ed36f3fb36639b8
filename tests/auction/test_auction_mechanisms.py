"""Every mechanism keeps the constraints (hypothesis), the exact optimum (MILP, cross-checked
against brute force) is ≥ every mechanism, and runs are deterministic under a seed."""

import numpy as np
import pytest
from auction_oracles import tiny_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.baselines import BASELINES, optimum, upper_bound
from auction.bruteforce import brute_force
from auction.metrics import score, violations
from auction.model import UtilityParams, Weights
from auction.mohaf import MohafParams, initial_prices, run_mohaf
from auction.pricing import PriceRule
from auction.utility import utility_matrix


def _all(inst, mode, seed, rounds=3):
    p = MohafParams(mode=mode, pricing=PriceRule(max_rounds=rounds), cluster_size=2)
    ref = initial_prices(inst, p.pricing)
    res = run_mohaf(inst, p, seed=seed)
    out = {"mohaf": (res.allocation, res.prices)}
    for name, fn in BASELINES.items():
        out[name] = (fn(inst, ref, p.weights, p.utility, mode, np.random.default_rng(seed)), ref)
    return out, p, ref


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(["shared", "exclusive"]))
def test_invariants_hold_for_every_mechanism(seed, mode):
    inst = tiny_instance(np.random.default_rng(seed), n=8, m=4, types=2)
    found, _, _ = _all(inst, mode, seed)
    for name, (a, prices) in found.items():
        assert violations(inst, a, prices, mode) == [], name


@pytest.mark.parametrize("mode", ["shared", "exclusive"])
@pytest.mark.parametrize("seed", range(4))
def test_optimum_dominates_and_matches_brute_force(mode, seed):
    inst = tiny_instance(np.random.default_rng(100 + seed), n=6, m=3, n_owners=3)
    wts, par = Weights(), UtilityParams()
    found, p, ref = _all(inst, mode, seed, rounds=1)  # one round: MOHAF allocates at ref prices
    opt = optimum(inst, ref, wts, par, mode)
    f_opt = score(inst, opt, wts, par, ref)
    w, ok = utility_matrix(inst, ref, wts, par)
    Q, R = inst.requests, inst.resources
    bf = brute_force(
        np.where(ok, w, -np.inf), Q.requester, Q.demand, R.capacity, wts.normalised()[3], mode
    )
    assert f_opt == pytest.approx(bf, abs=1e-9)
    assert upper_bound(inst, ref, wts, par) >= f_opt - 1e-9
    for name, (a, _) in found.items():
        assert score(inst, a, wts, par, ref) <= f_opt + 1e-9, name


def test_linear_sum_assignment_path_matches_milp():
    inst = tiny_instance(np.random.default_rng(5), n=6, m=4, n_owners=6)
    inst = type(inst)(
        inst.resources, type(inst.requests)(**{**inst.requests.__dict__, "requester": np.arange(6)})
    )
    wts, par = Weights(), UtilityParams()
    ref = inst.resources.unit_cost
    lsa = optimum(inst, ref, wts, par, "exclusive")  # one request per requester: assignment
    milp = optimum(inst, ref, wts, par, "exclusive", max_allocations=6)  # forces the MILP path
    assert score(inst, lsa, wts, par, ref) == pytest.approx(score(inst, milp, wts, par, ref))


def test_determinism_under_a_seed():
    inst = tiny_instance(np.random.default_rng(9), n=30, m=8, types=2)
    a, _, _ = _all(inst, "shared", 4)
    b, _, _ = _all(inst, "shared", 4)
    for name in a:
        for x, y in zip(a[name][0].__dict__.values(), b[name][0].__dict__.values(), strict=True):
            np.testing.assert_array_equal(x, y)


def test_random_needs_a_stream():
    inst = tiny_instance(np.random.default_rng(1))
    with pytest.raises(ValueError, match="needs rng"):
        BASELINES["random"](inst, inst.resources.unit_cost, Weights(), UtilityParams())
