"""Run a collective's transfer DAG over a transport on the engine.

When a transfer's predecessors are done it is *released*; all transfers released at the same
instant form one batch that the balancer splits into subflows, which the transport (fluid or
packet-level) carries. A transfer is done ``alpha_s`` after the last byte of its last subflow
arrives; then its successors are released. The run records per transfer the release and done
times, per step the bytes placed on every link (for congestion), and the subflow count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netsim import DecisionPoint, Simulation

from .balancing import Assignment, Balancer
from .collectives import Schedule
from .network import Network

__all__ = ["Batch", "CollectiveRun", "StepLoad"]


@dataclass(frozen=True)
class Batch:
    """Transfers about to start together (what a decision maker sees)."""

    nodes: np.ndarray
    src_hosts: np.ndarray
    dst_hosts: np.ndarray
    nbytes: np.ndarray


@dataclass(frozen=True)
class StepLoad:
    """Bytes one (chunk, step) placed on the links, summarised as drain times
    ``bytes·8/capacity`` (s): the step's congestion."""

    chunk: int
    step: int
    max_fabric_s: float  # most congested switch-to-switch link
    max_link_s: float  # most congested link of any kind


def _counts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of ``a`` and their multiplicities (lighter than np.unique)."""
    if a.size <= 1:
        return a, np.ones(a.size, dtype=np.int64)
    lo, hi = a.min(), a.max()
    if lo == hi:  # e.g. every transfer of a step feeding the step's barrier
        return a[:1], np.array([a.size], dtype=np.int64)
    if hi - lo + 1 == a.size and a.size < 4096:  # maybe a permutation of a range
        hits = np.bincount(a - lo)
        if hits.max() == 1:
            return np.arange(lo, hi + 1, dtype=a.dtype), hits
    a = np.sort(a)
    new = np.empty(a.size, dtype=bool)
    new[0] = True
    np.not_equal(a[1:], a[:-1], out=new[1:])
    first = np.flatnonzero(new)
    if first.size == a.size:
        return a, np.ones(a.size, dtype=np.int64)
    bounds = np.empty(first.size + 1, dtype=np.int64)
    bounds[:-1], bounds[-1] = first, a.size
    return a[first], np.diff(bounds)


class CollectiveRun:
    """Execute ``sched`` with ranks on ``hosts`` (rank → host id).

    Args:
        sim, net: engine and network.
        sched: the transfer DAG (:func:`transport.collectives.schedule`).
        hosts: host id of every rank.
        balancer: splits each batch into subflows.
        transport: object with ``add(src, dst, path, nbytes, owner, done)`` and
            ``outstanding_bytes()`` (:class:`~transport.flowsim.FlowTransport` or
            :class:`~transport.packetsim.PacketTransport`).
        alpha_s: per-transfer latency added after the last byte arrives (s).
        decisions: optional decision point: before each batch launches the run requests a
            decision with a :class:`Batch`, and hands the answer to the balancer as its
            ``action`` (used with :class:`~transport.balancing.External`).

    Attributes:
        finished: event that succeeds with the completion time when every transfer is done.
        t_release, t_done: per transfer (s); subflows: total subflows used.
        step_loads: one :class:`StepLoad` per (chunk, step), in the order steps finish
            launching; link_bytes_placed: bytes placed on each link over the run.
    """

    def __init__(
        self,
        sim: Simulation,
        net: Network,
        sched: Schedule,
        hosts,
        balancer: Balancer,
        transport,
        alpha_s: float = 0.0,
        decisions: DecisionPoint | None = None,
    ):
        if alpha_s < 0:
            raise ValueError(f"alpha_s: must be >= 0 (got {alpha_s})")
        self.sim, self.net, self.sched = sim, net, sched
        self.hosts = np.asarray(hosts, dtype=np.int64)
        if self.hosts.size != sched.collective.n_ranks:
            raise ValueError("hosts: need one host per rank")
        self.balancer, self.transport, self.alpha_s = balancer, transport, float(alpha_s)
        self.decisions = decisions
        n = len(sched)
        self._deps = sched.n_deps.copy()
        self._pending = np.zeros(n, dtype=np.int64)  # subflows in flight per transfer
        self._arrive = np.zeros(n)  # latest last-byte arrival per transfer
        self.t_release = np.full(n, np.nan)
        self.t_done = np.full(n, np.nan)
        self.subflows = 0
        self.batches = 0
        self.step_loads: list[StepLoad] = []
        self.link_bytes_placed = np.zeros(net.n_links)
        self._acc: dict[int, np.ndarray] = {}  # per open (chunk, step) key: bytes per link
        key = sched.chunk * sched.n_steps + sched.step
        real = sched.src >= 0
        self._key = key
        self._key_left = np.bincount(key[real], minlength=int(key.max()) + 1 if n else 0)
        self._plans: dict[int, tuple] = {}
        self._step_plans: dict[int, Assignment] = {}
        self._members: np.ndarray | None = None
        self._left = n
        self._release_queue: list[np.ndarray] = []
        self._flush_pending = False
        self._in_flush = False
        self._ready = np.full(n, -np.inf)  # latest done time of a node's predecessors so far
        self._t_end = -np.inf
        self.finished = sim.event()
        self._t_start = None

    def start(self) -> None:
        """Release the transfers without predecessors now."""
        self._t_start = self.sim.now
        roots = np.flatnonzero(self._deps == 0)
        if roots.size == 0 and len(self.sched):
            raise ValueError("schedule has no transfer without predecessors")
        self._queue(roots)

    @property
    def cct_s(self) -> float:
        """Collective completion time (s), NaN until finished."""
        if not self.finished.triggered:
            return float("nan")
        return float(self.finished.value - self._t_start)

    # -- internals --------------------------------------------------------------------------
    def _queue(self, nodes: np.ndarray) -> None:
        self._release_queue.append(nodes)
        if not self._flush_pending:
            self._flush_pending = True
            self.sim.schedule(0.0, self._flush)

    def _flush(self) -> None:
        """Release everything queued at this instant; barriers finish at once (and may
        release more), real transfers form one batch."""
        self._flush_pending = False
        batch = []
        self._in_flush = True
        while self._release_queue:
            nodes = np.concatenate(self._release_queue)
            self._release_queue = []
            self.t_release[nodes] = self.sim.now
            barrier = (self.sched.src[nodes] < 0) | (self.sched.nbytes[nodes] <= 0)
            batch.append(nodes[~barrier])
            if barrier.any():
                self._finish_barriers(nodes[barrier])
        self._in_flush = False
        nodes = np.sort(np.concatenate(batch)) if batch else np.zeros(0, dtype=np.int64)
        if nodes.size and self.decisions is not None:
            self.sim.process(self._ask(nodes))
        elif nodes.size:
            self._launch(nodes)

    def _ask(self, nodes: np.ndarray):
        s = self.sched
        batch = Batch(nodes, self.hosts[s.src[nodes]], self.hosts[s.dst[nodes]], s.nbytes[nodes])
        self.balancer.action = yield self.decisions.request(batch)
        self._launch(nodes)

    def _launch(self, nodes: np.ndarray) -> None:
        s = self.sched
        src = self.hosts[s.src[nodes]]
        dst = self.hosts[s.dst[nodes]]
        nbytes = s.nbytes[nodes]
        conn = s.conn[nodes]
        key = None
        plan = None
        if self.balancer.deterministic and not self.balancer.plans_steps:
            # same batch (e.g. every ring step) -> same plan
            key = hash((src.tobytes(), dst.tobytes(), nbytes.tobytes(), conn.tobytes()))
            plan = self._plans.get(key)
        if plan is None:
            if self.balancer.plans_steps:
                asg = self._step_planned(nodes)
            else:
                load = self.transport.outstanding_bytes() if self.balancer.needs_load else None
                asg = self.balancer.assign(self.net, src, dst, nbytes, conn, load)
            rows = self.net.route_rows(src[asg.parent], dst[asg.parent], asg.path)
            plan = (asg, rows)
            if key is not None:
                self._plans[key] = plan
                if len(self._plans) > 64:
                    self._plans.pop(next(iter(self._plans)))
        asg, rows = plan
        par = asg.parent
        sub_bytes = nbytes[par] * asg.fraction
        self.subflows += asg.n_subflows
        self.batches += 1
        self._pending[nodes] += np.bincount(par, minlength=nodes.size)
        self._account(nodes, par, rows, sub_bytes)
        self.transport.add(
            src[par], dst[par], asg.path, sub_bytes, nodes[par], self._drained, rows=rows
        )

    def _step_planned(self, nodes: np.ndarray) -> Assignment:
        """The subflows of ``nodes`` (sorted) cut from the plan of their whole (chunk, step):
        a step released piecemeal (dataflow) is still coloured as one batch, so its placed
        bytes meet the step's spraying bound."""
        s = self.sched
        keys = self._key[nodes]
        parts = []
        for key in np.unique(keys).tolist():
            members = self._key_nodes(key)
            asg = self._step_plans.get(key)
            if asg is None:
                src, dst = self.hosts[s.src[members]], self.hosts[s.dst[members]]
                asg = self.balancer.assign(
                    self.net, src, dst, s.nbytes[members], s.conn[members], None
                )
                self._step_plans[key] = asg
            sel = np.isin(members[asg.parent], nodes)
            pos = np.searchsorted(nodes, members[asg.parent[sel]])
            parts.append((pos, asg.path[sel], asg.fraction[sel]))
        par, path, frac = (np.concatenate(x) for x in zip(*parts, strict=True))
        return Assignment(par, path, frac)

    def _key_nodes(self, key: int) -> np.ndarray:
        """Real transfers of (chunk, step) ``key``, sorted."""
        if self._members is None:
            real = np.flatnonzero(self.sched.src >= 0)
            order = np.argsort(self._key[real], kind="stable")
            self._members_sorted = real[order]
            self._members = np.searchsorted(
                self._key[self._members_sorted], np.arange(self._key_left.size + 1)
            )
        lo, hi = self._members[key], self._members[key + 1]
        return self._members_sorted[lo:hi]

    def _account(self, nodes, par, rows, sub_bytes) -> None:
        net = self.net
        links, frac = rows
        mask = links >= 0
        weights = (frac * sub_bytes[:, None])[mask]
        node_keys = self._key[nodes]
        if node_keys.min() == node_keys.max():  # one (chunk, step): the usual case
            keys = node_keys[:1]
            acc = np.bincount(links[mask], weights=weights, minlength=net.n_links)[None, :]
        else:
            keys, kinv = np.unique(node_keys[par], return_inverse=True)
            flat = (kinv[:, None] * net.n_links + links)[mask]
            acc = np.bincount(flat, weights=weights, minlength=keys.size * net.n_links)
            acc = acc.reshape(keys.size, net.n_links)
        self.link_bytes_placed += acc.sum(axis=0)
        launched = np.bincount(node_keys, minlength=self._key_left.size)
        for i, key in enumerate(keys.tolist()):
            vec = self._acc.get(key)
            self._acc[key] = acc[i] if vec is None else vec + acc[i]
        self._key_left -= launched
        for key in np.flatnonzero((launched > 0) & (self._key_left == 0)).tolist():
            self._step_plans.pop(key, None)
            drain = self._acc.pop(key, np.zeros(net.n_links)) * 8.0 / net.capacity_bps
            fab = drain[net.fabric]
            c, k = divmod(key, self.sched.n_steps)
            self.step_loads.append(StepLoad(c, k, float(fab.max(initial=0.0)), float(drain.max())))

    def _drained(self, owners: np.ndarray, delays: np.ndarray) -> None:
        """Subflows of ``owners`` drained now; their last bytes arrive ``delays`` later. A
        transfer whose last subflow drained is done at its latest arrival plus α: that time is
        known now, so its successors' dependencies are settled at once and only the release
        of a successor (at the latest done time of its predecessors) is an engine event."""
        now = self.sim.now
        np.maximum.at(self._arrive, owners, now + delays)
        np.subtract.at(self._pending, owners, 1)
        finished = owners[self._pending[owners] == 0]
        if finished.size == 0:
            return
        if finished.size > 1:  # several subflows of one transfer may drain together
            finished = _counts(finished)[0]
        self._settle(finished, self._arrive[finished] + self.alpha_s)

    def _settle(self, nodes: np.ndarray, t_done: np.ndarray) -> None:
        """Record ``nodes`` as done at ``t_done`` (≥ now) and release every successor whose
        last predecessor this was, at the latest done time of its predecessors."""
        s = self.sched
        self.t_done[nodes] = t_done
        self._left -= nodes.size
        t_max = float(t_done.max())
        if t_max > self._t_end:
            self._t_end = t_max
        starts = s.succ_ptr[nodes]
        lens = s.succ_ptr[nodes + 1] - starts
        total = int(lens.sum())
        if total == nodes.size and total and lens.min() == 1:  # one successor each (barrier)
            succ = s.succ[starts]
            lo, hi = succ.min(), succ.max()
            if lo == hi:  # all the same successor
                self._deps[lo] -= total
                if t_max > self._ready[lo]:
                    self._ready[lo] = t_max
                if self._deps[lo] == 0:
                    self._release(succ[:1])
            else:
                np.maximum.at(self._ready, succ, t_done)
                succ, times = _counts(succ)
                self._deps[succ] -= times
                self._release(succ[self._deps[succ] == 0])
        elif total:
            offs = np.cumsum(lens) - lens
            pos = np.repeat(starts - offs, lens) + np.arange(total)
            succ = s.succ[pos]
            np.maximum.at(self._ready, succ, np.repeat(t_done, lens))
            succ, times = _counts(succ)
            self._deps[succ] -= times
            self._release(succ[self._deps[succ] == 0])
        if self._left == 0:
            delay = self._t_end - self.sim.now
            if delay > 0:
                self.sim.schedule(delay, self._succeed)
            else:
                self._succeed()

    def _succeed(self) -> None:
        self.finished.succeed(self.sim.now)

    def _release(self, nodes: np.ndarray) -> None:
        """Release ``nodes`` at their ready times (grouped by time; now: into this instant's
        batch)."""
        if nodes.size == 0:
            return
        now = self.sim.now
        ready = self._ready[nodes]
        lo, hi = ready.min(), ready.max()
        if lo == hi:
            if lo <= now and self._in_flush:
                self._release_queue.append(nodes)
            else:
                self.sim.schedule(max(float(lo) - now, 0.0), self._queue, nodes)
            return
        order = np.argsort(ready, kind="stable")
        r = ready[order]
        cuts = np.flatnonzero(r[1:] != r[:-1]) + 1
        for grp in np.split(order, cuts):
            self._release(nodes[grp])

    def _finish_barriers(self, nodes: np.ndarray) -> None:
        """Barriers complete the instant they are released."""
        self._settle(nodes, np.full(nodes.size, self.sim.now))
