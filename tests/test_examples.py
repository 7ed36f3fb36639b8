"""Every ``examples/*.py`` runs (quick mode: ``NETSIM_EXAMPLE_QUICK=1`` and ``--quick``, see
examples/README.md), and the third-party plugin example works through netsim's entry-point
loaders without being installed."""

import os
import subprocess
import sys
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import gymnasium as gym
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
PLUGIN = EXAMPLES / "third_party_plugin"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_runs_quick(script, tmp_path):
    env = {**os.environ, "NETSIM_EXAMPLE_QUICK": "1", "NETSIM_EXAMPLE_OUT": str(tmp_path),
           "MPLBACKEND": "Agg", "NETSIM_PROGRESS": "0"}
    proc = subprocess.run([sys.executable, str(script), "--quick"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip(), "an example should print its result"


def test_examples_are_short():
    for script in SCRIPTS:
        assert len(script.read_text().splitlines()) <= 50, script.name


@pytest.fixture
def plugin(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN))
    import netsim_booth

    return netsim_booth


def _declared(group):
    meta = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    eps = meta["project"]["entry-points"][group]
    return [EntryPoint(name=k, value=v, group=group) for k, v in eps.items()]


def test_plugin_scenario_through_the_entry_point_loader(plugin, monkeypatch, tmp_path):
    import netsim.scenario as ns
    from netsim.cli import main

    real = ns.scenario_entry_points()
    fake = {ep.name: ep for ep in _declared("netsim.scenarios")}
    monkeypatch.setattr(ns, "scenario_entry_points", lambda: {**real, **fake})
    r = ns.resolve("booth", ["horizon=50"])
    assert r.scenario is plugin.SCENARIO and r.config.horizon == 50
    with pytest.raises(SystemExit) as info:
        main(["run", "booth", "--set", "horizon=300", "--reps", "2", "--quiet",
              "--out", str(tmp_path / "b")])
    assert info.value.code == 0
    df = pd.read_parquet(tmp_path / "b" / "results.parquet")
    means = df.groupby("speed")["value"].mean()
    assert means["fast"] < means["slow"]  # the fast clerk keeps the queue shorter


def test_plugin_env_through_the_entry_point_loader(plugin, monkeypatch):
    import netsim.registry as reg

    declared = _declared("netsim.envs")
    real = list(reg.entry_points(group=reg.ENV_GROUP))
    monkeypatch.setattr(reg, "entry_points", lambda group: real + declared)
    assert plugin.ENV_ID in reg.env_ids()
    assert reg.require_env_id(plugin.ENV_ID) == plugin.ENV_ID
    env = gym.make(plugin.ENV_ID, horizon=20.0)
    check_env(env.unwrapped, skip_render_check=True)
    env.reset(seed=0)
    steps = 0
    while True:
        _, reward, term, trunc, _ = env.step(1)
        steps += 1
        if term or trunc:
            break
    assert steps == 20 and reward <= 0
