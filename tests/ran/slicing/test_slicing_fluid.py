"""The contested cell (``ran.slicing.fluid``) against closed forms and brute force."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import j0
from scipy.stats import poisson

from ran.slicing.fluid import (
    N_SUB,
    SPLITS,
    SUB_TTI,
    CellParams,
    FluidCell,
    _poisson,
    _share_time,
    split_index,
)
from ran.slicing.phy import N_RBG, slice_prbs, tbs_table


def test_splits_are_every_valid_split_once():
    assert SPLITS.shape == (120, 3)  # C(16, 2)
    assert (SPLITS.sum(1) == N_RBG).all() and (SPLITS >= 1).all()
    assert len({tuple(s) for s in SPLITS.tolist()}) == 120
    assert split_index((3, 5, 9)) == int(np.flatnonzero((SPLITS == (3, 5, 9)).all(1))[0])
    with pytest.raises(ValueError, match="split"):
        split_index((0, 8, 9))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e5), st.sampled_from([0.0]) | st.floats(16, 1e5)),
                min_size=1, max_size=8))
def test_fluid_pf_is_the_capped_equal_time_share(ues):
    """KKT conditions of max Σ log(t_u R_u) s.t. Σ t_u <= 1, t_u <= demand_u / R_u (Kelly):
    every UE is either satisfied or gets the largest time share, and the slice is idle only
    when everybody is satisfied."""
    demand = np.array([d for d, _ in ues])
    cap = np.array([c for _, c in ues])
    n = demand.size
    served = np.zeros(n)
    _share_time(0, np.zeros(n, dtype=np.int64), demand, cap, served, np.zeros(n, dtype=np.int64))
    active = (demand > 0) & (cap > 0)
    assert (served[~active] == 0).all()
    assert (served <= demand * (1 + 1e-12)).all()
    t = np.where(active, served / np.where(cap > 0, cap, 1), 0.0)
    assert t.sum() <= 1 + 1e-9
    unsat = active & (served < demand * (1 - 1e-9))
    if unsat.any():
        assert t.sum() == pytest.approx(1.0)
        assert t[unsat].min() >= t[active].max() * (1 - 1e-9)
        np.testing.assert_allclose(t[unsat], t[unsat][0])
    else:
        np.testing.assert_allclose(served[active], demand[active])


@pytest.mark.parametrize("lam", [0.1, 0.5, 8.0, 20.0])
def test_poisson_inversion_reproduces_the_pmf(lam):
    """Inverting a fine uniform grid gives the Poisson pmf to within the grid step."""
    grid = (np.arange(20_000) + 0.5) / 20_000
    ks = np.array([_poisson(lam, np.exp(-lam), u) for u in grid])
    for k in range(int(lam + 4 * np.sqrt(lam)) + 1):
        assert abs((ks == k).mean() - poisson.pmf(k, lam)) < 2e-4


def _cell(users, **kw):
    cell = FluidCell(1, CellParams(users=users, **kw))
    cell.reset_copy(0, np.random.default_rng(3))
    return cell


def test_backlogged_embb_ue_gets_the_tbs_of_its_slice_every_tti():
    """One eMBB UE always on at 100 Mbit/s (above any capacity) holds its slice alone: it is
    served TBS(I_TBS, PRBs) bits in each of the 100 TTIs of a period (36.213 table)."""
    cell = _cell((0, 0, 1), embb_on_s=1e6, embb_off_s=1e-6, embb_rate_mbps=(100.0, 100.0))
    for split in [(3, 5, 9), (1, 1, 15), (10, 6, 1)]:
        cell.splits[0] = split
        cell.step()
        st = cell.stats[0]
        bpp = st[6, 2] * 10  # TBS(I_TBS, 10): identifies I_TBS
        itbs = int(np.flatnonzero(tbs_table()[:27, 10] == round(bpp))[0])
        prbs = slice_prbs(split)[2]
        assert st[1, 2] == N_SUB * SUB_TTI * tbs_table()[itbs, prbs]
        assert st[5, 2] < 1  # backlogged: not everything pending was served


def test_bits_are_conserved_and_urllc_never_queues():
    """Per slice and period: start backlog + arrivals = served + lost + end backlog; URLLC
    keeps no backlog (late bits are lost)."""
    cell = FluidCell(3)
    for e in range(3):
        cell.reset_copy(e, np.random.default_rng(e))
    rng = np.random.default_rng(0)
    for _ in range(120):
        start = np.stack([np.bincount(cell.slice_of, w, 3) for w in cell.buf])
        cell.splits[:] = SPLITS[rng.integers(0, 120, 3)]
        cell.step()
        end = np.stack([np.bincount(cell.slice_of, w, 3) for w in cell.buf])
        st = cell.stats
        np.testing.assert_allclose(start + st[:, 0], st[:, 1] + st[:, 4] + end, rtol=1e-9,
                                   atol=1e-6)
        np.testing.assert_allclose(st[:, 2], start + st[:, 0], rtol=1e-12)
        assert (end[:, 1] == 0).all()
        assert ((st[:, 5] >= 0) & (st[:, 5] <= 1)).all()


def test_fading_correlation_is_clarke():
    """The diffuse fading follows AR(1) with ρ = J0(2π f_D T), f_D = 1 Hz, T = 100 ms."""
    cell = _cell((0, 0, 10))
    h = []
    for _ in range(3000):
        cell.step()
        h.append(cell.h_re[0] + 1j * cell.h_im[0])
    h = np.array(h)
    rho = np.mean((h[1:] * np.conj(h[:-1])).real) / np.mean(np.abs(h) ** 2)
    assert rho == pytest.approx(float(j0(2 * np.pi * 0.1)), abs=0.02)
    assert np.mean(np.abs(h) ** 2) == pytest.approx(1.0, abs=0.08)


def test_peek_is_a_clairvoyant_copy():
    """peek() leaves the state alone (it may draw the period's random numbers early: the same
    ones the step would draw), and its value for a split is the reward that split then earns."""
    cell = FluidCell(2)
    for e in range(2):
        cell.reset_copy(e, np.random.default_rng(10 + e))
    for _ in range(40):
        state = (cell.buf, cell.h_re, cell.h_im, cell.on, cell.burst, cell.rate, cell.storm)
        before = [a.copy() for a in state]
        values = cell.peek(1)
        for a, b in zip(before, state, strict=True):
            np.testing.assert_array_equal(a, b)
        best = int(np.argmax(values))
        cell.splits[1] = SPLITS[best]
        cell.splits[0] = SPLITS[(best * 7) % 120]
        rewards = cell.step()
        assert rewards[1] == values[best] and values.max() == values[best]


def test_a_copy_does_not_depend_on_its_neighbours():
    """Copy 0 of a batch follows the same trajectory whatever copy 1 does."""
    runs = []
    for other in (0, 77):
        cell = FluidCell(2)
        cell.reset_copy(0, np.random.default_rng(5))
        cell.reset_copy(1, np.random.default_rng(other))
        out = []
        for k in range(70):
            cell.splits[0] = SPLITS[k % 120]
            cell.splits[1] = SPLITS[(k * other) % 120]
            out.append(cell.step()[0])
        runs.append(out)
    assert runs[0] == runs[1]
