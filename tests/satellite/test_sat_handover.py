"""Handover policies and accounting on toy link sets and on a generated flight."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satellite.handover import (
    POLICIES,
    Interruptions,
    LinkView,
    hysteresis_select,
    simulate_handover,
    switch_kind,
)
from satellite.links import KIND_GEO, KIND_LEO, LinkSet


def toy(esn0, visible, provider, sat, kind, load=0.0, t0=0.0):
    esn0 = np.asarray(esn0, dtype=float)
    n_t, n_c = esn0.shape
    z = np.zeros((n_t, n_c))
    return LinkSet(
        t0 + np.arange(n_t, dtype=float),
        np.asarray(provider),
        np.asarray(sat),
        np.arange(n_c),
        np.asarray(kind),
        np.full(n_c, 100e6),
        z + 40.0,
        z,
        z + 38000.0,
        z + 50.0,
        z,
        z,
        esn0,
        esn0.copy(),
        z + load,
        np.asarray(visible, dtype=bool),
        np.zeros((n_t, n_c), dtype=bool),
    )


def test_switch_kinds_and_interruption_blanks_exactly_its_duration():
    """A provider switch at t = 10 with a 30-s interruption delivers nothing for 30 s."""
    n = 100
    esn0 = np.column_stack([np.where(np.arange(n) < 10, 8.0, 0.0), np.full(n, 8.0)])
    ls = toy(esn0, np.ones((n, 2)), [0, 1], [0, 0], [KIND_GEO, KIND_GEO])
    assert switch_kind(ls, 0, 1) == 3 and switch_kind(ls, 0, 0) == 0
    res = simulate_handover(
        ls, POLICIES["reactive"](), Interruptions(provider_s=30.0), acm_margin_db=0.0
    )
    assert res.switches[10] == 3 and res.totals()["handovers"] == 1
    assert np.all(res.delivered_bits[10:40] == 0) and np.all(res.delivered_bits[40:] > 0)
    assert res.totals()["interruption_s"] == pytest.approx(30.0)
    # 8 dB -> 8PSK 3/4 (7.91 dB, η = 2.228124) at 100 Msym/s, one user
    assert res.delivered_bits[0] == pytest.approx(2.228124e8, rel=1e-5)


def test_leo_satellite_changes_wait_for_the_15_s_boundary():
    n = 60
    esn0 = np.column_stack([np.where(np.arange(n) < 3, 9.0, 3.0), np.full(n, 9.0)])
    ls = toy(esn0, np.ones((n, 2)), [0, 0], [1, 2], [KIND_LEO, KIND_LEO])
    res = simulate_handover(ls, POLICIES["reactive"]())
    first = int(np.flatnonzero(res.switches)[0])
    assert first == 15 and res.switches[first] == 2


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**20), policy=st.sampled_from(sorted(POLICIES)))
def test_a_handover_only_ever_goes_to_a_visible_candidate(seed, policy):
    rng = np.random.default_rng(seed)
    n_t, n_c = 120, 6
    vis = rng.random((n_t, n_c)) < 0.6
    esn0 = rng.normal(5.0, 4.0, (n_t, n_c))
    ls = toy(esn0, vis, rng.integers(0, 2, n_c), rng.integers(0, 3, n_c), rng.integers(0, 2, n_c))
    pred = esn0 + rng.normal(0, 1, esn0.shape)
    res = simulate_handover(
        ls, POLICIES[policy](), pred_esn0_db=pred, p_good=rng.random(esn0.shape)
    )
    t = np.flatnonzero(res.switches > 0)
    assert np.all(ls.visible[t, res.serving[t]])


def test_random_targets_are_refused_unless_usable():
    rng = np.random.default_rng(0)
    n_t, n_c = 200, 5
    vis = rng.random((n_t, n_c)) < 0.5
    ls = toy(rng.normal(5, 3, (n_t, n_c)), vis, [0, 0, 1, 1, 2], [0, 1, 0, 1, 0], [0, 0, 0, 1, 1])
    res = simulate_handover(ls, lambda v: int(rng.integers(-1, n_c)))
    t = np.flatnonzero(res.switches > 0)
    assert t.size > 10 and np.all(vis[t, res.serving[t]])


def test_network_hysteresis_selection():
    v = np.array([[5.0, 4.5], [5.0, 5.5], [5.0, 6.2], [-np.inf, 6.2]])
    assert list(hysteresis_select(v, np.isfinite(v), 1.0)) == [0, 0, 1, 1]


def test_predictive_stays_while_good_and_leaves_on_forecast_outage():
    pol = POLICIES["predictive"]()
    base = dict(
        t=0,
        serving=0,
        esn0_db=np.array([8.0, 7.0, 6.0]),
        el_deg=np.array([40.0, 40, 40]),
        usable=np.ones(3, bool),
        sat_key=np.array([0, 0, 1]),
        cost_s=np.array([0.0, 2.0, 30.0]),
        remaining_s=np.zeros(3),
    )
    stay = LinkView(
        **base, pred_esn0_db=np.array([8.0, 9.0, 9.0]), p_good=np.array([0.9, 0.9, 0.9])
    )
    assert pol(stay) == 0
    # degraded forecast: cheapest good alternative (a beam switch), not the other provider
    deg = LinkView(**base, pred_esn0_db=np.array([3.0, 7.0, 9.0]), p_good=np.array([0.1, 0.9, 0.9]))
    assert pol(deg) == 1
    # outage forecast with only the other provider good: switch there
    out = LinkView(
        **base, pred_esn0_db=np.array([-9.0, -9.0, 9.0]), p_good=np.array([0.0, 0.0, 0.9])
    )
    assert pol(out) == 2


def test_make_before_break_only_helps_planned_handovers():
    """Planned switch (old link still usable) with a second modem: no gap; forced switch
    (old link lost): the full interruption."""
    n = 80
    esn0 = np.full((n, 2), 8.0)
    vis = np.ones((n, 2), dtype=bool)
    ls = toy(esn0, vis, [0, 1], [0, 0], [KIND_GEO, KIND_GEO])
    to_b_at_10 = lambda v: 1 if v.t >= 10 else 0  # noqa: E731
    mbb = Interruptions(provider_s=30.0, make_before_break=True)
    planned = simulate_handover(ls, to_b_at_10, mbb)
    assert planned.switches[10] == 3 and np.all(planned.delivered_bits > 0)
    assert planned.totals()["interruption_s"] == 0.0
    vis_lost = vis.copy()
    vis_lost[10:, 0] = False
    forced = simulate_handover(toy(esn0, vis_lost, [0, 1], [0, 0], [0, 0]), to_b_at_10, mbb)
    assert np.all(forced.delivered_bits[10:40] == 0) and forced.totals()["interruption_s"] == 30.0


def test_remaining_visibility_reads_the_plan_not_the_realised_blockage():
    """Issue 17: a blockage that happens later must not change what the rule knows now."""
    from satellite.handover import remaining_visibility_s

    n = 50
    ls = toy(np.full((n, 2), 8.0), np.ones((n, 2)), [0, 0], [0, 1], [KIND_GEO, KIND_GEO])
    ls.visible[40:, 1] = False  # sets below the mask at t = 40 (ephemeris, known)
    before = remaining_visibility_s(ls)
    ls.blocked[20:, 0] = True  # realised airframe blockage from t = 20 (not known at t < 20)
    after = remaining_visibility_s(ls)
    assert np.array_equal(before, after)
    assert after[0, 0] == n and after[0, 1] == 40


def _schedule_value(sess, plan, step, pen):
    """The objective clairvoyant_schedule maximises, evaluated for one schedule."""
    bits = sess._bits_tc / 1e9
    n_t = bits.shape[0]
    total, prev = 0.0, -1
    for e, c in enumerate(plan):
        t = e * step
        total += bits[t : t + step, c].sum()
        if prev >= 0 and c != prev:
            d = sess.costs_from(prev)[c]
            w = int(np.floor(d))
            total -= bits[t : min(t + w, n_t), c].sum() + pen * d
            if t + w < n_t:
                total -= (d - w) * bits[t + w, c]
        prev = c
    return total


def test_clairvoyant_schedule_matches_brute_force():
    """Viterbi = exhaustive search over every schedule (3 candidates, 6 epochs)."""
    import itertools

    from satellite.handover import LinkSession, clairvoyant_schedule

    rng = np.random.default_rng(4)
    step, n_e = 4, 6
    esn0 = rng.normal(6.0, 3.0, (step * n_e, 3))
    ls = toy(esn0, np.ones_like(esn0), [0, 0, 1], [0, 1, 0], [KIND_GEO] * 3)
    sess = LinkSession(ls, Interruptions(beam_s=1.5, satellite_s=3.0, provider_s=6.0), 0.0)
    plan = clairvoyant_schedule(sess, step, 0.05)
    best = max(
        _schedule_value(sess, p, step, 0.05) for p in itertools.product(range(3), repeat=n_e)
    )
    assert _schedule_value(sess, plan, step, 0.05) == pytest.approx(best, abs=1e-12)


def test_rate_now_is_the_acm_rate_shared_with_the_beam_and_max_throughput_follows_it():
    """``LinkView.rate_bps`` = η(Es/N0 - margin)·Rs/(1 + load) by the DVB-S2 table; the
    load-aware greedy takes the emptier beam although its Es/N0 is lower."""
    from satellite.dvbs2 import throughput_bps
    from satellite.handover import LinkSession

    n = 40
    ls = toy(np.tile([9.0, 6.0], (n, 1)), np.ones((n, 2)), [0, 0], [0, 1], [KIND_LEO, KIND_LEO])
    ls.load = np.tile([9.0, 1.0], (n, 1))  # 10 users share beam 0, 2 share beam 1
    sess = LinkSession(ls, acm_margin_db=0.5)
    v = sess.view(0)
    expect = throughput_bps(np.array([8.5, 5.5]), 100e6) / np.array([10.0, 2.0])
    assert np.allclose(v.rate_bps, expect)
    assert POLICIES["max_throughput"]()(v) == 1
    res = simulate_handover(ls, POLICIES["max_throughput"](), Interruptions())
    ref = simulate_handover(ls, POLICIES["reactive"](), Interruptions())
    assert res.totals()["delivered_gb"] > ref.totals()["delivered_gb"]
    ls.visible[:, 1] = False  # not usable: rate 0, never chosen
    assert LinkSession(ls).view(0).rate_bps[1] == 0.0
