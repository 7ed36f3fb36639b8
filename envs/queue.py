"""Admission control to a finite M/M/c queue.

## Description
Customers arrive as a Poisson process to ``servers`` exponential servers with room for
``capacity`` customers in total. At every arrival that finds room the agent accepts
(earning ``revenue``) or rejects the customer; each customer in the system costs
``holding_cost`` per simulated second. Arrivals that find the system full are blocked
without a decision. The optimal policy is a threshold (Naor 1969; Stidham 1985).

## Action Space
``Discrete(2)``: 0 = reject, 1 = accept the arriving customer.

## Observation Space
``Discrete(capacity)``: the number of customers in the system seen by the arrival
(0 .. capacity - 1; at the horizon it may show a full system clipped to capacity - 1).

## Rewards
``revenue`` per accepted customer minus ``holding_cost · ∫ n(t) dt`` over the time until the
next decision, so the episode return is the reward earned over the horizon.

## Starting State
An empty system at t = 0; the first step answers the first arrival.

## Episode End
Truncated when the simulated clock reaches ``horizon`` seconds; never terminated.

## Arguments
``arrival_rate`` (1/s, default 0.9), ``service_rate`` (1/s per server, 1.0), ``servers`` (1),
``capacity`` (20), ``revenue`` (10), ``holding_cost`` (1 per customer-second), ``horizon``
(s, default 1000). Named presets (``gym.make(id, preset=NAME)``, ``netsim show ID``):
``rho1`` is the default before issue 12 (``arrival_rate=1.0, horizon=200``).

``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` returns the native
batched :class:`envs.queue_vector.QueueAdmissionVectorEnv`, bit-identical to N copies of this
env with the same seeds.

## Baselines
``threshold`` (oracle): accept while n < T*, T* maximising the M/M/1/T reward rate (Naor 1969;
single server) or ``servers + 1`` otherwise; ``selfish`` (heuristic): Naor's individually
optimal rule, accept while ``revenue >= holding_cost · (n + 1) / (servers · service_rate)``;
``accept_all``; ``random``. See :func:`baselines`.

Contested at the default (200 episodes, seeds 0..199, common random numbers; returns with 95 %
CIs): random 3690 ± 24, accept_all 2684 ± 191, selfish 4616 ± 68 (normalised 0.44),
threshold 5791 ± 32; paired gaps selfish − random 926 ± 70 and threshold − selfish 1175 ± 53.
``netsim bench netsim/QueueAdmission-v0 --seeds 10 --skip-learned``: selfish 0.48
normalised, gap to random 1005 [516, 1494], gap to the oracle 1090 [677, 1503]: contested.
Under the ``rho1`` preset (the old default) the same bench gives selfish 0.14 with its gap to
random, 55 [−112, 223], inside the CI (not contested), hence the new default. The learned
agent (DQN, 50k steps) has not been benchmarked against these here.

## Version History
v0: initial version. Issue 12 changed the default ``arrival_rate`` from 1.0 to 0.9 and
``horizon`` from 200 to 1000 s (the old default is preset ``rho1``); the dynamics and the
random draws are unchanged.
"""

from __future__ import annotations

import gymnasium as gym
from pydantic import Field

from netsim import Config, SimEnv, Simulation
from netsim.baselines import Baseline, env_policy
from queueing.admission import AdmissionQueue, best_threshold


class QueueAdmissionConfig(Config):
    arrival_rate: float = Field(0.9, gt=0, description="Poisson arrival rate (1/s)")
    service_rate: float = Field(1.0, gt=0, description="service rate per server (1/s)")
    servers: int = Field(1, ge=1, le=64)
    capacity: int = Field(20, ge=1, le=1000, description="places in the system")
    revenue: float = Field(10.0, ge=0, description="reward per accepted customer")
    holding_cost: float = Field(1.0, ge=0, description="cost per customer-second")
    horizon: float = Field(1000.0, gt=0, description="episode length (s)")


class QueueAdmissionEnv(SimEnv):
    config_cls = QueueAdmissionConfig
    #: the default before issue 12, where Naor's selfish rule was barely above random
    presets = {"rho1": {"arrival_rate": 1.0, "horizon": 200.0}}

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Discrete(self.config.capacity)
        self.model: AdmissionQueue | None = None

    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        self.model = AdmissionQueue(
            sim, c.arrival_rate, c.service_rate, c.servers, c.capacity,
            c.revenue, c.holding_cost, decisions=self.decisions,
        )

    def _apply(self, action) -> None:
        self.decisions.respond(bool(action))

    def _observe(self) -> int:
        return min(self.model.n, self.config.capacity - 1)

    def _reward_total(self) -> float:
        return self.model.reward_so_far()

    def _info(self) -> dict:
        m = self.model
        return {
            "n_in_system": m.n,
            "accepted": int(m.accepted.value),
            "rejected": int(m.rejected.value),
            "blocked": int(m.blocked.value),
        }

    def threshold(self) -> int:
        c = self.config
        if c.servers == 1:
            return best_threshold(
                c.arrival_rate, c.service_rate, c.revenue, c.holding_cost, c.capacity
            )
        return min(c.servers + 1, c.capacity)

    def selfish_threshold(self) -> int:
        """Naor's individually optimal threshold: join while the expected cost of one's own
        sojourn, ``holding_cost · (n + 1) / (servers · service_rate)``, is at most the revenue."""
        c = self.config
        if c.holding_cost == 0:
            return c.capacity
        return int(c.revenue * c.servers * c.service_rate / c.holding_cost)

    def baseline_policies(self):
        t, s = self.threshold(), self.selfish_threshold()
        return {
            "threshold": lambda obs: int(obs < t),
            "selfish": lambda obs: int(obs < s),
            "accept_all": lambda obs: 1,
            **super().baseline_policies(),
        }


def baselines() -> list[Baseline]:
    """The QueueAdmission-v0 policies scored by ``netsim bench``."""
    return [
        Baseline("accept_all", "heuristic", policy=env_policy("accept_all"),
                 description="accept every arrival that finds room"),
        Baseline("selfish", "heuristic", policy=env_policy("selfish"),
                 description="Naor's individually optimal threshold"),
        Baseline("threshold", "oracle", policy=env_policy("threshold"),
                 description="socially optimal threshold, M/M/1/T closed form (Naor 1969)"),
        Baseline("dqn", "learned", algo="DQN", timesteps=50_000),
    ]
