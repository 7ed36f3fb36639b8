"""Orbit propagation with sgp4's ``SatrecArray`` and constellation generators.

* SGP4 (Hoots & Roehrich 1980; Vallado et al., AIAA 2006-6753) in C through ``SatrecArray``:
  many satellites x many times in one call, TEME positions in km.
* ECEF tracks: TEME -> ECEF by GMST (:mod:`satellite.frames`). For fine time grids the orbit can
  be propagated on a coarse grid and filled in by cubic Hermite interpolation of the TEME
  positions and velocities (error < 1 m for LEO at 10 s steps).
* Walker-delta ``i: t/p/f`` constellations (Walker, *J. Br. Interplanet. Soc.* 24, 1971) and an
  ideal geostationary orbit are built with ``Satrec.sgp4init`` (WGS-72, no drag).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import scipy.sparse as sp
from sgp4.api import WGS72, Satrec, SatrecArray

from .frames import OMEGA_EARTH_RAD_S, gmst_rad, julian_date, teme_to_ecef, time_grid
from .tle import TLE, satrec_array

__all__ = [
    "MU_WGS72_KM3_S2",
    "R_WGS72_KM",
    "GEO_RADIUS_KM",
    "Constellation",
    "propagate_teme",
    "propagate_ecef",
    "hermite_weights",
    "walker_delta",
    "ideal_geo",
    "mean_motion_rad_min",
]

MU_WGS72_KM3_S2 = 398600.8
R_WGS72_KM = 6378.135
GEO_RADIUS_KM = 42164.0
_SGP4_EPOCH_JD = 2433281.5  # 1949-12-31 00:00 UT, the sgp4init epoch origin


@dataclass
class Constellation:
    """Satellites propagated together.

    Attributes:
        names: one per satellite.
        kind: ``"geo"`` or ``"leo"`` (``"meo"`` is treated like ``"leo"``).
        provider: network operator name (handover between providers costs most).
        satrecs: sgp4 records; ``array`` is their ``SatrecArray``.
    """

    names: list[str]
    kind: str
    provider: str
    satrecs: list[Satrec]
    array: SatrecArray = field(init=False, repr=False)

    def __post_init__(self):
        if self.kind not in ("geo", "leo", "meo"):
            raise ValueError(f"kind: must be 'geo', 'leo' or 'meo' (got {self.kind!r})")
        if len(self.names) != len(self.satrecs) or not self.satrecs:
            raise ValueError("names and satrecs must be non-empty and of equal length")
        self.array = satrec_array(self.satrecs)

    def __len__(self) -> int:
        return len(self.satrecs)

    @classmethod
    def from_tles(cls, tles: list[TLE], kind: str, provider: str) -> Constellation:
        return cls(
            [t.name or str(t.catalog) for t in tles], kind, provider, [t.satrec() for t in tles]
        )

    def ecef(self, epoch: datetime, t_s, coarse_step_s: float | None = None, dut1_s: float = 0.0):
        """ECEF positions ``(S, T, 3)`` km at ``t_s`` seconds after ``epoch``."""
        return propagate_ecef(self.array, epoch, t_s, coarse_step_s=coarse_step_s, dut1_s=dut1_s)


def propagate_teme(sats: SatrecArray, jd, fr):
    """SGP4 positions and velocities in TEME, ``(S, T, 3)`` km and km/s.

    Satellites that fail (decayed, eccentricity out of range) get NaN rows; their error codes
    are in the third return value ``(S, T)``.
    """
    err, r, v = sats.sgp4(np.asarray(jd, dtype=float), np.asarray(fr, dtype=float))
    bad = err != 0
    if bad.any():
        r[bad] = np.nan
        v[bad] = np.nan
    return r, v, err


def hermite_weights(t_s, step_s: float, n: int):
    """Sparse ``(T, 2n)`` matrix of cubic Hermite weights: row ``i`` maps the positions (first
    ``n`` columns) and velocities (last ``n``) at nodes ``0, step, ...`` to time ``t_s[i]``."""
    t = np.asarray(t_s, dtype=float)
    k = np.clip((t // step_s).astype(np.int64), 0, n - 2)
    s = t / step_s - k
    s2, s3 = s * s, s * s * s
    vals = np.stack(
        [2 * s3 - 3 * s2 + 1, (s3 - 2 * s2 + s) * step_s, -2 * s3 + 3 * s2, (s3 - s2) * step_s], 1
    )
    cols = np.stack([k, n + k, k + 1, n + k + 1], 1)
    rows = np.repeat(np.arange(t.size), 4)
    return sp.csr_matrix((vals.ravel(), (rows, cols.ravel())), shape=(t.size, 2 * n))


def propagate_ecef(
    sats: SatrecArray,
    epoch: datetime,
    t_s,
    coarse_step_s: float | None = None,
    dut1_s: float = 0.0,
):
    """ECEF positions ``(S, T, 3)`` km at ``t_s`` (s after ``epoch``, UTC).

    With ``coarse_step_s`` the orbit is propagated every ``coarse_step_s`` seconds from
    ``min(t_s)`` and interpolated by cubic Hermite splines of the TEME position and velocity
    (one sparse matrix product) before the rotation; the result is then a component-major
    view (``[..., k]`` slices are contiguous), which the look-angle code reads fastest.
    """
    t = np.asarray(t_s, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError("t_s must be a non-empty 1-D array of seconds")
    jd, fr = time_grid(epoch, t)
    theta = gmst_rad(jd, fr, dut1_s)
    if coarse_step_s is None or t.size < 4:
        r, _, _ = propagate_teme(sats, jd, fr)
        return teme_to_ecef(r, theta)
    if not coarse_step_s > 0:
        raise ValueError(f"coarse_step_s must be > 0 (got {coarse_step_s})")
    lo = float(t.min())
    n = max(2, int(math.ceil((float(t.max()) - lo) / coarse_step_s)) + 1)
    jdc, frc = time_grid(epoch, lo + coarse_step_s * np.arange(n))
    rc, vc, _ = propagate_teme(sats, jdc, frc)  # (S, n, 3)
    nodes = np.concatenate([rc.transpose(1, 2, 0), vc.transpose(1, 2, 0)]).reshape(2 * n, -1)
    r = (hermite_weights(t - lo, coarse_step_s, n) @ nodes).reshape(t.size, 3, -1)
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    x = r[:, 0] * c + r[:, 1] * s  # the GMST rotation of teme_to_ecef, in (T, 3, S) layout
    r[:, 1] = r[:, 1] * c - r[:, 0] * s
    r[:, 0] = x
    return r.transpose(2, 0, 1)


def mean_motion_rad_min(semi_major_km: float) -> float:
    """Keplerian mean motion ``sqrt(μ/a³)`` (WGS-72 μ) in rad/min."""
    if semi_major_km <= R_WGS72_KM:
        raise ValueError(f"semi-major axis must exceed the Earth radius (got {semi_major_km} km)")
    return math.sqrt(MU_WGS72_KM3_S2 / semi_major_km**3) * 60.0


def _init(satnum, epoch_jd, ecc, argp, inc, mo, no, raan) -> Satrec:
    s = Satrec()
    s.sgp4init(
        WGS72, "i", satnum, epoch_jd - _SGP4_EPOCH_JD, 0.0, 0.0, 0.0, ecc, argp, inc, mo, no, raan
    )
    if s.error:
        raise ValueError(f"sgp4init failed with error {s.error}")
    return s


def walker_delta(
    total: int,
    planes: int,
    phasing: int,
    inclination_deg: float,
    altitude_km: float,
    epoch: datetime,
    provider: str = "walker",
    raan0_deg: float = 0.0,
) -> Constellation:
    """Walker-delta ``i: t/p/f``: ``t`` circular orbits in ``p`` planes with RAANs spread over
    360°, ``t/p`` satellites per plane, and a phase offset ``f·360/t`` between planes."""
    if not (isinstance(total, int) and isinstance(planes, int) and total >= 1 and planes >= 1):
        raise ValueError(f"total and planes must be integers >= 1 (got {total}, {planes})")
    if total % planes:
        raise ValueError(f"total ({total}) must be a multiple of planes ({planes})")
    if not 0 <= phasing < planes:
        raise ValueError(f"phasing must be in 0..planes-1 (got {phasing})")
    if altitude_km <= 0:
        raise ValueError(f"altitude_km must be > 0 (got {altitude_km})")
    if not 0.0 <= inclination_deg <= 180.0:
        raise ValueError(f"inclination_deg must be in [0, 180] (got {inclination_deg})")
    per = total // planes
    no = mean_motion_rad_min(R_WGS72_KM + altitude_km)
    jd, fr = julian_date(epoch)
    recs, names = [], []
    for p in range(planes):
        raan = math.radians(raan0_deg + 360.0 * p / planes)
        for j in range(per):
            mo = math.radians((360.0 * j / per + 360.0 * phasing * p / total) % 360.0)
            recs.append(
                _init(len(recs) + 1, jd + fr, 0.0, 0.0, math.radians(inclination_deg), mo, no, raan)
            )
            names.append(f"{provider}-P{p:02d}S{j:02d}")
    return Constellation(names, "leo", provider, recs)


def ideal_geo(
    lon_deg: float, epoch: datetime, provider: str = "geo", name: str | None = None
) -> Constellation:
    """One satellite on a circular equatorial orbit that stays over ``lon_deg`` (WGS-72).

    The mean motion starts at the Earth's rotation rate ``n = ω⊕`` (7.292115e-5 rad/s, the
    sidereal rate, not the Keplerian ``sqrt(μ/a³)`` at 42,164 km, which ignores J2). SGP4/SDP4
    adds secular J2 and lunisolar rates and the 24-h resonance terms of a synchronous orbit to
    the mean longitude, so ``n`` and the mean anomaly are then corrected by a secant iteration
    (three propagations) until the sub-satellite longitude is ``lon_deg`` at the epoch and one
    sidereal day later. Residual excursions are the theory's periodic terms (< 0.002°/day)."""
    jd, fr = julian_date(epoch)
    theta = float(gmst_rad(jd, fr))
    omega = OMEGA_EARTH_RAD_S * 60.0  # rad/min
    day_min = 2.0 * math.pi / omega
    t = np.array([0.0, day_min * 60.0])

    def drift(no: float, mo: float) -> np.ndarray:
        rec = _init(1, jd + fr, 0.0, 0.0, 0.0, mo % (2.0 * math.pi), no, 0.0)
        r = propagate_ecef(SatrecArray([rec]), epoch, t)[0]
        lon = np.arctan2(r[:, 1], r[:, 0])
        return (lon - math.radians(lon_deg) + math.pi) % (2.0 * math.pi) - math.pi

    mo = math.radians(lon_deg) + theta
    mo -= drift(omega, mo)[0]
    no_a, d_a = omega, drift(omega, mo)[1]
    no_b = omega - d_a / day_min
    d_b = drift(no_b, mo)[1]
    no = no_b - d_b * (no_b - no_a) / (d_b - d_a) if d_b != d_a else no_b
    rec = _init(1, jd + fr, 0.0, 0.0, 0.0, mo % (2.0 * math.pi), no, 0.0)
    return Constellation([name or f"GEO {lon_deg:g}E"], "geo", provider, [rec])
