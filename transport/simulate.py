"""One collective on one fabric: build, run on the engine, measure.

:func:`simulate_collective` places the ranks, expands the collective into its transfer DAG,
runs it over the fluid (``flow``) or packet-level (``packet``) transport with the chosen
balancer and optional background traffic, and returns a :class:`CollectiveResult` with the
completion time, the step-synchronous lower bound, per-step congestion against the spraying
bound, nccl-tests algbw/busbw, the link-utilisation distribution and conservation checks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from netsim import Simulation

from .background import BackgroundTraffic
from .balancing import make_balancer
from .collectives import Collective, place_ranks, schedule
from .execute import CollectiveRun
from .flowsim import FlowTransport
from .metrics import (
    algbw_Bps,
    busbw_Bps,
    lower_bound_cct_s,
    pipelined_bound_s,
    step_bounds,
    utilisation,
)
from .network import Network
from .packetsim import PacketTransport
from .pathselect import PathOptions, PathSelector
from .roce import RoceOptions, RoceTransport

__all__ = ["Background", "PacketOptions", "CollectiveResult", "simulate_collective"]


@dataclass(frozen=True)
class Background:
    """Background traffic: offered ``load`` per host link, flow size law and mean (bytes)."""

    load: float = 0.3
    mean_bytes: float = 1e6
    sizes: str = "exponential"


@dataclass(frozen=True)
class PacketOptions:
    """Packet-level transport parameters (see :class:`~transport.packetsim.PacketTransport`)."""

    mtu_bytes: int = 4096
    window_pkts: int = 64
    spray: str = "round_robin"
    queue: str = "fifo"
    roce: RoceOptions | None = None  # buffers, ECN, PFC, DCQCN, go-back-N (transport.roce)
    #: per-hop ECMP, flowlets, adaptive spraying, failures; reorder-buffer timing
    #: (transport.pathselect); they choose among the balancer's paths (use ``spray``)
    paths: PathOptions | None = None


@dataclass
class CollectiveResult:
    """What one run measured. Times in s, bandwidths in bytes/s."""

    cct_s: float
    lower_bound_s: float
    algbw_Bps: float
    busbw_Bps: float
    subflows: int
    transfers: int
    step_max_fabric_s: np.ndarray  # per (chunk, step): most congested fabric link (s)
    step_max_link_s: np.ndarray  # per (chunk, step): most congested link of any kind (s)
    step_spray_fabric_s: np.ndarray  # per (chunk, step): spraying bound on fabric links (s)
    step_spray_link_s: np.ndarray
    link_bytes: np.ndarray  # bytes carried per link
    link_utilisation: np.ndarray  # per link, mean over the CCT
    fabric: np.ndarray  # mask of fabric links
    max_utilisation: float  # largest instantaneous load/capacity (flow mode)
    requested_bytes: float  # the collective's bytes
    delivered_bytes: float  # every byte the transport delivered (incl. background)
    placed_link_bytes: np.ndarray  # per link, the collective's bytes as routed
    hosts: np.ndarray
    events: int
    wall_s: float
    extra: dict = field(default_factory=dict)

    @property
    def congestion_ratio(self) -> float:
        """Largest per-step fabric congestion over the spraying bound (1 = optimal)."""
        bound = np.where(self.step_spray_fabric_s > 0, self.step_spray_fabric_s, np.nan)
        r = self.step_max_fabric_s / bound
        return float(np.nanmax(r)) if np.isfinite(r).any() else 1.0


def simulate_collective(
    net: Network,
    coll: Collective,
    *,
    balancing: str = "ecmp",
    placement: str = "packed",
    hosts=None,
    chunks: int = 1,
    sync: str = "step",
    alpha_s: float = 0.0,
    mode: str = "flow",
    seed: int = 0,
    background: Background | None = None,
    packet: PacketOptions | None = None,
    solver=None,
    cache: bool = True,
) -> CollectiveResult:
    """Run ``coll`` on ``net`` and measure it.

    Args:
        balancing: ecmp, spray, minimal_split, adaptive or random.
        placement: packed or random rank→host placement (ignored if ``hosts`` is given).
        chunks, sync: see :func:`transport.collectives.schedule`.
        alpha_s: per-transfer software latency (s), added to the route propagation delay.
        mode: ``flow`` (max-min fluid) or ``packet``.
        seed: run seed; placement, ECMP hash seed, adaptive ties and background traffic draw
            from their own named streams.
    """
    if mode not in ("flow", "packet"):
        raise ValueError(f"mode: unknown {mode!r} (allowed: flow, packet)")
    t_wall = time.perf_counter()
    sim = Simulation(seed=seed)
    if hosts is None:
        hosts = place_ranks(coll.n_ranks, net.n_hosts, placement, sim.rng("transport.placement"))
    hosts = np.asarray(hosts, dtype=np.int64)
    if hosts.size != coll.n_ranks or np.unique(hosts).size != hosts.size:
        raise ValueError("hosts: need one distinct host per rank")
    sched = schedule(coll, chunks, sync)
    balancer = make_balancer(balancing, sim.rng(f"transport.balancing.{balancing}"))
    if mode == "flow":
        transport = FlowTransport(sim, net, solver=solver, cache=cache)
    else:
        p = packet or PacketOptions()
        if p.roce is None:
            transport = PacketTransport(sim, net, p.mtu_bytes, p.window_pkts, p.spray, p.queue)
        else:
            transport = RoceTransport(
                sim, net, p.mtu_bytes, p.window_pkts, p.spray, p.queue, options=p.roce
            )
    sel = None
    if mode == "packet" and p.paths is not None:
        seed_sel = int(sim.rng("transport.pathselect").integers(2**63))
        sel = PathSelector(transport, p.paths, seed=seed_sel)
    bg = None
    if background is not None:
        bg = BackgroundTraffic(
            sim, net, transport, background.load, background.mean_bytes, background.sizes
        )
    run = CollectiveRun(sim, net, sched, hosts, balancer, transport, alpha_s)
    run.start()
    sim.run(until=run.finished)
    if bg is not None:
        bg.stop()
    cct = run.cct_s
    loads = sorted(run.step_loads, key=lambda s: (s.chunk, s.step))
    bounds = step_bounds(net, coll, hosts, chunks)
    k = np.asarray([ld.step for ld in loads], dtype=np.int64)
    bounds_fab, bounds_all = bounds[k, 0], bounds[k, 1]
    link_b = transport.link_bytes.copy()
    extra = {"batches": run.batches}
    if mode == "flow":
        extra.update(solves=transport.solves, cache_hits=transport.cache_hits)
        events = transport.events
        max_util = transport.max_utilisation
    else:
        extra.update(
            packets=transport.packets,
            reordered=transport.reordered,
            max_reorder_pkts=transport.max_reorder_pkts,
            max_queue_pkts=int(transport.max_queue_pkts.max()),
            mean_queue_delay_s=transport.queue_delay_s / max(transport.packets, 1),
        )
        if p.roce is not None:
            extra.update(
                drops=transport.drops,
                retransmitted=transport.retransmitted,
                timeouts=transport.timeouts,
                ecn_marked=transport.ecn_marked,
                cnps=transport.cnps,
                pauses=transport.pauses,
                pause_time_s=float(transport.pause_time_s.sum()),
                max_ingress_bytes=float(transport.max_ingress_bytes.max()),
                max_queue_bytes=float(transport.max_queue_bytes.max()),
            )
        if sel is not None:
            n_pkts = max(transport.packets, 1)
            extra.update(
                reorder_delay_mean_s=sel.reorder_wait_s / n_pkts,
                reorder_delay_max_s=sel.reorder_max_wait_s,
                reorder_buffered=sel.reorder_buffered,
                reorder_buffer_peak_pkts=sel.reorder_peak_pkts,
                reorder_buffer_mean_pkts=sel.reorder_mean_pkts(cct),
                flowlets=sel.flowlets,
                lost=sel.lost,
                resent=sel.resent,
            )
        events = transport.events
        max_util = float("nan")
    if bg is not None:
        extra.update(
            bg_started=bg.started,
            bg_finished=bg.finished,
            bg_mean_slowdown=float(np.mean(bg.slowdown)) if bg.slowdown else np.nan,
            bg_p99_slowdown=float(np.quantile(bg.slowdown, 0.99)) if bg.slowdown else np.nan,
        )
    requested = float(sched.nbytes.sum())
    delivered = float(transport.delivered_bytes)
    return CollectiveResult(
        cct_s=cct,
        lower_bound_s=lower_bound_cct_s(net, coll, hosts, alpha_s, chunks, bounds)
        if sync == "step"
        else pipelined_bound_s(net, coll, hosts),
        algbw_Bps=algbw_Bps(coll, cct),
        busbw_Bps=busbw_Bps(coll, cct),
        subflows=run.subflows,
        transfers=int((sched.src >= 0).sum()),
        step_max_fabric_s=np.array([s.max_fabric_s for s in loads]),
        step_max_link_s=np.array([s.max_link_s for s in loads]),
        step_spray_fabric_s=np.asarray(bounds_fab),
        step_spray_link_s=np.asarray(bounds_all),
        link_bytes=link_b,
        link_utilisation=utilisation(link_b, net.capacity_bps, cct),
        fabric=net.fabric.copy(),
        max_utilisation=max_util,
        requested_bytes=requested,
        delivered_bytes=delivered,
        placed_link_bytes=run.link_bytes_placed.copy(),
        hosts=hosts,
        events=int(events),
        wall_s=time.perf_counter() - t_wall,
        extra=extra,
    )
