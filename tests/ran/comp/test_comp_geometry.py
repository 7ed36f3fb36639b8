"""Line of sight by street geometry: corner closed form and brute force.

Oracle 1 (closed form): a BS on a vertical street ``D`` metres from an intersection and a UE on
the crossing street ``s`` metres past it (both on centre lines, street width ``w``) see each
other exactly when the building corner at ``(w/2, w/2)`` is not strictly inside the triangle,
i.e. ``(w/2)·(1/s + 1/D) >= 1``. Oracle 2: dense sampling of the segment against buildings.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ran.comp.geometry import StreetGrid, hex_sites, line_of_sight, manhattan_sites, sites

GRID = StreetGrid(4, 4, 100.0, 20.0)


@pytest.mark.parametrize("d_bs", [15.0, 30.0, 50.0, 80.0])
def test_corner_transition_where_geometry_says(d_bs):
    w = GRID.street_m
    s_star = (w / 2) / (1 - (w / 2) / d_bs)  # (w/2)(1/s + 1/D) = 1
    s = np.linspace(0.0, 100.0, 2001)
    ue = np.stack([100.0 + s, np.full_like(s, 100.0)], axis=1)
    los = line_of_sight(GRID, ue, np.array([100.0, 100.0 + d_bs]))
    assert np.all(los[s <= s_star - 1e-6])
    assert not np.any(los[s >= s_star + 1e-6])


def test_same_street_is_los_and_across_block_is_not():
    a, b = np.array([0.0, 150.0]), np.array([0.0, 390.0])
    assert line_of_sight(GRID, a, b)
    assert line_of_sight(GRID, np.array([30.0, 200.0]), np.array([390.0, 200.0]))
    assert not line_of_sight(GRID, np.array([0.0, 150.0]), np.array([100.0, 150.0]))


def _brute(grid, p, q, n=3001):
    t = np.linspace(0.0, 1.0, n)[None, :, None]
    pts = p[:, None, :] + t * (q - p)[:, None, :]
    return ~grid.in_building(pts).any(axis=1)


@settings(max_examples=20, deadline=None)
@given(
    bx=st.integers(1, 5),
    by=st.integers(1, 5),
    block=st.floats(30.0, 150.0),
    frac=st.floats(0.05, 0.45),
    seed=st.integers(0, 2**31 - 1),
)
def test_los_equals_dense_sampling(bx, by, block, frac, seed):
    grid = StreetGrid(bx, by, block, frac * block)
    rng = np.random.default_rng(seed)
    size = np.array([grid.width_m, grid.height_m])
    p = grid.snap(rng.random((200, 2)) * size)
    q = rng.random((200, 2)) * size
    q = np.where(rng.random((200, 1)) < 0.5, grid.snap(q), q)
    los = line_of_sight(grid, p, q)
    brute = _brute(grid, p, q)
    # sampling can miss a building only when the segment grazes it by < one sample step
    assert np.mean(los != brute) <= 0.005
    assert np.all(brute[los])  # exact LoS is never contradicted by a sampled blocking point


def test_snap_and_layouts():
    pts = GRID.snap(np.array([[37.0, 12.0], [160.0, 230.0], [-5.0, 500.0]]))
    assert pts.tolist() == [[37.0, 0.0], [160.0, 200.0], [0.0, 400.0]]
    man = manhattan_sites(GRID)
    assert man.shape == (20, 2)  # (4*5 + 5*4) / 2 checkerboard street segments
    assert not GRID.in_building(man).any()
    hx = hex_sites(GRID, 120.0)
    assert hx.shape[0] > 5 and not GRID.in_building(hx).any()
    assert np.array_equal(sites(GRID, "hex", 120.0), hx)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"blocks_x": 0}, "blocks_x"),
        ({"street_m": 60.0}, "street_m"),
        ({"block_m": -1.0}, "block_m"),
    ],
)
def test_bad_grid(kwargs, match):
    args = {"blocks_x": 2, "blocks_y": 2, "block_m": 100.0, "street_m": 20.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        StreetGrid(**args)
    with pytest.raises(ValueError, match="unknown layout"):
        sites(GRID, "ring")
