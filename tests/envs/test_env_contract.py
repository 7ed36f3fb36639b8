"""The Gymnasium contract, checked uniformly for every registered netsim env:

* Gymnasium's and SB3's env checkers pass;
* ``reset(seed=s)`` fixes the whole multi-step trajectory (``check_env`` tests one step only);
* observations stay inside the observation space, with actions drawn from the (masked)
  action space;
* ``gym.make_vec`` works, and SB3's ``make_vec_env`` (which passes ``render_mode="rgb_array"``)
  builds and renders.
"""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env

from envs import ENVS

#: big-world ids (the 1,024-GPU fabric, the 42-BS city, the full LEO shells): 10-40 s each
#: here, so the default run checks their small siblings and ``-m slow`` checks these too
HEAVY = ("-1024-v0", "-City-v0", "SatelliteHandover-LEO-v0")
IDS = [pytest.param(i, marks=pytest.mark.slow) if i.endswith(HEAVY) else i for i in sorted(ENVS)]
STEPS = 40


def _flatten(x):
    if isinstance(x, dict):
        return tuple((k, _flatten(v)) for k, v in sorted(x.items()))
    if isinstance(x, tuple | list):
        return tuple(_flatten(v) for v in x)
    a = np.asarray(x)
    return (a.dtype.str, a.shape, a.tobytes())


def _action(env, rng):
    space = env.action_space
    masks = getattr(env.unwrapped, "action_masks", None)
    if masks is not None and isinstance(space, gym.spaces.Discrete):
        valid = np.flatnonzero(masks())
        return int(valid[rng.integers(len(valid))])
    return space.sample()


def _trajectory(env_id, seed):
    env = gym.make(env_id)
    env.action_space.seed(seed)
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    out = [_flatten(obs)]
    for _ in range(STEPS):
        assert env.observation_space.contains(obs), f"{env_id}: observation left its space"
        obs, reward, term, trunc, info = env.step(_action(env, rng))
        out.append((_flatten(obs), float(reward), term, trunc))
        if term or trunc:
            obs, info = env.reset()
            out.append(_flatten(obs))
    env.close()
    return out


@pytest.mark.parametrize("env_id", IDS)
def test_checkers(env_id):
    check_env(gym.make(env_id).unwrapped, skip_render_check=True)
    sb3_check_env(gym.make(env_id).unwrapped, warn=False)


@pytest.mark.parametrize("env_id", IDS)
def test_multi_step_determinism_and_spaces(env_id):
    assert _trajectory(env_id, 11) == _trajectory(env_id, 11)


@pytest.mark.parametrize("env_id", IDS)
def test_vector_envs(env_id):
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync")
    vec.reset(seed=3)
    vec.step(vec.action_space.sample())
    vec.close()
    sb3_vec = make_vec_env(env_id, n_envs=2, seed=0)
    sb3_vec.reset()
    frames = sb3_vec.get_images()
    assert all(f is not None and f.ndim == 3 for f in frames)
    sb3_vec.close()
