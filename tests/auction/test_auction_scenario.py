"""The mohaf study end to end on a reduced config, and its config errors."""

import numpy as np
import pytest

from auction.baselines import BASELINES
from auction.metrics import fit_slope
from auction.scenario import MohafStudyConfig
from netsim import ConfigError, RunContext, validate
from scenarios.mohaf import SCENARIO, run, summarize, tables


def _study(reps=2):
    cfg = validate(
        MohafStudyConfig,
        dict(
            n_requests=200,
            n_resources=50,
            max_rounds=5,
            small_instances=1,
            small_requests=5,
            small_resources=2,
            scaling_sizes=[100, 200],
            ablation=True,
        ),
    )
    frames = []
    for rep in range(reps):
        df = run(cfg, RunContext(seed=rep, rep=rep))
        df.insert(0, "rep", rep)
        df.insert(1, "seed", rep)
        frames.append(df)
    import pandas as pd

    return cfg, pd.concat(frames, ignore_index=True)


def test_study_runs_end_to_end():
    cfg, res = _study()
    assert set(res["section"]) == {"mechanisms", "ablation", "convergence", "small", "scaling"}
    mech = res[(res["section"] == "mechanisms") & (res["metric"] == "efficiency")]
    assert {
        "mohaf",
        "mohaf_flat",
        "mohaf_one_round",
        *BASELINES,
        "upper_bound",
    } <= set(mech["mechanism"])
    ub = mech[mech["mechanism"] == "upper_bound"].set_index("rep")["value"]
    for _, row in mech.iterrows():
        assert row["value"] <= ub[row["rep"]] + 1e-9
    small = res[res["section"] == "small"].pivot_table(
        index=["rep", "instance"], columns="mechanism", values="value"
    )
    for name in ("mohaf_greedy", *BASELINES):
        assert np.all(small[name] <= small["optimum_reserve"] + 1e-9), name
    # the optimum bounds every mechanism on every instance, MOHAF's price rounds included
    for name in ("mohaf", "optimum_reserve"):
        assert np.all(small[name] <= small["optimum"] + 1e-9), name
    s = summarize(res)
    assert "slope" in set(s["metric"])
    t = tables(res)
    assert "| mohaf |" in t["mechanisms"] and "| cost_only |" in t["ablation"]


@pytest.mark.slow
def test_study_plots(tmp_path):
    """The figures (about 2 s of CPU in matplotlib, hence slow)."""
    cfg, res = _study(reps=1)
    SCENARIO.plot(res, cfg, tmp_path)
    for f in (
        "mechanisms.png",
        "ablation.png",
        "price_convergence.png",
        "scalability.png",
        "comparison.md",
    ):
        assert (tmp_path / f).stat().st_size > 0


def test_fit_slope():
    n = np.array([10, 100, 1000])
    assert fit_slope(n, 3 * n**1.1)[0] == pytest.approx(1.1)


@pytest.mark.parametrize(
    "bad,match",
    [
        (
            dict(weight_cost=0, weight_qos=0, weight_energy=0, weight_fairness=0),
            "sum to a positive number",
        ),
        (dict(n_requests=5000), "source=trace has 3540"),
        (dict(mode="knapsack"), "mode"),
        (dict(rho_min=5, rho_max=1), "rho_min"),
    ],
)
def test_bad_config(bad, match):
    with pytest.raises(ConfigError, match=match):
        validate(MohafStudyConfig, bad)


def test_study_with_memory():
    """The study with CPU + memory packing: memory utilisation is reported, nothing exceeds
    the bounds, and the exact optimum (memory rows) bounds every mechanism on small instances."""
    cfg = validate(
        MohafStudyConfig,
        dict(n_requests=200, n_resources=50, max_rounds=5, small_instances=1, small_requests=5,
             small_resources=2, scaling_sizes=[100], ablation=False, memory=True,
             bound_step=0.25),
    )
    res = run(cfg, RunContext(seed=0, rep=0))
    mech = res[res["section"] == "mechanisms"]
    mem = mech[mech["metric"] == "mem_utilisation"].set_index("mechanism")["value"]
    assert {"mohaf", "uniform_price", "density_greedy"} <= set(mem.index)
    assert ((mem > 0) & (mem <= 1 + 1e-9)).all()
    eff = mech[mech["metric"] == "efficiency"].set_index("mechanism")["value"]
    assert (eff.drop("upper_bound") <= eff["lagrangian_bound"] + 1e-9).all()
    assert eff["lagrangian_bound"] <= eff["upper_bound"] + 1e-9
    small = res[res["section"] == "small"].set_index("mechanism")["value"]
    assert (small <= small["optimum"] + 1e-9).all()
