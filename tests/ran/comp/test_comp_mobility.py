"""Manhattan mobility and the vehicle-blockage on/off chain.

Oracles: UMTS 30.03 / ETSI TR 101 112 turn probabilities (1/2 straight, 1/4 left, 1/4 right)
and the stationary blocked fraction ``mean_blocked / (mean_blocked + mean_clear)`` of a
two-state continuous-time Markov chain.
"""

import numpy as np
import pytest

from ran.comp.geometry import StreetGrid
from ran.comp.mobility import (
    HEADINGS,
    blockage_step,
    manhattan_step,
    place_walkers,
    positions,
    segment_index,
)

GRID = StreetGrid(6, 6, 50.0, 10.0)


def _on_centre_line(grid, pos):
    b = grid.block_m
    off = np.minimum(
        np.abs(pos[:, 0] / b - np.round(pos[:, 0] / b)),
        np.abs(pos[:, 1] / b - np.round(pos[:, 1] / b)),
    )
    return off < 1e-9


def test_walkers_stay_on_streets_inside_the_city():
    rng = np.random.default_rng(1)
    w = place_walkers(GRID, np.full(500, 12.0), rng.random((500, 3)))
    for _ in range(300):
        w = manhattan_step(GRID, w, 0.5, rng.random((w.n, 2)))
        pos = positions(GRID, w)
        assert _on_centre_line(GRID, pos).all()
        assert (pos >= -1e-9).all() and (pos[:, 0] <= GRID.width_m + 1e-9).all()
        assert (pos[:, 1] <= GRID.height_m + 1e-9).all()


def test_distance_travelled_is_speed_times_time():
    rng = np.random.default_rng(2)
    w = place_walkers(GRID, np.full(50, 3.0), rng.random((50, 3)))
    w2 = manhattan_step(GRID, w, 1.0, rng.random((50, 1)))
    d = np.abs(positions(GRID, w2) - positions(GRID, w)).sum(axis=1)
    straight = np.all(w2.node == w.node, axis=1)  # no intersection crossed: L1 move = 3 m
    assert np.allclose(d[straight], 3.0)


def test_turn_probabilities_at_interior_intersections():
    rng = np.random.default_rng(3)
    n = 40_000
    # UEs 0.5 m before an interior intersection (3, 3), heading +x
    from ran.comp.mobility import Walkers

    w = Walkers(np.tile([2, 3], (n, 1)), np.zeros(n, np.int64), np.full(n, 49.5), np.ones(n))
    w2 = manhattan_step(GRID, w, 1.0, rng.random((n, 1)))
    frac = np.bincount(w2.heading, minlength=4) / n
    assert frac[0] == pytest.approx(0.5, abs=0.01)  # straight
    assert frac[1] == pytest.approx(0.25, abs=0.01)  # left (+y)
    assert frac[3] == pytest.approx(0.25, abs=0.01)  # right (-y)
    assert frac[2] == 0.0  # never back


def test_corner_of_the_city_turns_inward():
    w = place_walkers(GRID, np.ones(1), np.array([[0.0, 0.9, 0.99]]))  # first h-segment, backward
    from dataclasses import replace

    w = replace(w, node=np.array([[1, 0]]), heading=np.array([2]), s_m=np.array([49.9]))
    w2 = manhattan_step(GRID, w, 1.0, np.array([[0.1]]))
    assert w2.node.tolist() == [[0, 0]]
    assert HEADINGS[w2.heading[0]].tolist() == [0, 1]  # only +y (left) leads inside


def test_segment_index_matches_positions():
    rng = np.random.default_rng(4)
    w = place_walkers(GRID, np.ones(300), rng.random((300, 3)))
    w = manhattan_step(GRID, w, 7.0, rng.random((300, 1)))
    seg, along = segment_index(GRID, w)
    nh = GRID.blocks_x * (GRID.blocks_y + 1)
    b = GRID.block_m
    h = seg < nh
    exp_h = np.stack([(seg % GRID.blocks_x) * b + along, (seg // GRID.blocks_x) * b], 1)
    vs = seg - nh
    exp_v = np.stack([(vs // GRID.blocks_y) * b, (vs % GRID.blocks_y) * b + along], 1)
    expected = np.where(h[:, None], exp_h, exp_v)
    assert np.allclose(expected, positions(GRID, w))


def test_blockage_stationary_fraction_and_mean_duration():
    rng = np.random.default_rng(5)
    dt, mb, mc = 0.01, 0.5, 4.5
    b = np.zeros(2000, dtype=bool)
    frac, starts, ends = [], 0, 0
    for _ in range(4000):
        nb = blockage_step(b, dt, mb, mc, rng.random(b.size))
        starts += int((nb & ~b).sum())
        ends += int((~nb & b).sum())
        b = nb
        frac.append(b.mean())
    assert np.mean(frac[1000:]) == pytest.approx(mb / (mb + mc), abs=0.01)
    # blocked periods start at rate (1 - p_blocked)/mean_clear per link
    assert starts / (2000 * 40.0) == pytest.approx(0.9 / mc, rel=0.05)
    with pytest.raises(ValueError, match="must be > 0"):
        blockage_step(b, dt, 0.0, mc, rng.random(b.size))
