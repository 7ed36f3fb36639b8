"""Study ``collective_churn``: PCCL-style fault-tolerant all-reduce over a WAN under churn.

Three sections per replication (column ``section``):

* ``churn`` - for every peer failure rate (per peer per hour) and variant, one run of
  :func:`transport.pccl.simulate`: completed all-reduces per hour, peer contributions per
  hour, retries, skipped steps, bus bandwidth, utilisation of the WAN capacity, and the
  correctness counters (sum, parity and revision errors must stay 0). Variants share the
  churn script (common random numbers): ``pccl`` (optimised ring, ``connections`` per pair),
  ``join_order`` (ring in join order, same connections), ``single_connection`` (optimised
  ring, one TCP connection per pair).
* ``connections`` - the static gain of k connections per pair: pair rates and the ring
  all-reduce over all sites (optimised ring) for each k.
* ``ring_order`` - the static gain of ring-order optimisation on random peer subsets: mean
  all-reduce time of a random ring over the optimised one, and the 2-opt heuristic's gap to
  the exact optimum where the exact solver applies.

Figures: ``churn_throughput.png``, ``churn_retries.png``, ``churn_utilisation.png``,
``churn_time_breakdown.png``, ``connections.png``, ``ring_order.png``; tables
``table_churn.csv/.md``, ``table_connections.csv``, ``table_ring_order.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from netsim import Config, RunContext, Scenario
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from netsim.rng import stream
from netsim.tables import markdown_table
from transport.pccl import (
    PcclConfig,
    edge_costs,
    effective_bandwidth,
    exact_ring,
    optimise_ring,
    ring_allreduce_busbw_bps,
    ring_finish_s,
    ring_step_costs,
    run_metrics,
    simulate,
    two_opt_ring,
)

__all__ = ["CollectiveChurnConfig", "run", "summarize", "plot", "SCENARIO", "VARIANTS"]

Variant = Literal["pccl", "join_order", "single_connection"]
VARIANTS: tuple[str, ...] = ("pccl", "join_order", "single_connection")
_COLUMNS = ["section", "variant", "failure_rate_per_h", "connections", "world", "metric", "value"]


class CollectiveChurnConfig(Config):
    model: PcclConfig = Field(default_factory=PcclConfig)
    failure_rates_per_h: list[float] = Field(
        default_factory=lambda: [0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0], min_length=1
    )
    variants: list[Variant] = Field(default_factory=lambda: list(VARIANTS), min_length=1)
    connections_sweep: list[int] = Field(
        default_factory=lambda: [1, 2, 4, 8, 16, 32, 64, 128, 256], min_length=1
    )
    report_pairs: list[tuple[str, str]] = Field(
        default_factory=lambda: [("london", "frankfurt"), ("london", "new_york")],
        description="site pairs whose k-connection rate is reported",
    )
    ring_sizes: list[int] = Field(default_factory=lambda: [4, 6, 8, 10, 12], min_length=1)
    ring_instances: int = Field(20, ge=1, le=10_000)

    @model_validator(mode="after")
    def _check(self):
        if any(not r >= 0 for r in self.failure_rates_per_h):
            raise ValueError("failure_rates_per_h values must be >= 0 (per peer per hour)")
        if any(k < 1 for k in self.connections_sweep):
            raise ValueError("connections_sweep values must be >= 1")
        n = self.model.wan.n
        if any(not 2 <= s <= n for s in self.ring_sizes):
            raise ValueError(f"ring_sizes must be in 2..{n} (the number of sites)")
        names = self._names()
        for a, b in self.report_pairs:
            if a not in names or b not in names or a == b:
                raise ValueError(f"report_pairs: ({a}, {b}) must be two different sites")
        return self

    def _names(self) -> list[str]:
        w = self.model.wan
        if w.capacity_gbps is not None and "sites" not in w.model_fields_set:
            return [f"site{i}" for i in range(w.n)]
        return list(w.sites)


def _variant_config(model: PcclConfig, variant: str, rate: float) -> PcclConfig:
    churn = model.churn.model_copy(update={"failure_rate_per_h": rate})
    update: dict = {"churn": churn}
    if variant == "join_order":
        update["ring_order"] = "join"
    elif variant == "single_connection":
        update["connections"] = 1
    return model.model_copy(update=update)


def _row(section, metric, value, variant="-", rate=np.nan, k=np.nan, world=np.nan):
    return (section, variant, float(rate), float(k), float(world), metric, float(value))


def _churn_rows(cfg: CollectiveChurnConfig, ctx: RunContext, total: int) -> list[tuple]:
    rows = []
    done = 0
    for rate in cfg.failure_rates_per_h:
        for variant in cfg.variants:
            model = _variant_config(cfg.model, variant, rate)
            run = simulate(model, seed=ctx.seed)  # same seed: same churn for every variant
            k = model.connections
            for metric, value in run_metrics(run, model.horizon_s).items():
                rows.append(_row("churn", metric, value, variant, rate, k))
            done += 1
            ctx.progress(done / total)
    return rows


def _full_ring(bw: np.ndarray, lat: np.ndarray, message_bytes: float, exact_max: int, seed: int):
    n = bw.shape[0]
    cost = edge_costs(bw, lat, 8.0 * message_bytes / n)
    order, _ = optimise_ring(cost, exact_max, seed=seed)
    return ring_step_costs(order, bw, lat, message_bytes)


def _connection_rows(cfg: CollectiveChurnConfig, seed: int) -> list[tuple]:
    m = cfg.model
    wan = m.wan.build()
    p = m.params()
    lat = wan.latency_s()
    names = cfg._names()
    cap_cost = np.divide(
        1.0, wan.capacity_bps, out=np.full((wan.n, wan.n), np.inf), where=wan.capacity_bps > 0
    )
    _, (bott, _) = optimise_ring(cap_cost, m.exact_max_peers, seed=seed)
    rows = []
    n = wan.n
    for k in cfg.connections_sweep:
        bw = effective_bandwidth(wan, k, p.window_bytes, p.mss_bytes, p.loss_rate)
        costs = _full_ring(bw, lat, p.message_bytes, m.exact_max_peers, seed)
        t = ring_finish_s(costs)
        busbw = ring_allreduce_busbw_bps(n, p.message_bytes, t)
        rows += [
            _row("connections", "allreduce_time_s", t, k=k, world=n),
            _row("connections", "busbw_gbps", busbw / 1e9, k=k, world=n),
            _row("connections", "capacity_busbw_gbps", 1.0 / bott / 1e9, k=k, world=n),
            _row("connections", "wan_utilisation", busbw * bott, k=k, world=n),
        ]
        for a, b in cfg.report_pairs:
            i, j = names.index(a), names.index(b)
            rows.append(_row("connections", f"pair_gbps:{a}->{b}", bw[i, j] / 1e9, k=k, world=2))
    return rows


def _ring_order_rows(cfg: CollectiveChurnConfig, seed: int) -> list[tuple]:
    m = cfg.model
    wan = m.wan.build()
    p = m.params()
    bw = effective_bandwidth(wan, p.connections, p.window_bytes, p.mss_bytes, p.loss_rate)
    lat = wan.latency_s()
    rng = stream(seed, "ring_instances")
    rows = []
    for n in cfg.ring_sizes:
        speedup, gap, equal = [], [], []
        for _ in range(cfg.ring_instances):
            sub = np.sort(rng.choice(wan.n, n, replace=False))
            cost = edge_costs(
                bw[np.ix_(sub, sub)], lat[np.ix_(sub, sub)], 8.0 * p.message_bytes / n
            )
            _, (best, _) = optimise_ring(cost, m.exact_max_peers, seed=seed)
            rand = rng.permutation(n)
            worst_edge = cost[rand, np.roll(rand, -1)].max()
            speedup.append(worst_edge / best)
            if n <= m.exact_max_peers:
                _, (heur, _) = two_opt_ring(cost, seed=seed)
                _, (ex, _) = exact_ring(cost)
                gap.append(heur / ex - 1.0)
                equal.append(float(heur == ex))
        rows.append(
            _row("ring_order", "speedup_vs_random_ring", np.mean(speedup), world=n, k=p.connections)
        )
        if gap:
            rows.append(_row("ring_order", "two_opt_gap", np.mean(gap), world=n, k=p.connections))
            rows.append(
                _row(
                    "ring_order", "two_opt_exact_fraction", np.mean(equal), world=n, k=p.connections
                )
            )
    return rows


def run(cfg: CollectiveChurnConfig, ctx: RunContext) -> pd.DataFrame:
    total = len(cfg.failure_rates_per_h) * len(cfg.variants)
    rows = _churn_rows(cfg, ctx, total)
    rows += _connection_rows(cfg, ctx.seed)
    rows += _ring_order_rows(cfg, ctx.seed)
    return pd.DataFrame(rows, columns=_COLUMNS)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI across replications of every (section, variant, rate, k, n, metric)."""
    return default_summary(results)


# -- tables and figures ------------------------------------------------------------------------
_TABLE_METRICS = [
    "allreduces_per_hour",
    "peer_contributions_per_hour",
    "retries_per_hour",
    "skipped_steps",
    "stalls",
    "mean_world_size",
    "busbw_gbps",
    "wan_utilisation",
    "wasted_fraction",
    "refetches",
    "sum_errors",
    "parity_errors",
    "revision_errors",
]


def _fmt(mean: float, lo: float, hi: float) -> str:
    if not np.isfinite(mean):
        return "nan"
    half = (hi - lo) / 2.0
    digits = 3 if abs(mean) < 10 else 1
    return f"{mean:.{digits}f}" + (f" ± {half:.{digits}f}" if np.isfinite(half) else "")


def _tables(s: pd.DataFrame, out: Path) -> None:
    churn = s[s["section"] == "churn"]
    churn = churn[churn["metric"].isin(_TABLE_METRICS)]
    churn.to_csv(out / "table_churn.csv", index=False)
    if not churn.empty:
        cell = churn.assign(
            cell=[
                _fmt(a, b, c)
                for a, b, c in zip(churn["mean"], churn["ci_low"], churn["ci_high"], strict=True)
            ]
        )
        wide = cell.pivot_table(
            index=["failure_rate_per_h", "variant"],
            columns="metric",
            values="cell",
            aggfunc="first",
        )
        wide = wide[[m for m in _TABLE_METRICS if m in wide.columns]]
        (out / "table_churn.md").write_text(markdown_table(wide.reset_index()))
    for section in ("connections", "ring_order"):
        sub = s[s["section"] == section]
        sub.to_csv(out / f"table_{section}.csv", index=False)


def _series(s: pd.DataFrame, metric: str, variant: str) -> pd.DataFrame:
    sub = s[(s["section"] == "churn") & (s["metric"] == metric) & (s["variant"] == variant)]
    return sub.sort_values("failure_rate_per_h")


def _churn_panel(ax, s: pd.DataFrame, metric: str, variants, label: str) -> None:
    for v in variants:
        sub = _series(s, metric, v)
        if sub.empty:
            continue
        x = sub["failure_rate_per_h"].to_numpy()
        y = sub["mean"].to_numpy()
        err = np.nan_to_num(np.vstack([y - sub["ci_low"], sub["ci_high"] - y]))
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=v)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("peer failure rate (1/h per peer)")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def _churn_figure(s, variants, panels, path: Path, title: str) -> None:
    fig = new_figure(4.2 * len(panels), 3.8)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (metric, label) in zip(axes, panels, strict=True):
        _churn_panel(ax, s, metric, variants, label)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def plot(results: pd.DataFrame, cfg: CollectiveChurnConfig, out: Path) -> None:
    s = summarize(results)
    _tables(s, out)
    variants = cfg.variants
    m = cfg.model
    sub = (
        f"{m.wan.n} sites, S = {m.message_mb:g} MB, compute {m.compute_s:g} s, "
        f"rejoin {m.churn.rejoin_rate_per_h:g}/h"
    )
    _churn_figure(
        s,
        variants,
        [
            ("allreduces_per_hour", "completed all-reduces per hour"),
            ("peer_contributions_per_hour", "peer contributions per hour"),
            ("mean_world_size", "time-average accepted peers"),
        ],
        out / "churn_throughput.png",
        "All-reduce throughput under churn; " + sub,
    )
    _churn_figure(
        s,
        variants,
        [
            ("retries_per_hour", "failed attempts (retries) per hour"),
            ("skipped_steps", "steps skipped (world fell below 2)"),
            ("wasted_fraction", "fraction of sent bits wasted"),
        ],
        out / "churn_retries.png",
        "Retries under churn; " + sub,
    )
    _churn_figure(
        s,
        variants,
        [
            ("busbw_gbps", "bus bandwidth (Gbit/s)"),
            ("wan_utilisation", "busbw / best ring's link capacity"),
        ],
        out / "churn_utilisation.png",
        "WAN utilisation; " + sub,
    )
    _time_breakdown(s, variants[0], out / "churn_time_breakdown.png")
    _connections_figure(s, cfg, out / "connections.png")
    _ring_order_figure(s, cfg, out / "ring_order.png")


def _time_breakdown(s: pd.DataFrame, variant: str, path: Path) -> None:
    from transport.pccl.model import PHASES

    fig = new_figure(6.4, 3.8)
    ax = fig.add_subplot()
    rates = sorted(_series(s, "allreduces_per_hour", variant)["failure_rate_per_h"].unique())
    x = np.arange(len(rates))
    bottom = np.zeros(len(rates))
    for phase in PHASES:
        sub = _series(s, f"time_{phase}_fraction", variant)
        y = sub.set_index("failure_rate_per_h").reindex(rates)["mean"].to_numpy()
        y = np.nan_to_num(y)
        ax.bar(x, y, bottom=bottom, label=phase)
        bottom += y
    ax.set_xticks(x, [f"{r:g}" for r in rates])
    ax.set_xlabel("peer failure rate (1/h per peer)")
    ax.set_ylabel("fraction of time")
    ax.set_title(f"Where the time goes ({variant})", fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    save_figure(fig, path)


def _lines(ax, frame, x: str, series, xlabel: str, title: str, ylabel: str = "") -> None:
    """One line per ``(metric, label)`` of ``series``: mean against column ``x``."""
    for metric, label in series:
        sub = frame[frame["metric"] == metric].sort_values(x)
        ax.plot(sub[x], sub["mean"], marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def _two_panels(s: pd.DataFrame, section: str):
    """The summary rows of ``section`` and a figure with two axes (None if no rows)."""
    frame = s[s["section"] == section]
    if frame.empty:
        return None
    fig = new_figure(9.0, 3.8)
    return frame, fig, *fig.subplots(1, 2)


def _connections_figure(s: pd.DataFrame, cfg: CollectiveChurnConfig, path: Path) -> None:
    panels = _two_panels(s, "connections")
    if panels is None:
        return
    c, fig, ax1, ax2 = panels
    xlabel = "TCP connections per peer pair"
    series = [
        ("busbw_gbps", "ring all-reduce busbw"),
        ("capacity_busbw_gbps", "link-capacity bound"),
    ]
    _lines(
        ax1,
        c,
        "connections",
        series,
        xlabel,
        f"all {cfg.model.wan.n} sites, optimised ring",
        "Gbit/s",
    )
    pairs = [(f"pair_gbps:{a}->{b}", f"{a} → {b}") for a, b in cfg.report_pairs]
    _lines(
        ax2,
        c,
        "connections",
        pairs,
        xlabel,
        f"window {cfg.model.window_kib:g} KiB: min(k·8W/RTT, C)",
        "pair rate (Gbit/s)",
    )
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
    save_figure(fig, path)


def _ring_order_figure(s: pd.DataFrame, cfg: CollectiveChurnConfig, path: Path) -> None:
    panels = _two_panels(s, "ring_order")
    if panels is None:
        return
    r, fig, ax1, ax2 = panels
    sub = r[r["metric"] == "speedup_vs_random_ring"].sort_values("world")
    err = np.nan_to_num(np.vstack([sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]]))
    ax1.errorbar(sub["world"], sub["mean"], yerr=err, marker="o", capsize=3)
    ax1.axhline(1.0, color="k", lw=0.8)
    ax1.set_xlabel("peers in the ring")
    ax1.set_ylabel("all-reduce time: random ring / optimised")
    ax1.set_title(f"k = {cfg.model.connections}, S = {cfg.model.message_mb:g} MB", fontsize=9)
    ax1.grid(alpha=0.3)
    series = [("two_opt_exact_fraction", "2-opt = exact (fraction)"), ("two_opt_gap", "mean gap")]
    _lines(ax2, r, "world", series, "peers in the ring", "2-opt heuristic against Held-Karp")
    save_figure(fig, path)


SCENARIO = Scenario(
    name="collective_churn",
    schema=CollectiveChurnConfig,
    run=run,
    preset="scenarios:collective_churn.yaml",
    plot=plot,
    summarize=summarize,
    description="PCCL-style fault-tolerant ring all-reduce over a WAN under peer churn",
)
