"""Radio helpers against hand values (ITU-R P.525 FSPL, kTB noise, Shannon)."""

import numpy as np
import pytest

from netsim import radio


def test_fspl_spot_values():
    # 35,786 km at 20 GHz: 209.54 dB; 1 km at 2.4 GHz: 100.05 dB
    assert radio.fspl_db(35_786e3, 20e9) == pytest.approx(209.54, abs=0.01)
    assert radio.fspl_db(1e3, 2.4e9) == pytest.approx(100.05, abs=0.01)


def test_thermal_noise():
    assert radio.thermal_noise_dbm(1.0) == pytest.approx(-173.98, abs=0.01)
    assert radio.thermal_noise_dbm(10e6, noise_figure_db=9) == pytest.approx(-94.98, abs=0.01)
    assert radio.BOLTZMANN_DBW_K_HZ == pytest.approx(-228.6, abs=0.01)


def test_db_round_trip_vectorised():
    x = np.array([-30.0, 0.0, 17.5])
    assert np.allclose(radio.linear_to_db(radio.db_to_linear(x)), x)
    assert radio.watt_to_dbm(1.0) == pytest.approx(30.0)
    assert radio.dbm_to_watt(0.0) == pytest.approx(1e-3)


def test_shannon():
    assert radio.shannon_rate_bps(1e6, 1.0) == pytest.approx(1e6)
    assert radio.shannon_rate_bps(1e6, 3.0, gap_db=10 * np.log10(3)) == pytest.approx(1e6)


def test_bad_inputs():
    with pytest.raises(ValueError):
        radio.fspl_db(0.0, 1e9)
    with pytest.raises(ValueError):
        radio.thermal_noise_dbm(-1.0)
    with pytest.raises(ValueError):
        radio.linear_to_db(0.0)
