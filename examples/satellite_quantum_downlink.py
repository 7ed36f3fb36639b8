"""Two modules, one engine: entanglement downlink from a OneWeb satellite (SGP4) over Delft.
Each second ``satellite`` updates the channel η = (D/(θL))²·0.8^(1/sin el) (10 µrad, 1 m;
Bourgoin et al., NJP 15, 023006) and ``quantum`` turns it into detected pairs (10 MHz source),
a BBM92 key ½(1 − 2h(Q)) and the PLOB bound −log2(1 − η) per use: two processes, one seed."""

import os
from datetime import UTC, datetime

import numpy as np

from netsim import Simulation
from quantum.applications import key_rate_bps
from quantum.bounds import plob_capacity
from satellite.frames import look_angles
from satellite.orbits import Constellation
from satellite.tle import bundled_tle

SITE, EPOCH = (52.0, 4.37, 0.0), datetime(2021, 8, 5, tzinfo=UTC)  # Delft, the TLEs' date
RATE_HZ, F_PAIR, t = 1e7, 0.97, np.arange(0, 21600, 10.0)  # source Hz, pair fidelity, grid (s)
tles = bundled_tle("oneweb")[: 40 if os.environ.get("NETSIM_EXAMPLE_QUICK") == "1" else 400]
el = look_angles(Constellation.from_tles(tles, "leo", "1W").ecef(EPOCH, t), *SITE)[0]
s, k = np.unravel_index(np.argmax(el), el.shape)  # the highest pass of the day
sat = Constellation.from_tles([tles[s]], "leo", "1W")  # only that satellite is tracked
down = np.flatnonzero(el[s] <= 15.0)  # the pass: the run above 15° around the peak
start, end = t[down[down < k].max() + 1], t[down[down > k].min() - 1]
sim, track, out = Simulation(seed=1), {"eta": 0.0}, {"pairs": 0, "key": 0.0, "plob": 0.0}


def tracker():  # satellite: geometry of the pass, each second
    while True:
        e, _, r = look_angles(sat.ecef(EPOCH, [start + sim.now])[0], *SITE)
        eta = min(1.0, (1.0 / (10e-6 * r[0] * 1e3)) ** 2) * 0.8 ** (1 / np.sin(np.radians(e[0])))
        track["eta"] = eta if e[0] > 15.0 else 0.0
        yield sim.timeout(1.0)


def source(gen):  # quantum: detected pairs, key and bound, each second
    while True:
        pairs = gen.binomial(int(RATE_HZ), track["eta"])
        out["pairs"] += pairs
        out["key"] += float(key_rate_bps(pairs, F_PAIR))
        out["plob"] += float(plob_capacity(track["eta"])) * RATE_HZ
        yield sim.timeout(1.0)


sim.process(tracker())  # registered first: each second the channel updates before use
sim.process(source(sim.rng("downlink/photons")))
sim.run(until=end - start)
print(f"{sat.names[0]}: {end - start:.0f} s above 15°, peak {el[s, k]:.1f}°, {out['pairs']:,} "
      f"pairs, key {out['key'] / 1e3:,.0f} kbit (PLOB {out['plob'] / 1e3:,.0f} kbit)")
