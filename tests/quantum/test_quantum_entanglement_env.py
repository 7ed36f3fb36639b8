"""netsim/EntanglementChain-v0: Gymnasium/SB3 contracts, determinism, baselines, bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the ids)
from envs.entanglement import EntanglementChainEnv
from netsim import ConfigError
from netsim.evaluate import baseline_factories, evaluate_policies

ID = "netsim/EntanglementChain-v0"


def test_gymnasium_and_sb3_checkers():
    from stable_baselines3.common.env_checker import check_env as sb3_check

    env = gym.make(ID, horizon=0.005)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check(EntanglementChainEnv(horizon=0.005), warn=True)


def test_observations_stay_in_space_and_episode_truncates():
    env = gym.make(ID, n_links=4, horizon=0.01)
    obs, _ = env.reset(seed=3)
    steps, done = 0, False
    while not done:
        assert env.observation_space.contains(obs)
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        assert r >= 0 and not term
        done = trunc
        steps += 1
    assert steps == 50 and env.unwrapped.sim.now == pytest.approx(0.01)


def test_vector_env():
    vec = gym.make_vec(ID, num_envs=2, vectorization_mode="sync", horizon=0.002)
    obs, _ = vec.reset(seed=1)
    assert obs.shape == (2, 16)
    obs, r, term, trunc, _ = vec.step(vec.action_space.sample())
    assert r.shape == (2,)
    vec.close()


def test_same_seed_same_trajectory():
    def run(seed):
        env = gym.make(ID, horizon=0.01)
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        traj = [obs]
        for _ in range(40):
            obs, r, *_ = env.step(env.action_space.sample())
            traj.extend([obs, np.array([r])])
        return np.concatenate([np.ravel(t) for t in traj])

    assert np.array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_baselines_order_and_match_the_model():
    """Swap-ASAP beats random; with f_min binding, the fixed cutoff baseline beats plain
    swap-ASAP (stale pairs would be delivered below F_min). Rewards are pairs/ms."""
    make = lambda: gym.make(ID)  # noqa: E731
    df = evaluate_policies(make, baseline_factories(make()), episodes=4, seed=0)
    mean = df.groupby("policy")["return"].mean()
    assert mean["swap_asap"] > mean["random"]
    assert mean["swap_asap_cutoff"] > 1.2 * mean["swap_asap"]
    env = make().unwrapped
    env.reset(seed=0)
    total, trunc = 0.0, False
    policy = env.baseline_policies()["swap_asap"]
    obs = None
    while not trunc:
        obs, r, _, trunc, info = env.step(policy(obs))
        total += r
    assert total * env.decision_interval * 1e3 == pytest.approx(info["delivered_ok"])


def test_discard_action_frees_memory():
    env = gym.make(ID, horizon=0.01).unwrapped
    env.reset(seed=2)
    for _ in range(10):
        env.step(np.zeros(2, dtype=np.int64))  # wait: pairs pile up, nothing is delivered
    assert env.chain.delivered == 0
    held = sum(len(n.left) + len(n.right) for n in env.chain.nodes)
    assert held > 0
    env.step(np.full(2, 2, dtype=np.int64))
    assert env.chain.discarded >= 1


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"n_links": 1}, "n_links"),
        ({"f_min": 1.5}, "f_min"),
        ({"decision_interval_s": 1.0}, "decision_interval_s"),
        ({"baseline_cutoff_s": 0.1}, "baseline_cutoff_s"),
        ({"comm_qubits": 0}, "comm_qubits"),
    ],
)
def test_bad_input(kw, field):
    with pytest.raises(ConfigError, match=field):
        gym.make(ID, **kw)
