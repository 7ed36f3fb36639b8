"""An M/M/1 queue on the engine, checked against its closed form.

Builds the network through queueing's public API (a ``QueueConfig`` and ``build``), runs it on
one ``netsim.Simulation``, and prints the simulated mean sojourn time and number in system
beside the closed forms W = 1/(μ − λ) and L = ρ/(1 − ρ) (Kleinrock, Queueing Systems Vol. 1,
§3.2), with a batch-means 95 % confidence interval.

    python examples/queueing_mm1.py            # 200,000 simulated seconds
    python examples/queueing_mm1.py --quick    # or NETSIM_EXAMPLE_QUICK=1: 5,000 s
"""

import os
import sys

from netsim import Simulation, validate
from netsim.stats import batch_means
from queueing import mm1
from queueing.scenario import QueueConfig, build

quick = "--quick" in sys.argv or os.environ.get("NETSIM_EXAMPLE_QUICK") == "1"
cfg = validate(QueueConfig, {
    "arrival_rate": 0.8,
    "stations": [{"servers": 1, "service_rate": 1.0}],
    "horizon": 5_000.0 if quick else 200_000.0,
    "warmup": 500.0 if quick else 10_000.0,
})

sim = Simulation(seed=1)
net = build(cfg, sim)  # Poisson arrivals -> one FIFO station, as processes on the engine
sim.run(until=cfg.warmup)
sim.metrics.reset()  # discard the warm-up
sim.run(until=cfg.horizon)

sojourns = net.sojourn.values
mean, half = batch_means(sojourns, batches=20)
theory = mm1(cfg.arrival_rate, cfg.stations[0].service_rate)
print(f"customers served      {sojourns.size}")
print(f"mean sojourn W (s)    {mean:.3f} ± {half:.3f}   closed form {theory.sojourn:.3f}")
print(f"mean number in system {net.in_system[0].time_average():.3f}"
      f"           closed form {theory.number_in_system:.3f}")
