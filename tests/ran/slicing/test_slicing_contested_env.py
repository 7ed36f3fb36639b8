"""``netsim/OranSlicing-v0`` (the contested cell): config errors, the batched VectorEnv's
bit-identity with N single envs, and the registered baselines."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from envs.oran import OranSlicingEnv, baselines, proportional_split
from envs.oran_vector import OranSlicingVectorEnv
from netsim.baselines import baselines_for
from netsim.errors import ConfigError
from ran.slicing.fluid import SPLITS, split_index

ID = "netsim/OranSlicing-v0"


def test_vector_entry_point_is_bit_identical_to_sync_envs():
    """Same seeds, same actions, across two autoresets (200-step episodes, NEXT_STEP mode)."""
    n = 3
    vec = gym.make_vec(ID, num_envs=n, vectorization_mode="vector_entry_point")
    assert isinstance(vec.unwrapped, OranSlicingVectorEnv)
    ref = gym.make_vec(ID, num_envs=n, vectorization_mode="sync")
    rng = np.random.default_rng(0)
    for seed in (7, [3, 1, 4]):
        o1, _ = vec.reset(seed=seed)
        o2, _ = ref.reset(seed=seed)
        np.testing.assert_array_equal(o1, o2)
        for _ in range(420):
            a = rng.integers(0, 120, n)
            for x, y in zip(vec.step(a)[:4], ref.step(a)[:4], strict=True):
                np.testing.assert_array_equal(x, y)
    assert vec.observation_space.contains(o1)
    vec.close()
    ref.close()


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="horizon"):
        OranSlicingEnv(horizon=1.05)
    with pytest.raises(ConfigError, match="rbgs"):
        OranSlicingEnv(rbgs=(5, 5, 5))
    with pytest.raises(ConfigError, match="embb_rate_mbps"):
        OranSlicingEnv(embb_rate_mbps=(5.0, 1.0))
    with pytest.raises(ConfigError, match="users"):
        OranSlicingEnv(users=(0, 0, 0))


def test_episode_length_and_info():
    env = gym.make(ID, horizon=1.0)
    env.reset(seed=0)
    steps, done = 0, False
    while not done:
        _, r, term, trunc, info = env.step(split_index((2, 4, 11)))
        steps += 1
        done = term or trunc
        assert 0 <= r <= 1 and info["rbgs"] == (2, 4, 11)
    assert steps == 10 and not term
    assert {"score_urllc", "delay_ms_embb", "lost_kbit_urllc"} <= set(info)


def test_baselines_are_registered():
    names = baselines_for(ID)
    assert {"random", "expert", "mmtc1", "proportional", "best_fixed", "oracle",
            "maskable_ppo"} <= set(names)
    assert len(names["best_fixed"].candidates) == 120
    kinds = {b.name: b.kind for b in baselines()}
    assert kinds["oracle"] == "oracle" and kinds["best_fixed"] == "hindsight"


def test_proportional_split_follows_the_need():
    obs = np.zeros(18)
    obs[15:18] = 100.0  # same channel quality
    obs[3:6] = (0.5, 2.0, 6.0)  # offered Mbit/s: 5, 20 and 60 PRBs a TTI
    split = SPLITS[proportional_split(obs)]
    assert tuple(split) == (1, 4, 12)
    assert tuple(SPLITS[proportional_split(np.zeros(18))]) == (3, 5, 9)


def test_oracle_beats_every_fixed_split_step_by_step():
    """The one-step oracle's reward is the best of the 120 splits at every step (same random
    numbers), so its return is at least that of the best fixed split on the same seed."""
    env = gym.make(ID, horizon=3.0)
    oracle = baselines_for(ID)["oracle"].policy(env.unwrapped)
    returns = {}
    for name, act in [("oracle", oracle), ("fixed", lambda _o: split_index((2, 3, 12)))]:
        obs, _ = env.reset(seed=4)
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, _ = env.step(act(obs))
            total += r
            done = term or trunc
        returns[name] = total
    assert returns["oracle"] >= returns["fixed"]
