"""The ``oran_slicing`` study end to end on tiny configurations."""

import pytest

from netsim import ConfigError, validate
from netsim.runner import run_scenario
from netsim.scenario import resolve, run_replication
from scenarios.oran_slicing import SCENARIO, OranSlicingStudy, contested_table, rl_table


def test_small_study_without_training(tmp_path):
    cfg = validate(OranSlicingStudy, {
        "combos": [[1, 1, 1], [0, 1, 2]], "policies": ["random", "expert", "tabular"],
        "trials": 2, "trial_s": 1.0, "tabular_episodes": 2, "classify": False,
        "ran": {"traffic": "commag", "snr_at_20m_db": 20.0}, "contested": False,
    })
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


def test_study_nests_the_model_configs():
    """Issue 19: the study holds a RanConfig (every gNB knob settable) and a CellConfig."""
    cfg = validate(OranSlicingStudy, {"ran": {"schedulers": ["pf", "pf", "rr"],
                                              "pathloss_exponent": 3.5},
                                      "cell": {"users": [1, 2, 2]}})
    env_cfg = cfg.env_config(users=[1, 1, 1])
    assert env_cfg.schedulers == ("pf", "pf", "rr") and env_cfg.pathloss_exponent == 3.5
    assert env_cfg.users == (1, 1, 1) and cfg.contested_config().users == (1, 2, 2)
    with pytest.raises(ConfigError, match="ran"):
        validate(OranSlicingStudy, {"ran": {"schedulers": ["edf", "rr", "rr"]}})
    with pytest.raises(ConfigError, match="contested_horizon_s"):
        validate(OranSlicingStudy, {"contested_horizon_s": 1.05})


def test_contested_part_scores_every_baseline_with_crn(tmp_path):
    cfg = validate(OranSlicingStudy, {
        "contested_trials": 2, "contested_horizon_s": 1.0, "tractor": False, "classify": False,
    })
    df = run_replication(SCENARIO, cfg, seed=2, workdir=tmp_path)
    table = contested_table(df).set_index("policy")
    assert set(table.index) == {"random", "expert", "mmtc1", "proportional", "best_fixed",
                                "oracle"}
    assert table.loc["oracle", "normalised"] == 1 and table.loc["random", "normalised"] == 0
    # the one-step oracle is the best of the 120 splits at every step, so it beats the best
    # fixed split (searched over the same 120 on the same seeds)
    assert table.loc["oracle", "mean"] >= table.loc["best_fixed", "mean"]
    assert table["n"].eq(2).all()
    assert table[["score_mmtc", "score_urllc", "score_embb"]].stack().between(0, 1).all()
    # the hindsight search (batched env) agrees with single-env rollouts of that split
    import gymnasium as gym

    from ran.slicing.fluid import split_index
    from scenarios.oran_slicing import _contested_episode

    split = tuple(int(x) for x in table.loc["best_fixed", "detail"].split("-"))
    env = gym.make("netsim/OranSlicing-v0", config=cfg.contested_config())
    seeds = sorted(set(df.loc[df["policy"] == "random", "trial"]))
    assert len(seeds) == 2
    SCENARIO.plot(df, cfg, tmp_path)
    assert (tmp_path / "contested.png").stat().st_size > 0
    assert (tmp_path / "contested_table.md").read_text().startswith("| policy | kind |")
    ep = _contested_episode(env, lambda _o: split_index(split), 0)
    assert 0 <= ep["reward"] <= 1


def test_quick_preset_resolves():
    from pathlib import Path

    res = resolve(str(Path(__file__).resolve().parents[3] / "scenarios/oran_slicing.quick.yaml"))
    assert res.config.contested and not res.config.classify and not res.config.tractor


def test_study_config_errors():
    with pytest.raises(ConfigError, match="combos"):
        validate(OranSlicingStudy, {"combos": [[0, 0, 0]]})
    with pytest.raises(ConfigError, match="policies"):
        validate(OranSlicingStudy, {"policies": ["oracle"]})
    with pytest.raises(ConfigError, match="contested_policies"):
        validate(OranSlicingStudy, {"contested_policies": ["psychic"]})
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
        "online_duration_s=12", "classify_holdout_cells=2", "contested_trials=2",
        "contested_horizon_s=1", "contested_learned_timesteps=0",
    ])
    results, summary = run_scenario(res, tmp_path / "out", progress=False)
    out = tmp_path / "out"
    for name in ("rl_scores.png", "confusion.png", "rl_table.csv", "classification.csv"):
        assert (out / name).is_file()
    assert (out / "rep0" / "learned" / "model.zip").is_file()
    assert set(results.loc[results["part"] == "rl", "policy"]) == {
        "random",
        "expert",
        "mmtc1",
        "tabular",
        "learned",
    }
    data = set(results.loc[results["part"] == "classify", "data"])
    assert {"offline_all", "online_trace", "real_colosseum_commag", "unseen_capture"} <= data
