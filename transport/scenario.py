"""Config schema and model factory of the ``collective_transport`` study: ECMP vs spraying vs
minimal-split single path on leaf-spine fabrics (the question, its reference and the sections
run: :mod:`scenarios.collective_transport`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from netsim import Config

from .collectives import COLLECTIVES
from .network import Network, leaf_spine_network
from .rails import RailNetwork, rail_network

__all__ = [
    "BackgroundStudy",
    "CollectiveTransportConfig",
    "PacketStudy",
    "POLICIES",
    "RailStudy",
    "ROUTING_SCHEMES",
    "RoutingStudy",
    "TIMING_METRICS",
    "build_fabric",
    "build_rail_fabric",
]

POLICIES = ("ecmp", "spray", "minimal_split", "adaptive", "random")
#: metrics measured on the wall clock (not reproducible bit for bit)
TIMING_METRICS = ("wall_s", "packet_events_per_s")
Policy = Literal["ecmp", "spray", "minimal_split", "adaptive", "random"]
CollectiveName = Literal[tuple(COLLECTIVES)]


class PacketStudy(Config):
    """Packet-level validation on a small fabric (set ``enabled: false`` to skip)."""

    enabled: bool = True
    leaves: int = Field(4, ge=2, le=16)
    spines: int = Field(2, ge=1, le=16)
    hosts_per_leaf: int = Field(4, ge=1, le=16)
    message_mb: float = Field(16.0, gt=0)
    collectives: list[CollectiveName] = Field(
        default_factory=lambda: ["ring_allreduce", "alltoall"], min_length=1
    )
    queues: list[Literal["fifo", "fair"]] = Field(default_factory=lambda: ["fifo", "fair"])
    mtu_bytes: int = Field(4096, ge=64)
    window_pkts: int = Field(64, ge=1)


class RoceStudy(Config):
    """Packet level with RoCE realities (:mod:`transport.roce`) on an oversubscribed fabric:
    ``lossless`` = PFC + DCQCN (receiver reorder buffer), ``lossy`` = DCQCN with tail drops
    and go-back-N (a sprayed flow's reordering triggers go-backs, as on NICs without
    out-of-order placement). Set ``enabled: false`` to skip."""

    enabled: bool = True
    leaves: int = Field(4, ge=2, le=16)
    spines: int = Field(2, ge=1, le=16)
    hosts_per_leaf: int = Field(4, ge=1, le=16)
    oversubscription: float = Field(2.0, gt=0)
    message_mb: float = Field(4.0, gt=0)
    collectives: list[CollectiveName] = Field(
        default_factory=lambda: ["ring_allreduce", "alltoall"], min_length=1
    )
    modes: list[Literal["lossless", "lossy"]] = Field(
        default_factory=lambda: ["lossless", "lossy"], min_length=1
    )
    buffer_kb: float = Field(500.0, gt=0, description="per-port buffer (kB)")
    mtu_bytes: int = Field(4096, ge=64)
    window_pkts: int = Field(64, ge=1)
    background_loads: list[Annotated[float, Field(ge=0, lt=1)]] = Field(
        default_factory=lambda: [0.0, 0.2],
        min_length=1,
        description="offered ECMP background load per host link (0 = none)",
    )
    background_flow_mb: float = Field(0.5, gt=0, description="mean background flow (MB, exp.)")


class RailStudy(Config):
    """Rail-optimised multi-NIC cluster (:mod:`transport.rails`) against the rail-unaware
    ToR wiring at equal GPU, switch and port count, fluid model. ``packed`` placement is
    topology-aware (the ring walks servers in a rail-aligned snake, the hierarchical
    all-reduce keeps its servers); ``random`` scatters ranks over GPUs. Set ``enabled:
    false`` to skip."""

    enabled: bool = True
    servers: int = Field(16, ge=2, le=256)
    gpus_per_server: int = Field(8, ge=2, le=16)
    spines: int = Field(8, ge=1, le=64)
    nic_gbps: float = Field(400.0, gt=0, description="NIC rate per GPU (Gb/s)")
    nvlink_gbps: float = Field(3600.0, gt=0, description="NVLink per GPU and direction (Gb/s)")
    oversubscription: list[Annotated[float, Field(gt=0, le=64)]] = Field(
        default_factory=lambda: [1.0, 2.0], min_length=1
    )
    wirings: list[Literal["rail", "tor"]] = Field(
        default_factory=lambda: ["rail", "tor"], min_length=1
    )
    collectives: list[Literal["ring_allreduce", "hierarchical_allreduce", "alltoall"]] = Field(
        default_factory=lambda: ["ring_allreduce", "hierarchical_allreduce", "alltoall"],
        min_length=1,
    )
    placements: list[Literal["packed", "random"]] = Field(
        default_factory=lambda: ["packed", "random"], min_length=1
    )
    message_mb: float = Field(64.0, gt=0)

    @field_validator("servers")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("must be even (the rail-aligned ring snakes through servers)")
        return v

    @model_validator(mode="after")
    def _tor_fits(self):
        if "tor" in self.wirings and self.servers % self.gpus_per_server:
            raise ValueError(
                "servers: must be a multiple of gpus_per_server for the tor wiring "
                "(a ToR leaf of `servers` ports takes whole servers)"
            )
        return self


#: routing variants of the ``routing`` section: scheme -> (balancer, transport.pathselect scheme)
ROUTING_SCHEMES = {
    "ecmp": ("ecmp", "source"),
    "ecmp_per_hop": ("spray", "per_hop_ecmp"),
    "ecmp_polarised": ("spray", "per_hop_ecmp"),
    "flowlet": ("spray", "flowlet"),
    "adaptive_spray": ("spray", "adaptive"),
    "spray": ("spray", "source"),
    "minimal_split": ("minimal_split", "source"),
}
RoutingScheme = Literal[tuple(ROUTING_SCHEMES)]


class RoutingStudy(Config):
    """Routing variants at packet level (:mod:`transport.pathselect`) on a leaf-spine and a
    3-tier fat tree, healthy, with one slow spine (core) and with a link failure: per-flow
    ECMP, per-hop ECMP (per-switch hash salts, or one hash fabric-wide: polarised), flowlet
    switching, adaptive spraying, round-robin spraying and minimal split (leaf-spine only).
    Set ``enabled: false`` to skip."""

    enabled: bool = True
    fabrics: list[Literal["leaf_spine", "fat_tree"]] = Field(
        default_factory=lambda: ["leaf_spine", "fat_tree"], min_length=1
    )
    leaves: int = Field(4, ge=2, le=16)
    spines: int = Field(4, ge=2, le=16)
    hosts_per_leaf: int = Field(4, ge=1, le=16)
    fat_tree_k: int = Field(4, ge=4, le=8, description="k of the fat tree (even)")
    conditions: list[Literal["healthy", "slow_spine", "link_failure"]] = Field(
        default_factory=lambda: ["healthy", "slow_spine", "link_failure"], min_length=1
    )
    schemes: list[RoutingScheme] = Field(
        default_factory=lambda: list(ROUTING_SCHEMES), min_length=1
    )
    collectives: list[CollectiveName] = Field(
        default_factory=lambda: ["ring_allreduce", "alltoall"], min_length=1
    )
    message_mb: float = Field(2.0, gt=0)
    flowlet_timeout_us: float = Field(20.0, ge=0, description="flowlet gap δ (µs)")
    slow_factor: float = Field(0.5, gt=0, le=1, description="slow spine/core rate / nominal")
    fail_at_us: float = Field(20.0, ge=0, description="when the link fails (µs)")
    detect_us: float = Field(50.0, ge=0, description="failure detection delay (µs)")
    mtu_bytes: int = Field(4096, ge=64)
    window_pkts: int = Field(64, ge=1)
    transports: list[Literal["plain", "roce_lossless"]] = Field(
        default_factory=lambda: ["plain", "roce_lossless"],
        min_length=1,
        description="plain packet model, and/or RoCE with PFC + DCQCN (transport.roce)",
    )
    roce_buffer_kb: float = Field(500.0, gt=0, description="RoCE per-port buffer (kB)")

    @field_validator("fat_tree_k")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("must be even")
        return v


class BackgroundStudy(Config):
    """Background traffic sharing the fabric with one collective."""

    enabled: bool = True
    leaves: int = Field(8, ge=2, le=64)
    oversubscription: float = Field(1.0, gt=0)
    collective: CollectiveName = "ring_allreduce"
    message_mb: float = Field(16.0, gt=0)
    loads: list[Annotated[float, Field(ge=0, lt=1)]] = Field(
        default_factory=lambda: [0.0, 0.2, 0.4], min_length=1
    )
    flow_mb: float = Field(1.0, gt=0, description="mean background flow size (MB)")


class CollectiveTransportConfig(Config):
    """The study's grid: fabrics × oversubscription × collectives × placements × sizes ×
    policies, plus the packet-level and background side studies."""

    leaves: list[Annotated[int, Field(ge=2, le=512)]] = Field(
        default_factory=lambda: [8, 16, 32, 64], min_length=1
    )
    spines: int = Field(8, ge=1, le=128, description="spines of every fabric")
    hosts_per_leaf: int = Field(8, ge=1, le=128)
    host_rate_gbps: float = Field(100.0, gt=0, description="host link rate (Gb/s)")
    oversubscription: list[Annotated[float, Field(gt=0, le=64)]] = Field(
        default_factory=lambda: [1.0, 2.0, 4.0], min_length=1
    )
    collectives: list[CollectiveName] = Field(
        default_factory=lambda: ["ring_allreduce", "tree_allreduce", "alltoall"], min_length=1
    )
    message_mb: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [1.0, 16.0, 256.0, 1024.0], min_length=1
    )
    policies: list[Policy] = Field(
        default_factory=lambda: ["ecmp", "spray", "minimal_split", "adaptive"], min_length=1
    )
    placements: list[Literal["packed", "random"]] = Field(
        default_factory=lambda: ["random", "packed"], min_length=1
    )
    max_ranks: dict[str, int] = Field(
        default_factory=lambda: {"alltoall": 128},
        description="cap on ranks per collective (all-to-all has n² flows); others use all hosts",
    )
    pipeline_chunks: dict[str, int] = Field(
        default_factory=lambda: {"tree_allreduce": 8},
        description="collectives run pipelined (dataflow) in this many chunks, as NCCL "
        "pipelines its trees; others run step-synchronously",
    )
    alpha_us: float = Field(2.0, ge=0, description="per-transfer software latency (µs)")
    link_delay_us: float = Field(0.5, ge=0, description="propagation delay per link (µs)")
    packet: PacketStudy = Field(default_factory=PacketStudy)
    roce: RoceStudy = Field(default_factory=RoceStudy)
    rail: RailStudy = Field(default_factory=RailStudy)
    background: BackgroundStudy = Field(default_factory=BackgroundStudy)
    routing: RoutingStudy = Field(default_factory=RoutingStudy)

    @field_validator("pipeline_chunks")
    @classmethod
    def _chunks(cls, v: dict[str, int]) -> dict[str, int]:
        for k, c in v.items():
            if k not in COLLECTIVES or not 1 <= c <= 256:
                raise ValueError(f"'{k}' must name a collective with 1..256 chunks")
        return v

    @field_validator("max_ranks")
    @classmethod
    def _caps(cls, v: dict[str, int]) -> dict[str, int]:
        for k, cap in v.items():
            if k not in COLLECTIVES or cap < 2:
                raise ValueError(f"'{k}' must name a collective and cap at >= 2 ranks")
        return v


def build_fabric(
    cfg: CollectiveTransportConfig,
    leaves: int,
    over: float,
    spines: int | None = None,
    hosts: int | None = None,
) -> Network:
    """Leaf-spine network with the study's link rates and delays."""
    return leaf_spine_network(
        leaves,
        spines or cfg.spines,
        hosts or cfg.hosts_per_leaf,
        cfg.host_rate_gbps * 1e9,
        over,
        cfg.link_delay_us * 1e-6,
    )


def build_rail_fabric(cfg: CollectiveTransportConfig, wiring: str, over: float) -> RailNetwork:
    """The rail study's cluster: ``servers × gpus_per_server`` GPUs, ``gpus_per_server``
    leaves of ``servers`` NIC ports (one per rail, or ToR leaves of whole servers), the
    study's link delay on NIC and leaf-spine links."""
    r = cfg.rail
    return rail_network(
        r.servers,
        r.gpus_per_server,
        r.spines,
        hosts_per_leaf=r.servers,
        wiring=wiring,
        nic_rate_bps=r.nic_gbps * 1e9,
        nvlink_rate_bps=r.nvlink_gbps * 1e9,
        oversubscription=over,
        link_delay_s=cfg.link_delay_us * 1e-6,
    )
