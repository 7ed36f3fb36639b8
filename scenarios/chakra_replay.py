"""``netsim run chakra_replay``: a Chakra execution trace replayed on a leaf-spine fabric,
giving the training iteration time per routing scheme.

Every rank runs the trace (data parallel, one rank's graph: :mod:`transport.chakra`); compute
kernels keep their measured runtimes, and each collective kernel takes the completion time of
that collective over all ranks on the fabric (max-min fluid model,
:func:`transport.simulate.simulate_collective`) under each routing policy. ``lower_bound``
replays every collective at its step lower bound (ideal spraying, no contention beyond the
unavoidable): the strongest simple rival. The trace holds no message sizes, so they come from
the measured kernel times at ``reference_algbw_GBps``, scaled by each of ``size_scales`` (a
scale of 4 is a model with 4× the gradient bytes per unit of compute).

Rows: ``policy`` (incl. ``lower_bound``), ``size_scale``, ``metric`` in ``iteration_ms``,
``comm_ms`` (sum of collective times), ``exposed_comm_ms`` (comm not hidden under GPU
compute), ``iteration_over_lb``. Outputs: ``table_iteration.md/.csv``, ``iteration.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import Field, field_validator

from netsim import Config, RunContext, Scenario
from netsim.plotting import new_figure, save_figure
from netsim.results import default_summary
from netsim.tables import markdown_table
from transport.chakra import BUNDLED_TRACE, collective_bytes, load_workload_graph, replay
from transport.collectives import build_collective
from transport.network import leaf_spine_network
from transport.simulate import simulate_collective

__all__ = ["ChakraReplayConfig", "run", "summarize", "plot", "SCENARIO"]

Policy = Literal["ecmp", "spray", "minimal_split", "adaptive", "random"]
_COLUMNS = ["section", "policy", "size_scale", "metric", "value"]
_REPO = Path(__file__).resolve().parents[1]


def _resolve_trace(trace: str) -> Path:
    if trace == "bundled":
        return BUNDLED_TRACE
    p = Path(trace)
    for cand in (p, _REPO / p):
        if cand.is_file():
            return cand
    raise ValueError(f"file not found: {trace} (tried the working directory and {_REPO})")


class ChakraReplayConfig(Config):
    trace: str = Field(
        "bundled",
        description="Chakra JSON workload graph (.json or .json.gz); 'bundled' is the trace "
        "shipped in transport/data; a relative path is tried from the working directory, then "
        "from the repository root",
    )
    leaves: int = Field(8, ge=2)
    spines: int = Field(4, ge=1)
    hosts_per_leaf: int = Field(8, ge=1)
    oversubscription: float = Field(1.0, gt=0)
    host_rate_gbps: float = Field(100.0, gt=0)
    link_delay_us: float = Field(1.0, ge=0)
    ranks: int | None = Field(None, ge=2, description="ranks (default: every host)")
    placement: Literal["packed", "random"] = "random"
    policies: list[Policy] = Field(
        default_factory=lambda: ["ecmp", "spray", "minimal_split", "adaptive"], min_length=1
    )
    reference_algbw_GBps: float = Field(5.0, gt=0, description="bytes = kernel time × this")
    size_scales: list[float] = Field(default_factory=lambda: [1.0, 4.0, 16.0], min_length=1)
    alpha_us: float = Field(1.0, ge=0, description="per-message latency of a step")

    @field_validator("trace")
    @classmethod
    def _trace(cls, v):
        _resolve_trace(v)  # a one-line error naming the field if the file is missing
        return v

    @field_validator("size_scales")
    @classmethod
    def _scales(cls, v):
        if any(not s > 0 for s in v):
            raise ValueError("size_scales values must be > 0")
        return v


def trace_path(cfg: ChakraReplayConfig) -> Path:
    return _resolve_trace(cfg.trace)


def run(cfg: ChakraReplayConfig, ctx: RunContext) -> pd.DataFrame:
    nodes = load_workload_graph(trace_path(cfg))
    net = leaf_spine_network(
        cfg.leaves,
        cfg.spines,
        cfg.hosts_per_leaf,
        host_rate_bps=cfg.host_rate_gbps * 1e9,
        oversubscription=cfg.oversubscription,
        link_delay_s=cfg.link_delay_us * 1e-6,
    )
    n = cfg.ranks or net.n_hosts
    if n > net.n_hosts:
        raise ValueError(f"ranks: {n} > {net.n_hosts} hosts")
    cache: dict = {}

    def collective(node, scale: float, policy: str):
        nbytes = collective_bytes(node, cfg.reference_algbw_GBps * 1e9) * scale
        key = (node.collective, nbytes, policy)
        if key not in cache:
            res = simulate_collective(
                net,
                build_collective(node.collective, n, nbytes),
                balancing=policy,
                placement=cfg.placement,
                alpha_s=cfg.alpha_us * 1e-6,
                seed=ctx.seed,  # same seed: the same placement for every policy
            )
            cache[key] = res
        return cache[key]

    rows = []
    jobs = [(s, p) for s in cfg.size_scales for p in [*cfg.policies, "lower_bound"]]
    base: dict[float, float] = {}
    for i, (scale, policy) in enumerate(jobs):
        if policy == "lower_bound":
            r = replay(nodes, lambda nd, s=scale: collective(nd, s, "spray").lower_bound_s)
        else:
            r = replay(nodes, lambda nd, s=scale, p=policy: collective(nd, s, p).cct_s)
        if policy == "lower_bound":
            base[scale] = r.iteration_s
        vals = {
            "iteration_ms": r.iteration_s * 1e3,
            "comm_ms": r.comm_s * 1e3,
            "exposed_comm_ms": r.exposed_comm_s * 1e3,
        }
        rows += [("chakra", policy, scale, m, v) for m, v in vals.items()]
        ctx.progress((i + 1) / len(jobs))
    df = pd.DataFrame(rows, columns=_COLUMNS)
    it = df["metric"] == "iteration_ms"
    ratio = df[it].copy()
    ratio["value"] = ratio["value"] / ratio["size_scale"].map(base).mul(1e3)
    ratio["metric"] = "iteration_over_lb"
    return pd.concat([df, ratio], ignore_index=True)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % CI across replications (seeds: placement and ECMP hashing)."""
    return default_summary(results)


def plot(results: pd.DataFrame, cfg: ChakraReplayConfig, out: Path) -> None:
    s = summarize(results)
    for metric in ("iteration_ms", "iteration_over_lb"):
        t = s[s["metric"] == metric].copy()
        t["cell"] = [
            f"{m:.4g} [{lo:.4g}, {hi:.4g}]" if n > 1 else f"{m:.4g}"
            for m, lo, hi, n in zip(t["mean"], t["ci_low"], t["ci_high"], t["n"], strict=True)
        ]
        table = t.pivot_table(index="size_scale", columns="policy", values="cell", aggfunc="first")
        stem = "table_iteration" if metric == "iteration_ms" else "table_iteration_over_lb"
        table.to_csv(out / f"{stem}.csv")
        (out / f"{stem}.md").write_text(markdown_table(table, index=True), encoding="utf-8")
    t = s[s["metric"] == "iteration_ms"]
    fig = new_figure()
    ax = fig.add_subplot(111)
    for policy, g in t.groupby("policy", sort=False):
        g = g.sort_values("size_scale")
        ax.errorbar(g["size_scale"], g["mean"], yerr=[g["mean"] - g["ci_low"].fillna(g["mean"]),
                    g["ci_high"].fillna(g["mean"]) - g["mean"]], marker="o", label=policy,
                    capsize=3)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("gradient bytes × (size scale)")
    ax.set_ylabel("iteration time (ms)")
    ax.set_title(f"Chakra replay, {cfg.leaves}x{cfg.spines}x{cfg.hosts_per_leaf} leaf-spine",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, out / "iteration.png")


SCENARIO = Scenario(
    name="chakra_replay",
    schema=ChakraReplayConfig,
    run=run,
    preset="scenarios:chakra_replay.yaml",
    plot=plot,
    summarize=summarize,
    description="Chakra trace replay: training iteration time per routing scheme",
)
