"""Speed of the satellite module (issue 7 targets), measured in one process.

1. Satellite positions per second *with look angles* (1,000 Starlink TLEs x 3,600 one-second
   steps seen from a moving aircraft): netsim's pipeline (SatrecArray on a 10-s grid + cubic
   Hermite + GMST rotation + look angles, and the exact per-second variant) beside raw sgp4
   ``SatrecArray`` (TEME positions only) and skyfield (``(sat - wgs84.latlon).at(t).altaz()``
   on a subset). Target >= 1M positions/s.
2. A 1-day, 1,000-satellite Walker-delta shell (53°, 550 km) at 10-s steps seen from 100
   aircraft (great-circle tracks at 11 km): every (time, satellite, aircraft) above a 25° mask,
   with elevation, azimuth and range. Target < 60 s.
3. The 500-flight dataset (default DatasetConfig). Target < 120 s.

Run: ``python benchmarks/satellite.py [--quick]`` (``--quick``: smaller sizes, no dataset).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from netsim.timing import best_of

# this file is named like the package it measures: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from satellite.frames import look_angles, time_grid  # noqa: E402
from satellite.orbits import propagate_ecef, walker_delta  # noqa: E402
from satellite.platforms import destination_point  # noqa: E402
from satellite.tle import bundled_tle, satrec_array  # noqa: E402
from satellite.visibility import visible_pairs  # noqa: E402

EPOCH = datetime(2021, 8, 5, tzinfo=UTC)


def positions_per_second(n_sat: int, n_t: int, sky_sats: int, sky_t: int) -> dict:
    tles = bundled_tle("starlink")[:n_sat]
    arr = satrec_array(tles)
    t = np.arange(float(n_t))
    lat = 48.0 + 0.002 * t  # an aircraft flying north at ~220 m/s
    lon = np.full(n_t, 11.0)
    alt = np.full(n_t, 11000.0)
    jd, fr = time_grid(EPOCH, t)
    n = n_sat * n_t

    def ours():
        r = propagate_ecef(arr, EPOCH, t, coarse_step_s=10.0)
        return look_angles(r, lat, lon, alt)

    def ours_exact():
        return look_angles(propagate_ecef(arr, EPOCH, t), lat, lon, alt)

    def raw():
        return arr.sgp4(jd, fr)

    (el, _, _), dt_ours, _ = best_of(ours)
    (el2, _, _), dt_exact, _ = best_of(ours_exact, 2)
    _, dt_raw, _ = best_of(raw, 2)
    err = np.nanmax(np.abs(el - el2))
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    tt = ts.utc(2021, 8, 5, 0, 0, t[:sky_t])
    t0 = time.perf_counter()
    for tle in tles[:sky_sats]:
        sat = EarthSatellite(tle.line1, tle.line2, tle.name, ts)
        (sat - wgs84.latlon(48.0, 11.0, 11000.0)).at(tt).altaz()
    dt_sky = time.perf_counter() - t0
    return {
        "ours": n / dt_ours,
        "ours_exact": n / dt_exact,
        "raw_sgp4_teme_only": n / dt_raw,
        "skyfield": sky_sats * sky_t / dt_sky,
        "interp_max_el_err_deg": float(err),
    }


def shell_from_aircraft(
    n_sat: int, planes: int, n_ac: int, hours: float, step: float, mask: float
) -> dict:
    t = np.arange(0.0, hours * 3600.0, step)
    rng = np.random.default_rng(7)
    lat0, lon0 = rng.uniform(-55, 60, n_ac), rng.uniform(-180, 180, n_ac)
    hdg = rng.uniform(0, 360, n_ac)
    dist = 250.0 * t  # 250 m/s great-circle cruise
    lat, lon = destination_point(lat0[:, None], lon0[:, None], hdg[:, None], dist[None, :])
    alt = np.full(lat.shape, 11000.0)
    t0 = time.perf_counter()
    con = walker_delta(n_sat, planes, 1, 53.0, 550.0, EPOCH)
    pos = con.ecef(EPOCH, t, coarse_step_s=60.0)
    t_prop = time.perf_counter() - t0
    vis = visible_pairs(pos, lat, lon, alt, mask, chunk=16)
    total = time.perf_counter() - t0
    per = np.bincount(vis.t_idx * n_ac + vis.obs_idx, minlength=t.size * n_ac)
    return {
        "seconds": total,
        "propagation_s": t_prop,
        "triples": n_sat * n_ac * t.size,
        "visible_pairs": len(vis),
        "mean_visible_per_aircraft": float(per.mean()),
        "min_el_listed": float(vis.el_deg.min()) if len(vis) else float("nan"),
    }


def dataset_seconds(flights: int) -> tuple[float, int]:
    from satellite.dataset import DatasetConfig, generate_dataset

    t0 = time.perf_counter()
    df = generate_dataset(DatasetConfig(flights=flights), 7)
    return time.perf_counter() - t0, len(df)


def main() -> None:
    quick = "--quick" in sys.argv
    print("== satellite benchmark (shared machine: timings are noisy) ==")
    p = positions_per_second(
        200 if quick else 1000, 600 if quick else 3600, 5 if quick else 20, 600 if quick else 3600
    )
    print(
        f"[1] positions with look angles: netsim (10-s SGP4 + Hermite) {p['ours'] / 1e6:.2f} M/s, "
        f"netsim exact SGP4 every second {p['ours_exact'] / 1e6:.2f} M/s "
        f"(max |Δel| {p['interp_max_el_err_deg']:.1e} deg)"
    )
    print(
        "    baselines: raw sgp4 SatrecArray (TEME positions only) "
        f"{p['raw_sgp4_teme_only'] / 1e6:.2f} M/s, "
        f"skyfield altaz {p['skyfield'] / 1e6:.3f} M/s"
    )
    s = shell_from_aircraft(1000, 40, 100, 2.0 if quick else 24.0, 10.0, 25.0)
    print(
        f"[2] 1,000-sat shell x 100 aircraft x {'2 h' if quick else '1 day'} at 10 s: "
        f"{s['seconds']:.1f} s "
        f"(propagation {s['propagation_s']:.1f} s; {s['triples'] / 1e6:.0f} M triples screened, "
        f"{s['visible_pairs']:,} visible, {s['mean_visible_per_aircraft']:.1f} per aircraft "
        "on average, "
        f"lowest listed elevation {s['min_el_listed']:.2f} deg >= mask 25) target < 60 s"
    )
    if not quick:
        secs, rows = dataset_seconds(500)
        print(f"[3] 500-flight dataset: {secs:.1f} s for {rows:,} per-second rows (target < 120 s)")
    print(
        f"ratio netsim/raw-sgp4 = {p['ours'] / p['raw_sgp4_teme_only']:.2f}, "
        f"netsim/skyfield = {p['ours'] / p['skyfield']:.0f}  (target >= 1M positions/s: "
        f"{'met' if p['ours'] >= 1e6 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
