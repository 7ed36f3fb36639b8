"""``quantum_qos``: QoS scheduling of entanglement delivery (Skrzypczyk & Wehner 2021).

For every topology (line, H, star, symm with NV links; SURFnet with the futuristic link),
every fidelity threshold and every offered load (number of demands), one random workload is
drawn; the same workload is admitted, scheduled (PTS-NP-EDF, RCPSP-NP-EDF, RCPSP-NP-FPR,
RCPSP-PB-EDF) and executed on the engine, with common random numbers across schedulers. The
workloads of different loads are nested (the first demands are the same), so curves against
load show what each extra demand costs. Reported per scheduler: throughput at >= F_min,
delivered fidelity, latency (worst-case response time), jitter, admitted fraction.

A second part measures the greedy admission's gap to the CP-SAT optimum (same rigid task
shapes, no preemption) on ``gap_instances`` small instances per small topology.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from netsim import Config, RunContext, Scenario, validate
from netsim.plotting import new_figure, save_figure
from netsim.rng import derive_seed, stream
from netsim.stats import t_interval
from quantum.scenario import QoSConfig, build_network, make_workload, run_point
from quantum.scheduling import SCHEDULERS, admit, exact_admission

__all__ = ["QoSStudyConfig", "run", "plot", "SCENARIO"]

Topology = Literal["line", "H", "star", "symm", "surfnet"]
FMin = Annotated[float, Field(gt=0.25, le=1.0)]
Load = Annotated[int, Field(ge=1, le=500)]
Period = Annotated[int, Field(ge=1)]
PLOTTED = (
    ("scheduled_rate_hz", "scheduled rate (pairs/s)"),
    ("throughput_hz", "throughput at ≥F_min (pairs/s)"),
    ("latency_s", "worst-case latency (s)"),
    ("jitter_s2", "jitter (s²)"),
    ("admitted_fraction", "admitted fraction"),
    ("fidelity", "delivered fidelity"),
)
SHORT = {"PTS-NP-EDF": "PTS", "RCPSP-NP-EDF": "RCPSP", "RCPSP-NP-FPR": "FPR"}
GAP_MODELS = {"PTS-NP-EDF": "network", "RCPSP-NP-FPR": "block", "RCPSP-NP-EDF": "qubit"}


class QoSStudyConfig(Config):
    base: QoSConfig = Field(default_factory=QoSConfig, description="network and timing settings")
    topologies: list[Topology] = Field(
        default_factory=lambda: ["line", "H", "star", "symm", "surfnet"], min_length=1
    )
    f_min_nv: list[FMin] = Field(default_factory=lambda: [0.55, 0.65, 0.75, 0.85], min_length=1)
    f_min_surfnet: list[FMin] = Field(default_factory=lambda: [0.98, 0.99, 0.997], min_length=1)
    loads_nv: list[Load] = Field(default_factory=lambda: [2, 4, 8, 16], min_length=1)
    loads_surfnet: list[Load] = Field(default_factory=lambda: [5, 10, 20, 40], min_length=1)
    periods_nv: list[Period] = Field(default_factory=lambda: [16, 32, 64, 128], min_length=1)
    periods_surfnet: list[Period] = Field(default_factory=lambda: [4, 8, 16, 32], min_length=1)
    gap_instances: int = Field(
        10, ge=0, le=1000, description="CP-SAT gap instances per small topology"
    )
    gap_demands: int = Field(8, ge=1, le=40)
    gap_f_min: float = Field(0.55, gt=0.25, le=1.0)
    gap_time_limit_s: float = Field(10.0, gt=0)


def _point_config(cfg: QoSStudyConfig, topo: str, f_min: float, load: int) -> QoSConfig:
    surf = topo == "surfnet"
    data = cfg.base.model_dump()
    data.update(
        topology=topo,
        f_min=f_min,
        demands=load,
        periods=cfg.periods_surfnet if surf else cfg.periods_nv,
    )
    return validate(QoSConfig, data)


def _gap_rows(cfg: QoSStudyConfig, topo: str, seed: int) -> list[tuple]:
    rows = []
    base = _point_config(cfg, topo, cfg.gap_f_min, cfg.gap_demands)
    g = build_network(base)
    cache: dict = {}
    for inst in range(cfg.gap_instances):
        offers = make_workload(
            g, base, stream(derive_seed(seed, "gap", topo, inst), "qos.workload"), cache
        )
        tasks = [o.task() for o in offers if o.task() is not None]
        if not tasks:
            continue
        for name, model in GAP_MODELS.items():
            if name not in base.schedulers:
                continue
            heur, _ = admit(tasks, name, 0, base.slot_s, base.max_hyperperiod)
            opt, status = exact_admission(tasks, model, cfg.gap_time_limit_s)
            rows += [
                (
                    topo,
                    cfg.gap_f_min,
                    cfg.gap_demands,
                    name,
                    inst,
                    "gap_heuristic",
                    float(len(heur)),
                ),
                (topo, cfg.gap_f_min, cfg.gap_demands, name, inst, "gap_optimum", float(len(opt))),
                (
                    topo,
                    cfg.gap_f_min,
                    cfg.gap_demands,
                    name,
                    inst,
                    "gap_proven",
                    float(status == "OPTIMAL"),
                ),
            ]
    return rows


def run(cfg: QoSStudyConfig, ctx: RunContext) -> pd.DataFrame:
    points = []
    for topo in cfg.topologies:
        surf = topo == "surfnet"
        for f in cfg.f_min_surfnet if surf else cfg.f_min_nv:
            for load in cfg.loads_surfnet if surf else cfg.loads_nv:
                points.append((topo, f, load))
    small = [t for t in cfg.topologies if t != "surfnet"]
    total = len(points) + (len(small) if cfg.gap_instances else 0)
    frames = []
    caches: dict = {}
    graphs: dict = {}
    for n, (topo, f, load) in enumerate(points):
        pc = _point_config(cfg, topo, f, load)
        if topo not in graphs:
            graphs[topo] = build_network(pc)
        # one workload seed per (topology, F_min): loads nest, schedulers share everything
        seed = derive_seed(ctx.seed, topo, f)
        df = run_point(pc, seed, graphs[topo], caches.setdefault(topo, {}))
        df.insert(0, "load", load)
        df.insert(0, "f_min", f)
        df.insert(0, "topology", topo)
        frames.append(df)
        ctx.progress((n + 1) / total)
    gap = []
    if cfg.gap_instances:
        for i, topo in enumerate(small):
            gap += _gap_rows(cfg, topo, ctx.seed)
            ctx.progress((len(points) + i + 1) / total)
    out = pd.concat(frames, ignore_index=True)
    out["instance"] = -1
    if gap:
        cols = ["topology", "f_min", "load", "scheduler", "instance", "metric", "value"]
        out = pd.concat([out, pd.DataFrame(gap, columns=cols)], ignore_index=True)
    out["kind"] = np.where(out["metric"].str.startswith("gap_"), "sample", "scalar")
    return out[["topology", "f_min", "load", "scheduler", "instance", "metric", "kind", "value"]]


def gap_table(results: pd.DataFrame) -> pd.DataFrame:
    """Mean admitted demands of the greedy heuristic and of the CP-SAT optimum, the relative
    gap ``1 − heuristic/optimum`` and the share of instances where the heuristic is optimal."""
    g = results[results["metric"].str.startswith("gap_")]
    if g.empty:
        return pd.DataFrame()
    if "rep" not in g.columns:
        g = g.assign(rep=0)
    wide = g.pivot_table(
        index=["topology", "scheduler", "rep", "instance"], columns="metric", values="value"
    )
    wide = wide.reset_index()
    rows = []
    for (topo, sch), sub in wide.groupby(["topology", "scheduler"]):
        h, o = sub["gap_heuristic"].to_numpy(), sub["gap_optimum"].to_numpy()
        rows.append(
            {
                "topology": topo,
                "scheduler": sch,
                "instances": len(sub),
                "heuristic_admitted": h.mean(),
                "optimum_admitted": o.mean(),
                "gap": 1.0 - h.sum() / o.sum() if o.sum() else 0.0,
                "heuristic_optimal_share": float(np.mean(h >= o)),
                "proven_optimal_share": float(sub["gap_proven"].mean()),
            }
        )
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI over replications of every metric per (topology, F_min, load,
    scheduler); the CP-SAT gap table is appended with ``metric = gap``."""
    main = results[~results["metric"].str.startswith("gap_")]
    keys = ["topology", "f_min", "load", "scheduler", "metric"]
    rows = []
    for key, sub in main.groupby(keys):
        mean, half = t_interval(sub["value"].to_numpy())
        rows.append((*key, len(sub), mean, mean - half, mean + half))
    s = pd.DataFrame(rows, columns=[*keys, "n", "mean", "ci_low", "ci_high"])
    gaps = gap_table(results)
    if not gaps.empty:
        extra = gaps.rename(columns={"gap": "mean"}).assign(
            metric="gap", f_min=np.nan, load=np.nan, n=gaps["instances"]
        )
        s = pd.concat([s, extra[[*keys, "n", "mean"]]], ignore_index=True)
    return s


def plot(results: pd.DataFrame, cfg: QoSStudyConfig, out: Path) -> None:
    """``qos_<topology>.png``: each metric against offered load, one column per F_min, one
    line per scheduler (mean ± 95% CI over replications); ``qos_gap.png``: greedy vs CP-SAT."""
    main = results[~results["metric"].str.startswith("gap_")]
    schedulers = [s for s in SCHEDULERS if s in set(main["scheduler"])]
    looks = (
        ("tab:blue", "o", "-"),
        ("tab:orange", "s", "-"),
        ("tab:green", "^", "-"),
        ("tab:red", "x", "--"),
    )
    styles = dict(zip(SCHEDULERS, looks, strict=True))
    for topo, tdf in main.groupby("topology", sort=False):
        fmins = sorted(tdf["f_min"].unique())
        fig = new_figure(3.0 * len(fmins) + 1.0, 2.2 * len(PLOTTED))
        axes = np.atleast_2d(fig.subplots(len(PLOTTED), len(fmins), squeeze=False))
        for c, f in enumerate(fmins):
            fdf = tdf[tdf["f_min"] == f]
            for r, (metric, label) in enumerate(PLOTTED):
                ax = axes[r, c]
                for sch in schedulers:
                    sub = fdf[(fdf["scheduler"] == sch) & (fdf["metric"] == metric)]
                    stats = [
                        (load, *t_interval(g["value"].to_numpy()))
                        for load, g in sub.groupby("load")
                    ]
                    if not stats:
                        continue
                    x, m, h = (np.array(v, dtype=float) for v in zip(*stats, strict=True))
                    colour, marker, ls = styles[sch]
                    ax.errorbar(
                        x,
                        m,
                        yerr=np.nan_to_num(h),
                        marker=marker,
                        ms=4,
                        lw=1,
                        ls=ls,
                        capsize=2,
                        color=colour,
                        label=sch,
                        alpha=0.85,
                    )
                adm = fdf[fdf["metric"] == "admitted"]["value"]
                if len(adm) and adm.max() == 0:
                    ax.text(
                        0.5,
                        0.5,
                        "no demand admissible",
                        transform=ax.transAxes,
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="0.4",
                    )
                if r == 0:
                    ax.set_title(f"{topo}, F_min = {f:g}", fontsize=9)
                if c == 0:
                    ax.set_ylabel(label, fontsize=8)
                if r == len(PLOTTED) - 1:
                    ax.set_xlabel("offered load (demands)", fontsize=8)
                ax.tick_params(labelsize=7)
        axes[0, 0].legend(fontsize=6)
        save_figure(fig, out / f"qos_{topo}.png")
    gaps = gap_table(results)
    if not gaps.empty:
        fig = new_figure(6.4, 3.6)
        ax = fig.add_subplot()
        labels = [
            f"{t}\n{SHORT[s]}" for t, s in zip(gaps["topology"], gaps["scheduler"], strict=True)
        ]
        x = np.arange(len(gaps))
        ax.bar(x - 0.2, gaps["optimum_admitted"], 0.4, label="CP-SAT optimum")
        ax.bar(x + 0.2, gaps["heuristic_admitted"], 0.4, label="greedy admission")
        ax.set_xticks(x, labels, fontsize=6)
        ax.set_ylabel("admitted demands (mean)")
        ax.set_title(
            f"greedy admission vs CP-SAT optimum ({cfg.gap_demands} demands, "
            f"F_min = {cfg.gap_f_min:g})",
            fontsize=9,
        )
        ax.legend(fontsize=7)
        save_figure(fig, out / "qos_gap.png")


SCENARIO = Scenario(
    name="quantum_qos",
    schema=QoSStudyConfig,
    run=run,
    preset="scenarios:quantum_qos.yaml",
    plot=plot,
    summarize=summarize,
    description="QoS scheduling of entanglement (PTS vs RCPSP) on small NV networks and SURFnet",
)
