"""Study ``comp_market``: market-based short-term CoMP bandwidth for UEs in handover.

One replication runs the small-cell city of :class:`ran.comp.scenario.CompConfig` and
evaluates every allocation policy on the same channel and handover trajectory, beside the
rival the industry chose: Rel-16 conditional handover (``cho``) and DAPS make-before-break
handover (``daps``), which get no CoMP PRBs but their own serving cells on the same channel
(:mod:`ran.comp.cho`), with per-scheme handover, ping-pong, RLF and interruption rows
(policy ``a3`` = the baseline handover every CoMP policy shares). It returns

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
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from netsim import RunContext, Scenario, Simulation
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from netsim.tables import markdown_table
from ran.comp.events import EventProbe, EventWindows, below_floor_share
from ran.comp.model import EPOCH_METRICS
from ran.comp.scenario import CompConfig, build
from ran.comp.worst_case import report_rows

__all__ = ["SCENARIO", "CompStudyConfig", "run", "plot", "summarize"]


#: the regimes compared by default: the config itself (heterogeneous applications, urgency
#: and wallets when the preset says so), every UE alike, and the old linear utilities
REGIMES: dict[str, dict[str, Any]] = {
    "heterogeneous": {},
    "homogeneous": {"app_shares": {"stream": 1.0}, "urgency": False, "budget_carry": False},
    "linear": {"utility": "linear", "urgency": False, "budget_carry": False},
}
#: headline metrics of the comparison table: (metric, label)
HEADLINE = (
    ("epoch_efficiency", "efficiency"),
    ("trouble_frac_below_floor", "outage share"),
    ("epoch_satisfied", "satisfied demand"),
    ("epoch_jain", "Jain"),
    ("epoch_alloc_time", "convergence time (s)"),
    ("event_min_rate_handover_below_floor", "events below floor in handover"),
    ("ho_no_primary_share", "UE-time without primary link"),
    ("ho_ping_pong_share", "ping-pong share"),
)
#: the rivals every mechanism is differenced against, per replication
RIVALS = ("equal_share", "fair_share")


class CompStudyConfig(CompConfig):
    """The network's config, the regimes run on the same seed (each a set of overrides of
    the network's config), and the study's blockage-event windows."""

    regimes: dict[str, dict[str, Any]] = Field(default_factory=lambda: dict(REGIMES))
    events: EventWindows = Field(default_factory=EventWindows)

    @model_validator(mode="after")
    def _regimes(self):
        if not self.regimes:
            raise ValueError("regimes: name at least one regime")
        for name in self.regimes:
            self.regime_config(name)
        return self

    def regime_config(self, name: str) -> CompConfig:
        """The network config of regime ``name`` (this config with its overrides)."""
        base = self.model_dump(exclude={"regimes", "events"})
        try:
            return CompConfig.model_validate({**base, **self.regimes[name]})
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise ValueError(f"regime {name!r}: {loc}: {err['msg']}") from None

_COLORS = {
    "market": "C0",
    "bilateral": "C5",
    "optimum": "C1",
    "fisher": "C2",
    "equal_share": "C3",
    "fair_share": "C6",
    "second_price": "C4",
    "no_comp": "k",
    "cho": "C7",
    "daps": "C8",
}


def _event_scalars(ep: pd.DataFrame, cfg: CompConfig) -> list[tuple]:
    rows = []
    ho = ep[ep["handover"].astype(bool)]
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


def _one_regime(cfg: CompConfig, events: EventWindows, ctx: RunContext, first: bool, k0, n):
    sim = Simulation(seed=ctx.seed)  # the same seed in every regime: paired channels
    net = build(sim, cfg)
    probe = EventProbe(net, events) if first else None
    chunks = 10
    for k in range(1, chunks + 1):
        sim.run(until=cfg.horizon * k / chunks)
        ctx.progress((k0 + k / chunks) / n)
    summary = net.summary()
    extra = [("market", "execution_delay_s", cfg.handover.execution_s), ("all", "n_bs", net.n_bs)]
    if probe is None:
        return summary, pd.DataFrame(extra, columns=summary.columns), net, None
    ep = probe.episode_frame()
    rows = _event_scalars(ep, cfg) + extra
    return summary, pd.DataFrame(rows, columns=summary.columns), net, probe


def _differences(sc: pd.DataFrame) -> pd.DataFrame:
    """Per regime and headline metric: every mechanism minus each rival (paired: the same
    replication, seed and channel), as policy ``"<policy>-<rival>"``."""
    keys = [m for m, _ in HEADLINE]
    s = sc[sc["metric"].isin(keys)].pivot_table(
        index=["regime", "metric"], columns="policy", values="value"
    )
    out = []
    for rival in RIVALS:
        if rival not in s:
            continue
        for p in s.columns:
            if p == rival:
                continue
            d = (s[p] - s[rival]).dropna()
            out.append(
                pd.DataFrame(
                    {
                        "regime": d.index.get_level_values(0),
                        "policy": f"{p}-{rival}",
                        "metric": d.index.get_level_values(1),
                        "value": d.to_numpy(float),
                    }
                )
            )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def run(cfg: CompStudyConfig, ctx: RunContext) -> pd.DataFrame:
    """One replication of every regime; see the module docstring for the rows."""
    parts, n = [], len(cfg.regimes)
    samples = []
    for i, name in enumerate(cfg.regimes):
        rcfg = cfg.regime_config(name)
        summary, extra, net, probe = _one_regime(rcfg, cfg.events, ctx, i == 0, i, n)
        sc = pd.concat([summary, extra], ignore_index=True).assign(regime=name)
        parts.append(sc)
        if probe is not None:
            samples.append(_samples(net, probe, ctx, name))
    scalars = pd.concat(parts, ignore_index=True)
    scalars = pd.concat(
        [scalars, _differences(scalars), report_rows().assign(regime="all")], ignore_index=True
    ).assign(kind="scalar")
    df = pd.concat([scalars, *samples], ignore_index=True)
    if "handover" in df:
        df["handover"] = df["handover"].astype("boolean")
    return df


def _samples(net, probe, ctx, regime) -> pd.DataFrame:
    """Per-epoch, per-event and trace samples of one regime."""
    ep = probe.episode_frame()
    epochs = net.epoch_frame()
    ep_rows = []
    for col in EPOCH_METRICS:
        key = "efficiency.market" if col == "efficiency" else col
        if key in epochs:
            e = epochs[["time", key]].dropna()
            ep_rows.append(
                pd.DataFrame(
                    {
                        "policy": "market" if col != "n_trouble" else "all",
                        "metric": f"epoch_{col}",
                        "value": e[key].to_numpy(float),
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
    return pd.concat([*ep_rows, *ev_rows, traces], ignore_index=True).assign(regime=regime)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI across replications of every scalar (per policy and metric)."""
    cols = ["rep", "seed", "regime", "policy", "metric", "value"]
    s = results[results["kind"] == "scalar"][cols]
    return default_summary(s)


def comparison_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The headline table: per regime and policy, ``mean [ci_low, ci_high]`` of each
    :data:`HEADLINE` metric (rows of paired differences included)."""
    keys = dict(HEADLINE)
    s = summary[summary["metric"].isin(keys)].copy()
    s["cell"] = [
        f"{m:.3g} [{lo:.3g}, {hi:.3g}]" if np.isfinite(lo) else f"{m:.3g}"
        for m, lo, hi in zip(s["mean"], s["ci_low"], s["ci_high"], strict=True)
    ]
    t = s.pivot_table(index=["regime", "policy"], columns="metric", values="cell", aggfunc="first")
    t = t[[k for k in keys if k in t.columns]].rename(columns=keys)
    return t.reset_index()


def _ecdf(ax, x, **kw):
    x = np.asarray(pd.to_numeric(pd.Series(x), errors="coerce"), dtype=float)
    x = np.sort(x[np.isfinite(x)])
    if x.size:
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", **kw)


def plot(results: pd.DataFrame, cfg: CompConfig, out: Path) -> None:
    """Write the figures named in the module docstring and ``comparison.md``."""
    out = Path(out)
    _comparison(results, out)
    first = next(iter(cfg.regimes))
    results = results[results["regime"].isin([first, "all"])]
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


def _comparison(results: pd.DataFrame, out: Path) -> None:
    """``comparison.md`` (every mechanism and the paired differences, 95 % CIs) and
    ``regimes.png`` (efficiency and satisfied demand per regime and mechanism)."""
    summary = summarize(results)
    table = comparison_table(summary)
    (out / "comparison.md").write_text(markdown_table(table) + "\n")
    s = summary[~summary["policy"].str.contains("-", regex=False)]
    regimes = [r for r in s["regime"].unique() if r != "all"]
    fig = new_figure(12.0, 3.8)
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("epoch_efficiency", "epoch_satisfied"), strict=True):
        m = s[s["metric"] == metric]
        pols = [p for p in _COLORS if p in set(m["policy"])]
        width = 0.8 / max(len(pols), 1)
        for i, p in enumerate(pols):
            g = m[m["policy"] == p].set_index("regime").reindex(regimes)
            x = np.arange(len(regimes)) + i * width
            err = np.vstack([g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]])
            ax.bar(x, g["mean"], width, yerr=np.nan_to_num(err), color=_COLORS[p], label=p)
        ax.set_xticks(np.arange(len(regimes)) + 0.4 - width / 2, regimes, fontsize=8)
        ax.set_title(f"{metric} (95 % CI over replications)", fontsize=8)
    axes[0].legend(fontsize=6, ncol=2)
    save_figure(fig, out / "regimes.png")
