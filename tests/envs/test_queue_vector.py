"""The native batched QueueAdmission (issue 12 §3): ``gym.make_vec`` returns it, and it is
bit-identical to N independent ``QueueAdmissionEnv`` in Gymnasium's ``SyncVectorEnv`` with the
same seeds (observations, rewards, terminations, truncations, NEXT_STEP autoreset)."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401 - registers the ids
from envs.queue_vector import QueueAdmissionVectorEnv
from netsim import ConfigError

ENV_ID = "netsim/QueueAdmission-v0"


def _pair(n, **kw):
    vec = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **kw)
    ref = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="sync", **kw)
    return vec, ref


@pytest.mark.parametrize(
    ("kw", "steps"),
    [
        ({"horizon": 60.0}, 600),  # many episodes, so autoresets
        ({"servers": 3, "capacity": 5, "arrival_rate": 4.0, "service_rate": 1.1,
          "horizon": 40.0}, 600),
        ({"arrival_rate": 0.02, "horizon": 40.0}, 60),  # episodes without a decision
        ({"horizon": 700.0, "arrival_rate": 1.0}, 700),  # more draws than one buffer block
    ],
)
def test_bit_identical_to_independent_envs(kw, steps):
    vec, ref = _pair(5, **kw)
    assert isinstance(vec, QueueAdmissionVectorEnv)
    rng = np.random.default_rng(0)
    seeds = [3, 4, 5, 6, 99]
    a, b = vec.reset(seed=seeds)[0], ref.reset(seed=seeds)[0]
    assert np.array_equal(a, b)
    ends = 0
    for _ in range(steps):
        act = rng.integers(2, size=5)
        out_v, out_r = vec.step(act), ref.step(act)
        for x, y in zip(out_v[:4], out_r[:4], strict=True):
            assert x.dtype == y.dtype and np.array_equal(x, y)
        assert vec.observation_space.contains(out_v[0])
        ends += int(out_v[3].sum())
    assert ends > 0
    vec.close()
    ref.close()


def test_int_seed_and_reset_mask_follow_sync_vector_env():
    vec, ref = _pair(3, horizon=30.0)
    assert np.array_equal(vec.reset(seed=7)[0], ref.reset(seed=7)[0])
    for _ in range(5):
        vec.step(np.ones(3, dtype=int))
        ref.step(np.ones(3, dtype=int))
    mask = np.array([True, False, True])
    opts = {"reset_mask": mask}
    a = vec.reset(seed=[11, None, 12], options=dict(opts))[0]
    b = ref.reset(seed=[11, None, 12], options=dict(opts))[0]
    assert np.array_equal(a, b)
    for _ in range(40):
        x, y = vec.step(np.ones(3, dtype=int)), ref.step(np.ones(3, dtype=int))
        assert all(np.array_equal(p, q) for p, q in zip(x[:4], y[:4], strict=True))


def test_spaces_presets_and_bad_input():
    vec = gym.make_vec(ENV_ID, num_envs=4, vectorization_mode="vector_entry_point",
                       preset="rho1")
    assert vec.config.arrival_rate == 1.0
    assert vec.single_observation_space == gym.spaces.Discrete(20)
    assert vec.action_space.shape == (4,)
    with pytest.raises(ConfigError, match="num_envs"):
        QueueAdmissionVectorEnv(num_envs=0)
    with pytest.raises(ConfigError, match="unknown key 'capcity'"):
        QueueAdmissionVectorEnv(num_envs=2, capcity=3)
    with pytest.raises(RuntimeError, match="reset"):
        QueueAdmissionVectorEnv(num_envs=2).step(np.zeros(2, dtype=int))
