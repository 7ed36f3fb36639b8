"""Comparators: welfare LP, Eisenberg-Gale equilibrium, proportional response, simple rules.

Oracles: LP optimum = closed form (each BS to its best UE); Fisher-equilibrium conditions
(market clearing, every buyer spends its budget on maximum bang-per-buck goods: Eisenberg &
Gale 1959); proportional-response dynamics converge to the convex program's optimum (Wu &
Zhang, STOC 2007); Vickrey auction rules by hand.
"""

import numpy as np
import pytest

from ran.comp.baselines import (
    eisenberg_gale,
    envy_ratio,
    equal_share,
    no_comp,
    proportional_response,
    second_price,
    welfare_optimum,
)
from ran.comp.market import MarketInstance, utilities, welfare


def _instance(seed, n=40, m=8, k=3, mu=0.0):
    rng = np.random.default_rng(seed)
    cl = np.stack([rng.permutation(m)[:k] for _ in range(n)])
    return MarketInstance(
        cl,
        rng.uniform(0.05, 1.0, (n, k)),
        rng.uniform(2, 30, m),
        rng.uniform(0.5, 2.0, n),
        np.full(m, 1e-3),
        mu,
    )


@pytest.mark.parametrize("seed", range(5))
def test_lp_equals_closed_form_optimum(seed):
    inst = _instance(seed)
    lp, cf = welfare_optimum(inst, "lp"), welfare_optimum(inst, "closed_form")
    assert welfare(inst, lp.prbs) == pytest.approx(welfare(inst, cf.prbs), rel=1e-9)
    assert np.allclose(
        inst.per_bs(cf.prbs)[np.unique(inst.cluster)], inst.spare[np.unique(inst.cluster)]
    )
    # LP duals: price of BS j = its best value per PRB
    best = np.zeros(inst.n_bs)
    np.maximum.at(best, inst.cluster.ravel(), inst.value.ravel())
    assert np.allclose(lp.prices[np.unique(inst.cluster)], best[np.unique(inst.cluster)], atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_eisenberg_gale_is_a_fisher_equilibrium(seed):
    inst = _instance(seed)
    eg = eisenberg_gale(inst)
    p = eg.prices
    used = np.unique(inst.cluster)
    assert np.allclose(inst.per_bs(eg.prbs)[used], inst.spare[used], rtol=1e-8)  # clears
    u = utilities(inst, eg.prbs)
    bang = inst.value / p[inst.cluster]
    spend = np.sum(eg.prbs * p[inst.cluster], axis=1)
    assert np.allclose(spend, inst.budget, rtol=1e-5)  # each buyer spends its budget
    best = bang.max(axis=1)
    # goods bought only at maximum bang per buck, and u_i = B_i * best_i
    assert np.all(eg.prbs[bang < best[:, None] * (1 - 1e-4)] < 1e-6 * inst.spare.max())
    assert np.allclose(u, inst.budget * best, rtol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_proportional_response_converges_to_eisenberg_gale(seed):
    inst = _instance(seed)
    eg, pr = eisenberg_gale(inst), proportional_response(inst, tol=1e-10)
    used = np.unique(inst.cluster)
    assert np.allclose(pr.prices[used], eg.prices[used], rtol=1e-5)
    assert np.allclose(utilities(inst, pr.prbs), utilities(inst, eg.prbs), rtol=1e-5)
    assert pr.iterations > 1
    # the revenue of a Fisher market is the sum of budgets
    assert np.nansum(pr.revenue) == pytest.approx(inst.budget.sum())


def test_proportional_response_warm_start_keeps_the_fixed_point():
    inst = _instance(7)
    cold = proportional_response(inst, tol=1e-10)
    warm = proportional_response(inst, tol=1e-10, init_bids=cold.bids)
    assert warm.iterations < cold.iterations / 5
    assert np.allclose(warm.prbs, cold.prbs, atol=1e-6 * inst.spare.max())


def test_equal_share_second_price_and_no_comp_by_hand():
    cl = np.array([[0, 1], [0, 1], [1, 0]])
    value = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 1.0]])
    inst = MarketInstance(
        cl, value, np.array([6.0, 4.0]), np.array([1.0, 1.0, 2.0]), np.array([0.0, 0.5])
    )
    eq = equal_share(inst).prbs
    # BS 0 valued by UEs 0, 1, 2 -> 2 PRBs each; BS 1 valued by UEs 1, 2 -> 2 PRBs each
    assert eq.tolist() == [[2.0, 0.0], [2.0, 2.0], [2.0, 2.0]]
    sp = second_price(inst)
    # w = v*C: UE0 (6, 0) -> bids (1, 0); UE1 (12, 4) -> (0.75, 0.25);
    # UE2 (BS1 12, BS0 6) -> (4/3, 2/3)
    # BS 0: bids 1, 0.75, 2/3 -> UE0 wins, pays 0.75; BS 1: 0.25 and 4/3 -> UE2 wins, pays 0.5
    assert sp.prbs.tolist() == [[6.0, 0.0], [0.0, 0.0], [4.0, 0.0]]
    assert sp.revenue.tolist() == pytest.approx([0.75, 0.5])
    assert not no_comp(inst).prbs.any()


def test_second_price_reserve_and_money_value():
    inst = MarketInstance(
        np.array([[0], [0]]),
        np.array([[1.0], [0.5]]),
        np.array([10.0]),
        np.array([100.0, 100.0]),
        np.array([2.0]),
        2.0,
    )
    sp = second_price(inst)  # bids capped at w/μ: 5 and 2.5 -> UE0 pays 2.5
    assert sp.prbs[:, 0].tolist() == [10.0, 0.0] and sp.revenue[0] == pytest.approx(2.5)
    high = MarketInstance(inst.cluster, inst.value, inst.spare, inst.budget, np.array([6.0]), 2.0)
    assert not second_price(high).prbs.any()  # highest bid below the reserve: unsold


def test_envy_ratio_by_hand():
    v = np.array([[1.0, 0.0], [0.5, 0.5]])
    x = np.array([[0.5, 0.0], [0.5, 1.0]])
    # U_0(x_0) = 0.5, U_0(x_1) = 0.5 -> 1; U_1(x_1) = 0.75, U_1(x_0) = 0.25 -> 3
    assert envy_ratio(v, x) == pytest.approx(1.0)
