"""``netsim run satellite_handover``: signal-quality prediction and proactive handover for
aircraft (issues 7, 17). The config schema and model factory are in :mod:`satellite.scenario`;
this file runs the study, summarises it and draws its figures:

* ``f1_vs_horizon.png`` - macro-F1 and per-class F1 of gradient boosting and persistence
  against the prediction horizon (held-out flights);
* ``f1_vs_plan_noise.png`` - the ablation: macro-F1 at ``horizon_s`` against flight-plan
  noise with all features and without the autopilot forecast, beside the model without the
  plan and persistence (the real tracks are in ``tables.md``: their rare classes are too
  thin for a macro-F1 on the same axes);
* ``tables.md`` - the ablation and real-flight tables in markdown (for the module README);
* ``handover_policies.png`` - outage, handovers, interruption and delivered volume per
  flight for each policy (means with 95% CIs over the test flights);
* ``timeline.png`` - one test flight's serving Es/N0 under each policy with its handovers.

Rows of the result frame (``kind`` marks the part):

* ``kind="prediction"``: ``model`` (gradient_boosting | persistence), ``horizon_s``, metric
  ∈ {macro_f1, f1_outage, f1_degraded, f1_good, auc_outage}.
* ``kind="handover"``: ``mode`` (single_modem | make_before_break), ``policy``, ``flight``,
  metric ∈ {outage_s, handovers, beam_switches, satellite_switches, provider_switches,
  delivered_gb, interruption_s, duration_s}.
* ``kind="sample"``: one flight's timeline per policy (metric ``esn0_db`` of the serving link
  and ``switch`` markers), for the plot.
* ``kind="ablation"``: F1 at ``horizon_s`` by ``features`` (all | without_autopilot |
  without_plan | persistence) and ``plan_noise`` (the level of :func:`satellite.predict.noisy_plan`;
  NaN where the plan is not used).
* ``kind="real"``: F1 at ``horizon_s`` on the bundled **real ADS-B tracks**
  (``cfg.real_flights``, replayed in the study's world by
  :func:`satellite.dataset.adsb_flights`) by ``source`` (a sample name, or ``all``) and
  ``model``: gradient boosting trained on every generated flight with the features a real
  flight has (no flight plan, so ``features="without_plan"``), and persistence. Also the
  rows and flights scored and the class shares of the real rows.
* ``kind="dataset"``: dataset size and class shares.

The predictor's main table (``kind="prediction"``) is trained and scored with the plan at
``plan_noise``; the flights carry wind and turbulence (``dataset.wind_mps``,
``dataset.turbulence_deg``) that the autopilot forecast does not know.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from netsim import RunContext, Scenario
from netsim.plotting import new_figure, save_figure
from netsim.rng import derive_seed
from netsim.stats import t_interval
from satellite.dataset import (
    adsb_flights,
    build_world,
    flight_frame,
    generate_dataset,
    radar_features,
)
from satellite.handover import POLICIES, Interruptions, simulate_handover
from satellite.links import evaluate_links
from satellite.predict import (
    AUTOPILOT_FEATURES,
    CLASSES,
    DEFAULT_EDGES_DB,
    FEATURES,
    PLAN_FEATURES,
    Forecaster,
    candidate_rows,
    classify,
    cross_validate,
    forecast_links,
    noisy_plan,
    shortlist,
    train_test_scores,
)
from satellite.scenario import HandoverStudyConfig, build

__all__ = ["SCENARIO", "run", "summarize", "plot"]


def _prediction_rows(table: pd.DataFrame) -> pd.DataFrame:
    metrics = [c for c in table.columns if c.startswith(("macro_f1", "f1_", "auc_"))]
    long = table.melt(
        id_vars=["horizon_s", "model", "rows", "flights", "folds"],
        value_vars=metrics,
        var_name="metric",
    )
    long["kind"] = "prediction"
    return long


def _ablation(cfg: HandoverStudyConfig, exact, main, seed: int) -> pd.DataFrame:
    """F1 at ``horizon_s`` against plan noise: all features, without the autopilot forecast,
    without the flight plan (and so without the autopilot too), persistence."""
    h = cfg.horizon_s
    cv = lambda d, names: cross_validate(  # noqa: E731
        d, [h], cfg.edges_db, cfg.cv_folds, cfg.train_stride, seed, feature_names=names
    )
    no_ap = tuple(f for f in FEATURES if f not in AUTOPILOT_FEATURES)
    no_plan = _without_plan()
    parts = []
    for level in sorted(set(cfg.noise_levels) | {cfg.plan_noise}):
        d = noisy_plan(exact, level, seed)
        full = main if level == cfg.plan_noise else cv(d, FEATURES)
        gb = full[full["model"] == "gradient_boosting"]
        parts.append(gb.assign(features="all", plan_noise=level))
        parts.append(cv(d, no_ap).query("model == 'gradient_boosting'").assign(
            features="without_autopilot", plan_noise=level))
    parts.append(cv(exact, no_plan).query("model == 'gradient_boosting'").assign(
        features="without_plan", plan_noise=np.nan))
    parts.append(main[main["model"] == "persistence"].assign(features="persistence",
                                                             plan_noise=np.nan))
    table = pd.concat(parts, ignore_index=True)
    metrics = [c for c in table.columns if c.startswith(("macro_f1", "f1_", "auc_"))]
    long = table.melt(id_vars=["features", "plan_noise", "horizon_s"], value_vars=metrics,
                      var_name="metric")
    long["kind"] = "ablation"
    return long


def _without_plan() -> tuple[str, ...]:
    return tuple(f for f in FEATURES if f not in AUTOPILOT_FEATURES and f not in PLAN_FEATURES)


def _real_flights(cfg: HandoverStudyConfig, train: pd.DataFrame, seed: int) -> pd.DataFrame:
    """F1 at ``horizon_s`` on the real ADS-B tracks (see ``kind="real"``)."""
    ds, h = cfg.dataset, cfg.horizon_s
    world = build_world(ds.world, seed)
    frames = []
    for tr in adsb_flights(ds.world, cfg.real_flights):
        ls = evaluate_links(world, tr, ds.providers)
        radar = radar_features(world, tr, seed, ds.radar_noise)
        frames.append(flight_frame(world, tr, ls, radar, ds.beam_hysteresis_db, [h]))
    real = pd.concat(frames, ignore_index=True)
    real["source"] = real["flight"].str.split(":").str[0]
    table = train_test_scores(
        train, real, h, cfg.edges_db, cfg.train_stride, seed, _without_plan(), by="source"
    ).rename(columns={"group": "source"})
    metrics = [c for c in table.columns if c.startswith(("macro_f1", "f1_", "auc_", "share_"))]
    long = table.melt(
        id_vars=["source", "model", "horizon_s"],
        value_vars=[*metrics, "rows", "flights"],
        var_name="metric",
    )
    long["kind"] = "real"
    long["features"] = np.where(long["model"] == "persistence", "persistence", "without_plan")
    return long


def _train_forecaster(cfg: HandoverStudyConfig, flights, seed: int) -> Forecaster:
    xs, ys = [], []
    for tr, ls, radar in flights:
        mask = shortlist(ls, k=cfg.shortlist_k)
        mask[np.arange(mask.shape[0]) % max(cfg.train_stride, 1) != 0] = False
        X, _, _, target = candidate_rows(
            ls, tr, radar, mask, cfg.horizon_s, cfg.dataset.world.max_scan_deg
        )
        xs.append(X)
        ys.append(target)
    return Forecaster(cfg.horizon_s, tuple(cfg.edges_db), seed).fit(
        pd.concat(xs, ignore_index=True), np.concatenate(ys)
    )


def run(cfg: HandoverStudyConfig, ctx: RunContext) -> pd.DataFrame:
    """One replication of the study (see the module docstring for the rows)."""
    seed = ctx.seed
    frames = []
    ahead = sorted(set(cfg.dataset.lookahead_s) | set(cfg.horizons) | {cfg.horizon_s})
    ds = cfg.dataset.model_copy(update={"lookahead_s": ahead})
    df = generate_dataset(ds, seed, progress=lambda f: ctx.progress(0.15 * f))
    cls = np.bincount(classify(df["esn0_db"].to_numpy(), cfg.edges_db), minlength=3) / len(df)
    frames.append(
        pd.DataFrame(
            {
                "kind": "dataset",
                "metric": ["rows", "flights"] + [f"share_{c}" for c in CLASSES],
                "value": [len(df), df["flight"].nunique(), *cls],
            }
        )
    )
    exact = df
    df = noisy_plan(exact, cfg.plan_noise, seed)
    main = cross_validate(df, [cfg.horizon_s], cfg.edges_db, cfg.cv_folds, cfg.train_stride, seed)
    ctx.progress(0.3)
    if cfg.noise_levels:
        frames.append(_ablation(cfg, exact, main, seed))
    del exact
    if cfg.real_flights:
        frames.append(_real_flights(cfg, df, seed))
    ctx.progress(0.4)
    others = [h for h in cfg.horizons if h != cfg.horizon_s]
    curve = (
        cross_validate(df, others, cfg.edges_db, cfg.horizon_folds, 2 * cfg.train_stride, seed)
        if others
        else None
    )
    parts = [main.assign(folds=cfg.cv_folds)] + (
        [curve.assign(folds=cfg.horizon_folds)] if curve is not None else []
    )
    table = pd.concat(parts, ignore_index=True)
    frames.append(_prediction_rows(table))
    if ctx.workdir is not None:
        table.sort_values(["horizon_s", "model"]).to_csv(ctx.workdir / "f1_table.csv", index=False)
    del df
    ctx.progress(0.6)
    # -- handover on fresh flights with every provider -----------------------------------------
    hseed = derive_seed(seed, "handover")
    _, train = build(cfg, hseed, cfg.train_flights, "H")
    model = _train_forecaster(cfg, train, seed)
    del train
    if ctx.workdir is not None:
        with open(ctx.workdir / "forecaster.pkl", "wb") as fh:
            pickle.dump(model, fh)
    ctx.progress(0.7)
    _, test = build(cfg, hseed, cfg.test_flights, "T")
    ic = cfg.interruptions
    rows, traces = [], []
    for i, (tr, ls, radar) in enumerate(test):
        pred, pgood = forecast_links(
            model, ls, tr, radar, shortlist(ls, k=cfg.shortlist_k), cfg.dataset.world.max_scan_deg
        )
        per = {}
        for mode in cfg.terminal_modes:
            mbb = {"make_before_break": mode == "make_before_break"}
            cost = Interruptions(**(ic.model_dump() | mbb))
            for name in cfg.policies:
                res = simulate_handover(
                    ls,
                    POLICIES[name](),
                    cost,
                    cfg.decision_interval_s,
                    pred,
                    pgood,
                    cfg.acm_margin_db,
                )
                if mode == cfg.terminal_modes[0]:
                    per[name] = res
                tot = res.totals() | {"duration_s": float(len(tr))}
                base = {"kind": "handover", "mode": mode, "policy": name, "flight": tr.name}
                rows.extend(base | {"metric": k, "value": v} for k, v in tot.items())
        traces.append((tr, ls, per))
        ctx.progress(0.7 + 0.3 * (i + 1) / len(test))
    frames.append(pd.DataFrame(rows))
    frames.append(_timeline(traces, cfg.plot_flight))
    return pd.concat(frames, ignore_index=True)


def _timeline(traces, which: int) -> pd.DataFrame:
    """Per-second true Es/N0 of the serving link and the handover markers of one flight."""
    if which < 0:  # the flight where the policies' delivered volumes differ most
        spread = [np.ptp([r.delivered_bits.sum() for r in per.values()]) for _, _, per in traces]
        which = int(np.argmax(spread))
    tr, ls, per = traces[which]
    parts = []
    rows = np.arange(len(tr))
    for name, res in per.items():
        s = res.serving
        esn0 = np.where(s >= 0, ls.esn0_db[rows, np.maximum(s, 0)], np.nan)
        parts.append(
            pd.DataFrame(
                {
                    "kind": "sample",
                    "policy": name,
                    "flight": tr.name,
                    "metric": "esn0_db",
                    "time": tr.t_s,
                    "value": esn0,
                }
            )
        )
        m = res.switches > 0
        parts.append(
            pd.DataFrame(
                {
                    "kind": "sample",
                    "policy": name,
                    "flight": tr.name,
                    "metric": "switch",
                    "time": tr.t_s[m],
                    "value": res.switches[m].astype(float),
                }
            )
        )
        prov = np.where(s >= 0, ls.provider[np.maximum(s, 0)], -1).astype(float)
        parts.append(
            pd.DataFrame(
                {
                    "kind": "sample",
                    "policy": name,
                    "flight": tr.name,
                    "metric": "provider",
                    "time": tr.t_s,
                    "value": prov,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """The F1 table (mean over replications) and per-policy means per flight with 95% CIs."""
    out = []
    parts = [
        ("prediction", ["model", "horizon_s", "metric"]),
        ("ablation", ["features", "plan_noise", "metric"]),
        ("real", ["source", "model", "metric"]),
        ("handover", ["mode", "policy", "metric"]),
    ]
    for kind, keys in parts:
        sub = results[results["kind"] == kind]
        for key, g in sub.groupby(keys, dropna=False):
            m, half = t_interval(g["value"].to_numpy())
            row = dict(zip(keys, key, strict=True))
            out.append({"part": kind, **row, "mean": m, "ci95": half, "n": len(g)})
    ds = results[results["kind"] == "dataset"]
    for metric, g in ds.groupby("metric"):
        out.append(
            {"part": "dataset", "metric": metric, "mean": float(g["value"].mean()), "n": len(g)}
        )
    return pd.DataFrame(out)


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


def _mean(sub: pd.DataFrame, **eq) -> float:
    m = np.ones(len(sub), dtype=bool)
    for k, v in eq.items():
        col = sub[k]
        m &= (
            col.isna().to_numpy() if isinstance(v, float) and np.isnan(v) else (col == v).to_numpy()
        )
    return float(sub.loc[m, "value"].mean()) if m.any() else float("nan")


def tables(results: pd.DataFrame) -> str:
    """The predictor's tables as markdown (``tables.md``; pasted into satellite/README.md):
    the ablation against plan noise beside persistence, and F1 on the real ADS-B tracks."""
    from netsim.tables import markdown_table

    text = []
    ab = results[results["kind"] == "ablation"]
    if not ab.empty:
        rows = []
        keys = ab[["features", "plan_noise"]].drop_duplicates()
        order = {"all": 0, "without_autopilot": 1, "without_plan": 2, "persistence": 3}
        keys = keys.assign(o=keys["features"].map(order)).sort_values(["o", "plan_noise"])
        for f, lvl in zip(keys["features"], keys["plan_noise"], strict=True):
            sel = {"features": f, "plan_noise": lvl}
            rows.append(
                {"features": f.replace("_", " "),
                 "plan noise": "-" if np.isnan(lvl) else f"{lvl:g}",
                 **{name: _mean(ab, metric=m, **sel) for name, m in _METRIC_NAMES}}
            )
        h = int(ab["horizon_s"].iloc[0])
        text.append(f"Macro-F1 and per-class F1 at h = {h} s on held-out generated flights "
                    "(GroupKFold by flight):\n")
        text.append(markdown_table(pd.DataFrame(rows), floatfmt=".3f"))
    real = results[results["kind"] == "real"]
    if not real.empty:
        rows = []
        for (src, model), g in real.groupby(["source", "model"], sort=False):
            rows.append(
                {"real tracks": src, "flights": int(_mean(g, metric="flights")),
                 "rows": int(_mean(g, metric="rows")),
                 "outage / degraded rows": "{:.0f} / {:.0f}".format(
                     *(_mean(g, metric=f"share_{c}") * _mean(g, metric="rows")
                       for c in ("outage", "degraded"))),
                 "model": "gradient boosting (no plan)" if model == "gradient_boosting"
                 else "persistence",
                 **{name: _mean(g, metric=m) for name, m in _METRIC_NAMES}}
            )
        h = int(real["horizon_s"].iloc[0])
        text.append(
            f"\nReal ADS-B tracks (held out; trained on the generated flights), h = {h} s:\n"
        )
        text.append(markdown_table(pd.DataFrame(rows), floatfmt=".3f"))
    ho = results[results["kind"] == "handover"]
    if not ho.empty:
        mode = ho["mode"].iloc[0]
        ho = ho[ho["mode"] == mode]
        rows = []
        for pol, g in ho.groupby("policy", sort=False):
            row = {"policy": pol}
            for name, m in (
                ("delivered (GB)", "delivered_gb"),
                ("outage (s)", "outage_s"),
                ("interruption (s)", "interruption_s"),
                ("handovers", "handovers"),
            ):
                mean, half = t_interval(g.loc[g["metric"] == m, "value"].to_numpy())
                row[name] = f"{mean:.1f} ± {half:.1f}"
            rows.append(row)
        n = ho["flight"].nunique()
        text.append(f"\nHandover policies on {n} fresh test flights ({mode.replace('_', ' ')}, "
                    "all providers; mean ± 95 % CI per flight):\n")
        text.append(markdown_table(pd.DataFrame(rows)))
    return "\n".join(text)


_METRIC_NAMES = (
    ("macro-F1", "macro_f1"),
    ("F1 outage", "f1_outage"),
    ("F1 degraded", "f1_degraded"),
    ("F1 good", "f1_good"),
)


def _plot_noise(results: pd.DataFrame, out: Path) -> None:
    ab = results[(results["kind"] == "ablation") & (results["metric"] == "macro_f1")]
    if ab.empty:
        return
    fig = new_figure(6.0, 3.6)
    ax = fig.subplots()
    for f, style in (("all", "o-"), ("without_autopilot", "s-")):
        g = ab[ab["features"] == f].groupby("plan_noise")["value"].mean()
        ax.plot(g.index, g.to_numpy(), style, label=f.replace("_", " "))
    for f, ls in (("without_plan", "--"), ("persistence", ":")):
        v = ab.loc[ab["features"] == f, "value"].mean()
        ax.axhline(v, ls=ls, color="k" if f == "persistence" else "grey",
                   label=f.replace("_", " "))
    ax.set_xlabel("flight-plan noise level (0 = exact plan)")
    ax.set_ylabel(f"macro-F1 at h = {int(ab['horizon_s'].iloc[0])} s")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, out / "f1_vs_plan_noise.png")


def plot(results: pd.DataFrame, cfg: HandoverStudyConfig, out: Path) -> None:
    """Write ``f1_vs_horizon.png``, ``f1_vs_plan_noise.png``, ``handover_policies.png``,
    ``timeline.png`` and ``tables.md`` (:func:`tables`)."""
    _plot_f1(results, out)
    _plot_noise(results, out)
    text = tables(results)
    if text:
        (out / "tables.md").write_text(text + "\n")
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
