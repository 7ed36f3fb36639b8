"""Link budget oracles (issue 7) and the propagation models."""

import numpy as np
import pytest

from satellite.dvbs2 import modcod_table, select_modcod
from satellite.linkbudget import (
    TerminalParams,
    cn0_dbhz,
    esn0_db,
    free_space_loss_db,
    gas_loss_db,
    off_boresight_deg,
    rain_coefficients,
    rain_specific_attenuation_db_km,
    scan_loss_db,
)


def test_fspl_oracle():
    """FSPL 20·log10(4πdf/c): 35,786 km at 20 GHz = 209.54 dB."""
    assert round(float(free_space_loss_db(35786.0, 20e9)), 2) == 209.54


def test_link_budget_oracle_selects_qpsk_34():
    """EIRP 55 dBW, G/T 12 dB/K, 38,000 km at 19.7 GHz (FSPL 209.93 dB), 1 dB loss, 100 Msym/s:
    C/N0 = 84.67 dBHz, Es/N0 = 4.67 dB -> QPSK 3/4 (4.03 dB), not QPSK 4/5 (4.68 dB)."""
    fspl = free_space_loss_db(38000.0, 19.7e9)
    assert round(float(fspl), 2) == 209.93
    cn0 = cn0_dbhz(55.0, 12.0, fspl, 1.0)
    es = esn0_db(cn0, 100e6)
    assert round(float(cn0), 2) == 84.67 and round(float(es), 2) == 4.67
    assert modcod_table()[int(select_modcod(es))].name == "QPSK 3/4"


def test_rain_coefficients_reproduce_p838_table_and_circular_mix():
    """ITU-R P.838-3 at 20 GHz: kH 0.09164, αH 1.0568, kV 0.09611, αV 0.9847."""
    assert rain_coefficients(20e9, "horizontal") == pytest.approx((0.09164, 1.0568), rel=1e-6)
    assert rain_coefficients(20e9, "vertical") == pytest.approx((0.09611, 0.9847), rel=1e-6)
    k, a = rain_coefficients(20e9)
    assert k == pytest.approx((0.09164 + 0.09611) / 2)
    assert a == pytest.approx((0.09164 * 1.0568 + 0.09611 * 0.9847) / (2 * k))
    assert rain_specific_attenuation_db_km(0.0, 20e9) == 0.0
    with pytest.raises(ValueError, match="10-30 GHz"):
        rain_coefficients(40e9)


def test_rain_coefficients_against_itur_between_table_points():
    itu838 = pytest.importorskip("itur.models.itu838")
    for f in (11.7, 17.7, 19.7, 27.5):
        k_ref, a_ref = itu838.rain_specific_attenuation_coefficients(f, 0.0, 45.0)
        k, a = rain_coefficients(f * 1e9)
        assert k == pytest.approx(float(k_ref), rel=0.03) and a == pytest.approx(
            float(a_ref), abs=0.01
        )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gas_model_zenith_against_itur_p676():
    itu676 = pytest.importorskip("itur.models.itu676")
    ref = float(
        itu676.gaseous_attenuation_slant_path(
            19.7, 90.0, 7.5, 1013.25, 288.15, 1, mode="approx"
        ).value
    )
    mine = float(gas_loss_db(90.0, 0.0, zenith_cloud_db=0.0))
    assert mine == pytest.approx(ref, abs=0.01)
    # cosecant law and decay with altitude
    assert gas_loss_db(30.0, 0.0) == pytest.approx(2 * gas_loss_db(90.0, 0.0))
    assert gas_loss_db(30.0, 11000.0) < 0.2 * gas_loss_db(30.0, 0.0)


def test_off_boresight_and_scan_loss():
    # level flight: off-boresight = 90° - elevation, whatever the heading
    assert np.allclose(off_boresight_deg(35.0, [0, 90, 200], [10, 250, 80], 0.0, 0.0), 55.0)
    # banking 20° towards a satellite abeam on the right raises it by 20°, away lowers it
    assert off_boresight_deg(30.0, 90.0, 0.0, 0.0, 20.0) == pytest.approx(40.0)
    assert off_boresight_deg(30.0, 90.0, 0.0, 0.0, -20.0) == pytest.approx(80.0)
    term = TerminalParams(scan_exponent=1.2, max_scan_deg=70.0)
    assert scan_loss_db(0.0, term) == pytest.approx(0.0)
    assert scan_loss_db(60.0, term) == pytest.approx(12.0 * np.log10(2.0))
    assert np.isinf(scan_loss_db(70.5, term))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_itur_lookup_is_cached_per_region_and_grows_at_low_elevation():
    pytest.importorskip("itur")
    import time

    from satellite.linkbudget import itur_loss_db

    lat = np.array([48.2, 48.7, 48.2])
    lon = np.array([11.3, 11.6, 11.3])
    el = np.array([35.2, 35.9, 12.0])
    a = itur_loss_db(lat, lon, el, 19.7e9)
    t0 = time.perf_counter()
    b = itur_loss_db(lat, lon, el, 19.7e9)
    assert time.perf_counter() - t0 < 0.1  # served from the per-cell cache
    assert np.array_equal(a, b) and a[0] == a[1]  # same 1° cell and elevation bin
    assert 0.0 < a[0] < a[2] < 10.0
    assert np.all(itur_loss_db(lat, lon, el, 19.7e9, include_rain=True) > a)
