"""An aircraft route served by your own LEO TLE set, run on the netsim engine.

A flight plan London -> Munich is flown by the point-mass model; the candidate links are the
satellites of a TLE file (default: the bundled OneWeb snapshot of 2021-08-05) through the
module's physical link budget; two handover rules serve the flight as engine processes.
Run: ``python examples/satellite_route.py [--quick] [my_tles.txt]`` (``--quick``: a
short hop London -> Brussels and every 4th satellite).
"""

import os
import sys

import numpy as np

from netsim import Simulation
from netsim.rng import stream
from satellite.dataset import ProviderConfig, WorldConfig, build_world
from satellite.handover import POLICIES
from satellite.links import evaluate_links
from satellite.load import simulate_load
from satellite.model import FlightSession
from satellite.orbits import Constellation
from satellite.platforms import fly, plan_flight
from satellite.tle import bundled_tle, load_tle

quick = "--quick" in sys.argv or os.environ.get("NETSIM_EXAMPLE_QUICK") == "1"
files = [a for a in sys.argv[1:] if not a.startswith("--")]
tles = load_tle(files[0]) if files else bundled_tle("oneweb")
tles = tles[::4] if quick else tles
leo = ProviderConfig(name="MY-LEO", kind="leo", tle_set="oneweb", satellites=[], mask_deg=25.0,
                     pattern="bessel", theta3db_deg=4.0, eirp_dbw=36.0, gt_dbk=10.0,
                     freq_ghz=11.7, symbol_rate_msps=150.0, mean_users=8.0)
world = build_world(WorldConfig(providers=[leo], hours=3.0), seed=1)
prov = world.providers[0]
prov.constellation = Constellation.from_tles(tles, "leo", "MY-LEO")  # your satellites
world.loads[0] = simulate_load(stream(1, "example/load"), np.full(len(tles), 5.0), 0.0,
                               3 * 3600.0, 0.0, mean_users=8.0, step_s=60.0)
dest = (50.90, 4.48) if quick else (48.35, 11.79)
plan = plan_flight("LHR-route", (51.47, -0.46), dest, np.random.default_rng(3), departure_s=600.0)
traj = fly([plan])[0]
links = evaluate_links(world, traj)
print(f"{traj.name}: {len(traj)} s flown, {links.n} candidate satellites of {len(tles)}")
for name in ("reactive", "max_elevation"):
    sim = Simulation(seed=0)
    fs = FlightSession(sim, links, policy=POLICIES[name](), decision_interval_s=5)
    sim.run()
    gb, out, n = fs.delivered.value / 8e9, fs.outage.value, fs.handovers.value
    print(f"{name:14s} delivered {gb:6.2f} GB, outage {out:5.0f} s, handovers {n:.0f}")
