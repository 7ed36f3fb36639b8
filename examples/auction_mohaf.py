"""An online MOHAF auction on your own resources: six edge servers, requests arriving over
two minutes, prices set each round by MOHAF's utilisation rule or by market clearing.
Run: python examples/auction_mohaf.py (NETSIM_EXAMPLE_QUICK=1: fewer requests)."""

import os

import numpy as np

from auction import Instance, MohafParams, Requests, Resources
from auction.online import OnlineAuction, OnlineParams, clearing_multipliers, mohaf_rule
from netsim import Simulation

n = 60 if os.environ.get("NETSIM_EXAMPLE_QUICK") == "1" else 400
rng = np.random.default_rng(7)
servers = Resources(
    type=np.zeros(6, int), capacity=[1.0, 1.0, 2.0, 2.0, 4.0, 4.0],  # CPU cores on offer
    unit_cost=[1.0, 1.0, 0.8, 0.8, 0.6, 0.6], location=rng.uniform(0, 50, (6, 2)),
    reliability=[0.999, 0.99, 0.99, 0.98, 0.95, 0.95], availability=np.full(6, 0.99),
    energy_efficiency=[0.9, 0.9, 0.7, 0.7, 0.5, 0.5],
)
demand = rng.choice([0.1, 0.25, 0.5], n)
jobs = Requests(
    type=np.zeros(n, int), demand=demand, budget=demand * rng.lognormal(0.5, 0.5, n),
    priority=rng.integers(0, 12, n), location=rng.uniform(0, 50, (n, 2)),
    requester=rng.integers(0, 20, n), min_reliability=np.zeros(n),
    max_latency_ms=np.full(n, np.inf), arrival_s=np.sort(rng.uniform(0, 120, n)),
    duration_s=rng.exponential(30.0, n),
)
inst = Instance(servers, jobs)
params = OnlineParams(round_interval_s=5.0, patience_s=20.0,
                      mohaf=MohafParams(n_clusters=2, resources_per_cluster=None))

for name in ("MOHAF rule", "clearing price"):
    sim = Simulation(seed=1)
    model = OnlineAuction(sim, inst, params, policy=mohaf_rule)
    if name == "clearing price":  # uniform price at which the queued bids fill free capacity
        model.policy = lambda _state, m=model: clearing_multipliers(m, floor=1.0)
    sim.run(until=150.0)
    print(f"{name:15s} served {int(model.served.value):4d}/{n}  "
          f"utility {model.utility.value:7.2f}  revenue {model.revenue.value:7.2f}")
