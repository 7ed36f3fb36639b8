"""``quantum_routing``: many user pairs share SURFnet's memories and fibres; which routing
policy delivers the most entanglement?

Every replication draws ``pairs`` distinct (src, dst) user pairs among the SURFnet sites
(the same pairs for every policy: common random numbers), routes them with each policy of
:mod:`quantum.routing` and runs them all at once on the engine (:mod:`quantum.network`:
swap-ASAP along each route, shared node memories and fibre channels, decay and cutoff) for
``horizon_s``. Metrics per policy: total good pairs/s, mean delivered fidelity, Jain's
fairness of the per-pair rates, the fraction of pairs served at least once, mean hops and
the BBM92 secret key rate summed over pairs (:mod:`quantum.applications`, from each pair's
good-pair rate and mean fidelity), and for every policy the paired difference of throughput,
median per-pair rate, served fraction and key rate against the first policy (the same pairs
and seed, so their CIs are much tighter than those of the raw metrics, which a few short
pairs dominate).

``qos_plan`` (listed in the presets) executes the QoS scheduler's offline plan live
(:func:`quantum.routing.qos_plan`): each pair becomes a demand of ``qos_plan.rate_hz`` at
F_min = ``network.f_min`` planned on a graph with the same links (fresh-pair fidelity and
``p/t`` of :func:`quantum.network.edge_links`) and memories; admitted pairs run on their
planned paths, the others by ``qos_plan.unplanned`` (``reject`` by default: not served, so
this is shortest-path routing with the plan's admission control; ``shortest``: every pair
routed, which equals ``shortest`` when ``candidate_paths`` = 1). ``routed_fraction`` is the
share of pairs given a route; ``mean_hops`` averages over routed pairs.

``finite_key`` (optional) adds ``key_rate_finite_bps``: the finite-key BB84/BBM92 rate of
Tomamichel et al. 2012 (:func:`quantum.applications.key_rate_finite_bps`, blocks of
``block_bits`` raw key bits, ``eps_sec``, ``eps_cor``, error-correction efficiency ξ),
summed over pairs, beside the asymptotic ``key_rate_bps``. It is the long-run rate: a pair
needs ``(√n + √k)²`` delivered pairs per block (not enforced within ``horizon_s``); its
asymmetric basis choice has no ½ sifting loss, so it can exceed the asymptotic column at
large blocks.
``summary.csv`` gives 95 % Student-t CIs across replications; ``routing.png`` compares
the policies.
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
from netsim.rng import derive_seed, stream
from netsim.stats import jain_index
from quantum.applications import key_rate_bps, key_rate_finite_bps
from quantum.network import NetworkConfig, edge_links, simulate_network
from quantum.physics import werner_to_fidelity
from quantum.protocol_search import SearchParams
from quantum.routing import (
    ALL_POLICIES,
    PLAN_POLICY,
    POLICIES,
    UNPLANNED,
    planning_graph,
    qos_plan,
    route_requests,
)
from quantum.scheduling import SCHEDULERS
from quantum.topologies import build_topology

__all__ = ["RoutingStudy", "FiniteKeyConfig", "QoSPlanConfig", "run", "plot", "SCENARIO",
           "draw_pairs", "surfnet_core", "plan_routes"]

Policy = str


def _default_network() -> NetworkConfig:
    return NetworkConfig(memories=8, channels=1, coherence_time_s=1.0, cutoff_s=0.1, f_min=0.5)


class FiniteKeyConfig(Config):
    """Finite-key BB84/BBM92 (Tomamichel et al. 2012) block and security parameters."""

    block_bits: float = Field(1e6, ge=10, le=1e15, description="raw key bits n per block")
    eps_sec: float = Field(1e-10, gt=0, lt=1, description="secrecy ε_sec")
    eps_cor: float = Field(1e-15, gt=0, lt=1, description="correctness ε_cor")
    ec_efficiency: float = Field(1.1, ge=1, le=2, description="error-correction leak ξ")


class QoSPlanConfig(Config):
    """How the ``qos_plan`` policy's offline plan is made (see :func:`quantum.routing.qos_plan`)."""

    rate_hz: float = Field(10.0, gt=0, le=1e6, description="demanded pairs/s per user pair")
    slot_s: float = Field(1e-3, gt=0, le=1.0, description="scheduler slot (s)")
    scheduler: Literal[tuple(SCHEDULERS)] = "RCPSP-NP-EDF"  # type: ignore[valid-type]
    max_distill_rounds: int = Field(1, ge=0, le=4, description="pumping rounds tried")
    candidate_paths: int = Field(1, ge=1, le=10, description="shortest paths the plan tries")
    unplanned: Literal[tuple(UNPLANNED)] = Field(  # type: ignore[valid-type]
        "reject", description="pairs the plan does not serve: reject, or route shortest")


class RoutingStudy(Config):
    pairs: int = Field(24, ge=1, le=500, description="concurrent user pairs")
    policies: list[str] = Field(default_factory=lambda: list(POLICIES), min_length=1)
    k: int = Field(3, ge=1, le=20, description="candidate paths of k_shortest_balanced")
    horizon_s: float = Field(1.0, gt=0, le=1e4, description="simulated time per run (s)")
    network: NetworkConfig = Field(default_factory=_default_network)
    qos_plan: QoSPlanConfig = Field(default_factory=QoSPlanConfig)
    finite_key: FiniteKeyConfig | None = Field(
        None, description="also report the finite-key rate (None: asymptotic only)")

    @model_validator(mode="after")
    def _check(self):
        bad = [p for p in self.policies if p not in ALL_POLICIES]
        if bad:
            raise ValueError(
                f"policies: unknown {bad[0]!r} (allowed: {', '.join(ALL_POLICIES)})")
        if PLAN_POLICY in self.policies and not 0.25 < self.network.f_min <= 1:
            raise ValueError("network.f_min: qos_plan needs a fidelity threshold in (0.25, 1]"
                             f" (got {self.network.f_min})")
        return self


def surfnet_core():
    """SURFnet's 54 sites and fibres (the end-node stubs of the QoS study removed)."""
    g = build_topology("surfnet", access_km=1.0)
    return g.subgraph([n for n, d in g.nodes(data=True) if d.get("role") == "repeater"]).copy()


def draw_pairs(nodes: list, n: int, rng: np.random.Generator) -> list[tuple]:
    """``n`` distinct unordered user pairs of distinct nodes."""
    if n > len(nodes) * (len(nodes) - 1) // 2:
        raise ValueError(f"pairs: at most {len(nodes) * (len(nodes) - 1) // 2} on this graph")
    seen, out = set(), []
    while len(out) < n:
        a, b = rng.choice(len(nodes), size=2, replace=False)
        key = (min(a, b), max(a, b))
        if key not in seen:
            seen.add(key)
            out.append((nodes[key[0]], nodes[key[1]]))
    return out


def plan_routes(g, pairs: list[tuple], cfg: RoutingStudy, links) -> list[list | None]:
    """The QoS plan of ``pairs`` on ``g`` with the study's links and memories."""
    cap = {e: (float(werner_to_fidelity(link.w0)), link.rate_hz) for e, link in links.items()}
    h = planning_graph(g, cap, cfg.network.memories, cfg.network.coherence_time_s)
    q = cfg.qos_plan
    params = SearchParams(slot_s=q.slot_s, max_distill_rounds=q.max_distill_rounds)
    return qos_plan(h, pairs, cfg.network.f_min, q.rate_hz, params, q.scheduler,
                    q.candidate_paths)


def _simulate(g, routes: list[list | None], cfg: RoutingStudy, seed: int):
    """Run the routed pairs; per-pair arrays over all pairs (unrouted: 0 pairs, NaN F)."""
    live = [i for i, r in enumerate(routes) if r is not None]
    n = len(routes)
    delivered, good = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    fid = np.full(n, np.nan)
    discarded = 0
    if live:
        res = simulate_network(g, [routes[i] for i in live], cfg.network, seed, cfg.horizon_s)
        delivered[live], good[live], fid[live] = res.delivered, res.good, res.mean_fidelity
        discarded = res.discarded
    return delivered, good / cfg.horizon_s, fid, discarded / cfg.horizon_s


def run(cfg: RoutingStudy, ctx: RunContext) -> pd.DataFrame:
    g = surfnet_core()
    links = edge_links(g, cfg.network)
    rate = {e: links[e].rate_hz for e in links}
    pairs = draw_pairs(sorted(g.nodes), cfg.pairs, stream(ctx.seed, "quantum_routing.pairs"))
    plan = plan_routes(g, pairs, cfg, links) if PLAN_POLICY in cfg.policies else None
    rows = []
    for i, policy in enumerate(cfg.policies):
        routes = route_requests(g, pairs, policy, rate, cfg.network.memories, cfg.k, plan,
                                cfg.qos_plan.unplanned)
        delivered_i, r, mean_f, discarded_per_s = _simulate(
            g, routes, cfg, derive_seed(ctx.seed, "net"))
        delivered = delivered_i.sum()
        fid = np.nansum(mean_f * delivered_i) / delivered if delivered else np.nan
        routed = [p for p in routes if p is not None]
        f_or_floor = np.nan_to_num(mean_f, nan=0.25)
        metrics = {
            "throughput_hz": float(r.sum()),
            "median_rate_hz": float(np.median(r)),
            "mean_fidelity": float(fid),
            "jain": jain_index(r) if r.sum() > 0 else 0.0,
            "served_fraction": float(np.mean(delivered_i > 0)),
            "routed_fraction": len(routed) / len(routes),
            "key_rate_bps": float(np.sum(key_rate_bps(r, f_or_floor))),
            "mean_hops": float(np.mean([len(p) - 1 for p in routed])) if routed else np.nan,
            "discarded_per_s": discarded_per_s,
        }
        if cfg.finite_key is not None:
            fk = cfg.finite_key
            metrics["key_rate_finite_bps"] = float(np.sum(key_rate_finite_bps(
                r, f_or_floor, fk.block_bits, fk.eps_sec, fk.eps_cor, fk.ec_efficiency)))
        rows += [(policy, m, v) for m, v in metrics.items()]
        ctx.progress((i + 1) / len(cfg.policies))
    df = pd.DataFrame(rows, columns=["policy", "metric", "value"])
    # paired differences against the first policy (same pairs, same seed): tighter CIs
    ref = df[df.policy == cfg.policies[0]].set_index("metric")["value"]
    diffs = []
    for policy in cfg.policies[1:]:
        mine = df[df.policy == policy].set_index("metric")["value"]
        for m in ("throughput_hz", "median_rate_hz", "served_fraction", "key_rate_bps",
                  "key_rate_finite_bps"):
            if m in mine:
                diffs.append((policy, f"{m}_minus_{cfg.policies[0]}", mine[m] - ref[m]))
    return pd.concat([df, pd.DataFrame(diffs, columns=df.columns)], ignore_index=True)


def plot(results: pd.DataFrame, cfg: RoutingStudy, out: Path) -> None:
    s = default_summary(results)
    metrics = ["throughput_hz", "mean_fidelity", "jain"]
    fig = new_figure(4.0 * len(metrics), 3.2)
    axes = fig.subplots(1, len(metrics))
    for ax, m in zip(np.atleast_1d(axes), metrics, strict=True):
        d = s[s.metric == m].set_index("policy").reindex(cfg.policies)
        ax.bar(range(len(d)), d["mean"], yerr=d["ci_high"] - d["mean"], capsize=4)
        ax.set_xticks(range(len(d)), [p.replace("_", "\n") for p in d.index], fontsize=8)
        ax.set_title(m)
    fig.suptitle(f"SURFnet, {cfg.pairs} concurrent user pairs (95 % CI)")
    save_figure(fig, out / "routing.png")


SCENARIO = Scenario(
    name="quantum_routing",
    schema=RoutingStudy,
    run=run,
    preset="scenarios:quantum_routing.yaml",
    plot=plot,
    description="routing policies for concurrent entanglement requests on SURFnet (engine)",
)
