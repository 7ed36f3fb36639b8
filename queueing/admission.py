"""Admission control to an M/M/c/K queue (Naor 1969; Stidham 1985).

Each arriving customer is accepted (revenue ``R``) or rejected; every customer in the system
costs ``h`` per second. The long-run reward rate of a policy is ``R·λ_admitted − h·L``. Among
stationary policies a threshold ("accept while n < T") is optimal; for c = 1 its reward rate
is the M/M/1/T closed form, see :func:`threshold_reward_rate`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from netsim import DecisionPoint, Simulation
from netsim.rng import Buffered

from .theory import mm1k

__all__ = ["AdmissionQueue", "threshold_reward_rate", "best_threshold"]


class AdmissionQueue:
    """M/M/c queue with at most ``capacity`` customers, admission decided per arrival.

    Decisions come from ``decisions`` (a :class:`~netsim.DecisionPoint`: the model waits for
    an agent) or, without one, from ``policy(n_in_system) -> bool``.
    """

    def __init__(
        self,
        sim: Simulation,
        arrival_rate: float,
        service_rate: float,
        servers: int = 1,
        capacity: int = 20,
        revenue: float = 10.0,
        holding_cost: float = 1.0,
        decisions: DecisionPoint | None = None,
        policy: Callable[[int], bool] | None = None,
    ):
        if decisions is None and policy is None:
            raise ValueError("give either decisions or policy")
        self.sim = sim
        self.servers = servers
        self.capacity = capacity
        self.revenue = revenue
        self.holding_cost = holding_cost
        self.decisions = decisions
        self.policy = policy
        ga, gs = sim.rng("arrivals"), sim.rng("service")
        self._interarrival = Buffered(lambda n: ga.exponential(1.0 / arrival_rate, n))
        self._service = Buffered(lambda n: gs.exponential(1.0 / service_rate, n))
        m = sim.metrics
        self.in_system = m.level("number_in_system")
        self.accepted = m.counter("accepted")
        self.rejected = m.counter("rejected")
        self.blocked = m.counter("blocked")
        self._waiting: list = []  # FIFO of events of customers waiting for a server
        self._busy = 0
        sim.process(self._source())

    @property
    def n(self) -> int:
        return int(self.in_system.value)

    def holding_area(self) -> float:
        """∫ n(t) dt since the last metrics reset (customer-seconds)."""
        lv = self.in_system
        return lv._area + lv.value * (self.sim.now - lv._t_last)

    def reward_so_far(self) -> float:
        """R·accepted − h·∫n dt since the last metrics reset."""
        return self.revenue * self.accepted.value - self.holding_cost * self.holding_area()

    def _source(self):
        env = self.sim.env
        while True:
            yield env.timeout(self._interarrival())
            n = self.n
            if n >= self.capacity:
                self.blocked.add()
                continue
            if self.decisions is not None:
                accept = yield self.decisions.request(n)
            else:
                accept = self.policy(n)
            if accept:
                self.accepted.add()
                self.in_system.add(1)
                env.process(self._customer())
            else:
                self.rejected.add()

    def _customer(self):
        env = self.sim.env
        if self._busy >= self.servers:
            ev = env.event()
            self._waiting.append(ev)
            yield ev  # a departing customer hands its server over
        else:
            self._busy += 1
        yield env.timeout(self._service())
        self.in_system.add(-1)
        if self._waiting:
            self._waiting.pop(0).succeed()
        else:
            self._busy -= 1


def threshold_reward_rate(
    arrival_rate: float, service_rate: float, threshold: int, revenue: float, holding_cost: float
) -> float:
    """Long-run reward rate of "accept while n < T" for one server: the system is M/M/1/T,
    so the rate is ``R·λ(1 − p_T) − h·L_T`` (T = 0 rejects everyone: rate 0)."""
    if threshold == 0:
        return 0.0
    p_block, m = mm1k(arrival_rate, service_rate, threshold)
    return revenue * arrival_rate * (1.0 - p_block) - holding_cost * m.number_in_system


def best_threshold(
    arrival_rate: float, service_rate: float, revenue: float, holding_cost: float, capacity: int
) -> int:
    """The reward-rate-maximising threshold in 0..capacity (single server)."""
    rates = [
        threshold_reward_rate(arrival_rate, service_rate, t, revenue, holding_cost)
        for t in range(capacity + 1)
    ]
    return int(np.argmax(rates))
