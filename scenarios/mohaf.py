"""The ``mohaf`` study (``netsim run mohaf``; issue 5): MOHAF against baselines on the Google
trace sample, all scored on the same objective, plus the weight ablation, price convergence,
an exact-optimum check on small instances and the runtime scaling.

One replication (seed) draws ``n_requests`` SUBMIT events and ``n_resources`` machines from
the real clusterdata-2011-2 sample (or a synthetic trace with its marginals), adds the
synthetic IoT attributes (workload.py) and runs every mechanism. Rows carry a ``section``:

* ``mechanisms``: every mechanism × metric (efficiency = F/N at the reference prices, ...);
  ``mohaf_one_round`` is MOHAF's greedy at the reserve prices without price rounds and
  ``mohaf_flat`` MOHAF without clustering;
* ``ablation``: MOHAF optimising each weight configuration, scored on the full objective;
* ``convergence``: per pricing round, the largest price move and F (kind ``sample``);
* ``small``: F of every mechanism on small instances, of the exact MILP optimum over every
  pair a price ≥ ρ_min allows (it bounds MOHAF, whose rounds can price below the reserve) and
  of the optimum at the reserve prices (``optimum_reserve``, the fixed-price mechanisms' bound);
* ``scaling`` (replication 0 only): MOHAF's wall time against the number of requests.

``memory=true`` makes every instance a CPU + memory vector packing (the trace's memory
requests, ``spare_fraction`` of each machine's memory): every mechanism, the optimum and the
bounds then respect both, and the KPIs add ``mem_utilisation``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from auction.baselines import BASELINES, optimum, upper_bound
from auction.capacity import density_greedy, feasible_pairs, lagrangian_bound
from auction.greedy import warm_up
from auction.metrics import evaluate, fit_slope, score
from auction.model import Weights
from auction.mohaf import initial_prices, price_floor, run_mohaf
from auction.scenario import MohafStudyConfig, build
from auction.truthful import vcg
from netsim import RunContext, Scenario
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from netsim.rng import stream
from netsim.tables import markdown_table

__all__ = ["SCENARIO", "ABLATIONS", "PAPER", "run", "summarize", "tables", "plot"]

#: weight configurations of the ablation (cost, qos, energy, fairness)
ABLATIONS = {
    "full": (0.3, 0.3, 0.2, 0.2),
    "no_cost": (0.0, 0.3, 0.2, 0.2),
    "no_qos": (0.3, 0.0, 0.2, 0.2),
    "no_energy": (0.3, 0.3, 0.0, 0.2),
    "no_fairness": (0.3, 0.3, 0.2, 0.0),
    "cost_only": (1.0, 0.0, 0.0, 0.0),
}
#: the paper's allocation efficiencies (Agrawal et al. 2025, abstract and Table III)
PAPER = {"mohaf": 0.263, "greedy_priority": 0.185, "first_price": 0.138, "random": 0.101}


def _rows(section: str, mechanism: str, kpis: dict, **keys) -> list[dict]:
    return [
        {"section": section, "mechanism": mechanism, "metric": k, "value": float(v), **keys}
        for k, v in kpis.items()
    ]


def _mechanisms(cfg, inst, seed, ref) -> tuple[list[dict], object]:
    p = cfg.mohaf()
    w, u = p.weights, p.utility
    rows = []
    res = run_mohaf(inst, p, seed=seed)
    kp = evaluate(inst, res.allocation, w, u, ref, res.runtime_s)
    kp.update(
        rounds=res.rounds,
        converged=float(res.converged),
        candidate_pairs=res.n_candidate_pairs,
        type_pairs=res.n_type_pairs,
        pair_fraction=res.n_candidate_pairs / max(res.n_type_pairs, 1),
        all_pairs=inst.shape[0] * inst.shape[1],
        cluster_s=res.cluster_s,
        n_clusters=res.hierarchy.n_clusters,
    )
    rows += _rows("mechanisms", "mohaf", kp)
    one = run_mohaf(inst, replace(p, pricing=replace(p.pricing, max_rounds=1)), seed=seed)
    rows += _rows(
        "mechanisms", "mohaf_one_round", evaluate(inst, one.allocation, w, u, ref, one.runtime_s)
    )
    if cfg.flat_comparison:
        flat = run_mohaf(inst, cfg.mohaf(flat=True), seed=seed)
        kf = evaluate(inst, flat.allocation, w, u, ref, flat.runtime_s)
        kf.update(rounds=flat.rounds, candidate_pairs=flat.n_candidate_pairs)
        rows += _rows("mechanisms", "mohaf_flat", kf)
    # MOHAF without pricing below the reserve (prices floored at unit cost), and with prices
    # that clear (tâtonnement on excess demand) and the same floor
    for name, extra in (
        ("mohaf_cost_floor", dict(cost_floor=True)),
        ("mohaf_clearing", dict(cost_floor=True, price_update="excess")),
    ):
        r = run_mohaf(inst, replace(p, **extra), seed=seed)
        rows += _rows("mechanisms", name, evaluate(inst, r.allocation, w, u, ref, r.runtime_s))
    for name, fn in BASELINES.items():
        t0 = time.perf_counter()
        a = fn(inst, ref, w, u, cfg.mode, stream(seed, f"auction.baseline.{name}"))
        rows += _rows("mechanisms", name, evaluate(inst, a, w, u, ref, time.perf_counter() - t0))
    n, floor = inst.shape[0], price_floor(inst, p.pricing)
    delta = w.normalised()[3]
    if cfg.mode == "shared":
        t0 = time.perf_counter()
        dg = density_greedy(inst, feasible_pairs(inst, ref, w, u), delta)  # at the reserve
        dg.payment = ref[dg.resource] * inst.requests.demand[dg.request]  # posted reserve
        rows += _rows(
            "mechanisms", "density_greedy", evaluate(inst, dg, w, u, ref, time.perf_counter() - t0)
        )
        t0 = time.perf_counter()
        lb, _ = lagrangian_bound(
            inst, feasible_pairs(inst, ref, w, u, floor), delta, score(inst, dg, w, u, ref),
            cfg.bound_iterations, cfg.bound_time_s, cfg.bound_step,
        )
        rows += _rows(
            "mechanisms", "lagrangian_bound",
            {"efficiency": lb / n, "runtime_s": time.perf_counter() - t0},
        )
    rows += _rows(
        "mechanisms", "upper_bound", {"efficiency": upper_bound(inst, ref, w, u, floor) / n}
    )
    eff = {r["mechanism"]: r["value"] for r in rows if r["metric"] == "efficiency"}
    bound = eff.get("lagrangian_bound", eff["upper_bound"])
    for name, e in eff.items():  # every mechanism's gap to the tightest bound
        rows += _rows("mechanisms", name, {"gap_to_bound": 1.0 - e / bound if bound else 0.0})
    return rows, res


def _ablation(cfg, inst, seed, ref) -> list[dict]:
    rows = []
    full, u = cfg.weights(), cfg.mohaf().utility
    for name, ws in ABLATIONS.items():
        wts = Weights(*ws)
        res = run_mohaf(inst, cfg.mohaf(weights=wts), seed=seed)
        kp = evaluate(inst, res.allocation, full, u, ref, res.runtime_s)
        kp["efficiency_own_weights"] = score(inst, res.allocation, wts, u, ref) / inst.shape[0]
        rows += _rows("ablation", "mohaf", kp, ablation=name)
    return rows


def _small(cfg, seed) -> list[dict]:
    rows = []
    for s in range(cfg.small_instances):
        inst = build(cfg, seed, cfg.small_requests, cfg.small_resources, f"small.{s}")
        p = cfg.mohaf(flat=True)
        rule = p.pricing
        ref = initial_prices(inst, rule)
        w, u = p.weights, p.utility
        one = replace(p, pricing=replace(rule, max_rounds=1))  # MOHAF's greedy at the reserve
        found = {
            "mohaf": run_mohaf(inst, p, seed=seed).allocation,
            "mohaf_greedy": run_mohaf(inst, one, seed=seed).allocation,
            # over every pair some price ≥ ρ_min allows: bounds MOHAF's rounds too
            "optimum": optimum(inst, ref, w, u, cfg.mode, floor_prices=price_floor(inst, rule)),
            # over the pairs the reserve prices allow: what fixed-price mechanisms can reach
            "optimum_reserve": optimum(inst, ref, w, u, cfg.mode),
        }
        for name, fn in BASELINES.items():
            found[name] = fn(inst, ref, w, u, cfg.mode, stream(seed, f"auction.small.{s}.{name}"))
        found["vcg"] = vcg(inst, ref, w, u, cfg.mode)  # welfare-maximising, truthful
        if cfg.mode == "shared":
            pairs = feasible_pairs(inst, ref, w, u)
            found["density_greedy"] = density_greedy(inst, pairs, w.normalised()[3])
        for name, a in found.items():
            rows += _rows(
                "small", name, {"objective": score(inst, a, w, u, ref)}, instance=float(s)
            )
    return rows


def _scaling(cfg, seed, progress) -> list[dict]:
    rows = []
    sizes = sorted(set(cfg.scaling_sizes))
    for k, n in enumerate(sizes):
        m = max(1, round(n * cfg.resources_per_request))
        inst = build(cfg, seed, n, m, f"scale.{n}")
        res = run_mohaf(inst, cfg.mohaf(), seed=seed)
        kp = {
            "runtime_s": res.runtime_s,
            "rounds": res.rounds,
            "round_s": (res.runtime_s - res.cluster_s) / res.rounds,
            "candidate_pairs": res.n_candidate_pairs,
            "efficiency": res.allocation.utility.sum() / n,
        }
        rows += _rows("scaling", "mohaf", kp, n_requests=float(n), n_resources=float(m))
        progress(0.5 + 0.5 * (k + 1) / len(sizes))
    return rows


def run(cfg: MohafStudyConfig, ctx: RunContext) -> pd.DataFrame:
    warm_up()  # the compiled greedy's one-off load stays out of the runtimes
    inst = build(cfg, ctx.seed)
    ref = initial_prices(inst, cfg.mohaf().pricing)
    rows, res = _mechanisms(cfg, inst, ctx.seed, ref)
    ctx.progress(0.2)
    for r, (mv, f) in enumerate(
        zip(res.max_price_move, res.objective_history, strict=True), start=1
    ):
        rows.append(
            {
                "section": "convergence",
                "mechanism": "mohaf",
                "metric": "max_price_move",
                "value": mv,
                "kind": "sample",
                "time": float(r),
            }
        )
        rows.append(
            {
                "section": "convergence",
                "mechanism": "mohaf",
                "metric": "objective_round",
                "value": f,
                "kind": "sample",
                "time": float(r),
            }
        )
    if cfg.ablation:
        rows += _ablation(cfg, inst, ctx.seed, ref)
    ctx.progress(0.35)
    rows += _small(cfg, ctx.seed)
    ctx.progress(0.5)
    if ctx.rep == 0:
        rows += _scaling(cfg, ctx.seed, ctx.progress)
    df = pd.DataFrame(rows)
    for col in ("ablation", "kind"):
        if col not in df.columns:
            df[col] = None
    df["ablation"] = df["ablation"].fillna("").astype(str)
    df["kind"] = df["kind"].fillna("scalar").astype(str)
    for col in ("time", "instance", "n_requests", "n_resources"):
        df[col] = df[col].astype(float) if col in df.columns else np.nan
    return df


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI across replications of every scalar metric (scaling: one replication),
    plus the fitted log-log runtime slope (section ``scaling``, metric ``slope``)."""
    s = default_summary(results.drop(columns=["instance"], errors="ignore"))
    sc = results[(results["section"] == "scaling") & (results["metric"] == "runtime_s")]
    if len(sc) >= 2:
        slope, _ = fit_slope(sc["n_requests"], sc["value"])
        extra = pd.DataFrame(
            [{"section": "scaling", "mechanism": "mohaf", "metric": "slope", "n": 1, "mean": slope}]
        )
        s = pd.concat([s, extra], ignore_index=True)
    return s


def _mech_table(results: pd.DataFrame) -> pd.DataFrame:
    m = results[results["section"] == "mechanisms"]
    return default_summary(m.loc[:, ["rep", "seed", "mechanism", "metric", "value"]])


def _fmt(mean, lo, hi) -> str:
    if not np.isfinite(mean):
        return ""
    if not np.isfinite(lo):
        return f"{mean:.4g}"
    return f"{mean:.4g} ± {(hi - lo) / 2:.2g}"


def tables(results: pd.DataFrame) -> dict[str, str]:
    """Markdown tables: mechanisms × metrics, the ablation, the small-instance ratios."""
    out = {}
    t = _mech_table(results)
    t["cell"] = [
        _fmt(a, b, c) for a, b, c in zip(t["mean"], t["ci_low"], t["ci_high"], strict=True)
    ]
    metrics = [
        "efficiency", "gap_to_bound", "satisfaction", "jain", "cost", "revenue",
        "below_reserve", "energy", "runtime_s",
    ]
    wide = t.pivot(index="mechanism", columns="metric", values="cell").reindex(columns=metrics)
    out["mechanisms"] = markdown_table(wide.fillna(""), index=True)
    a = results[results["section"] == "ablation"]
    if len(a):
        ta = default_summary(a.loc[:, ["rep", "seed", "ablation", "metric", "value"]])
        ta["cell"] = [
            _fmt(x, y, z) for x, y, z in zip(ta["mean"], ta["ci_low"], ta["ci_high"], strict=True)
        ]
        cols = [
            "efficiency",
            "efficiency_own_weights",
            "satisfaction",
            "jain",
            "cost",
            "energy",
            "revenue",
        ]
        out["ablation"] = markdown_table(
            ta.pivot(index="ablation", columns="metric", values="cell")
            .reindex(index=list(ABLATIONS), columns=cols)
            .fillna(""),
            index=True,
        )
    sm = results[results["section"] == "small"]
    if len(sm):
        opt = sm[sm["mechanism"] == "optimum"].set_index(["rep", "instance"])["value"]
        sm = sm.join(opt.rename("opt"), on=["rep", "instance"])
        sm = sm.assign(ratio=np.where(sm["opt"] > 0, sm["value"] / sm["opt"], 1.0))
        g = sm.groupby("mechanism")["ratio"]
        out["small"] = markdown_table(
            pd.DataFrame(
                {
                    "mean ratio to optimum": g.mean(),
                    "worst": g.min(),
                    "instances": g.size().astype(float),
                }
            ),
            ".4f",
            index=True,
        )
    return out


def comparison_text(results: pd.DataFrame) -> str:
    """How the measured efficiencies compare with the paper's and why they differ."""
    t = _mech_table(results)
    eff = t[t["metric"] == "efficiency"].set_index("mechanism")["mean"]
    jain = t[t["metric"] == "jain"].set_index("mechanism")["mean"]
    lines = [
        "| mechanism | paper efficiency | measured efficiency (same F) | measured Jain |",
        "|---|---|---|---|",
    ]
    for name, paper in PAPER.items():
        lines.append(
            f"| {name} | {paper:.3f} | {eff.get(name, np.nan):.3f} | {jain.get(name, np.nan):.3f} |"
        )
    body = "\n".join(lines)
    sat = t[t["metric"] == "satisfaction"].set_index("mechanism")["mean"]
    col = {m: t[t["metric"] == m].set_index("mechanism")["mean"] for m in ("cost", "revenue")}
    below = t[t["metric"] == "below_reserve"].set_index("mechanism")["mean"]
    sm = results[results["section"] == "small"]
    small = (
        sm.pivot_table(index=["rep", "instance"], columns="mechanism", values="value")
        if len(sm)
        else pd.DataFrame()
    )

    def to_opt(name: str) -> float:
        if name not in small or "optimum" not in small:
            return float("nan")
        return float(np.mean(small[name] / small["optimum"].where(small["optimum"] > 0)))

    ratio_paper = PAPER["mohaf"] / PAPER["greedy_priority"]
    ratio_here = eff.get("mohaf", np.nan) / eff.get("greedy_priority", np.nan)
    return (
        f"{body}\n\nThe paper reports MOHAF {ratio_paper:.2f}× the greedy baseline; here, with "
        f"every mechanism scored on the same objective F, the ratio is {ratio_here:.2f}× and "
        f"random reaches {eff.get('random', np.nan):.3f}. The paper's baseline figures come "
        "from constant or random utilities rather than MOHAF's objective, its clusters were not "
        "used and its prices did not iterate (authors' notebook; issue 5), so its gaps compare "
        "objectives, not allocations. On one objective the allocations differ mainly in how many "
        "requests they serve: MOHAF's greedy at the reserve prices (one round) reaches "
        f"{eff.get('mohaf_one_round', np.nan):.3f} with satisfaction "
        f"{sat.get('mohaf_one_round', np.nan):.3f} (random: {sat.get('random', np.nan):.3f}), "
        "because everyone's best pairs are the same cheap, efficient machines and greedy fills "
        "them first, stranding requests whose budgets or QoS floors fit nothing else; the price "
        "rounds undo part of that herding (MOHAF: satisfaction "
        f"{sat.get('mohaf', np.nan):.3f}). They do it by lowering prices, down to ρ_min and "
        f"below the unit costs: MOHAF's revenue {col['revenue'].get('mohaf', np.nan):.1f} "
        f"is below the providers' cost {col['cost'].get('mohaf', np.nan):.1f}, and "
        f"{below.get('mohaf', np.nan):.1%} of its pairs have budgets below the reserve price, "
        "out of reach of every fixed-price mechanism. On the small instances MOHAF reaches "
        f"{to_opt('mohaf'):.3f} of the exact optimum over every price ≥ ρ_min; the optimum at "
        "the reserve prices, which bounds the fixed-price mechanisms, is "
        f"{to_opt('optimum_reserve'):.3f} of it. Absolute values depend on the synthetic IoT "
        "attributes (prices, budgets, locations, reliabilities and efficiencies are not in the "
        "trace) and on the offered capacity, so they are not comparable number for number with "
        "0.263/0.185/0.138/0.101. Jain's index here is over requesters' served fractions; the "
        "paper's 1.000 needs every requester served equally, which happens only without "
        "contention.\n"
    )


def plot(results: pd.DataFrame, cfg: MohafStudyConfig, out: Path) -> None:
    """Figures (mechanisms, ablation, price convergence, scalability) and markdown tables."""
    out = Path(out)
    for name, text in tables(results).items():
        (out / f"{name}.md").write_text(text, encoding="utf-8")
    (out / "comparison.md").write_text(comparison_text(results), encoding="utf-8")
    t = _mech_table(results)
    fig = new_figure(10.0, 3.6)
    axes = fig.subplots(1, 4)
    order = [
        "mohaf",
        "mohaf_flat",
        "mohaf_one_round",
        "mohaf_cost_floor",
        "mohaf_clearing",
        "density_greedy",
        *BASELINES,
        "lagrangian_bound",
        "upper_bound",
    ]
    for ax, metric in zip(axes, ["efficiency", "satisfaction", "jain", "revenue"], strict=True):
        sub = (
            t[t["metric"] == metric]
            .set_index("mechanism")
            .reindex([o for o in order if o in set(t["mechanism"])])
        )
        sub = sub.dropna(subset=["mean"])
        err = np.nan_to_num(np.vstack([sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]]))
        ax.bar(range(len(sub)), sub["mean"], yerr=err, capsize=3, color="tab:blue")
        ax.set_xticks(range(len(sub)), sub.index, rotation=60, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
    save_figure(fig, out / "mechanisms.png")
    a = results[results["section"] == "ablation"]
    if len(a):
        ta = default_summary(a.loc[:, ["rep", "seed", "ablation", "metric", "value"]])
        fig = new_figure(6.4, 3.6)
        ax = fig.add_subplot()
        e = ta[ta["metric"] == "efficiency"].set_index("ablation").reindex(list(ABLATIONS))
        err = np.nan_to_num(np.vstack([e["mean"] - e["ci_low"], e["ci_high"] - e["mean"]]))
        ax.bar(range(len(e)), e["mean"], yerr=err, capsize=3)
        ax.set_xticks(range(len(e)), e.index, rotation=30, ha="right")
        ax.set_ylabel("efficiency F/N (full weights)")
        ax.set_title("ablation: MOHAF optimising each weight set")
        save_figure(fig, out / "ablation.png")
    cv = results[results["section"] == "convergence"]
    if len(cv):
        fig = new_figure(8.0, 3.4)
        ax1, ax2 = fig.subplots(1, 2)
        for _rep, g in cv.groupby("rep"):
            mv = g[g["metric"] == "max_price_move"]
            ob = g[g["metric"] == "objective_round"]
            ax1.semilogy(mv["time"], mv["value"], "o-", ms=3, lw=1, alpha=0.6)
            ax2.plot(ob["time"], ob["value"] / cfg.n_requests, "o-", ms=3, lw=1, alpha=0.6)
        ax1.axhline(cfg.epsilon, color="k", ls="--", lw=1, label=f"ε = {cfg.epsilon:g}")
        ax1.set_xlabel("pricing round")
        ax1.set_ylabel("max |Δρ|")
        ax1.legend(fontsize=8)
        ax2.set_xlabel("pricing round")
        ax2.set_ylabel("F/N at the round's prices")
        fig.suptitle("MOHAF price convergence (one line per replication)", fontsize=9)
        save_figure(fig, out / "price_convergence.png")
    sc = results[(results["section"] == "scaling") & (results["metric"] == "runtime_s")]
    if len(sc) >= 2:
        slope, icpt = fit_slope(sc["n_requests"], sc["value"])
        fig = new_figure(5.6, 4.0)
        ax = fig.add_subplot()
        ax.loglog(sc["n_requests"], sc["value"], "o", label="MOHAF (clustering + pricing rounds)")
        x = np.logspace(np.log10(sc["n_requests"].min()), np.log10(sc["n_requests"].max()), 50)
        ax.loglog(x, 10**icpt * x**slope, "k--", lw=1, label=f"fit: slope {slope:.2f}")
        ax.axhline(60.0, color="tab:red", lw=0.8, ls=":", label="60 s target at 100k")
        ax.set_xlabel("requests N (resources = N/4)")
        ax.set_ylabel("wall time (s, one core)")
        ax.legend(fontsize=8)
        save_figure(fig, out / "scalability.png")


SCENARIO = Scenario(
    name="mohaf",
    schema=MohafStudyConfig,
    run=run,
    preset="scenarios:mohaf.yaml",
    plot=plot,
    summarize=summarize,
    description="MOHAF hierarchical multi-objective auction vs baselines on the Google trace",
)
