"""Downlink budget: free-space loss, atmosphere, rain, terminal scan loss and airframe
blockage, C/N0 and Es/N0.

* ``C/N0 = EIRP + G/T - FSPL - L_atm - L_point + 228.6`` dBHz (228.6 = -10·log10(k),
  Boltzmann) and ``Es/N0 = C/N0 - 10·log10(Rs)`` (e.g. Maral & Bousquet, *Satellite
  Communications Systems*, 5th ed., ch. 5). With co-channel interference,
  ``Es/(N0+I0) = -10·log10(10^(-Es/N0/10) + 10^(-C/I/10))``.
* FSPL ``20·log10(4π·d·f/c)`` (ITU-R P.525) via :func:`netsim.radio.fspl_db`.
* Gases and clouds, simple model (default): zenith attenuation of an oxygen and a water-vapour
  layer with scale heights 6 km and 2 km above the terminal, scaled by the cosecant of the
  elevation (ITU-R P.676-13 Annex 2 §2.2 for elevations >= 5°; here clamped at 5°). The
  zenith values default to P.676 at 19.7 GHz for the mean annual reference atmosphere
  (dry 0.06 dB, water vapour 7.5 g/m³ 0.17 dB) plus a light cloud (P.840, 0.3 kg/m²,
  0.10 dB).
* Rain: specific attenuation ``γ = k·R^α`` dB/km with ITU-R P.838-3 coefficients (table at
  10-30 GHz, log-log interpolation, circular polarisation: ``k = (kH + kV)/2``,
  ``α = (kH·αH + kV·αV)/(2k)``).
* ``itur`` (optional extra): P.618/P.676/P.840 gas and cloud attenuation exceeded ``p`` % of
  the time, cached per 1° cell and 1° elevation (rain stays with the rain cells).
* Phased-array scan loss ``-10·log10(cos^n θ)`` with ``n`` = 1.2 and a scan limit (beyond it,
  or with the line of sight below the fuselage, the link is blocked). The off-boresight angle
  follows from the aircraft attitude (yaw-pitch-roll, aerospace 3-2-1 sequence).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from netsim.radio import BOLTZMANN_DBW_K_HZ, fspl_db

__all__ = [
    "K_DB",
    "LinkParams",
    "TerminalParams",
    "free_space_loss_db",
    "cn0_dbhz",
    "esn0_db",
    "add_interference_db",
    "gas_loss_db",
    "rain_coefficients",
    "rain_specific_attenuation_db_km",
    "off_boresight_deg",
    "scan_loss_db",
    "itur_loss_db",
]

#: -10·log10(Boltzmann constant) = 228.6 dB(K·Hz/W)
K_DB = -BOLTZMANN_DBW_K_HZ


@dataclass(frozen=True)
class LinkParams:
    """Forward-link parameters of one provider (typical Ka-band HTS values as defaults).

    ``eirp_dbw`` is the beam-peak EIRP, ``gt_dbk`` the terminal G/T at boresight,
    ``symbol_rate_hz`` the carrier symbol rate, ``fixed_loss_db`` pointing + radome losses.
    """

    eirp_dbw: float = 61.0
    gt_dbk: float = 13.0
    freq_hz: float = 19.7e9
    symbol_rate_hz: float = 100e6
    fixed_loss_db: float = 1.0


@dataclass(frozen=True)
class TerminalParams:
    """Aircraft terminal: top-of-fuselage phased array.

    ``scan_exponent`` n of the ``cos^n`` scan loss; ``max_scan_deg`` scan limit off
    boresight (beyond it: blocked); ``min_body_elevation_deg`` fuselage/tail blockage.
    """

    scan_exponent: float = 1.2
    max_scan_deg: float = 70.0
    min_body_elevation_deg: float = 0.0


def free_space_loss_db(range_km, freq_hz):
    """FSPL ``20·log10(4π·d·f/c)`` (dB) for a slant range in km."""
    return fspl_db(np.asarray(range_km, dtype=float) * 1e3, freq_hz)


def cn0_dbhz(eirp_dbw, gt_dbk, path_loss_db, other_losses_db=0.0):
    """``C/N0 = EIRP + G/T - FSPL - L + 228.6`` in dBHz."""
    return (
        np.asarray(eirp_dbw)
        + np.asarray(gt_dbk)
        - np.asarray(path_loss_db)
        - np.asarray(other_losses_db)
        + K_DB
    )


def esn0_db(cn0, symbol_rate_hz):
    """``Es/N0 = C/N0 - 10·log10(Rs)`` in dB."""
    rs = np.asarray(symbol_rate_hz, dtype=float)
    if np.any(rs <= 0):
        raise ValueError("symbol_rate_hz must be > 0")
    return np.asarray(cn0, dtype=float) - 10.0 * np.log10(rs)


def add_interference_db(esn0, ci_db):
    """Es/(N0 + I0) in dB from Es/N0 and C/I (both dB)."""
    return -10.0 * np.log10(
        np.power(10.0, -np.asarray(esn0) / 10.0) + np.power(10.0, -np.asarray(ci_db) / 10.0)
    )


def gas_loss_db(
    el_deg,
    alt_m,
    zenith_oxygen_db: float = 0.06,
    zenith_water_db: float = 0.17,
    zenith_cloud_db: float = 0.10,
):
    """Gaseous + cloud attenuation (dB): ``(A_O·e^(-h/6 km) + (A_W + A_C)·e^(-h/2 km)) /
    sin(max(el, 5°))`` for a terminal at height ``h``."""
    h = np.maximum(np.asarray(alt_m, dtype=float), 0.0) / 1000.0
    zen = zenith_oxygen_db * np.exp(-h / 6.0) + (zenith_water_db + zenith_cloud_db) * np.exp(
        -h / 2.0
    )
    return zen / np.sin(np.radians(np.maximum(np.asarray(el_deg, dtype=float), 5.0)))


# ITU-R P.838-3 Table 5 (frequency GHz, kH, αH, kV, αV)
_P838 = np.array(
    [
        [10.0, 0.01217, 1.2571, 0.01129, 1.2156],
        [12.0, 0.02386, 1.1825, 0.02455, 1.1216],
        [15.0, 0.04481, 1.1233, 0.05008, 1.0440],
        [20.0, 0.09164, 1.0568, 0.09611, 0.9847],
        [25.0, 0.1571, 0.9991, 0.1533, 0.9491],
        [30.0, 0.2403, 0.9485, 0.2291, 0.9129],
    ]
)


def rain_coefficients(freq_hz: float, polarisation: str = "circular") -> tuple[float, float]:
    """``(k, α)`` of ``γ = k·R^α`` (ITU-R P.838-3), log-log interpolated in frequency."""
    f = freq_hz / 1e9
    if not _P838[0, 0] <= f <= _P838[-1, 0]:
        raise ValueError(f"freq_hz: rain model tabulated for 10-30 GHz (got {f:g} GHz)")
    lf = np.log10(_P838[:, 0])
    kh = 10 ** np.interp(math.log10(f), lf, np.log10(_P838[:, 1]))
    kv = 10 ** np.interp(math.log10(f), lf, np.log10(_P838[:, 3]))
    ah = float(np.interp(math.log10(f), lf, _P838[:, 2]))
    av = float(np.interp(math.log10(f), lf, _P838[:, 4]))
    if polarisation == "horizontal":
        return float(kh), ah
    if polarisation == "vertical":
        return float(kv), av
    if polarisation != "circular":
        raise ValueError(
            f"polarisation: unknown {polarisation!r} (allowed: circular, horizontal, vertical)"
        )
    k = (kh + kv) / 2.0
    return float(k), float((kh * ah + kv * av) / (2.0 * k))


def rain_specific_attenuation_db_km(rain_mmh, freq_hz: float, polarisation: str = "circular"):
    """``γ = k·R^α`` (dB/km) for rain rates in mm/h."""
    k, a = rain_coefficients(freq_hz, polarisation)
    return k * np.power(np.maximum(np.asarray(rain_mmh, dtype=float), 0.0), a)


def off_boresight_deg(el_deg, az_deg, heading_deg, pitch_deg, roll_deg):
    """Angle between the line of sight and the body-up axis of a top-mounted antenna (deg).

    The ENU line of sight is rotated into the body frame (x forward, y right, z down) by
    yaw ψ, pitch θ, roll φ:
    ``cos = -b_z = -[sφ·sψ + cφ·sθ·cψ, -sφ·cψ + cφ·sθ·sψ, cφ·cθ]·(n, e, d)``.
    Level flight gives ``90° - el``.
    """
    el, az = np.radians(el_deg), np.radians(az_deg)
    psi, th, ph = np.radians(heading_deg), np.radians(pitch_deg), np.radians(roll_deg)
    n, e, d = np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), -np.sin(el)
    sps, cps, sth, cth, sph, cph = (
        np.sin(psi),
        np.cos(psi),
        np.sin(th),
        np.cos(th),
        np.sin(ph),
        np.cos(ph),
    )
    bz = (sph * sps + cph * sth * cps) * n + (-sph * cps + cph * sth * sps) * e + cph * cth * d
    return np.degrees(np.arccos(np.clip(-bz, -1.0, 1.0)))


def scan_loss_db(off_boresight, terminal: TerminalParams = TerminalParams()):
    """Scan loss ``-10·log10(cos^n θ)`` (dB); ``inf`` beyond the scan limit or below the
    fuselage horizon (blocked)."""
    th = np.asarray(off_boresight, dtype=float)
    limit = min(terminal.max_scan_deg, 90.0 - terminal.min_body_elevation_deg)
    c = np.cos(np.radians(np.minimum(th, 89.9)))
    with np.errstate(invalid="ignore"):  # NaN angle (no link) -> inf like a blocked one
        return np.where(th <= limit, -10.0 * terminal.scan_exponent * np.log10(c), np.inf)


@functools.lru_cache(maxsize=4096)
def _itur_cell(lat: int, lon: int, el: int, freq_ghz: float, p: float, diameter_m: float) -> tuple:
    import itur  # optional extra: pip install netsim[itur]

    parts = itur.atmospheric_attenuation_slant_path(
        lat + 0.5, lon + 0.5, freq_ghz, max(el, 5) + 0.5, p, diameter_m, return_contributions=True
    )
    return tuple(float(x.value) for x in parts)  # gas, cloud, rain, scintillation, total


def itur_loss_db(
    lat_deg,
    lon_deg,
    el_deg,
    freq_hz: float,
    p_percent: float = 1.0,
    diameter_m: float = 0.6,
    include_rain: bool = False,
):
    """Atmospheric attenuation (dB) exceeded ``p`` % of an average year from ITU-R P.618-13
    (gases P.676, clouds P.840, rain P.838/P.839, scintillation) via the ``itur`` package,
    looked up per 1° lat/lon cell and 1° of elevation and cached. By default only gases and
    clouds (rain comes from the moving rain cells and scintillation from the AR(1) model);
    ``include_rain`` adds the P.618 rain attenuation. Raises ImportError with a hint if
    ``itur`` is missing."""
    try:
        import itur  # noqa: F401
    except ImportError:
        raise ImportError(
            "atmosphere='itur' needs the optional extra: pip install 'netsim[itur]'"
        ) from None
    lat = np.floor(np.asarray(lat_deg, dtype=float)).astype(int)
    lon = np.floor(np.asarray(lon_deg, dtype=float)).astype(int)
    el = np.floor(np.asarray(el_deg, dtype=float)).astype(int)
    keys = np.stack(np.broadcast_arrays(lat, lon, el), -1).reshape(-1, 3)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    f_ghz = freq_hz / 1e9
    cells = [_itur_cell(int(a), int(b), int(c), f_ghz, p_percent, diameter_m) for a, b, c in uniq]
    vals = np.array([g + c + (r if include_rain else 0.0) for g, c, r, _, _ in cells])
    return vals[inv.ravel()].reshape(np.broadcast(lat, lon, el).shape)
