"""The Θ(1/√m) worst-case family of the fixed-budget proportional-share game.

Oracles: the family's closed-form Nash equilibrium (single-minded UEs bid B on their BS, the
spread UEs B/r everywhere) and efficiency ``1/r + (r - 1)/m`` (derived in
:mod:`ran.comp.worst_case`); the welfare LP (HiGHS) for the optimum; brute force over ``r``.
Zhang (ICALP 2005) shows the balanced game's efficiency bound is Θ(1/√m): the fitted slope of
log(efficiency) against log(m) over m = 16..256 must lie within 0.05 of -1/2. The tolerance
covers the family's finite-m correction (efficiency ≈ 2/√m - 1/m, local slope
-(1 - m^-1/2)/(2 - m^-1/2): -0.47 at m = 64; the least-squares fit gives -0.464), while a
constant efficiency (slope 0) or 1/m decay (slope -1) fails it.
"""

import numpy as np
import pytest

from ran.comp.baselines import welfare_optimum
from ran.comp.market import nash_gap, run_market, welfare
from ran.comp.worst_case import (
    DEFAULT_MS,
    closed_form_efficiency,
    efficiency_vs_m,
    loglog_slope,
    random_start,
    report_rows,
    sqrt_m_equilibrium_bids,
    sqrt_m_instance,
    worst_bs_count,
)


@pytest.fixture(scope="module")
def table():
    return efficiency_vs_m(DEFAULT_MS)


def test_hand_values_at_small_m():
    """m = 4, r = 2: each single-minded UE keeps 1/2 of its BS, the two spread UEs share the
    other halves: welfare 1/2 + 1/2 + 1/2 = 3/2 against 2, i.e. 3/4. m = 9, r = 3: shares 1/3,
    welfare 3·1/3 + 2/3 = 5/3 against 3, i.e. 5/9. m = 8, r = 3: 1/3 + 2/8 = 7/12."""
    assert closed_form_efficiency(4, 2) == pytest.approx(3 / 4)
    assert closed_form_efficiency(9, 3) == pytest.approx(5 / 9)
    assert closed_form_efficiency(8, 3) == pytest.approx(7 / 12)
    assert (worst_bs_count(4), worst_bs_count(8), worst_bs_count(9)) == (2, 3, 3)
    for m, hand in ((4, 3 / 4), (8, 7 / 12), (9, 5 / 9)):
        inst = sqrt_m_instance(m)
        res = run_market(inst, eps=1e-10, max_rounds=5000, init_bids=random_start(inst, 3))
        assert res.converged
        assert res.rounds > 1  # it started away from the equilibrium
        assert nash_gap(inst, res.bids) < 1e-9
        assert np.allclose(res.bids, sqrt_m_equilibrium_bids(m), atol=1e-8)
        eff = welfare(inst, res.allocation.prbs) / welfare(inst, welfare_optimum(inst).prbs)
        assert eff == pytest.approx(hand, abs=1e-9)


def test_equilibrium_found_is_the_closed_form_nash_equilibrium():
    for dynamics in ("newton", "best_response"):
        for seed in (0, 1):
            inst = sqrt_m_instance(16)
            res = run_market(
                inst,
                eps=1e-9,
                max_rounds=5000,
                dynamics=dynamics,
                init_bids=random_start(inst, seed),
            )
            assert res.converged
            assert nash_gap(inst, res.bids) < 1e-9
            assert np.allclose(res.bids, sqrt_m_equilibrium_bids(16), atol=1e-6)
    # and the closed-form bids are themselves a Nash equilibrium, for any r
    for m, r in ((12, 3), (30, 7), (5, 5)):
        assert nash_gap(sqrt_m_instance(m, r), sqrt_m_equilibrium_bids(m, r)) < 1e-12


def test_table_matches_closed_form_and_decreases(table):
    assert list(table["m_ues"]) == list(DEFAULT_MS)
    assert table["converged"].all()
    assert (table["nash_gap"] < 1e-9).all()
    assert np.allclose(table["efficiency"], table["closed_form"], atol=1e-9)
    assert np.all(np.diff(table["efficiency"]) < 0)  # strictly decreasing in m
    assert np.allclose(table["optimum"], table["n_bs"])  # each BS to its single-minded UE
    big = table[table["m_ues"] >= 8]
    assert (big["efficiency"] < 0.75).all()  # the 3/4 bound of small games does not hold here
    assert table.loc[table["m_ues"] == 256, "efficiency"].item() == pytest.approx(31 / 256)
    # efficiency·√m climbs towards 2 (= 2 - 1/√m for perfect squares)
    assert np.all(np.diff(table["eff_sqrt_m"]) > 0) and (table["eff_sqrt_m"] < 2).all()


def test_loglog_slope_is_minus_one_half(table):
    slope = loglog_slope(table["m_ues"], table["efficiency"], m_min=16)
    assert abs(slope + 0.5) < 0.05
    assert slope == pytest.approx(loglog_slope(table["m_ues"], table["closed_form"]), abs=1e-9)
    # the tolerance rejects the wrong orders of decay
    m = np.array(DEFAULT_MS, dtype=float)
    assert abs(loglog_slope(m, np.full(m.size, 0.75)) + 0.5) > 0.05
    assert abs(loglog_slope(m, 1.0 / m) + 0.5) > 0.05


def test_optimum_closed_form_equals_lp():
    for m in (4, 8, 16, 32):
        inst = sqrt_m_instance(m)
        cf = welfare(inst, welfare_optimum(inst, "closed_form").prbs)
        lp = welfare(inst, welfare_optimum(inst, "lp").prbs)
        assert cf == pytest.approx(lp, rel=1e-9) and cf == pytest.approx(inst.n_bs)


def test_worst_bs_count_is_the_brute_force_minimiser():
    for m in range(1, 300):
        effs = [closed_form_efficiency(m, r) for r in range(1, m + 1)]
        assert closed_form_efficiency(m, worst_bs_count(m)) == pytest.approx(min(effs))


def test_efficiency_is_scale_invariant():
    a = sqrt_m_instance(9)
    b = sqrt_m_instance(9, budget=7.5, spare_prbs=25.0)
    ra = run_market(a, eps=1e-10, max_rounds=5000, init_bids=random_start(a, 2))
    rb = run_market(b, eps=1e-10, max_rounds=5000, init_bids=random_start(b, 2))
    ea = welfare(a, ra.allocation.prbs) / welfare(a, welfare_optimum(a).prbs)
    eb = welfare(b, rb.allocation.prbs) / welfare(b, welfare_optimum(b).prbs)
    assert ea == pytest.approx(eb, abs=1e-9) == pytest.approx(5 / 9, abs=1e-9)
    assert np.allclose(b.weights.sum(axis=1), 1.0)  # balanced game: U_i(all) = 1


def test_report_rows_are_tidy_and_deterministic():
    ms = (4, 16, 64)
    rows = report_rows(ms)
    assert set(rows.columns) == {"policy", "metric", "value"}
    assert (rows["policy"] == "worst_case").all()
    got = rows.set_index("metric")["value"]
    assert got["worst_case_efficiency_m004"] == pytest.approx(3 / 4, abs=1e-9)
    assert got["worst_case_efficiency_m016"] == pytest.approx(7 / 16, abs=1e-9)
    effs = [closed_form_efficiency(m, worst_bs_count(m)) for m in ms]
    assert got["worst_case_loglog_slope"] == pytest.approx(loglog_slope(ms, effs), abs=1e-9)
    assert rows.equals(report_rows(ms))
    assert rows.shape[0] == 1 + 2 * len(ms)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sqrt_m_instance(0), "m: number of UEs"),
        (lambda: sqrt_m_instance(4, r=5), r"r: number of BSs"),
        (lambda: sqrt_m_instance(4, budget=0.0), "budget"),
        (lambda: sqrt_m_instance(4, spare_prbs=-1.0), "spare_prbs"),
        (lambda: closed_form_efficiency(3, 0), "r: number of BSs"),
        (lambda: loglog_slope([2, 4, 8], [1.0, 0.7, 0.5], m_min=8), "m_min"),
        (lambda: loglog_slope([16, 32], [0.5, 0.0]), "efficiency"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
