"""The admission-control env: Gymnasium/SB3 contracts, determinism, and the threshold
policy's reward rate against the M/M/1/T closed form (Naor 1969)."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401 - registers the ids
from envs.queue import QueueAdmissionEnv
from netsim import ConfigError, Simulation
from netsim.evaluate import rollout
from queueing.admission import AdmissionQueue, best_threshold, threshold_reward_rate

ENV_ID = "netsim/QueueAdmission-v0"


def test_checkers_pass():
    check_env(gym.make(ENV_ID).unwrapped, skip_render_check=False)
    sb3_check_env(gym.make(ENV_ID).unwrapped)


def test_make_with_module_prefix_and_vector():
    env = gym.make("envs:" + ENV_ID, horizon=10.0)
    assert env.unwrapped.config.horizon == 10.0
    vec = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="sync")
    obs, _ = vec.reset(seed=1)
    assert obs.shape == (2,)
    vec.step(np.array([1, 0]))
    vec.close()


def trajectory(seed, steps=300):
    env = gym.make(ENV_ID)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(steps):
        obs, r, term, trunc, info = env.step(int(rng.integers(2)))
        out.append((obs, r, term, trunc, tuple(sorted(info.items()))))
        if term or trunc:
            obs, _ = env.reset()
    return out


def test_same_seed_same_trajectory():
    assert trajectory(7) == trajectory(7)
    assert trajectory(7) != trajectory(8)


def test_observations_stay_in_space_and_episode_truncates():
    env = gym.make(ENV_ID, capacity=3, arrival_rate=3.0, horizon=50.0)
    obs, _ = env.reset(seed=0)
    done = False
    while not done:
        assert env.observation_space.contains(obs)
        obs, _, term, trunc, _ = env.step(1)
        done = term or trunc
    assert trunc and env.unwrapped.sim.now == pytest.approx(50.0)
    with pytest.raises(gym.error.ResetNeeded):
        env.step(1)


def test_render_modes():
    env = gym.make(ENV_ID, render_mode="rgb_array")
    env.reset(seed=0)
    env.step(1)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env = gym.make(ENV_ID, render_mode="ansi")
    env.reset(seed=0)
    env.step(1)
    assert env.render().startswith("t=")
    with pytest.raises(ConfigError, match="render_mode"):
        QueueAdmissionEnv(render_mode="video")


def test_bad_arguments():
    with pytest.raises(ConfigError, match="arrival_rate"):
        gym.make(ENV_ID, arrival_rate=-1)
    with pytest.raises(ConfigError, match="unknown key 'capcity'"):
        gym.make(ENV_ID, capcity=3)


@pytest.mark.parametrize("threshold", [2, 5])
def test_threshold_reward_rate_matches_mm1k(threshold):
    lam, mu, R, h = 1.0, 1.2, 10.0, 1.0
    rates = []
    for r in range(8):
        sim = Simulation(seed=100 + r)
        q = AdmissionQueue(sim, lam, mu, 1, 20, R, h, policy=lambda n, t=threshold: n < t)
        sim.run(until=500.0)
        sim.metrics.reset()
        sim.run(until=5_500.0)
        rates.append(q.reward_so_far() / 5_000.0)
    mean, half = np.mean(rates), 2.365 * np.std(rates, ddof=1) / np.sqrt(len(rates))
    assert abs(mean - threshold_reward_rate(lam, mu, threshold, R, h)) < half


def test_threshold_baseline_beats_accept_all_and_random():
    env = gym.make(ENV_ID, horizon=300.0)
    pol = env.unwrapped.baseline_policies()
    ret = {k: np.mean([rollout(env, pol[k], s)[0] for s in range(5)]) for k in pol}
    assert ret["threshold"] > ret["accept_all"] and ret["threshold"] > ret["random"]
    assert best_threshold(0.9, 1.0, 10.0, 1.0, 20) == env.unwrapped.threshold() == 4


def test_default_is_contested_and_old_default_is_a_preset():
    """Issue 12: at the default, Naor's selfish rule sits strictly between random and the
    threshold oracle over 40 common-random-number episodes (paired differences, 95 % CI).
    Run on the batched env, which is bit-identical to the scalar one (tests/envs)."""
    from scipy import stats

    env = gym.make(ENV_ID).unwrapped
    t, s = env.threshold(), env.selfish_threshold()
    rules = {"random": None, "selfish": lambda o: o < s, "threshold": lambda o: o < t}
    ret = {}
    for name, rule in rules.items():
        vec = gym.make_vec(ENV_ID, num_envs=40, vectorization_mode="vector_entry_point")
        obs, _ = vec.reset(seed=0)
        rng, total, done = np.random.default_rng(1), np.zeros(40), np.zeros(40, dtype=bool)
        while not done.all():
            act = rng.integers(2, size=40) if rule is None else rule(obs).astype(int)
            obs, r, term, trunc, _ = vec.step(act)
            total += np.where(done, 0.0, r)
            done |= term | trunc
        ret[name] = total
    for hi, lo in (("selfish", "random"), ("threshold", "selfish")):
        d = ret[hi] - ret[lo]
        half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
        assert d.mean() - half > 0, (hi, lo, d.mean(), half)
    old = gym.make(ENV_ID, preset="rho1").unwrapped.config
    assert (old.arrival_rate, old.horizon) == (1.0, 200.0)
