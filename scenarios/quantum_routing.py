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
``summary.csv`` gives 95 % Student-t CIs across replications; ``routing.png`` compares
the policies.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field

from netsim import Config, RunContext, Scenario
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from netsim.rng import derive_seed, stream
from netsim.stats import jain_index
from quantum.applications import key_rate_bps
from quantum.network import NetworkConfig, edge_links, simulate_network
from quantum.routing import POLICIES, route_requests
from quantum.topologies import build_topology

__all__ = ["RoutingStudy", "run", "plot", "SCENARIO", "draw_pairs", "surfnet_core"]

Policy = str


def _default_network() -> NetworkConfig:
    return NetworkConfig(memories=8, channels=1, coherence_time_s=1.0, cutoff_s=0.1, f_min=0.5)


class RoutingStudy(Config):
    pairs: int = Field(24, ge=1, le=500, description="concurrent user pairs")
    policies: list[str] = Field(default_factory=lambda: list(POLICIES), min_length=1)
    k: int = Field(3, ge=1, le=20, description="candidate paths of k_shortest_balanced")
    horizon_s: float = Field(1.0, gt=0, le=1e4, description="simulated time per run (s)")
    network: NetworkConfig = Field(default_factory=_default_network)

    def model_post_init(self, _ctx) -> None:
        bad = [p for p in self.policies if p not in POLICIES]
        if bad:
            raise ValueError(f"policies: unknown {bad[0]!r} (allowed: {', '.join(POLICIES)})")


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


def run(cfg: RoutingStudy, ctx: RunContext) -> pd.DataFrame:
    g = surfnet_core()
    links = edge_links(g, cfg.network)
    rate = {e: links[e].rate_hz for e in links}
    pairs = draw_pairs(sorted(g.nodes), cfg.pairs, stream(ctx.seed, "quantum_routing.pairs"))
    rows = []
    for i, policy in enumerate(cfg.policies):
        routes = route_requests(g, pairs, policy, rate, cfg.network.memories, cfg.k)
        res = simulate_network(g, routes, cfg.network, derive_seed(ctx.seed, "net"), cfg.horizon_s)
        r = res.rate_hz
        delivered = res.delivered.sum()
        fid = np.nansum(res.mean_fidelity * res.delivered) / delivered if delivered else np.nan
        metrics = {
            "throughput_hz": float(r.sum()),
            "median_rate_hz": float(np.median(r)),
            "mean_fidelity": float(fid),
            "jain": jain_index(r) if r.sum() > 0 else 0.0,
            "served_fraction": float(np.mean(res.delivered > 0)),
            "key_rate_bps": float(np.sum(key_rate_bps(
                r, np.nan_to_num(res.mean_fidelity, nan=0.25)))),
            "mean_hops": float(np.mean([len(p) - 1 for p in routes])),
            "discarded_per_s": res.discarded / res.duration_s,
        }
        rows += [(policy, m, v) for m, v in metrics.items()]
        ctx.progress((i + 1) / len(cfg.policies))
    df = pd.DataFrame(rows, columns=["policy", "metric", "value"])
    # paired differences against the first policy (same pairs, same seed): tighter CIs
    ref = df[df.policy == cfg.policies[0]].set_index("metric")["value"]
    diffs = []
    for policy in cfg.policies[1:]:
        mine = df[df.policy == policy].set_index("metric")["value"]
        for m in ("throughput_hz", "median_rate_hz", "served_fraction", "key_rate_bps"):
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
