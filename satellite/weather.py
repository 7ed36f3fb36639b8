"""Moving rain cells and slant-path rain attenuation.

Each cell has an exponential horizontal profile ``R(ρ) = R0·exp(-ρ/ρ0)`` (the EXCELL model,
Capsoni et al., *Radio Sci.* 22(3), 1987), a top height, a straight track at constant
velocity (steering wind plus a per-cell deviation) and a life cycle (intensity ramps up over
the first quarter and down over the last quarter of its life). Two populations:

* convective cells: ρ0 2-5 km, R0 log-normal (median 25 mm/h), tops 1.5-8 km above the
  freezing level (thunderstorm tops can reach cruise levels), lives 20-90 min;
* stratiform areas: ρ0 15-40 km, R0 log-normal (median 4 mm/h), tops 0.3-1.2 km above the
  freezing level, lives 2-6 h.

Slant-path attenuation integrates ``γ = k·R^α`` (ITU-R P.838-3) from the terminal up the line
of sight to the highest cell top: liquid rain below the rain height ``h_R = h_0 + 0.36 km``
(ITU-R P.839-4), and a reduced ``ice_factor·γ`` for the mixed-phase/graupel part of a cell
above it (assumption; ice attenuates an order of magnitude less than rain at Ka band).
Overlapping cells add their rain rates.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .linkbudget import rain_coefficients

__all__ = ["RainField", "generate_rain"]

_R_EARTH_KM = 6371.0088


@dataclass
class RainField:
    """Rain cells as parallel arrays (one entry per cell)."""

    lat0_deg: np.ndarray
    lon0_deg: np.ndarray
    ve_mps: np.ndarray
    vn_mps: np.ndarray
    peak_mmh: np.ndarray
    radius_km: np.ndarray
    top_m: np.ndarray
    t_birth_s: np.ndarray
    t_death_s: np.ndarray
    freezing_m: float = 3500.0
    ice_factor: float = 0.15

    def __len__(self) -> int:
        return int(self.lat0_deg.size)

    def take(self, mask) -> RainField:
        arrays = {
            f.name: getattr(self, f.name)[mask]
            for f in fields(self)
            if f.name not in ("freezing_m", "ice_factor")
        }
        return RainField(**arrays, freezing_m=self.freezing_m, ice_factor=self.ice_factor)

    @property
    def rain_height_m(self) -> float:
        """``h_R = h_0 + 360 m`` (ITU-R P.839-4)."""
        return self.freezing_m + 360.0

    def centres(self, t_s):
        """Cell centres (lat, lon) ``(N, C)`` at times ``t_s`` ``(N,)``."""
        dt = np.asarray(t_s, dtype=float)[:, None] - self.t_birth_s[None, :]
        lat = self.lat0_deg + np.degrees(self.vn_mps * dt / 1000.0 / _R_EARTH_KM)
        lon = self.lon0_deg + np.degrees(
            self.ve_mps * dt / 1000.0 / (_R_EARTH_KM * np.cos(np.radians(self.lat0_deg)))
        )
        return lat, lon

    def near(self, lat_deg, lon_deg, t_s, margin_km: float = 150.0) -> RainField:
        """The cells alive during ``t_s`` that come within ``margin_km`` of the points'
        bounding box (a cheap prefilter before evaluating a track)."""
        t = np.asarray(t_s, dtype=float)
        alive = (self.t_death_s >= t.min()) & (self.t_birth_s <= t.max())
        sub = self.take(alive)
        if len(sub) == 0:
            return sub
        tt = np.array([max(t.min(), 0.0), t.max()])
        lat_c, lon_c = sub.centres(tt)
        dlat = margin_km / 111.2
        lat_lo, lat_hi = np.min(lat_deg) - dlat, np.max(lat_deg) + dlat
        dlon = margin_km / (
            111.2 * np.cos(np.radians(np.clip(np.abs([lat_lo, lat_hi]).max(), 0, 85)))
        )
        lon_lo, lon_hi = np.min(lon_deg) - dlon, np.max(lon_deg) + dlon
        inside = (
            (lat_c.max(0) >= lat_lo)
            & (lat_c.min(0) <= lat_hi)
            & (lon_c.max(0) >= lon_lo)
            & (lon_c.min(0) <= lon_hi)
        )
        return sub.take(inside)

    def _intensity(self, t):
        life = self.t_death_s - self.t_birth_s
        ramp = 0.25 * life
        f = np.minimum((t[:, None] - self.t_birth_s) / ramp, (self.t_death_s - t[:, None]) / ramp)
        return np.clip(f, 0.0, 1.0)

    def _dense(self, lat, lon, t):
        """Rain rate of every cell at every point, ``(N, C)`` mm/h."""
        clat, clon = self.centres(t)
        dy = (lat[:, None] - clat) * (np.pi / 180.0) * _R_EARTH_KM
        dx = (
            (lon[:, None] - clon) * (np.pi / 180.0) * _R_EARTH_KM * np.cos(np.radians(lat[:, None]))
        )
        return (
            self.peak_mmh
            * self._intensity(t)
            * np.exp(-np.sqrt(dx * dx + dy * dy) / self.radius_km)
        )

    def _query(self, lat_deg, lon_deg, t_s, alt_m=None, chunk_s: float = 300.0, reach: float = 8.0):
        """Summed rain rate (and echo top) at points, visiting per time chunk only the cells
        alive then and within ``reach`` e-folding radii of the chunk's points (beyond that a
        cell contributes < e^-8 of its peak)."""
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=float)).ravel()
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=float)).ravel()
        t = np.broadcast_to(np.asarray(t_s, dtype=float), np.shape(lat_deg)).ravel()
        alt = (
            None
            if alt_m is None
            else np.broadcast_to(np.asarray(alt_m, dtype=float), np.shape(lat_deg)).ravel()
        )
        rate = np.zeros(lat.size)
        top = np.zeros(lat.size)
        if len(self) == 0 or lat.size == 0:
            return rate, top
        key = np.floor(t / chunk_s)
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for grp in np.split(order, bounds):
            t0, t1 = t[grp].min(), t[grp].max()
            alive = (self.t_death_s >= t0) & (self.t_birth_s <= t1)
            if alt is not None:
                alive &= self.top_m > alt[grp].min()
            if not alive.any():
                continue
            idx = np.flatnonzero(alive)
            clat, clon = self.take(idx).centres(np.array([t0, t1]))
            m_km = reach * self.radius_km[idx]
            dlat = m_km / 111.2
            dlon = m_km / (111.2 * np.cos(np.radians(np.clip(np.abs(clat).max(0), 0, 85))))
            near = (
                (clat.max(0) + dlat >= lat[grp].min())
                & (clat.min(0) - dlat <= lat[grp].max())
                & (clon.max(0) + dlon >= lon[grp].min())
                & (clon.min(0) - dlon <= lon[grp].max())
            )
            if not near.any():
                continue
            sub = self.take(idx[near])
            r = sub._dense(lat[grp], lon[grp], t[grp])
            if alt is not None:
                r = np.where(alt[grp, None] < sub.top_m, r, 0.0)
            rate[grp] = r.sum(axis=1)
            top[grp] = np.where(r > 1.0, sub.top_m, 0.0).max(axis=1)
        return rate, top

    def rain_rate_mmh(self, lat_deg, lon_deg, t_s, alt_m=None):
        """Rain rate (mm/h) at points; with ``alt_m``, only cells whose top is above it."""
        return self._query(lat_deg, lon_deg, t_s, alt_m)[0].reshape(np.shape(lat_deg))

    def column(self, lat_deg, lon_deg, t_s):
        """Surface rain rate (mm/h) and echo-top height (m, highest cell top with > 1 mm/h,
        0 if none) at points - what a weather radar reports."""
        rate, top = self._query(lat_deg, lon_deg, t_s)
        return rate.reshape(np.shape(lat_deg)), top.reshape(np.shape(lat_deg))

    def path_attenuation_db(
        self, lat_deg, lon_deg, alt_m, el_deg, az_deg, t_s, freq_hz: float, steps: int = 12
    ):
        """Rain attenuation (dB) along the slant path from terminals toward (el, az).

        The path from the terminal height to the highest cell top is cut into ``steps``
        layers; in each, the rain rate of the cells reaching that height at the path's
        horizontal position is converted to ``γ`` (liquid below the rain height, times
        ``ice_factor`` above; a layer that straddles the rain height is split by the fraction
        of its thickness on each side) and multiplied by the layer's slant length
        ``Δh/sin(el)``.
        """
        lat = np.asarray(lat_deg, dtype=float)
        n = lat.size
        out = np.zeros(n)
        if len(self) == 0 or n == 0:
            return out
        h0 = np.asarray(alt_m, dtype=float)
        top = float(self.top_m.max())
        el = np.radians(np.maximum(np.asarray(el_deg, dtype=float), 1.0))
        az = np.radians(np.asarray(az_deg, dtype=float))
        live = h0 < top
        if not live.any():
            return out
        idx = np.flatnonzero(live)
        k, a = rain_coefficients(freq_hz)
        frac = (np.arange(steps) + 0.5) / steps
        dh = (top - h0[idx]) / steps  # m per layer
        h = h0[idx, None] + frac[None, :] * (top - h0[idx, None])  # (n, steps)
        horiz_km = (h - h0[idx, None]) / 1000.0 / np.tan(el[idx, None])
        plat = lat[idx, None] + np.degrees(horiz_km * np.cos(az[idx, None]) / _R_EARTH_KM)
        plon = np.asarray(lon_deg, dtype=float)[idx, None] + np.degrees(
            horiz_km * np.sin(az[idx, None]) / (_R_EARTH_KM * np.cos(np.radians(lat[idx, None])))
        )
        tt = np.repeat(np.broadcast_to(np.asarray(t_s, dtype=float), lat.shape)[idx], steps)
        rr = self.rain_rate_mmh(plat.ravel(), plon.ravel(), tt, alt_m=h.ravel()).reshape(h.shape)
        # the share of each layer below the rain height is liquid, the rest ice: a layer that
        # straddles h_R is not classed whole by its midpoint
        lo = h - 0.5 * dh[:, None]
        liquid = np.clip((self.rain_height_m - lo) / dh[:, None], 0.0, 1.0)
        gamma = k * np.power(rr, a) * (liquid + (1.0 - liquid) * self.ice_factor)
        out[idx] = (gamma * (dh[:, None] / 1000.0) / np.sin(el[idx, None])).sum(axis=1)
        return out


def generate_rain(
    rng: np.random.Generator,
    region: tuple[float, float, float, float],
    t0_s: float,
    t1_s: float,
    convective_per_1e5_km2: float = 2.0,
    stratiform_per_1e5_km2: float = 0.3,
    steering_wind_mps: tuple[float, float] = (12.0, 4.0),
    freezing_m: float = 3500.0,
) -> RainField:
    """Cells alive in ``[t0_s, t1_s]`` over ``region = (lat_min, lat_max, lon_min, lon_max)``.

    Births are a space-time Poisson process with rates chosen so that on average
    ``*_per_1e5_km2`` cells of each type are alive per 100,000 km².
    """
    la0, la1, lo0, lo1 = region
    if not (la0 < la1 and lo0 < lo1):
        raise ValueError(f"region: need lat_min < lat_max and lon_min < lon_max (got {region})")
    if convective_per_1e5_km2 < 0 or stratiform_per_1e5_km2 < 0:
        raise ValueError("rain cell densities must be >= 0")
    area = (
        (_R_EARTH_KM**2)
        * np.radians(lo1 - lo0)
        * (np.sin(np.radians(la1)) - np.sin(np.radians(la0)))
    )
    kinds = [
        # density, life (s), radius km, log-median R0, sigma, top above freezing (m)
        (convective_per_1e5_km2, (1200.0, 5400.0), (2.0, 5.0), np.log(25.0), 0.7, (1500.0, 8000.0)),
        (
            stratiform_per_1e5_km2,
            (7200.0, 21600.0),
            (15.0, 40.0),
            np.log(4.0),
            0.5,
            (300.0, 1200.0),
        ),
    ]
    cols = {
        k: []
        for k in (
            "lat0_deg",
            "lon0_deg",
            "ve_mps",
            "vn_mps",
            "peak_mmh",
            "radius_km",
            "top_m",
            "t_birth_s",
            "t_death_s",
        )
    }
    for dens, life, rad, mu, sig, top in kinds:
        mean_life = 0.5 * (life[0] + life[1])
        span = (t1_s - t0_s) + life[1]
        n = rng.poisson(dens * area / 1e5 * span / mean_life)
        tb = t0_s - life[1] + rng.uniform(0, span, n)
        lives = rng.uniform(*life, n)
        cols["lat0_deg"].append(
            np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(la0)), np.sin(np.radians(la1)), n)))
        )
        cols["lon0_deg"].append(rng.uniform(lo0, lo1, n))
        cols["ve_mps"].append(steering_wind_mps[0] + rng.normal(0, 3.0, n))
        cols["vn_mps"].append(steering_wind_mps[1] + rng.normal(0, 3.0, n))
        cols["peak_mmh"].append(np.exp(mu + sig * rng.standard_normal(n)))
        cols["radius_km"].append(rng.uniform(*rad, n))
        cols["top_m"].append(freezing_m + rng.uniform(*top, n))
        cols["t_birth_s"].append(tb)
        cols["t_death_s"].append(tb + lives)
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    return RainField(**arrays, freezing_m=freezing_m)
