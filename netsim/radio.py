"""Radio helpers: pure, vectorised functions (numpy arrays in, arrays out).

Units are in the names: ``_db``, ``_dbm``, ``_w``, ``_hz``, ``_m``, ``_bps``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SPEED_OF_LIGHT_M_S",
    "BOLTZMANN_J_K",
    "BOLTZMANN_DBW_K_HZ",
    "db_to_linear",
    "linear_to_db",
    "dbm_to_watt",
    "watt_to_dbm",
    "thermal_noise_dbm",
    "fspl_db",
    "shannon_rate_bps",
    "sinr_linear",
]

SPEED_OF_LIGHT_M_S = 299_792_458.0
BOLTZMANN_J_K = 1.380649e-23
#: 10·log10(k) = -228.6 dBW/K/Hz
BOLTZMANN_DBW_K_HZ = float(10.0 * np.log10(BOLTZMANN_J_K))


def db_to_linear(x_db):
    """``10^(x/10)``."""
    return np.power(10.0, np.asarray(x_db, dtype=float) / 10.0)


def linear_to_db(x):
    """``10·log10(x)``; x must be > 0."""
    x = np.asarray(x, dtype=float)
    if np.any(x <= 0):
        raise ValueError("linear_to_db needs positive values")
    return 10.0 * np.log10(x)


def dbm_to_watt(p_dbm):
    """``10^((P_dBm - 30)/10)`` W."""
    return db_to_linear(np.asarray(p_dbm, dtype=float) - 30.0)


def watt_to_dbm(p_w):
    """``10·log10(P_W) + 30`` dBm."""
    return linear_to_db(p_w) + 30.0


def thermal_noise_dbm(bandwidth_hz, noise_figure_db=0.0, temperature_k=290.0):
    """Noise power ``10·log10(k·T·B) + 30 + NF`` in dBm (-174 dBm/Hz at 290 K)."""
    b = np.asarray(bandwidth_hz, dtype=float)
    if np.any(b <= 0) or np.any(np.asarray(temperature_k) <= 0):
        raise ValueError("bandwidth and temperature must be positive")
    return 10.0 * np.log10(BOLTZMANN_J_K * np.asarray(temperature_k) * b) + 30.0 + noise_figure_db


def fspl_db(distance_m, freq_hz):
    """Free-space path loss ``20·log10(4π·d·f/c)`` in dB (Friis; ITU-R P.525)."""
    d = np.asarray(distance_m, dtype=float)
    f = np.asarray(freq_hz, dtype=float)
    if np.any(d <= 0) or np.any(f <= 0):
        raise ValueError("distance and frequency must be positive")
    return 20.0 * np.log10(4.0 * np.pi * d * f / SPEED_OF_LIGHT_M_S)


def shannon_rate_bps(bandwidth_hz, snr_linear, gap_db=0.0):
    """``B·log2(1 + SNR/Γ)`` in bit/s, with an SNR gap Γ (0 dB = capacity)."""
    snr = np.asarray(snr_linear, dtype=float)
    if np.any(snr < 0):
        raise ValueError("SNR must be non-negative")
    return np.asarray(bandwidth_hz, dtype=float) * np.log2(1.0 + snr / db_to_linear(gap_db))


def sinr_linear(signal_w, interference_w, noise_w):
    """``S / (I + N)``."""
    return np.asarray(signal_w, dtype=float) / (
        np.asarray(interference_w, dtype=float) + np.asarray(noise_w, dtype=float)
    )
