"""Uncertainty a real aircraft has (issue 17): wind and turbulence in the generator, a noisy
or partial flight plan for the predictor."""

import numpy as np
import pytest
from test_sat_no_leak import _frame

from satellite.platforms import disturb, fly, plan_flight
from satellite.predict import noisy_plan


@pytest.fixture(scope="module")
def flight():
    plan = plan_flight("A", (51.47, -0.46), (50.90, 4.48), np.random.default_rng(2))
    return fly([plan])[0]


def test_crab_angle_closed_form(flight):
    """A steady wind with crosswind w⊥ turns the nose by asin(w⊥/V) off the track."""

    class Fixed:  # wind components drawn as (we, wn) = (20, 0) m/s
        def normal(self, loc, scale, size):
            return np.array([20.0, 0.0])

        def standard_normal(self, shape):
            return np.zeros(shape)

    d = disturb(flight, Fixed(), wind_mps=20.0, turbulence_deg=0.0)
    air = flight.alt_m > 30.0
    trk = np.radians(flight.heading_deg[air])
    expect = np.degrees(np.arcsin(np.clip(20.0 * np.cos(trk) / flight.speed_mps[air], -0.5, 0.5)))
    off = (flight.heading_deg[air] - d.heading_deg[air] + 180.0) % 360.0 - 180.0
    assert np.allclose(off, expect)
    assert np.array_equal(d.lat_deg, flight.lat_deg) and np.array_equal(d.roll_deg, flight.roll_deg)


def test_turbulence_is_ar1_with_the_stated_sd(flight):
    d = disturb(flight, np.random.default_rng(0), wind_mps=0.0, turbulence_deg=2.0, tau_s=3.0)
    air = flight.alt_m > 30.0
    dr = (d.roll_deg - flight.roll_deg)[air]
    assert 1.4 < dr.std() < 2.6
    lag1 = np.corrcoef(dr[:-1], dr[1:])[0, 1]
    assert lag1 == pytest.approx(np.exp(-1 / 3.0), abs=0.05)
    assert np.all(d.roll_deg[~air] == flight.roll_deg[~air])


def test_noisy_plan_levels():
    df = _frame()
    assert noisy_plan(df, 0.0) is df
    a, b = noisy_plan(df, 1.0, seed=3), noisy_plan(df, 1.0, seed=3)
    assert a.equals(b)  # named stream per flight: deterministic
    changed = ~np.isclose(a["time_to_turn_s"], df["time_to_turn_s"], equal_nan=False)
    assert changed.any()
    for col in df.columns:
        if col not in ("time_to_turn_s", "next_turn_deg"):
            assert a[col].equals(df[col])
    with pytest.raises(ValueError, match="plan_noise"):
        noisy_plan(df, 1.5)


def test_partial_plan_drops_whole_turns():
    df = _frame()
    drops = [np.isnan(noisy_plan(df, 1.0, seed=s)["next_turn_deg"]).mean() for s in range(40)]
    assert set(np.round(drops, 6)) <= {0.0, 1.0}  # one planned turn in this frame: all or none
    assert 0.2 < np.mean(drops) < 0.8  # dropped with probability 0.5 at level 1
