"""``netsim bench``: common random numbers, hindsight and oracle bookkeeping, the contested
check, executor independence and failure isolation."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from netsim import bench as B
from netsim.baselines import Baseline, baselines_for, fixed_candidates, register_baselines
from netsim.cli import main
from netsim.errors import ConfigError

TOY = "netsim/BenchToy-v0"


class ToyEnv(gym.Env):
    """Ten steps; reward = action · w_t with w_t ~ U(0, 1) drawn at reset (the oracle plays 2
    when w_t > 0.6, else 1; fixed 1 or 2 are the hindsight candidates)."""

    def __init__(self, config=None):
        self.action_space = gym.spaces.Discrete(3)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float64)
        self.boom = bool((config or {}).get("boom", False))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.action_space.seed(seed)
        self.w = self.np_random.uniform(size=10)
        self.t = 0
        return np.array([self.w[0]]), {}

    def step(self, action):
        r = float(action) * self.w[self.t] - (1.0 if int(action) == 2 else 0.0) * 0.6
        self.t += 1
        done = self.t >= 10
        return np.array([self.w[min(self.t, 9)]]), r, False, done, {}


def _toy_baselines():
    def oracle(env):
        return lambda obs: 2 if obs[0] > 0.6 else 1

    def bound(env, seed):
        env.reset(seed=seed)
        return float(np.maximum(env.w, 2 * env.w - 0.6).sum())

    return [
        Baseline("one", "heuristic", policy=lambda env: (lambda obs: 1)),
        Baseline("fixed", "hindsight", candidates=fixed_candidates({"a0": 0, "a1": 1, "a2": 2})),
        Baseline("clairvoyant", "oracle", policy=oracle),
        Baseline("bound", "oracle", episode=bound),
    ]


@pytest.fixture(autouse=True)
def toy_env():
    if TOY not in gym.registry:
        gym.register(TOY, entry_point=ToyEnv)
    register_baselines(TOY, _toy_baselines)
    yield


def test_toy_leaderboard_hindsight_oracle_and_normalisation():
    board, check = B.bench([TOY], seeds=6, progress=False)
    row = board.set_index("policy")
    assert list(board["kind"]) == ["random", "heuristic", "hindsight", "oracle", "oracle"]
    # the best fixed action in hindsight is 1 (E[2w - 0.6] = 0.4 < E[w] = 0.5)
    assert row.loc["fixed", "detail"] == "best: a1"
    assert row.loc["fixed", "mean"] == pytest.approx(row.loc["one", "mean"])
    # the per-episode bound equals the clairvoyant policy's return, and is the reference
    assert row.loc["bound", "mean"] == pytest.approx(row.loc["clairvoyant", "mean"])
    assert row.loc["random", "normalised"] == 0.0
    assert row.loc["bound", "normalised"] == pytest.approx(1.0)
    assert (board["ci_low"] <= board["mean"]).all() and (board["mean"] <= board["ci_high"]).all()
    c = check.iloc[0]
    assert c["best_heuristic"] == "one"
    assert 0.1 < c["normalised"] < 0.95
    assert c["gap_random_low"] > 0 and c["gap_reference_low"] > 0 and bool(c["contested"])


def test_common_random_numbers_and_seeds():
    seeds = B.episode_seeds(0, 4)
    assert seeds == B.episode_seeds(0, 4) and len(set(seeds)) == 4
    tasks, listed = B.plan_tasks(TOY, seeds)
    assert {t.seeds[0] for t in tasks if t.baseline == "one"} == set(seeds)
    assert sum(t.baseline == "fixed" for t in tasks) == 3 * 4
    assert set(listed) == {"random", "one", "fixed", "clairvoyant", "bound"}


@pytest.mark.slow
def test_same_leaderboard_on_a_process_pool_and_dask(tmp_path):
    """Serial, two spawned workers and a Dask cluster give bit-identical episodes
    (QueueAdmission: the workers must register the envs themselves)."""
    from distributed import LocalCluster

    env = "netsim/QueueAdmission-v0"
    kw = {"seeds": 3, "skip_learned": True, "progress": False, "env_config": {"horizon": 20.0}}
    B.bench([env], out=tmp_path / "serial", workers=1, **kw)
    B.bench([env], out=tmp_path / "pool", workers=2, **kw)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        B.bench([env], out=tmp_path / "dask", scheduler=c.scheduler_address, **kw)
    a, b, d = (
        pd.read_parquet(tmp_path / name / "episodes.parquet").drop(columns="wall_s")
        for name in ("serial", "pool", "dask")
    )
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, d)


def test_outputs_are_written(tmp_path):
    B.bench([TOY], seeds=3, out=tmp_path / "b", progress=False)
    files = {p.name for p in (tmp_path / "b").iterdir()}
    assert {"leaderboard.parquet", "leaderboard.md", "leaderboard.png", "manifest.json",
            "episodes.parquet", "contested.csv"} <= files
    lb = pd.read_parquet(tmp_path / "b" / "leaderboard.parquet")
    assert list(lb.columns) == B.LEADERBOARD_COLUMNS


def test_learned_agent_is_trained_and_scored():
    board, _ = B.bench(
        ["netsim/QueueAdmission-v0"], seeds=2, timesteps=64, progress=False,
        env_config={"horizon": 10.0},
    )
    learned = board[board["kind"] == "learned"]
    assert len(learned) == 1 and learned["n_seeds"].iloc[0] == 2


def test_a_failing_policy_loses_no_other_result(tmp_path):
    def broken():
        def policy(env):
            def act(obs):
                raise RuntimeError("boom")

            return act

        return [*_toy_baselines(), Baseline("broken", "heuristic", policy=policy)]

    register_baselines(TOY, broken)
    with pytest.raises(B.BenchFailures) as info:
        B.bench([TOY], seeds=3, out=tmp_path / "b", progress=False)
    assert len(info.value.failures) == 3
    assert "broken" not in set(info.value.board["policy"])
    assert (tmp_path / "b" / "failures.json").exists()
    assert set(pd.read_parquet(tmp_path / "b" / "leaderboard.parquet")["policy"]) == {
        "random", "one", "fixed", "clairvoyant", "bound"
    }


def test_baseline_shapes_are_checked():
    with pytest.raises(ConfigError, match="needs policy"):
        Baseline("x", "heuristic")
    with pytest.raises(ConfigError, match="exactly one of policy, episode"):
        Baseline("x", "oracle", policy=lambda e: None, episode=lambda e, s: 0.0)
    with pytest.raises(ConfigError, match="kind"):
        Baseline("x", "magic", policy=lambda e: None)
    assert "random" in baselines_for("netsim/QueueAdmission-v0")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--seeds", "1"], "--seeds"),
        (["--timesteps", "0"], "--timesteps"),
        (["netsim/Nope-v0"], "unknown env id"),
    ],
)
def test_cli_bad_input_exits_2(args, needle, capsys, tmp_path):
    argv = ["bench", *args, "--out", str(tmp_path / "x"), "-q"]
    if not any(a.startswith("netsim/") for a in args):
        argv.insert(1, "netsim/QueueAdmission-v0")
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not (tmp_path / "x").exists()
