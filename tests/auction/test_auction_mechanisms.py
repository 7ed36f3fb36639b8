"""Every mechanism keeps the constraints (hypothesis), the exact optimum (MILP, cross-checked
against brute force) is ≥ every mechanism, and runs are deterministic under a seed."""

from dataclasses import replace

import numpy as np
import pytest
from auction_oracles import tiny_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.baselines import BASELINES, first_price_shading, optimum, upper_bound
from auction.bruteforce import brute_force
from auction.metrics import score, violations
from auction.model import Instance, Requests, Resources, UtilityParams, Weights
from auction.mohaf import MohafParams, initial_prices, price_floor, run_mohaf
from auction.pricing import PriceRule
from auction.truthful import misreport_gain, vcg
from auction.utility import reference_matrix


def _all(inst, mode, seed, rounds=3):
    p = MohafParams(mode=mode, pricing=PriceRule(max_rounds=rounds), resources_per_cluster=2)
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
@pytest.mark.parametrize("seed", range(6))
def test_optimum_dominates_and_matches_brute_force(mode, seed):
    """Two exact optima of the scoring F, each cross-checked against exhaustive enumeration:
    over every pair some price ≥ ρ_min allows (MOHAF's rounds may price below the reserve,
    and then win pairs that no fixed price allows), which must bound every mechanism, MOHAF
    with its full price rounds included; and at the reserve prices, which must bound the
    fixed-price ones (the baselines and MOHAF's single greedy round)."""
    inst = tiny_instance(np.random.default_rng(100 + seed), n=6, m=3, n_owners=3)
    wts, par = Weights(), UtilityParams()
    found, p, ref = _all(inst, mode, seed, rounds=20)
    floor = price_floor(inst, p.pricing)
    one = run_mohaf(inst, replace(p, pricing=replace(p.pricing, max_rounds=1)), seed=seed)
    Q, R = inst.requests, inst.resources
    delta = wts.normalised()[3]
    f_opt = {}
    for name, fp in (("any_price", floor), ("reserve", None)):
        w, _ = reference_matrix(inst, ref, wts, par, fp)
        bf = brute_force(w, Q.requester, Q.demand, R.capacity, delta, mode)
        opt = optimum(inst, ref, wts, par, mode, floor_prices=fp)
        assert violations(inst, opt, ref if fp is None else fp, mode) == []
        f_opt[name] = score(inst, opt, wts, par, ref)
        assert f_opt[name] == pytest.approx(bf, abs=1e-9), name
        assert upper_bound(inst, ref, wts, par, fp) >= f_opt[name] - 1e-9
    assert f_opt["any_price"] >= f_opt["reserve"] - 1e-12
    for name, (a, _) in found.items():
        assert score(inst, a, wts, par, ref) <= f_opt["any_price"] + 1e-9, name
        if name != "mohaf":
            assert score(inst, a, wts, par, ref) <= f_opt["reserve"] + 1e-9, name
    assert score(inst, one.allocation, wts, par, ref) <= f_opt["reserve"] + 1e-9


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


def _unit_demand(capacity, values, n_res=1, types=None, res_types=None):
    """Unit-demand bidders with per-unit ``values`` on ``n_res`` resources of reserve 1."""
    n = len(values)
    res = Resources(
        type=res_types or [0] * n_res,
        capacity=[capacity] * n_res,
        unit_cost=[1.0] * n_res,
        location=np.zeros((n_res, 2)),
        reliability=[0.99] * n_res,
        availability=[0.99] * n_res,
        energy_efficiency=[0.5] * n_res,
    )
    req = Requests(
        type=types or [0] * n,
        demand=[1.0] * n,
        budget=values,
        priority=[0] * n,
        location=np.zeros((n, 2)),
        requester=list(range(n)),
        min_reliability=np.zeros(n),
        max_latency_ms=np.full(n, np.inf),
    )
    return Instance(res, req), np.ones(n_res), Weights(), UtilityParams()


def _paid(a):
    return dict(zip(a.request.tolist(), a.payment.tolist(), strict=True))


@pytest.mark.parametrize(
    "capacity,expected", [(2.0, {0: 5.0, 1: 5.0}), (3.0, {0: 1.0, 1: 1.0, 2: 1.0})]
)
def test_multi_unit_vickrey_by_hand(capacity, expected):
    """Regression (issue 15). k identical units, unit demands, values 10/8/5, reserve 1: the
    Vickrey (= VCG) price is the highest losing bid, 5, for both winners with 2 units, and the
    reserve with 3 units (no loser) (Krishna, Auction Theory, §12.2). ``gsp`` charges 8 and 5."""
    inst, ref, wts, par = _unit_demand(capacity, [10.0, 8.0, 5.0])
    assert _paid(BASELINES["uniform_price"](inst, ref, wts, par)) == pytest.approx(expected)
    assert _paid(vcg(inst, ref, wts, par)) == pytest.approx(expected)
    gsp = {0: 8.0, 1: 5.0} if capacity == 2 else {0: 8.0, 1: 5.0, 2: 1.0}
    assert _paid(BASELINES["gsp"](inst, ref, wts, par)) == pytest.approx(gsp)


def test_gsp_is_not_truthful_and_uniform_price_is():
    """Regression (issue 15): with 2 units, bidder 0 (value 10) bids 6, still wins and pays 5
    under gsp (gain 3 over 8); the multi-unit Vickrey price does not move."""
    inst, ref, wts, par = _unit_demand(2.0, [6.0, 8.0, 5.0])
    assert _paid(BASELINES["gsp"](inst, ref, wts, par))[0] == pytest.approx(5.0)
    inst, ref, wts, par = _unit_demand(2.0, [10.0, 8.0, 5.0])
    gain = misreport_gain(BASELINES["gsp"], inst, ref, wts, par)
    assert gain[0] == pytest.approx(3.0)
    assert np.all(misreport_gain(BASELINES["uniform_price"], inst, ref, wts, par) <= 1e-9)


@pytest.mark.parametrize("n,k,ratio", [(3, 1, 2 / 3), (3, 2, 1 / 2), (10, 4, 6 / 7), (3, 3, 0)])
def test_first_price_shading_is_the_k_unit_equilibrium(n, k, ratio):
    """Regression (issue 15): b = v(n − k)/(n − k + 1), the symmetric equilibrium of the k-unit
    pay-as-bid auction with i.i.d. uniform values (Krishna §13.5); k = 1: v(n − 1)/n."""
    assert first_price_shading(n, k) == pytest.approx(ratio)


def test_first_price_by_hand():
    """2 units, values 10/8/5: bids v/2 = 5, 4, 2.5, paid as bid; 3 units (no competition):
    everyone bids the reserve."""
    inst, ref, wts, par = _unit_demand(2.0, [10.0, 8.0, 5.0])
    assert _paid(BASELINES["first_price"](inst, ref, wts, par)) == pytest.approx({0: 5.0, 1: 4.0})
    inst, ref, wts, par = _unit_demand(3.0, [10.0, 8.0, 5.0])
    assert _paid(BASELINES["first_price"](inst, ref, wts, par)) == pytest.approx(
        {0: 1.0, 1: 1.0, 2: 1.0}
    )


def test_sealed_bid_payments_by_hand():
    """Three unit-demand bidders with values 5 and 3 (type 0) and 4 (type 1), reserve 1,
    capacity 10 per resource: no type is contested, so first price bids the reserve, Vickrey
    charges the reserve (no losing bid) and gsp charges the next bid of the same type (3,
    not the type-1 bid 4)."""
    inst, ref, wts, par = _unit_demand(10.0, [5.0, 4.0, 3.0], 2, [0, 1, 0], [0, 1])
    assert _paid(BASELINES["first_price"](inst, ref, wts, par)) == pytest.approx(
        {0: 1.0, 1: 1.0, 2: 1.0}
    )
    vk = BASELINES["uniform_price"](inst, ref, wts, par)
    assert _paid(vk) == pytest.approx({0: 1.0, 1: 1.0, 2: 1.0})
    np.testing.assert_array_equal(vk.resource[np.argsort(vk.request)], [0, 1, 0])
    assert _paid(BASELINES["gsp"](inst, ref, wts, par)) == pytest.approx({0: 3.0, 1: 1.0, 2: 1.0})


@pytest.mark.parametrize("seed", range(3))
def test_truthful_mechanisms_admit_no_profitable_misreport(seed):
    """Numerical truthfulness (issue 15 §1): on random instances no bidder gains by reporting
    any of 8 scaled budgets, for VCG (Clarke pivot on the exact welfare MILP), the posted-price
    mechanisms (first come or by priority) and the multi-unit Vickrey on identical units."""
    rng = np.random.default_rng(300 + seed)
    inst = tiny_instance(rng, n=5, m=2, n_owners=5, floors=False)
    ref = inst.resources.unit_cost
    wts, par = Weights(), UtilityParams()
    for mech in (vcg, BASELINES["posted_price"], BASELINES["greedy_priority"]):
        assert np.all(misreport_gain(mech, inst, ref, wts, par) <= 1e-7), mech.__name__
    k = int(rng.integers(1, 6))
    inst, ref, wts, par = _unit_demand(float(k), list(rng.uniform(0.5, 5.0, 6)))
    assert np.all(misreport_gain(BASELINES["uniform_price"], inst, ref, wts, par) <= 1e-9)
    # VCG and the multi-unit Vickrey agree on identical units (VCG = Vickrey's k-unit auction)
    a, b = vcg(inst, ref, wts, par), BASELINES["uniform_price"](inst, ref, wts, par)
    assert _paid(a) == pytest.approx(_paid(b))
