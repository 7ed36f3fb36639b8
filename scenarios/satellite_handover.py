"""``netsim run satellite_handover``: signal-quality prediction and proactive handover for
aircraft (issue 7). The study is defined in :mod:`satellite.scenario`; this file registers
it and draws its figures:

* ``f1_vs_horizon.png`` - macro-F1 and per-class F1 of gradient boosting and persistence
  against the prediction horizon (held-out flights);
* ``handover_policies.png`` - outage, handovers, interruption and delivered volume per
  flight for each policy (means with 95% CIs over the test flights);
* ``timeline.png`` - one test flight's serving Es/N0 under each policy with its handovers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from netsim import Scenario
from netsim.plotting import new_figure, save_figure
from netsim.stats import t_interval
from satellite.predict import DEFAULT_EDGES_DB
from satellite.scenario import HandoverStudyConfig, run, summarize

__all__ = ["SCENARIO", "plot"]

_SWITCH_STYLE = {
    1: ("beam", "|", "tab:green"),
    2: ("satellite", "v", "tab:orange"),
    3: ("provider", "x", "tab:red"),
}


def _plot_f1(results: pd.DataFrame, out: Path) -> None:
    pred = results[results["kind"] == "prediction"]
    if pred.empty:
        return
    fig = new_figure(10.0, 3.6)
    axes = fig.subplots(1, 4, sharey=True)
    for ax, metric in zip(axes, ["macro_f1", "f1_outage", "f1_degraded", "f1_good"], strict=True):
        for model, style in (("gradient_boosting", "o-"), ("persistence", "s--")):
            g = (
                pred[(pred["model"] == model) & (pred["metric"] == metric)]
                .groupby("horizon_s")["value"]
                .mean()
            )
            ax.plot(g.index, g.to_numpy(), style, label=model.replace("_", " "))
        ax.set_xscale("log")
        ax.set_xlabel("horizon h (s)")
        ax.set_title(metric.replace("_", " "), fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("F1 on held-out flights")
    axes[0].legend(fontsize=7)
    save_figure(fig, out / "f1_vs_horizon.png")


def _plot_policies(results: pd.DataFrame, out: Path) -> None:
    ho = results[results["kind"] == "handover"]
    if ho.empty:
        return
    metrics = [
        ("outage_s", "outage (s/flight)"),
        ("interruption_s", "interruption (s/flight)"),
        ("handovers", "handovers per flight"),
        ("delivered_gb", "delivered (GB/flight)"),
    ]
    policies = list(dict.fromkeys(ho["policy"]))
    modes = list(dict.fromkeys(ho["mode"])) if "mode" in ho.columns else [None]
    width = 0.8 / len(modes)
    fig = new_figure(11.0, 3.6)
    axes = fig.subplots(1, len(metrics))
    for ax, (metric, label) in zip(axes, metrics, strict=True):
        for j, mode in enumerate(modes):
            sub = ho if mode is None else ho[ho["mode"] == mode]
            means, halves = [], []
            for p in policies:
                m, h = t_interval(sub[(sub["policy"] == p) & (sub["metric"] == metric)]["value"])
                means.append(m)
                halves.append(0.0 if not np.isfinite(h) else h)
            x = np.arange(len(policies)) + (j - (len(modes) - 1) / 2) * width
            ax.bar(x, means, width, yerr=halves, capsize=2, label=(mode or "").replace("_", " "))
        ax.set_xticks(
            np.arange(len(policies)), [p.replace("_", "\n") for p in policies], fontsize=6
        )
        ax.set_title(label, fontsize=9)
    if modes[0] is not None:
        axes[0].legend(fontsize=6)
    n = ho["flight"].nunique()
    fig.suptitle(f"handover policies over {n} test flights (mean, 95% CI)", fontsize=10)
    save_figure(fig, out / "handover_policies.png")


def _plot_timeline(results: pd.DataFrame, out: Path, edges=DEFAULT_EDGES_DB) -> None:
    s = results[results["kind"] == "sample"]
    if s.empty:
        return
    first_rep = s["rep"].min() if "rep" in s.columns else None
    if first_rep is not None:
        s = s[s["rep"] == first_rep]
    policies = list(dict.fromkeys(s["policy"]))
    fig = new_figure(10.0, 1.6 + 1.5 * len(policies))
    axes = np.atleast_1d(fig.subplots(len(policies), 1, sharex=True))
    for ax, p in zip(axes, policies, strict=True):
        e = s[(s["policy"] == p) & (s["metric"] == "esn0_db")]
        t0 = e["time"].min()
        ax.plot((e["time"] - t0) / 60.0, e["value"], lw=0.6, color="k")
        for edge in edges:
            ax.axhline(edge, color="grey", ls=":", lw=0.8)
        sw = s[(s["policy"] == p) & (s["metric"] == "switch")]
        for code, (label, marker, colour) in _SWITCH_STYLE.items():
            m = sw[sw["value"] == code]
            if len(m):
                ax.plot(
                    (m["time"] - t0) / 60.0,
                    np.full(len(m), 12.5),
                    marker,
                    color=colour,
                    ms=6,
                    ls="none",
                    label=label,
                )
        ax.set_ylim(-22, 15)
        ax.set_ylabel("Es/N0 (dB)", fontsize=8)
        ax.set_title(p.replace("_", " "), fontsize=9, loc="left")
        ax.legend(fontsize=6, loc="lower right", ncols=3)
    axes[-1].set_xlabel("minutes after take-off")
    fig.suptitle(f"serving-link Es/N0 and handovers, flight {s['flight'].iloc[0]}", fontsize=10)
    save_figure(fig, out / "timeline.png")


def plot(results: pd.DataFrame, cfg: HandoverStudyConfig, out: Path) -> None:
    """Write ``f1_vs_horizon.png``, ``handover_policies.png`` and ``timeline.png``."""
    _plot_f1(results, out)
    _plot_policies(results, out)
    _plot_timeline(results, out, cfg.edges_db)


SCENARIO = Scenario(
    name="satellite_handover",
    schema=HandoverStudyConfig,
    run=run,
    preset="scenarios:satellite_handover.yaml",
    plot=plot,
    summarize=summarize,
    description=(
        "aircraft satellite connectivity: signal-quality prediction (F1 vs horizon) "
        "and handover policies"
    ),
)
