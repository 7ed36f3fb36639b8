"""Per-second state of every candidate link (beam or satellite) seen from a platform.

A :class:`World` holds what all platforms share: the epoch, the providers (constellation,
beam layout, link parameters, elevation mask), the rain field and the beam loads.
:func:`evaluate_links` turns a :class:`~satellite.platforms.Trajectory` into a
:class:`LinkSet`: for each candidate ``c`` and sample ``t`` the look angles, the antenna
off-boresight angle, the off-axis angle to the beam centre, the rain attenuation, the true and
the measured Es/N0 and the beam load.

Es/N0 of a GEO beam ``b`` of satellite ``s``:
``EIRP + G_b(θ_b) + G/T - FSPL(d_s) - L_gas - L_rain - L_scan - L_fixed + 228.6 - 10·log10(Rs)``,
combined with the co-channel C/I of the beam colour; a LEO satellite uses the gain towards the
terminal's earth-fixed cell and a fixed C/I. Tropospheric scintillation is an AR(1) process
per satellite path (σ = ``scint_sigma_db``·e^(-h/2 km), correlation time ``scint_tau_s``);
the modem's Es/N0 estimate adds white noise ``meas_sigma_db``. A line of sight beyond the
scan limit is blocked: Es/N0 is set to ``BLOCKED_DB``. With ``atmosphere="itur"`` the gas and
cloud losses are the ITU-R P.618 values for the region (ground-station statistics, scaled by
e^(-h/2 km) above ground: an assumption for airborne terminals) instead of the simple model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.signal import lfilter

from netsim.rng import stream

from .beams import BeamLayout, CellGrid, cos_off_axis, interference_db
from .frames import geodetic_to_ecef, look_angles
from .linkbudget import (
    K_DB,
    LinkParams,
    TerminalParams,
    add_interference_db,
    free_space_loss_db,
    gas_loss_db,
    itur_loss_db,
    off_boresight_deg,
    scan_loss_db,
)
from .load import BeamLoad
from .orbits import Constellation, propagate_ecef
from .platforms import Trajectory
from .weather import RainField

__all__ = ["BLOCKED_DB", "Provider", "World", "LinkSet", "evaluate_links", "KIND_GEO", "KIND_LEO"]

#: Es/N0 reported for a blocked line of sight (no carrier lock)
BLOCKED_DB = -20.0
KIND_GEO, KIND_LEO = 0, 1
#: sample step (in samples) at which GEO beam patterns are evaluated before interpolation
GAIN_STEP_S = 10


@dataclass
class Provider:
    """One network operator.

    Attributes:
        name: provider name.
        constellation: its satellites.
        link: forward-link parameters.
        beams: GEO: one :class:`BeamLayout` per satellite; LEO: a :class:`CellGrid`.
        mask_deg: elevation mask (deg).
        ci_db: fixed C/I (dB) for LEO (GEO computes it from the beam layout).
        coarse_step_s: propagation step before Hermite interpolation to the samples.
        coverage_spacings: GEO beams within this many beam spacings of the track are candidates.
    """

    name: str
    constellation: Constellation
    link: LinkParams
    beams: list[BeamLayout] | CellGrid
    mask_deg: float = 10.0
    ci_db: float = 15.0
    coarse_step_s: float = 60.0
    coverage_spacings: float = 1.2

    @property
    def kind(self) -> int:
        return KIND_GEO if self.constellation.kind == "geo" else KIND_LEO

    def beam_offsets(self) -> np.ndarray:
        """GEO: index of each satellite's first beam in the provider-wide beam numbering."""
        sizes = [len(b) for b in self.beams] if isinstance(self.beams, list) else [0]
        return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)


@dataclass
class World:
    """Everything the platforms of one scenario share."""

    epoch: datetime
    providers: list[Provider]
    rain: RainField
    loads: list[BeamLoad]  # per provider; columns: GEO beams (provider-wide) or LEO satellites
    seed: int
    terminal: TerminalParams = TerminalParams()
    scint_sigma_db: float = 0.3
    scint_tau_s: float = 2.0
    meas_sigma_db: float = 0.1
    atmosphere: str = "simple"
    itur_p_percent: float = 1.0

    def __post_init__(self):
        if self.atmosphere not in ("simple", "itur"):
            raise ValueError(f"atmosphere: must be 'simple' or 'itur' (got {self.atmosphere!r})")
        if len(self.loads) != len(self.providers):
            raise ValueError("need one BeamLoad per provider")


@dataclass
class LinkSet:
    """Candidate links of one platform; ``(T, C)`` arrays unless noted.

    ``provider``, ``sat``, ``beam`` ``(C,)`` identify candidates (``beam`` is the
    provider-wide beam index for GEO and -1 for LEO); ``kind`` is ``KIND_GEO``/``KIND_LEO``;
    ``visible`` means above the provider's elevation mask; ``blocked`` means the antenna
    cannot see the satellite (scan limit, fuselage).
    """

    t_s: np.ndarray
    provider: np.ndarray
    sat: np.ndarray
    beam: np.ndarray
    kind: np.ndarray
    symbol_rate_hz: np.ndarray
    el_deg: np.ndarray
    az_deg: np.ndarray
    range_km: np.ndarray
    boresight_deg: np.ndarray
    off_axis_deg: np.ndarray
    rain_db: np.ndarray
    esn0_db: np.ndarray
    esn0_meas_db: np.ndarray
    load: np.ndarray
    visible: np.ndarray
    blocked: np.ndarray

    @property
    def n(self) -> int:
        return int(self.provider.size)

    def select(self, cols) -> LinkSet:
        """A LinkSet with only the candidate columns ``cols``."""
        cols = np.asarray(cols)
        kw = {}
        for k, v in self.__dict__.items():
            if k == "t_s":
                kw[k] = v
            elif v.ndim == 1:
                kw[k] = v[cols]
            else:
                kw[k] = v[:, cols]
        return LinkSet(**kw)


def _scint(rng: np.random.Generator, n_t: int, n: int, tau_s: float) -> np.ndarray:
    """Unit-variance AR(1) noise ``(T, n)`` with correlation time ``tau_s`` (1-s samples)."""
    rho = float(np.exp(-1.0 / tau_s)) if tau_s > 0 else 0.0
    w = rng.standard_normal((n_t, n))
    w[0] /= np.sqrt(1 - rho * rho) if rho < 1 else 1.0
    return lfilter([np.sqrt(1 - rho * rho)], [1.0, -rho], w, axis=0)


def _path_losses(world: World, p: Provider, traj: Trajectory, el, az, vis):
    """Gas (or ITU-R) and rain losses (dB) for satellite paths ``(S, T)``."""
    if world.atmosphere == "itur":
        atm = itur_loss_db(
            traj.lat_deg[None, :],
            traj.lon_deg[None, :],
            np.maximum(el, 5.0),
            p.link.freq_hz,
            world.itur_p_percent,
        )
        atm = atm * np.exp(-traj.alt_m / 2000.0)  # the P.618 values are for ground stations
    else:
        atm = gas_loss_db(el, traj.alt_m[None, :])
    rain = np.zeros_like(el)
    cells = world.rain.near(traj.lat_deg, traj.lon_deg, traj.t_s)
    if len(cells):
        for s in range(el.shape[0]):
            m = vis[s]
            if m.any():
                rain[s, m] = cells.path_attenuation_db(
                    traj.lat_deg[m],
                    traj.lon_deg[m],
                    traj.alt_m[m],
                    el[s, m],
                    az[s, m],
                    traj.t_s[m],
                    p.link.freq_hz,
                )
    return atm, rain


def _leo_screen(p: Provider, world: World, traj: Trajectory) -> np.ndarray:
    """Indices of satellites that rise above (mask - 5°) during the track (checked on the
    coarse propagation grid)."""
    t = traj.t_s
    tc = np.arange(t[0], t[-1] + p.coarse_step_s, p.coarse_step_s)
    pos = propagate_ecef(p.constellation.array, world.epoch, tc)
    lat = np.interp(tc, t, traj.lat_deg)
    lon = np.interp(tc, t, traj.lon_deg)
    alt = np.interp(tc, t, traj.alt_m)
    el, _, _ = look_angles(pos, lat, lon, alt)
    return np.flatnonzero(np.nanmax(el, axis=1) >= p.mask_deg - 5.0)


def _provider_links(world: World, pi: int, traj: Trajectory, term: np.ndarray) -> dict | None:
    p = world.providers[pi]
    t = traj.t_s
    n_t = t.size
    if p.kind == KIND_LEO:
        sats = _leo_screen(p, world, traj)
        if sats.size == 0:
            return None
        arr = Constellation(
            [p.constellation.names[i] for i in sats],
            "leo",
            p.name,
            [p.constellation.satrecs[i] for i in sats],
        ).array
    else:
        sats = np.arange(len(p.constellation))
        arr = p.constellation.array
    pos = propagate_ecef(arr, world.epoch, t, coarse_step_s=p.coarse_step_s)  # (S, T, 3)
    el, az, rng_km = look_angles(pos, traj.lat_deg, traj.lon_deg, traj.alt_m)
    vis = el >= p.mask_deg
    bore = off_boresight_deg(el, az, traj.heading_deg, traj.pitch_deg, traj.roll_deg)
    scan = scan_loss_db(bore, world.terminal)
    atm, rain = _path_losses(world, p, traj, el, az, vis)
    common = (
        p.link.eirp_dbw
        + p.link.gt_dbk
        - free_space_loss_db(rng_km, p.link.freq_hz)
        - atm
        - rain
        - p.link.fixed_loss_db
        + K_DB
        - 10.0 * np.log10(p.link.symbol_rate_hz)
    )  # Es/N0 at beam peak before scan loss (S, T)
    r = stream(world.seed, f"links/{traj.name}/{p.name}")
    sigma = world.scint_sigma_db * np.exp(-traj.alt_m / 2000.0)
    scint = _scint(r, n_t, len(sats), world.scint_tau_s).T * sigma  # (S, T)
    cols: dict[str, list] = {
        k: []
        for k in (
            "sat",
            "beam",
            "el",
            "az",
            "rng",
            "bore",
            "off",
            "rain",
            "esn0",
            "load",
            "vis",
            "blk",
        )
    }
    if p.kind == KIND_GEO:
        offsets = p.beam_offsets()
        # beam geometry changes slowly (a beam is hundreds of km wide): evaluate the pattern
        # every GAIN_STEP_S and interpolate linearly to the samples
        ck = np.unique(np.append(np.arange(0, n_t, GAIN_STEP_S), n_t - 1))
        for s in range(len(sats)):
            lay = p.beams[s]
            cos = cos_off_axis(pos[s, ck], lay.ecef_km, term[ck])  # (Tc, B)
            # beams farther than 3 spacings from the whole track neither serve nor interfere
            # noticeably (tapered pattern < -40 dB there): drop them before the pattern
            near = np.flatnonzero(cos.max(axis=0) >= np.cos(np.radians(3.0 * lay.spacing_deg)))
            if near.size == 0:
                continue
            off_c = np.degrees(np.arccos(cos[:, near]))
            gain_c = lay.gain_db(off_c)
            ci_c = interference_db(gain_c, lay.colour[near])
            cand = np.flatnonzero(off_c.min(axis=0) <= p.coverage_spacings * lay.spacing_deg)
            if cand.size == 0:
                continue
            off, gain, ci = (_interp_rows(t, t[ck], a[:, cand]) for a in (off_c, gain_c, ci_c))
            e = add_interference_db(
                common[s][:, None] + gain - scan[s][:, None] + scint[s][:, None], ci
            )
            blk = np.broadcast_to(~np.isfinite(scan[s])[:, None], e.shape)
            gb = offsets[s] + near[cand]
            _append(
                cols,
                s,
                gb,
                el[s],
                az[s],
                rng_km[s],
                bore[s],
                off,
                rain[s],
                np.where(blk, BLOCKED_DB, e),
                world.loads[pi].at(t[:, None], gb[None, :]),
                vis[s],
                blk,
            )
    else:
        grid: CellGrid = p.beams
        q, rr = grid.cell_of(traj.lat_deg, traj.lon_deg)
        clat, clon = grid.centre(q, rr)
        cell = geodetic_to_ecef(clat, clon, 0.0)  # (T, 3)
        for s in range(len(sats)):
            off = _angle_at(pos[s], cell, term)
            e = add_interference_db(common[s] + grid.gain_db(off) - scan[s] + scint[s], p.ci_db)
            blk = ~np.isfinite(scan[s])
            _append(
                cols,
                sats[s],
                np.array([-1]),
                el[s],
                az[s],
                rng_km[s],
                bore[s],
                off[:, None],
                rain[s],
                np.where(blk, BLOCKED_DB, e)[:, None],
                world.loads[pi].at(t, np.full(n_t, sats[s]))[:, None],
                vis[s],
                blk[:, None],
            )
    if not cols["sat"]:
        return None
    out = {
        k: np.concatenate(v, axis=1) if k not in ("sat", "beam") else np.concatenate(v)
        for k, v in cols.items()
    }
    modem = stream(world.seed, f"links/{traj.name}/{p.name}/modem")
    meas = out["esn0"] + world.meas_sigma_db * modem.standard_normal(out["esn0"].shape)
    out["meas"] = np.where(out["blk"], BLOCKED_DB, meas)
    out["provider"] = np.full(out["sat"].size, pi)
    out["kind"] = np.full(out["sat"].size, p.kind)
    out["rs"] = np.full(out["sat"].size, p.link.symbol_rate_hz)
    return out


def _interp_rows(t, tc, a):
    """Linear interpolation of the rows of ``a`` ``(Tc, K)`` given at times ``tc`` to ``t``."""
    k = (
        np.clip(np.searchsorted(tc, t, side="right") - 1, 0, tc.size - 2)
        if tc.size > 1
        else np.zeros(t.size, int)
    )
    if tc.size == 1:
        return np.repeat(a, t.size, axis=0)
    w = ((t - tc[k]) / (tc[k + 1] - tc[k]))[:, None]
    return a[k] * (1.0 - w) + a[k + 1] * w


def _append(cols, sat, beams, el, az, rng_km, bore, off, rain, esn0, load, vis, blk):
    k = len(beams)
    rep = lambda x: np.repeat(np.asarray(x)[:, None], k, axis=1)  # noqa: E731
    cols["sat"].append(np.full(k, sat))
    cols["beam"].append(np.asarray(beams))
    cols["el"].append(rep(el))
    cols["az"].append(rep(az))
    cols["rng"].append(rep(rng_km))
    cols["bore"].append(rep(bore))
    cols["off"].append(off)
    cols["rain"].append(rep(rain))
    cols["esn0"].append(esn0)
    cols["load"].append(np.asarray(load, dtype=float))
    cols["vis"].append(rep(vis))
    cols["blk"].append(np.asarray(blk) if np.ndim(blk) == 2 else rep(blk))


def _angle_at(sat, a, b):
    """Angle (deg) at ``sat`` between points ``a`` and ``b``, all ``(T, 3)`` km."""
    u = a - sat
    v = b - sat
    cos = np.einsum("tk,tk->t", u, v) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def evaluate_links(world: World, traj: Trajectory, providers: list[int] | None = None) -> LinkSet:
    """All candidate links of ``traj`` for the given provider indices (default: all)."""
    if len(traj) == 0:
        raise ValueError(f"trajectory {traj.name!r} is empty")
    which = range(len(world.providers)) if providers is None else providers
    term = geodetic_to_ecef(traj.lat_deg, traj.lon_deg, traj.alt_m)
    parts = [x for pi in which if (x := _provider_links(world, pi, traj, term)) is not None]
    n_t = traj.t_s.size
    if not parts:
        z = np.zeros((n_t, 0))
        zi = np.zeros(0, dtype=int)
        return LinkSet(
            traj.t_s,
            zi,
            zi,
            zi,
            zi,
            np.zeros(0),
            z,
            z,
            z,
            z,
            z,
            z,
            z,
            z,
            z,
            z.astype(bool),
            z.astype(bool),
        )
    cat = {k: np.concatenate([x[k] for x in parts], axis=-1) for k in parts[0]}
    return LinkSet(
        traj.t_s,
        cat["provider"],
        cat["sat"],
        cat["beam"],
        cat["kind"],
        cat["rs"],
        cat["el"],
        cat["az"],
        cat["rng"],
        cat["bore"],
        cat["off"],
        cat["rain"],
        cat["esn0"],
        cat["meas"],
        cat["load"],
        cat["vis"],
        cat["blk"],
    )
