"""``netsim show``, named presets (``scenarios/<name>.<preset>.yaml``) and ``netsim run --from``
(issue 12 §6)."""

import json

import gymnasium as gym
import pandas as pd
import pytest
import yaml
from cli_util import FAST, run_cli  # tests/netsim/cli_util.py
from pydantic import Field

import envs  # noqa: F401 - registers the ids
from netsim import Config, ConfigError
from netsim.scenario import load_scenario, resolve, scenario_entry_points
from netsim.show import describe, describe_config, field_comment


def test_show_scenario_is_commented_yaml_of_the_resolved_config(capsys):
    code, out, _ = run_cli(["show", "mm1"], capsys)
    assert code == 0
    r = resolve("mm1")
    data = yaml.safe_load(out)
    assert data == {"seed": r.seed, "reps": r.reps, "config": r.config.model_dump(mode="json")}
    line = next(x for x in out.splitlines() if x.strip().startswith("arrival_rate:"))
    assert "# float in (0, inf) [1/s]; Poisson arrival rate" in line
    assert "servers: 1" in out and "int in [1, 1000]; identical servers c" in out
    assert "# presets: quick" in out


def test_show_env_id(capsys):
    code, out, _ = run_cli(["show", "netsim/QueueAdmission-v0"], capsys)
    assert code == 0
    cfg = gym.make("netsim/QueueAdmission-v0").unwrapped.config
    assert yaml.safe_load(out) == cfg.model_dump(mode="json")
    assert "holding_cost:" in out and "# presets:" in out


def test_field_comment_reads_type_bounds_unit_and_description():
    class C(Config):
        rate: float = Field(1.0, gt=0, le=5, description="arrival rate (1/s)")
        n: int = Field(3, ge=1, json_schema_extra={"unit": "users"}, description="UEs")
        note: str | None = Field(None, description="free text (default none)")

    f = C.model_fields
    assert field_comment(f["rate"]) == "float in (0, 5] [1/s]; arrival rate"
    assert field_comment(f["n"]) == "int in [1, inf) [users]; UEs"
    assert field_comment(f["note"]) == "str | None; free text (default none)"
    assert yaml.safe_load(describe_config(C, C())) == {"rate": 1.0, "n": 3, "note": None}


def test_presets_are_discovered_and_layered_over_the_default():
    sc = load_scenario("mm1")
    assert "quick" in sc.presets()
    default, quick = resolve("mm1"), resolve("mm1", preset="quick")
    assert quick.reps < default.reps and quick.config.horizon < default.config.horizon
    assert quick.config.arrival_rate == default.config.arrival_rate  # kept from the default
    assert quick.preset == "quick"
    with pytest.raises(ConfigError, match="has no preset 'nope' \\(presets: quick"):
        resolve("mm1", preset="nope")
    assert "# preset quick:" in describe("mm1", preset="quick")


@pytest.mark.parametrize("name", ["mm1", "mmc", "tandem"])
def test_quick_presets_exist_and_are_short(name):
    r = resolve(name, preset="quick")
    assert r.reps <= 3 and r.config.horizon <= 5_000


@pytest.mark.parametrize("name", sorted(scenario_entry_points()))
def test_every_study_has_a_quick_preset_that_shrinks_it(name):
    """Issue 12 §6: every study has a ``quick`` preset (a first result in under a minute)."""
    default, quick = resolve(name), resolve(name, preset="quick")
    assert quick.preset == "quick"
    assert quick.reps <= default.reps
    assert quick.config != default.config or quick.reps < default.reps


def test_run_from_manifest_reproduces_bit_for_bit(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    code, _, err = run_cli(["run", "mm1", "--preset", "quick", *FAST, "--seed", "7",
                            "--set", "arrival_rate=0.7", "--out", str(a)], capsys)
    assert code == 0, err
    code, _, err = run_cli(["run", "--from", str(a / "manifest.json"), "--quiet",
                            "--out", str(b)], capsys)
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_parquet(a / "results.parquet"),
                                  pd.read_parquet(b / "results.parquet"))
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()
    ma, mb = (json.loads((p / "manifest.json").read_text()) for p in (a, b))
    for key in ("scenario", "config", "seed", "reps", "rep_seeds", "preset"):
        assert ma[key] == mb[key]


def test_run_from_bad_input(tmp_path, capsys):
    code, _, err = run_cli(["run", "--from", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "--from: file not found" in err
    sweep = tmp_path / "m.json"
    sweep.write_text(json.dumps({"kind": "sweep", "scenario": "mm1"}))
    code, _, err = run_cli(["run", "--from", str(sweep)], capsys)
    assert code == 2 and "not the manifest of a 'netsim run'" in err
    code, _, err = run_cli(["run", "mm1", "--from", str(sweep)], capsys)
    assert code == 2 and "either a manifest or a scenario" in err
    code, _, err = run_cli(["run"], capsys)
    assert code == 2 and "run needs a scenario" in err


def test_env_presets(monkeypatch):
    from envs.queue import QueueAdmissionEnv

    monkeypatch.setattr(QueueAdmissionEnv, "presets", {"tiny": {"capacity": 3, "horizon": 9.0}})
    env = QueueAdmissionEnv(preset="tiny", horizon=5.0)
    assert (env.config.capacity, env.config.horizon) == (3, 5.0)
    with pytest.raises(ConfigError, match="unknown preset 'big'"):
        QueueAdmissionEnv(preset="big")


def test_sweep_takes_a_preset():
    from netsim.sweep import plan_sweep

    plan = plan_sweep("mm1", ["arrival_rate=0.5,0.6"], preset="quick")
    assert plan.reps == 3 and len(plan.specs) == 6
    assert plan.base_config["horizon"] == resolve("mm1", preset="quick").config.horizon
