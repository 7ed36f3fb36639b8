"""3GPP TR 38.901 UMi street-canyon path loss against independent spot values.

Oracle: the ns-3 test suite of ``ThreeGppUmiStreetCanyonPropagationLossModel``
(nsnam/ns-3-dev-git, src/propagation/test/three-gpp-propagation-loss-model-test-suite.cc):
f_c = 5 GHz, h_BS = 10 m, h_UT = 1.5 m, shadowing off, received power for 0 dBm transmitted,
tolerance 0.05 dB; these implement TR 38.901 Table 7.4.1-1.
"""

import numpy as np
import pytest

from ran.comp import pathloss as pl

NS3_LOS = {10.0: 69.8591, 100.0: 88.4122, 1000.0: 119.3114, 5000.0: 147.2696}
NS3_NLOS = {10.0: 76.7563, 100.0: 107.9432, 1000.0: 143.1886, 5000.0: 167.8617}


@pytest.mark.parametrize(("d", "expected"), sorted(NS3_LOS.items()))
def test_los_matches_ns3_spot_values(d, expected):
    assert pl.umi_los_db(d, 5e9) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize(("d", "expected"), sorted(NS3_NLOS.items()))
def test_nlos_matches_ns3_spot_values(d, expected):
    assert pl.umi_nlos_db(d, 5e9) == pytest.approx(expected, abs=1e-3)


def test_breakpoint_distance_table_note():
    """d'_BP = 4 (h_BS - 1)(h_UT - 1) f_c / c with c = 3e8: 4*9*0.5*5e9/3e8 = 300 m."""
    assert pl.breakpoint_distance_m(5e9) == pytest.approx(300.0)
    # the two LOS branches meet at the breakpoint (PL1 = PL2 there: continuity of the table)
    d = pl.breakpoint_distance_m(3.5e9)
    assert pl.umi_los_db(d * (1 - 1e-9), 3.5e9) == pytest.approx(
        pl.umi_los_db(d * (1 + 1e-9), 3.5e9), abs=0.01
    )


def test_hand_computed_3p5ghz_value():
    """PL1 at d2D = 100 m, 3.5 GHz: 32.4 + 21 log10(sqrt(100² + 8.5²)) + 20 log10(3.5)."""
    d3 = np.hypot(100.0, 8.5)
    assert pl.umi_los_db(100.0, 3.5e9) == pytest.approx(
        32.4 + 21 * np.log10(d3) + 20 * np.log10(3.5)
    )


def test_nlos_never_below_los_and_drop_size():
    d = np.linspace(10, 2000, 400)
    los, nlos = pl.umi_los_db(d, 3.5e9), pl.umi_nlos_db(d, 3.5e9)
    assert np.all(nlos >= los)
    # the LoS -> NLoS step at 100-200 m is the 15-25 dB "sudden drop" of a corner
    step = pl.umi_nlos_db(150.0, 3.5e9) - pl.umi_los_db(150.0, 3.5e9)
    assert 15.0 < step < 25.0


def test_dispatch_and_free_space():
    d, los = np.array([50.0, 50.0]), np.array([True, False])
    out = pl.pathloss_db("umi_street_canyon", d, los, 3.5e9)
    assert out[0] == pytest.approx(pl.umi_los_db(50.0, 3.5e9))
    assert out[1] == pytest.approx(pl.umi_nlos_db(50.0, 3.5e9))
    opt = pl.pathloss_db("umi_street_canyon_optional", d, los, 3.5e9)
    assert opt[1] == pytest.approx(32.4 + 20 * np.log10(3.5) + 31.9 * np.log10(np.hypot(50, 8.5)))
    fs = pl.pathloss_db("free_space", d, los, 3.5e9)
    assert fs[0] == fs[1]


def test_unknown_model_rejected():
    with pytest.raises(ValueError, match="unknown model 'cost231'"):
        pl.pathloss_db("cost231", 100.0, True, 3.5e9)
    with pytest.raises(ValueError, match="pathloss_model"):
        pl.shadowing_sigma_db("nope", True)


def test_shadowing_sigmas_and_gudmundson_process():
    assert pl.shadowing_sigma_db("umi_street_canyon", [True, False]).tolist() == [4.0, 7.82]
    rng = np.random.default_rng(3)
    z = rng.standard_normal(200_000)
    step = 1.0
    z1 = pl.gudmundson_step(z, step, 10.0, rng.standard_normal(z.size))
    # stationary unit variance and lag correlation exp(-Δd/d_corr)
    assert np.var(z1) == pytest.approx(1.0, abs=0.02)
    assert np.corrcoef(z, z1)[0, 1] == pytest.approx(np.exp(-0.1), abs=0.01)
