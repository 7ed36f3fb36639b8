"""A collective whose every step waits for an outside routing decision (the RL model).

:class:`RoutingModel` runs one collective step-synchronously over the fluid transport on a
leaf-spine fabric, optionally with background traffic. Before each step it requests a
decision (a :class:`~transport.execute.Batch`) from a :class:`netsim.DecisionPoint`; the
answer gives, for every cross-leaf flow of the step, the spine of each of its ``split``
equal pieces (:class:`~transport.balancing.External`). When the collective is done it makes
one last request so that an event-driven env stops exactly there. The reference answers
(ECMP, spraying, minimal split, least-loaded) are available as actions via
:meth:`baseline_action`.

Without background traffic a step's flows share the fabric with nothing else, so the step is
solved in closed loop (:func:`transport.stepfluid.drain_times_s`, the same max-min fluid
physics as :class:`~transport.flowsim.FlowTransport`, tested equal) and the engine only
waits for the step's duration. ``capacity_scale`` multiplies the capacity of fabric links
(e.g. a spine whose links run at half speed); the lower bound is then the per-step
min-congestion LP (:func:`transport.stepfluid.min_congestion_s`), which equals the spraying
bound on a symmetric fabric.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from netsim import DecisionPoint, Simulation

from .background import BackgroundTraffic
from .balancing import ECMP, External, minimal_split
from .collectives import build_collective, place_ranks, schedule
from .execute import Batch, CollectiveRun
from .flowsim import FlowTransport
from .network import Network
from .stepfluid import drain_times_csr_s, step_lower_bound_s

__all__ = ["RoutingModel", "max_cross_flows"]


@njit(cache=True)
def _incidence_kernel(ls, ld, hup, hdown, up, down, act, k):  # pragma: no cover - compiled
    """CSR incidence of a step's subflows: same-leaf flows whole, then per cross-leaf flow (in
    order) one subflow per spine its pieces chose (ascending), the sprayed pieces last."""
    S = up.shape[1]
    n = ls.size
    counts = np.zeros((n, S + 1), dtype=np.int64)
    c = 0
    n_sub = 0
    nnz = 0
    for f in range(n):
        if ls[f] == ld[f]:
            n_sub += 1
            nnz += 2
        else:
            for _ in range(k):
                s = act[c]
                if counts[f, s] == 0:
                    n_sub += 1
                    nnz += 4 if s < S else 2 + 2 * S
                counts[f, s] += 1
                c += 1
    ptr = np.zeros(n_sub + 1, dtype=np.int64)
    idx = np.empty(nnz, dtype=np.int64)
    val = np.empty(nnz)
    flow = np.empty(n_sub, dtype=np.int64)
    frac = np.empty(n_sub)
    r = 0
    q = 0
    for f in range(n):
        if ls[f] == ld[f]:
            idx[q], val[q], idx[q + 1], val[q + 1] = hup[f], 1.0, hdown[f], 1.0
            q += 2
            flow[r], frac[r] = f, 1.0
            r += 1
            ptr[r] = q
    for f in range(n):
        if ls[f] == ld[f]:
            continue
        for s in range(S + 1):
            if counts[f, s] == 0:
                continue
            idx[q], val[q], idx[q + 1], val[q + 1] = hup[f], 1.0, hdown[f], 1.0
            q += 2
            if s < S:
                idx[q], val[q], idx[q + 1], val[q + 1] = up[ls[f], s], 1.0, down[s, ld[f]], 1.0
                q += 2
            else:
                for z in range(S):
                    idx[q], idx[q + 1] = up[ls[f], z], down[z, ld[f]]
                    val[q], val[q + 1] = 1.0 / S, 1.0 / S
                    q += 2
            flow[r], frac[r] = f, counts[f, s] / k
            r += 1
            ptr[r] = q
    return ptr, idx, val, flow, frac


_COLL_MEMO: dict[tuple, object] = {}  # (collective, ranks, bytes) -> Collective
_LB_MEMO: dict[tuple, dict[bytes, float]] = {}  # per fabric: step content -> bound (s)
#: solve steps without background in closed loop (False: always the engine-driven run)
CLOSED_LOOP = True


def max_cross_flows(coll) -> int:
    """Largest number of transfers in one step (bounds the cross-leaf flows of a step)."""
    return max(len(s) for s in coll.steps)


class RoutingModel:
    """One collective on ``net`` whose steps are routed by ``decisions``.

    Args:
        sim, net: engine and leaf-spine network.
        collective, ranks, message_bytes, placement: what runs where.
        split: pieces per cross-leaf flow the decision maker places.
        alpha_s: per-transfer latency (s).
        background_load: offered load per host link of ECMP background flows (0 = none).
        background_bytes: mean background flow size (bytes, exponential).
        decisions: the decision point the steps wait on.
    """

    def __init__(
        self,
        sim: Simulation,
        net: Network,
        collective: str,
        ranks: int,
        message_bytes: float,
        placement: str,
        split: int,
        alpha_s: float,
        background_load: float,
        background_bytes: float,
        decisions: DecisionPoint,
    ):
        if net.kind != "leaf_spine":
            raise ValueError("RoutingModel: needs a leaf-spine network")
        self.sim, self.net, self.split = sim, net, int(split)
        self.alpha_s = float(alpha_s)
        key = (collective, int(ranks), float(message_bytes))
        if key not in _COLL_MEMO:  # the collective does not change between episodes
            _COLL_MEMO[key] = build_collective(collective, ranks, message_bytes)
            if len(_COLL_MEMO) > 32:
                _COLL_MEMO.pop(next(iter(_COLL_MEMO)))
        self.coll = _COLL_MEMO[key]
        self._rank_of = np.full(net.n_hosts, -1, dtype=np.int64)
        self.hosts = place_ranks(ranks, net.n_hosts, placement, sim.rng("transport.placement"))
        self.balancer = External(sim.rng("transport.balancing.external"), split)
        self._ecmp = ECMP(sim.rng("transport.balancing.ecmp"))
        self.decisions = decisions
        self.background = None
        self._rank_of[self.hosts] = np.arange(self.hosts.size)
        self.lower_bound_s = self._lower_bound()
        self.run = None
        self.subflows = 0
        self.batches = 0
        self._t0 = sim.now
        self._t_end = float("nan")
        self._done = False
        if background_load > 0 or not CLOSED_LOOP:  # background shares links: engine-driven
            sched = schedule(self.coll, 1, "step")
            self.transport = FlowTransport(sim, net)
            if background_load > 0:
                self.background = BackgroundTraffic(
                    sim, net, self.transport, background_load, background_bytes, "exponential"
                )
            self.run = CollectiveRun(
                sim, net, sched, self.hosts, self.balancer, self.transport, alpha_s, decisions
            )
            self.run.finished.callbacks.append(self._on_finished)
            self.run.start()
        else:
            self.transport = None
            sim.process(self._closed_loop())

    def _lower_bound(self) -> float:
        """Σ over steps of (:func:`~transport.stepfluid.step_lower_bound_s` + α) (s);
        each distinct step solved once per fabric (the memo outlives the episode)."""
        memo = _LB_MEMO.setdefault(
            (id(self.net), self.net.capacity_bps.tobytes(), self.net.delay_s.tobytes()), {}
        )
        if len(_LB_MEMO) > 64:
            _LB_MEMO.pop(next(iter(_LB_MEMO)))
        total = 0.0
        for st in self.coll.steps:
            s, d = self.hosts[st.src], self.hosts[st.dst]
            key = s.tobytes() + d.tobytes() + st.nbytes.tobytes()
            if key not in memo:
                memo[key] = step_lower_bound_s(self.net, s, d, st.nbytes)
            total += memo[key] + self.alpha_s
        return total

    def _closed_loop(self):
        """Each step: ask for the routing, then wait for the step's fluid duration."""
        net = self.net
        first = 0
        for st in self.coll.steps:
            nodes = first + np.arange(len(st))  # ids as in the step-synchronous schedule
            first += len(st) + 1  # the step's barrier node
            src, dst = self.hosts[st.src], self.hosts[st.dst]
            action = yield self.decisions.request(Batch(nodes, src, dst, st.nbytes))
            ptr, idx, val, flow, frac = self._incidence(src, dst, action)
            sub_bytes = st.nbytes[flow] * frac
            arrive = drain_times_csr_s(ptr, idx, val, net.capacity_bps, sub_bytes)
            arrive += np.add.reduceat(val * net.delay_s[idx], ptr[:-1]) if flow.size else 0.0
            self.subflows += flow.size
            self.batches += 1
            yield self.sim.timeout(float(arrive.max(initial=0.0)) + self.alpha_s)
        self._done = True
        self._t_end = self.sim.now
        self.decisions.finish()

    def _incidence(self, src, dst, action):
        """CSR subflow × link incidence of a step under ``action`` (the
        :class:`~transport.balancing.External` rules: pieces of a flow on one spine are merged
        into one subflow, sprayed pieces into another; same-leaf flows stay whole), with each
        subflow's parent flow and share of its bytes."""
        net = self.net
        S = net.spines
        ls, ld = net.tor[src], net.tor[dst]
        need = int((ls != ld).sum()) * self.split
        act = np.asarray(action, dtype=np.int64).ravel()
        if act.size < need or np.any(act[:need] < 0) or np.any(act[:need] > S):
            raise ValueError(f"action: need {need} spine choices in 0..{S} ({S} = spray)")
        return _incidence_kernel(
            ls, ld, net.host_up[src], net.host_down[dst], net.uplinks(), net.downlinks(),
            act, self.split,
        )

    @property
    def done(self) -> bool:
        return self.run.finished.triggered if self.run is not None else self._done

    @property
    def cct_s(self) -> float:
        """Completion time (s); NaN until the collective is done."""
        if self.run is not None:
            return self.run.cct_s
        return self._t_end - self._t0 if self._done else float("nan")

    @property
    def n_batches(self) -> int:
        return self.run.batches if self.run is not None else self.batches

    @property
    def n_subflows(self) -> int:
        return self.run.subflows if self.run is not None else self.subflows

    def _on_finished(self, _ev) -> None:
        if self.background is not None:
            self.background.stop()
        self.decisions.finish()

    # -- the current decision -------------------------------------------------------------------
    def batch(self) -> Batch | None:
        """The step waiting for a decision (None when the collective is over)."""
        state = self.decisions.state if self.decisions.waiting else None
        return state if isinstance(state, Batch) else None

    def cross(self, batch: Batch) -> np.ndarray:
        """Indices (within the batch) of its cross-leaf flows, in action order."""
        return np.flatnonzero(self.net.tor[batch.src_hosts] != self.net.tor[batch.dst_hosts])

    def baseline_action(self, name: str, n_slots: int) -> np.ndarray:
        """The action that reproduces ``ecmp``, ``spray`` or ``minimal_split`` for the pending
        step (padded with zeros to ``n_slots``)."""
        out = np.zeros(n_slots, dtype=np.int64)
        b = self.batch()
        if b is None:
            return out
        S, k = self.net.spines, self.split
        cross = self.cross(b)
        if name == "spray":
            out[: cross.size * k] = S
        elif name == "ecmp":
            r = self._rank_of
            conn = r[b.src_hosts[cross]] * self.hosts.size + r[b.dst_hosts[cross]]
            path = self._ecmp.paths(self.net, b.src_hosts[cross], b.dst_hosts[cross], conn)
            out[: cross.size * k] = np.repeat(path, k)
        elif name == "minimal_split":
            asg = minimal_split(self.net, b.src_hosts, b.dst_hosts, b.nbytes)
            for i, f in enumerate(cross.tolist()):
                sel = asg.parent == f
                pieces = np.round(asg.fraction[sel] * k).astype(np.int64)
                if pieces.sum() != k:
                    p = round(1 / asg.fraction[sel].min())
                    raise ValueError(f"split: minimal_split needs a multiple of {p} pieces")
                out[i * k : (i + 1) * k] = np.repeat(asg.path[sel], pieces)
        elif name == "adaptive":
            out[: cross.size * k] = self._least_loaded(b, cross)
        else:
            allowed = "ecmp, spray, minimal_split, adaptive"
            raise ValueError(f"baseline: unknown {name!r} (allowed: {allowed})")
        return out

    def _least_loaded(self, b: Batch, cross: np.ndarray) -> np.ndarray:
        """Greedy least-loaded pieces, largest flow first: each piece takes the spine whose
        more loaded link (uplink of its source leaf, downlink to its destination leaf) would
        drain soonest, counting the pieces placed so far, the links' current load and their
        capacities (what a switch with adaptive routing sees)."""
        net, k = self.net, self.split
        up, down = net.uplinks(), net.downlinks()
        cap = net.capacity_bps
        drain = np.zeros(net.n_links)
        if self.transport is not None:
            drain = self.transport.outstanding_bytes() * 8.0 / cap
        ls, ld = net.tor[b.src_hosts[cross]], net.tor[b.dst_hosts[cross]]
        bits = b.nbytes[cross] * 8.0 / k
        out = np.zeros((cross.size, k), dtype=np.int64)
        for i in np.argsort(-bits, kind="stable").tolist():
            u, d = up[ls[i]], down[:, ld[i]]
            for j in range(k):
                cost = np.maximum(drain[u] + bits[i] / cap[u], drain[d] + bits[i] / cap[d])
                s = int(np.argmin(cost))
                out[i, j] = s
                drain[u[s]] += bits[i] / cap[u[s]]
                drain[d[s]] += bits[i] / cap[d[s]]
        return out.ravel()

    def fabric_utilisation(self) -> np.ndarray:
        """Current load/capacity of every uplink then every downlink (from background)."""
        if self.transport is None:
            return np.zeros(2 * self.net.uplinks().size)
        rate = self.transport.link_rates_bps() / self.net.capacity_bps
        return np.concatenate(
            [rate[self.net.uplinks()].ravel(), rate[self.net.downlinks()].ravel()]
        )
