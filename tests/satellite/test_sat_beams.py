"""Beam patterns (3GPP TR 38.811, Caini et al. 1992, ITU-R S.672-4), layouts and interference."""

import numpy as np
import pytest

from satellite.beams import (
    CellGrid,
    cos_off_axis,
    geo_hex_beams,
    interference_db,
    off_axis_deg,
    pattern_gain_db,
)
from satellite.frames import geodetic_to_ecef
from satellite.orbits import GEO_RADIUS_KM


@pytest.mark.parametrize("pattern", ["bessel", "tapered", "s672"])
def test_half_power_at_half_the_beamwidth(pattern):
    assert pattern_gain_db(0.0, 0.6, pattern) == pytest.approx(0.0)
    assert pattern_gain_db(0.3, 0.6, pattern) == pytest.approx(-3.0, abs=0.02)


def test_sidelobe_levels():
    th = np.linspace(0.0, 3.0, 30001)
    g = pattern_gain_db(th, 0.5, "bessel")
    peaks = g[1:-1][(g[1:-1] > g[:-2]) & (g[1:-1] > g[2:])]
    assert peaks[0] == pytest.approx(-17.57, abs=0.05)  # uniform circular aperture
    g = pattern_gain_db(th, 0.5, "tapered")
    peaks = g[1:-1][(g[1:-1] > g[:-2]) & (g[1:-1] > g[2:])]
    assert peaks[0] == pytest.approx(-34.7, abs=0.2)
    # S.672-4, Ls = -20 dB: -20 dB from a·θ0 (a = 2.58) to b·θ0 (b = 6.32)
    assert pattern_gain_db(0.25 * 2.6, 0.5, "s672") == -20.0
    assert pattern_gain_db(0.25 * 6.3, 0.5, "s672") == -20.0
    with pytest.raises(ValueError, match="unknown antenna pattern"):
        pattern_gain_db(0.1, 0.5, "gaussian")


def test_geo_hex_layout_four_colour_reuse_and_pointing():
    lay = geo_hex_beams(9.0, 48.0, 9.0, 3, 0.4, 0.5)
    assert len(lay) == 1 + 3 * 3 * 4  # all 37 beams land on Europe
    sat = GEO_RADIUS_KM * np.array([[np.cos(np.radians(9.0)), np.sin(np.radians(9.0)), 0.0]])
    centres = lay.ecef_km
    # neighbouring beams are 0.4° apart as seen from the satellite and differ in colour
    ang = off_axis_deg(np.repeat(sat, len(lay), 0), centres, centres)  # (B, B): angle between beams
    adjacent = np.isclose(ang, 0.4, atol=0.01)
    assert adjacent.any()
    assert not np.any(adjacent & (lay.colour[:, None] == lay.colour[None, :]))
    # the centre beam points at the aim point
    assert off_axis_deg(sat, centres[:1], geodetic_to_ecef(48.0, 9.0, 0.0)[None])[0, 0] < 1e-4


def test_interference_ratio_of_two_equal_cochannel_beams():
    """Two same-colour beams received at equal gain: C/I = 0 dB; a third colour is ignored."""
    g = np.array([[-3.0, -3.0, -1.0]])
    ci = interference_db(g, np.array([1, 1, 2]))
    assert ci[0, 0] == pytest.approx(0.0) and ci[0, 1] == pytest.approx(0.0)
    assert ci[0, 2] > 200  # alone in its colour


def test_cell_grid_assigns_the_nearest_centre():
    grid = CellGrid(48.0, 10.0, 25.0, 3.0)
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(46, 50, 2000), rng.uniform(7, 13, 2000)
    q, r = grid.cell_of(lat, lon)
    clat, clon = grid.centre(q, r)
    best = np.inf * np.ones(lat.size)
    for dq in (-1, 0, 1):
        for dr in (-1, 0, 1):
            olat, olon = grid.centre(q + dq, r + dr)
            best = np.minimum(best, np.hypot(lat - olat, (lon - olon) * np.cos(np.radians(48.0))))
    mine = np.hypot(lat - clat, (lon - clon) * np.cos(np.radians(48.0)))
    assert np.all(mine <= best + 1e-9)


def test_cos_off_axis_is_one_at_the_beam_centre():
    sat = np.array([[GEO_RADIUS_KM, 0.0, 0.0]])
    b = geodetic_to_ecef(10.0, 5.0, 0.0)[None]
    assert cos_off_axis(sat, b, b)[0, 0] == pytest.approx(1.0)
