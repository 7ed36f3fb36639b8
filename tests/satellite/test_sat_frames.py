"""Frames and look angles: WGS-84 round trips, GMST against skyfield's implementation of
AIAA 2006-6753 App. C, and geometric oracles."""

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from satellite.frames import (
    WGS84_A_KM,
    ecef_to_geodetic,
    geodetic_to_ecef,
    gmst_rad,
    julian_date,
    look_angles,
    teme_to_ecef,
    time_grid,
)


@settings(max_examples=60, deadline=None)
@given(lat=st.floats(-89.9, 89.9), lon=st.floats(-179.9, 179.9), alt=st.floats(-500.0, 4.0e7))
def test_geodetic_round_trip(lat, lon, alt):
    la, lo, h = ecef_to_geodetic(geodetic_to_ecef(lat, lon, alt))
    assert abs(la - lat) < 1e-9 and abs(h - alt) < 1e-3
    assert abs((lo - lon + 180) % 360 - 180) < 1e-9


def test_equator_and_pole_radii():
    assert np.allclose(geodetic_to_ecef(0.0, 0.0, 0.0), [WGS84_A_KM, 0, 0])
    assert np.isclose(geodetic_to_ecef(90.0, 0.0, 0.0)[2], 6356.752314245, atol=1e-6)


def test_julian_date_of_j2000():
    jd, fr = julian_date(datetime(2000, 1, 1, 12, tzinfo=UTC))
    assert jd + fr == 2451545.0


def test_gmst_matches_skyfield_theta_gmst1982():
    from skyfield.sgp4lib import theta_GMST1982

    jd, fr = time_grid(datetime(2021, 8, 5, 3, 17, tzinfo=UTC), np.linspace(0, 3e5, 50))
    ref = np.array([theta_GMST1982(j, f)[0] for j, f in zip(jd, fr, strict=True)])
    assert np.allclose(gmst_rad(jd, fr), ref, atol=1e-12)


def test_teme_rotation_keeps_norm_and_z():
    r = np.random.default_rng(0).normal(size=(4, 7, 3)) * 7000
    out = teme_to_ecef(r, np.linspace(0, 6, 7))
    assert np.allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(r, axis=-1))
    assert np.array_equal(out[..., 2], r[..., 2])


def test_look_angles_zenith_and_horizon():
    """A point straight up the normal is at 90°; a point east on the tangent plane at 0°, az 90°."""
    lat, lon = 40.0, -3.0
    up = geodetic_to_ecef(lat, lon, 500e3)
    el, _, rng = look_angles(up, lat, lon, 0.0)
    assert np.isclose(el, 90.0, atol=1e-9) and np.isclose(rng, 500.0, atol=1e-6)
    o = geodetic_to_ecef(lat, lon, 0.0)
    east = np.array([-np.sin(np.radians(lon)), np.cos(np.radians(lon)), 0.0])
    el, az, _ = look_angles(o + 1000.0 * east, lat, lon, 0.0)
    assert abs(el) < 1e-9 and np.isclose(az, 90.0)
