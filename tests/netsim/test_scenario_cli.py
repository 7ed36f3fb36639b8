"""Scenario resolution and ``netsim run``: outputs, manifests and bad-input behaviour."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from cli_util import FAST, run_cli  # tests/netsim/cli_util.py

from netsim import ConfigError
from netsim.cli import main
from netsim.scenario import resolve


def test_resolve_precedence(tmp_path):
    r = resolve("mm1")
    assert r.reps == 10 and r.seed == 1 and r.config.arrival_rate == 0.9
    f = tmp_path / "mine.yaml"
    f.write_text("scenario: mm1\nreps: 3\nconfig:\n  arrival_rate: 0.5\n")
    r = resolve(str(f), ["arrival_rate=0.6"], seed=9)
    assert (r.reps, r.seed, r.config.arrival_rate) == (3, 9, 0.6)
    assert r.config.horizon == 50_000.0  # from the preset


def test_run_writes_results_folder(tmp_path, capsys):
    out = tmp_path / "res"
    code, stdout, _ = run_cli(["run", "mm1", *FAST, "--out", str(out)], capsys)
    assert code == 0 and "results written" in stdout
    assert {p.name for p in out.iterdir()} >= {
        "results.parquet", "summary.csv", "manifest.json", "theory_vs_sim.png",
    }
    df = pd.read_parquet(out / "results.parquet")
    assert set(df["rep"]) == {0, 1} and {"metric", "value", "seed"} <= set(df.columns)
    man = json.loads((out / "manifest.json").read_text())
    assert man["scenario"] == "mm1" and man["reps"] == 2 and len(man["rep_seeds"]) == 2
    assert man["config"]["horizon"] == 400 and man["versions"]["numpy"]
    assert not list(tmp_path.glob(".res.*"))  # no temp folder left behind


def test_same_seed_same_results(tmp_path, capsys):
    for name in ("a", "b"):
        run_cli(["run", "mm1", *FAST, "--seed", "5", "--out", str(tmp_path / name)], capsys)
    a = pd.read_parquet(tmp_path / "a" / "results.parquet")
    b = pd.read_parquet(tmp_path / "b" / "results.parquet")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "mm1", "--set", "bogus=1"], "unknown key 'bogus'"),
        (
            ["run", "mm1", "--set", "arrival_rate=fast"],
            "arrival_rate: Input should be a valid number",
        ),
        (
            ["run", "mm1", "--set", "arrival_rate=-1"],
            "arrival_rate: Input should be greater than 0",
        ),
        (["run", "mm1", "--set", "arrival_rate=2"], "rho=2"),
        (["run", "nosuch"], "unknown scenario 'nosuch' (known:"),
        (["run", "missing.yaml"], "file not found: missing.yaml"),
        (["run", "mm1", "--reps", "0"], "reps: must be an integer >= 1"),
        (["run", "mm1", "--set", "=3"], "--set expects key=value"),
        (["train", "netsim/Nope-v0"], "unknown env id 'netsim/Nope-v0'"),
        (["train", "netsim/QueueAdmission-v0", "--algo", "sac"], "--algo: unknown algorithm 'sac'"),
        (
            ["train", "netsim/QueueAdmission-v0", "--set", "servers=0"],
            "servers: Input should be greater",
        ),
        (["sweep", "mm1", "--grid", "arrival_rate"], "--grid expects key=v1,v2"),
        (["sweep", "mm1", "--grid", "arrival_rate=0.5,3"], "rho=3"),
        (["sweep", "mm1"], "at least one --grid"),
    ],
)
def test_bad_input_exit_2_one_line_no_output(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    code, _, err = run_cli([*args, "--out", str(out)], capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_refuses_to_overwrite_foreign_folder(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    code, _, err = run_cli(["run", "mm1", *FAST, "--out", str(out)], capsys)
    assert code == 2 and "not a netsim results folder" in err
    assert (out / "thesis.tex").read_text() == "precious"


def test_failed_run_leaves_previous_results_untouched(tmp_path, capsys, monkeypatch):
    out = tmp_path / "res"
    run_cli(["run", "mm1", *FAST, "--out", str(out)], capsys)
    before = (out / "results.parquet").read_bytes()

    def boom(*_args, **_kwargs):
        raise RuntimeError("model failure")

    monkeypatch.setattr("netsim.runner.run_replication", boom)
    with pytest.raises(RuntimeError):
        main(["run", "mm1", *FAST, "--out", str(out)])
    assert (out / "results.parquet").read_bytes() == before
    assert not list(tmp_path.glob(".res.*"))


def test_cli_subprocess_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "netsim.cli", "run", "mm1", "--set", "stations=[{servers: 0}]",
         "--out", str(tmp_path / "x")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "error: stations[0].servers: Input should be greater than or equal to 1 (got 0)"
    )


def test_list_and_help(capsys):
    code, out, _ = run_cli(["list"], capsys)
    assert code == 0 and "mm1" in out and "netsim/QueueAdmission-v0" in out
    code, out, _ = run_cli(["run", "--help"], capsys)
    assert code == 0 and "--seed" in out and "--out" in out and "--set" in out


def test_resolve_unknown_top_level_key(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("scenario: mm1\nconfg: {}\n")
    with pytest.raises(ConfigError, match="unknown top-level key 'confg'"):
        resolve(str(f))
