"""SimEnv's epoch logic on two toy envs: event-driven (with a model-ended episode) and
fixed-interval."""

import gymnasium as gym
import pytest
from pydantic import Field

from netsim import Config, SimEnv


class _Cfg(Config):
    horizon: float = Field(100.0, gt=0)
    decisions: int = 3


class Countdown(SimEnv):
    """The model asks for a decision every 2 s, ``decisions`` times, then finishes."""

    config_cls = _Cfg

    def __init__(self, config=None, render_mode=None, **kw):
        super().__init__(config, render_mode, **kw)
        self.action_space = gym.spaces.Discrete(3)
        self.observation_space = gym.spaces.Discrete(100)

    def _setup(self, sim, options):
        self.got = []

        def model():
            for _ in range(self.config.decisions):
                yield sim.timeout(2.0)
                self.got.append((yield self.decisions.request(sim.now)))
            yield sim.timeout(1.0)
            self.decisions.finish()

        sim.process(model())

    def _apply(self, action):
        self.decisions.respond(int(action))

    def _observe(self):
        return int(self.sim.now)

    def _reward(self):
        return float(self.got[-1]) if self.got else 0.0


class Ticker(Countdown):
    decision_interval = 4.0

    def _setup(self, sim, options):
        self.got = []

    def _apply(self, action):
        self.got.append(int(action))


def test_event_driven_epochs_and_model_ended_episode():
    env = Countdown()
    obs, _ = env.reset(seed=0)
    assert obs == 2 and env.decisions.waiting
    out = [env.step(a) for a in (1, 2, 0)]
    assert [o[0] for o in out] == [4, 6, 7]
    assert [(o[2], o[3]) for o in out] == [(False, False), (False, False), (True, False)]
    assert env.got == [1, 2, 0]
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


def test_event_driven_truncates_at_horizon():
    env = Countdown(horizon=5.0)
    env.reset(seed=0)
    obs, _, term, trunc, _ = env.step(1)
    assert obs == 4 and not (term or trunc)
    obs, _, term, trunc, _ = env.step(1)
    assert obs == 5 and trunc and not term and env.sim.now == 5.0


def test_fixed_interval_epochs():
    env = Ticker(horizon=10.0)
    assert env.reset(seed=0)[0] == 0
    results = [env.step(1) for _ in range(3)]
    assert [r[0] for r in results] == [4, 8, 10]
    assert [r[3] for r in results] == [False, False, True]
