"""transport.pccl: fault-tolerant collectives over the public internet, modelled on PCCL.

Reference: Prime Intellect, "Prime Collective Communications Library - Technical Report",
arXiv:2505.14065 (2025), and the PCCL documentation (github.com/PrimeIntellect-ai/pccl).

* :mod:`.wan` - sites with capacity and RTT matrices; k TCP connections per peer pair,
  ``min(k·min(8W/RTT, Mathis), C)``;
* :mod:`.ring_order` - the ring as a bottleneck TSP: exact Held-Karp (≤ 10 peers) and 2-opt;
* :mod:`.allreduce` - ring reduce-scatter + all-gather on real numpy data, per-step timing;
* :mod:`.state` - shared state, revision + 1 per sync, BLAKE2b hashes, popular-hash re-fetch;
* :mod:`.membership` - churn scripts (Poisson or scripted leave/join);
* :mod:`.master` - registered vs accepted peers, unanimous votes, bandwidth store, ring;
* :mod:`.model` - the lockstep training loop on the engine: retry on failure, shrink, skip;
* :mod:`.scenario` - config schema, ``simulate`` and ``run_metrics``.
"""

from .allreduce import (
    RingAllReduce,
    ring_allreduce_busbw_bps,
    ring_allreduce_time,
    ring_finish_s,
    ring_schedule,
    ring_step_costs,
)
from .master import Master
from .membership import ChurnEvent, poisson_churn, up_fraction, validate_script
from .model import AllReduceRecord, PcclParams, PcclRun
from .ring_order import (
    brute_force_ring,
    edge_costs,
    exact_ring,
    optimise_ring,
    ring_cost,
    two_opt_ring,
)
from .scenario import PcclConfig, run_metrics, simulate
from .state import PeerState, SyncPlan, apply_sync, content_hash, plan_sync
from .wan import (
    Wan,
    connection_rate_bps,
    connections_to_fill,
    effective_bandwidth,
    geo_wan,
    matrix_wan,
    pair_rate_bps,
)

__all__ = [
    "AllReduceRecord",
    "ChurnEvent",
    "Master",
    "PcclConfig",
    "PcclParams",
    "PcclRun",
    "PeerState",
    "RingAllReduce",
    "SyncPlan",
    "Wan",
    "apply_sync",
    "brute_force_ring",
    "connection_rate_bps",
    "connections_to_fill",
    "content_hash",
    "edge_costs",
    "effective_bandwidth",
    "exact_ring",
    "geo_wan",
    "matrix_wan",
    "optimise_ring",
    "pair_rate_bps",
    "plan_sync",
    "poisson_churn",
    "ring_allreduce_busbw_bps",
    "ring_allreduce_time",
    "ring_finish_s",
    "ring_cost",
    "ring_schedule",
    "ring_step_costs",
    "run_metrics",
    "simulate",
    "two_opt_ring",
    "up_fraction",
    "validate_script",
]
