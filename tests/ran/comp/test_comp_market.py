"""The proportional-share market: best response, equilibrium oracles and invariants.

Oracles:
* a numerical optimiser (scipy SLSQP) for the closed-form water-filling best response;
* the symmetric single-BS equilibrium ``b* = min(B, w(n-1)/(μ n²))`` (Johari & Tsitsiklis,
  Math. Oper. Res. 29(3), 2004; ``b* = B`` for the fixed-budget game);
* Zhang, "The efficiency and fairness of a fixed budget resource allocation game", ICALP 2005,
  and Feldman, Lai & Zhang, EC 2005 / IEEE TPDS 2009: in the balanced game (equal budgets)
  with utilities normalised to ``U_i(all resources) = 1``, every Nash equilibrium has welfare
  >= 3/4 of the optimum when there is one resource or two players with linear utilities, and
  is (2√2 - 2)-approximately envy-free.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from ran.comp.baselines import (
    envy_ratio,
    equal_share,
    proportional_response,
    second_price,
    welfare_optimum,
)
from ran.comp.market import (
    Y_FLOOR,
    MarketInstance,
    allocate,
    best_response,
    initial_bids,
    nash_gap,
    respond_to_totals,
    run_market,
    symmetric_equilibrium,
    welfare,
)


def _dense(w, budget, reserve=1e-9, mu=0.0):
    """Every UE bids on every BS; one PRB per BS so shares equal PRBs."""
    n, m = w.shape
    return MarketInstance(
        np.tile(np.arange(m), (n, 1)), w, np.ones(m), budget, np.full(m, reserve), mu
    )


def _equilibrium(inst, eps=1e-11, rounds=20_000):
    res = run_market(inst, eps=eps, max_rounds=rounds)
    assert res.converged
    assert nash_gap(inst, res.bids) < 1e-6
    return res


# -- best response --------------------------------------------------------------------------------
@pytest.mark.parametrize("mu", [0.0, 0.3])
def test_water_filling_equals_numerical_optimiser(mu):
    rng = np.random.default_rng(11)
    for _ in range(40):
        k = int(rng.integers(1, 6))
        w = rng.uniform(0.0, 3.0, k) * (rng.random(k) < 0.85)
        y = rng.uniform(0.05, 2.0, k)
        budget = float(rng.uniform(0.1, 3.0))
        b = best_response(w[None], y[None], np.array([budget]), mu)[0]

        def neg(x, w=w, y=y):
            return -(np.sum(w * x / (x + y)) - mu * x.sum())

        res = minimize(
            neg,
            np.full(k, budget / (k + 1)),
            method="SLSQP",
            bounds=[(0.0, budget)] * k,
            constraints=[{"type": "ineq", "fun": lambda x, cap=budget: cap - x.sum()}],
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        assert -neg(b) >= -res.fun - 1e-9  # never worse than the optimiser
        pos = w > 0  # where w = 0 any bid is worthless, so the optimum is not unique there
        assert np.allclose(b[pos], res.x[pos], atol=2e-4 * max(budget, 1.0))
        assert np.all(b[~pos] == 0)
        assert b.sum() <= budget * (1 + 1e-12) and (b >= 0).all()


def _kkt_bisection(w, y, budget, mu):
    """Independent oracle for the best response (no sorting, no active-set formula): the
    KKT point ``b_j = (sqrt(w_j·y_j/λ) - y_j)^+`` with ``λ = μ`` if that spends within the
    budget, else the ``λ`` at which the spend (decreasing in λ) equals the budget, found by
    bisection on ``log λ`` inside ``max_j w_j·y_j/(B+y_j)² <= λ <= (Σ_j sqrt(w_j·y_j)/B)²``,
    all rows at once."""
    y = np.maximum(y, Y_FLOOR)
    bb = np.where(budget > 0, budget, 1.0)[:, None]  # rows without budget are masked below

    def bids(lam):
        return np.maximum(np.sqrt(w * y / lam[:, None]) - y, 0.0)

    lo = np.maximum(np.max(w * y / (bb + y) ** 2, axis=1), 1e-300)
    hi = np.maximum((np.sum(np.sqrt(w * y), axis=1) / bb[:, 0]) ** 2, lo)
    lo, hi = np.log(lo), np.log(hi)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        over = bids(np.exp(mid)).sum(axis=1) > budget
        lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
    lam = np.maximum(np.exp(hi), mu)
    return np.where((budget[:, None] > 0) & (w > 0), bids(lam), 0.0)


@pytest.mark.parametrize("mu", [0.0, 0.01, 0.3, 3.0])
def test_water_filling_equals_kkt_bisection_on_corner_cases(mu):
    """3,000 random rows mixing the corners: others' bids exactly zero (an empty BS), zero
    values, zero budgets, values and others' bids over six decades (so some valued BSs get no
    bid), K = 1..7. Checks bids and payoffs against the bisection oracle."""
    rng = np.random.default_rng(21)
    n, k = 3000, 7
    kk = rng.integers(1, k + 1, n)
    slot = np.arange(k)[None, :] < kk[:, None]
    w = rng.uniform(0, 3, (n, k)) * 10 ** rng.uniform(-3, 3, (n, k)) * (rng.random((n, k)) < 0.8)
    y = rng.uniform(0, 2, (n, k)) * 10 ** rng.uniform(-3, 3, (n, k)) * (rng.random((n, k)) < 0.85)
    w, y = np.where(slot, w, 0.0), np.where(slot, y, 0.0)
    budget = rng.uniform(0, 3, n) * (rng.random(n) < 0.95)
    b = best_response(w, y, budget, mu)
    o = _kkt_bisection(w, y, budget, mu)
    # the corners are really exercised
    valued_unbid = ((w > 0) & (b == 0)).any(axis=1)
    assert valued_unbid.sum() > 300
    assert ((y == 0) & (b > 0)).any(axis=1).sum() > 100
    assert (budget == 0).sum() > 50 and ((w == 0) & slot).any(axis=1).sum() > 500
    assert np.all(b >= 0) and np.all(b.sum(axis=1) <= budget * (1 + 1e-14))  # to round-off
    assert np.all(b[w == 0] == 0) and np.all(b[budget == 0] == 0)
    scale = np.maximum(budget, 1.0)[:, None]
    assert np.allclose(b / scale, o / scale, rtol=0, atol=1e-9)
    yf = np.maximum(y, Y_FLOOR)

    def pay(x):
        return np.sum(w * x / (x + yf), axis=1) - mu * x.sum(axis=1)

    assert np.all(pay(b) >= pay(o) - 1e-9 * np.maximum(np.abs(pay(o)), 1.0))


def test_responses_to_totals_are_best_responses_at_a_fixed_point():
    rng = np.random.default_rng(12)
    w = rng.uniform(0.1, 1.0, (30, 4))
    inst = _dense(w, rng.uniform(0.5, 2.0, 30))
    res = _equilibrium(inst)
    totals = inst.per_bs(res.bids) + inst.reserve
    again = respond_to_totals(inst.weights, totals[inst.cluster], inst.budget)
    y = totals[inst.cluster] - res.bids
    br = best_response(inst.weights, y, inst.budget)
    assert np.allclose(again, res.bids, atol=1e-8)
    assert np.allclose(br, res.bids, atol=1e-6)


# -- single BS, symmetric UEs ---------------------------------------------------------------------
@pytest.mark.parametrize("dynamics", ["newton", "best_response"])
@pytest.mark.parametrize(
    ("n", "mu", "budget"),
    [(2, 1.0, 100.0), (5, 1.0, 100.0), (12, 0.5, 100.0), (6, 1.0, 0.3), (7, 0.0, 2.0)],
)
def test_symmetric_single_bs_closed_form(dynamics, n, mu, budget):
    v, c = 2.0, 10.0
    inst = MarketInstance(
        np.zeros((n, 1), np.int64), np.full((n, 1), v), np.array([c]), np.full(n, budget), None, mu
    )
    res = run_market(inst, eps=1e-12, max_rounds=5000, dynamics=dynamics)
    b, share, price = symmetric_equilibrium(n, v, c, budget, mu)
    assert res.converged
    assert np.allclose(res.bids, b, rtol=1e-8)
    assert np.allclose(res.allocation.prbs, share * c, rtol=1e-8)
    assert res.allocation.prices[0] == pytest.approx(price, rel=1e-8)
    if mu > 0 and budget > 10:
        assert b == pytest.approx(v * c * (n - 1) / (mu * n * n))


# -- Zhang / Feldman-Lai-Zhang bounds -------------------------------------------------------------
def _concave_optimum(a):
    """max Σ U_i(x_i), Σ x_i = 1, U_i(x) = (1 - e^{-a_i x}) / (1 - e^{-a_i}) (bisection on λ)."""
    norm = 1.0 - np.exp(-a)

    def alloc(lam):
        return np.clip(np.log(np.maximum(a / (lam * norm), 1e-300)) / a, 0.0, None)

    lo, hi = 1e-12, float(np.max(a / norm)) + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if alloc(mid).sum() > 1.0 else (lo, mid)
    x = alloc(hi)
    return x / x.sum() if x.sum() > 1 else x


def test_one_bs_equilibrium_welfare_at_least_three_quarters():
    """Balanced game, one resource: the equilibrium shares (equal, by budget balance; with one
    resource they do not depend on the shape of the utility) keep >= 3/4 of the optimal
    welfare for concave utilities normalised to U(0) = 0, U(1) = 1 (Zhang 2005)."""
    rng = np.random.default_rng(13)
    worst = 1.0
    for _ in range(60):
        n = int(rng.integers(2, 9))
        inst = MarketInstance(
            np.zeros((n, 1), np.int64), np.ones((n, 1)), np.array([1.0]), np.ones(n)
        )
        x = run_market(inst, eps=1e-12, max_rounds=100).allocation.prbs[:, 0]
        assert np.allclose(x, 1.0 / n)
        a = np.exp(rng.uniform(np.log(1e-3), np.log(200.0), n))  # near-linear .. near-step
        u = (1 - np.exp(-a * x)) / (1 - np.exp(-a))
        xo = _concave_optimum(a)
        opt = np.sum((1 - np.exp(-a * xo)) / (1 - np.exp(-a)))
        worst = min(worst, u.sum() / opt)
    assert worst >= 0.75


def _normalised(rng, n, m):
    w = rng.random((n, m)) ** 3 + 1e-3
    return w / w.sum(axis=1, keepdims=True)


def test_two_ues_linear_equilibrium_welfare_at_least_three_quarters():
    rng = np.random.default_rng(14)
    worst = 1.0
    for _ in range(40):
        m = int(rng.integers(2, 6))
        w = _normalised(rng, 2, m)
        inst = _dense(w, np.ones(2))
        res = _equilibrium(inst)
        ratio = welfare(inst, res.allocation.prbs) / w.max(axis=0).sum()
        worst = min(worst, ratio)
    assert worst >= 0.75 - 1e-9


def test_two_ue_bound_is_tight():
    """UE 0 values only BS 0; UE 1 values BS 0 at a and BS 1 at 1 - a. UE 1 takes half of BS 0
    and all of BS 1: welfare 3/2 - a/2 against 2 - a, ratio (3 - a)/(4 - 2a) -> 3/4."""
    for a in (0.2, 0.01):
        w = np.array([[1.0, 1e-6], [a, 1.0 - a]])
        w /= w.sum(axis=1, keepdims=True)
        inst = _dense(w, np.ones(2), reserve=1e-12)
        res = _equilibrium(inst)
        ratio = welfare(inst, res.allocation.prbs) / w.max(axis=0).sum()
        assert ratio == pytest.approx((3 - a) / (4 - 2 * a), abs=2e-3)


def test_equilibria_are_approximately_envy_free():
    rng = np.random.default_rng(15)
    worst = np.inf
    for _ in range(40):
        n, m = int(rng.integers(2, 6)), int(rng.integers(1, 5))
        w = rng.random((n, m)) ** 3 + 1e-3
        inst = _dense(w, np.ones(n))
        res = _equilibrium(inst)
        worst = min(worst, envy_ratio(w, res.allocation.prbs))
    assert worst >= 2 * np.sqrt(2) - 2 - 1e-9


def _envy_family(c, t):
    """UE 0 values BS A at 1 and BS B at t; UE 1 values only A; UEs 2..c+1 value only B
    (balanced budgets 1). At the Nash equilibrium the single-minded UEs bid 1 on their BS and
    UE 0 bids x on A with ``(c + 1 - x)/(1 + x) = sqrt(t·c)`` (its first-order condition).
    Returns the values, x and UE 0's envy ratio (only UE 0 can envy)."""
    w = np.zeros((c + 2, 2))
    w[0] = [1.0, t]
    w[1, 0] = 1.0
    w[2:, 1] = 1.0
    s = np.sqrt(t * c)
    x = (c + 1 - s) / (1 + s)
    own = x / (1 + x) + t * (1 - x) / (c + 1 - x)
    return w, x, min(own * (1 + x), own * (c + 1 - x) / t)


@pytest.mark.parametrize("c", [2, 5, 12, 50])
def test_envy_bound_nearly_attained_by_a_closed_form_family(c):
    """Zhang's 2√2 - 2 envy bound is approached by this family as c grows (its closed-form
    minimum over t: 0.899, 0.866, 0.846, 0.833 for c = 2, 5, 12, 50): the market's equilibrium
    must reproduce the closed-form bids and envy and stay above the bound."""
    from scipy.optimize import minimize_scalar

    lo, hi = np.log(c / 4.0) + 1e-6, np.log((c + 1) ** 2 / c) - 1e-6  # interior: 0 < x < 1
    t = float(
        np.exp(
            minimize_scalar(
                lambda z: _envy_family(c, np.exp(z))[2], bounds=(lo, hi), method="bounded"
            ).x
        )
    )
    w, x, envy = _envy_family(c, t)
    inst = _dense(w, np.ones(c + 2), reserve=1e-12)
    res = _equilibrium(inst)
    assert res.bids[0] == pytest.approx([x, 1 - x], abs=1e-6)
    assert np.allclose(res.bids[1:], np.where(w[1:] > 0, 1.0, 0.0), atol=1e-9)
    measured = envy_ratio(w, res.allocation.prbs)
    assert measured == pytest.approx(envy, abs=1e-6)
    assert 2 * np.sqrt(2) - 2 <= measured < {2: 0.9, 5: 0.867, 12: 0.847, 50: 0.834}[c]


def test_unequal_budgets_break_the_bound():
    """The 3/4 bound needs the balanced game: a poor UE with the high value loses it."""
    w = np.array([[1.0, 1e-9], [0.01, 0.99]])
    inst = _dense(w, np.array([0.01, 1.0]), reserve=1e-12)
    res = _equilibrium(inst)
    assert welfare(inst, res.allocation.prbs) / w.max(axis=0).sum() < 0.6


# -- both dynamics find the same equilibrium, deterministically -----------------------------------
def test_dynamics_agree_and_are_deterministic():
    rng = np.random.default_rng(16)
    n, m, k = 60, 12, 3
    cl = np.stack([rng.permutation(m)[:k] for _ in range(n)])
    inst = MarketInstance(
        cl,
        rng.uniform(0.1, 1, (n, k)),
        rng.uniform(5, 30, m),
        rng.uniform(0.5, 2, n),
        np.full(m, 1e-3),
        0.2,
    )
    a = run_market(inst, eps=1e-10, max_rounds=5000)
    b = run_market(inst, eps=1e-10, max_rounds=20000, dynamics="best_response")
    c = run_market(inst, eps=1e-10, max_rounds=5000)
    assert a.converged and b.converged
    assert np.allclose(a.bids, b.bids, atol=1e-6)
    assert np.array_equal(a.bids, c.bids) and a.rounds == c.rounds
    assert a.messages == 2 * a.rounds * n * k
    assert a.time_s == pytest.approx(a.rounds * 2 * 5e-4)


# -- invariants -----------------------------------------------------------------------------------
@st.composite
def instances(draw):
    n, m = draw(st.integers(1, 7)), draw(st.integers(1, 5))
    k = draw(st.integers(1, m))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    cl = np.stack([rng.permutation(m)[:k] for _ in range(n)])
    value = rng.uniform(0, 2, (n, k)) * (rng.random((n, k)) < 0.8)
    spare = rng.uniform(0, 20, m) * (rng.random(m) < 0.8)
    budget = rng.uniform(0, 3, n) * (rng.random(n) < 0.9)
    reserve = rng.uniform(0, 0.5, m) * (rng.random(m) < 0.5)
    mu = float(draw(st.sampled_from([0.0, 0.0, 0.5, 3.0])))
    return MarketInstance(cl, value, spare, budget, reserve, mu)


@settings(max_examples=60, deadline=None)
@given(
    inst=instances(), rounds=st.integers(1, 60), dyn=st.sampled_from(["newton", "best_response"])
)
def test_invariants(inst, rounds, dyn):
    res = run_market(inst, eps=1e-6, max_rounds=rounds, dynamics=dyn)
    alloc = res.allocation
    sold = inst.per_bs(alloc.prbs)
    assert np.all(sold <= inst.spare * (1 + 1e-9) + 1e-12)  # no BS sells more than its spare
    spend = res.bids.sum(axis=1)
    assert np.all(spend <= inst.budget * (1 + 1e-9) + 1e-12)  # no UE spends beyond its budget
    assert np.all(res.bids >= 0)
    share = np.where(
        inst.spare[inst.cluster] > 0,
        alloc.prbs / np.where(inst.spare[inst.cluster] > 0, inst.spare[inst.cluster], 1),
        0,
    )
    assert np.all((share >= 0) & (share <= 1 + 1e-12))
    assert np.allclose(alloc.revenue.sum(), spend.sum())
    for rule in (
        equal_share,
        second_price,
        proportional_response,
        lambda i: welfare_optimum(i, "closed_form"),
    ):
        prbs = rule(inst).prbs
        assert np.all(prbs >= 0)
        assert np.all(inst.per_bs(prbs) <= inst.spare * (1 + 1e-9) + 1e-12)
    random_bids = initial_bids(inst) * np.random.default_rng(0).random(inst.cluster.shape)
    assert np.all(inst.per_bs(allocate(inst, random_bids).prbs) <= inst.spare * (1 + 1e-9) + 1e-12)


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cluster": np.zeros((3, 0), np.int64), "value": np.zeros((3, 0))}, "K must be >= 1"),
        ({"budget": np.array([1.0, -1.0, 1.0])}, "budget: must be >= 0"),
        ({"spare": np.array([5.0, -2.0])}, "spare: must be >= 0"),
        ({"cluster": np.array([[0], [1], [2]])}, r"in \[0, 2\)"),
        ({"reserve": np.array([-1.0, 0.0])}, "reserve: must be >= 0"),
        ({"money_value": -1.0}, "money_value"),
        ({"value": np.full((3, 1), np.nan)}, "value: must be finite"),
    ],
)
def test_bad_market_input(kwargs, match):
    args = {
        "cluster": np.zeros((3, 1), np.int64),
        "value": np.ones((3, 1)),
        "spare": np.array([5.0, 5.0]),
        "budget": np.ones(3),
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        MarketInstance(**args)


def test_bad_run_arguments():
    inst = MarketInstance(np.zeros((2, 1), np.int64), np.ones((2, 1)), np.array([1.0]), np.ones(2))
    with pytest.raises(ValueError, match="dynamics"):
        run_market(inst, dynamics="tatonnement")
    with pytest.raises(ValueError, match="eps"):
        run_market(inst, eps=0.0)
    with pytest.raises(ValueError, match="n >= 2"):
        symmetric_equilibrium(1, 1.0, 1.0, 1.0)


# -- longer versions of the bound checks (pytest -m slow) ----------------------------------------
@pytest.mark.slow
def test_bounds_on_many_instances():
    rng = np.random.default_rng(99)
    worst_eff, worst_envy = 1.0, np.inf
    for _ in range(400):
        m = int(rng.integers(2, 9))
        w = _normalised(rng, 2, m)
        inst = _dense(w, np.ones(2))
        res = _equilibrium(inst)
        worst_eff = min(worst_eff, welfare(inst, res.allocation.prbs) / w.max(axis=0).sum())
        n, m = int(rng.integers(2, 9)), int(rng.integers(1, 7))
        w = rng.random((n, m)) ** 3 + 1e-3
        inst = _dense(w, np.ones(n))
        res = _equilibrium(inst)
        worst_envy = min(worst_envy, envy_ratio(w, res.allocation.prbs))
    assert worst_eff >= 0.75 - 1e-9
    assert worst_envy >= 2 * np.sqrt(2) - 2 - 1e-9


def test_compiled_newton_equals_the_numpy_reference():
    rng = np.random.default_rng(5)
    for _ in range(60):
        n, m = int(rng.integers(1, 25)), int(rng.integers(3, 9))
        cl = np.array([rng.choice(m, 3, replace=False) for _ in range(n)])
        inst = MarketInstance(
            cl,
            rng.uniform(0, 2, (n, 3)) * (rng.random((n, 3)) < 0.9),
            rng.uniform(0, 50, m),
            rng.uniform(0, 3, n),
            rng.uniform(0, 0.1, m),
            float(rng.choice([0.0, 0.1, 1.0])),
        )
        a = run_market(inst, eps=1e-6, max_rounds=300, compiled=True)
        b = run_market(inst, eps=1e-6, max_rounds=300, compiled=False)
        assert (a.rounds, a.converged) == (b.rounds, b.converged)
        assert np.allclose(a.bids, b.bids, rtol=1e-12, atol=1e-12)
