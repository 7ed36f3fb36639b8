"""The ``mohaf`` study's config schema and its instance factory (:func:`build`).

The study itself (run, summarise, tables, plots) lives in ``scenarios/mohaf.py``.
One replication (seed) draws ``n_requests`` SUBMIT events and ``n_resources`` machines from
the real clusterdata-2011-2 sample (or a synthetic trace with its marginals) and adds the
synthetic IoT attributes (workload.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from netsim import Config
from netsim.rng import stream

from .model import Instance, Weights
from .mohaf import MohafParams
from .pricing import PriceRule
from .traces import load_sample, synthetic_trace
from .workload import WorkloadSpec, make_instance, trace_instance

__all__ = ["MohafStudyConfig", "build", "TRACE_REQUESTS"]

#: distinct requests in the shipped trace sample (3,827 SUBMITs less 287 resubmissions)
TRACE_REQUESTS = 3540


class MohafStudyConfig(Config):
    source: Literal["trace", "synthetic"] = Field(
        "trace", description="rows from the real sample or synthetic"
    )
    n_requests: int = Field(
        3540, ge=1, le=1_000_000, description="requests (the trace sample has 3540)"
    )
    n_resources: int = Field(888, ge=1, le=250_000)
    spare_fraction: float = Field(0.2, gt=0, le=1, description="machine CPU offered to the auction")
    memory: bool = Field(
        False, description="vector packing: memory requests and spare memory too (CPU + memory)"
    )
    mode: Literal["shared", "exclusive"] = "shared"
    weight_cost: float = Field(0.3, ge=0)
    weight_qos: float = Field(0.3, ge=0)
    weight_energy: float = Field(0.2, ge=0)
    weight_fairness: float = Field(0.2, ge=0)
    resources_per_cluster: int | None = Field(
        32, ge=1, description="resources per k-means cluster (None: use n_clusters)"
    )
    n_clusters: int | None = Field(
        None, ge=1, description="total clusters (if resources_per_cluster is None)"
    )
    neighbours: int = Field(1, ge=0, le=64, description="nearest extra clusters a request bids in")
    eta0: float = Field(2.0, ge=0, description="price step η_t = η0/t")
    tau: float = Field(0.8, ge=0, le=1, description="target utilisation")
    epsilon: float = Field(0.2, gt=0, description="stop when max |Δρ| < ε")
    max_rounds: int = Field(20, ge=1, le=1000)
    rho_min: float = Field(0.1, ge=0)
    rho_max: float = Field(10.0, gt=0)
    bound_iterations: int = Field(200, ge=1, le=10_000, description="Lagrangian bound steps")
    bound_time_s: float = Field(60.0, gt=0, description="time limit of the Lagrangian bound")
    bound_step: float = Field(
        2.0, gt=0, le=10, description="initial subgradient step scale θ of the Lagrangian bound"
    )
    ablation: bool = True
    flat_comparison: bool = Field(True, description="also run MOHAF without clustering")
    small_instances: int = Field(
        5, ge=0, le=100, description="small instances with the MILP optimum"
    )
    small_requests: int = Field(12, ge=1, le=40)
    small_resources: int = Field(4, ge=1, le=12)
    scaling_sizes: list[int] = Field(
        default_factory=lambda: [100, 316, 1000, 3162, 10000, 31623, 100000]
    )
    resources_per_request: float = Field(0.25, gt=0, le=10, description="M/N in the scaling runs")

    @model_validator(mode="after")
    def _check(self):
        w = (self.weight_cost, self.weight_qos, self.weight_energy, self.weight_fairness)
        if sum(w) <= 0:
            raise ValueError(
                "weight_cost + weight_qos + weight_energy + weight_fairness must sum to "
                "a positive number"
            )
        if self.rho_min > self.rho_max:
            raise ValueError(f"rho_min ({self.rho_min}) must be <= rho_max ({self.rho_max})")
        if any(s < 1 for s in self.scaling_sizes):
            raise ValueError("scaling_sizes must be >= 1")
        if self.source == "trace" and self.n_requests > TRACE_REQUESTS:
            raise ValueError(
                f"source=trace has {TRACE_REQUESTS} requests (SUBMIT events without "
                "resubmissions); use source=synthetic for more requests"
            )
        return self

    def weights(self) -> Weights:
        return Weights(self.weight_cost, self.weight_qos, self.weight_energy, self.weight_fairness)

    def mohaf(self, weights: Weights | None = None, flat: bool = False) -> MohafParams:
        rule = PriceRule(
            self.eta0, self.tau, self.epsilon, self.max_rounds, self.rho_min, self.rho_max
        )
        return MohafParams(
            weights=weights or self.weights(),
            pricing=rule,
            mode=self.mode,
            n_clusters=self.n_clusters,
            resources_per_cluster=self.resources_per_cluster,
            neighbours=self.neighbours,
            flat=flat,
        )


def build(
    cfg: MohafStudyConfig, seed: int, n: int | None = None, m: int | None = None, name: str = "main"
) -> Instance:
    """The instance ``name`` of replication ``seed``: ``n`` requests × ``m`` resources
    (default the config's). ``name="main"`` with ``source="trace"`` draws rows of the real
    sample; every other instance (small, scaling) is synthetic with the sample's marginals.
    Each instance draws from its own named streams ``auction.<name>``."""
    n = cfg.n_requests if n is None else n
    m = cfg.n_resources if m is None else m
    spec = WorkloadSpec(spare_fraction=cfg.spare_fraction, memory=cfg.memory)
    rng = stream(seed, f"auction.{name}")
    if cfg.source == "trace" and name == "main":
        return trace_instance(load_sample(), n, m, rng, spec)
    return make_instance(synthetic_trace(n, m, stream(seed, f"auction.{name}.trace")), rng, spec)
