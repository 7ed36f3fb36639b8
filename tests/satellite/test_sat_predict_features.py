"""Look-ahead features: the autopilot attitude forecast against closed forms and flown plans."""

import numpy as np
import pytest

from satellite.features import autopilot_attitude
from satellite.platforms import G_M_S2, fly, plan_flight, planned_attitude


def _state(hdg, roll, v, togo, ttt, nturn):
    """The platform state autopilot_attitude reads, as a dict of scalars."""
    return {
        "heading_deg": hdg,
        "roll_deg": roll,
        "speed_mps": v,
        "heading_to_go_deg": togo,
        "time_to_turn_s": ttt,
        "next_turn_deg": nturn,
    }


@pytest.fixture(scope="module")
def flight():
    rng = np.random.default_rng(11)
    plan = plan_flight("A", (51.47, -0.46), (48.35, 11.79), rng, hold_probability=1.0)
    return fly([plan])[0]


def test_straight_flight_is_unchanged():
    h, r = autopilot_attitude(_state(90.0, 0.0, 230.0, 0.0, np.nan, np.nan), 30)
    assert h.shape == (1,) and h[0] == pytest.approx(90.0) and r[0] == 0.0


def test_roll_in_follows_the_rate_limit_and_the_coordinated_turn_rate():
    """A 90° heading error from wings level: roll ramps at 5°/s to the 25° bank limit, and the
    heading turns by the sum of g·tan(φ)/V over the seconds flown."""
    v = 230.0
    hs, rs = autopilot_attitude(_state(0.0, 0.0, v, 90.0, np.nan, np.nan), [0, 1, 3, 5, 10])
    assert rs[:, 0] == pytest.approx([0.0, 5.0, 15.0, 25.0, 25.0])
    roll_seq = np.minimum(5.0 * np.arange(1, 11), 25.0)
    turned = np.degrees(G_M_S2 * np.tan(np.radians(roll_seq)) / v)
    assert hs[-1, 0] == pytest.approx(turned.sum())
    assert hs[2, 0] == pytest.approx(turned[:3].sum())


def test_planned_turn_starts_when_the_waypoint_is_sequenced():
    _, r = autopilot_attitude(_state(0.0, 0.0, 230.0, 0.0, 10.0, -40.0), [9, 10, 11, 12])
    assert r[:, 0] == pytest.approx([0.0, -5.0, -10.0, -15.0])


def test_forecast_matches_the_flown_roll_better_than_the_step_model(flight):
    """On a flown plan (turns, holding) the roll 30 s ahead is predicted far better than by the
    step model that ignores roll-in/roll-out (which decide antenna blockage in turns)."""
    tr, k = flight, 30
    args = (tr.speed_mps, tr.heading_to_go_deg, tr.time_to_turn_s, tr.next_turn_deg)
    h1, r1 = autopilot_attitude(vars(tr), k)
    _, r0 = planned_attitude(tr.heading_deg, *args, k)
    turning = (np.abs(tr.roll_deg[k:]) > 1.0) | (np.abs(r1[:-k]) > 1.0)
    e1 = np.abs(r1[:-k] - tr.roll_deg[k:])[turning]
    e0 = np.abs(r0[:-k] - tr.roll_deg[k:])[turning]
    assert turning.sum() > 300
    assert e1.mean() < 0.7 * e0.mean() and np.median(e1) < 1.0
    dh = np.abs((h1[:-k] - tr.heading_deg[k:] + 180.0) % 360.0 - 180.0)
    assert np.median(dh[tr.alt_m[:-k] > 100]) < 0.5


def test_bad_look_ahead():
    with pytest.raises(ValueError, match="dt_s"):
        autopilot_attitude(_state(0.0, 0.0, 230.0, 0.0, np.nan, np.nan), [-1])
