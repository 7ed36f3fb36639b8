"""netsim/QuantumScheduling-v0: Gymnasium/SB3 contracts, determinism, baselines."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401 - registers the ids
from envs.quantum_scheduling import QuantumSchedulingEnv
from netsim import ConfigError

ENV_ID = "netsim/QuantumScheduling-v0"


def test_checkers_pass():
    check_env(gym.make(ENV_ID, horizon=2.0).unwrapped, skip_render_check=False)
    sb3_check_env(gym.make(ENV_ID, horizon=2.0, resource="qubit").unwrapped)


def test_vector_env():
    vec = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="sync", horizon=1.0)
    obs, _ = vec.reset(seed=1)
    assert obs.shape == (2, 8 * 6)
    vec.step(np.array([0, 1]))
    vec.close()


def trajectory(seed, steps=150, **kw):
    env = gym.make(ENV_ID, horizon=2.0, **kw)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=seed)
    out = [obs.tobytes(), tuple(sorted(info.items()))]
    for _ in range(steps):
        obs, r, term, trunc, info = env.step(int(rng.integers(8)))
        out.append((obs.tobytes(), r, term, trunc, tuple(sorted(info.items()))))
        if term or trunc:
            obs, _ = env.reset()
    return out


def test_same_seed_same_trajectory():
    assert trajectory(7) == trajectory(7)
    assert trajectory(7) != trajectory(8)
    assert trajectory(3, resource="qubit") == trajectory(3, resource="qubit")


def test_observations_in_space_masks_and_truncation():
    env = gym.make(ENV_ID, horizon=1.0, qos={"demands": 10, "periods": [8, 16]})
    obs, _ = env.reset(seed=0)
    done, steps = False, 0
    while not done:
        assert env.observation_space.contains(obs)
        mask = env.unwrapped.action_masks()
        assert mask.any()
        obs, r, term, trunc, info = env.step(int(np.flatnonzero(mask)[0]))
        assert r >= 0
        done = term or trunc
        steps += 1
    assert trunc and env.unwrapped.sim.now == pytest.approx(1.0)
    assert info["started"] + info["missed"] > 0
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


def test_edf_baseline_from_observations_equals_exact_edf():
    env = gym.make(ENV_ID, horizon=1.0, qos={"demands": 10, "periods": [8, 16, 32]}).unwrapped
    obs, _ = env.reset(seed=2)
    edf = env.baseline_policies()["edf"]
    done = False
    while not done:
        a = edf(obs)
        assert a == env.edf_action()
        obs, _, term, trunc, _ = env.step(a)
        done = term or trunc


def test_edf_beats_random_on_an_overloaded_network():
    from netsim.evaluate import baseline_factories, evaluate_policies

    def make():
        qos = {"demands": 10, "periods": [8, 16]}
        return gym.make(ENV_ID, horizon=3.0, qos=qos, miss_penalty=0.5)

    df = evaluate_policies(make, baseline_factories(make()), episodes=3, seed=0)
    means = df.groupby("policy")["return"].mean()
    assert means["edf"] > means["random"]


def test_bad_arguments():
    with pytest.raises(ConfigError, match="f_min"):
        QuantumSchedulingEnv(qos={"f_min": 1.5})
    with pytest.raises(ConfigError, match="comm"):
        QuantumSchedulingEnv(qos={"repeater": {"comm": 0}})
    with pytest.raises(ConfigError, match="resource"):
        QuantumSchedulingEnv(resource="cloud")
    env = QuantumSchedulingEnv(qos={"f_min": 0.99, "topology": "symm"})
    with pytest.raises(ValueError, match="no demand has a protocol"):
        env.reset(seed=0)
