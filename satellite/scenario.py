"""The ``satellite_handover`` study: generate the flight dataset, train and evaluate the
signal-quality predictor (F1 table, F1 against horizon), then compare handover policies on
held-out flights with every provider available.

Rows of the result frame (``kind`` marks the part):

* ``kind="prediction"``: ``model`` (gradient_boosting | persistence), ``horizon_s``, metric
  ∈ {macro_f1, f1_outage, f1_degraded, f1_good, auc_outage}.
* ``kind="handover"``: ``mode`` (single_modem | make_before_break), ``policy``, ``flight``,
  metric ∈ {outage_s, handovers, beam_switches, satellite_switches, provider_switches,
  delivered_gb, interruption_s, duration_s}.
* ``kind="sample"``: one flight's timeline per policy (metric ``esn0_db`` of the serving link
  and ``switch`` markers), for the plot.
* ``kind="dataset"``: dataset size and class shares.
"""

from __future__ import annotations

import pickle
import time
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from netsim import Config, RunContext
from netsim.rng import derive_seed

from .dataset import DatasetConfig, build_world, make_plans, radar_features
from .handover import POLICIES, Interruptions, simulate_handover
from .links import evaluate_links
from .platforms import fly
from .predict import (
    CLASSES,
    DEFAULT_EDGES_DB,
    Forecaster,
    candidate_rows,
    classify,
    cross_validate,
    forecast_links,
    shortlist,
)

__all__ = ["HandoverStudyConfig", "run", "summarize", "handover_flights"]

PolicyName = Literal[
    "reactive", "max_elevation", "max_remaining_visibility", "best_predicted", "predictive"
]


class InterruptionConfig(Config):
    beam_s: float = Field(2.0, ge=0, description="beam switch on the same satellite (s)")
    satellite_s: float = Field(10.0, ge=0, description="GEO satellite switch, same provider (s)")
    leo_satellite_s: float = Field(0.05, ge=0, description="LEO satellite switch (s)")
    provider_s: float = Field(30.0, ge=0, description="provider switch (s)")
    leo_slot_s: float = Field(15.0, gt=0, description="LEO reconfiguration period (s)")
    make_before_break: bool = Field(
        False, description="second modem keeps the old link during planned handovers"
    )
    loss_detect_s: int = Field(
        2, ge=1, description="seconds without lock before a loss is declared"
    )


class HandoverStudyConfig(Config):
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    edges_db: tuple[float, float] = Field(
        DEFAULT_EDGES_DB, description="outage and degraded thresholds on Es/N0 (dB)"
    )
    horizon_s: int = Field(30, ge=1, le=600)
    horizons: list[int] = Field(default_factory=lambda: [10, 30, 60, 120, 300], min_length=1)
    cv_folds: int = Field(5, ge=2, le=20)
    horizon_folds: int = Field(3, ge=2, le=20, description="folds for the F1-vs-horizon curve")
    train_stride: int = Field(8, ge=1, description="use every n-th second of training flights")
    train_flights: int = Field(
        60, ge=2, description="flights (all providers) to train the candidate forecaster"
    )
    test_flights: int = Field(50, ge=1, description="held-out flights for the handover comparison")
    policies: list[PolicyName] = Field(default_factory=lambda: list(POLICIES), min_length=1)
    interruptions: InterruptionConfig = Field(default_factory=InterruptionConfig)
    terminal_modes: list[Literal["single_modem", "make_before_break"]] = Field(
        default_factory=lambda: ["single_modem", "make_before_break"],
        min_length=1,
        description="handover modes compared: break-before-make, or a second modem",
    )
    decision_interval_s: int = Field(1, ge=1)
    acm_margin_db: float = Field(0.5, ge=0)
    shortlist_k: int = Field(8, ge=1, le=64)
    plot_flight: int = Field(
        -1, ge=-1, description="test flight to plot (-1: the one where policies differ most)"
    )

    @model_validator(mode="after")
    def _check(self):
        if self.edges_db[1] <= self.edges_db[0]:
            raise ValueError(f"edges_db must be increasing (got {self.edges_db})")
        if self.dataset.flights < self.cv_folds:
            raise ValueError(
                f"dataset.flights ({self.dataset.flights}) must be >= cv_folds ({self.cv_folds})"
            )
        if self.plot_flight >= self.test_flights:
            raise ValueError(f"plot_flight must be < test_flights ({self.test_flights})")
        return self


def _prediction_rows(table: pd.DataFrame) -> pd.DataFrame:
    metrics = [c for c in table.columns if c.startswith(("macro_f1", "f1_", "auc_"))]
    long = table.melt(
        id_vars=["horizon_s", "model", "rows", "flights", "folds"],
        value_vars=metrics,
        var_name="metric",
    )
    long["kind"] = "prediction"
    return long


def handover_flights(cfg: HandoverStudyConfig, seed: int, n: int, prefix: str):
    """Trajectories, link sets (all providers) and radar of ``n`` fresh flights in the study's
    world (same world seed as the dataset, other flight plans)."""
    world = build_world(cfg.dataset.world, seed)
    trajs = fly(make_plans(cfg.dataset, seed, n=n, prefix=prefix))
    out = []
    for tr in trajs:
        out.append(
            (
                tr,
                evaluate_links(world, tr),
                radar_features(world, tr, seed, cfg.dataset.radar_noise),
            )
        )
    return world, out


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
    from .dataset import generate_dataset

    t0 = time.perf_counter()
    seed = ctx.seed
    frames = []
    df = generate_dataset(cfg.dataset, seed, progress=lambda f: ctx.progress(0.15 * f))
    cls = np.bincount(classify(df["esn0_db"].to_numpy(), cfg.edges_db), minlength=3) / len(df)
    frames.append(
        pd.DataFrame(
            {
                "kind": "dataset",
                "metric": ["rows", "flights", "dataset_s"] + [f"share_{c}" for c in CLASSES],
                "value": [len(df), df["flight"].nunique(), time.perf_counter() - t0, *cls],
            }
        )
    )
    main = cross_validate(df, [cfg.horizon_s], cfg.edges_db, cfg.cv_folds, cfg.train_stride, seed)
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
    _, train = handover_flights(cfg, hseed, cfg.train_flights, "H")
    model = _train_forecaster(cfg, train, seed)
    del train
    if ctx.workdir is not None:
        with open(ctx.workdir / "forecaster.pkl", "wb") as fh:
            pickle.dump(model, fh)
    ctx.progress(0.7)
    _, test = handover_flights(cfg, hseed, cfg.test_flights, "T")
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
    from netsim.stats import t_interval

    out = []
    parts = [
        ("prediction", ["model", "horizon_s", "metric"]),
        ("handover", ["mode", "policy", "metric"]),
    ]
    for kind, keys in parts:
        sub = results[results["kind"] == kind]
        for key, g in sub.groupby(keys):
            m, half = t_interval(g["value"].to_numpy())
            row = dict(zip(keys, key, strict=True))
            out.append({"part": kind, **row, "mean": m, "ci95": half, "n": len(g)})
    ds = results[results["kind"] == "dataset"]
    for metric, g in ds.groupby("metric"):
        out.append(
            {"part": "dataset", "metric": metric, "mean": float(g["value"].mean()), "n": len(g)}
        )
    return pd.DataFrame(out)
