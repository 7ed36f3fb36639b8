"""PCCL-style fault-tolerant training loop on the engine: churn, votes, syncs, ring all-reduce.

Every accepted peer runs the same loop in lockstep (PCCL's "hello world" best practice):

1. **Collective boundary.** If peers are pending, the accepted peers vote (one control round
   trip to the master); a unanimous vote accepts them, new pairs are benchmarked
   (``bench_s``), the ring is re-formed and p2p connections are opened (one RTT of the slowest
   ring edge). If fewer than 2 peers are accepted the loop stalls until a peer registers
   (counted in ``stalls``).
2. **Shared-state sync** (:mod:`transport.pccl.state`): revision + 1, hashes to the master,
   divergent or out-of-date peers re-fetch the state (``8·state_bytes/B`` from the best
   holder).
3. **Local compute** for ``compute_s``; each peer draws its contribution: a one-hot vector of
   its id (so the result counts every contribution) followed by random integers.
4. **All-reduce** (:mod:`transport.pccl.allreduce`) over the current ring with the true WAN
   rates. If a participant dies, the attempt fails on the survivors ``detect_s`` later, the
   master drops the dead peer, and the survivors retry from their original contributions
   on a re-formed ring; with fewer than 2 survivors the step is skipped (``skipped_steps``,
   also when the world fell below 2 before the all-reduce). On success each
   result is checked on real numbers against the sum over the participants.
5. The participants add the result to their shared state (optionally one bit flips: a
   silent divergence that the next sync's hash comparison repairs).

A control round (vote, sync) that includes a dead but not yet dropped peer stalls until the
master's timeout (``detect_s`` after the death) drops it, then repeats. A death during a
state re-fetch is only noticed at the next all-reduce (the sync is treated as atomic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from netsim import Simulation

from .allreduce import RingAllReduce, ring_allreduce_busbw_bps, ring_step_costs
from .master import Master
from .membership import ChurnEvent, validate_script
from .ring_order import optimise_ring
from .state import PeerState, apply_sync, content_hash, flip_bit, plan_sync
from .wan import Wan, effective_bandwidth

__all__ = ["PcclParams", "AllReduceRecord", "PcclRun", "PHASES"]

PHASES = ("vote", "sync", "compute", "allreduce_ok", "allreduce_failed", "idle")


@dataclass(frozen=True)
class PcclParams:
    """Parameters of one run (bytes, seconds, counts)."""

    message_bytes: float = 1e9
    state_bytes: float = 1e9
    connections: int = 16
    window_bytes: float = 4 * 2**20
    mss_bytes: float = 1460.0
    loss_rate: float = 0.0
    ring_policy: Literal["optimised", "join"] = "optimised"
    exact_max: int = 10
    compute_s: float = 5.0
    detect_s: float = 2.0
    bench_s: float = 1.0
    measure_cv: float = 0.05
    corruption_prob: float = 0.0
    witness_len: int = 16
    master_site: int = 0
    keep_ledger: bool = False

    def __post_init__(self) -> None:
        for name in ("message_bytes", "state_bytes", "window_bytes", "mss_bytes", "detect_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("compute_s", "bench_s", "measure_cv"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.corruption_prob <= 1.0:
            raise ValueError(f"corruption_prob must be in [0, 1], got {self.corruption_prob}")
        if self.witness_len < 1:
            raise ValueError(f"witness_len must be >= 1, got {self.witness_len}")


@dataclass(frozen=True)
class AllReduceRecord:
    """One completed all-reduce: start and end, who (ring order), inputs and every output."""

    start_s: float
    time_s: float
    ring: tuple[int, ...]
    inputs: np.ndarray  # (n, length), rows in ring order
    outputs: np.ndarray  # (n, length)
    attempts: int


@dataclass
class _Attempt:
    peers: frozenset[int]
    abort: object = field(default=None)


class PcclRun:
    """One PCCL run on ``sim`` over ``wan`` with a churn script.

    Args:
        sim: the simulation (streams ``gradients``, ``corruption``, ``bench``, ``state.init``,
            ``join_order`` are used).
        wan: the sites; peer p lives at site p.
        params: :class:`PcclParams`.
        churn: leave/join events (validated against ``initial``).
        initial: peers up at t = 0 (default all sites).
    """

    def __init__(
        self,
        sim: Simulation,
        wan: Wan,
        params: PcclParams,
        churn: list[ChurnEvent],
        initial: list[int] | None = None,
    ):
        self.sim = sim
        self.wan = wan
        self.p = params
        n = wan.n
        if not 0 <= params.master_site < n:
            raise ValueError(f"master_site must be a site index in 0..{n - 1}")
        initial = list(range(n)) if initial is None else sorted(set(initial))
        self.events = validate_script(churn, n, initial)
        self.bw = effective_bandwidth(
            wan, params.connections, params.window_bytes, params.mss_bytes, params.loss_rate
        )
        self.latency = wan.latency_s()
        self.rtt_master = wan.rtt_s[params.master_site]
        self.master = Master(
            self.bw,
            self.latency,
            params.message_bytes,
            params.ring_policy,
            sim.rng("bench"),
            params.measure_cv,
            params.exact_max,
            seed=sim.seed,
        )
        self.length = n + params.witness_len
        init = sim.rng("state.init").integers(-1000, 1000, self.length).astype(np.int64)
        self.states = [
            PeerState(
                0 if p in initial else -1,
                init.copy() if p in initial else np.zeros(self.length, dtype=np.int64),
            )
            for p in range(n)
        ]
        self.reference = init.copy()  # what the state should be without corruption
        self.alive = np.zeros(n, dtype=bool)
        self.alive[initial] = True
        self.incarnation = np.zeros(n, dtype=int)
        self.death_time = np.full(n, np.nan)
        self._attempt: _Attempt | None = None
        self._wake = sim.event()
        self.ledger: list[AllReduceRecord] = []  # with keep_ledger: completed all-reduces
        self.accept_log: list[tuple[float, tuple[int, ...]]] = []  # (time, newly accepted)
        self.sync_log: list[tuple[float, dict[int, int]]] = []  # (time, peer -> revision)
        self.revision_log: list[int] = [0]
        self._last_rev = np.array([s.revision for s in self.states])
        self._cap_ref: dict[tuple[int, ...], float] = {}
        self.time_in = dict.fromkeys(PHASES, 0.0)
        m = sim.metrics
        self.world = m.level("world_size")
        names = (
            "allreduces",
            "retries",
            "skipped_steps",
            "stalls",
            "syncs",
            "refetches",
            "rollbacks",
            "corrupt_adoptions",
            "corruptions",
            "joins_accepted",
            "departures",
            "arrivals",
            "failed_rounds",
            "sum_errors",
            "parity_errors",
            "revision_errors",
            "lost_contributions",
            "double_counted",
            "useful_bits",
            "wasted_bits",
        )
        self.c = {k: m.counter(k) for k in names}
        self.ar_time = m.timeseries("allreduce_time_s")
        self.busbw = m.timeseries("busbw_bps")
        self.utilisation = m.timeseries("wan_utilisation")
        self.ar_world = m.timeseries("allreduce_world")
        order = sim.rng("join_order").permutation(initial).tolist()
        for p in order:
            self.master.register(int(p), 0)
        sim.process(self._churn())
        sim.process(self._loop())

    # -- helpers -------------------------------------------------------------------------------
    def _up(self, p: int) -> bool:
        """Alive and still the incarnation the master knows."""
        return bool(self.alive[p]) and self.master.incarnation.get(p) == self.incarnation[p]

    def _wait(self, seconds: float, phase: str):
        self.time_in[phase] += seconds
        return self.sim.timeout(seconds)

    def _set_world(self) -> None:
        self.world.set(len(self.master.accepted))

    def _drop(self, p: int) -> None:
        self.master.drop(p)
        self._set_world()

    # -- churn ---------------------------------------------------------------------------------
    def _churn(self):
        sim = self.sim
        for ev in self.events:
            yield sim.timeout(max(0.0, ev.time_s - sim.now))  # float round-off
            p = ev.peer
            if ev.kind == "leave":
                self.alive[p] = False
                self.death_time[p] = sim.now
                self.c["departures"].add()
                att = self._attempt
                if att is not None and p in att.peers and not att.abort.triggered:
                    att.abort.succeed(sim.now)
                sim.schedule(self.p.detect_s, self._detected, p, int(self.incarnation[p]))
            else:
                self.alive[p] = True
                self.incarnation[p] += 1
                self.c["arrivals"].add()
                sim.schedule(self.rtt_master[p], self._register, p, int(self.incarnation[p]))

    def _detected(self, p: int, inc: int) -> None:
        if self.master.incarnation.get(p) == inc:
            self._drop(p)

    def _register(self, p: int, inc: int) -> None:
        if not (self.alive[p] and self.incarnation[p] == inc):
            return
        if self.master.knows(p):  # its previous incarnation's connection is dead
            self._drop(p)
        self.master.register(p, inc)
        if not self._wake.triggered:
            self._wake.succeed()

    def _await_detection(self, dead: list[int], phase: str):
        """Wait until the master's timeout has dropped every peer in ``dead``."""
        until = max(self.death_time[p] + self.p.detect_s for p in dead)
        yield self._wait(max(0.0, until - self.sim.now), phase)
        for p in dead:  # normally already dropped by _detected at this very instant
            if self.master.knows(p) and not self._up(p):
                self._drop(p)

    def _control_round(self, phase: str):
        """One request/answer round between the master and every accepted peer; repeats
        (after the timeout drops them) while some peer is dead. Returns the peers."""
        while True:
            peers = list(self.master.accepted)
            if not peers:
                return peers
            yield self._wait(float(self.rtt_master[peers].max()), phase)
            dead = [p for p in peers if not self._up(p)]
            if not dead:
                return peers
            self.c["failed_rounds"].add()
            yield from self._await_detection(dead, phase)

    # -- the loop ------------------------------------------------------------------------------
    def _loop(self):
        while True:
            yield from self._accept()
            if len(self.master.accepted) < 2:
                self.c["stalls"].add()
                t0 = self.sim.now
                self._wake = self.sim.event()
                yield self._wake
                self.time_in["idle"] += self.sim.now - t0
                continue
            if not (yield from self._sync()):
                self.c["skipped_steps"].add()
                continue
            yield self._wait(self.p.compute_s, "compute")
            contrib = self._contributions(sorted(self.master.accepted))
            result = yield from self._allreduce(contrib)
            if result is None:
                self.c["skipped_steps"].add()
                continue
            self._update(*result)

    def _accept(self):
        """Vote pending peers in, benchmark new pairs, re-form the ring, connect."""
        m = self.master
        while m.pending:
            voters = yield from self._control_round("vote")
            new = m.vote_accept(voters)
            if new is None:  # cannot happen after a clean round; kept as a guard
                raise RuntimeError("vote not unanimous after a clean control round")
            self._set_world()
            self.c["joins_accepted"].add(len(new))
            if self.p.keep_ledger:
                self.accept_log.append((self.sim.now, tuple(new)))
            cost = float(self.rtt_master[new].max()) if new else 0.0
            if m.policy == "optimised" and m.measure(m.accepted):
                cost += self.p.bench_s
            ring = np.asarray(m.ring(), dtype=int)
            if ring.size >= 2:
                cost += float(self.wan.rtt_s[ring, np.roll(ring, -1)].max())
            yield self._wait(cost, "vote")

    def _sync(self):
        """Shared-state sync among the accepted peers; False if fewer than 2 remain."""
        peers = yield from self._control_round("sync")
        if len(peers) < 2:
            return False
        st = self.states
        for p in peers:
            st[p].revision += 1  # the application's increment before the sync
        offers = {p: (st[p].revision, st[p].hash()) for p in peers}
        plan = plan_sync(offers, self.master.revision + 1, self.bw)
        if plan.fetches:
            src = np.fromiter(plan.fetches.values(), dtype=int)
            dst = np.fromiter(plan.fetches.keys(), dtype=int)
            fetch = self.latency[src, dst] + 8.0 * self.p.state_bytes / self.bw[src, dst]
            yield self._wait(float(fetch.max()), "sync")
        apply_sync({p: st[p] for p in peers}, plan)
        self.c["syncs"].add()
        self.c["refetches"].add(len(plan.fetches))
        if plan.rollback:
            self.c["rollbacks"].add()
        elif plan.popular_hash != content_hash(self.reference):
            self.c["corrupt_adoptions"].add()
        self.reference = st[peers[0]].data.copy()
        self.master.revision = plan.revision
        self.revision_log.append(plan.revision)
        revs = np.array([st[p].revision for p in peers])
        hashes = {st[p].hash() for p in peers}
        if np.any(revs != plan.revision) or np.any(revs < self._last_rev[peers]):
            self.c["revision_errors"].add()
        if len(hashes) != 1:
            self.c["parity_errors"].add()
        self._last_rev[peers] = revs
        if self.p.keep_ledger:
            self.sync_log.append((self.sim.now, {p: int(st[p].revision) for p in peers}))
        return True

    def _contributions(self, peers: list[int]) -> dict[int, np.ndarray]:
        g = self.sim.rng("gradients")
        noise = g.integers(-1000, 1000, (len(peers), self.p.witness_len))
        n = self.wan.n
        out = {}
        for row, p in enumerate(peers):
            v = np.zeros(self.length, dtype=np.int64)
            v[p] = 1
            v[n:] = noise[row]
            out[p] = v
        return out

    def _allreduce(self, contrib: dict[int, np.ndarray]):
        """Attempts until success (returns (ring, result, attempts)) or < 2 peers (None)."""
        sim, m = self.sim, self.master
        attempts = 0
        while True:
            ring = m.ring()
            if len(ring) < 2:
                return None
            attempts += 1
            r = np.asarray(ring, dtype=int)
            costs = ring_step_costs(r, self.bw, self.latency, self.p.message_bytes)
            ar = RingAllReduce([contrib[p] for p in ring], costs)
            chunk_bits = 8.0 * self.p.message_bytes / len(ring)
            dead = [p for p in ring if not self._up(p)]
            if dead:  # died before the start: survivors time out on their connections
                self.c["retries"].add()
                yield from self._await_detection(dead, "allreduce_failed")
                continue
            t0 = sim.now
            abort = sim.event()
            self._attempt = _Attempt(frozenset(ring), abort)
            yield sim.any_of([sim.timeout(ar.duration), abort])
            self._attempt = None
            if abort.triggered:
                elapsed = abort.value - t0
                ar.apply_steps(ar.steps_done_by(elapsed))  # partial buffers: discarded
                self.c["wasted_bits"].add(ar.chunks_sent_by(elapsed) * chunk_bits)
                self.time_in["allreduce_failed"] += sim.now - t0
                self.c["retries"].add()
                dead = [p for p in ring if not self._up(p)]
                yield from self._await_detection(dead, "allreduce_failed")
                continue
            self.time_in["allreduce_ok"] += ar.duration
            out = ar.run()
            inputs = np.stack([contrib[p] for p in ring])
            self._check(r, inputs, out)
            self._record(r, ar.duration, chunk_bits)
            if self.p.keep_ledger:
                self.ledger.append(AllReduceRecord(t0, sim.now, ring, inputs, out, attempts))
            return ring, out[0], attempts

    def _check(self, ring: np.ndarray, inputs: np.ndarray, out: np.ndarray) -> None:
        """The result on real numbers: every row the exact sum, every participant once."""
        expected = inputs.sum(axis=0)
        if not np.all(out == out[0]):
            self.c["parity_errors"].add()
        if not np.array_equal(out[0], expected):
            self.c["sum_errors"].add()
        counts = out[0][: self.wan.n]
        part = np.zeros(self.wan.n, dtype=bool)
        part[ring] = True
        self.c["lost_contributions"].add(int(np.count_nonzero(part & (counts == 0))))
        self.c["double_counted"].add(int(np.count_nonzero(counts[part] > 1)))
        self.c["double_counted"].add(int(np.count_nonzero(counts[~part] != 0)))

    def _record(self, ring: np.ndarray, duration: float, chunk_bits: float) -> None:
        n = ring.size
        self.c["allreduces"].add()
        self.c["useful_bits"].add(2 * (n - 1) * n * chunk_bits)
        busbw = ring_allreduce_busbw_bps(n, self.p.message_bytes, duration)
        self.ar_time.record(duration)
        self.busbw.record(busbw)
        self.utilisation.record(busbw / self._capacity_busbw(ring))
        self.ar_world.record(n)

    def _capacity_busbw(self, ring: np.ndarray) -> float:
        """The WAN's best bus bandwidth for these peers: the largest bottleneck link capacity
        of any ring (unlimited connections, no latency)."""
        key = tuple(sorted(int(p) for p in ring))
        ref = self._cap_ref.get(key)
        if ref is None:
            p = np.asarray(key)
            cap = self.wan.capacity_bps[np.ix_(p, p)]
            cost = np.divide(1.0, cap, out=np.full(cap.shape, np.inf), where=cap > 0)
            _, (bottleneck, _) = optimise_ring(cost, self.p.exact_max, seed=self.sim.seed)
            ref = self._cap_ref[key] = 1.0 / bottleneck
        return ref

    def _update(self, ring: tuple[int, ...], result: np.ndarray, _attempts: int) -> None:
        g = self.sim.rng("corruption")
        self.reference = self.reference + result
        for p in ring:
            self.states[p].data = self.states[p].data + result
            if self.p.corruption_prob and g.random() < self.p.corruption_prob:
                flip_bit(self.states[p].data, g)
                self.c["corruptions"].add()

    # -- results -------------------------------------------------------------------------------
    def run(self, horizon_s: float) -> None:
        self._set_world()
        self.sim.run(until=horizon_s)
