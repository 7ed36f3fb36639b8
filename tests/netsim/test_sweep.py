"""Sweeps: grid expansion, seeds, local vs Dask identity, failures, resume."""

import json

import pandas as pd
import pytest

from netsim import Config, ConfigError, Scenario
from netsim.sweep import (
    Range,
    expand_points,
    parse_grid,
    plan_sweep,
    read_results,
    run_sweep,
)

FAST = ["horizon=300", "warmup=30"]


def plan(**kw):
    return plan_sweep(
        "mm1", ["arrival_rate=0.5,0.8", "stations=[[{servers: 1}], [{servers: 2}]]"],
        reps=2, seed=3, sets=FAST, **kw,
    )


def frame(out):
    df = read_results(out)
    return df.sort_values(["point", "rep", "metric", "station"]).reset_index(drop=True)


def test_parse_grid_forms():
    g = parse_grid(["a=1,2,4", "b=x,y", "c=[1,[2,3]]", "d=0.1:10:log"])
    assert g["a"] == [1, 2, 4] and g["b"] == ["x", "y"] and g["c"] == [1, [2, 3]]
    assert g["d"] == Range(0.1, 10.0, "log")
    for bad in (["a"], ["a="], ["a=1", "a=2"], ["d=5:1"], ["d=-1:1:log"]):
        with pytest.raises(ConfigError):
            parse_grid(bad)


def test_expand_grid_and_random():
    pts = expand_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(pts) == 6 and {"a": 2, "b": "z"} in pts
    r1 = expand_points({"a": Range(0.0, 1.0), "b": [1, 2]}, random=5, seed=1)
    r2 = expand_points({"a": Range(0.0, 1.0), "b": [1, 2]}, random=5, seed=1)
    assert r1 == r2 and len(r1) == 5 and all(0 <= p["a"] <= 1 for p in r1)
    with pytest.raises(ConfigError, match="needs --random"):
        expand_points({"a": Range(0.0, 1.0)})


def test_plan_seeds_distinct_and_validated():
    p = plan()
    assert len(p.specs) == 8 and len({s.seed for s in p.specs}) == 8
    assert p.specs[0].config["horizon"] == 300
    with pytest.raises(ConfigError, match="unknown key 'nope'"):
        plan_sweep("mm1", ["nope=1,2"])


def test_local_process_pool_and_dask_give_identical_results(tmp_path):
    from distributed import LocalCluster

    p = plan()
    serial = run_sweep(p, tmp_path / "serial", workers=1, progress=False)
    pool = run_sweep(p, tmp_path / "pool", workers=2, progress=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        dask = run_sweep(p, tmp_path / "dask", scheduler=c.scheduler_address, progress=False)
    assert serial.done == pool.done == dask.done == 8 and serial.ok and dask.ok
    a, b, d = frame(tmp_path / "serial"), frame(tmp_path / "pool"), frame(tmp_path / "dask")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, d)
    assert {"arrival_rate", "stations", "point", "rep", "seed"} <= set(a.columns)
    summary = pd.read_csv(tmp_path / "dask" / "summary.csv")
    assert set(summary["n"]) == {2}


def test_partition_filter_reads_one_point(tmp_path):
    p = plan()
    run_sweep(p, tmp_path / "s", workers=1, progress=False)
    pid = p.specs[0].point
    df = read_results(tmp_path / "s", filters=[("point", "==", pid)])
    assert set(df["point"]) == {pid} and set(df["rep"]) == {0, 1}


class _Cfg(Config):
    x: int = 0


def _flaky(cfg, ctx):
    if cfg.x == 2:
        raise RuntimeError("x=2 is cursed")
    return pd.DataFrame({"metric": ["m"], "value": [float(cfg.x)]})


def test_failures_recorded_others_kept_and_resume(tmp_path, monkeypatch):
    sc = Scenario("flaky", _Cfg, _flaky)
    monkeypatch.setattr("netsim.sweep.load_scenario", lambda name: sc)
    monkeypatch.setattr("netsim.scenario.load_scenario", lambda name: sc)
    p = plan_sweep("flaky", ["x=1,2,3"], reps=2)
    out = tmp_path / "f"
    rep = run_sweep(p, out, workers=1, progress=False)
    assert (rep.done, rep.failed) == (4, 2)
    assert sorted(read_results(out)["x"].unique()) == [1, 3]
    fails = sorted((out / "failures").glob("*.json"))
    assert len(fails) == 2
    body = json.loads(fails[0].read_text())
    assert body["error"] == "RuntimeError: x=2 is cursed" and "Traceback" in body["traceback"]
    # "fix" the model and resume: only the two failed runs execute
    calls = []
    fixed = Scenario("flaky", _Cfg, lambda cfg, ctx: calls.append(cfg.x) or _flaky(_Cfg(x=0), ctx))
    monkeypatch.setattr("netsim.sweep.load_scenario", lambda name: fixed)
    rep2 = run_sweep(p, out, workers=1, resume=True, progress=False)
    assert (rep2.done, rep2.failed, rep2.skipped) == (2, 0, 4) and calls == [2, 2]
    assert not list((out / "failures").glob("*.json"))
    assert len(read_results(out)) == 6


def test_out_rules(tmp_path):
    p = plan()
    out = tmp_path / "s"
    out.mkdir()
    (out / "other.txt").write_text("x")
    with pytest.raises(ConfigError, match="pass --resume"):
        run_sweep(p, out, workers=1, progress=False)
    with pytest.raises(ConfigError, match="no sweep to resume"):
        run_sweep(p, out, workers=1, resume=True, progress=False)
    run_sweep(p, tmp_path / "t", workers=1, progress=False)
    other = plan_sweep("mm1", ["arrival_rate=0.3,0.4"], reps=1, sets=FAST)
    with pytest.raises(ConfigError, match="different sweep"):
        run_sweep(other, tmp_path / "t", workers=1, resume=True, progress=False)
