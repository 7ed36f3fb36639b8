"""The repeater_chain study end to end on a small grid: tidy output, rates within bounds,
figures written, bad input rejected."""

from __future__ import annotations

import pandas as pd
import pytest

from netsim import ConfigError, RunContext, validate
from scenarios.repeater_chain import SCENARIO, RepeaterChainStudy, plot, run, summarize


def test_small_study_respects_bounds_and_plots(tmp_path):
    cfg = validate(RepeaterChainStudy, {"distances_km": [20.0, 80.0], "repeaters": [0, 1, 3],
                                        "deliveries": 40})
    df = run(cfg, RunContext(seed=3))
    assert {"repeaters", "distance_km", "metric", "value"} <= set(df.columns)
    wide = df.pivot_table(index=["repeaters", "distance_km"], columns="metric", values="value")
    assert len(wide) == 6 and (wide["delivered"] == 40).all()
    bound = wide[["chain_bound_per_use", "lossy_bound_per_use"]].min(axis=1)
    assert (wide["pairs_per_use"] <= bound).all()
    assert (wide["ebits_per_use"] <= wide["pairs_per_use"] + 1e-12).all()
    assert (wide.loc[0, "plob_per_use"] == wide.loc[0, "chain_bound_per_use"]).all()
    # repeaters help at 80 km
    assert wide.loc[(3, 80.0), "pairs_per_use"] > wide.loc[(0, 80.0), "pairs_per_use"]
    summary = summarize(pd.concat([df.assign(rep=0, seed=3), df.assign(rep=1, seed=4)]))
    assert summary.loc[summary["metric"].str.endswith("_within_bounds"), "mean"].all()
    plot(df, cfg, tmp_path)
    for name in ("rate_vs_distance.png", "rate_vs_repeaters.png", "fidelity_vs_distance.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert SCENARIO.preset_path().is_file()


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"distances_km": [-1.0]}, "distances_km"),
        ({"repeaters": [-2]}, "repeaters"),
        ({"chain": {"f_min": 2.0}}, "chain.f_min"),
        ({"deliveries": 0}, "deliveries"),
    ],
)
def test_bad_study_input(kw, field):
    with pytest.raises(ConfigError, match=field):
        validate(RepeaterChainStudy, kw)
