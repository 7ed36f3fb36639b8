"""Reference frames and look angles, all vectorised (numpy arrays in, arrays out).

* Time: Julian dates split as ``(jd, fr)`` (whole and fraction, UTC) as sgp4 expects.
* TEME -> ECEF (pseudo Earth-fixed) by the GMST 1982 rotation (Vallado et al., AIAA 2006-6753,
  App. C; polar motion ignored, < 15 m). ``dut1_s`` = UT1 - UTC may be given (|dut1| < 0.9 s).
* WGS-84 geodetic <-> ECEF (NIMA TR8350.2); the inverse by Bowring's method with two
  iterations (sub-millimetre for altitudes from -1 km to GEO).
* Look angles: elevation, azimuth (from north, clockwise) and slant range in the local
  east-north-up frame of the geodetic normal. No refraction.

Units: km for positions, degrees for angles, metres for altitudes (``alt_m``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

__all__ = [
    "WGS84_A_KM",
    "WGS84_F",
    "WGS84_E2",
    "OMEGA_EARTH_RAD_S",
    "julian_date",
    "time_grid",
    "gmst_rad",
    "teme_to_ecef",
    "geodetic_to_ecef",
    "ecef_to_geodetic",
    "enu_basis",
    "look_angles",
]

WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)
#: Earth rotation rate (IERS), rad/s
OMEGA_EARTH_RAD_S = 7.292115e-5
_DAY_S = 86400.0


def julian_date(when: datetime) -> tuple[float, float]:
    """``(jd, fr)`` of a UTC datetime: jd is the Julian date at the preceding midnight
    (x.5) and fr the day fraction (Meeus, *Astronomical Algorithms*, ch. 7)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    y, m = when.year, when.month
    if m <= 2:
        y, m = y - 1, m + 12
    a = y // 100
    b = 2 - a + a // 4
    jd = int(365.25 * (y + 4716)) + int(30.6001 * (m + 1)) + when.day + b - 1524.5
    fr = (when.hour * 3600 + when.minute * 60 + when.second + when.microsecond * 1e-6) / _DAY_S
    return float(jd), fr


def time_grid(epoch: datetime, t_s) -> tuple[np.ndarray, np.ndarray]:
    """``(jd, fr)`` arrays for times ``t_s`` (s) after ``epoch`` (fr may exceed 1; sgp4 accepts
    it, and keeping jd constant avoids float rounding of large Julian dates)."""
    jd0, fr0 = julian_date(epoch)
    t = np.asarray(t_s, dtype=float)
    return np.full(t.shape, jd0), fr0 + t / _DAY_S


def gmst_rad(jd, fr, dut1_s: float = 0.0):
    """Greenwich mean sidereal time (IAU 1982, Vallado ``gstime``) in radians, [0, 2π).

    ``jd + fr`` is UTC; UT1 = UTC + ``dut1_s``.
    """
    jd = np.asarray(jd, dtype=float)
    fr = np.asarray(fr, dtype=float) + dut1_s / _DAY_S
    t = (jd - 2451545.0 + fr) / 36525.0
    g = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * t) * t) * t
    return ((jd % 1.0) + fr + (g / _DAY_S) % 1.0) % 1.0 * (2.0 * np.pi)


def teme_to_ecef(r_teme_km, theta_rad):
    """Rotate TEME vectors ``(..., T, 3)`` about z by GMST ``theta_rad`` ``(T,)`` into ECEF."""
    r = np.asarray(r_teme_km, dtype=float)
    c, s = np.cos(theta_rad), np.sin(theta_rad)
    out = np.empty_like(r)  # keeps the memory layout of r (component-major stays so)
    out[..., 0] = c * r[..., 0] + s * r[..., 1]
    out[..., 1] = -s * r[..., 0] + c * r[..., 1]
    out[..., 2] = r[..., 2]
    return out


def geodetic_to_ecef(lat_deg, lon_deg, alt_m):
    """WGS-84 geodetic latitude, longitude (deg) and height (m) -> ECEF ``(..., 3)`` km."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    h = np.asarray(alt_m, dtype=float) / 1000.0
    sl, cl = np.sin(lat), np.cos(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sl * sl)
    x = (n + h) * cl * np.cos(lon)
    y = (n + h) * cl * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * sl
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(r_km):
    """ECEF ``(..., 3)`` km -> (lat_deg, lon_deg, alt_m) on WGS-84 (Bowring, 2 iterations)."""
    r = np.asarray(r_km, dtype=float)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    p = np.hypot(x, y)
    ep2 = WGS84_E2 / (1.0 - WGS84_E2)
    beta = np.arctan2(z * WGS84_A_KM, p * WGS84_B_KM)
    for _ in range(2):
        lat = np.arctan2(
            z + ep2 * WGS84_B_KM * np.sin(beta) ** 3, p - WGS84_E2 * WGS84_A_KM * np.cos(beta) ** 3
        )
        beta = np.arctan2((1.0 - WGS84_F) * np.sin(lat), np.cos(lat))
    sl = np.sin(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sl * sl)
    # height along the normal, well conditioned at all latitudes
    h = p * np.cos(lat) + z * sl - WGS84_A_KM * WGS84_A_KM / n
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), h * 1000.0


def enu_basis(lat_deg, lon_deg):
    """Unit east, north, up vectors ``(..., 3)`` each, for geodetic lat/lon (deg)."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl * so)
    east = np.stack(np.broadcast_arrays(-so, co, zero), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return east, north, up


def look_angles(sat_ecef_km, obs_lat_deg, obs_lon_deg, obs_alt_m):
    """Elevation, azimuth (deg, from north through east, [0, 360)) and range (km) of
    satellites ``(..., T, 3)`` seen from observer positions (broadcastable to ``(T,)``).

    ``sin(el) = d·u/|d|`` and ``az = atan2(d·e, d·n)`` with ``d`` the satellite-minus-observer
    ECEF vector and ``(e, n, u)`` the observer's east-north-up unit vectors.
    """
    sat = np.asarray(sat_ecef_km, dtype=float)
    obs = geodetic_to_ecef(obs_lat_deg, obs_lon_deg, obs_alt_m)
    e, n, u = enu_basis(obs_lat_deg, obs_lon_deg)
    dx = sat[..., 0] - obs[..., 0]
    dy = sat[..., 1] - obs[..., 1]
    dz = sat[..., 2] - obs[..., 2]
    de = e[..., 0] * dx + e[..., 1] * dy
    dn = n[..., 0] * dx + n[..., 1] * dy + n[..., 2] * dz
    du = u[..., 0] * dx + u[..., 1] * dy + u[..., 2] * dz
    rng = np.sqrt(de * de + dn * dn + du * du)
    el = np.degrees(np.arcsin(np.clip(du / rng, -1.0, 1.0)))
    az = np.degrees(np.arctan2(de, dn)) % 360.0
    return el, az, rng
