"""``netsim train``: a tiny run writes model, evaluation against baselines and a curve."""

import json

import pandas as pd
import pytest

from netsim.cli import main


def test_train_small_a2c(tmp_path):
    out = tmp_path / "t"
    with pytest.raises(SystemExit) as info:
        main([
            "train", "netsim/QueueAdmission-v0", "--algo", "a2c", "--timesteps", "600",
            "--n-envs", "2", "--eval-episodes", "2", "--set", "horizon=40", "--quiet",
            "--out", str(out),
        ])
    assert info.value.code == 0
    assert {p.name for p in out.iterdir()} >= {
        "model.zip", "evaluation.csv", "summary.csv", "learning_curve.png", "manifest.json",
    }
    ev = pd.read_csv(out / "evaluation.csv")
    assert set(ev["policy"]) == {"learned", "threshold", "selfish", "accept_all", "random"}
    # common random numbers: every policy saw the same episode seeds
    assert ev.groupby("policy")["seed"].apply(tuple).nunique() == 1
    man = json.loads((out / "manifest.json").read_text())
    assert man["env_config"] == {"horizon": 40} and man["algo"] == "a2c"


def test_dqn_needs_discrete_and_maskable_needs_masks(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(
            [
                "train",
                "netsim/QueueAdmission-v0",
                "--algo",
                "maskable_ppo",
                "--out",
                str(tmp_path / "x"),
            ]
        )
    assert info.value.code == 2
    assert "action_masks" in capsys.readouterr().err
