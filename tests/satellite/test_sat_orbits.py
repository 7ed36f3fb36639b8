"""SGP4 propagation, Walker-delta constellations and the ideal GEO oracle."""

from datetime import UTC, datetime

import numpy as np
import pytest

from satellite.frames import ecef_to_geodetic
from satellite.orbits import ideal_geo, propagate_ecef, walker_delta
from satellite.tle import bundled_tle, satrec_array

EPOCH = datetime(2021, 8, 5, 12, tzinfo=UTC)


@pytest.mark.parametrize("lon", [-20.0, 9.0, 75.0])
def test_ideal_geo_sub_satellite_point_stays_within_0002_deg_over_a_day(lon):
    """A geostationary satellite keeps its sub-satellite point: the mean motion must be the
    Earth's rotation rate (plus SGP4's secular corrections), not the Keplerian rate at
    42,164 km, which drifted 0.010-0.016°/day (issue 17)."""
    sat = ideal_geo(lon, EPOCH)
    lat, lon_t, _ = ecef_to_geodetic(sat.ecef(EPOCH, np.arange(0.0, 86401.0, 300.0))[0])
    assert np.abs(lat).max() < 0.01
    assert np.abs(lon_t - lon).max() < 0.002


def test_walker_delta_geometry():
    con = walker_delta(24, 6, 1, 55.0, 1200.0, EPOCH)
    assert len(con) == 24
    r = con.ecef(EPOCH, np.array([0.0, 600.0]))
    alt = np.linalg.norm(r, axis=-1) - 6371.0
    assert np.all(np.abs(alt - 1200.0) < 30.0)  # circular at 1200 km (Earth radius ~ 6357-6378)
    raan = np.degrees([s.nodeo for s in con.satrecs]).reshape(6, 4)
    assert np.allclose(np.diff(raan[:, 0]), 60.0)  # planes evenly spread in RAAN
    inc = np.degrees([s.inclo for s in con.satrecs])
    assert np.allclose(inc, 55.0)


@pytest.mark.parametrize(
    "args, message",
    [
        ((25, 6, 1, 55.0, 500.0), "multiple of planes"),
        ((24, 6, 6, 55.0, 500.0), "phasing"),
        ((24, 6, 1, 55.0, -5.0), "altitude_km"),
    ],
)
def test_walker_delta_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        walker_delta(*args, EPOCH)


def test_hermite_interpolation_matches_exact_sgp4_within_a_metre():
    arr = satrec_array(bundled_tle("starlink")[:20])
    t = np.arange(0.0, 1800.0, 1.0)
    exact = propagate_ecef(arr, EPOCH, t)
    interp = propagate_ecef(arr, EPOCH, t, coarse_step_s=10.0)
    ok = np.all(np.isfinite(exact), axis=(1, 2))
    assert np.nanmax(np.abs(exact[ok] - interp[ok])) < 1e-3  # km


def test_propagate_rejects_empty_times():
    with pytest.raises(ValueError, match="non-empty"):
        propagate_ecef(satrec_array(bundled_tle("geo")[:1]), EPOCH, np.array([]))
