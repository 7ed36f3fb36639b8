"""LTE tables and link adaptation against 3GPP TS 36.213 (V10+) spot values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ran.slicing.phy import (
    CQI_CODE_RATE_X1024,
    CQI_EFFICIENCY,
    CQI_QM,
    MCS_EFFICIENCY,
    MCS_ITBS,
    MCS_QM,
    N_PRB,
    N_PRB_MAX,
    N_RBG,
    NS3_CQI_EFFICIENCY,
    RBG_PRBS,
    SNR_GAP_DB,
    cqi_from_sinr_db,
    efficiency_from_sinr_db,
    mcs_from_cqi,
    rbg_capacity_table,
    required_sinr_db,
    slice_prbs,
    tbs_bits,
    tbs_table,
)


def test_cqi_table_spot_values():
    """36.213 Table 7.2.3-1 rows 1, 6, 7, 9, 10 and 15."""
    for cqi, qm, rate, eff in [
        (1, 2, 78, 0.1523),
        (6, 2, 602, 1.1758),
        (7, 4, 378, 1.4766),
        (9, 4, 616, 2.4063),
        (10, 6, 466, 2.7305),
        (15, 6, 948, 5.5547),
    ]:
        assert (CQI_QM[cqi], CQI_CODE_RATE_X1024[cqi], CQI_EFFICIENCY[cqi]) == (qm, rate, eff)
    # efficiency = Q_m · rate/1024, to the table's 4 decimals
    np.testing.assert_allclose(
        CQI_EFFICIENCY[1:], CQI_QM[1:] * CQI_CODE_RATE_X1024[1:] / 1024, atol=6e-5
    )


def test_mcs_table_spot_values():
    """36.213 Table 7.1.7.1-1: modulation switches at I_MCS 10 and 17 repeat the TBS index."""
    assert (MCS_QM[0], MCS_ITBS[0]) == (2, 0)
    assert (MCS_QM[9], MCS_ITBS[9]) == (2, 9)
    assert (MCS_QM[10], MCS_ITBS[10]) == (4, 9)
    assert (MCS_QM[16], MCS_ITBS[16]) == (4, 15)
    assert (MCS_QM[17], MCS_ITBS[17]) == (6, 15)
    assert (MCS_QM[28], MCS_ITBS[28]) == (6, 26)
    assert MCS_ITBS.size == MCS_EFFICIENCY.size == 29


@pytest.mark.parametrize(
    "n_prb, peak_bits",
    [(6, 4392), (15, 11064), (25, 18336), (50, 36696), (75, 55056), (100, 75376)],
    # LTE single-layer peak TBS at 1.4/3/5/10/15/20 MHz
)
def test_tbs_peak_rates(n_prb, peak_bits):
    """The well-known single-layer LTE peak TBS (I_TBS 26) of each bandwidth."""
    assert tbs_bits(26, n_prb) == peak_bits


def test_tbs_spot_values_and_shape():
    t = tbs_table()
    assert t.shape == (28, N_PRB_MAX + 1)
    assert tbs_bits(0, 1) == 16 and tbs_bits(0, 50) == 1384
    assert tbs_bits(9, 50) == 7992 and tbs_bits(15, 25) == 7736 and tbs_bits(2, 10) == 424
    assert (t[:, 0] == 0).all() and (t[-1] == 0).all()  # no PRB / no MCS carry nothing
    assert (np.diff(t[:27, 1:], axis=1) >= 0).all() and (np.diff(t[:27, 1:], axis=0) >= 0).all()
    assert (t % 8 == 0).all()  # whole bytes


def test_rbg_layout():
    """36.213 Table 7.1.6.1-1: 50 PRBs -> RBG size 3 -> 16 RBGs of 3 and one of 2."""
    assert RBG_PRBS.size == N_RBG == 17 and RBG_PRBS.sum() == N_PRB
    assert tuple(slice_prbs((3, 5, 9))) == (9, 15, 26)
    assert tuple(slice_prbs((1, 1, 15))) == (3, 3, 44)
    cap = rbg_capacity_table()
    assert cap[26, 17] == tbs_bits(26, 50) and cap[26, 2] == tbs_bits(26, 6)


def test_link_adaptation_end_points():
    assert cqi_from_sinr_db(40.0) == 15 and cqi_from_sinr_db(-20.0) == 0
    assert mcs_from_cqi(15) == 28 and mcs_from_cqi(1) == 0 and mcs_from_cqi(0) == -1
    assert SNR_GAP_DB == pytest.approx(10 * np.log10(-np.log(2.5e-4) / 1.5))
    assert np.isinf(required_sinr_db(-1))


@settings(max_examples=200, deadline=None)
@given(st.floats(-30, 50))
def test_cqi_brackets_the_achievable_efficiency(sinr_db):
    """The CQI is the highest whose efficiency is below log2(1 + SINR/Γ) (ns-3 LteAmc)."""
    cqi = int(cqi_from_sinr_db(sinr_db))
    eff = float(efficiency_from_sinr_db(sinr_db))
    assert cqi == 0 or NS3_CQI_EFFICIENCY[cqi] < eff
    assert cqi == 15 or NS3_CQI_EFFICIENCY[cqi + 1] >= eff


def test_mcs_never_exceeds_cqi_efficiency_and_is_maximal():
    for cqi in range(1, 16):
        mcs = int(mcs_from_cqi(cqi))
        assert MCS_EFFICIENCY[mcs] <= NS3_CQI_EFFICIENCY[cqi]
        assert mcs == 28 or MCS_EFFICIENCY[mcs + 1] > NS3_CQI_EFFICIENCY[cqi]
    assert (np.diff(mcs_from_cqi(np.arange(16))) >= 0).all()


def test_required_sinr_inverts_the_efficiency():
    m = np.arange(29)
    np.testing.assert_allclose(efficiency_from_sinr_db(required_sinr_db(m)), MCS_EFFICIENCY)


def test_tbs_beyond_50_prbs_regression():
    """Regression (issue 13): tbs_bits(26, 100) returned the 50-PRB value 36696; 36.213 Table
    7.1.7.2.1-1 gives 75376. Beyond 110 PRBs (or a negative count) it raises."""
    assert tbs_bits(26, 100) == 75376 and tbs_bits(26, 110) == 75376
    assert tbs_bits(0, 110) == 3112 and tbs_bits(13, 51) == 12960
    np.testing.assert_array_equal(tbs_bits([26, 26], [50, 100]), [36696, 75376])
    for bad in (111, -1):
        with pytest.raises(ValueError, match="n_prb"):
            tbs_bits(26, bad)
    with pytest.raises(ValueError, match="i_tbs"):
        tbs_bits(27, 10)


def ns3_get_mcs_from_cqi(cqi):
    """ns-3 ``LteAmc::GetMcsFromCqi`` (src/lte/model/lte-amc.cc) transcribed: the loop
    ``while mcs < 28 and SpectralEfficiencyForMcs[mcs + 1] <= SpectralEfficiencyForCqi[cqi]``
    over ns-3's 2-decimal tables."""
    eff_cqi = [0.0, 0.15, 0.23, 0.38, 0.6, 0.88, 1.18, 1.48, 1.91, 2.41, 2.73, 3.32, 3.9, 4.52,
               5.12, 5.55]
    eff_mcs = [0.15, 0.19, 0.23, 0.31, 0.38, 0.49, 0.6, 0.74, 0.88, 1.03, 1.18, 1.33, 1.48, 1.7,
               1.91, 2.16, 2.41, 2.57, 2.73, 3.03, 3.32, 3.61, 3.9, 4.21, 4.52, 4.82, 5.12, 5.33,
               5.55]
    mcs = 0
    while mcs < 28 and eff_mcs[mcs + 1] <= eff_cqi[cqi]:
        mcs += 1
    return mcs


def test_mcs_from_cqi_matches_ns3_regression():
    """Regression (issue 13): CQI 3, 5, 6, 7, 9, 14 mapped one MCS below ns-3 ([3, 7, 9, 11,
    15, 25] instead of [4, 8, 10, 12, 16, 26]). Now every CQI 1..15 maps as ns-3 does."""
    for cqi in range(1, 16):
        assert int(mcs_from_cqi(cqi)) == ns3_get_mcs_from_cqi(cqi), cqi
    assert mcs_from_cqi([3, 5, 6, 7, 9, 14]).tolist() == [4, 8, 10, 12, 16, 26]
    assert mcs_from_cqi(np.arange(1, 16)).tolist() == list(range(0, 29, 2))
