"""Study ``comp_market``: market-based short-term CoMP bandwidth for UEs in handover.

One replication runs the small-cell city of :class:`ran.comp.scenario.CompConfig` and
evaluates every allocation policy on the same channel and handover trajectory. It returns

* scalar rows (``kind = "scalar"``) per policy: mean rate, fraction of UE-time below the rate
  floor (all UEs and UEs in trouble), epoch welfare, revenue and Jain index, the rates before,
  during and after the handover gap of blockage events, and the market's efficiency
  (welfare / LP optimum), distance from the Eisenberg-Gale equilibrium, rounds, messages and
  allocation time against the handover execution delay; and (``policy = "worst_case"``) the
  equilibrium efficiency of the Θ(1/√m) family of :mod:`ran.comp.worst_case` for
  m = 2..256 UEs and its log-log slope (a reported bound, not the 3/4 of small games);
* ``kind = "sample"`` rows: per allocation epoch (``metric = epoch_*``), per blockage event
  (``event_*``, with ``event`` and ``policy``) and event-aligned rate traces (``trace_rate``
  with ``rel_time`` in s from the blockage onset and ``phase`` before/gap/after).

Figures: ``corner_trace.png`` (one throughput trace around a corner and the event-aligned
mean), ``min_rate_cdf.png`` (CDF of the minimum rate in the handover gap),
``market_cdfs.png`` (efficiency, EG gap, allocation time) and ``policies.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field

from netsim import RunContext, Scenario, Simulation
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from ran.comp.events import EventProbe, EventWindows, below_floor_share
from ran.comp.model import EPOCH_METRICS
from ran.comp.scenario import CompConfig, build
from ran.comp.worst_case import report_rows

__all__ = ["SCENARIO", "CompStudyConfig", "run", "plot", "summarize"]


class CompStudyConfig(CompConfig):
    """The network's config plus the study's blockage-event windows."""

    events: EventWindows = Field(default_factory=EventWindows)

_COLORS = {
    "market": "C0",
    "optimum": "C1",
    "fisher": "C2",
    "equal_share": "C3",
    "second_price": "C4",
    "no_comp": "k",
}


def _event_scalars(ep: pd.DataFrame, cfg: CompConfig) -> list[tuple]:
    rows = []
    ho = ep[ep["handover"]]
    for p, g in ho.groupby("policy", sort=False):
        rows += [
            (p, "event_rate_before_mbps", float(g["rate_before"].mean())),
            (p, "event_rate_gap_mbps", float(g["rate_gap"].mean())),
            (p, "event_rate_after_mbps", float(g["rate_after"].mean())),
            (p, "event_min_rate_gap_median_mbps", float(g["min_rate_gap"].median())),
            (p, "event_min_rate_handover_median_mbps", float(g["min_rate_handover"].median())),
            (p, "event_min_rate_handover_p10_mbps", float(g["min_rate_handover"].quantile(0.1))),
            (
                p,
                "event_min_rate_handover_below_floor",
                below_floor_share(g["min_rate_handover"], cfg.rate_floor_mbps),
            ),
        ]
    if not ep.empty:
        first = ep.drop_duplicates("event")
        rows += [
            ("all", "events", float(first.shape[0])),
            ("all", "events_with_handover", float(first["handover"].sum())),
            ("all", "event_gap_mean_s", float(first.loc[first["handover"], "gap_s"].mean())),
            (
                "all",
                "event_trigger_mean_s",
                float(first.loc[first["handover"], "trigger_s"].mean()),
            ),
        ]
    return rows


def run(cfg: CompStudyConfig, ctx: RunContext) -> pd.DataFrame:
    """One replication; see the module docstring for the rows."""
    sim = Simulation(seed=ctx.seed)
    net = build(sim, cfg)
    probe = EventProbe(net, cfg.events)
    chunks = 20
    for k in range(1, chunks + 1):
        sim.run(until=cfg.horizon * k / chunks)
        ctx.progress(k / chunks)
    summary = net.summary()
    ep = probe.episode_frame()
    extra = pd.DataFrame(_event_scalars(ep, cfg), columns=["policy", "metric", "value"])
    extra = pd.concat(
        [
            extra,
            pd.DataFrame(
                [
                    ("market", "execution_delay_s", cfg.handover.execution_s),
                    ("all", "n_bs", float(net.n_bs)),
                ],
                columns=extra.columns,
            ),
        ]
    )
    # the Θ(1/√m) worst-case family of the fixed-budget game (reported, not asserted)
    scalars = pd.concat([summary, extra, report_rows()], ignore_index=True).assign(kind="scalar")
    epochs = net.epoch_frame()
    ep_rows = []
    for col in EPOCH_METRICS:
        if col in epochs:
            e = epochs[["time", col]].dropna()
            ep_rows.append(
                pd.DataFrame(
                    {
                        "policy": "market" if col != "n_trouble" else "all",
                        "metric": f"epoch_{col}",
                        "value": e[col].to_numpy(float),
                        "time": e["time"].to_numpy(float),
                        "kind": "sample",
                    }
                )
            )
    ev_rows = []
    for col in (
        "rate_before",
        "rate_gap",
        "rate_after",
        "min_rate_gap",
        "min_rate_handover",
        "gap_s",
        "trigger_s",
    ):
        ev_rows.append(
            pd.DataFrame(
                {
                    "policy": ep["policy"],
                    "metric": f"event_{col}",
                    "value": ep[col].astype(float),
                    "event": ep["event"],
                    "handover": ep["handover"],
                    "time": ep["t0"],
                    "kind": "sample",
                }
            )
        )
    tr = probe.trace_frame()
    traces = pd.DataFrame(
        {
            "policy": tr["policy"],
            "metric": "trace_rate",
            "value": tr["rate"],
            "event": tr["event"],
            "rel_time": tr["rel_time"],
            "phase": tr["phase"],
            "kind": "sample",
        }
    )
    if ctx.workdir is not None:
        ep.assign(rep=ctx.rep).to_csv(Path(ctx.workdir) / f"events_rep{ctx.rep}.csv", index=False)
    df = pd.concat([scalars, *ep_rows, *ev_rows, traces], ignore_index=True)
    if "handover" in df:
        df["handover"] = df["handover"].astype("boolean")
    return df


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI across replications of every scalar (per policy and metric)."""
    s = results[results["kind"] == "scalar"][["rep", "seed", "policy", "metric", "value"]]
    return default_summary(s)


def _ecdf(ax, x, **kw):
    x = np.sort(np.asarray(x, dtype=float)[np.isfinite(x)])
    if x.size:
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", **kw)


def plot(results: pd.DataFrame, cfg: CompConfig, out: Path) -> None:
    """Write the four figures named in the module docstring."""
    out = Path(out)
    pols = [p for p in _COLORS if p in set(results["policy"].dropna())]
    tr = results[results["metric"] == "trace_rate"]
    ev = results[
        results["metric"].astype(str).str.startswith("event_") & (results["kind"] == "sample")
    ]
    # 1: a corner trace and the event-aligned mean
    fig = new_figure(11.0, 4.0)
    ax1, ax2 = fig.subplots(1, 2)
    gaps = ev[(ev["metric"] == "event_gap_s") & (ev["handover"] == True)]  # noqa: E712
    if not gaps.empty and not tr.empty:
        g = gaps.drop_duplicates(["rep", "event"]).sort_values("value")
        pick = g.iloc[len(g) // 2]
        one = tr[(tr["rep"] == pick["rep"]) & (tr["event"] == pick["event"])]
        for p in pols:
            s = one[one["policy"] == p].sort_values("rel_time")
            ax1.plot(s["rel_time"], s["value"], color=_COLORS[p], lw=1.2, label=p)
        ax1.axvline(0.0, color="grey", ls="--", lw=0.8)
        ax1.axvline(pick["value"], color="grey", ls=":", lw=0.8)
        ax1.set_title(
            f"one blockage event (rep {int(pick['rep'])}, event {int(pick['event'])}); "
            f"handover done at {pick['value']:.2f} s",
            fontsize=8,
        )
        ho_events = set(map(tuple, gaps[["rep", "event"]].drop_duplicates().to_numpy()))
        key = list(zip(tr["rep"], tr["event"], strict=True))
        mask = np.array([k in ho_events for k in key])
        sub = tr[mask]
        sub = sub.assign(rel_time=sub["rel_time"].round(6))
        counts = sub[sub["policy"] == pols[0]].groupby("rel_time")["value"].size()
        keep = counts.index[counts >= 0.5 * len(ho_events)]
        for p in pols:
            s = sub[sub["policy"] == p].groupby("rel_time")["value"].mean().reindex(keep)
            ax2.plot(s.index, s.to_numpy(), color=_COLORS[p], lw=1.2, label=p)
        ax2.axvline(0.0, color="grey", ls="--", lw=0.8)
        ax2.axvline(float(g["value"].median()), color="grey", ls=":", lw=0.8)
        ax2.set_title(
            f"mean of {len(ho_events)} events with handover (dotted: median completion)",
            fontsize=8,
        )
    for ax in (ax1, ax2):
        ax.set_xlabel("time from blockage onset (s)")
        ax.set_ylabel("UE throughput (Mbit/s)")
        ax.axhline(cfg.rate_floor_mbps, color="r", lw=0.6, ls="-.")
    ax1.legend(fontsize=7)
    save_figure(fig, out / "corner_trace.png")
    # 2: CDF of the minimum rate in the handover gap
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    mins = ev[(ev["metric"] == "event_min_rate_handover") & (ev["handover"] == True)]  # noqa: E712
    for p in pols:
        _ecdf(ax, mins.loc[mins["policy"] == p, "value"], color=_COLORS[p], label=p)
    ax.axvline(cfg.rate_floor_mbps, color="r", lw=0.6, ls="-.")
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlim(left=0.0)
    ax.set_xlabel("minimum rate during handover execution, A3 trigger to completion (Mbit/s)")
    ax.set_ylabel("CDF over blockage events")
    ax.legend(fontsize=7)
    save_figure(fig, out / "min_rate_cdf.png")
    # 3: market CDFs
    fig = new_figure(12.0, 3.6)
    axes = fig.subplots(1, 3)
    samp = results[results["kind"] == "sample"]
    _ecdf(axes[0], samp.loc[samp["metric"] == "epoch_efficiency", "value"], color="C0")
    axes[0].set_xlabel("market welfare / LP optimum (per epoch)")
    _ecdf(
        axes[1],
        samp.loc[samp["metric"] == "epoch_eg_nash_ratio", "value"],
        color="C2",
        label="Nash-welfare ratio",
    )
    _ecdf(
        axes[1],
        1 - samp.loc[samp["metric"] == "epoch_eg_utility_gap", "value"],
        color="C4",
        label="1 - utility gap",
    )
    axes[1].set_xlabel("market vs Eisenberg-Gale equilibrium")
    axes[1].legend(fontsize=7)
    _ecdf(axes[2], 1e3 * samp.loc[samp["metric"] == "epoch_alloc_time_s", "value"], color="C0")
    axes[2].axvline(
        1e3 * cfg.handover.execution_s, color="r", ls="--", lw=0.8, label="handover execution"
    )
    axes[2].set_xlabel("time to allocate (ms)")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_ylabel("CDF over epochs")
    save_figure(fig, out / "market_cdfs.png")
    # 4: policy comparison bars
    sc = results[results["kind"] == "scalar"].groupby(["policy", "metric"])["value"].mean()
    fig = new_figure(12.0, 3.6)
    axes = fig.subplots(1, 4)
    for ax, (metric, label) in zip(
        axes,
        [
            (
                "trouble_frac_below_floor",
                f"UE-time in trouble below {cfg.rate_floor_mbps:g} Mbit/s",
            ),
            ("event_rate_gap_mbps", "mean rate in handover gap (Mbit/s)"),
            ("epoch_jain", "Jain index (troubled UEs)"),
            ("epoch_revenue", "BS revenue per epoch (tokens)"),
        ],
        strict=True,
    ):
        vals = [sc.get((p, metric), np.nan) for p in pols]
        ax.bar(range(len(pols)), vals, color=[_COLORS[p] for p in pols])
        ax.set_xticks(range(len(pols)), pols, rotation=45, ha="right", fontsize=7)
        ax.set_title(label, fontsize=8)
    save_figure(fig, out / "policies.png")


SCENARIO = Scenario(
    name="comp_market",
    schema=CompStudyConfig,
    run=run,
    preset="scenarios:comp_market.yaml",
    plot=plot,
    summarize=summarize,
    description="market-based short-term CoMP allocation for UEs in handover (small cells)",
)
