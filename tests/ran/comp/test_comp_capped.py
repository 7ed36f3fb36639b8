"""Demand-capped utilities: the capped best response against brute force, the market's Nash
equilibrium, the cvxpy welfare optimum against brute force, Eisenberg-Gale KKT with
satiation, the fair share, and the posted-price protocol."""

import numpy as np
import pytest

from ran.comp.baselines import equal_share
from ran.comp.bilateral import desired_amounts, posted_prices
from ran.comp.capped import (
    capped_best_response,
    capped_eisenberg_gale,
    capped_nash_gap,
    capped_welfare_optimum,
    fair_share,
    run_capped_market,
)
from ran.comp.market import MarketInstance, utilities


def _inst(seed, n=8, m=4, mu=0.1):
    rng = np.random.default_rng(seed)
    cl = np.array([rng.choice(m, 2, replace=False) for _ in range(n)])
    return MarketInstance(
        cl,
        rng.uniform(0.2, 2.0, (n, 2)),
        rng.uniform(5.0, 30.0, m),
        rng.uniform(0.5, 2.0, n),
        np.full(m, 0.01),
        mu,
        cap=rng.uniform(1.0, 25.0, n),
        weight=rng.choice([1.0, 3.0], n),
    )


@pytest.mark.parametrize("seed", range(4))
def test_capped_best_response_beats_a_grid_of_bids(seed):
    rng = np.random.default_rng(seed)
    w, y = rng.uniform(1, 20, (1, 2)), rng.uniform(0.1, 3, (1, 2))
    budget, a, d, mu = np.array([rng.uniform(0.5, 3)]), np.array([2.0]), rng.uniform(2, 15, 1), 0.3
    b = capped_best_response(w, y, budget, mu, a, d)[0]

    def pay(b1, b2):
        r = w[0, 0] * b1 / (b1 + y[0, 0]) + w[0, 1] * b2 / (b2 + y[0, 1])
        return a[0] * np.minimum(r, d[0]) - mu * (b1 + b2)

    g = np.linspace(0, budget[0], 401)
    b1, b2 = np.meshgrid(g, g)
    feas = b1 + b2 <= budget[0] + 1e-12
    brute = np.where(feas, pay(b1, b2), -np.inf).max()
    assert b.sum() <= budget[0] + 1e-12
    assert pay(*b) >= brute - 1e-6
    assert pay(*b) <= brute + 0.05 * abs(brute) + 1e-3  # the grid is fine enough to be close


@pytest.mark.parametrize("seed", range(3))
def test_lp_and_cvxpy_optima_agree(seed):
    inst = _inst(seed)
    lp, cv = capped_welfare_optimum(inst), capped_welfare_optimum(inst, "cvxpy")
    assert utilities(inst, lp.prbs).sum() == pytest.approx(utilities(inst, cv.prbs).sum(), 1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_capped_market_reaches_a_nash_equilibrium(seed):
    inst = _inst(seed)
    res = run_capped_market(inst, eps=1e-8, max_rounds=5000)
    assert res.converged
    assert capped_nash_gap(inst, res.bids) < 1e-6
    assert np.all(res.bids.sum(axis=1) <= inst.budget * (1 + 1e-9))


def test_welfare_optimum_matches_brute_force_on_one_bs():
    # one BS, three UEs: the optimum fills UEs by a_i·v_i (value per PRB) up to their caps
    inst = MarketInstance(
        np.zeros((3, 1), np.int64),
        np.array([[1.0], [2.0], [0.5]]),
        np.array([10.0]),
        np.ones(3),
        None,
        0.0,
        cap=np.array([4.0, 6.0, 100.0]),
        weight=np.array([3.0, 1.0, 1.0]),
    )
    opt = capped_welfare_optimum(inst)
    cv = capped_welfare_optimum(inst, "cvxpy")
    assert np.allclose(opt.prbs, cv.prbs, atol=1e-6)
    # a·v = 3, 2, 0.5: UE0 takes 4 PRBs, UE1 3 PRBs, UE2 the remaining 3
    assert np.allclose(opt.prbs[:, 0], [4.0, 3.0, 3.0], atol=1e-6)
    g = np.linspace(0, 10, 101)
    best = max(
        utilities(inst, np.array([[x0], [x1], [10 - x0 - x1]])).sum()
        for x0 in g
        for x1 in g
        if x0 + x1 <= 10
    )
    assert utilities(inst, opt.prbs).sum() >= best - 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_capped_eisenberg_gale_kkt(seed):
    inst = _inst(seed, mu=0.0)
    eg = capped_eisenberg_gale(inst)
    p = eg.prices
    r = np.sum(inst.value * eg.prbs, axis=1)
    sat = r >= inst.cap * (1 - 1e-6)
    bang = inst.value / np.maximum(p[inst.cluster], 1e-300)
    spend = np.sum(eg.prbs * p[inst.cluster], axis=1)
    # unsatiated buyers spend their budget at the best value per token; satiated ones spend less
    assert np.allclose(spend[~sat], inst.budget[~sat], rtol=1e-5)
    assert np.all(spend[sat] <= inst.budget[sat] * (1 + 1e-5))
    assert np.all(inst.per_bs(eg.prbs) <= inst.spare * (1 + 1e-7))
    best = bang.max(axis=1)
    assert np.all(eg.prbs[~sat][bang[~sat] < best[~sat, None] * (1 - 1e-4)] < 1e-5)


def test_fair_share_respects_needs_and_beats_equal_share():
    inst = _inst(1)
    fs, es = fair_share(inst), equal_share(inst)
    assert np.all(inst.per_bs(fs.prbs) <= inst.spare + 1e-9)
    got = np.sum(inst.value * fs.prbs, axis=1)
    assert np.all(got <= inst.cap + 1e-9)
    assert utilities(inst, fs.prbs).sum() >= utilities(inst, es.prbs).sum() - 1e-9


def test_posted_prices_requests_and_capacity():
    inst = _inst(2)
    x = desired_amounts(inst, np.full(inst.n_bs, 1e-6))
    # at near-zero prices every UE asks for exactly its need from its best BS
    assert np.allclose(np.sum(inst.value * x, axis=1), inst.cap)
    res = posted_prices(inst, max_rounds=200)
    assert np.all(inst.per_bs(res.prbs) <= inst.spare * (1 + 1e-9))
    assert np.all(res.payments <= inst.budget * (1 + 1e-9))
    assert res.time_s == pytest.approx(res.rounds * 2 * 5e-4)
    opt = utilities(inst, capped_welfare_optimum(inst).prbs).sum()
    assert 0.5 * opt < utilities(inst, res.prbs).sum() <= opt + 1e-6


def test_compiled_capped_response_equals_numpy():
    rng = np.random.default_rng(9)
    n, k = 200, 3
    w = rng.uniform(0, 20, (n, k)) * (rng.random((n, k)) < 0.9)
    y = rng.uniform(0, 3, (n, k))
    args = (rng.uniform(0, 3, n), 0.2, rng.choice([0.5, 2.0], n), rng.uniform(0, 30, n))
    a = capped_best_response(w, y, *args, compiled=True)
    b = capped_best_response(w, y, *args, compiled=False)
    assert np.allclose(a, b, rtol=1e-9, atol=1e-12)
