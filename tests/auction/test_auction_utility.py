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
