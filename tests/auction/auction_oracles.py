"""Brute-force oracles and small random instances for the auction tests."""

from __future__ import annotations

import numpy as np

from auction.model import Instance, Requests, Resources


def tiny_instance(
    rng: np.random.Generator,
    n: int = 6,
    m: int = 3,
    n_owners: int = 3,
    types: int = 1,
    floors: bool = True,
) -> Instance:
    """A random instance with every attribute drawn directly (for invariant tests)."""
    res = Resources(
        type=rng.integers(0, types, m),
        capacity=rng.uniform(0.05, 0.6, m),
        unit_cost=rng.uniform(0.5, 1.5, m),
        location=rng.uniform(0, 100, (m, 2)),
        reliability=rng.uniform(0.85, 1.0, m),
        availability=rng.uniform(0.9, 1.0, m),
        energy_efficiency=rng.uniform(0.2, 1.0, m),
    )
    demand = rng.uniform(0.01, 0.3, n)
    req = Requests(
        type=rng.integers(0, types, n),
        demand=demand,
        budget=demand * rng.uniform(0.4, 3.0, n),
        priority=rng.integers(0, 12, n),
        location=rng.uniform(0, 100, (n, 2)),
        requester=rng.integers(0, n_owners, n),
        min_reliability=np.where(floors & (rng.random(n) < 0.3), rng.uniform(0.85, 0.99, n), 0.0),
        max_latency_ms=np.where(floors & (rng.random(n) < 0.3), rng.uniform(1.5, 3.0, n), np.inf),
    )
    return Instance(res, req)
