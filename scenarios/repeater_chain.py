"""``repeater_chain``: rate of a swap-ASAP repeater chain against distance and number of
repeaters, beside the PLOB, chain and lossy-station bounds (Pirandola et al. 2017, 2019;
Laurenza et al. 2022).

For every (total distance, repeaters n) the chain has n + 1 equal links and runs until
``deliveries`` end-to-end pairs (or ``max_sim_s``). Rates per channel use are pairs/s times the
attempt time of a link (every link uses its fibre once per attempt). Besides raw pairs, the
hashing yield ``pairs·(1 − H(F))`` gives distillable ebits per use, the quantity the capacity
bounds limit. The station transmissivity of the lossy-repeater bound is
``η_s = η_emit·η_det``, the photon efficiency outside the fibre.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from netsim import Config, RunContext, Scenario
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from netsim.rng import derive_seed
from quantum.bounds import equal_chain_capacity, lossy_station_limit, plob_capacity
from quantum.chain import ChainConfig, link_physics, simulate_chain
from quantum.physics import fiber_transmissivity, werner_hashing_yield

__all__ = ["RepeaterChainStudy", "run", "plot", "SCENARIO"]


def _default_chain() -> ChainConfig:
    return ChainConfig(
        detector_efficiency=0.9, emission_efficiency=0.8, link_fidelity=0.99,
        coherence_time_s=1.0, local_time_s=1e-5, comm_qubits=2, storage_qubits=0,
        max_link_pairs=1, f_min=0.5,
    )


class RepeaterChainStudy(Config):
    distances_km: list[float] = Field(
        default_factory=lambda: [25.0, 50.0, 100.0, 150.0, 200.0, 300.0], min_length=1
    )
    repeaters: list[int] = Field(default_factory=lambda: [0, 1, 3, 7, 15], min_length=1)
    chain: ChainConfig = Field(default_factory=_default_chain, description="link/memory model")
    deliveries: int = Field(300, ge=10, le=1_000_000, description="pairs per point")
    max_sim_s: float = Field(1e7, gt=0, description="simulated-time cap per point (s)")

    @model_validator(mode="after")
    def _check(self):
        if any(d <= 0 for d in self.distances_km):
            raise ValueError("distances_km must all be > 0")
        if any(n < 0 or n > 1000 for n in self.repeaters):
            raise ValueError("repeaters must be in 0..1000")
        return self


def run(cfg: RepeaterChainStudy, ctx: RunContext) -> pd.DataFrame:
    rows = []
    points = [(d, n) for n in cfg.repeaters for d in cfg.distances_km]
    eta_s = cfg.chain.emission_efficiency * cfg.chain.detector_efficiency
    for k, (dist, n) in enumerate(points):
        chain = cfg.chain.model_copy(update={"n_links": n + 1, "link_length_km": dist / (n + 1)})
        res = simulate_chain(chain, derive_seed(ctx.seed, "point", dist, n), cfg.max_sim_s,
                             max_deliveries=cfg.deliveries)
        t_att = link_physics(chain).attempt_s
        pairs_hz = res.delivered / res.duration_s
        ebits = float(werner_hashing_yield(res.fidelities).sum()) / res.duration_s
        plob = float(plob_capacity(fiber_transmissivity(dist, chain.attenuation_db_per_km)))
        c_chain = float(equal_chain_capacity(dist, n, chain.attenuation_db_per_km))
        c_lossy = min(c_chain, float(lossy_station_limit(eta_s))) if n > 0 else c_chain
        values = {
            "pairs_hz": pairs_hz,
            "useful_pairs_hz": res.rate_hz,
            "pairs_per_use": pairs_hz * t_att,
            "ebits_per_use": ebits * t_att,
            "mean_fidelity": res.mean_fidelity,
            "delivered": float(res.delivered),
            "sim_time_s": res.duration_s,
            "plob_per_use": plob,
            "chain_bound_per_use": c_chain,
            "lossy_bound_per_use": c_lossy,
        }
        rows += [(n, dist, m, v) for m, v in values.items()]
        ctx.progress((k + 1) / len(points))
    return pd.DataFrame(rows, columns=["repeaters", "distance_km", "metric", "value"])


def _means(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    sub = results[results["metric"] == metric]
    return sub.groupby(["repeaters", "distance_km"])["value"].mean().reset_index()


def plot(results: pd.DataFrame, cfg: RepeaterChainStudy, out: Path) -> None:
    """``rate_vs_distance.png`` (pairs and ebits per use with the bounds),
    ``rate_vs_repeaters.png`` (per use, against the lossy-station ceiling) and
    ``fidelity_vs_distance.png``."""
    eta_s = cfg.chain.emission_efficiency * cfg.chain.detector_efficiency
    ceiling = float(lossy_station_limit(eta_s))
    colors = {n: f"C{i}" for i, n in enumerate(sorted(cfg.repeaters))}
    d_fine = np.geomspace(min(cfg.distances_km), max(cfg.distances_km), 200)
    fig = new_figure(11.0, 4.4)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, metric, title in zip(axes, ("pairs_per_use", "ebits_per_use"),
                                 ("delivered pairs", "hashing ebits"), strict=True):
        ax.plot(d_fine, plob_capacity(fiber_transmissivity(d_fine)), "k-", lw=2,
                label="PLOB (no repeater)")
        ax.axhline(ceiling, color="k", ls=":", label=f"lossy-station limit (η_s={eta_s:.2f})")
        for n in sorted(cfg.repeaters):
            m = _means(results, metric)
            m = m[m["repeaters"] == n]
            ax.plot(m["distance_km"], m["value"], "o-", color=colors[n], label=f"{n} repeaters")
            if n > 0:
                bound = np.minimum(equal_chain_capacity(d_fine, n), ceiling)
                ax.plot(d_fine, bound, "--", color=colors[n], lw=1)
        ax.set_xlabel("total distance (km)")
        ax.set_yscale("log")
        ax.set_title(f"{title} per channel use (dashed: chain bound with lossy stations)",
                     fontsize=8)
    axes[0].set_ylabel("per channel use")
    axes[1].legend(fontsize=7, loc="lower left")
    save_figure(fig, out / "rate_vs_distance.png")

    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    per_use = _means(results, "pairs_per_use")
    for i, dist in enumerate(sorted(cfg.distances_km)):
        m = per_use[per_use["distance_km"] == dist].sort_values("repeaters")
        ax.plot(m["repeaters"], m["value"], "o-", color=f"C{i}", label=f"{dist:g} km")
    ax.axhline(ceiling, color="k", ls=":", label="lossy-station limit −log2(1−η_s)")
    ax.axhline(0.5 * eta_s**2, color="grey", ls="-.", label="η_s²/2: double-click ceiling")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yscale("log")
    ax.set_xlabel("repeaters")
    ax.set_ylabel("pairs per channel use")
    ax.legend(fontsize=7)
    save_figure(fig, out / "rate_vs_repeaters.png")

    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    fid = _means(results, "mean_fidelity")
    for n in sorted(cfg.repeaters):
        m = fid[fid["repeaters"] == n]
        ax.plot(m["distance_km"], m["value"], "o-", color=colors[n], label=f"{n} repeaters")
    ax.axhline(cfg.chain.f_min, color="k", ls=":", label="f_min")
    ax.set_xlabel("total distance (km)")
    ax.set_ylabel("mean delivered fidelity")
    ax.set_ylim(0.25, 1.0)
    ax.legend(fontsize=7)
    save_figure(fig, out / "fidelity_vs_distance.png")


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and CI per point and metric, plus whether each rate respects its bound."""
    s = default_summary(results)
    wide = s.pivot_table(index=["repeaters", "distance_km"], columns="metric", values="mean")
    for rate in ("pairs_per_use", "ebits_per_use"):
        bound = np.minimum(wide["lossy_bound_per_use"], wide["chain_bound_per_use"])
        wide[f"{rate}_within_bounds"] = wide[rate] <= bound
    checks = (
        wide.filter(like="_within_bounds")
        .reset_index()
        .melt(id_vars=["repeaters", "distance_km"], var_name="metric", value_name="mean")
    )
    return pd.concat([s, checks], ignore_index=True)


SCENARIO = Scenario(
    name="repeater_chain",
    schema=RepeaterChainStudy,
    run=run,
    preset="scenarios:repeater_chain.yaml",
    plot=plot,
    summarize=summarize,
    description="repeater-chain rate vs distance and repeaters against PLOB/lossy-station bounds",
)
