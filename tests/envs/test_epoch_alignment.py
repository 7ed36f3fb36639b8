"""Observation and reward describe the same decision epoch, for every registered env.

``SimEnv.step`` advances the engine, calls ``_end_epoch`` (the model closes the epoch's
statistics), then ``_observe`` and ``_reward``. The spy below records, at each of those calls,
the simulated time and SimPy's event-id counter (which grows with every scheduled event): no
event may be scheduled and no time may pass between ``_end_epoch``, ``_observe`` and
``_reward``, and ``_end_epoch`` must come first. The order of ``_observe`` and ``_reward`` is
free, so an env whose reward reads the next epoch's state would fail the time check.
"""

import gymnasium as gym
import numpy as np
import pytest

from envs import ENVS
from netsim import SimEnv

IDS = sorted(ENVS)
HOOKS = ("_end_epoch", "_observe", "_reward")


def _clock(env):
    sim = env.sim
    return (sim.now, sim.env._eid)


def _spy(env, calls):
    for name in HOOKS:
        original = getattr(env, name)

        def wrapped(*a, _name=name, _orig=original, **k):
            calls.append((_name, _clock(env)))
            return _orig(*a, **k)

        setattr(env, name, wrapped)


@pytest.mark.parametrize("env_id", IDS)
def test_observation_and_reward_from_one_epoch(env_id):
    env = gym.make(env_id)
    base = env.unwrapped
    if not isinstance(base, SimEnv):
        pytest.skip("not a SimEnv")
    rng = np.random.default_rng(0)
    env.reset(seed=3)
    calls: list = []
    _spy(base, calls)
    masks = getattr(base, "action_masks", None)
    for _ in range(6):
        calls.clear()
        if callable(masks):
            action = int(rng.choice(np.flatnonzero(masks())))
        else:
            action = env.action_space.sample()
        _, _, term, trunc, _ = env.step(action)
        names = [c[0] for c in calls]
        assert names[0] == "_end_epoch", f"{env_id}: step called {names}"
        assert set(names) >= set(HOOKS)
        clocks = {c[1] for c in calls}
        assert len(clocks) == 1, f"{env_id}: time or events moved between {calls}"
        if term or trunc:
            break
    env.close()
