"""MOHAF's parts: the hierarchy cuts candidate pairs, the price rule follows its formula and
converges within its bound, Jain's index over requesters hits its extremes, KPIs add up."""

import numpy as np
import pytest
from auction_oracles import tiny_instance

from auction.clustering import build_hierarchy, clusters_per_type
from auction.metrics import evaluate, jain_requesters
from auction.model import Allocation, Instance, Requests
from auction.mohaf import MohafParams, run_mohaf, type_pairs
from auction.pricing import PriceRule, update_prices, utilisation
from auction.traces import synthetic_trace
from auction.workload import make_instance


@pytest.fixture(scope="module")
def inst():
    return make_instance(
        synthetic_trace(1000, 250, np.random.default_rng(1)), np.random.default_rng(2)
    )


def test_clustering_cuts_candidate_pairs(inst):
    h = build_hierarchy(inst, resources_per_cluster=32, neighbours=1, seed=0)
    full = type_pairs(inst)
    assert h.n_candidate_pairs() < 0.35 * full  # 2 of ~8 clusters in the big type
    flat = build_hierarchy(inst, flat=True)
    assert flat.n_candidate_pairs() == full
    # every request bids only on resources of its own type, in its cluster or a neighbour
    for c, req, res in h.blocks():
        assert c in h.near[c] and np.all(inst.resources.type[res] == h.cluster_type[c])
        assert np.all(inst.requests.type[req] == h.cluster_type[c])
    sqrt = build_hierarchy(inst, neighbours=1)  # √M rule
    sizes = np.bincount(inst.resources.type)
    assert sqrt.n_clusters == sum(max(1, round(np.sqrt(m))) for m in sizes)


def test_cluster_rules():
    assert clusters_per_type({0: 100, 1: 400}, None, None) == {0: 10, 1: 20}
    assert clusters_per_type({0: 100, 1: 400}, None, 32) == {0: 4, 1: 13}
    assert clusters_per_type({0: 100, 1: 300}, 8, None) == {0: 2, 1: 6}
    with pytest.raises(ValueError, match="resources_per_cluster must be >= 1"):
        clusters_per_type({0: 5}, None, 0)


def test_price_rule_formula_and_bounds():
    rule = PriceRule(eta0=1.0, tau=0.8, epsilon=0.05, rho_min=0.1, rho_max=2.0)
    rho = np.array([1.0, 1.0, 0.15, 1.95])
    util = utilisation(np.array([1.0, 0.0, 0.0, 2.0]), np.array([1.0, 1.0, 1.0, 1.0]))
    new = update_prices(rho, util, t=2, rule=rule)  # η_2 = 0.5
    np.testing.assert_allclose(new, [1.1, 0.6, 0.1, 2.0])
    assert rule.rounds_bound() == 16
    with pytest.raises(ValueError, match="rho_min <= rho_max"):
        PriceRule(rho_min=3, rho_max=1)


def test_prices_converge_within_the_bound(inst):
    rule = PriceRule(eta0=1.0, epsilon=0.05, max_rounds=50)
    res = run_mohaf(inst, MohafParams(pricing=rule), seed=3)
    assert res.converged and res.rounds <= rule.rounds_bound() + 1
    assert res.max_price_move[-1] < rule.epsilon <= res.max_price_move[:-1].min()
    steps = np.abs(np.diff(res.price_history, axis=0)).max(axis=1)
    np.testing.assert_allclose(steps, res.max_price_move)
    assert np.all(steps <= rule.eta0 / np.arange(1, res.rounds + 1) * 0.8 + 1e-12)
    assert res.allocation.utility.sum() == pytest.approx(res.objective_history[-1])


def test_mohaf_is_deterministic(inst):
    a = run_mohaf(inst, seed=5)
    b = run_mohaf(inst, seed=5)
    np.testing.assert_array_equal(a.allocation.request, b.allocation.request)
    np.testing.assert_array_equal(a.allocation.resource, b.allocation.resource)
    np.testing.assert_array_equal(a.price_history, b.price_history)


def _requesters(owners):
    n = len(owners)
    req = Requests(
        type=np.zeros(n),
        demand=np.full(n, 0.1),
        budget=np.ones(n),
        priority=np.zeros(n),
        location=np.zeros((n, 2)),
        requester=owners,
        min_reliability=np.zeros(n),
        max_latency_ms=np.full(n, np.inf),
    )
    return Instance(tiny_instance(np.random.default_rng(0), 1, 2).resources, req)


def test_jain_over_requesters_extremes():
    inst = _requesters([0, 0, 1, 1, 2, 2, 3, 3])
    equal = Allocation(np.array([0, 2, 4, 6]), np.zeros(4, int), np.zeros(4), np.zeros(4))
    assert jain_requesters(inst, equal) == pytest.approx(1.0)  # each requester: 1 of 2 served
    one = Allocation(np.array([0, 1]), np.zeros(2, int), np.zeros(2), np.zeros(2))
    assert jain_requesters(inst, one) == pytest.approx(1 / 4)  # one requester gets everything
    # over requesters, not allocations: requester 0 has 6 requests, 1 has 2; serving 3 + 1
    # gives equal fractions (1/2 each) although the allocation counts differ
    inst2 = _requesters([0, 0, 0, 0, 0, 0, 1, 1])
    a = Allocation(np.array([0, 1, 2, 6]), np.zeros(4, int), np.zeros(4), np.zeros(4))
    assert jain_requesters(inst2, a) == pytest.approx(1.0)


def test_kpis_add_up(inst):
    res = run_mohaf(inst, seed=1)
    p = MohafParams()
    k = evaluate(
        inst, res.allocation, p.weights, p.utility, inst.resources.unit_cost, res.runtime_s
    )
    a = res.allocation
    assert k["satisfaction"] == pytest.approx(len(a) / len(inst.requests))
    assert k["revenue"] == pytest.approx(a.payment.sum())
    assert 0 < k["efficiency"] <= 1 and 0 < k["jain"] <= 1
    assert k["energy"] >= inst.requests.demand[a.request].sum()  # efficiency ≤ 1


def _lone_bidder():
    from auction.model import Resources

    res = Resources(
        type=[0], capacity=[1.0], unit_cost=[1.0], location=np.zeros((1, 2)),
        reliability=[0.99], availability=[0.99], energy_efficiency=[0.5],
    )
    req = Requests(
        type=[0], demand=[0.5], budget=[2.0], priority=[0], location=np.zeros((1, 2)),
        requester=[0], min_reliability=[0.0], max_latency_ms=[np.inf],
    )
    return Instance(res, req)


def test_cost_floor_stops_pricing_below_the_reserve():
    """Regression (issue 15): the utilisation rule prices a lone bidder's idle machine down
    to ρ_min (its half unit, costing 0.5, goes for a few cents); with the cost floor, and with
    the clearing (excess-demand) rule plus floor, the price stays at the unit cost."""
    inst = _lone_bidder()
    base = run_mohaf(inst, MohafParams(flat=True))
    assert base.prices[0] == pytest.approx(0.1) and base.allocation.payment[0] < 0.1
    for extra in (dict(cost_floor=True), dict(cost_floor=True, price_update="excess")):
        r = run_mohaf(inst, MohafParams(flat=True, **extra))
        assert np.all(r.price_history >= 1.0 - 1e-12)
        assert r.allocation.payment[0] >= 0.8 * 1.0 * 0.5 - 1e-12


def test_tatonnement_moves_on_excess_demand():
    """ρ·exp(η_t z): over-demanded resources get dearer, unsold ones cheaper, by the same
    log-step; z = (wanted − C)/C."""
    from auction.pricing import excess_demand, tatonnement_prices

    rule = PriceRule(eta0=1.0)
    z = excess_demand(np.array([3.0, 0.0, 1.0]), np.array([1.0, 2.0, 1.0]))
    np.testing.assert_allclose(z, [2.0, -1.0, 0.0])
    rho = tatonnement_prices(np.ones(3), z, 2, rule)
    np.testing.assert_allclose(rho, [np.e, np.exp(-0.5), 1.0])
    with pytest.raises(ValueError, match="price_update"):
        MohafParams(price_update="walras")
