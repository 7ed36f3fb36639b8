"""Moving platforms: aircraft flying flight plans, trains and vehicles on polylines, and real
trajectories from ADS-B style CSV files. Every platform becomes a :class:`Trajectory` sampled
at a fixed step (1 s by default).

Aircraft (:func:`fly`) are flown by a vectorised point-mass model on a spherical Earth
(R = 6371 km): fly-by turns at a bank of at most 25° with a roll rate of 5°/s (turn rate
``ψ' = g·tan(φ)/V``, turn radius ``V²/(g·tan φ)``), climb rates of 12/9/5 m/s below
3/7.5 km/above, a 3° descent path from the top of descent, level holding patterns, and true
airspeed scheduled by altitude (75 m/s at the runway, 130 m/s at 3 km, cruise speed at cruise
level). Pitch is the flight-path angle plus 2.5° angle of attack. No wind (ground speed = TAS).
"""

from __future__ import annotations

import dataclasses
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netsim.topology import great_circle_km

__all__ = [
    "disturb",
    "PHASES",
    "Trajectory",
    "FlightPlan",
    "AircraftPerformance",
    "bearing_deg",
    "destination_point",
    "plan_flight",
    "fly",
    "planned_attitude",
    "polyline_track",
    "load_adsb_csv",
    "bundled_adsb",
]

EARTH_RADIUS_M = 6_371_008.8
G_M_S2 = 9.80665
FT_M = 0.3048
KT_MPS = 1852.0 / 3600.0
#: flight phases, coded 0..4 in :attr:`Trajectory.phase`
PHASES = ("ground", "climb", "cruise", "descent", "holding")
_GROUND, _CLIMB, _CRUISE, _DESCENT, _HOLD = range(5)


@dataclass
class Trajectory:
    """A platform track; all arrays have one entry per sample.

    Attributes:
        name, kind: identifier and ``"aircraft"``, ``"train"`` or ``"vehicle"``.
        t_s: sample times (s after the scenario epoch), strictly increasing.
        lat_deg, lon_deg, alt_m: WGS-84 position (altitude in metres, >= 0).
        speed_mps, heading_deg, vs_mps: ground speed, true track (0 = north), vertical speed.
        roll_deg, pitch_deg: attitude (roll > 0 = right wing down).
        phase: index into :data:`PHASES`.
        time_to_turn_s, next_turn_deg: flight-plan look-ahead - seconds until the next
            planned turn starts and its signed track change (> 0 = right); NaN if unknown.
        heading_to_go_deg: signed heading change still to fly toward the active waypoint
            (the rest of a turn in progress); NaN if unknown.
    """

    name: str
    kind: str
    t_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    speed_mps: np.ndarray
    heading_deg: np.ndarray
    vs_mps: np.ndarray = None
    roll_deg: np.ndarray = None
    pitch_deg: np.ndarray = None
    phase: np.ndarray = None
    time_to_turn_s: np.ndarray = None
    next_turn_deg: np.ndarray = None
    heading_to_go_deg: np.ndarray = None

    def __post_init__(self):
        if self.kind not in ("aircraft", "train", "vehicle"):
            raise ValueError(f"kind: must be aircraft, train or vehicle (got {self.kind!r})")
        self.t_s = np.asarray(self.t_s, dtype=float)
        n = self.t_s.size
        if n == 0:
            raise ValueError(f"trajectory {self.name!r} is empty (no samples)")
        defaults = {
            "vs_mps": 0.0,
            "roll_deg": 0.0,
            "pitch_deg": 0.0,
            "phase": None,
            "time_to_turn_s": np.nan,
            "next_turn_deg": np.nan,
            "heading_to_go_deg": np.nan,
        }
        for key in ("lat_deg", "lon_deg", "alt_m", "speed_mps", "heading_deg", *defaults):
            v = getattr(self, key)
            if v is None:
                if key == "phase":
                    v = np.where(np.asarray(self.alt_m, dtype=float) > 0, _CRUISE, _GROUND)
                else:
                    v = np.full(n, defaults[key])
            v = np.asarray(v, dtype=np.int8 if key == "phase" else float)
            if v.shape != (n,):
                raise ValueError(
                    f"trajectory {self.name!r}: {key} has shape {v.shape}, expected ({n},)"
                )
            setattr(self, key, v)
        for key in ("t_s", "lat_deg", "lon_deg", "alt_m", "speed_mps", "heading_deg"):
            if not np.all(np.isfinite(getattr(self, key))):
                raise ValueError(f"trajectory {self.name!r}: {key} has non-finite values")
        if n > 1 and np.any(np.diff(self.t_s) <= 0):
            raise ValueError(f"trajectory {self.name!r}: t_s must be strictly increasing")
        if np.any(np.abs(self.lat_deg) > 90):
            raise ValueError(f"trajectory {self.name!r}: lat_deg must be within [-90, 90]")
        if np.any(self.alt_m < 0):
            i = int(np.argmax(self.alt_m < 0))
            raise ValueError(
                f"trajectory {self.name!r}: alt_m must be >= 0 m "
                f"(got {self.alt_m[i]:g} at sample {i})"
            )
        if np.any(self.speed_mps < 0):
            raise ValueError(f"trajectory {self.name!r}: speed_mps must be >= 0")

    def __len__(self) -> int:
        return int(self.t_s.size)

    def slice(self, mask) -> Trajectory:
        """The samples selected by a boolean mask or index array."""
        keys = [f.name for f in dataclasses.fields(self) if f.name not in ("name", "kind")]
        return Trajectory(self.name, self.kind, **{k: getattr(self, k)[mask] for k in keys})


# -- spherical navigation ------------------------------------------------------------------------
def bearing_deg(lat1, lon1, lat2, lon2):
    """Initial great-circle bearing from point 1 to point 2 (deg, 0 = north, clockwise)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(y, x)) % 360.0


def destination_point(lat, lon, bearing, dist_m):
    """Point reached from (lat, lon) after ``dist_m`` along the great circle of initial
    ``bearing`` (spherical Earth of mean radius)."""
    p1, l1, b = np.radians(lat), np.radians(lon), np.radians(bearing)
    d = np.asarray(dist_m, dtype=float) / EARTH_RADIUS_M
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 180.0) % 360.0 - 180.0


def _wrap180(x):
    return (np.asarray(x) + 180.0) % 360.0 - 180.0


def _dist_m(lat1, lon1, lat2, lon2):
    return great_circle_km(lat1, lon1, lat2, lon2, radius_km=EARTH_RADIUS_M / 1000.0) * 1000.0


# -- flight plans --------------------------------------------------------------------------------
@dataclass
class FlightPlan:
    """Waypoints from the departure runway to the arrival runway.

    Attributes:
        lat_deg, lon_deg: waypoints, first = origin airport, last = destination airport.
        hold: per waypoint, True if the leg *to* it belongs to a level holding pattern.
        cruise_alt_m, cruise_speed_mps: cruise level and true airspeed.
        departure_s: take-off time (s after the epoch).
        field_alt_m: (origin, destination) airport elevations.
    """

    name: str
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    cruise_alt_m: float = 11_000.0
    cruise_speed_mps: float = 230.0
    departure_s: float = 0.0
    hold: np.ndarray = None
    field_alt_m: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self):
        self.lat_deg = np.asarray(self.lat_deg, dtype=float)
        self.lon_deg = np.asarray(self.lon_deg, dtype=float)
        if self.lat_deg.size < 2 or self.lat_deg.shape != self.lon_deg.shape:
            raise ValueError(f"flight plan {self.name!r}: needs >= 2 waypoints with lat and lon")
        if self.hold is None:
            self.hold = np.zeros(self.lat_deg.size, dtype=bool)
        self.hold = np.asarray(self.hold, dtype=bool)
        if not 0.0 < self.cruise_alt_m <= 20_000.0:
            raise ValueError(f"cruise_alt_m: must be in (0, 20000] m (got {self.cruise_alt_m})")
        if min(self.field_alt_m) < 0.0:
            raise ValueError(f"field_alt_m: must be >= 0 m (got {self.field_alt_m})")
        if not 50.0 <= self.cruise_speed_mps <= 320.0:
            raise ValueError(
                f"cruise_speed_mps: must be in [50, 320] (got {self.cruise_speed_mps})"
            )


@dataclass(frozen=True)
class AircraftPerformance:
    """Point-mass performance of a jet airliner (typical A320/B737 values)."""

    max_bank_deg: float = 25.0
    roll_rate_dps: float = 5.0
    bank_gain: float = 2.5  # commanded bank per degree of heading error
    approach_speed_mps: float = 75.0
    terminal_speed_mps: float = 130.0  # below 3 km (250 kt)
    climb_rates_mps: tuple[float, float, float] = (12.0, 9.0, 5.0)
    descent_path_deg: float = 3.0
    alpha_deg: float = 2.5


def plan_flight(
    name: str,
    origin: tuple[float, float],
    dest: tuple[float, float],
    rng: np.random.Generator,
    cruise_alt_m: float = 11_000.0,
    cruise_speed_mps: float = 230.0,
    departure_s: float = 0.0,
    leg_km: tuple[float, float] = (120.0, 300.0),
    airway_offset_km: float = 12.0,
    hold_probability: float = 0.2,
    hold_laps: tuple[int, int] = (1, 2),
) -> FlightPlan:
    """A plausible plan: runway-heading departure leg and turn onto the route, en-route
    waypoints along the great circle every ``leg_km`` with lateral airway offsets, an
    optional racetrack hold (1-min legs, right turns) at the arrival fix, and a
    downwind/base/final approach onto a runway of random heading."""
    (la0, lo0), (la1, lo1) = origin, dest
    total_m = float(_dist_m(la0, lo0, la1, lo1))
    if total_m < 100e3:
        raise ValueError(
            f"flight {name!r}: origin and destination are only {total_m / 1e3:.0f} km apart "
            "(need >= 100)"
        )
    rwy_dep, rwy_arr = rng.uniform(0, 360, 2)
    lats, lons, hold = [la0], [lo0], [False]

    def add(lat, lon, h=False):
        lats.append(float(lat))
        lons.append(float(lon))
        hold.append(h)

    add(*destination_point(la0, lo0, rwy_dep, rng.uniform(8e3, 15e3)))
    course = bearing_deg(la0, lo0, la1, lo1)
    # en-route waypoints between 40 km after departure and 60 km before the arrival fix
    s, end = 40e3 + rng.uniform(0, 20e3), total_m - 60e3
    while s < end:
        la, lo = destination_point(la0, lo0, course, s)
        c = bearing_deg(la, lo, la1, lo1)
        add(*destination_point(la, lo, c + 90.0, rng.normal(0.0, airway_offset_km * 1e3)))
        s += rng.uniform(*leg_km) * 1e3
    final_course = rwy_arr
    faf = destination_point(la1, lo1, final_course + 180.0, 15e3)
    iaf = destination_point(*faf, final_course + 180.0 + rng.choice([-90.0, 90.0]), 10e3)
    arr_fix = destination_point(*iaf, bearing_deg(la1, lo1, *iaf), 25e3)
    add(*arr_fix)
    if rng.random() < hold_probability:
        inbound = bearing_deg(*arr_fix, *iaf)
        leg = 12e3  # ~1.3 min at 150 m/s; the offset is about one turn diameter at 25° bank
        p1 = destination_point(*arr_fix, inbound + 90.0, 7e3)
        p2 = destination_point(*p1, inbound + 180.0, leg)
        p3 = destination_point(*arr_fix, inbound + 180.0, leg)
        for _ in range(int(rng.integers(hold_laps[0], hold_laps[1] + 1))):
            for p in (p1, p2, p3, arr_fix):
                add(*p, True)
    add(*iaf)
    add(*faf)
    add(la1, lo1)
    return FlightPlan(
        name,
        np.array(lats),
        np.array(lons),
        cruise_alt_m,
        cruise_speed_mps,
        departure_s,
        np.array(hold),
    )


def _plan_geometry(plan: FlightPlan):
    """Per waypoint: turn angle (signed, deg) and along-route distance to the destination
    excluding holding legs (m)."""
    la, lo = plan.lat_deg, plan.lon_deg
    out_course = np.append(bearing_deg(la[:-1], lo[:-1], la[1:], lo[1:]), np.nan)
    in_course = np.insert(
        (bearing_deg(la[1:], lo[1:], la[:-1], lo[:-1]) + 180.0) % 360.0, 0, np.nan
    )
    turn = np.nan_to_num(_wrap180(out_course - in_course))
    leg = np.append(_dist_m(la[:-1], lo[:-1], la[1:], lo[1:]), 0.0)  # leg from w to w+1
    leg_counted = np.where(np.append(plan.hold[1:], False), 0.0, leg)
    to_dest = np.cumsum(leg_counted[::-1])[::-1]  # sum of counted legs from w onwards
    return turn, to_dest


def _speed_for_alt(alt_m, cruise_alt_m, cruise_speed, perf: AircraftPerformance):
    return np.where(
        alt_m < 3000.0,
        perf.approach_speed_mps
        + (perf.terminal_speed_mps - perf.approach_speed_mps) * alt_m / 3000.0,
        perf.terminal_speed_mps
        + (cruise_speed - perf.terminal_speed_mps)
        * np.clip((alt_m - 3000.0) / np.maximum(cruise_alt_m - 3000.0, 1.0), 0, 1),
    )


def fly(
    plans: list[FlightPlan],
    dt_s: float = 1.0,
    perf: AircraftPerformance = AircraftPerformance(),
    max_duration_s: float = 12 * 3600.0,
) -> list[Trajectory]:
    """Fly all ``plans`` at once (arrays over aircraft, one loop over time steps).

    Each aircraft starts on the origin runway at its ``departure_s`` and stops at touchdown;
    samples run from take-off roll to touchdown every ``dt_s`` seconds.
    """
    if not plans:
        raise ValueError("fly needs at least one flight plan")
    if dt_s <= 0:
        raise ValueError(f"dt_s must be > 0 (got {dt_s})")
    n = len(plans)
    w_max = max(p.lat_deg.size for p in plans)
    wlat = np.zeros((n, w_max))
    wlon = np.zeros((n, w_max))
    whold = np.zeros((n, w_max), dtype=bool)
    wturn = np.zeros((n, w_max))
    wdest = np.zeros((n, w_max))
    last = np.array([p.lat_deg.size - 1 for p in plans])
    for i, p in enumerate(plans):
        k = p.lat_deg.size
        wlat[i, :k], wlon[i, :k], whold[i, :k] = p.lat_deg, p.lon_deg, p.hold
        wturn[i, :k], wdest[i, :k] = _plan_geometry(p)
    cruise_alt = np.array([p.cruise_alt_m for p in plans])
    cruise_v = np.array([p.cruise_speed_mps for p in plans])
    dest_alt = np.array([p.field_alt_m[1] for p in plans])
    lat, lon = wlat[:, 0].copy(), wlon[:, 0].copy()
    alt = np.array([p.field_alt_m[0] for p in plans], dtype=float)
    hdg = bearing_deg(lat, lon, wlat[:, 1], wlon[:, 1])
    roll = np.zeros(n)
    wp = np.ones(n, dtype=int)
    active = np.ones(n, dtype=bool)
    idx = np.arange(n)
    tan_bank = np.tan(np.radians(perf.max_bank_deg))
    tan_path = np.tan(np.radians(perf.descent_path_deg))
    roll_step = perf.roll_rate_dps * dt_s
    c1, c2, c3 = perf.climb_rates_mps
    steps = int(max_duration_s / dt_s)
    names = ("lat", "lon", "alt", "v", "hdg", "vs", "roll", "phase", "ttt", "nturn", "togo")
    rec = {k: np.empty((steps, n)) for k in names}
    rec_act = np.zeros((steps, n), dtype=bool)
    descending = np.zeros(n, dtype=bool)
    k = 0
    for k in range(steps):
        v = _speed_for_alt(alt, cruise_alt, cruise_v, perf)
        tlat, tlon = wlat[idx, wp], wlon[idx, wp]
        d = _dist_m(lat, lon, tlat, tlon)
        turn = np.abs(wturn[idx, wp])
        radius = v * v / (G_M_S2 * tan_bank)
        anticipate = radius * np.where(
            turn < 120.0, np.tan(np.radians(np.minimum(turn, 120.0)) * 0.5), 1.0
        )
        advance = (wp < last) & ((d < anticipate) | (d < 300.0))
        if advance.any():
            wp = wp + advance
            tlat, tlon = wlat[idx, wp], wlon[idx, wp]
            d = _dist_m(lat, lon, tlat, tlon)
            turn = np.abs(wturn[idx, wp])
            anticipate = radius * np.where(
                turn < 120.0, np.tan(np.radians(np.minimum(turn, 120.0)) * 0.5), 1.0
            )
        # lateral guidance: bank toward the bearing to the active waypoint
        # (wings level on the runway)
        err = (bearing_deg(lat, lon, tlat, tlon) - hdg + 180.0) % 360.0 - 180.0
        ground = alt < 15.0
        cmd = np.where(
            ground, 0.0, np.clip(perf.bank_gain * err, -perf.max_bank_deg, perf.max_bank_deg)
        )
        roll += np.clip(cmd - roll, -roll_step, roll_step)
        turn_rate = np.degrees(G_M_S2 * np.tan(np.radians(roll)) / v)
        hdg = np.where(ground, hdg + np.clip(err, -3.0, 3.0), hdg + turn_rate * dt_s) % 360.0
        # vertical guidance
        holding = whold[idx, wp]
        path_alt = dest_alt + (d + wdest[idx, wp]) * tan_path
        descending |= path_alt < alt - 50.0
        climb = np.where(alt < 3000.0, c1, np.where(alt < 7500.0, c2, c3))
        vs = np.where(
            holding,
            0.0,
            np.where(
                descending,
                np.clip((path_alt - alt) * 0.1, -25.0, 0.0),
                np.minimum(climb, (cruise_alt - alt) * 0.1),
            ),
        )
        phase = np.where(
            holding,
            _HOLD,
            np.where(descending, _DESCENT, np.where(alt < cruise_alt - 30.0, _CLIMB, _CRUISE)),
        )
        rec["lat"][k], rec["lon"][k], rec["alt"][k], rec["v"][k], rec["hdg"][k] = (
            lat,
            lon,
            alt,
            v,
            hdg,
        )
        rec["vs"][k], rec["roll"][k], rec["phase"][k], rec["togo"][k] = vs, roll, phase, err
        # flight-plan look-ahead: time until the next turn begins and its size
        rec["ttt"][k] = np.maximum(d - anticipate, 0.0) / v
        rec["nturn"][k] = np.where(wp < last, wturn[idx, wp], 0.0)
        rec_act[k] = active
        # integrate on the sphere
        step = v * dt_s / EARTH_RADIUS_M
        h = np.radians(hdg)
        lat_r = np.radians(lat)
        lat = lat + np.degrees(step * np.cos(h))
        lon = (lon + np.degrees(step * np.sin(h) / np.cos(lat_r)) + 180.0) % 360.0 - 180.0
        alt = np.maximum(alt + vs * dt_s, 0.0)
        active &= ~((wp == last) & (d < 2000.0))
        if not active.any():
            break
    out = []
    for i, p in enumerate(plans):
        m = rec_act[: k + 1, i]
        n_i = int(m.sum())
        col = {key: rec[key][:n_i, i] for key in names}
        out.append(
            Trajectory(
                p.name,
                "aircraft",
                p.departure_s + dt_s * np.arange(n_i),
                col["lat"],
                col["lon"],
                col["alt"],
                col["v"],
                col["hdg"],
                col["vs"],
                col["roll"],
                np.degrees(np.arctan2(col["vs"], col["v"])) + perf.alpha_deg,
                col["phase"].astype(np.int8),
                col["ttt"],
                col["nturn"],
                col["togo"],
            )
        )
    return out


def planned_attitude(
    heading_deg,
    speed_mps,
    heading_to_go_deg,
    time_to_turn_s,
    next_turn_deg,
    dt_s,
    max_bank_deg: float = 25.0,
):
    """Heading and roll ``dt_s`` ahead if the aircraft flies its plan: finish the turn in
    progress (``heading_to_go_deg``), fly straight until the next turn starts
    (``time_to_turn_s``), then turn by ``next_turn_deg``; turns at ``max_bank_deg`` with rate
    ``g·tan(φ)/V`` (roll-in/out transients of a few seconds are ignored). NaN plan data are
    read as "no turn". Returns (heading_deg, roll_deg)."""
    v = np.maximum(np.asarray(speed_mps, dtype=float), 1.0)
    rate = np.degrees(G_M_S2 * np.tan(np.radians(max_bank_deg)) / v)
    dt = float(dt_s)
    togo = np.nan_to_num(np.asarray(heading_to_go_deg, dtype=float))
    togo = np.where(np.abs(togo) < 1.0, 0.0, togo)
    ttt = np.nan_to_num(np.asarray(time_to_turn_s, dtype=float), nan=np.inf)
    nturn = np.nan_to_num(np.asarray(next_turn_deg, dtype=float))
    t1 = np.abs(togo) / rate  # time to finish the current turn
    turned1 = np.sign(togo) * rate * np.minimum(dt, t1)
    start2 = np.maximum(ttt, t1)  # the next turn cannot start before this one ends
    t2 = np.clip(dt - start2, 0.0, np.abs(nturn) / rate)
    turned2 = np.sign(nturn) * rate * t2
    in1 = dt < t1
    in2 = (dt >= start2) & (dt < start2 + np.abs(nturn) / rate) & (nturn != 0)
    roll = np.where(
        in1, np.sign(togo) * max_bank_deg, np.where(in2, np.sign(nturn) * max_bank_deg, 0.0)
    )
    return (np.asarray(heading_deg, dtype=float) + turned1 + turned2) % 360.0, roll


# -- ground platforms ----------------------------------------------------------------------------
def polyline_track(
    name: str,
    lat_deg,
    lon_deg,
    speed_mps: float,
    kind: str = "train",
    start_s: float = 0.0,
    dt_s: float = 1.0,
    accel_mps2: float = 0.5,
    ground_alt_m: float = 0.0,
) -> Trajectory:
    """A train or vehicle moving along a polyline (great-circle segments) at ground level,
    accelerating from rest at ``accel_mps2`` to ``speed_mps`` and braking to rest at the end."""
    la, lo = np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float)
    if la.size < 2 or la.shape != lo.shape:
        raise ValueError(f"{name}: a polyline needs >= 2 points with lat and lon")
    if speed_mps <= 0 or accel_mps2 <= 0:
        raise ValueError(f"{name}: speed_mps and accel_mps2 must be > 0")
    if ground_alt_m < 0:
        raise ValueError(f"{name}: ground_alt_m must be >= 0 m (got {ground_alt_m})")
    seg = _dist_m(la[:-1], lo[:-1], la[1:], lo[1:])
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(cum[-1])
    if total <= 0:
        raise ValueError(f"{name}: the polyline has zero length")
    t_acc = speed_mps / accel_mps2
    d_acc = 0.5 * accel_mps2 * t_acc**2
    if 2 * d_acc > total:  # triangular profile
        t_acc = np.sqrt(total / accel_mps2)
        speed_mps = accel_mps2 * t_acc
        d_acc = total / 2
    t_cruise = (total - 2 * d_acc) / speed_mps
    t_end = 2 * t_acc + t_cruise
    t = np.arange(0.0, t_end + dt_s, dt_s)
    t[-1] = min(t[-1], t_end)
    s = np.where(
        t < t_acc,
        0.5 * accel_mps2 * t**2,
        np.where(
            t < t_acc + t_cruise,
            d_acc + speed_mps * (t - t_acc),
            total - 0.5 * accel_mps2 * np.maximum(t_end - t, 0) ** 2,
        ),
    )
    v = np.where(
        t < t_acc,
        accel_mps2 * t,
        np.where(t < t_acc + t_cruise, speed_mps, accel_mps2 * np.maximum(t_end - t, 0)),
    )
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, seg.size - 1)
    brg = bearing_deg(la[k], lo[k], la[k + 1], lo[k + 1])
    lat, lon = destination_point(la[k], lo[k], brg, s - cum[k])
    hdg = bearing_deg(lat, lon, la[k + 1], lo[k + 1])
    keep = np.append(np.diff(t) > 0, True)
    return Trajectory(
        name,
        kind,
        start_s + t[keep],
        lat[keep],
        lon[keep],
        np.full(keep.sum(), ground_alt_m),
        v[keep],
        hdg[keep],
    )


# -- ADS-B style CSV -----------------------------------------------------------------------------
_COLUMNS = {
    "time": (("time_s", 1.0), ("timestamp_ms", 1e-3), ("timestamp", 1.0)),
    "lat": (("lat_deg", 1.0), ("latitude", 1.0), ("lat", 1.0)),
    "lon": (("lon_deg", 1.0), ("longitude", 1.0), ("lon", 1.0)),
    # geometric (GNSS, WGS-84) height first; barometric pressure altitude only as a fallback
    "alt": (("alt_m", 1.0), ("geoaltitude_m", 1.0), ("geoaltitude", 1.0), ("altitude_ft", FT_M)),
    "speed": (("speed_mps", 1.0), ("groundspeed_kt", KT_MPS)),
    "heading": (("heading_deg", 1.0), ("track_deg", 1.0), ("track", 1.0)),
}
_ID_COLUMNS = ("flight", "callsign", "icao24")


def _pick(df: pd.DataFrame, what: str, source: str) -> np.ndarray:
    for col, scale in _COLUMNS[what]:
        if col in df.columns:
            return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float) * scale
    if what == "time" and "time_utc" in df.columns:
        ts = pd.to_datetime(df["time_utc"], utc=True, errors="coerce")
        return (ts - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy()
    allowed = ", ".join(c for c, _ in _COLUMNS[what]) + (", time_utc" if what == "time" else "")
    raise ValueError(f"{source}: no {what} column (allowed: {allowed})")


def load_adsb_csv(
    path: str | Path,
    epoch_unix_s: float | None = None,
    resample_s: float | None = 1.0,
    max_gap_s: float = 120.0,
) -> list[Trajectory]:
    """Read trajectories from an ADS-B style CSV (plain or ``.gz``).

    Columns (first match wins): time ``time_s`` | ``timestamp_ms`` | ``timestamp`` (Unix s) |
    ``time_utc`` (ISO 8601); ``lat_deg`` | ``latitude``; ``lon_deg`` | ``longitude``;
    ``alt_m`` | ``altitude_ft``; ``speed_mps`` | ``groundspeed_kt``; ``heading_deg`` |
    ``track_deg``. An optional ``flight``, ``callsign`` or ``icao24`` column splits flights.
    Rows with missing values are dropped; each flight is resampled to ``resample_s`` (linear in
    position, altitude and speed, heading unwrapped) and split at gaps > ``max_gap_s``. Roll is
    derived from the turn rate, ``φ = atan(V·ψ'/g)``. Times become seconds after
    ``epoch_unix_s`` (default: the first sample of the file).

    Approximations (ADS-B does not carry what the antenna geometry needs; stated, not hidden):

    * **Heading is the ground track** when only ``track_deg`` is given. The nose points into
      the wind by the crab angle ``asin(w_cross/V_TAS)``: up to ~10° in a 40 m/s jet-stream
      crosswind at cruise, which shifts the antenna off-boresight angle by up to that much.
      Give ``heading_deg`` (true heading) when the log has it.
    * **Altitude:** a geometric height column (``alt_m``, ``geoaltitude_m``/``geoaltitude``,
      GNSS height, WGS-84) is preferred. Otherwise ``altitude_ft`` is the *barometric
      pressure altitude* (ISA, 1013.25 hPa) used as WGS-84 height; it differs from the
      ellipsoidal height by the QNH/temperature offset (typically ±300 m at cruise) plus the
      geoid undulation (-100..+80 m; about +45 m over Europe). For a GEO or LEO look angle a
      few hundred metres of height error move the elevation by < 0.01°, so link budgets are
      unaffected; the phase and vertical speed derived from it are relative and unaffected.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"trajectory file not found: {p}")
    raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    df = pd.read_csv(io.BytesIO(raw))
    if df.empty:
        raise ValueError(f"{p}: empty flight (no rows)")
    cols = {k: _pick(df, k, str(p)) for k in _COLUMNS}
    ids = next(
        (df[c].astype(str).to_numpy() for c in _ID_COLUMNS if c in df.columns),
        np.full(len(df), p.stem),
    )
    ok = np.all([np.isfinite(v) for v in cols.values()], axis=0)
    if not ok.any():
        raise ValueError(
            f"{p}: empty flight (no row has all of time, position, altitude, speed, heading)"
        )
    t0 = float(np.nanmin(cols["time"][ok])) if epoch_unix_s is None else float(epoch_unix_s)
    out = []
    for fid in pd.unique(ids[ok]):
        m = ok & (ids == fid)
        order = np.argsort(cols["time"][m], kind="stable")
        c = {k: v[m][order] for k, v in cols.items()}
        keep = np.append(True, np.diff(c["time"]) > 0)
        c = {k: v[keep] for k, v in c.items()}
        if np.any(c["alt"] < 0):
            i = int(np.argmax(c["alt"] < 0))
            raise ValueError(
                f"{p}: flight {fid}: negative altitude {c['alt'][i]:g} m at {c['time'][i] - t0:g} s"
            )
        breaks = np.flatnonzero(np.diff(c["time"]) > max_gap_s) + 1
        for j, seg in enumerate(np.split(np.arange(c["time"].size), breaks)):
            if seg.size < 2:
                continue
            name = f"{fid}" if breaks.size == 0 else f"{fid}#{j}"
            out.append(_resampled(name, {k: v[seg] for k, v in c.items()}, t0, resample_s))
    if not out:
        raise ValueError(f"{p}: empty flight (fewer than two valid samples per flight)")
    return out


def _resampled(name: str, c: dict, t0: float, step: float | None) -> Trajectory:
    t = c["time"] - t0
    hdg_u = np.degrees(np.unwrap(np.radians(c["heading"])))
    if step is not None:
        tn = np.arange(t[0], t[-1] + 1e-9, step)
        c = {k: np.interp(tn, t, v) for k, v in c.items() if k != "heading"}
        hdg_u = np.interp(tn, t, hdg_u)
        t = tn
    rate = np.gradient(np.radians(hdg_u), t) if t.size > 2 else np.zeros_like(t)
    rate = np.convolve(rate, np.ones(5) / 5, mode="same") if rate.size >= 5 else rate
    roll = np.degrees(np.arctan(np.asarray(c["speed"]) * rate / G_M_S2))
    vs = np.gradient(c["alt"], t) if t.size > 2 else np.zeros_like(t)
    phase = np.where(
        c["alt"] < 30.0, _GROUND, np.where(vs > 2.0, _CLIMB, np.where(vs < -2.0, _DESCENT, _CRUISE))
    )
    pitch = np.degrees(np.arctan2(vs, np.maximum(c["speed"], 1.0))) + np.where(
        c["alt"] < 30, 0.0, 2.5
    )
    return Trajectory(
        name,
        "aircraft",
        t,
        c["lat"],
        c["lon"],
        c["alt"],
        c["speed"],
        hdg_u % 360.0,
        vs,
        np.clip(roll, -45, 45),
        pitch,
        phase.astype(np.int8),
    )


#: the bundled real ADS-B samples (``satellite/data/README.md``)
ADSB_FILES = {
    "elal747": "elal747_ELY1747_LIRF-LLBG_2019-11-03.csv.gz",
    "qantas747": "qantas747_QFA7474_YSSY-KLAX_2020-07-22.csv.gz",
    "switzerland": "switzerland_2018-08-01_1200-1230Z.csv.gz",
}


def bundled_adsb(name: str = "elal747") -> list[Trajectory]:
    """A bundled real ADS-B sample: ``"elal747"``, ``"qantas747"`` or ``"switzerland"``
    (see ``satellite/data/README.md``)."""
    import importlib.resources

    if name not in ADSB_FILES:
        raise ValueError(f"adsb sample: unknown {name!r} (allowed: {', '.join(ADSB_FILES)})")
    ref = importlib.resources.files("satellite").joinpath("data", ADSB_FILES[name])
    with importlib.resources.as_file(ref) as path:
        return load_adsb_csv(path)


def disturb(
    traj: Trajectory,
    rng: np.random.Generator,
    wind_mps: float = 15.0,
    turbulence_deg: float = 1.5,
    tau_s: float = 5.0,
) -> Trajectory:
    """The flight as a real airframe flies it: wind and turbulence the plan does not know.

    * **Wind:** one wind vector per flight, east and north components ~ N(0, ``wind_mps``).
      The aircraft keeps its ground track, so the nose is offset by the crab angle
      ``asin(w_⊥/V)`` (``w_⊥``: the crosswind to the right of the track): the recorded
      ``heading_deg`` becomes the nose heading (what the antenna is bolted to), which the
      autopilot forecast in :mod:`satellite.features` does not model.
    * **Turbulence:** AR(1) roll and pitch disturbances with standard deviations
      ``turbulence_deg`` and half of it, correlation time ``tau_s`` (airborne only).

    Airspeed, position and the flight-plan look-ahead columns are unchanged.
    """
    if wind_mps < 0 or turbulence_deg < 0 or tau_s <= 0:
        raise ValueError(
            "disturb: wind_mps and turbulence_deg must be >= 0 and tau_s > 0 "
            f"(got {wind_mps}, {turbulence_deg}, {tau_s})"
        )
    n = len(traj)
    we, wn = rng.normal(0.0, wind_mps, 2)
    trk = np.radians(traj.heading_deg)
    cross = we * np.cos(trk) - wn * np.sin(trk)
    crab = np.degrees(np.arcsin(np.clip(cross / np.maximum(traj.speed_mps, 50.0), -0.5, 0.5)))
    air = traj.alt_m > 30.0
    rho = float(np.exp(-1.0 / tau_s))
    w = rng.standard_normal((2, n)) * np.sqrt(1.0 - rho * rho)
    ar = np.empty((2, n))
    ar[:, 0] = rng.standard_normal(2)
    for t in range(1, n):
        ar[:, t] = rho * ar[:, t - 1] + w[:, t]
    return dataclasses.replace(
        traj,
        heading_deg=np.where(air, (traj.heading_deg - crab) % 360.0, traj.heading_deg),
        roll_deg=traj.roll_deg + np.where(air, turbulence_deg * ar[0], 0.0),
        pitch_deg=traj.pitch_deg + np.where(air, 0.5 * turbulence_deg * ar[1], 0.0),
    )
