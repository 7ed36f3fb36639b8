"""netsim/EntanglementRouting-v0: the offline optimum bounds every policy on its seed,
sessions release every resource, masks, determinism, bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401 - registers the ids
from envs.entanglement_routing import EntanglementRoutingEnv
from netsim import ConfigError
from netsim.baselines import baselines_for
from netsim.evaluate import rollout

ENV_ID = "netsim/EntanglementRouting-v0"


def test_offline_optimum_bounds_every_policy_on_the_same_seed():
    env = gym.make(ENV_ID, arrivals=4).unwrapped
    bl = baselines_for(ENV_ID)
    for seed in (0, 1, 2):
        best = bl["offline_optimum"].episode(env, seed)
        for name in ("shortest", "highest_rate", "least_loaded", "random"):
            ret, steps = rollout(env, bl[name].policy(env), seed)
            assert steps == 4
            assert ret <= best + 1e-9, (seed, name)


def test_sessions_release_every_qubit_and_channel():
    env = gym.make(ENV_ID, arrivals=20).unwrapped
    obs, _ = env.reset(seed=3)
    done = False
    while not done:
        assert env.observation_space.contains(obs)
        mask = env.action_masks()
        obs, _, term, trunc, info = env.step(int(np.flatnonzero(mask)[-1]))
        done = term or trunc
    assert term and info["requests"] == 20 and info["active"] == 0
    env.sim.run(until=env.sim.now + 1.0)  # let every attempting hop herald
    mem = env.config.network.memories
    assert all(f == mem for f in env.net.free)
    assert all(c == env.config.network.channels for c in env.net.edge_free)


def test_same_seed_same_returns_and_actions_matter():
    env = gym.make(ENV_ID, arrivals=8)
    a = [rollout(env, lambda o: 0, s)[0] for s in range(4)]
    b = [rollout(env, lambda o: 0, s)[0] for s in range(4)]
    c = [rollout(env, lambda o: 1, s)[0] for s in range(4)]
    assert a == b and a != c


def test_bad_input():
    with pytest.raises(ConfigError, match="link_km"):
        EntanglementRoutingEnv(link_km=(10.0, 5.0))
    with pytest.raises(ConfigError, match="k"):
        EntanglementRoutingEnv(k=0)
    env = EntanglementRoutingEnv(arrivals=30, k=3)
    with pytest.raises(ValueError, match="max_sequences"):
        env.offline_optimum(0)
