"""Queueing networks as processes on the engine: Poisson arrivals through FIFO stations in
series, each with ``c`` identical servers (``simpy.Resource``).

Recorded per station ``i``: ``wait.i`` and ``sojourn.i`` (series, s), ``queue_length.i``,
``number_in_system.i`` and ``busy.i`` (time-weighted levels); end to end: ``sojourn``.
"""

from __future__ import annotations

from collections.abc import Sequence

import simpy

from netsim import Simulation
from netsim.rng import Buffered

__all__ = ["QueueNetwork"]


def _sampler(sim: Simulation, name: str, mean: float, service: str):
    if service == "deterministic":
        return lambda: mean
    gen = sim.rng(name)
    return Buffered(lambda n: gen.exponential(mean, n))


class QueueNetwork:
    """Poisson(λ) arrivals through stations ``(servers, service_rate)`` in series.

    Args:
        sim: the simulation to run on.
        arrival_rate: λ (1/s).
        stations: per station (c, μ) with μ the service rate of one server (1/s).
        service: ``"exponential"`` (M/M/c) or ``"deterministic"`` (M/D/c).
    """

    def __init__(
        self,
        sim: Simulation,
        arrival_rate: float,
        stations: Sequence[tuple[int, float]],
        service: str = "exponential",
    ):
        self.sim = sim
        env = sim.env
        self.resources = [simpy.Resource(env, capacity=c) for c, _ in stations]
        self._interarrival = _sampler(sim, "arrivals", 1.0 / arrival_rate, "exponential")
        self._service = [
            _sampler(sim, f"service.{i}", 1.0 / mu, service) for i, (_, mu) in enumerate(stations)
        ]
        m = sim.metrics
        n = range(len(stations))
        self.wait = [m.timeseries(f"wait.{i}") for i in n]
        self.station_sojourn = [m.timeseries(f"sojourn.{i}") for i in n]
        self.sojourn = m.timeseries("sojourn")
        self.queue_length = [m.level(f"queue_length.{i}") for i in n]
        self.in_system = [m.level(f"number_in_system.{i}") for i in n]
        self.busy = [m.level(f"busy.{i}") for i in n]
        sim.process(self._source())

    def _source(self):
        env = self.sim.env
        while True:
            yield env.timeout(self._interarrival())
            env.process(self._customer())

    def _customer(self):
        env = self.sim.env
        t_enter = env.now
        for i, res in enumerate(self.resources):
            t_arrive = env.now
            self.in_system[i].add(1)
            self.queue_length[i].add(1)
            with res.request() as req:
                yield req
                self.queue_length[i].add(-1)
                self.busy[i].add(1)
                self.wait[i].record(env.now - t_arrive)
                yield env.timeout(self._service[i]())
                self.busy[i].add(-1)
            self.in_system[i].add(-1)
            self.station_sojourn[i].record(env.now - t_arrive)
        self.sojourn.record(env.now - t_enter)
