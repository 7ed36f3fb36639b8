"""Regression tests of the foundation defects of issue 12 §4, one per defect."""

import json
import os
import pickle
import shlex
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import gymnasium as gym
import pandas as pd
import psutil
import pytest
from cli_util import run_cli  # tests/netsim/cli_util.py

import envs  # noqa: F401 - registers the ids
from netsim import ConfigError
from netsim.lifeline import WATCH_THREAD
from netsim.results import check_output_kind, command_line, manifest_kind
from netsim.scenario import resolve
from netsim.train import make_registered

ENV_ID = "netsim/QueueAdmission-v0"
FAST = ["--set", "horizon=400", "--set", "warmup=40", "--reps", "1", "--quiet"]


# -- an episode with no decision epoch before the horizon --------------------------------------
def test_episode_without_decision_steps_once_then_needs_reset():
    env = gym.make(ENV_ID, arrival_rate=0.01, horizon=50.0)
    empty = 0
    for seed in range(20):
        env.reset(seed=seed)
        obs, reward, term, trunc, _ = env.step(1)
        assert env.observation_space.contains(obs)
        if env.unwrapped.model.accepted.value == 0 and trunc:
            empty += 1
            assert reward == pytest.approx(0.0) and not term
            assert env.unwrapped.sim.now == pytest.approx(50.0)
            with pytest.raises(gym.error.ResetNeeded):
                env.step(1)
    assert empty >= 5  # P(no arrival in 50 s) = exp(-0.5) = 0.61 per seed


def test_train_with_a_horizon_before_any_decision_exits_cleanly(tmp_path, capsys):
    code, out, err = run_cli([
        "train", ENV_ID, "--algo", "a2c", "--timesteps", "40", "--n-envs", "1",
        "--eval-episodes", "1", "--set", "horizon=0.001", "--quiet", "--out", str(tmp_path / "t"),
    ], capsys)
    assert code == 0, err
    assert "Traceback" not in err and (tmp_path / "t" / "model.zip").is_file()


# -- --subproc workers register the envs --------------------------------------------------------
def test_env_factory_registers_the_ids_in_a_fresh_interpreter():
    """What a SubprocVecEnv worker does: unpickle the factory in a new process and call it."""
    code = (
        "import pickle, sys; f = pickle.loads(sys.stdin.buffer.read()); "
        "env = f(config={'horizon': 5}); print(env.reset(seed=0)[0] >= 0)"
    )
    factory = pickle.dumps(partial(make_registered, ENV_ID))
    proc = subprocess.run([sys.executable, "-c", code], input=factory, capture_output=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout.decode().strip() == "True"


@pytest.mark.slow
def test_train_subproc_workers_find_the_env_ids(tmp_path, capsys):
    code, _, err = run_cli([
        "train", ENV_ID, "--algo", "dqn", "--timesteps", "100", "--n-envs", "2", "--subproc",
        "--eval-episodes", "1", "--set", "horizon=20", "--quiet", "--out", str(tmp_path / "t"),
    ], capsys)
    assert code == 0, err
    assert "NamespaceNotFound" not in err


# -- seeds out of range: exit 2 with one line ---------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", ENV_ID, "--seed", "-1"], "--seed: must be an integer in 0..4294967295"),
        (["train", ENV_ID, "--seed", "99999999999"], "--seed: must be an integer in 0.."),
        (["run", "mm1", "--seed", "-1"], "seed: must be an integer in 0..9223372036854775807"),
        (["run", "mm1", "--seed", str(2**63)], "seed: must be an integer in 0.."),
        (["sweep", "mm1", "--grid", "arrival_rate=0.5", "--seed", "-1"], "seed: must be"),
        (["sweep", "mm1", "--grid", "arrival_rate=0.5", "--seed", str(2**64)], "seed: must be"),
    ],
)
def test_bad_seeds_exit_2_one_line(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    code, _, err = run_cli([*args, "--out", str(out)], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists()


def test_large_run_seed_is_accepted(tmp_path, capsys):
    code, _, err = run_cli(["run", "mm1", *FAST, "--seed", "99999999999",
                            "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err


# -- output folders of another kind -------------------------------------------------------------
def _write_manifest(folder, **body):
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(body))
    (folder / "precious.parquet").write_bytes(b"data")


@pytest.mark.parametrize(
    ("kind", "command"),
    [
        ("sweep", ["run", "mm1", *FAST]),
        ("bench", ["run", "mm1", *FAST]),
        ("run", ["sweep", "mm1", "--grid", "arrival_rate=0.5", *FAST, "--workers", "1"]),
    ],
)
def test_refuses_output_of_another_kind_unless_forced(tmp_path, capsys, kind, command):
    out = tmp_path / "out"
    _write_manifest(out, kind=kind)
    code, _, err = run_cli([*command, "--out", str(out)], capsys)
    assert code == 2 and f"holds {kind} results" in err and "--force" in err
    assert (out / "precious.parquet").read_bytes() == b"data"
    code, _, err = run_cli([*command, "--out", str(out), "--force"], capsys)
    assert code == 0, err
    assert not (out / "precious.parquet").exists()
    assert manifest_kind(out) == command[0]


def test_train_refuses_a_run_folder(tmp_path, capsys):
    out = tmp_path / "out"
    _write_manifest(out, kind="run")
    code, _, err = run_cli(["train", ENV_ID, "--timesteps", "8", "--out", str(out)], capsys)
    assert code == 2 and "holds run results, not train results" in err
    assert (out / "precious.parquet").read_bytes() == b"data"


def test_same_kind_is_replaced_and_legacy_manifests_are_recognised(tmp_path, capsys):
    out = tmp_path / "r"
    assert run_cli(["run", "mm1", *FAST, "--out", str(out)], capsys)[0] == 0
    assert run_cli(["run", "mm1", *FAST, "--seed", "3", "--out", str(out)], capsys)[0] == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    for keys, kind in (({"fingerprint": "x"}, "sweep"), ({"algo": "ppo"}, "train"),
                       ({"rep_seeds": [1]}, "run")):
        folder = tmp_path / kind
        _write_manifest(folder, **keys)
        assert manifest_kind(folder) == kind
    check_output_kind(tmp_path / "missing", "bench")  # nothing there: fine
    with pytest.raises(ConfigError, match="holds sweep results, not bench results"):
        check_output_kind(tmp_path / "sweep", "bench")
    check_output_kind(tmp_path / "sweep", "bench", force=True)


def test_force_never_deletes_a_folder_that_is_not_netsim_output(tmp_path, capsys):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    for cmd in (["run", "mm1", *FAST], ["sweep", "mm1", "--grid", "arrival_rate=0.5", *FAST]):
        code, _, _ = run_cli([*cmd, "--force", "--out", str(out)], capsys)
        assert code == 2
    assert (out / "thesis.tex").read_text() == "precious"


# -- pool workers die with their parent ---------------------------------------------------------
def _alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _armed(pid):
    """True once the worker's lifeline thread runs (its initializer has been called)."""
    try:
        return any(
            (t / "comm").read_text().strip() == WATCH_THREAD
            for t in Path(f"/proc/{pid}/task").iterdir()
        )
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sweep_workers_exit_when_the_parent_is_killed(tmp_path):
    cmd = [sys.executable, "-m", "netsim.cli", "sweep", "mm1", "--grid",
           "arrival_rate=0.5,0.6", "--set", "horizon=1e9", "--reps", "1", "--workers", "2",
           "--quiet", "--out", str(tmp_path / "s")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children = []
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 180
        armed = []
        while time.monotonic() < deadline and len(armed) < 2:
            time.sleep(0.3)
            children = parent.children(recursive=True)
            armed = [c for c in children if _armed(c.pid)]
        assert len(armed) == 2, "the sweep never started its two workers"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(c.pid) for c in children):
            time.sleep(0.2)
        left = [(c.pid, c.cmdline()[-1][:40]) for c in children if _alive(c.pid)]
        assert not left, f"orphaned processes still alive: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in children:
            if _alive(c.pid):
                c.kill()


# -- deep merge of YAML over the preset ---------------------------------------------------------
def test_yaml_over_preset_merges_deeply(tmp_path):
    f = tmp_path / "churn.yaml"
    f.write_text("scenario: collective_churn\nconfig:\n  model: {connections: 4}\n")
    r = resolve(str(f))
    assert r.config.model.connections == 4
    assert r.config.model.horizon_s == 14_400.0  # from the preset, not the schema's 7200
    assert r.config.model.message_mb == 1000.0


# -- the manifest's command can be pasted back --------------------------------------------------
def test_command_is_shell_quoted(tmp_path, capsys):
    argv = ["/opt/bin/netsim", "run", "mm1", "--set", "stations=[{servers: 2}]", "--out", "a b"]
    text = command_line(argv)
    assert text == "netsim run mm1 --set 'stations=[{servers: 2}]' --out 'a b'"
    assert shlex.split(text) == ["netsim", *argv[1:]]
    out = tmp_path / "x y"
    run_cli(["run", "mm1", *FAST, "--set", "stations=[{servers: 1}]", "--out", str(out)], capsys)
    cmd = json.loads((out / "manifest.json").read_text())["command"]
    assert shlex.split(cmd)[:2] == ["netsim", "run"] and str(out) in shlex.split(cmd)
    assert "stations=[{servers: 1}]" in shlex.split(cmd)
    assert pd.read_parquet(out / "results.parquet").shape[0] > 0
