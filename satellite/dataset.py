"""The flight dataset generator: many flights over a region served by spot beams of one or
more GEO satellites (and optionally a LEO constellation), recorded every second.

Per flight and second the dataset holds the aircraft state (position, altitude, speed,
heading, vertical speed, roll, pitch, phase, flight-plan look-ahead), the serving link chosen
by the network (the provider-0 beam with the best measured Es/N0, switching with 1 dB
hysteresis), its look angles, beam id and off-axis angle, antenna off-boresight angle, C/N0
and Es/N0 as the modem measures them, the ACM MODCOD and throughput, the beam load, and what
the aircraft's forward-looking weather radar reports 10-30 km ahead. The truths the model
must not see (rain attenuation, noise-free Es/N0) are kept in ``truth_*`` columns.

Fades are physical: moving rain cells (slant-path attenuation), the airframe and scan limit
in banked turns and climbs, beam-edge roll-off and co-channel interference, scintillation at
low altitude. Nothing is scripted around the label.
"""

from __future__ import annotations

import importlib.resources
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from netsim import Config
from netsim.rng import stream

from .beams import CellGrid, geo_hex_beams
from .dvbs2 import select_modcod, throughput_bps
from .frames import ecef_to_geodetic
from .handover import hysteresis_select
from .linkbudget import LinkParams, TerminalParams
from .links import BLOCKED_DB, LinkSet, Provider, World, evaluate_links
from .load import simulate_load, user_share
from .orbits import Constellation, propagate_ecef, walker_delta
from .platforms import Trajectory, destination_point, disturb, fly, plan_flight
from .tle import bundled_tle, select
from .weather import generate_rain

__all__ = [
    "ProviderConfig",
    "RainConfig",
    "WorldConfig",
    "DatasetConfig",
    "airports",
    "build_world",
    "make_plans",
    "radar_features",
    "flight_frame",
    "fly_disturbed",
    "generate_dataset",
    "adsb_flights",
    "load_link_log",
]


class ProviderConfig(Config):
    """One network operator (defaults: a Ka-band GEO HTS)."""

    name: str = "KA-SAT"
    kind: Literal["geo", "leo"] = "geo"
    tle_set: Literal["geo", "starlink", "oneweb", "walker"] = "geo"
    satellites: list[str] = Field(
        default_factory=lambda: ["EUTELSAT KA-SAT 9A"], description="names in the TLE set (GEO)"
    )
    shell_inclination_deg: float | None = Field(
        None, description="LEO: keep satellites within 0.5° of this inclination"
    )
    shell_mean_motion: tuple[float, float] | None = Field(
        None, description="LEO: keep mean motions in this range (rev/day)"
    )
    max_satellites: int | None = Field(None, ge=1)
    walker: tuple[int, int, int, float, float] | None = Field(
        None, description="Walker-delta (total, planes, phasing, inclination_deg, altitude_km)"
    )
    aim: tuple[float, float] = Field((48.0, 9.0), description="GEO: lat, lon of the centre beam")
    beam_rings: int = Field(6, ge=0, le=12)
    beam_spacing_deg: float = Field(0.4, gt=0, lt=5)
    theta3db_deg: float = Field(0.5, gt=0, le=10)
    pattern: Literal["bessel", "tapered", "s672"] = "tapered"
    cell_spacing_km: float = Field(25.0, gt=0)
    eirp_dbw: float = 61.0
    gt_dbk: float = 13.0
    freq_ghz: float = Field(19.7, ge=10, le=30)
    symbol_rate_msps: float = Field(100.0, gt=0)
    fixed_loss_db: float = Field(1.0, ge=0)
    mask_deg: float = Field(10.0, ge=0, lt=90)
    ci_db: float = Field(15.0, description="LEO: fixed C/I (dB)")
    mean_users: float = Field(
        6.0, ge=0, description="mean other active users per beam (LEO: per satellite)"
    )

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "geo" and self.tle_set != "geo":
            raise ValueError("a geo provider takes its satellites from tle_set 'geo'")
        if self.kind == "leo" and self.tle_set == "geo":
            raise ValueError("a leo provider needs tle_set starlink, oneweb or walker")
        if self.tle_set == "walker" and self.walker is None:
            raise ValueError(
                "tle_set 'walker' needs walker = "
                "[total, planes, phasing, inclination_deg, altitude_km]"
            )
        if self.kind == "geo" and not self.satellites:
            raise ValueError("a geo provider needs at least one satellite name")
        return self


def _default_providers() -> list[ProviderConfig]:
    return [
        ProviderConfig(),
        ProviderConfig(
            name="GX",
            satellites=["INMARSAT GX5"],
            aim=(46.0, 14.0),
            beam_spacing_deg=0.45,
            theta3db_deg=0.55,
            eirp_dbw=60.0,
            symbol_rate_msps=80.0,
            mean_users=5.0,
        ),
        ProviderConfig(
            name="ONEWEB",
            kind="leo",
            tle_set="oneweb",
            satellites=[],
            shell_inclination_deg=87.9,
            shell_mean_motion=(13.0, 13.2),
            pattern="bessel",
            theta3db_deg=4.0,
            cell_spacing_km=70.0,
            eirp_dbw=36.0,
            gt_dbk=10.0,
            freq_ghz=11.7,
            symbol_rate_msps=150.0,
            mask_deg=30.0,
            ci_db=12.0,
            mean_users=8.0,
        ),
    ]


class RainConfig(Config):
    convective_per_1e5_km2: float = Field(
        6.0, ge=0, description="convective cells alive per 100,000 km²"
    )
    stratiform_per_1e5_km2: float = Field(
        1.0, ge=0, description="stratiform rain areas alive per 100,000 km²"
    )
    steering_wind_mps: tuple[float, float] = (12.0, 4.0)
    freezing_m: float = Field(3500.0, ge=0, le=6000)


class WorldConfig(Config):
    epoch: datetime = datetime(2021, 8, 5, 0, 0, tzinfo=UTC)
    region: tuple[float, float, float, float] = Field(
        (36.0, 60.0, -10.0, 28.0), description="lat_min, lat_max, lon_min, lon_max"
    )
    providers: list[ProviderConfig] = Field(default_factory=_default_providers, min_length=1)
    rain: RainConfig = Field(default_factory=RainConfig)
    scint_sigma_db: float = Field(0.3, ge=0)
    scint_tau_s: float = Field(2.0, ge=0)
    meas_sigma_db: float = Field(0.1, ge=0)
    atmosphere: Literal["simple", "itur"] = "simple"
    scan_exponent: float = Field(1.2, ge=0)
    max_scan_deg: float = Field(70.0, gt=0, le=90)
    hours: float = Field(
        24.0, gt=0, le=72, description="span of the world (flights depart within it)"
    )

    @model_validator(mode="after")
    def _region(self):
        la0, la1, lo0, lo1 = self.region
        if not (-90 <= la0 < la1 <= 90 and -180 <= lo0 < lo1 <= 180):
            raise ValueError(
                "region must be lat_min < lat_max, lon_min < lon_max in degrees "
                f"(got {self.region})"
            )
        return self


class DatasetConfig(Config):
    world: WorldConfig = Field(default_factory=WorldConfig)
    flights: int = Field(500, ge=1, le=20000)
    min_km: float = Field(400.0, ge=100)
    max_km: float = Field(2500.0, gt=100)
    hold_probability: float = Field(0.25, ge=0, le=1)
    cruise_alt_m: tuple[float, float] = Field(
        (9500.0, 12000.0), description="range of cruise levels (m)"
    )
    providers: list[int] = Field(
        default_factory=lambda: [0], description="providers recorded in the dataset"
    )
    beam_hysteresis_db: float = Field(1.0, ge=0)
    radar_noise: float = Field(
        0.3, ge=0, description="log-normal sigma of the weather-radar rain estimate"
    )
    wind_mps: float = Field(
        15.0, ge=0, le=80, description="sd of each wind component per flight (m/s; crab angle)"
    )
    turbulence_deg: float = Field(
        1.5, ge=0, le=10, description="sd of the AR(1) roll disturbance (deg; pitch: half)"
    )
    lookahead_s: list[int] = Field(
        default_factory=lambda: [10, 30, 60, 120, 300],
        description="horizons (s) of the planned look-angle columns plan_el_h{h}_deg",
    )

    @model_validator(mode="after")
    def _check(self):
        if self.max_km <= self.min_km:
            raise ValueError(f"max_km ({self.max_km}) must exceed min_km ({self.min_km})")
        if self.cruise_alt_m[0] <= 0 or self.cruise_alt_m[1] < self.cruise_alt_m[0]:
            raise ValueError(f"cruise_alt_m: need 0 < low <= high metres (got {self.cruise_alt_m})")
        bad = [i for i in self.providers if not 0 <= i < len(self.world.providers)]
        if bad or not self.providers:
            raise ValueError(
                f"providers: indices must be in 0..{len(self.world.providers) - 1} "
                f"(got {self.providers})"
            )
        return self


@lru_cache(maxsize=1)
def airports() -> pd.DataFrame:
    """The bundled airport list (ICAO, name, lat, lon, elevation)."""
    ref = importlib.resources.files("satellite").joinpath("data", "airports.csv")
    with importlib.resources.as_file(ref) as p:
        return pd.read_csv(p)


@lru_cache(maxsize=8)
def _tle_set(name: str):
    return bundled_tle(name)


def _constellation(pc: ProviderConfig, epoch: datetime) -> Constellation:
    if pc.tle_set == "walker":
        total, planes, phasing, inc, alt = pc.walker
        return walker_delta(
            int(total), int(planes), int(phasing), inc, alt, epoch, provider=pc.name
        )
    tles = _tle_set(pc.tle_set)
    if pc.kind == "geo":
        tles = select(tles, pc.satellites)
    else:
        if pc.satellites:
            tles = select(tles, pc.satellites)
        recs = [t.satrec() for t in tles]
        keep = np.ones(len(tles), dtype=bool)
        if pc.shell_inclination_deg is not None:
            keep &= np.abs(np.degrees([r.inclo for r in recs]) - pc.shell_inclination_deg) < 0.5
        if pc.shell_mean_motion is not None:
            rev_day = np.array([r.no_kozai for r in recs]) * 1440.0 / (2 * np.pi)
            keep &= (rev_day >= pc.shell_mean_motion[0]) & (rev_day <= pc.shell_mean_motion[1])
        tles = [t for t, k in zip(tles, keep, strict=True) if k]
        if not tles:
            raise ValueError(f"provider {pc.name}: no satellite passes the shell filter")
    if pc.max_satellites is not None:
        tles = tles[: pc.max_satellites]
    return Constellation.from_tles(tles, "geo" if pc.kind == "geo" else "leo", pc.name)


def build_world(cfg: WorldConfig, seed: int) -> World:
    """Providers, beams, rain and loads of one scenario (deterministic in ``seed``)."""
    providers, loads = [], []
    t1 = cfg.hours * 3600.0
    hour0 = cfg.epoch.hour + cfg.epoch.minute / 60.0
    for pc in cfg.providers:
        con = _constellation(pc, cfg.epoch)
        link = LinkParams(
            pc.eirp_dbw, pc.gt_dbk, pc.freq_ghz * 1e9, pc.symbol_rate_msps * 1e6, pc.fixed_loss_db
        )
        r_load = stream(seed, f"world/load/{pc.name}")
        if pc.kind == "geo":
            pos = propagate_ecef(con.array, cfg.epoch, np.array([0.0]))[:, 0]
            lons = ecef_to_geodetic(pos)[1]
            beams = [
                geo_hex_beams(
                    float(lon),
                    pc.aim[0],
                    pc.aim[1],
                    pc.beam_rings,
                    pc.beam_spacing_deg,
                    pc.theta3db_deg,
                    pc.pattern,
                )
                for lon in lons
            ]
            beam_lon = np.concatenate([b.lon_deg for b in beams])
            prov = Provider(pc.name, con, link, beams, pc.mask_deg, pc.ci_db, coarse_step_s=60.0)
        else:
            la0, la1, lo0, lo1 = cfg.region
            grid = CellGrid(
                0.5 * (la0 + la1),
                0.5 * (lo0 + lo1),
                pc.cell_spacing_km,
                pc.theta3db_deg,
                pc.pattern,
            )
            beam_lon = np.full(len(con), 0.5 * (lo0 + lo1))
            prov = Provider(pc.name, con, link, grid, pc.mask_deg, pc.ci_db, coarse_step_s=10.0)
        providers.append(prov)
        loads.append(
            simulate_load(r_load, beam_lon, 0.0, t1, hour0, mean_users=pc.mean_users, step_s=60.0)
        )
    rc = cfg.rain
    rain = generate_rain(
        stream(seed, "world/rain"),
        cfg.region,
        0.0,
        t1,
        rc.convective_per_1e5_km2,
        rc.stratiform_per_1e5_km2,
        rc.steering_wind_mps,
        rc.freezing_m,
    )
    terminal = TerminalParams(scan_exponent=cfg.scan_exponent, max_scan_deg=cfg.max_scan_deg)
    return World(
        cfg.epoch,
        providers,
        rain,
        loads,
        seed,
        terminal,
        cfg.scint_sigma_db,
        cfg.scint_tau_s,
        cfg.meas_sigma_db,
        cfg.atmosphere,
    )


def make_plans(cfg: DatasetConfig, seed: int, n: int | None = None, prefix: str = "F") -> list:
    """``n`` random flight plans between bundled airports inside the region."""
    n = cfg.flights if n is None else n
    rng = stream(seed, f"plans/{prefix}")
    la0, la1, lo0, lo1 = cfg.world.region
    ap = airports()
    ap = ap[
        (ap.lat_deg >= la0) & (ap.lat_deg <= la1) & (ap.lon_deg >= lo0) & (ap.lon_deg <= lo1)
    ].reset_index(drop=True)
    if len(ap) < 2:
        raise ValueError(f"region {cfg.world.region} holds fewer than two bundled airports")
    from netsim.topology import great_circle_km

    d = great_circle_km(
        ap.lat_deg.to_numpy()[:, None],
        ap.lon_deg.to_numpy()[:, None],
        ap.lat_deg.to_numpy()[None],
        ap.lon_deg.to_numpy()[None],
    )
    pairs = np.argwhere((d >= cfg.min_km) & (d <= cfg.max_km))
    if pairs.size == 0:
        raise ValueError(f"no airport pair in the region is {cfg.min_km}-{cfg.max_km} km apart")
    plans = []
    span = cfg.world.hours * 3600.0
    for i in range(n):
        a, b = pairs[rng.integers(len(pairs))]
        hours = d[a, b] / 800.0 + 0.6
        dep = float(rng.uniform(0.0, max(span - hours * 3600.0, 1.0)))
        p = plan_flight(
            f"{prefix}{i:04d}-{ap.icao[a]}-{ap.icao[b]}",
            (ap.lat_deg[a], ap.lon_deg[a]),
            (ap.lat_deg[b], ap.lon_deg[b]),
            rng,
            cruise_alt_m=float(rng.uniform(*cfg.cruise_alt_m)),
            cruise_speed_mps=float(rng.uniform(220.0, 240.0)),
            departure_s=dep,
            hold_probability=cfg.hold_probability,
        )
        p.field_alt_m = (float(ap.elevation_m[a]), float(ap.elevation_m[b]))
        plans.append(p)
    return plans


def fly_disturbed(cfg: DatasetConfig, plans, seed: int) -> list[Trajectory]:
    """Fly ``plans`` and add the wind and turbulence of ``cfg``
    (:func:`satellite.platforms.disturb`, one named stream per flight)."""
    out = fly(plans)
    if cfg.wind_mps == 0 and cfg.turbulence_deg == 0:
        return out
    return [
        disturb(tr, stream(seed, f"disturb/{tr.name}"), cfg.wind_mps, cfg.turbulence_deg)
        for tr in out
    ]


def radar_features(
    world: World, traj: Trajectory, seed: int, noise: float = 0.3
) -> dict[str, np.ndarray]:
    """Forward weather radar, 10/20/30 km ahead on the current track: the strongest rain rate
    at flight level, the strongest surface rain rate and the echo top above the aircraft
    (log-normal multiplicative error ``noise`` on rain rates)."""
    cells = world.rain.near(traj.lat_deg, traj.lon_deg, traj.t_s, margin_km=200.0)
    n = len(traj)
    level = np.zeros(n)
    column = np.zeros(n)
    top = np.zeros(n)
    for dist in (10e3, 20e3, 30e3):
        lat, lon = destination_point(traj.lat_deg, traj.lon_deg, traj.heading_deg, dist)
        level = np.maximum(level, cells.rain_rate_mmh(lat, lon, traj.t_s, alt_m=traj.alt_m))
        c, tp = cells.column(lat, lon, traj.t_s)
        column = np.maximum(column, c)
        top = np.maximum(top, tp)
    r = stream(seed, f"radar/{traj.name}")
    err = np.exp(noise * r.standard_normal((2, n)))
    return {
        "radar_level_mmh": level * err[0],
        "radar_column_mmh": column * err[1],
        "radar_top_above_m": np.where(top > 0, top - traj.alt_m, -traj.alt_m),
    }


def flight_frame(
    world: World,
    traj: Trajectory,
    ls: LinkSet,
    radar: dict,
    hysteresis_db: float = 1.0,
    lookahead_s=(10, 30, 60, 120, 300),
    plan_look: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Per-second rows of one flight: the network-managed serving link of the recorded
    providers plus the aircraft state and radar.

    ``plan_el_h{h}_deg``/``plan_az_h{h}_deg`` for each ``h`` in ``lookahead_s``: where the
    satellite serving at t will be seen at t + h from the planned position (its ephemeris
    along the flight plan; the last planned sample past touchdown). ``plan_look`` gives
    every candidate's planned look angles ``(el, az)`` ``(T, C)``; by default ``ls``'s,
    which is exact when the aircraft flies its plan without disturbances. They depend on the
    link serving at t only, never on which link serves later."""
    n = len(traj)
    # the network keeps serving a blocked beam (it cannot see the blockage coming): selection
    # is over visible beams by measured Es/N0, which includes the blockage floor
    serving = hysteresis_select(
        np.where(ls.visible, ls.esn0_meas_db, -np.inf), ls.visible, hysteresis_db
    )
    has = serving >= 0
    sidx = np.where(has, serving, 0)
    rows = np.arange(n)
    pick = lambda a: np.where(has, a[rows, sidx], np.nan) if a.shape[1] else np.full(n, np.nan)  # noqa: E731
    esn0 = np.where(has, pick(ls.esn0_meas_db), BLOCKED_DB)
    rs = ls.symbol_rate_hz[sidx] if ls.n else np.full(n, np.nan)
    mc = select_modcod(esn0)
    load = pick(ls.load)
    prov_names = np.array([p.name for p in world.providers])
    df = pd.DataFrame(
        {
            "flight": traj.name,
            "t_s": traj.t_s,
            "lat_deg": traj.lat_deg,
            "lon_deg": traj.lon_deg,
            "alt_m": traj.alt_m,
            "speed_mps": traj.speed_mps,
            "heading_deg": traj.heading_deg,
            "vs_mps": traj.vs_mps,
            "roll_deg": traj.roll_deg,
            "pitch_deg": traj.pitch_deg,
            "phase": traj.phase,
            "time_to_turn_s": traj.time_to_turn_s,
            "next_turn_deg": traj.next_turn_deg,
            "heading_to_go_deg": traj.heading_to_go_deg,
            "provider": np.where(has, prov_names[ls.provider[sidx]] if ls.n else "", ""),
            "sat": np.where(has, ls.sat[sidx] if ls.n else -1, -1),
            "beam": np.where(has, ls.beam[sidx] if ls.n else -1, -1),
            "kind": np.where(has, ls.kind[sidx] if ls.n else 0, 0),
            "el_deg": pick(ls.el_deg),
            "az_deg": pick(ls.az_deg),
            "range_km": pick(ls.range_km),
            "boresight_deg": pick(ls.boresight_deg),
            "off_axis_deg": pick(ls.off_axis_deg),
            "cn0_dbhz": esn0 + 10.0 * np.log10(rs),
            "esn0_db": esn0,
            "modcod": mc,
            "throughput_bps": throughput_bps(esn0, rs) * user_share(np.nan_to_num(load)),
            "beam_load": load,
            "blocked": pick(ls.blocked.astype(float)) > 0,
            "truth_esn0_db": np.where(has, pick(ls.esn0_db), BLOCKED_DB),
            "truth_rain_db": pick(ls.rain_db),
            **radar,
        }
    )
    df["rel_az_deg"] = (df["az_deg"] - df["heading_deg"] + 180.0) % 360.0 - 180.0
    p_el, p_az = (ls.el_deg, ls.az_deg) if plan_look is None else plan_look
    for h in lookahead_s:
        ahead = np.minimum(rows + int(h), n - 1)
        for name, a in (("el", p_el), ("az", p_az)):
            val = a[ahead, sidx] if ls.n else np.full(n, np.nan)
            df[f"plan_{name}_h{int(h)}_deg"] = np.where(has, val, np.nan)
    return df


def generate_dataset(
    cfg: DatasetConfig, seed: int, progress=None, return_links: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, World, list[Trajectory], list[LinkSet]]:
    """Generate ``cfg.flights`` flights and return their per-second rows (one frame).

    With ``return_links`` also the world, trajectories and link sets (for handover studies).
    """
    world = build_world(cfg.world, seed)
    plans = make_plans(cfg, seed)
    trajs = fly_disturbed(cfg, plans, seed)
    frames, links = [], []
    for i, traj in enumerate(trajs):
        ls = evaluate_links(world, traj, cfg.providers)
        radar = radar_features(world, traj, seed, cfg.radar_noise)
        frames.append(flight_frame(world, traj, ls, radar, cfg.beam_hysteresis_db, cfg.lookahead_s))
        if return_links:
            links.append(ls)
        if progress is not None:
            progress((i + 1) / len(trajs))
    df = pd.concat(frames, ignore_index=True)
    if return_links:
        return df, world, trajs, links
    return df


def adsb_flights(world: WorldConfig, names=("elal747", "switzerland"), min_s: int = 600):
    """The bundled real ADS-B tracks replayed in ``world``: held-out trajectories.

    Each track keeps its UTC time of day (``t_s`` = seconds after the world's epoch at the
    track's clock time) when the world's span holds it; otherwise it is moved earlier so that
    it ends within the span. Only the samples inside ``world.region`` are kept (the world's
    beams, rain and airports cover only it), split into runs of consecutive samples; runs
    shorter than ``min_s`` seconds are dropped. The Qantas 747 (Sydney) lies outside the
    default European region and contributes nothing there. Raises ``ValueError`` naming the
    sample when none of its samples remains (except ``qantas747``).

    What is real: position, altitude, ground speed and track (so the turns, climbs and
    holding patterns and the roll derived from the turn rate). What is not: heading is the
    ground track and altitude barometric (see :func:`satellite.platforms.load_adsb_csv`),
    there is no flight plan (the plan columns are NaN), and the links are the world's
    simulated links."""
    import importlib.resources

    from .platforms import ADSB_FILES, _pick, load_adsb_csv

    span = world.hours * 3600.0
    la0, la1, lo0, lo1 = world.region
    out = []
    for name in names:
        if name not in ADSB_FILES:
            raise ValueError(
                f"real_flights: unknown sample {name!r} (allowed: {', '.join(ADSB_FILES)})"
            )
        ref = importlib.resources.files("satellite").joinpath("data", ADSB_FILES[name])
        with importlib.resources.as_file(ref) as path:
            t_unix = _pick(pd.read_csv(path), "time", str(path))
            day0 = np.floor(np.nanmin(t_unix) / 86400.0) * 86400.0  # UTC midnight
            tracks = load_adsb_csv(path, epoch_unix_s=day0)
        kept = 0
        for tr in tracks:
            t = tr.t_s
            if t[-1] > span:
                t = t - t[0] + max(span - (t[-1] - t[0]) - 1.0, 0.0)
            inside = (
                (tr.lat_deg >= la0) & (tr.lat_deg <= la1)
                & (tr.lon_deg >= lo0) & (tr.lon_deg <= lo1) & (t <= span)
            )
            edges = np.flatnonzero(np.diff(np.r_[0, inside.astype(np.int8), 0]))
            for j, (a, b) in enumerate(zip(edges[::2], edges[1::2], strict=True)):
                if b - a < min_s:
                    continue
                seg = tr.slice(np.arange(a, b))
                seg.t_s = t[a:b]
                seg.name = f"{name}:{tr.name}" + (f"@{j}" if edges.size > 2 else "")
                out.append(seg)
                kept += 1
        if not kept and name != "qantas747":
            raise ValueError(f"real_flights: no {name} sample lies in region {world.region}")
    return out


def load_link_log(
    path, satellite: str | None = None, epoch: datetime | None = None
) -> pd.DataFrame:
    """Read a real connectivity log into the dataset's format (one row per second).

    The CSV (plain or ``.gz``) holds the trajectory columns of
    :func:`satellite.platforms.load_adsb_csv` (time, position, altitude, speed, heading and an
    optional ``flight``/``callsign``/``icao24`` id) plus ``esn0_db`` (the modem's Es/N0).
    Times are Unix seconds (``timestamp_ms``, ``time_utc``, ``timestamp``) unless ``epoch`` is
    given, in which case ``time_s`` counts seconds after it. Each flight is resampled to 1 s
    (Es/N0 linearly). With ``satellite`` (a name in the bundled GEO set) the look angles and
    the antenna off-boresight angle are computed; otherwise they are NaN. Columns the log
    cannot provide (beam, off-axis angle, flight-plan look-ahead, radar) are NaN or 0, so
    :func:`satellite.predict.dataset_features` and ``cross_validate`` run on it.
    """
    from pathlib import Path

    from .frames import look_angles
    from .linkbudget import off_boresight_deg
    from .platforms import _ID_COLUMNS, _pick, load_adsb_csv

    p = Path(path)
    raw = pd.read_csv(p)
    if "esn0_db" not in raw.columns:
        raise ValueError(f"{p}: no esn0_db column (the modem's Es/N0 in dB is required)")
    t_abs = _pick(raw, "time", str(p))
    if raw.empty or not np.isfinite(t_abs).any():
        raise ValueError(f"{p}: empty flight (no rows with a time)")
    t0 = float(np.nanmin(t_abs))
    start = epoch if epoch is not None else datetime.fromtimestamp(t0, tz=UTC)
    trajs = load_adsb_csv(p, epoch_unix_s=t0)
    ids = next((raw[c].astype(str).to_numpy() for c in _ID_COLUMNS if c in raw.columns), None)
    es = pd.to_numeric(raw["esn0_db"], errors="coerce").to_numpy(dtype=float)
    sat_arr = None
    if satellite is not None:
        sat_arr = Constellation.from_tles(
            select(_tle_set("geo"), [satellite]), "geo", satellite
        ).array
    frames = []
    for tr in trajs:
        fid = tr.name.split("#")[0]
        m = np.isfinite(es) & np.isfinite(t_abs) & ((ids == fid) if ids is not None else True)
        order = np.argsort(t_abs[m], kind="stable")
        esn0 = np.interp(tr.t_s, (t_abs[m] - t0)[order], es[m][order])
        el = az = bore = np.full(len(tr), np.nan)
        if sat_arr is not None:
            el, az, _ = look_angles(
                propagate_ecef(sat_arr, start, tr.t_s)[0], tr.lat_deg, tr.lon_deg, tr.alt_m
            )
            bore = off_boresight_deg(el, az, tr.heading_deg, tr.pitch_deg, tr.roll_deg)
        n = len(tr)
        frames.append(
            pd.DataFrame(
                {
                    "flight": tr.name,
                    "t_s": tr.t_s,
                    "lat_deg": tr.lat_deg,
                    "lon_deg": tr.lon_deg,
                    "alt_m": tr.alt_m,
                    "speed_mps": tr.speed_mps,
                    "heading_deg": tr.heading_deg,
                    "vs_mps": tr.vs_mps,
                    "roll_deg": tr.roll_deg,
                    "pitch_deg": tr.pitch_deg,
                    "phase": tr.phase,
                    "time_to_turn_s": np.nan,
                    "next_turn_deg": np.nan,
                    "heading_to_go_deg": np.nan,
                    "provider": satellite or "",
                    "sat": 0,
                    "beam": -1,
                    "kind": 0,
                    "el_deg": el,
                    "az_deg": az,
                    "boresight_deg": bore,
                    "off_axis_deg": np.nan,
                    "esn0_db": esn0,
                    "radar_level_mmh": np.zeros(n),
                    "radar_column_mmh": np.zeros(n),
                    "radar_top_above_m": -tr.alt_m,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
