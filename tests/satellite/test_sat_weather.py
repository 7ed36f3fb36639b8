"""Rain cells (EXCELL profile) and slant-path attenuation (ITU-R P.838/P.839)."""

import numpy as np
import pytest

from satellite.linkbudget import rain_specific_attenuation_db_km
from satellite.weather import RainField, generate_rain


def _one_cell(radius_km=1e6, top_m=6000.0, ve=0.0):
    a = lambda v: np.array([v], dtype=float)  # noqa: E731
    return RainField(
        a(45.0),
        a(5.0),
        a(ve),
        a(0.0),
        a(20.0),
        a(radius_km),
        a(top_m),
        a(-1e5),
        a(1e5),
        freezing_m=3000.0,
        ice_factor=0.0,
    )


def test_rain_rate_profile_and_motion():
    f = _one_cell(radius_km=3.0)
    assert float(f.rain_rate_mmh(45.0, 5.0, 0.0)) == pytest.approx(20.0)
    # a cell moving east at 10 m/s is 6 km further east after 600 s
    lat, lon = _one_cell(ve=10.0).centres(np.array([0.0, 600.0]))
    dx = (lon[1, 0] - lon[0, 0]) * np.pi / 180 * 6371.0088 * np.cos(np.radians(45.0))
    assert dx == pytest.approx(6.0, rel=1e-6) and lat[1, 0] == lat[0, 0]
    east_3km = 5.0 + np.degrees(3.0 / (6371.0088 * np.cos(np.radians(45.0))))
    assert float(f.rain_rate_mmh(45.0, east_3km, 0.0)) == pytest.approx(
        20.0 * np.exp(-1.0), rel=1e-3
    )


def test_uniform_rain_slab_attenuation_closed_form():
    """A wide uniform cell: A = γ(R)·(h_R - h)/sin(el) with h_R = h0 + 0.36 km (P.839)."""
    f = _one_cell()
    el = 30.0
    a = f.path_attenuation_db(
        np.array([45.0]),
        np.array([5.0]),
        np.array([500.0]),
        np.array([el]),
        np.array([180.0]),
        0.0,
        19.7e9,
        steps=200,
    )
    gamma = rain_specific_attenuation_db_km(20.0, 19.7e9)
    expect = gamma * (3.36 - 0.5) / np.sin(np.radians(el))
    assert a[0] == pytest.approx(expect, rel=0.01)
    # above the cell top there is no rain on the path
    above = f.path_attenuation_db(
        np.array([45.0]),
        np.array([5.0]),
        np.array([7000.0]),
        np.array([el]),
        np.array([0.0]),
        0.0,
        19.7e9,
    )
    assert above[0] == 0.0


@pytest.mark.parametrize("steps", [7, 12])
def test_uniform_cell_liquid_and_ice_layers_exact(steps):
    """A uniform cell reaching above the rain height: A = γ·[(h_R - h) + f_ice·(top - h_R)]
    / sin(el), exact whatever the layer count (issue 17: a layer straddling h_R was classed
    liquid or ice as a whole, 2.3 % low with the default 12 layers)."""
    f = _one_cell(top_m=6000.0)
    f.ice_factor = 0.15
    el = 90.0
    a = f.path_attenuation_db(
        np.array([45.0]), np.array([5.0]), np.array([500.0]), np.array([el]),
        np.array([0.0]), 0.0, 19.7e9, steps=steps,
    )
    gamma = rain_specific_attenuation_db_km(20.0, 19.7e9)
    expect = gamma * ((3.36 - 0.5) + 0.15 * (6.0 - 3.36)) / np.sin(np.radians(el))
    assert a[0] == pytest.approx(expect, rel=1e-9)


def test_generated_field_is_deterministic_and_respects_densities():
    region = (40.0, 50.0, 0.0, 10.0)
    a = generate_rain(np.random.default_rng(3), region, 0.0, 3600.0, 5.0, 1.0)
    b = generate_rain(np.random.default_rng(3), region, 0.0, 3600.0, 5.0, 1.0)
    assert np.array_equal(a.peak_mmh, b.peak_mmh) and len(a) > 50
    assert np.all(a.top_m > a.freezing_m)
    with pytest.raises(ValueError, match="region"):
        generate_rain(np.random.default_rng(3), (50.0, 40.0, 0.0, 10.0), 0.0, 1.0)
