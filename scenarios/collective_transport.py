"""``netsim run collective_transport``: ECMP vs packet spraying vs minimal-split single-path
routing of collectives on leaf-spine fabrics.

Reproduces the question of Addanki, Goyal & Marinos, "Challenging the Need for Packet
Spraying in Large-Scale Distributed Training" (arXiv:2407.00550): on leaf-spine fabrics of
8–64 leaves at 1:1, 2:1 and 4:1 oversubscription, for ring / double-binary-tree all-reduce and
all-to-all of 1 MB–1 GB, compare the completion time (against the step-synchronous spraying
lower bound) and the maximum link congestion (against the spraying bound) of ECMP, ideal
spraying, minimal-split single-path and least-loaded adaptive routing, with the fluid
max-min model. Side studies: the packet-level model against the fluid one (FIFO and fair
switch queues: queueing effects, reordering), background traffic sharing the fabric, RoCE
(PFC + DCQCN vs lossy go-back-N, alone and with ECMP background load; ``table_roce.md``),
routing variants at packet level (per-hop ECMP with or without polarisation, flowlets,
adaptive spraying with its reorder-buffer cost, a slow spine and a link failure, on a
leaf-spine and a fat tree; ``table_routing.md``) and a rail-optimised multi-NIC cluster
(NVLink servers, one NIC per GPU on its rail leaf) against the ToR-wired leaf-spine at equal
GPU count (``table_rail.md``).
Config schema and fabric factory: :mod:`transport.scenario`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from netsim import RunContext, Scenario
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from netsim.rng import derive_seed
from netsim.tables import markdown_table
from transport.collectives import (
    alpha_beta_time,
    build_collective,
    hierarchical_allreduce,
    hierarchical_allreduce_time,
)
from transport.metrics import lower_bound_cct_s
from transport.network import fat_tree_network
from transport.pathselect import LinkFailure, PathOptions, with_capacity
from transport.rails import rail_ring_order
from transport.roce import RoceOptions
from transport.scenario import (
    POLICIES,
    ROUTING_SCHEMES,
    TIMING_METRICS,
    CollectiveTransportConfig,
    build_fabric,
    build_rail_fabric,
)
from transport.simulate import Background, PacketOptions, simulate_collective

__all__ = [
    "CollectiveTransportConfig",
    "POLICIES",
    "SCENARIO",
    "TIMING_METRICS",
    "plot",
    "run",
    "summarize",
]


def _rows(res, keys: dict) -> list[dict]:
    fab = res.link_utilisation[res.fabric]
    busy = fab[fab > 0]
    vals = {
        "cct_s": res.cct_s,
        "cct_lower_bound_s": res.lower_bound_s,
        "cct_over_lb": res.cct_s / res.lower_bound_s,
        "max_congestion_s": float(res.step_max_fabric_s.max(initial=0.0)),
        "congestion_ratio": res.congestion_ratio,
        "subflows": res.subflows,
        "subflows_per_transfer": res.subflows / res.transfers,
        "algbw_GBps": res.algbw_Bps / 1e9,
        "busbw_GBps": res.busbw_Bps / 1e9,
        "fabric_util_mean": float(fab.mean()),
        "fabric_util_p90": float(np.quantile(busy, 0.9)) if busy.size else 0.0,
        "fabric_idle_share": float((fab == 0).mean()),
        "wall_s": res.wall_s,
    }
    for k, v in res.extra.items():
        if k in ("reordered", "max_queue_pkts", "mean_queue_delay_s", "bg_mean_slowdown",
                 "bg_p99_slowdown"):
            vals[k] = float(v)
    return [{**keys, "metric": m, "value": float(v)} for m, v in vals.items()]


def _util_samples(res, keys: dict) -> pd.DataFrame:
    u = res.link_utilisation[res.fabric]
    return pd.DataFrame({**keys, "metric": "fabric_utilisation", "kind": "sample", "value": u})


def run(cfg: CollectiveTransportConfig, ctx: RunContext) -> pd.DataFrame:
    """One replication: every grid point with every policy (common random numbers: the same
    placement and ECMP hash seed for all policies), then the side studies. Tidy rows
    ``section, collective, leaves, …, policy, metric, value, kind``."""
    rows: list[dict] = []
    samples: list[pd.DataFrame] = []
    grid = list(
        itertools.product(
            cfg.leaves,
            cfg.oversubscription,
            cfg.collectives,
            cfg.placements,
            cfg.message_mb,
            cfg.policies,
        )
    )
    n_pkt = len(cfg.packet.collectives) * len(cfg.policies) if cfg.packet.enabled else 0
    n_bg = len(cfg.background.loads) * len(cfg.policies) if cfg.background.enabled else 0
    r = cfg.roce
    n_roce = len(r.collectives) * len(r.modes) * len(r.background_loads) * len(cfg.policies)
    n_roce = n_roce if r.enabled else 0
    g = cfg.routing
    n_route = (
        len(g.fabrics) * len(g.conditions) * len(g.collectives) * len(g.schemes)
        * len(g.transports)
        if g.enabled
        else 0
    )
    ra = cfg.rail
    n_rail = len(ra.oversubscription) * len(ra.wirings) * len(ra.collectives)
    n_rail *= len(ra.placements) * len(cfg.policies) if ra.enabled else 0
    total = len(grid) + n_pkt + n_bg + n_roce + n_route + n_rail
    done = 0
    nets = {}
    for leaves, over, cname, place, size_mb, pol in grid:
        key = (leaves, over)
        if key not in nets:
            nets[key] = build_fabric(cfg, leaves, over)
        net = nets[key]
        ranks = min(net.n_hosts, cfg.max_ranks.get(cname, net.n_hosts))
        if cname == "rabenseifner_allreduce":
            ranks = 1 << (ranks.bit_length() - 1)
        coll = build_collective(cname, ranks, size_mb * 1e6)
        # common random numbers: every policy sees the same placement and ECMP seed
        seed = derive_seed(ctx.seed, leaves, over, cname, place)
        chunks = cfg.pipeline_chunks.get(cname, 1)
        sync = "dataflow" if chunks > 1 else "step"
        res = _simulate(cfg, net, coll, pol, seed, place, chunks=chunks, sync=sync)
        keys = {
            "section": "fabric",
            "collective": cname,
            "leaves": leaves,
            "ranks": ranks,
            "oversubscription": over,
            "placement": place,
            "message_mb": size_mb,
            "policy": pol,
            "queue": "",
            "background_load": 0.0,
        }
        rows += _rows(res, keys)
        if size_mb == max(cfg.message_mb) and leaves == max(cfg.leaves):
            samples.append(_util_samples(res, keys))
        done += 1
        ctx.progress(done / total)
    if cfg.packet.enabled:
        rows += _packet_rows(cfg, ctx, done, total)
        done += n_pkt
    if cfg.background.enabled:
        rows += _background_rows(cfg, ctx, done, total)
        done += n_bg
    if r.enabled:
        rows += _roce_rows(cfg, ctx, done, total)
        done += n_roce
    if g.enabled:
        rows += _routing_rows(cfg, ctx, done, total)
        done += n_route
    if ra.enabled:
        rows += _rail_rows(cfg, ctx, done, total)
    df = pd.DataFrame(rows)
    for col in ("fabric", "condition"):
        if col in df.columns:
            df[col] = df[col].fillna("")
    df["kind"] = "value"
    return pd.concat([df, *samples], ignore_index=True)


def _simulate(cfg, net, coll, pol: str, seed: int, placement: str = "random", **kw):
    """:func:`simulate_collective` with the study's routing policy, placement, seed and
    per-transfer software latency."""
    return simulate_collective(
        net, coll, balancing=pol, placement=placement, seed=seed, alpha_s=cfg.alpha_us * 1e-6, **kw
    )


def _section_collectives(net, names, message_mb: float, ctx: RunContext, section: str):
    """``(name, ranks, collective, seed)`` of a packet-level section: every host takes part, except
    all-to-all on at most 8 ranks; one seed per section and collective."""
    for cname in names:
        ranks = net.n_hosts if cname != "alltoall" else min(net.n_hosts, 8)
        coll = build_collective(cname, ranks, message_mb * 1e6)
        yield cname, ranks, coll, derive_seed(ctx.seed, section, cname)


def _packet_rows(cfg: CollectiveTransportConfig, ctx: RunContext, done: int, total: int):
    p = cfg.packet
    net = build_fabric(cfg, p.leaves, 1.0, p.spines, p.hosts_per_leaf)
    rows = []
    sections = _section_collectives(net, p.collectives, p.message_mb, ctx, "packet")
    for cname, ranks, coll, seed in sections:
        for pol in cfg.policies:
            base = {
                "section": "packet",
                "collective": cname,
                "leaves": p.leaves,
                "ranks": ranks,
                "oversubscription": 1.0,
                "placement": "random",
                "message_mb": p.message_mb,
                "policy": pol,
                "background_load": 0.0,
            }
            flow = _simulate(cfg, net, coll, pol, seed)
            rows += _rows(flow, {**base, "queue": "fluid"})
            for q in p.queues:
                opts = PacketOptions(p.mtu_bytes, p.window_pkts, "round_robin", q)
                pkt = _simulate(cfg, net, coll, pol, seed, mode="packet", packet=opts)
                rows += _rows(pkt, {**base, "queue": q})
                rows.append(
                    {
                        **base,
                        "queue": q,
                        "metric": "cct_packet_over_fluid",
                        "value": pkt.cct_s / flow.cct_s,
                    }
                )
                rows.append(
                    {
                        **base,
                        "queue": q,
                        "metric": "packet_events_per_s",
                        "value": pkt.events / pkt.wall_s,
                    }
                )
            done += 1
            ctx.progress(done / total)
    return rows


#: RoCE counters reported by the ``roce`` section (CollectiveResult.extra keys)
ROCE_METRICS = ("drops", "retransmitted", "timeouts", "ecn_marked", "cnps", "pauses",
                "pause_time_s", "max_ingress_bytes", "max_queue_bytes")


def _roce_rows(cfg: CollectiveTransportConfig, ctx: RunContext, done: int, total: int):
    """Every policy under PFC + DCQCN and under lossy DCQCN + go-back-N, alone and with ECMP
    background flows at each of ``background_loads`` (common random numbers: one placement,
    ECMP seed and background arrival sequence per collective and load)."""
    r = cfg.roce
    net = build_fabric(cfg, r.leaves, r.oversubscription, r.spines, r.hosts_per_leaf)
    rows = []
    sections = _section_collectives(net, r.collectives, r.message_mb, ctx, "roce")
    for (cname, ranks, coll, seed), mode, load in itertools.product(
        sections, r.modes, r.background_loads
    ):
        opts = PacketOptions(
            r.mtu_bytes,
            r.window_pkts,
            "round_robin",
            "fifo",
            roce=RoceOptions(buffer_bytes=r.buffer_kb * 1e3, pfc=mode == "lossless"),
        )
        bg = Background(load, r.background_flow_mb * 1e6, "exponential") if load > 0 else None
        for pol in cfg.policies:
            res = _simulate(cfg, net, coll, pol, seed, mode="packet", packet=opts, background=bg)
            keys = {
                "section": "roce",
                "collective": cname,
                "leaves": r.leaves,
                "ranks": ranks,
                "oversubscription": r.oversubscription,
                "placement": "random",
                "message_mb": r.message_mb,
                "policy": pol,
                "queue": mode,
                "background_load": load,
            }
            rows += _rows(res, keys)
            rows += [{**keys, "metric": m, "value": float(res.extra[m])} for m in ROCE_METRICS]
            done += 1
            ctx.progress(done / total)
    return rows


def _rail_collective(cfg: CollectiveTransportConfig, cname: str, placement: str):
    """``(collective, hosts, α-β time)`` of the rail section: ``packed`` is topology-aware
    (the ring snakes rail-aligned through the servers, the hierarchical all-reduce and
    all-to-all keep rank ``s·G + g`` on GPU ``g`` of server ``s``); ``random`` leaves the
    hosts to the run's placement stream. The α-β time is that of the topology-aware
    schedule on this hardware (NIC rate between servers, NVLink inside, no propagation):
    what a non-blocking fabric would give."""
    r = cfg.rail
    N, G = r.servers, r.gpus_per_server
    n, S, a = N * G, r.message_mb * 1e6, cfg.alpha_us * 1e-6
    nic, nvl = r.nic_gbps * 1e9, r.nvlink_gbps * 1e9
    if cname == "hierarchical_allreduce":
        coll = hierarchical_allreduce(N, G, S)
        ab = hierarchical_allreduce_time(N, G, S, a, nvl, nic)
        hosts = np.arange(n)
    else:
        coll = build_collective(cname, n, S)
        if cname == "ring_allreduce":
            ab = alpha_beta_time(coll, a, nic)
            hosts = rail_ring_order(N, G)
        else:  # all-to-all: S(n−G)/n through the NIC, S(G−1)/n over NVLink
            ab = a + 8.0 * S * max((n - G) / (n * nic), (G - 1) / (n * nvl))
            hosts = np.arange(n)
    return coll, (hosts if placement == "packed" else None), ab


def _rail_rows(cfg: CollectiveTransportConfig, ctx: RunContext, done: int, total: int):
    """Rail vs ToR wiring × oversubscription × collective × placement × policy (fluid; common
    random numbers: one placement and ECMP seed per oversubscription, collective and
    placement, shared by both wirings and every policy)."""
    r = cfg.rail
    rows = []
    for over, wiring in itertools.product(r.oversubscription, r.wirings):
        net = build_rail_fabric(cfg, wiring, over)
        for cname, place in itertools.product(r.collectives, r.placements):
            coll, hosts, ab = _rail_collective(cfg, cname, place)
            seed = derive_seed(ctx.seed, "rail", over, cname, place)
            for pol in cfg.policies:
                res = _simulate(cfg, net, coll, pol, seed, place, hosts=hosts)
                keys = {
                    "section": "rail",
                    "collective": cname,
                    "leaves": net.n_tors,
                    "ranks": coll.n_ranks,
                    "oversubscription": over,
                    "placement": place,
                    "message_mb": r.message_mb,
                    "policy": pol,
                    "queue": wiring,
                    "background_load": 0.0,
                }
                rows += _rows(res, keys)
                spine = res.placed_link_bytes[net.fabric].sum() / (2.0 * res.requested_bytes)
                rows.append({**keys, "metric": "cct_over_ab", "value": res.cct_s / ab})
                rows.append({**keys, "metric": "spine_share", "value": float(spine)})
                done += 1
                ctx.progress(done / total)
    return rows


#: reorder-buffer and failure counters reported by the ``routing`` section
ROUTING_METRICS = ("reordered", "reorder_delay_mean_s", "reorder_delay_max_s",
                   "reorder_buffer_peak_pkts", "reorder_buffer_mean_pkts", "flowlets", "lost")


def _routing_fabrics(cfg: CollectiveTransportConfig):
    """``(name, healthy network, slow links, failing link pair)`` per fabric of the section:
    the slow element is spine 0 (leaf-spine) or core 0 (fat tree), all its links; the failure
    takes down both directions of leaf 0 – spine 0 (edge… aggregation 0.0 – core 0)."""
    g = cfg.routing
    for name in g.fabrics:
        if name == "leaf_spine":
            net = build_fabric(cfg, g.leaves, 1.0, g.spines, g.hosts_per_leaf)
            slow = np.r_[net.uplinks()[:, 0], net.downlinks()[0]]
            fail = (int(net.uplinks()[0, 0]), int(net.downlinks()[0, 0]))
        else:
            net = fat_tree_network(g.fat_tree_k, cfg.host_rate_gbps * 1e9,
                                   cfg.link_delay_us * 1e-6)
            t = net.tables
            slow = np.r_[t["a2c"][:, 0, 0], t["c2a"][0]]
            fail = (int(t["a2c"][0, 0, 0]), int(t["c2a"][0, 0]))
        yield name, net, slow, fail


def _routing_rows(cfg: CollectiveTransportConfig, ctx: RunContext, done: int, total: int):
    """Every routing scheme on every fabric and condition (common random numbers: one
    placement, hash seed and spray stream per fabric and collective). ``cct_over_lb`` is
    over the healthy fabric's step lower bound, so the slow and failed rows also show what
    the fault costs."""
    g = cfg.routing
    rows = []
    for fname, healthy, slow, fail in _routing_fabrics(cfg):
        sections = _section_collectives(healthy, g.collectives, g.message_mb, ctx,
                                        f"routing.{fname}")
        for cname, ranks, coll, seed in sections:
            for cond in g.conditions:
                net = healthy
                if cond == "slow_spine":
                    net = with_capacity(healthy, slow, g.slow_factor)
                failures = ()
                if cond == "link_failure":
                    failures = tuple(LinkFailure(x, g.fail_at_us * 1e-6) for x in fail)
                for scheme, transport in itertools.product(g.schemes, g.transports):
                    balancing, how = ROUTING_SCHEMES[scheme]
                    if balancing == "minimal_split" and net.kind != "leaf_spine":
                        done += 1
                        continue
                    paths = PathOptions(
                        how,
                        polarised=scheme == "ecmp_polarised",
                        flowlet_timeout_s=g.flowlet_timeout_us * 1e-6,
                        failures=failures,
                        detect_s=g.detect_us * 1e-6,
                    )
                    roce = None
                    if transport == "roce_lossless":
                        roce = RoceOptions(buffer_bytes=g.roce_buffer_kb * 1e3, pfc=True)
                    opts = PacketOptions(g.mtu_bytes, g.window_pkts, paths=paths, roce=roce)
                    res = _simulate(cfg, net, coll, balancing, seed, mode="packet", packet=opts)
                    lb = lower_bound_cct_s(healthy, coll, res.hosts, cfg.alpha_us * 1e-6)
                    keys = {
                        "section": "routing",
                        "fabric": fname,
                        "condition": cond,
                        "collective": cname,
                        "leaves": healthy.n_tors,
                        "ranks": ranks,
                        "oversubscription": 1.0,
                        "placement": "random",
                        "message_mb": g.message_mb,
                        "policy": scheme,
                        "queue": "fifo" if transport == "plain" else transport,
                        "background_load": 0.0,
                    }
                    fab = res.link_bytes[net.fabric]
                    vals = {
                        "cct_s": res.cct_s,
                        "cct_over_lb": res.cct_s / lb,
                        "fabric_used_share": float((fab > 0).mean()),
                        "fabric_max_over_mean": float(fab.max() / fab.mean()) if fab.any() else 0.0,
                        **{m: float(res.extra[m]) for m in ROUTING_METRICS},
                    }
                    rows += [{**keys, "metric": m, "value": v} for m, v in vals.items()]
                    done += 1
                    ctx.progress(done / total)
    return rows


def _background_rows(cfg: CollectiveTransportConfig, ctx: RunContext, done: int, total: int):
    b = cfg.background
    net = build_fabric(cfg, b.leaves, b.oversubscription)
    coll = build_collective(b.collective, net.n_hosts, b.message_mb * 1e6)
    rows = []
    for load in b.loads:
        seed = derive_seed(ctx.seed, "background", load)
        bg = Background(load, b.flow_mb * 1e6, "exponential") if load > 0 else None
        for pol in cfg.policies:
            res = _simulate(cfg, net, coll, pol, seed, background=bg)
            keys = {
                "section": "background",
                "collective": b.collective,
                "leaves": b.leaves,
                "ranks": net.n_hosts,
                "oversubscription": b.oversubscription,
                "placement": "random",
                "message_mb": b.message_mb,
                "policy": pol,
                "queue": "",
                "background_load": load,
            }
            rows += _rows(res, keys)
            done += 1
            ctx.progress(done / total)
    return rows


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI across replications of every scalar metric, per configuration."""
    return default_summary(results)


# -- figures and tables ---------------------------------------------------------------------
_COLORS = {"ecmp": "C3", "spray": "C0", "minimal_split": "C2", "adaptive": "C1", "random": "C7"}
_MARK = {"ecmp": "o", "spray": "s", "minimal_split": "^", "adaptive": "D", "random": "x"}


def _mean(results: pd.DataFrame, section: str, metric: str) -> pd.DataFrame:
    df = results[(results["section"] == section) & (results["metric"] == metric)]
    df = df[df["kind"] == "value"]
    keys = [
        "collective",
        "leaves",
        "oversubscription",
        "placement",
        "message_mb",
        "policy",
        "queue",
        "background_load",
    ]
    return df.groupby(keys, as_index=False)["value"].mean()


def _facets(fig, n: int):
    axes = fig.subplots(1, n, squeeze=False)[0]
    return axes


def plot(results: pd.DataFrame, cfg: CollectiveTransportConfig, out: Path) -> None:
    """Figures (PNG) and tables (CSV + Markdown) of the study."""
    out = Path(out)
    if (results["section"] == "fabric").any():
        _plot_fabric(results, cfg, out)
        _tables(results, out)
    if (results["section"] == "packet").any():
        _plot_packet(results, out)
    if (results["section"] == "background").any():
        _plot_background(results, out)
    if (results["section"] == "roce").any():
        _roce_table(results, out)
    if (results["section"] == "routing").any():
        _routing_table(results, out)
    if (results["section"] == "rail").any():
        _rail_table(results, out)


def _routing_table(results, out):
    """``table_routing.md/.csv``: CCT over the healthy bound per fabric, condition and
    collective (rows) and scheme (columns), mean [95 % CI]; ``table_routing_reorder.md``:
    mean reorder-buffer delay (ns per packet) and lost packets on the same grid."""
    s = default_summary(results[(results["section"] == "routing") & (results["kind"] == "value")])
    s = s.rename(columns={"queue": "transport"})
    index = ["transport", "fabric", "condition", "collective"]
    for metric, name, scale in (
        ("cct_over_lb", "table_routing", 1.0),
        ("reorder_delay_mean_s", "table_routing_reorder_ns", 1e9),
        ("fabric_max_over_mean", "table_routing_fabric_max_over_mean", 1.0),
    ):
        sub = s[s["metric"] == metric].copy()
        if sub.empty:
            continue
        sub["cell"] = [
            _cell(m * scale, lo * scale, hi * scale, n)
            for m, lo, hi, n in zip(sub["mean"], sub["ci_low"], sub["ci_high"], sub["n"],
                                    strict=True)
        ]
        table = sub.pivot_table(index=index, columns="policy", values="cell", aggfunc="first")
        table = table[[c for c in ROUTING_SCHEMES if c in table.columns]].fillna("–")
        table.to_csv(out / f"{name}.csv")
        (out / f"{name}.md").write_text(markdown_table(table, index=True), encoding="utf-8")


def _cell(m, lo, hi, n) -> str:
    """``mean [95 % CI]`` (the mean alone for one replication)."""
    return f"{m:.3g} [{lo:.3g}, {hi:.3g}]" if n > 1 and np.isfinite(lo) else f"{m:.3g}"


def _rail_table(results, out):
    """``table_rail.md/.csv``: CCT over the α-β time of the topology-aware schedule per
    policy (mean [95 % CI]), and the share of bytes that crosses the spines, per collective,
    placement, oversubscription and wiring."""
    s = default_summary(results[(results["section"] == "rail") & (results["kind"] == "value")])
    keys = ["collective", "placement", "oversubscription", "queue"]
    cct = s[s["metric"] == "cct_over_ab"].copy()
    cct["cell"] = [
        _cell(*v) for v in zip(cct["mean"], cct["ci_low"], cct["ci_high"], cct["n"], strict=True)
    ]
    table = cct.pivot_table(index=keys, columns="policy", values="cell", aggfunc="first")
    table = table[[p for p in POLICIES if p in table.columns]]
    share = s[s["metric"] == "spine_share"].groupby(keys)["mean"].max()
    table["spine share (max)"] = share.reindex(table.index).map(lambda v: f"{v:.3g}")
    table.index = table.index.set_names(["collective", "placement", "oversub", "wiring"])
    table.to_csv(out / "table_rail.csv")
    (out / "table_rail.md").write_text(markdown_table(table, index=True), encoding="utf-8")


def _roce_table(results, out):
    """``table_roce.md/.csv``: CCT over the bound, PFC pause time and drops per collective,
    mode and policy (mean [95 % CI] over replications)."""
    s = default_summary(results[(results["section"] == "roce") & (results["kind"] == "value")])
    cols = {"cct_over_lb": "CCT/LB", "pause_time_s": "PFC pause (µs)", "drops": "drops",
            "retransmitted": "retransmitted", "max_ingress_bytes": "max ingress (kB)",
            "max_queue_bytes": "max queue (kB)", "bg_p99_slowdown": "bg p99 slowdown"}
    scale = {"pause_time_s": 1e6, "max_ingress_bytes": 1e-3, "max_queue_bytes": 1e-3}
    s = s[s["metric"].isin(cols)].copy()
    f = s["metric"].map(scale).fillna(1.0)

    s["cell"] = [
        _cell(m, lo, hi, n)
        for m, lo, hi, n in zip(
            s["mean"] * f, s["ci_low"] * f, s["ci_high"] * f, s["n"], strict=True
        )
    ]
    s["metric"] = s["metric"].map(cols)
    table = s.pivot_table(index=["collective", "queue", "background_load", "policy"],
                          columns="metric", values="cell", aggfunc="first")
    table = table[[c for c in cols.values() if c in table.columns]]
    table.index = table.index.set_names(["collective", "mode", "bg load", "policy"])
    table.to_csv(out / "table_roce.csv")
    (out / "table_roce.md").write_text(markdown_table(table, index=True), encoding="utf-8")


def _line_panels(results, cfg, out, metric, x, fixed, fname, ylabel, logx=False, logy=False):
    df = _mean(results, "fabric", metric)
    for k, v in fixed.items():
        df = df[df[k] == v]
    colls = list(dict.fromkeys(df["collective"]))
    if not colls:
        return
    fig = new_figure(4.0 * len(colls), 3.4)
    axes = _facets(fig, len(colls))
    for ax, cname in zip(axes, colls, strict=True):
        sub = df[df["collective"] == cname]
        for pol in cfg.policies:
            s = sub[sub["policy"] == pol].sort_values(x)
            if s.empty:
                continue
            ax.plot(s[x], s["value"], marker=_MARK[pol], color=_COLORS[pol], label=pol)
        ax.set_title(cname, fontsize=9)
        ax.set_xlabel(x.replace("_", " "))
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    fig.suptitle(", ".join(f"{k}={v}" for k, v in fixed.items()), fontsize=9)
    _finish(fig, axes[0], ylabel, out / fname)


def _plot_fabric(results, cfg, out):
    big, size, over = max(cfg.leaves), max(cfg.message_mb), cfg.oversubscription[0]
    place = cfg.placements[0]
    by_size = {"leaves": big, "oversubscription": over, "placement": place}
    by_leaves = {"message_mb": size, "oversubscription": over, "placement": place}
    by_over = {"leaves": big, "message_mb": size, "placement": place}
    panels = [  # metric, x axis, fixed keys, file, y label, log x
        (
            "cct_over_lb",
            "message_mb",
            by_size,
            "cct_vs_size.png",
            "CCT / spraying lower bound",
            True,
        ),
        (
            "congestion_ratio",
            "leaves",
            by_leaves,
            "congestion_vs_leaves.png",
            "max congestion / spraying bound",
            False,
        ),
        (
            "cct_over_lb",
            "oversubscription",
            by_over,
            "cct_vs_oversubscription.png",
            "CCT / spraying lower bound",
            False,
        ),
        (
            "busbw_GBps",
            "message_mb",
            by_size,
            "busbw_vs_size.png",
            "busbw (GB/s, nccl-tests)",
            True,
        ),
        (
            "subflows_per_transfer",
            "leaves",
            by_leaves,
            "subflows_vs_leaves.png",
            "subflows per transfer",
            False,
        ),
    ]
    for metric, x, fixed, fname, ylabel, logx in panels:
        _line_panels(results, cfg, out, metric, x, fixed, fname, ylabel, logx=logx)
    if len(cfg.placements) > 1:
        _plot_placement(results, cfg, out)
    _plot_util_cdf(results, cfg, out)


def _plot_placement(results, cfg, out):
    df = _mean(results, "fabric", "cct_over_lb")
    df = df[
        (df["leaves"] == max(cfg.leaves))
        & (df["message_mb"] == max(cfg.message_mb))
        & (df["oversubscription"] == cfg.oversubscription[0])
    ]
    colls = list(dict.fromkeys(df["collective"]))
    fig = new_figure(4.0 * len(colls), 3.4)
    axes = _facets(fig, len(colls))
    for ax, cname in zip(axes, colls, strict=True):
        _grouped_bars(
            ax,
            df[df["collective"] == cname],
            list(cfg.policies),
            "placement",
            list(cfg.placements),
            "{}",
        )
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_title(cname, fontsize=9)
    fig.suptitle(f"leaves={max(cfg.leaves)}, {max(cfg.message_mb):g} MB", fontsize=9)
    _finish(fig, axes[0], "CCT / spraying lower bound", out / "placement.png", title="placement")


def _finish(fig, ax, ylabel: str, path: Path, **legend) -> None:
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, **legend)
    save_figure(fig, path)


def _grouped_bars(ax, sub, policies, column, series, label) -> None:
    """Bars of ``sub['value']`` per policy, one bar per value of ``column`` in ``series``."""
    x = np.arange(len(policies))
    width = 0.8 / len(series)
    for i, val in enumerate(series):
        vals = [sub[(sub["policy"] == p) & (sub[column] == val)]["value"].mean() for p in policies]
        ax.bar(x + i * width, vals, width, label=label.format(val))
    ax.set_xticks(x + width * (len(series) - 1) / 2, policies, fontsize=7, rotation=20)


def _plot_util_cdf(results, cfg, out):
    s = results[(results["metric"] == "fabric_utilisation") & (results["kind"] == "sample")]
    if s.empty:
        return
    colls = list(dict.fromkeys(s["collective"]))
    fig = new_figure(4.0 * len(colls), 3.4)
    axes = _facets(fig, len(colls))
    sel = (s["oversubscription"] == cfg.oversubscription[0]) & (s["placement"] == cfg.placements[0])
    for ax, cname in zip(axes, colls, strict=True):
        for pol in cfg.policies:
            v = np.sort(s[sel & (s["collective"] == cname) & (s["policy"] == pol)]["value"])
            if v.size:
                ax.step(
                    v,
                    np.arange(1, v.size + 1) / v.size,
                    where="post",
                    color=_COLORS[pol],
                    label=pol,
                )
        ax.set_xlabel("fabric link utilisation over the CCT")
        ax.set_title(cname, fontsize=9)
        ax.grid(alpha=0.3)
    _finish(fig, axes[0], "CDF over uplinks and downlinks", out / "utilisation_cdf.png")


def _plot_packet(results, out):
    df = _mean(results, "packet", "cct_packet_over_fluid")
    if df.empty:
        return
    colls = list(dict.fromkeys(df["collective"]))
    queues = list(dict.fromkeys(df["queue"]))
    fig = new_figure(4.0 * len(colls), 3.4)
    axes = _facets(fig, len(colls))
    for ax, cname in zip(axes, colls, strict=True):
        sub = df[df["collective"] == cname]
        _grouped_bars(ax, sub, list(dict.fromkeys(sub["policy"])), "queue", queues, "{} queues")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.axhspan(0.95, 1.05, color="0.85", zorder=0)
        ax.set_title(cname, fontsize=9)
    _finish(fig, axes[0], "packet-level CCT / fluid CCT", out / "packet_vs_fluid.png")


def _plot_background(results, out):
    df = _mean(results, "background", "cct_over_lb")
    if df.empty:
        return
    fig = new_figure(5.0, 3.6)
    ax = fig.add_subplot()
    for pol in dict.fromkeys(df["policy"]):
        s = df[df["policy"] == pol].sort_values("background_load")
        ax.plot(s["background_load"], s["value"], marker=_MARK[pol], color=_COLORS[pol], label=pol)
    ax.set_xlabel("background load per host link")
    ax.set_ylabel("CCT / spraying lower bound (no background)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, out / "background.png")


def _tables(results, out):
    for metric, name in (
        ("cct_over_lb", "table_cct_over_lb"),
        ("congestion_ratio", "table_congestion_ratio"),
    ):
        df = _mean(results, "fabric", metric)
        table = df.pivot_table(
            index=["collective", "placement", "leaves", "oversubscription", "message_mb"],
            columns="policy",
            values="value",
        )
        table.to_csv(out / f"{name}.csv")
        (out / f"{name}.md").write_text(
            markdown_table(table.round(3), floatfmt="g", index=True), encoding="utf-8"
        )


SCENARIO = Scenario(
    name="collective_transport",
    schema=CollectiveTransportConfig,
    run=run,
    preset="scenarios:collective_transport.yaml",
    plot=plot,
    summarize=summarize,
    description="collectives on leaf-spine: ECMP vs spraying vs minimal-split single path",
)
