"""Per-pair utility terms: each in [0, 1], the documented formulas, the payment rule, and the
bad inputs of issue 5 (negative capacity, weights not summing to a positive number)."""

import numpy as np
import pytest
from auction_oracles import tiny_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.model import Requests, Resources, UtilityParams, Weights
from auction.utility import (
    base_utility,
    cost_term,
    energy_term,
    fairness_term,
    latency_factor,
    latency_ms,
    payment,
    qos_term,
    reference_matrix,
    static_terms,
    utility_matrix,
)


def test_terms_follow_their_formulas():
    assert cost_term(30.0, 100.0) == pytest.approx(0.7)  # 30 % of the budget spent
    assert (
        cost_term(150.0, 100.0) == 0.0 and cost_term(0.0, 0.0) == 1.0 and cost_term(1.0, 0.0) == 0.0
    )
    p = UtilityParams(latency_base_ms=1.0, latency_ms_per_km=0.01, latency_ref_ms=10.0)
    assert latency_ms(np.array(200.0), p) == pytest.approx(3.0)
    assert latency_factor(10.0, 10.0) == pytest.approx(np.exp(-1))
    assert qos_term(0.9, 0.99, 0.6) == pytest.approx((0.9 + 0.99 + 0.6) / 3)
    assert energy_term(0.42) == 0.42
    assert fairness_term([0, 1, 3]).tolist() == [1.0, 0.5, 0.25]
    # π = min(ρ d (0.8 + 0.4 U), B)
    assert payment(2.0, 0.5, 0.5, 10.0) == pytest.approx(2.0 * 0.5 * 1.0)
    assert payment(2.0, 0.5, 1.0, 0.9) == pytest.approx(0.9)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0.01, 1)
)
def test_utility_in_unit_interval_and_equals_weighted_terms(seed, a, b, g, d):
    rng = np.random.default_rng(seed)
    inst = tiny_instance(rng, 5, 4, types=2)
    wts = Weights(a, b, g, d)
    prices = inst.resources.unit_cost
    w, ok = utility_matrix(inst, prices, wts, UtilityParams())
    an, bn, gn, dn = wts.normalised()
    assert np.all((w[ok] >= -1e-12) & (w[ok] + dn <= 1 + 1e-12))  # U = w + δ/(1+h) in [0, 1]
    assert np.all(w[~ok] == -np.inf)
    Q, R = inst.requests, inst.resources
    for i, j in zip(*np.nonzero(ok), strict=True):
        lat = latency_ms(np.hypot(*(Q.location[i] - R.location[j])), UtilityParams())
        expect = (
            an * cost_term(prices[j] * Q.demand[i], Q.budget[i])
            + bn * qos_term(R.reliability[j], R.availability[j], latency_factor(lat, 10.0))
            + gn * R.energy_efficiency[j]
        )
        assert w[i, j] == pytest.approx(expect, abs=1e-12)
        assert Q.type[i] == R.type[j] and R.capacity[j] >= Q.demand[i]
        assert prices[j] * Q.demand[i] <= Q.budget[i] and R.reliability[j] >= Q.min_reliability[i]
        assert lat <= Q.max_latency_ms[i]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 1.0))
def test_scoring_matrix_formula_and_floor_feasibility(seed, floor_share):
    """The scoring utility: cost term at the reference prices, clipped at 0 for pairs whose
    budget is below it, and budgets checked at the floor prices; at floor = reference it is
    the allocation-time utility_matrix."""
    inst = tiny_instance(np.random.default_rng(seed), 5, 4, types=2)
    wts, par = Weights(), UtilityParams()
    ref = inst.resources.unit_cost
    floor = ref * floor_share
    w, feas = reference_matrix(inst, ref, wts, par, floor)
    s, ok = static_terms(inst, np.arange(5)[:, None], np.arange(4)[None, :], wts, par)
    Q = inst.requests
    for i in range(5):
        for j in range(4):
            assert feas[i, j] == (ok[i, j] and floor[j] * Q.demand[i] <= Q.budget[i])
            if feas[i, j]:
                head = max(0.0, 1.0 - ref[j] * Q.demand[i] / Q.budget[i])
                assert w[i, j] == pytest.approx(0.3 * head + s[i, j], abs=1e-12)
            else:
                assert w[i, j] == -np.inf
    w0, f0 = reference_matrix(inst, ref, wts, par)
    wu, fu = utility_matrix(inst, ref, wts, par)
    np.testing.assert_array_equal(f0, fu)
    np.testing.assert_allclose(w0[f0], wu[fu], rtol=0, atol=1e-12)
    assert np.all(feas >= f0)  # a lower floor only admits more pairs


def test_pairwise_and_block_forms_agree():
    inst = tiny_instance(np.random.default_rng(4), 6, 5)
    wts, p = Weights(), UtilityParams()
    W, ok = utility_matrix(inst, inst.resources.unit_cost, wts, p)
    i, j = np.nonzero(ok)
    w, ok2 = base_utility(inst, i, j, inst.resources.unit_cost, wts, p)
    assert np.all(ok2) and np.array_equal(w, W[i, j])
    s, _ = static_terms(inst, i, j, wts, p)
    assert np.all(s <= w + 1e-12)


def _resources(**over):
    kw = dict(
        type=[0],
        capacity=[1.0],
        unit_cost=[1.0],
        location=[[0, 0]],
        reliability=[0.9],
        availability=[0.9],
        energy_efficiency=[0.5],
    )
    kw.update(over)
    return Resources(**kw)


def test_bad_inputs_are_rejected_clearly():
    with pytest.raises(ValueError, match="capacity: values must be finite and >= 0"):
        _resources(capacity=[-1.0])
    with pytest.raises(ValueError, match="reliability"):
        _resources(reliability=[1.5])
    with pytest.raises(ValueError, match="must sum to a positive number"):
        Weights(0, 0, 0, 0)
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        Weights(-0.1, 0.5, 0.3, 0.3)
    with pytest.raises(ValueError, match="demand"):
        Requests(
            type=[0],
            demand=[-1],
            budget=[1],
            priority=[0],
            location=[[0, 0]],
            requester=[0],
            min_reliability=[0],
            max_latency_ms=[np.inf],
        )
    with pytest.raises(ValueError, match="expected 1 rows"):
        _resources(unit_cost=[1.0, 2.0])
