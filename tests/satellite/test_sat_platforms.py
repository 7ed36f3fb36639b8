"""Platforms: flown flight plans, ground tracks and the ADS-B loader."""

import gzip

import numpy as np
import pytest

from netsim.topology import great_circle_km
from satellite.platforms import (
    PHASES,
    FlightPlan,
    Trajectory,
    bundled_adsb,
    fly,
    load_adsb_csv,
    plan_flight,
    planned_attitude,
    polyline_track,
)


@pytest.fixture(scope="module")
def flights():
    rng = np.random.default_rng(4)
    plans = [
        plan_flight(
            f"F{i}", (51.47, -0.46), (48.35, 11.79), rng, hold_probability=1.0 if i else 0.0
        )
        for i in range(3)
    ]
    return plans, fly(plans)


def test_flights_reach_the_destination_within_the_envelope(flights):
    plans, trajs = flights
    for p, tr in zip(plans, trajs, strict=True):
        assert great_circle_km(tr.lat_deg[-1], tr.lon_deg[-1], 48.35, 11.79) < 2.5
        assert tr.alt_m.max() <= p.cruise_alt_m + 1e-6 and tr.alt_m.min() >= 0.0
        assert np.abs(tr.roll_deg).max() <= 25.0 + 1e-9
        assert np.abs(np.diff(tr.roll_deg)).max() <= 5.0 + 1e-9  # roll rate limit
        assert 70.0 <= tr.speed_mps.min() and tr.speed_mps.max() <= p.cruise_speed_mps + 1e-9
        assert np.all(np.diff(tr.t_s) == 1.0) and tr.t_s[0] == p.departure_s
        assert 1.2 * 3600 < len(tr) < 2.5 * 3600  # ~950 km London - Munich
        assert set(np.unique(tr.phase)) >= {
            PHASES.index("climb"),
            PHASES.index("cruise"),
            PHASES.index("descent"),
        }


def test_holding_is_level(flights):
    _, trajs = flights
    hold = trajs[1].phase == PHASES.index("holding")
    assert hold.sum() > 60 and np.all(trajs[1].vs_mps[hold] == 0.0)
    assert not np.any(trajs[0].phase == PHASES.index("holding"))


def test_planned_attitude_predicts_the_flown_heading(flights):
    """Dead reckoning the plan 30 s ahead matches the flown heading to a few degrees in most
    samples (roll transients of ~5 s are not modelled)."""
    _, trajs = flights
    tr = trajs[0]
    h, roll = planned_attitude(
        tr.heading_deg, tr.speed_mps, tr.heading_to_go_deg, tr.time_to_turn_s, tr.next_turn_deg, 30
    )
    err = np.abs((h[:-30] - tr.heading_deg[30:] + 180) % 360 - 180)
    airborne = tr.alt_m[:-30] > 100
    assert np.median(err[airborne]) < 0.5 and np.mean(err[airborne] < 10.0) > 0.97
    straight, _ = planned_attitude(90.0, 230.0, 0.0, 600.0, 30.0, 30)
    assert straight == 90.0


def test_polyline_train_at_ground_level():
    tr = polyline_track("ICE", [50.11, 50.0, 49.45], [8.66, 8.27, 11.08], 83.0)
    assert tr.kind == "train" and np.all(tr.alt_m == 0.0) and tr.speed_mps.max() <= 83.0 + 1e-9
    assert great_circle_km(tr.lat_deg[-1], tr.lon_deg[-1], 49.45, 11.08) < 0.05
    assert tr.speed_mps[0] == 0.0


def test_bundled_adsb_samples_load():
    tr = bundled_adsb("elal747")[0]
    assert tr.name == "ELY1747" and np.all(np.diff(tr.t_s) == 1.0)
    assert tr.alt_m.max() == pytest.approx(37000 * 0.3048)
    assert 31.8 < tr.lat_deg.min() and tr.lat_deg.max() < 41.9
    swiss = bundled_adsb("switzerland")
    assert len(swiss) >= 70 and all(t.kind == "aircraft" for t in swiss)


def test_bad_input_negative_altitude_and_empty_flight(tmp_path):
    with pytest.raises(ValueError, match="alt_m must be >= 0"):
        Trajectory("x", "aircraft", [0, 1], [0, 0], [0, 0], [100.0, -5.0], [100, 100], [0, 0])
    with pytest.raises(ValueError, match="empty"):
        Trajectory("x", "aircraft", [], [], [], [], [], [])
    with pytest.raises(ValueError, match="field_alt_m"):
        FlightPlan("x", [0, 1], [0, 1], field_alt_m=(-10.0, 0.0))
    with pytest.raises(ValueError, match="ground_alt_m"):
        polyline_track("car", [0, 1], [0, 1], 20.0, kind="vehicle", ground_alt_m=-1.0)
    empty = tmp_path / "empty.csv"
    empty.write_text("timestamp_ms,latitude,longitude,altitude_ft,groundspeed_kt,track_deg\n")
    with pytest.raises(ValueError, match="empty flight"):
        load_adsb_csv(empty)
    neg = tmp_path / "neg.csv.gz"
    neg.write_bytes(
        gzip.compress(
            b"time_s,lat_deg,lon_deg,alt_m,speed_mps,heading_deg\n0,1,1,10,100,0\n10,1.01,1,-3,100,0\n"
        )
    )
    with pytest.raises(ValueError, match="negative altitude"):
        load_adsb_csv(neg)
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("time_s,lat_deg,lon_deg\n0,1,1\n")
    with pytest.raises(ValueError, match="no alt column"):
        load_adsb_csv(nocol)


def test_adsb_prefers_geometric_height_over_barometric(tmp_path):
    """Issue 17: ``altitude_ft`` is barometric; a GNSS height column wins when present."""
    f = tmp_path / "geo.csv"
    f.write_text(
        "timestamp_ms,latitude,longitude,altitude_ft,geoaltitude_m,groundspeed_kt,track_deg\n"
        "0,47.0,8.0,35000,10800,450,90\n10000,47.0,8.02,35000,10800,450,90\n"
    )
    tr = load_adsb_csv(f)[0]
    assert np.allclose(tr.alt_m, 10800.0)
    baro = tmp_path / "baro.csv"
    baro.write_text(
        "timestamp_ms,latitude,longitude,altitude_ft,groundspeed_kt,track_deg\n"
        "0,47.0,8.0,35000,450,90\n10000,47.0,8.02,35000,450,90\n"
    )
    assert np.allclose(load_adsb_csv(baro)[0].alt_m, 35000 * 0.3048)


def test_barometric_height_error_moves_geo_elevation_by_under_001_deg():
    """The documented bound: using pressure altitude as WGS-84 height (±300 m QNH offset plus
    the geoid) moves a GEO look angle by < 0.01°."""
    from satellite.frames import geodetic_to_ecef, look_angles

    sat = geodetic_to_ecef(np.array([0.0]), np.array([9.0]), np.array([35786e3]))
    el = [look_angles(sat, 48.0, 8.0, h)[0] for h in (10668.0 - 400.0, 10668.0 + 400.0)]
    assert abs(float(el[0][0] - el[1][0])) < 0.01
