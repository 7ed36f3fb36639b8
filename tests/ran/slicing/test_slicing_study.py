"""The ``oran_slicing`` study end to end on tiny configurations."""

import pytest

from netsim import ConfigError, validate
from netsim.runner import run_scenario
from netsim.scenario import resolve, run_replication
from scenarios.oran_slicing import SCENARIO, OranSlicingStudy, rl_table


def test_small_study_without_training(tmp_path):
    cfg = validate(OranSlicingStudy, {
        "combos": [[1, 1, 1], [0, 1, 2]], "policies": ["random", "expert", "tabular"],
        "trials": 2, "trial_s": 1.0, "tabular_episodes": 2, "classify": False,
        "traffic": "commag",
    })  # fmt: skip
    df = run_replication(SCENARIO, cfg, seed=4, workdir=tmp_path)
    scores = df[df["metric"] == "trial_score"]
    assert len(scores) == 2 * 3 * 2
    assert scores["value"].between(0, 1).all()
    table = rl_table(df)
    assert set(table["combo"]) == {"1-1-1", "0-1-2", "all"}
    assert (table["n"] == [2] * 6 + [4] * 3).all()
    # common random numbers: the same trial seeds for every policy
    again = run_replication(SCENARIO, cfg, seed=4, workdir=tmp_path / "again")
    assert df.equals(again)
    summary = SCENARIO.summarize(df)
    assert {"mean", "cv", "ci90_low", "ci90_high"} <= set(summary.columns)
    SCENARIO.plot(df, cfg, tmp_path)
    assert (tmp_path / "rl_scores.png").stat().st_size > 0
    assert (tmp_path / "rl_cv.png").stat().st_size > 0
    assert (tmp_path / "rl_table.md").read_text().startswith("| policy | combo |")


def test_study_config_errors():
    with pytest.raises(ConfigError, match="combos"):
        validate(OranSlicingStudy, {"combos": [[0, 0, 0]]})
    with pytest.raises(ConfigError, match="policies"):
        validate(OranSlicingStudy, {"policies": ["oracle"]})
    with pytest.raises(ConfigError, match="trials"):
        validate(OranSlicingStudy, {"trials": 1})


def test_preset_resolves():
    res = resolve("oran_slicing")
    assert res.config.trials >= 10 and len(res.config.combos) >= 4


@pytest.mark.slow
def test_full_pipeline_tiny(tmp_path):
    """Classification and a learned MaskablePPO policy through ``netsim.train``."""
    res = resolve("oran_slicing", sets=[
        "trials=2", "trial_s=2", "combos=[[1,1,1]]", "tabular_episodes=3",
        "learned_timesteps=1024", "learned_envs=2", "classify_train_runs=2",
        "classify_test_runs=2", "classify_duration_s=12", "transformer_epochs=1",
        "online_duration_s=12", "classify_holdout_cells=2",
    ])  # fmt: skip
    results, summary = run_scenario(res, tmp_path / "out", progress=False)
    out = tmp_path / "out"
    for name in ("rl_scores.png", "confusion.png", "rl_table.csv", "classification.csv"):
        assert (out / name).is_file()
    assert (out / "rep0" / "learned" / "model.zip").is_file()
    assert set(results.loc[results["part"] == "rl", "policy"]) == {
        "random",
        "expert",
        "tabular",
        "learned",
    }
    data = set(results.loc[results["part"] == "classify", "data"])
    assert {"offline_all", "online_trace", "real_colosseum_commag", "unseen_capture"} <= data
