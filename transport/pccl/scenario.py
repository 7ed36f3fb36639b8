"""Config schema and model factory of one PCCL run under churn.

``simulate(cfg, seed)`` builds the WAN, the churn script (Poisson or scripted) and a
:class:`~transport.pccl.model.PcclRun`, runs it for ``horizon_s`` and returns it;
``run_metrics(run, cfg)`` reduces it to named scalars. The study ``collective_churn``
(``scenarios/collective_churn.py``) sweeps these over failure rates and variants.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from netsim import Config, Simulation

from .membership import ChurnEvent, poisson_churn, validate_script
from .model import PHASES, PcclParams, PcclRun
from .wan import SITES, Wan, check_square, geo_wan, matrix_wan

__all__ = [
    "DEFAULT_SITES",
    "DEFAULT_ACCESS_GBPS",
    "WanConfig",
    "ScriptEvent",
    "ChurnConfig",
    "PcclConfig",
    "simulate",
    "run_metrics",
]

#: Six European and six North-American datacenter metros.
DEFAULT_SITES = [
    "london",
    "amsterdam",
    "frankfurt",
    "paris",
    "stockholm",
    "warsaw",
    "new_york",
    "ashburn",
    "chicago",
    "dallas",
    "los_angeles",
    "seattle",
]
#: Illustrative access-link rates (Gbit/s): a mix of 100, 25 and 10 Gbit/s hosts.
DEFAULT_ACCESS_GBPS = [100.0, 100.0, 100.0, 25.0, 25.0, 10.0, 100.0, 100.0, 25.0, 25.0, 10.0, 25.0]


class WanConfig(Config):
    """Either named metros (great-circle RTT, access-link capacities) or explicit matrices."""

    sites: list[str] = Field(default_factory=lambda: list(DEFAULT_SITES), min_length=2)
    access_gbps: float | list[float] = Field(
        default_factory=lambda: list(DEFAULT_ACCESS_GBPS),
        description="access-link rate per site (Gbit/s), one value or one per site",
    )
    route_factor: float = Field(1.5, ge=1.0, description="fibre route length / great circle")
    capacity_gbps: list[list[float]] | None = Field(
        None, description="explicit directed capacity matrix (Gbit/s); needs rtt_ms"
    )
    rtt_ms: list[list[float]] | None = Field(None, description="explicit RTT matrix (ms)")

    @model_validator(mode="after")
    def _check(self):
        if (self.capacity_gbps is None) != (self.rtt_ms is None):
            raise ValueError("give both capacity_gbps and rtt_ms, or neither")
        if self.capacity_gbps is not None:
            n = check_square(self.capacity_gbps, "capacity_gbps").shape[0]
            check_square(self.rtt_ms, "rtt_ms", n)
            if "sites" in self.model_fields_set and len(self.sites) != n:
                raise ValueError(f"sites must name the {n} matrix rows, got {len(self.sites)}")
            return self
        unknown = [s for s in self.sites if s not in SITES]
        if unknown:
            raise ValueError(f"unknown site '{unknown[0]}' (known: {', '.join(SITES)})")
        if len(set(self.sites)) != len(self.sites):
            raise ValueError("sites must be unique")
        if isinstance(self.access_gbps, list):
            if len(self.access_gbps) != len(self.sites):
                raise ValueError(
                    f"access_gbps needs one value per site ({len(self.sites)}), "
                    f"got {len(self.access_gbps)}"
                )
            values = self.access_gbps
        else:
            values = [self.access_gbps]
        if any(not v > 0 for v in values):
            raise ValueError("access_gbps values must be > 0")
        return self

    @property
    def n(self) -> int:
        return len(self.capacity_gbps) if self.capacity_gbps is not None else len(self.sites)

    def build(self) -> Wan:
        if self.capacity_gbps is not None:
            names = self.sites if "sites" in self.model_fields_set else None
            return matrix_wan(self.capacity_gbps, self.rtt_ms, names)
        return geo_wan(self.sites, self.access_gbps, self.route_factor)


class ScriptEvent(Config):
    time_s: float = Field(ge=0, description="simulated time of the event (s)")
    peer: int = Field(ge=0, description="site index of the peer")
    kind: Literal["leave", "join"]


class ChurnConfig(Config):
    mode: Literal["poisson", "scripted"] = "poisson"
    failure_rate_per_h: float = Field(2.0, ge=0, description="departures per up peer per hour")
    rejoin_rate_per_h: float = Field(12.0, ge=0, description="arrivals per down peer per hour")
    initial_peers: list[int] | None = Field(None, description="peers up at t=0 (default all)")
    script: list[ScriptEvent] = Field(default_factory=list, description="scripted events")


class PcclConfig(Config):
    """One PCCL run: WAN, churn, transport and the training loop's timing."""

    wan: WanConfig = Field(default_factory=WanConfig)
    churn: ChurnConfig = Field(default_factory=ChurnConfig)
    master_site: int = Field(0, ge=0, description="site index of the master (never fails)")
    message_mb: float = Field(1000.0, gt=0, description="all-reduce size S (MB = 1e6 bytes)")
    state_mb: float | None = Field(None, gt=0, description="shared-state size (default S)")
    connections: int = Field(16, ge=1, le=4096, description="TCP connections per peer pair")
    window_kib: float = Field(4096.0, gt=0, description="per-connection window (KiB)")
    mss_bytes: float = Field(1460.0, gt=0)
    loss_rate: float = Field(0.0, ge=0, lt=1, description="packet loss for the Mathis cap")
    ring_order: Literal["optimised", "join"] = "optimised"
    exact_max_peers: int = Field(10, ge=2, le=16, description="Held-Karp up to this ring size")
    compute_s: float = Field(5.0, ge=0, description="local compute per step (s)")
    detect_s: float = Field(2.0, gt=0, description="timeout before a dead peer is dropped (s)")
    bench_s: float = Field(1.0, ge=0, description="bandwidth benchmark of new pairs (s)")
    measure_cv: float = Field(0.05, ge=0, description="benchmark noise (coefficient of var.)")
    corruption_prob: float = Field(0.01, ge=0, le=1, description="bit flip per peer per step")
    witness_len: int = Field(16, ge=1, le=4096, description="random entries per contribution")
    horizon_s: float = Field(7200.0, gt=0, description="simulated seconds")

    @model_validator(mode="after")
    def _check(self):
        n = self.wan.n
        if self.master_site >= n:
            raise ValueError(f"master_site must be a site index in 0..{n - 1}")
        ch = self.churn
        initial = list(range(n)) if ch.initial_peers is None else ch.initial_peers
        events = [ChurnEvent(e.time_s, e.peer, e.kind) for e in ch.script]
        validate_script(events, n, initial)
        if ch.mode == "poisson" and ch.script:
            raise ValueError("churn.script is only used with churn.mode=scripted")
        return self

    def params(self, keep_ledger: bool = False) -> PcclParams:
        message = self.message_mb * 1e6
        return PcclParams(
            message_bytes=message,
            state_bytes=message if self.state_mb is None else self.state_mb * 1e6,
            connections=self.connections,
            window_bytes=self.window_kib * 1024.0,
            mss_bytes=self.mss_bytes,
            loss_rate=self.loss_rate,
            ring_policy=self.ring_order,
            exact_max=self.exact_max_peers,
            compute_s=self.compute_s,
            detect_s=self.detect_s,
            bench_s=self.bench_s,
            measure_cv=self.measure_cv,
            corruption_prob=self.corruption_prob,
            witness_len=self.witness_len,
            master_site=self.master_site,
            keep_ledger=keep_ledger,
        )


def simulate(cfg: PcclConfig, seed: int, keep_ledger: bool = False) -> PcclRun:
    """Build and run one PCCL run for ``cfg.horizon_s`` (streams: ``churn`` and the model's)."""
    sim = Simulation(seed=seed)
    wan = cfg.wan.build()
    ch = cfg.churn
    initial = list(range(wan.n)) if ch.initial_peers is None else list(ch.initial_peers)
    if ch.mode == "poisson":
        events = poisson_churn(
            sim.rng("churn"),
            wan.n,
            cfg.horizon_s,
            ch.failure_rate_per_h / 3600.0,
            ch.rejoin_rate_per_h / 3600.0,
            initial,
        )
    else:
        events = [ChurnEvent(e.time_s, e.peer, e.kind) for e in ch.script]
    run = PcclRun(sim, wan, cfg.params(keep_ledger), events, initial)
    run.run(cfg.horizon_s)
    return run


def run_metrics(run: PcclRun, horizon_s: float) -> dict[str, float]:
    """Scalar results of one run (per hour = per 3600 simulated seconds)."""
    hours = horizon_s / 3600.0
    c = {k: v.value for k, v in run.c.items()}
    world = run.ar_world.values
    sent = c["useful_bits"] + c["wasted_bits"]
    busy = sum(run.time_in.values())
    out = {
        "allreduces_per_hour": c["allreduces"] / hours,
        "peer_contributions_per_hour": float(world.sum()) / hours,
        "retries": c["retries"],
        "retries_per_hour": c["retries"] / hours,
        "skipped_steps": c["skipped_steps"],
        "stalls": c["stalls"],
        "mean_world_size": run.world.time_average(),
        "allreduce_time_s": _mean(run.ar_time.values),
        "busbw_gbps": _mean(run.busbw.values) / 1e9,
        "wan_utilisation": _mean(run.utilisation.values),
        "wasted_fraction": c["wasted_bits"] / sent if sent else 0.0,
        "departures": c["departures"],
        "joins_accepted": c["joins_accepted"],
        "failed_rounds": c["failed_rounds"],
        "refetches": c["refetches"],
        "corruptions": c["corruptions"],
        "corrupt_adoptions": c["corrupt_adoptions"],
        "rollbacks": c["rollbacks"],
        "final_revision": float(run.master.revision),
        "sum_errors": c["sum_errors"],
        "parity_errors": c["parity_errors"],
        "revision_errors": c["revision_errors"],
        "lost_contributions": c["lost_contributions"],
        "double_counted": c["double_counted"],
    }
    for phase in PHASES:
        out[f"time_{phase}_fraction"] = run.time_in[phase] / busy if busy else 0.0
    return out


def _mean(x) -> float:
    return float(x.mean()) if len(x) else float("nan")
