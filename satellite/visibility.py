"""Which satellites are above the elevation mask from which (moving) platforms.

A satellite ``s`` is visible from platform ``p`` at time ``t`` when its elevation is at least
the mask: ``d·u >= |d|·sin(mask)`` with ``d`` the satellite-minus-platform ECEF vector and
``u`` the platform's geodetic up vector (see :func:`satellite.frames.look_angles`).

For many platforms the pairs are screened with one batched matrix product per time chunk
(``s·u - o·u > 0``, the satellite above the platform's horizon plane), and exact look angles
are computed only for the few pairs that pass, so the cost is one multiply-add per
(satellite, platform, time) triple.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frames import enu_basis, geodetic_to_ecef

__all__ = ["Visibility", "visible_pairs"]


@dataclass
class Visibility:
    """Sparse visibility: parallel arrays, one entry per visible (time, satellite, platform)."""

    t_idx: np.ndarray
    sat_idx: np.ndarray
    obs_idx: np.ndarray
    el_deg: np.ndarray
    az_deg: np.ndarray
    range_km: np.ndarray

    def __len__(self) -> int:
        return int(self.t_idx.size)


def visible_pairs(
    sat_ecef_km, obs_lat_deg, obs_lon_deg, obs_alt_m, mask_deg: float, chunk: int = 32
):
    """Every (time, satellite, platform) with elevation >= ``mask_deg``.

    Args:
        sat_ecef_km: satellite positions ``(S, T, 3)``.
        obs_lat_deg, obs_lon_deg, obs_alt_m: platform tracks ``(P, T)`` (or ``(T,)`` for one).
        mask_deg: elevation mask in degrees, in [0, 90).
        chunk: time steps per batched product (memory ~ chunk·S·P·8 bytes).

    Returns:
        :class:`Visibility`, sorted by time, then satellite, then platform.
    """
    if not 0.0 <= mask_deg < 90.0:
        raise ValueError(f"mask_deg: must be in [0, 90) degrees (got {mask_deg})")
    sat = np.asarray(sat_ecef_km, dtype=float)
    lat, lon, alt = (
        np.atleast_2d(np.asarray(a, dtype=float)) for a in (obs_lat_deg, obs_lon_deg, obs_alt_m)
    )
    n_t = sat.shape[1]
    if lat.shape[1] != n_t:
        raise ValueError(f"platform tracks have {lat.shape[1]} times, satellites {n_t}")
    obs = geodetic_to_ecef(lat, lon, alt)  # (P, T, 3)
    east, north, up = enu_basis(lat, lon)
    ou = np.einsum("ptk,ptk->pt", obs, up)  # (P, T)
    parts = []
    for a in range(0, n_t, chunk):
        b = min(n_t, a + chunk)
        s_tsk = np.ascontiguousarray(sat[:, a:b].transpose(1, 0, 2))  # (c, S, 3)
        u_tkp = np.ascontiguousarray(up[:, a:b].transpose(1, 2, 0))  # (c, 3, P)
        height = np.matmul(s_tsk, u_tkp)  # (c, S, P): s·u
        height -= ou[:, a:b].T[:, None, :]
        ti, si, pi = np.nonzero(height > 0.0)  # NaN (decayed satellites) never passes
        if ti.size == 0:
            continue
        ti_abs = ti + a
        d = sat[si, ti_abs] - obs[pi, ti_abs]
        rng = np.sqrt(np.einsum("ik,ik->i", d, d))
        el = np.degrees(np.arcsin(np.clip(height[ti, si, pi] / rng, -1.0, 1.0)))
        keep = el >= mask_deg
        ti_abs, si, pi, d, rng, el = ti_abs[keep], si[keep], pi[keep], d[keep], rng[keep], el[keep]
        de = np.einsum("ik,ik->i", d, east[pi, ti_abs])
        dn = np.einsum("ik,ik->i", d, north[pi, ti_abs])
        az = np.degrees(np.arctan2(de, dn)) % 360.0
        parts.append((ti_abs, si, pi, el, az, rng))
    if not parts:
        empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return Visibility(
            empty_i, empty_i.copy(), empty_i.copy(), empty_f, empty_f.copy(), empty_f.copy()
        )
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return Visibility(*cols)
