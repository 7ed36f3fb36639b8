"""The ``mm1``, ``mmc`` and ``tandem`` studies: simulated means beside their closed forms.

Each replication builds the network of a :class:`queueing.scenario.QueueConfig` on a fresh
:class:`netsim.Simulation`, runs it for ``horizon`` seconds, discards the first ``warmup``
seconds, and reports per station the mean wait, sojourn, queue length, number in system and
utilisation, each with its closed form (M/M/c Erlang C, M/D/1 Pollaczek-Khinchine, Jackson
tandem). The three scenarios share this code and differ in their presets
(``scenarios/mm1.yaml``, ``mmc.yaml``, ``tandem.yaml`` and their ``.quick`` variants).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from netsim import RunContext, Scenario, Simulation
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from queueing.scenario import QueueConfig, build, theory

__all__ = ["METRICS", "run", "summarize", "plot", "MM1", "MMC", "TANDEM"]

METRICS = ("wait", "sojourn", "queue_length", "number_in_system", "utilisation")


def run(cfg: QueueConfig, ctx: RunContext) -> pd.DataFrame:
    """One replication: per station and metric the simulated mean and its closed form."""
    sim = Simulation(seed=ctx.seed)
    net = build(cfg, sim)
    sim.run(until=cfg.warmup)
    sim.metrics.reset()
    chunks = 20
    for k in range(1, chunks + 1):
        sim.run(until=cfg.warmup + (cfg.horizon - cfg.warmup) * k / chunks)
        ctx.progress(k / chunks)
    per, total = theory(cfg)
    rows = []
    for i, st in enumerate(cfg.stations):
        sim_vals = {
            "wait": net.wait[i].values.mean(),
            "sojourn": net.station_sojourn[i].values.mean(),
            "queue_length": net.queue_length[i].time_average(),
            "number_in_system": net.in_system[i].time_average(),
            "utilisation": net.busy[i].time_average() / st.servers,
        }
        for name in METRICS:
            rows.append((str(i), name, "mean", sim_vals[name], getattr(per[i], name)))
    if len(cfg.stations) > 1:
        rows.append(("all", "sojourn", "mean", net.sojourn.values.mean(), total.sojourn))
    df = pd.DataFrame(rows, columns=["station", "metric", "kind", "value", "theory"])
    if cfg.samples:
        s = net.sojourn.values[: cfg.samples]
        samples = pd.DataFrame(
            {"station": "all", "metric": "sojourn", "kind": "sample", "value": s, "theory": np.nan}
        )
        df = pd.concat([df, samples], ignore_index=True)
    return df


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI across replications, the closed form, and whether the CI holds it."""
    s = default_summary(results)
    s["rel_error"] = (s["mean"] - s["theory"]) / s["theory"]
    s["theory_in_ci"] = (s["ci_low"] <= s["theory"]) & (s["theory"] <= s["ci_high"])
    return s


def plot(results: pd.DataFrame, cfg: QueueConfig, out: Path) -> None:
    """``theory_vs_sim.png``: simulated means with 95% CIs against the closed forms; plus
    ``sojourn_hist.png`` when samples were kept (M/M/1 overlay: Exp(μ − λ))."""
    s = summarize(results)
    fig = new_figure(8.0, 4.0)
    axes = fig.subplots(1, len(METRICS))
    for ax, name in zip(axes, METRICS, strict=True):
        sub = s[s["metric"] == name]
        x = np.arange(len(sub))
        err = np.vstack([sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]])
        ax.errorbar(x, sub["mean"], yerr=np.nan_to_num(err), fmt="o", capsize=4, label="simulated")
        ax.plot(x, sub["theory"], "x", color="k", ms=9, label="closed form")
        ax.set_xticks(x, [f"st {v}" for v in sub["station"]])
        ax.set_title(name.replace("_", " "), fontsize=9)
    axes[0].legend(fontsize=7)
    stations = [(st.servers, st.service_rate) for st in cfg.stations]
    fig.suptitle(f"λ={cfg.arrival_rate:g}/s, stations (c, μ)={stations}")
    save_figure(fig, out / "theory_vs_sim.png")
    samples = results[results["kind"] == "sample"]["value"].to_numpy()
    if samples.size:
        fig = new_figure(5.5, 3.8)
        ax = fig.add_subplot()
        ax.hist(samples, bins=60, density=True, alpha=0.6, label="simulated sojourn")
        st = cfg.stations[0]
        if len(cfg.stations) == 1 and st.servers == 1 and cfg.service == "exponential":
            rate = st.service_rate - cfg.arrival_rate
            t = np.linspace(0, samples.max(), 200)
            ax.plot(t, rate * np.exp(-rate * t), "k", label=f"Exp(μ−λ = {rate:g})")
        ax.set_xlabel("sojourn time (s)")
        ax.set_ylabel("density")
        ax.legend()
        save_figure(fig, out / "sojourn_hist.png")


def _scenario(name: str, description: str) -> Scenario:
    return Scenario(
        name=name,
        schema=QueueConfig,
        run=run,
        preset=f"scenarios:{name}.yaml",
        plot=plot,
        summarize=summarize,
        description=description,
    )


MM1 = _scenario("mm1", "M/M/1 queue against Pollaczek-Khinchine closed forms")
MMC = _scenario("mmc", "M/M/c queue against Erlang-C closed forms")
TANDEM = _scenario("tandem", "two-station Jackson tandem network against product-form results")
