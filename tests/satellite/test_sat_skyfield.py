"""Cross-check of look angles against skyfield (Rhodes), no downloads: builtin timescale and
TLE strings. Issue oracle: elevation and azimuth within 0.01°, range within 1 km, for GEO and
LEO satellites of the bundled sets from several places and times, and from a moving aircraft
(the bundled El Al 747 ADS-B track, replayed on the TLE epoch)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from satellite.frames import look_angles
from satellite.orbits import propagate_ecef
from satellite.platforms import bundled_adsb
from satellite.tle import bundled_tle, satrec_array, select

skyfield_api = pytest.importorskip("skyfield.api")
EPOCH = datetime(2021, 8, 5, 0, 0, tzinfo=UTC)
TS = skyfield_api.load.timescale(builtin=True)
PLACES = [
    (48.35, 11.79, 453.0),
    (51.47, -0.46, 11000.0),
    (40.47, -3.56, 610.0),
    (60.19, 11.10, 3000.0),
    (37.94, 23.95, 0.0),
]


def _compare(tle, t_s, lat, lon, alt):
    """Max |Δel|, |Δaz|, |Δrange| between our pipeline and skyfield at the given samples."""
    sat = skyfield_api.EarthSatellite(tle.line1, tle.line2, tle.name, TS)
    arr = satrec_array([tle])
    worst = np.zeros(3)
    for t, la, lo, h in zip(t_s, lat, lon, alt, strict=True):
        when = EPOCH + timedelta(seconds=float(t))
        ts = TS.from_datetime(when)
        r = propagate_ecef(arr, EPOCH, np.array([t]), dut1_s=float(ts.dut1))[0]
        el, az, rng = look_angles(r, la, lo, h)
        alt_, az_, d_ = (sat - skyfield_api.wgs84.latlon(la, lo, elevation_m=h)).at(ts).altaz()
        daz = (az[0] - az_.degrees + 180.0) % 360.0 - 180.0
        worst = np.maximum(worst, [abs(el[0] - alt_.degrees), abs(daz), abs(rng[0] - d_.km)])
    return worst


@pytest.mark.parametrize("name", ["EUTELSAT KA-SAT 9A", "INMARSAT GX5", "VIASAT-1"])
def test_geo_from_several_places_and_times(name):
    tle = select(bundled_tle("geo"), [name])[0]
    t = np.array([0.0, 3600.0 * 7.3, 3600.0 * 13.9, 3600.0 * 20.1, 3600.0 * 23.5])
    lat, lon, alt = np.array(PLACES).T
    worst = _compare(tle, t, lat, lon, alt)
    assert worst[0] < 0.01 and worst[1] < 0.01 and worst[2] < 1.0


def _visible_samples(tle, lat, lon, alt, t_grid, min_el=10.0, k=4):
    """Up to k (t, place) samples where the LEO satellite is well above the horizon."""
    arr = satrec_array([tle])
    r = propagate_ecef(arr, EPOCH, t_grid)[0]
    el, _, _ = look_angles(r, lat, lon, alt)
    idx = np.flatnonzero((el > min_el) & (el < 85.0))
    return idx[np.linspace(0, idx.size - 1, min(k, idx.size)).astype(int)] if idx.size else idx


@pytest.mark.parametrize("tle_set, index", [("starlink", 400), ("starlink", 1100), ("oneweb", 30)])
def test_leo_from_several_places_and_times(tle_set, index):
    tle = bundled_tle(tle_set)[index]
    t_grid = np.arange(0.0, 86400.0, 20.0)
    checked = 0
    for lat, lon, alt in PLACES:
        idx = _visible_samples(tle, lat, lon, alt, t_grid, k=2)
        if idx.size == 0:
            continue
        worst = _compare(tle, t_grid[idx], [lat] * idx.size, [lon] * idx.size, [alt] * idx.size)
        assert worst[0] < 0.01 and worst[1] < 0.01 and worst[2] < 1.0
        checked += idx.size
    assert checked >= 4


def test_moving_aircraft_geo_and_leo():
    """The El Al 747 (Rome -> Tel Aviv, real ADS-B) replayed from the TLE epoch: every sample is
    a different WGS-84 position and altitude."""
    tr = bundled_adsb("elal747")[0]
    tr_t = tr.t_s + 6 * 3600.0
    sel = np.linspace(0, len(tr) - 1, 8).astype(int)
    geo = select(bundled_tle("geo"), ["EUTELSAT KA-SAT 9A"])[0]
    worst = _compare(geo, tr_t[sel], tr.lat_deg[sel], tr.lon_deg[sel], tr.alt_m[sel])
    assert worst[0] < 0.01 and worst[1] < 0.01 and worst[2] < 1.0
    checked = 0
    for tle in bundled_tle("starlink")[200:1400:40]:
        arr = satrec_array([tle])
        el, _, _ = look_angles(
            propagate_ecef(arr, EPOCH, tr_t)[0], tr.lat_deg, tr.lon_deg, tr.alt_m
        )
        idx = np.flatnonzero((el > 10) & (el < 85))
        if idx.size:
            idx = idx[:: max(1, idx.size // 2)][:2]
            worst = _compare(tle, tr_t[idx], tr.lat_deg[idx], tr.lon_deg[idx], tr.alt_m[idx])
            assert worst[0] < 0.01 and worst[1] < 0.01 and worst[2] < 1.0
            checked += idx.size
    assert checked >= 4
