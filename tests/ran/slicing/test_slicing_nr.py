"""NR numerology, carrier PRBs (38.101-1 Table 5.3.2-1) and RBG sizes (38.214 Table 5.1.2.2.1-1)."""

import numpy as np
import pytest

from ran.slicing.nr import (
    NR_PRBS,
    carrier_prbs,
    nominal_rbg_size,
    prb_bandwidth_hz,
    rbg_sizes,
    scs_khz,
    slot_s,
)


def test_numerology_closed_form():
    assert (scs_khz(0), scs_khz(1)) == (15.0, 30.0)
    assert (slot_s(0), slot_s(1)) == (1e-3, 0.5e-3)
    assert (prb_bandwidth_hz(0), prb_bandwidth_hz(1)) == (180e3, 360e3)
    with pytest.raises(ValueError, match="mu"):
        slot_s(2)


def test_carrier_prbs_standard_rows():
    # 38.101-1 Table 5.3.2-1, rows quoted by issue 13 and a few others
    assert carrier_prbs(20, 0) == 106 and carrier_prbs(20, 1) == 51
    assert carrier_prbs(40, 1) == 106 and carrier_prbs(100, 1) == 273
    assert carrier_prbs(10, 0) == 52 and carrier_prbs(50, 0) == 270
    with pytest.raises(ValueError, match="bandwidth_mhz"):
        carrier_prbs(100, 0)  # 15 kHz stops at 50 MHz in FR1
    # every configuration fits its channel, fills 79-99 % of it, and grows with it
    for mu, table in NR_PRBS.items():
        for bw_mhz, n_rb in table.items():
            occupied = n_rb * prb_bandwidth_hz(mu)
            assert 0.79 * bw_mhz * 1e6 <= occupied < 0.99 * bw_mhz * 1e6
        assert np.all(np.diff([table[b] for b in sorted(table)]) > 0)


@pytest.mark.parametrize(
    ("bwp", "p1", "p2"),
    [(1, 2, 4), (36, 2, 4), (37, 4, 8), (72, 4, 8), (73, 8, 16), (144, 8, 16),
     (145, 16, 16), (275, 16, 16)],
)
def test_nominal_rbg_size_table_boundaries(bwp, p1, p2):
    assert nominal_rbg_size(bwp, 1) == p1
    assert nominal_rbg_size(bwp, 2) == p2


def test_nominal_rbg_size_rejects_bad_input():
    with pytest.raises(ValueError, match="bwp_prbs"):
        nominal_rbg_size(276)
    with pytest.raises(ValueError, match="config"):
        nominal_rbg_size(50, 3)
    with pytest.raises(ValueError, match="bwp_start"):
        rbg_sizes(50, 1, -1)


def test_rbg_sizes_of_the_issue_carriers():
    # 106 PRBs (20 MHz, mu=0), config 1: P = 8, 13 full RBGs and one of 2
    np.testing.assert_array_equal(rbg_sizes(106, 1), [8] * 13 + [2])
    # 273 PRBs (100 MHz, mu=1), config 1: P = 16, 17 full and one of 1
    np.testing.assert_array_equal(rbg_sizes(273, 1), [16] * 17 + [1])
    # 51 PRBs (20 MHz, mu=1), config 2: P = 8, 6 full and one of 3
    np.testing.assert_array_equal(rbg_sizes(51, 2), [8] * 6 + [3])
    # a BWP starting off the RBG grid: start 5, 20 PRBs, P = 2 -> 1 + 9×2 + 1
    np.testing.assert_array_equal(rbg_sizes(20, 1, 5), [1] + [2] * 9 + [1])


def test_rbg_sizes_brute_force():
    """Against the definition: RBG k holds the common RBs c with (c // P) == k-th grid cell."""
    for config in (1, 2):
        for size in range(1, 276):
            for start in (0, 1, 3, 7, 15):
                p = nominal_rbg_size(size, config)
                cells = np.arange(start, start + size) // p
                expected = np.bincount(cells - cells[0])
                got = rbg_sizes(size, config, start)
                np.testing.assert_array_equal(got, expected)
                assert len(got) == -(-(size + start % p) // p)
