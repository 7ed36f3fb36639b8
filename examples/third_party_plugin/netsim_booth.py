"""netsim_booth: an example third-party plugin (one scenario, one env) for netsim.

A ticket booth: customers arrive as a Poisson process and queue for one clerk, who works
slowly (rate ``slow_rate``) or fast (``fast_rate``, costing ``fast_cost`` per second). The
scenario ``booth`` measures the mean queue at each fixed speed; the env ``booth/Booth-v0``
lets an agent switch the speed once per second (reward: −(number in system + fast cost)).
Everything is built from netsim's public API; netsim finds both through the entry points in
``pyproject.toml``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
from pydantic import Field

from netsim import Config, RunContext, Scenario, SimEnv, Simulation
from netsim.rng import Buffered

ENV_ID = "booth/Booth-v0"


class BoothConfig(Config):
    arrival_rate: float = Field(0.8, gt=0, description="customer arrivals (1/s)")
    slow_rate: float = Field(0.9, gt=0, description="service rate of the slow clerk (1/s)")
    fast_rate: float = Field(2.0, gt=0, description="service rate of the fast clerk (1/s)")
    fast_cost: float = Field(1.0, ge=0, description="cost of working fast (per s)")
    horizon: float = Field(200.0, gt=0, description="simulated time (s)")


class Booth:
    """The model: a single-server queue on ``sim`` whose service speed can change."""

    def __init__(self, sim: Simulation, cfg: BoothConfig):
        self.sim, self.cfg, self.fast = sim, cfg, False
        gen_a, gen_s = sim.rng("arrivals"), sim.rng("work")
        self._gap = Buffered(lambda n: gen_a.exponential(1.0 / cfg.arrival_rate, n))
        self._work = Buffered(lambda n: gen_s.exponential(1.0, n))  # work in units of 1/rate
        self.queue = sim.metrics.level("number_in_system")
        self._clerk = sim.env.event()
        sim.process(self._arrivals())
        sim.process(self._serve())

    def _arrivals(self):
        while True:
            yield self.sim.timeout(self._gap())
            self.queue.add(1)
            if not self._clerk.triggered:
                self._clerk.succeed()

    def _serve(self):
        while True:
            if self.queue.value == 0:
                self._clerk = self.sim.env.event()
                yield self._clerk
            rate = self.cfg.fast_rate if self.fast else self.cfg.slow_rate
            yield self.sim.timeout(self._work() / rate)
            self.queue.add(-1)


def run(cfg: BoothConfig, ctx: RunContext) -> pd.DataFrame:
    """One replication per clerk speed: the time-average number in the booth."""
    rows = []
    for fast in (False, True):
        sim = Simulation(seed=ctx.seed)
        booth = Booth(sim, cfg)
        booth.fast = fast
        sim.run(until=cfg.horizon)
        rows.append(("fast" if fast else "slow", "number_in_system", booth.queue.time_average()))
    return pd.DataFrame(rows, columns=["speed", "metric", "value"])


SCENARIO = Scenario(name="booth", schema=BoothConfig, run=run,
                    description="example plugin: a ticket booth at two clerk speeds")


class BoothEnv(SimEnv):
    """Choose the clerk's speed every second (0 = slow, 1 = fast); observe the queue."""

    config_cls = BoothConfig
    decision_interval = 1.0

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Box(0.0, 1e4, shape=(1,), dtype=np.float32)

    def _setup(self, sim, options):
        self.booth = Booth(sim, self.config)
        self.cost = 0.0

    def _apply(self, action):
        self.booth.fast = bool(action)
        self.cost += self.config.fast_cost * self.decision_interval * bool(action)

    def _observe(self):
        return np.array([min(self.booth.queue.value, 1e4)], dtype=np.float32)

    def _reward_total(self):
        q = self.booth.queue
        held = q._area + q.value * (self.sim.now - q._t_last)
        return -(held + self.cost)


def register() -> None:
    """Register ``booth/Booth-v0`` (idempotent); netsim calls this through the entry point."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point=BoothEnv)
