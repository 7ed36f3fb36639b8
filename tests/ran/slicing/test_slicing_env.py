"""``netsim/OranSlicing-TRACTOR-v0``: Gymnasium/SB3 contracts, masks, invariants, determinism,
configs."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401
from envs.oran_tractor import OranSlicingTractorEnv as OranSlicingEnv
from netsim import ConfigError
from ran.slicing.policies import EXPERT_RBGS, MOVES

ID = "netsim/OranSlicing-TRACTOR-v0"


def make(**kw):
    kw.setdefault("horizon", 3.0)
    return gym.make(ID, **kw)


@pytest.mark.parametrize("kpm_obs", [False, True])
def test_gymnasium_and_sb3_checkers(kpm_obs):
    env = make(kpm_obs=kpm_obs, traffic="commag")
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)


def test_vector_env_and_render():
    vec = gym.make_vec(ID, num_envs=2, vectorization_mode="sync", horizon=1.0)
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (2, 6)
    obs, r, term, trunc, _ = vec.step(np.array([0, 1]))
    assert r.shape == (2,) and not term.any()
    vec.close()
    env = make(render_mode="ansi")
    env.reset(seed=0)
    env.step(0)
    assert "reward=" in env.render()


def trajectory(seed, actions, **kw):
    env = make(**kw)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out += [obs, r, info["rbgs"], info["score_embb"]]
    return out


def test_same_seed_same_trajectory():
    acts = [1, 4, 0, 6, 2, 5, 3, 0, 0, 4, 1, 2]
    a = trajectory(7, acts, kpm_obs=True)
    b = trajectory(7, acts, kpm_obs=True)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = trajectory(8, acts, kpm_obs=True)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_masked_actions_never_change_the_split():
    env = make(rbgs=(1, 1, 15), horizon=5.0)
    env.reset(seed=0)
    u = env.unwrapped
    mask = u.action_masks()
    assert mask.tolist() == [True, False, False, False, False, True, True]
    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = u.action_masks()
        a = int(rng.integers(7))
        before = tuple(u.gnb.rbgs)
        env.step(a)
        if not mask[a]:
            assert tuple(u.gnb.rbgs) == before


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=12), st.integers(0, 2**16))
def test_split_stays_valid_under_any_actions(actions, seed):
    env = make(horizon=3.0, traffic="commag")
    obs, _ = env.reset(seed=seed)
    space = env.observation_space
    for a in actions:
        before = env.unwrapped.gnb.rbgs.copy()
        obs, r, term, trunc, _ = env.step(a)
        rbgs = env.unwrapped.gnb.rbgs
        assert rbgs.sum() == 17 and (rbgs >= 1).all()
        assert np.abs(rbgs - before).sum() in (0, 2)
        assert space.contains(obs) and 0.0 <= r <= 1.0
        if trunc:
            break


def test_action_meaning_and_observation():
    env = make(users=(2, 1, 3), rbgs=(5, 5, 7))
    obs, _ = env.reset(seed=1)
    np.testing.assert_array_equal(obs, [2, 1, 3, 5, 5, 7])
    for a, (donor, receiver) in MOVES.items():
        env.reset(seed=1)
        obs, *_ = env.step(a)
        expected = np.array([5, 5, 7])
        expected[donor] -= 1
        expected[receiver] += 1
        np.testing.assert_array_equal(obs[3:], expected)


def test_episode_length_and_user_combos():
    env = make(horizon=2.0, user_combos=[[1, 1, 1], [0, 2, 5]])
    seen = set()
    for seed in range(8):
        obs, _ = env.reset(seed=seed)
        seen.add(tuple(int(x) for x in obs[:3]))
        steps, done = 0, False
        while not done:
            *_, term, trunc, _ = env.step(0)
            steps += 1
            done = term or trunc
        assert steps == 8 and trunc and not term
    assert seen == {(1, 1, 1), (0, 2, 5)}


def test_expert_reaches_its_split():
    env = make(rbgs=(13, 2, 2), horizon=4.0)
    obs, _ = env.reset(seed=0)
    expert = env.unwrapped.baseline_policies()["expert"]
    for _ in range(10):
        obs, *_ = env.step(expert(obs))
    np.testing.assert_array_equal(obs[3:], EXPERT_RBGS)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"embb_rate_mbps": -1.0}, "embb_rate_mbps"),
        ({"users": [11, 1, 1]}, "users"),
        ({"rbgs": [3, 5, 8]}, "sum to 17"),
        ({"schedulers": ["rr", "edf", "pf"]}, "schedulers"),
        ({"user_combos": [[0, 0, 0]]}, "user_combos"),
        ({"horizon": 0}, "horizon"),
        ({"distance": "moon"}, "distance"),
    ],
)
def test_invalid_configs_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message) as err:
        OranSlicingEnv(**kwargs)
    assert "\n" not in str(err.value)
