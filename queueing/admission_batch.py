"""N independent M/M/c/K admission-control queues stepped together in numpy.

The same model as :class:`queueing.admission.AdmissionQueue` on the engine, written as an
event loop over arrays so that one call advances N copies to their next decision epochs. It
reproduces the engine model bit for bit: each copy draws its interarrival times from the
stream ``"arrivals"`` and its service times from ``"service"`` of its run seed
(:func:`netsim.rng.stream`), in the same order (interarrivals in arrival order, service times
in order of service start, FIFO), and it accumulates time and the holding-cost integral with
the same floating-point operations as SimPy's clock and :class:`netsim.metrics.Level`:

* an event at ``t`` is processed when ``t`` is below the horizon (an event exactly at the
  horizon is not, as in ``SimEnv``, whose horizon timeout is scheduled first);
* a level change at ``t`` adds ``value · (t − t_last)`` to the area; the reward total is
  ``R · accepted − h · (area + value · (now − t_last))``.

Between two decisions a copy sees departures (``d < next arrival``) and blocked arrivals (a
full system); ties between event times have probability zero and are not specified.
"""

from __future__ import annotations

import numpy as np

from netsim.rng import stream

__all__ = ["AdmissionBatch"]


class _Draws:
    """Per-copy exponential draws from named streams, served from (N, block) buffers."""

    def __init__(self, n: int, scale: float, name: str, block: int):
        self.scale, self.name, self.block = scale, name, block
        self.buf = np.zeros((n, block))
        self.pos = np.full(n, block, dtype=np.int64)
        self.gens: list[np.random.Generator | None] = [None] * n

    def reseed(self, i: int, seed: int) -> None:
        self.gens[i] = stream(seed, self.name)
        self.pos[i] = self.block

    def take(self, envs: np.ndarray) -> np.ndarray:
        """One draw for each env in ``envs`` (distinct indices)."""
        pos = self.pos[envs]
        for i in envs[pos >= self.block]:
            self.buf[i] = self.gens[i].exponential(self.scale, self.block)
            self.pos[i] = 0
        pos = self.pos[envs]
        self.pos[envs] = pos + 1
        return self.buf[envs, pos]


class AdmissionBatch:
    """N admission-control queues, each paused at a decision epoch or at the horizon.

    Args:
        n: number of copies.
        arrival_rate, service_rate, servers, capacity, revenue, holding_cost, horizon: as in
            :class:`queueing.admission.AdmissionQueue` (rates 1/s, horizon in seconds).
        block: draws buffered per copy and stream (does not change the draws).
    """

    def __init__(
        self,
        n: int,
        arrival_rate: float,
        service_rate: float,
        servers: int,
        capacity: int,
        revenue: float,
        holding_cost: float,
        horizon: float,
        block: int = 256,
    ):
        self.n = n
        self.servers, self.capacity = int(servers), int(capacity)
        self.revenue, self.holding_cost = float(revenue), float(holding_cost)
        self.horizon = float(horizon)
        self._arrivals = _Draws(n, 1.0 / arrival_rate, "arrivals", block)
        self._service = _Draws(n, 1.0 / service_rate, "service", block)
        self.now = np.zeros(n)
        self.t_arrival = np.zeros(n)  # time of the next arrival
        self.departures = np.full((n, self.servers), np.inf)  # per server; inf = idle
        self.in_system = np.zeros(n, dtype=np.int64)
        self.busy = np.zeros(n, dtype=np.int64)
        self.level = np.zeros(n)  # number in system as the Level's float value
        self.area = np.zeros(n)
        self.t_last = np.zeros(n)
        self.accepted = np.zeros(n)
        self.rejected = np.zeros(n)
        self.blocked = np.zeros(n)
        self.over = np.zeros(n, dtype=bool)  # at the horizon

    # -- state ----------------------------------------------------------------------------------
    def reset(self, envs: np.ndarray, seeds: list[int]) -> None:
        """Start copies ``envs`` empty at t = 0 with run seeds ``seeds`` and advance each to
        its first decision epoch (or to the horizon)."""
        envs = np.asarray(envs, dtype=np.int64)
        for i, s in zip(envs.tolist(), seeds, strict=True):
            self._arrivals.reseed(i, s)
            self._service.reseed(i, s)
        for a in (self.now, self.area, self.t_last, self.level, self.accepted, self.rejected,
                  self.blocked):
            a[envs] = 0.0
        self.in_system[envs] = 0
        self.busy[envs] = 0
        self.departures[envs] = np.inf
        self.over[envs] = False
        self.t_arrival[envs] = 0.0 + self._arrivals.take(envs)
        self._advance(envs)

    def reward_total(self, envs: np.ndarray) -> np.ndarray:
        """``R · accepted − h · ∫ n dt`` up to now."""
        held = self.area[envs] + self.level[envs] * (self.now[envs] - self.t_last[envs])
        return self.revenue * self.accepted[envs] - self.holding_cost * held

    def observe(self, envs: np.ndarray) -> np.ndarray:
        return np.minimum(self.in_system[envs], self.capacity - 1)

    # -- dynamics -------------------------------------------------------------------------------
    def _change(self, envs: np.ndarray, t: np.ndarray, delta: float) -> None:
        self.area[envs] += self.level[envs] * (t - self.t_last[envs])
        self.t_last[envs] = t
        self.level[envs] = self.level[envs] + delta
        self.in_system[envs] += int(delta)

    def decide(self, envs: np.ndarray, accept: np.ndarray) -> None:
        """Answer the pending arrival of each copy in ``envs`` and advance it to its next
        decision epoch or the horizon."""
        envs = np.asarray(envs, dtype=np.int64)
        accept = np.asarray(accept, dtype=bool)
        t = self.now[envs]
        yes, t_yes = envs[accept], t[accept]
        self.rejected[envs[~accept]] += 1.0
        if yes.size:
            self.accepted[yes] += 1.0
            self._change(yes, t_yes, 1.0)
            free = self.busy[yes] < self.servers
            start, t_start = yes[free], t_yes[free]
            if start.size:
                slot = np.argmax(np.isinf(self.departures[start]), axis=1)
                self.departures[start, slot] = t_start + self._service.take(start)
                self.busy[start] += 1
        self.t_arrival[envs] = t + self._arrivals.take(envs)
        self._advance(envs)

    def _advance(self, envs: np.ndarray) -> None:
        """Process departures and blocked arrivals until each copy in ``envs`` reaches an
        arrival that finds room (a decision epoch) or the horizon."""
        h = self.horizon
        act = envs
        while act.size:
            deps = self.departures[act]
            slot = np.argmin(deps, axis=1)
            d = deps[np.arange(act.size), slot]
            ta = self.t_arrival[act]
            is_dep = (d < ta) & (d < h)
            if is_dep.any():
                self._depart(act[is_dep], slot[is_dep], d[is_dep])
            is_arr = ~is_dep & (ta < h)
            arr, t_arr = act[is_arr], ta[is_arr]
            full = self.in_system[arr] >= self.capacity
            if full.any():
                blk = arr[full]
                self.blocked[blk] += 1.0
                self.t_arrival[blk] = t_arr[full] + self._arrivals.take(blk)
            self.now[arr[~full]] = t_arr[~full]
            end = act[~is_dep & ~is_arr]
            self.now[end] = h
            self.over[end] = True
            keep = is_dep.copy()
            keep[np.flatnonzero(is_arr)[full]] = True
            act = act[keep]

    def _depart(self, envs: np.ndarray, slot: np.ndarray, t: np.ndarray) -> None:
        waiting = (self.in_system[envs] - self.busy[envs]) > 0
        self._change(envs, t, -1.0)
        nxt = envs[waiting]
        if nxt.size:
            self.departures[nxt, slot[waiting]] = t[waiting] + self._service.take(nxt)
        idle = envs[~waiting]
        self.departures[idle, slot[~waiting]] = np.inf
        self.busy[idle] -= 1
