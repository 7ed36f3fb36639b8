"""The online auction on the engine: requests arrive over time, wait in a queue, win resources
in auction rounds every Δt, hold them for their duration and release them, so prices move with
the real utilisation.

Each round (a thin process on :class:`netsim.Simulation`):

1. drop queued requests older than ``patience_s``;
2. set prices ``ρ_j = c_j·m_{c(j)}``: unit cost times the multiplier of the resource's cluster,
   chosen by a policy (fixed, MOHAF's rule, tâtonnement, or an agent through a
   ``DecisionPoint``);
3. run MOHAF's lazy greedy on the queue against residual capacities, with each requester's
   current holdings in the fairness term (the price-free utility parts of every (request,
   candidate resource) pair are computed once, at construction);
4. winners pay ``π_ij``, hold ``d_i`` for their duration (``inf``: to the end), then release.

Requests join the queue in bulk at the first round at or after their arrival (nothing reads
the queue between rounds, so this equals one event per arrival, at a fraction of the cost).

Price rules per cluster c (multipliers m_c, clipped to [1/m_max, m_max]):

* MOHAF's rule with a constant step, for tracking a moving load:
  ``m_c ← m_c + η·(u_c − τ)`` (:func:`mohaf_rule`; utilisation only);
* tâtonnement on excess demand (Walras; Arrow & Hurwicz 1958), in log-prices:
  ``m_c ← m_c·exp(η·z_c)`` with ``z_c = (queued demand − free capacity)/capacity`` of the
  cluster (:func:`tatonnement_rule`); ``floor`` (e.g. 1 = unit cost) keeps prices at or above
  the providers' cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from netsim import DecisionPoint, Simulation

from .clustering import Hierarchy, build_hierarchy
from .greedy import lazy_greedy
from .model import Instance
from .mohaf import Candidates, MohafParams
from .utility import base_from_static, payment

__all__ = [
    "OnlineParams",
    "RoundState",
    "OnlineAuction",
    "mohaf_rule",
    "fixed_rule",
    "tatonnement_rule",
    "clearing_multipliers",
]


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
    demand: np.ndarray | None = None  # queued demand / cluster capacity
    time_fraction: float = 0.0  # now / horizon (0 when there is none)


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


def tatonnement_rule(
    state: RoundState,
    eta: float = 0.5,
    max_multiplier: float = 4.0,
    floor: float | None = None,
) -> np.ndarray:
    """``m ← clip(m·exp(η·z), lo, m_max)`` with excess demand ``z = demand − (1 − u)`` per
    cluster (queued demand less free capacity, as fractions of its capacity); ``lo`` is
    ``floor`` if given (1: never below unit cost) else ``1/m_max``."""
    z = np.asarray(state.demand, float) - (1.0 - np.asarray(state.utilisation, float))
    lo = 1.0 / max_multiplier if floor is None else floor
    return np.clip(state.multiplier * np.exp(eta * z), lo, max_multiplier)


def clearing_multipliers(model: OnlineAuction, floor: float | None = None) -> np.ndarray:
    """Per cluster, the highest multiplier at which the queued requests still ask for all of
    its free capacity (a uniform price clearing the current queue against the free capacity):
    sort the queued requests of cluster c by value per unit ``v_i`` (descending), find the
    first k whose cumulative demand reaches the free capacity ``F_c``, and set
    ``m_c = v_(k)/c̄_c`` (c̄_c the mean unit cost of c); ``floor`` (default 1/m_max) where the
    queue cannot fill the cluster. Uses only bids already submitted (no look-ahead)."""
    mx = model.params.max_multiplier
    lo = 1.0 / mx if floor is None else floor
    Q, R = model.inst.requests, model.inst.resources
    model._admit()
    q = model.queue
    c = model.h.req_cluster[q]
    q, c = q[c >= 0], c[c >= 0]
    v = model._cands.value[q]
    free = np.bincount(model.h.res_cluster, weights=model.residual, minlength=model.K)
    cost = np.bincount(model.h.res_cluster, weights=R.unit_cost, minlength=model.K)
    cost = cost / np.maximum(np.bincount(model.h.res_cluster, minlength=model.K), 1)
    out = np.full(model.K, lo)
    order = np.lexsort((-v, c))
    q, c, v = q[order], c[order], v[order]
    bounds = np.searchsorted(c, np.arange(model.K + 1))
    for k in range(model.K):
        a, b = bounds[k], bounds[k + 1]
        if b > a and free[k] > 0:
            cum = np.cumsum(Q.demand[q[a:b]])
            at = int(np.searchsorted(cum, free[k]))
            if at < b - a:
                out[k] = v[a + at] / max(cost[k], 1e-12)
    return np.clip(out, lo, mx)


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
        horizon_s: float | None = None,
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
        self.horizon_s = horizon_s
        R, Q = inst.resources, inst.requests
        self.K = self.h.n_clusters
        # price-free utility parts of every candidate pair, computed once
        self._cands = Candidates(inst, self.h, mp.weights, mp.utility)
        self._delta = mp.weights.normalised()[3]
        self._queued = np.zeros(len(Q), dtype=bool)
        self.cluster_capacity = np.bincount(
            self.h.res_cluster, weights=R.capacity, minlength=self.K
        )
        cc = self.cluster_capacity
        self._inv_cap = np.divide(1.0, cc, out=np.zeros_like(cc), where=cc > 0)
        # block and row of every request in the cached candidate blocks
        self._block = np.full(len(Q), -1, np.int64)
        self._row = np.zeros(len(Q), np.int64)
        for b, (req, _res, _s, _ok) in enumerate(self._cands._static):
            self._block[req] = b
            self._row[req] = np.arange(req.size)
        self.residual = R.capacity.astype(float).copy()
        self.held = np.zeros(Q.n_requesters, dtype=np.int64)
        self.multiplier = np.ones(self.K)
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
        self._arrival_sorted = Q.arrival_s[self._order]
        self._next = 0  # requests self._order[:_next] have arrived
        sim.process(self._rounds())

    @property
    def queue(self) -> np.ndarray:
        """Queued requests (indices, ascending)."""
        return np.flatnonzero(self._queued)

    # -- state --------------------------------------------------------------------------------
    def prices(self) -> np.ndarray:
        return self.inst.resources.unit_cost * self.multiplier[self.h.res_cluster]

    def state(self) -> RoundState:
        free = np.bincount(self.h.res_cluster, weights=self.residual, minlength=self.K)
        u = np.clip(1.0 - free * self._inv_cap, 0.0, 1.0) * (self._inv_cap > 0)
        self._admit()
        q = self.queue
        c = self.h.req_cluster[q]
        if c.size and c.min() < 0:
            q, c = q[c >= 0], c[c >= 0]
        qc = np.bincount(c, minlength=self.K).astype(float)
        dem = np.bincount(c, weights=self.inst.requests.demand[q], minlength=self.K)
        frac = self.sim.now / self.horizon_s if self.horizon_s else 0.0
        return RoundState(u, qc, self.multiplier.copy(), dem * self._inv_cap, frac)

    def set_multipliers(self, m) -> None:
        mx = self.params.max_multiplier
        m = np.asarray(m, dtype=float).reshape(-1)
        if m.size != self.K or not np.all(np.isfinite(m)):
            raise ValueError(f"multipliers: expected {self.K} finite values, got {m.size}")
        self.multiplier = np.clip(m, 1.0 / mx, mx)

    # -- processes ----------------------------------------------------------------------------
    def _admit(self) -> None:
        """Queue every request that has arrived by now."""
        end = int(np.searchsorted(self._arrival_sorted, self.sim.now, side="right"))
        if end > self._next:
            self._queued[self._order[self._next : end]] = True
            self.arrived.add(end - self._next)
            self._next = end

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
        self._admit()
        late = self._queued & (self.sim.now - Q.arrival_s > self.params.patience_s)
        n_late = int(np.count_nonzero(late))
        if n_late:
            self.dropped.add(n_late)
            self._queued &= ~late
        self.round_utility = self.round_revenue = 0.0
        self.round_served = 0
        if self._queued.any() and self.residual.max(initial=0.0) > 0:
            i, j, g, pay = self._allocate(self.prices())
            for a, b in zip(i.tolist(), j.tolist(), strict=True):
                self._hold(a, b)
            self._queued[i] = False
            self.round_utility = float(g.sum())
            self.round_revenue = float(pay.sum())
            self.round_served = int(i.size)
            self.utility.add(self.round_utility)
            self.revenue.add(self.round_revenue)
            self.served.add(int(i.size))
        self.queue_level.set(int(np.count_nonzero(self._queued)))
        self._record_utilisation()

    def _allocate(self, prices: np.ndarray):
        """MOHAF's lazy greedy over the queued requests' candidate pairs at ``prices``."""
        Q = self.inst.requests
        c = self._cands
        blocks = []
        # only requests that fit in the largest residual can win (residuals only shrink)
        q = np.flatnonzero(self._queued)
        q = q[(Q.demand[q] <= self.residual.max()) & (self._block[q] >= 0)]
        q = q[np.argsort(self._block[q], kind="stable")]
        bounds = np.searchsorted(self._block[q], np.arange(len(c._static) + 1))
        for b in np.flatnonzero(np.diff(bounds)).tolist():
            req, res, s, ok = c._static[b]
            r = q[bounds[b] : bounds[b + 1]]
            rows = self._row[r]
            w, _ = base_from_static(
                s[rows], ok[rows], prices[res][None, :], c.value[r][:, None], c.weights
            )
            # requests renumbered 0..len(q)-1 (their position in q): the greedy's work
            # scales with the queue, not with every request of the episode
            blocks.append((np.arange(bounds[b], bounds[b + 1]), res, w))
        if not blocks:
            e = np.zeros(0, np.int64)
            return e, e, np.zeros(0), np.zeros(0)
        i, j, g = lazy_greedy(
            blocks, q.size, len(self.residual), Q.demand[q], Q.requester[q], self.residual,
            self._delta, "shared", None, self.held,
        )
        i = q[i]
        return i, j, g, payment(prices[j], Q.demand[i], g, Q.budget[i])

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
