"""Spot beams: hexagonal beam layouts, antenna patterns, off-axis angles and co-channel
interference.

* Patterns (gain relative to the peak, dB; ``θ`` off-axis, ``θ3dB`` the full half-power
  beamwidth):
  - ``"bessel"``: uniformly illuminated circular aperture, ``G = (2·J1(u)/u)²`` with
    ``u = 1.6162·sin θ / sin(θ3dB/2)`` (3GPP TR 38.811 §6.4.1), floored at -50 dB
    (first sidelobe -17.6 dB).
  - ``"tapered"``: the multibeam HTS pattern of Caini et al. (*IEEE JSAC* 10(8), 1992),
    ``G = (J1(u)/(2u) + 36·J3(u)/u³)²`` with ``u = 2.07123·sin θ / sin(θ3dB/2)``, a
    tapered-illumination Bessel roll-off with its first sidelobe at -34.7 dB; floored at -50 dB.
  - ``"s672"``: ITU-R S.672-4 Annex 1 reference pattern for GEO satellite antennas with
    ``L_s = -20`` dB (``a = 2.58``, ``b = 6.32``): ``-3·(θ/θ0)²`` for ``θ <= a·θ0``, ``L_s``
    to ``b·θ0``, then ``L_s + 20 - 25·log10(θ/θ0)``, floored at ``-G_max`` (0 dBi), with
    ``θ0 = θ3dB/2``.
* Layouts: GEO high-throughput-satellite (HTS) beams on a hexagonal lattice of pointing
  directions (the ``netsim.topology.hex_grid`` layout in degrees, as seen from the satellite)
  projected onto the WGS-84 ellipsoid; LEO earth-fixed cells on an unbounded hexagonal
  lattice on the ground (:class:`CellGrid`), each satellite pointing a beam at the centre of
  the terminal's cell. Four-colour frequency/polarisation reuse: colour
  ``(q mod 2) + 2·(r mod 2)`` of the
  axial lattice coordinates, so adjacent beams never share a colour.
* Co-channel interference: ``C/I = G_s / Σ_j G_j`` over the other beams of the serving beam's
  colour (equal EIRP per beam).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import j1, jv

from netsim.topology import hex_grid

from .frames import WGS84_A_KM, WGS84_B_KM, ecef_to_geodetic, geodetic_to_ecef
from .orbits import GEO_RADIUS_KM

__all__ = [
    "PATTERNS",
    "pattern_gain_db",
    "BeamLayout",
    "geo_hex_beams",
    "CellGrid",
    "off_axis_deg",
    "cos_off_axis",
    "interference_db",
]

PATTERNS = ("bessel", "tapered", "s672")
_BESSEL_HALF_POWER_U = 1.616340  # 2·J1(u)/u = 1/√2
_TAPERED_HALF_POWER_U = 2.07123


def pattern_gain_db(
    theta_deg, theta3db_deg: float, pattern: str = "bessel", peak_gain_dbi: float = 45.0
):
    """Antenna gain relative to the peak (dB, <= 0) at off-axis angles ``theta_deg``."""
    if pattern not in PATTERNS:
        raise ValueError(
            f"pattern: unknown antenna pattern {pattern!r} (allowed: {', '.join(PATTERNS)})"
        )
    if not theta3db_deg > 0:
        raise ValueError(f"theta3db_deg: must be > 0 (got {theta3db_deg})")
    th = np.abs(np.asarray(theta_deg, dtype=float))
    if pattern in ("bessel", "tapered"):
        scale = _BESSEL_HALF_POWER_U if pattern == "bessel" else _TAPERED_HALF_POWER_U
        u = scale * np.sin(np.radians(th)) / math.sin(math.radians(theta3db_deg / 2))
        grid, table = _bessel_table(pattern)
        return np.interp(u, grid, table, right=table[-1])
    x = th / (theta3db_deg / 2.0)
    ls, a, b = -20.0, 2.58, 6.32
    g = np.where(
        x <= a,
        -3.0 * x * x,
        np.where(x <= b, ls, ls + 20.0 - 25.0 * np.log10(np.maximum(x, 1e-12))),
    )
    return np.maximum(g, -peak_gain_dbi)


@functools.cache
def _bessel_table(pattern: str):
    """The Bessel patterns tabulated on u in [0, 60] (step 1e-3; linear interpolation error
    < 1e-4 dB in the main lobe), since J1/J3 evaluations dominate large gain matrices."""
    u = np.linspace(0.0, 60.0, 60001)
    us = np.where(u < 1e-4, 1.0, u)
    if pattern == "bessel":
        g = (2.0 * j1(us) / us) ** 2
    else:
        g = (j1(us) / (2.0 * us) + 36.0 * jv(3, us) / us**3) ** 2
    g = np.where(u < 1e-4, 1.0, g)
    return u, np.maximum(10.0 * np.log10(np.maximum(g, 1e-30)), -50.0)


@dataclass(frozen=True)
class BeamLayout:
    """GEO beam centres on the ground with their reuse colour and pattern.

    Attributes:
        lat_deg, lon_deg: ground centre of each beam ``(B,)``.
        colour: reuse colour per beam (0..3).
        theta3db_deg: full half-power beamwidth at the satellite.
        pattern: ``"bessel"`` or ``"s672"``.
        spacing_deg: angular spacing of neighbouring beams seen from the satellite.
    """

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    colour: np.ndarray
    theta3db_deg: float
    pattern: str = "bessel"
    spacing_deg: float = float("nan")

    def __len__(self) -> int:
        return int(self.lat_deg.size)

    @property
    def ecef_km(self) -> np.ndarray:
        return geodetic_to_ecef(self.lat_deg, self.lon_deg, 0.0)

    def gain_db(self, theta_deg):
        return pattern_gain_db(theta_deg, self.theta3db_deg, self.pattern)


def _axial_colour(xy: np.ndarray, spacing: float) -> np.ndarray:
    r = np.rint(xy[:, 1] / (spacing * math.sqrt(3) / 2.0)).astype(int)
    q = np.rint(xy[:, 0] / spacing - r / 2.0).astype(int)
    return (q % 2) + 2 * (r % 2)


def _ray_ellipsoid(origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """First intersection of rays ``origin + λ·dirs`` with the WGS-84 ellipsoid (NaN if none)."""
    scale = np.array([1.0 / WGS84_A_KM, 1.0 / WGS84_A_KM, 1.0 / WGS84_B_KM])
    o, d = origin * scale, dirs * scale
    a = np.einsum("ik,ik->i", d, d)
    b = 2.0 * d @ o
    c = o @ o - 1.0
    disc = b * b - 4 * a * c
    lam = (-b - np.sqrt(np.where(disc >= 0, disc, np.nan))) / (2 * a)
    return origin + lam[:, None] * dirs


def geo_hex_beams(
    sat_lon_deg: float,
    aim_lat_deg: float,
    aim_lon_deg: float,
    rings: int,
    spacing_deg: float,
    theta3db_deg: float,
    pattern: str = "bessel",
) -> BeamLayout:
    """A GEO HTS layout: ``1 + 3·R·(R+1)`` beams whose pointing directions form a hexagonal
    lattice of ``spacing_deg`` around the direction of the aim point, seen from the nominal
    slot ``sat_lon_deg``. Beams pointing off the Earth are dropped."""
    pattern_gain_db(0.0, theta3db_deg, pattern)  # validates pattern and width
    if not 0 < spacing_deg < 5:
        raise ValueError(f"spacing_deg: must be in (0, 5) degrees (got {spacing_deg})")
    lon = math.radians(sat_lon_deg)
    sat = GEO_RADIUS_KM * np.array([math.cos(lon), math.sin(lon), 0.0])
    aim = geodetic_to_ecef(aim_lat_deg, aim_lon_deg, 0.0)
    bore = (aim - sat) / np.linalg.norm(aim - sat)
    e1 = np.cross([0.0, 0.0, 1.0], bore)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(bore, e1)  # towards north on the Earth's disc
    xy = hex_grid(rings, spacing_deg)
    dirs = bore + np.tan(np.radians(xy[:, :1])) * e1 + np.tan(np.radians(xy[:, 1:])) * e2
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    ground = _ray_ellipsoid(sat, dirs)
    ok = np.all(np.isfinite(ground), axis=1)
    lat, lon_deg, _ = ecef_to_geodetic(ground[ok])
    return BeamLayout(
        lat,
        lon_deg,
        _axial_colour(xy, spacing_deg)[ok],
        theta3db_deg,
        pattern,
        spacing_deg=spacing_deg,
    )


@dataclass(frozen=True)
class CellGrid:
    """Earth-fixed hexagonal cells (LEO), an unbounded lattice of ``spacing_km`` on a local
    equirectangular projection about (``lat0_deg``, ``lon0_deg``): ``x = R·Δλ·cos φ0``,
    ``y = R·Δφ``. A LEO satellite points one beam at the centre of the terminal's cell."""

    lat0_deg: float
    lon0_deg: float
    spacing_km: float
    theta3db_deg: float
    pattern: str = "bessel"

    def __post_init__(self):
        pattern_gain_db(0.0, self.theta3db_deg, self.pattern)
        if not self.spacing_km > 0:
            raise ValueError(f"spacing_km: must be > 0 (got {self.spacing_km})")

    def gain_db(self, theta_deg):
        return pattern_gain_db(theta_deg, self.theta3db_deg, self.pattern)

    def cell_of(self, lat_deg, lon_deg):
        """Axial coordinates ``(q, r)`` of the cell containing each point (cube rounding)."""
        y = np.radians(np.asarray(lat_deg, dtype=float) - self.lat0_deg) * _R_KM
        x = np.radians(((np.asarray(lon_deg, dtype=float) - self.lon0_deg) + 180.0) % 360.0 - 180.0)
        x = x * _R_KM * math.cos(math.radians(self.lat0_deg))
        r = y / (self.spacing_km * math.sqrt(3) / 2.0)
        q = x / self.spacing_km - r / 2.0
        return _cube_round(q, r)

    def centre(self, q, r):
        """Ground centre (lat, lon) of cells ``(q, r)``."""
        x = self.spacing_km * (np.asarray(q) + np.asarray(r) / 2.0)
        y = self.spacing_km * (math.sqrt(3) / 2.0) * np.asarray(r)
        lat = self.lat0_deg + np.degrees(y / _R_KM)
        lon = self.lon0_deg + np.degrees(x / (_R_KM * math.cos(math.radians(self.lat0_deg))))
        return lat, lon


_R_KM = 6371.0088


def _cube_round(q, r):
    """Nearest hexagon centre of fractional axial coordinates (Patel, *Hexagonal Grids*)."""
    s = -q - r
    rq, rr, rs = np.rint(q), np.rint(r), np.rint(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def cos_off_axis(sat_ecef_km, beam_ecef_km, term_ecef_km):
    """Cosine of the angle at the satellite between each beam centre and the terminal,
    ``(T, B)``: ``cos θ = (b - s)·(x - s) / (|b - s|·|x - s|)`` for satellite ``s`` ``(T, 3)``,
    beam centres ``b`` ``(B, 3)`` and terminal ``x`` ``(T, 3)`` (two matrix products)."""
    s = np.asarray(sat_ecef_km, dtype=float)
    b = np.asarray(beam_ecef_km, dtype=float)
    x = np.asarray(term_ecef_km, dtype=float)
    ts = x - s
    ts /= np.linalg.norm(ts, axis=1, keepdims=True)
    num = ts @ b.T - np.einsum("tk,tk->t", ts, s)[:, None]
    d2 = (
        np.einsum("bk,bk->b", b, b)[None, :]
        + np.einsum("tk,tk->t", s, s)[:, None]
        - 2.0 * (s @ b.T)
    )
    return np.clip(num / np.sqrt(np.maximum(d2, 1e-12)), -1.0, 1.0)


def off_axis_deg(sat_ecef_km, beam_ecef_km, term_ecef_km):
    """Angle at the satellite between each beam centre and the terminal, ``(T, B)`` degrees
    (see :func:`cos_off_axis`)."""
    return np.degrees(np.arccos(cos_off_axis(sat_ecef_km, beam_ecef_km, term_ecef_km)))


def interference_db(gain_db: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Carrier-to-co-channel-interference ratio ``C/I`` (dB) for every beam taken as the
    serving one: ``G_b / Σ_{j≠b, colour_j = colour_b} G_j``; gains ``(T, B)`` in dB."""
    g = np.power(10.0, np.asarray(gain_db, dtype=float) / 10.0)
    colour = np.asarray(colour)
    out = np.empty_like(g)
    for c in np.unique(colour):
        m = colour == c
        tot = g[:, m].sum(axis=1, keepdims=True)
        other = np.maximum(tot - g[:, m], 1e-30)
        out[:, m] = g[:, m] / other
    return 10.0 * np.log10(out)
