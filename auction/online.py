"""The online auction on the engine: requests arrive over time, wait in a queue, win resources
in auction rounds every Δt, hold them for their duration and release them, so prices move with
the real utilisation.

Each round (a thin process on :class:`netsim.Simulation`):

1. drop queued requests older than ``patience_s``;
2. set prices ``ρ_j = c_j·m_{c(j)}``: unit cost times the multiplier of the resource's cluster,
   chosen by a policy (fixed, MOHAF's rule, or an agent through a ``DecisionPoint``);
3. run MOHAF's greedy (mohaf.greedy_allocate) on the queue against residual capacities, with
   each requester's current holdings in the fairness term;
4. winners pay ``π_ij``, hold ``d_i`` for their duration, then release it.

MOHAF's price rule per cluster, for tracking a moving load, uses a constant step:
``m_c ← clip(m_c + η·(u_c − τ), 1/m_max, m_max)`` (:func:`mohaf_rule`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from netsim import DecisionPoint, Simulation

from .clustering import Hierarchy, build_hierarchy
from .model import Instance
from .mohaf import Candidates, MohafParams, greedy_allocate

__all__ = ["OnlineParams", "RoundState", "OnlineAuction", "mohaf_rule", "fixed_rule"]


@dataclass(frozen=True)
class OnlineParams:
    round_interval_s: float = 5.0
    patience_s: float = 60.0
    max_multiplier: float = 4.0
    eta: float = 0.5  # step of the per-cluster MOHAF rule
    mohaf: MohafParams = field(default_factory=MohafParams)

    def __post_init__(self):
        if self.mohaf.mode != "shared":  # residual capacities are tracked as shared amounts
            raise ValueError(f"online params: mohaf.mode must be 'shared', got {self.mohaf.mode!r}")
        if (
            self.round_interval_s <= 0
            or self.patience_s < 0
            or self.max_multiplier < 1
            or self.eta < 0
        ):
            raise ValueError(
                "online params: need round_interval_s > 0, patience_s >= 0, "
                "max_multiplier >= 1, eta >= 0"
            )


@dataclass
class RoundState:
    """What a pricing policy sees before a round, per cluster."""

    utilisation: np.ndarray  # used/capacity, [0, 1]
    queue: np.ndarray  # queued requests whose nearest cluster it is
    multiplier: np.ndarray  # current price multipliers


def fixed_rule(state: RoundState) -> np.ndarray:
    """Keep every multiplier at 1 (prices = unit costs)."""
    return np.ones_like(state.multiplier)


def mohaf_rule(
    state: RoundState, eta: float = 0.5, tau: float = 0.8, max_multiplier: float = 4.0
) -> np.ndarray:
    """``m ← clip(m + η·(u − τ), 1/m_max, m_max)``: MOHAF's update on cluster multipliers."""
    return np.clip(
        state.multiplier + eta * (state.utilisation - tau), 1.0 / max_multiplier, max_multiplier
    )


class OnlineAuction:
    """Online MOHAF auction over ``inst`` (requests carry ``arrival_s`` and ``duration_s``).

    Prices come from ``decisions`` (an agent answers each round's :class:`RoundState` with
    multipliers) or from ``policy(state) -> multipliers``.
    """

    def __init__(
        self,
        sim: Simulation,
        inst: Instance,
        params: OnlineParams | None = None,
        hierarchy: Hierarchy | None = None,
        decisions: DecisionPoint | None = None,
        policy: Callable[[RoundState], np.ndarray] | None = None,
    ):
        if decisions is None and policy is None:
            raise ValueError("give either decisions or policy")
        self.sim, self.inst = sim, inst
        self.params = params or OnlineParams()
        mp = self.params.mohaf
        if hierarchy is None:  # k-means seeded from the run's own named stream
            km_seed = int(sim.rng("auction.kmeans").integers(2**31))
            hierarchy = build_hierarchy(
                inst, mp.n_clusters, mp.resources_per_cluster, mp.neighbours, km_seed, mp.flat
            )
        self.h = hierarchy
        self.decisions, self.policy = decisions, policy
        R, Q = inst.resources, inst.requests
        self.K = self.h.n_clusters
        self.cluster_capacity = np.bincount(
            self.h.res_cluster, weights=R.capacity, minlength=self.K
        )
        self.residual = R.capacity.astype(float).copy()
        self.held = np.zeros(Q.n_requesters, dtype=np.int64)
        self.multiplier = np.ones(self.K)
        self.queue: list[int] = []
        m = sim.metrics
        self.arrived, self.served, self.dropped = (
            m.counter("arrived"),
            m.counter("served"),
            m.counter("dropped"),
        )
        self.revenue, self.utility = m.counter("revenue"), m.counter("utility")
        self.queue_level = m.level("queue")
        self.util_level = m.level("utilisation")
        self.round_utility = self.round_revenue = 0.0
        self.round_served = 0
        self._order = np.argsort(Q.arrival_s, kind="stable")
        sim.process(self._arrivals())
        sim.process(self._rounds())

    # -- state --------------------------------------------------------------------------------
    def prices(self) -> np.ndarray:
        return self.inst.resources.unit_cost * self.multiplier[self.h.res_cluster]

    def state(self) -> RoundState:
        used = np.bincount(
            self.h.res_cluster,
            weights=self.inst.resources.capacity - self.residual,
            minlength=self.K,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(self.cluster_capacity > 0, used / self.cluster_capacity, 0.0)
        q = np.asarray(self.queue, dtype=np.int64)
        qc = (
            np.bincount(self.h.req_cluster[q][self.h.req_cluster[q] >= 0], minlength=self.K)
            if q.size
            else np.zeros(self.K)
        )
        return RoundState(np.clip(u, 0.0, 1.0), qc.astype(float), self.multiplier.copy())

    def set_multipliers(self, m) -> None:
        mx = self.params.max_multiplier
        m = np.asarray(m, dtype=float).reshape(-1)
        if m.size != self.K or not np.all(np.isfinite(m)):
            raise ValueError(f"multipliers: expected {self.K} finite values, got {m.size}")
        self.multiplier = np.clip(m, 1.0 / mx, mx)

    # -- processes ----------------------------------------------------------------------------
    def _arrivals(self):
        t_arr = self.inst.requests.arrival_s
        for i in self._order.tolist():
            wait = t_arr[i] - self.sim.now
            if wait > 0:
                yield self.sim.timeout(wait)
            self.queue.append(i)
            self.arrived.add()
            self.queue_level.set(len(self.queue))

    def _rounds(self):
        while True:
            yield self.sim.timeout(self.params.round_interval_s)
            st = self.state()
            if self.decisions is not None:
                mult = yield self.decisions.request(st)
            else:
                mult = self.policy(st)
            self.set_multipliers(mult)
            self.run_round()

    def run_round(self) -> None:
        """Drop expired requests, then allocate the queue at the current prices."""
        Q = self.inst.requests
        now = self.sim.now
        keep = [i for i in self.queue if now - Q.arrival_s[i] <= self.params.patience_s]
        self.dropped.add(len(self.queue) - len(keep))
        self.queue = keep
        self.round_utility = self.round_revenue = 0.0
        self.round_served = 0
        if keep:
            q = np.asarray(keep, dtype=np.int64)
            sub = self.inst.with_requests(q)
            h = self.h.with_requests(sub.requests)
            mp = self.params.mohaf
            prices = self.prices()
            blocks = Candidates(sub, h, mp.weights, mp.utility).at(prices)
            a = greedy_allocate(sub, blocks, prices, mp, capacity=self.residual, held0=self.held)
            won = q[a.request]
            for i, j in zip(won.tolist(), a.resource.tolist(), strict=True):
                self._hold(i, j)
            self.round_utility = float(a.utility.sum())
            self.round_revenue = float(a.payment.sum())
            self.round_served = len(a)
            self.utility.add(self.round_utility)
            self.revenue.add(self.round_revenue)
            self.served.add(len(a))
            won_set = set(won.tolist())
            self.queue = [i for i in keep if i not in won_set]
        self.queue_level.set(len(self.queue))
        self._record_utilisation()

    def _hold(self, i: int, j: int) -> None:
        Q = self.inst.requests
        d, k = float(Q.demand[i]), int(Q.requester[i])
        self.residual[j] -= d
        self.held[k] += 1
        dur = float(Q.duration_s[i])
        if np.isfinite(dur):
            self.sim.schedule(dur, self._release, j, d, k)

    def _release(self, j: int, d: float, k: int) -> None:
        self.residual[j] += d
        self.held[k] -= 1
        self._record_utilisation()

    def _record_utilisation(self) -> None:
        cap = self.inst.resources.capacity.sum()
        self.util_level.set(float((cap - self.residual.sum()) / cap) if cap > 0 else 0.0)
