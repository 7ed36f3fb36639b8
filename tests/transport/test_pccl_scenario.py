"""Config validation of transport.pccl and the collective_churn study end to end (small)."""

import numpy as np
import pandas as pd
import pytest

from netsim import ConfigError, RunContext, validate
from netsim.runner import run_scenario
from netsim.scenario import resolve
from scenarios.collective_churn import SCENARIO, CollectiveChurnConfig
from transport.pccl.scenario import PcclConfig, run_metrics, simulate

SMALL = {
    "wan": {"sites": ["london", "paris", "new_york", "chicago"], "access_gbps": 10.0},
    "message_mb": 100.0,
    "horizon_s": 300.0,
    "churn": {"failure_rate_per_h": 30.0, "rejoin_rate_per_h": 60.0},
}


@pytest.mark.parametrize(
    "data, match",
    [
        ({"churn": {"failure_rate_per_h": -1.0}}, "churn.failure_rate_per_h"),
        ({"message_mb": 0.0}, "message_mb"),
        ({"connections": 0}, "connections"),
        ({"wan": {"capacity_gbps": [[0, 1], [1, 0]]}}, "both capacity_gbps and rtt_ms"),
        ({"wan": {"capacity_gbps": [[0, 1, 1], [1, 0, 1]], "rtt_ms": [[0, 1], [1, 0]]}}, "square"),
        ({"wan": {"capacity_gbps": [[0, -1], [1, 0]], "rtt_ms": [[0, 1], [1, 0]]}}, "> 0"),
        ({"wan": {"sites": ["london"]}}, "wan.sites"),
        ({"wan": {"sites": ["london", "atlantis"], "access_gbps": 1.0}}, "unknown site"),
        ({"wan": {"access_gbps": [1.0, 2.0]}}, "one value per site"),
        ({"master_site": 40}, "master_site"),
        (
            {"churn": {"mode": "scripted", "script": [{"time_s": 1, "peer": 0, "kind": "join"}]}},
            "cannot join",
        ),
        ({"churn": {"initial_peers": [99]}}, "initial peer"),
        ({"bogus": 1}, "unknown key"),
    ],
)
def test_bad_config_rejected(data, match):
    with pytest.raises(ConfigError, match=match):
        validate(PcclConfig, data)


def test_bad_study_config_rejected():
    with pytest.raises(ConfigError, match="failure_rates_per_h"):
        validate(CollectiveChurnConfig, {"failure_rates_per_h": [1.0, -2.0]})
    with pytest.raises(ConfigError, match="ring_sizes"):
        validate(CollectiveChurnConfig, {"ring_sizes": [1]})
    with pytest.raises(ConfigError, match="report_pairs"):
        validate(CollectiveChurnConfig, {"report_pairs": [["london", "london"]]})


def test_matrix_wan_config_and_scripted_churn():
    cfg = validate(
        PcclConfig,
        {
            "wan": {
                "capacity_gbps": [[0, 5, 5], [5, 0, 5], [5, 5, 0]],
                "rtt_ms": [[0, 30, 30], [30, 0, 30], [30, 30, 0]],
            },
            "message_mb": 50.0,
            "horizon_s": 60.0,
            "churn": {"mode": "scripted", "script": [{"time_s": 10.0, "peer": 2, "kind": "leave"}]},
        },
    )
    run = simulate(cfg, seed=0, keep_ledger=True)
    m = run_metrics(run, cfg.horizon_s)
    assert m["departures"] == 1 and m["sum_errors"] == 0 and m["allreduces_per_hour"] > 0
    assert run.ledger[-1].ring in ((0, 1), (1, 0))


def test_simulate_is_deterministic():
    cfg = validate(PcclConfig, SMALL)
    a = run_metrics(simulate(cfg, 5), cfg.horizon_s)
    b = run_metrics(simulate(cfg, 5), cfg.horizon_s)
    assert list(a) == list(b)
    assert all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a)  # bit-identical
    c = run_metrics(simulate(cfg, 6), cfg.horizon_s)
    assert any(a[k] != c[k] for k in a if not np.isnan(a[k]))


def _sets(horizon_s: float, ring_sizes: str) -> list[str]:
    sets = [f"model.{k}={v}" for k, v in (("message_mb", 100.0), ("horizon_s", horizon_s))]
    return sets + [
        "failure_rates_per_h=[0.0, 30.0]",
        f"ring_sizes={ring_sizes}",
        "ring_instances=3",
        "connections_sweep=[1, 16]",
        "model.wan.sites=[london, paris, frankfurt, new_york, chicago, dallas]",
        "model.wan.access_gbps=10.0",
        "report_pairs=[[london, new_york]]",
    ]


def test_study_rows_without_figures():
    """Fast variant of the end-to-end test (figures dominate its time): the run function's
    rows, their invariants and determinism."""
    resolved = resolve("collective_churn", _sets(60.0, "[4]"), seed=2, reps=1)
    rows = SCENARIO.run(resolved.config, RunContext(seed=5))
    churn = rows[rows["section"] == "churn"]
    assert set(churn["variant"]) == {"pccl", "join_order", "single_connection"}
    errs = churn[churn["metric"].isin(["sum_errors", "parity_errors", "revision_errors"])]
    assert (errs["value"] == 0).all()
    bw = churn[(churn["metric"] == "busbw_gbps") & (churn["failure_rate_per_h"] == 0.0)]
    bw = bw.set_index("variant")["value"]
    assert bw["pccl"] > bw["single_connection"]
    conn = rows[(rows["section"] == "connections") & (rows["metric"] == "busbw_gbps")]
    assert conn.groupby("connections")["value"].mean().is_monotonic_increasing
    pd.testing.assert_frame_equal(rows, SCENARIO.run(resolved.config, RunContext(seed=5)))


@pytest.mark.slow
def test_study_end_to_end(tmp_path):
    sets = [f"model.{k}={v}" for k, v in (("message_mb", 100.0), ("horizon_s", 240.0))]
    sets += [
        "failure_rates_per_h=[0.0, 30.0]",
        "ring_sizes=[4, 6]",
        "ring_instances=3",
        "connections_sweep=[1, 16]",
        "model.wan.sites=[london, paris, frankfurt, new_york, chicago, dallas]",
        "model.wan.access_gbps=10.0",
        "report_pairs=[[london, new_york]]",
    ]
    resolved = resolve("collective_churn", sets, seed=2, reps=2)
    results, summary = run_scenario(resolved, tmp_path / "out", progress=False)
    out = tmp_path / "out"
    for name in (
        "results.parquet",
        "summary.csv",
        "manifest.json",
        "table_churn.md",
        "churn_throughput.png",
        "churn_retries.png",
        "churn_utilisation.png",
        "churn_time_breakdown.png",
        "connections.png",
        "ring_order.png",
    ):
        assert (out / name).is_file(), name
    churn = results[results["section"] == "churn"]
    assert set(churn["variant"]) == {"pccl", "join_order", "single_connection"}
    errs = churn[churn["metric"].isin(["sum_errors", "parity_errors", "revision_errors"])]
    assert (errs["value"] == 0).all()
    s = summary.set_index(["section", "variant", "failure_rate_per_h", "metric"])["mean"]
    # more connections over the same WAN: a faster all-reduce
    assert (
        s[("churn", "pccl", 0.0, "busbw_gbps")]
        > s[("churn", "single_connection", 0.0, "busbw_gbps")]
    )
    conn = results[(results["section"] == "connections") & (results["metric"] == "busbw_gbps")]
    assert conn.groupby("connections")["value"].mean().is_monotonic_increasing
    again = SCENARIO.run(resolved.config, RunContext(seed=results["seed"].iloc[0]))
    first = results[results["rep"] == 0].drop(columns=["rep", "seed"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(first, again)
