"""Packet-level transport on the engine, for small scales and for validating the fluid model.

Every switch output port is an unbounded FIFO queue: a packet waits its turn, is serialised
in ``8·size/capacity`` seconds and arrives at the next switch ``delay_s`` later
(store-and-forward). A host NIC serves its subflows (queue pairs) round-robin, one packet at a
time, as RDMA NICs arbitrate between QPs. A subflow is cut into MTU-sized packets and keeps at
most ``window_pkts`` packets unacknowledged; the receiver acknowledges each packet, and the
ACK reaches the sender one reverse propagation delay later (ACKs are not queued). A sprayed
subflow sends packet ``q`` on equal-cost path ``(q + offset) mod P`` (``round_robin``) or on
a uniformly random path (``random``); the receiver counts packets that arrive after a
higher-numbered one (reordering). Windows make flows that share a FIFO bottleneck get
near-equal throughput, so completion times approach the max-min fluid model as messages grow
(validated within 5% on small collectives). With ``queue="fair"`` switch ports serve their
subflows round-robin instead, the packet-level counterpart of max-min fairness.

Packet events (transmission ends, arrivals, ACKs) run from the transport's own calendar, in
one loop, not as one engine event each; the order is exactly the engine's (section
"calendar" below), so results are those of the one-timeout-per-event model, bit for bit.
"""

from __future__ import annotations

from collections import deque
from heapq import heapify, heappop, heappush, heapreplace

import numpy as np

from netsim import Simulation

from .flowsim import Callbacks
from .network import SPRAY, Network

__all__ = ["PacketTransport"]


class _Fair:
    """Per-flow queues served round-robin, one packet per turn (fair queueing for equal
    packet sizes; Demers, Keshav & Shenker, SIGCOMM 1989): the packet analogue of max-min."""

    __slots__ = ("_q", "_order", "_n")

    def __init__(self):
        self._q: dict[int, deque] = {}
        self._order: deque = deque()
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, pkt: list) -> None:
        q = self._q.get(pkt[0])
        if q is None:
            q = self._q[pkt[0]] = deque()
            self._order.append(pkt[0])
        q.append(pkt)
        self._n += 1

    def popleft(self) -> list:
        fid = self._order.popleft()
        q = self._q[fid]
        pkt = q.popleft()
        if q:
            self._order.append(fid)
        else:
            del self._q[fid]
        self._n -= 1
        return pkt


class _Wake:
    """The one engine event that hands control to a transport's calendar loop. The engine's
    ``step`` reads only ``callbacks``, ``_ok`` and ``_value``; ``__lt__`` lets two wakes with
    the same key (a superseded one and its successor) sit in the engine's heap together."""

    __slots__ = ("callbacks", "_ok", "_value")

    def __init__(self, callback):
        self.callbacks = [callback]
        self._ok = True
        self._value = None

    def __lt__(self, other) -> bool:
        return False


# calendar event kinds (RoceTransport adds its own from _N_KINDS on)
_TX, _ARRIVE, _ACK, _N_KINDS = 0, 1, 2, 3
_INF = float("inf")


class _NoLane:
    """The lane of events scheduled at an arbitrary time (``_push``): always empty, so the
    loop's "pop the head off its lane, promote the next" is a plain heap pop for them."""

    __slots__ = ()

    def popleft(self) -> None:
        return None

    def __len__(self) -> int:
        return 0


_NO_LANE = _NoLane()


class _Flow:
    __slots__ = (
        "routes",
        "rr",
        "n_pkts",
        "next_seq",
        "inflight",
        "delivered",
        "expected",
        "ahead",
        "max_seen",
        "queued",
        "size",
        "last_size",
        "owner",
        "cb",
        "links",
        "frac",
        "ack_delay",
        "nic",
        "ack_lane",
    )


class PacketTransport:
    """Packet-level transport of subflows over ``net``.

    Args:
        sim, net: engine and network.
        mtu_bytes: payload bytes per packet.
        window_pkts: unacknowledged packets per subflow.
        spray: ``round_robin`` or ``random`` path choice per packet of a sprayed subflow.
        queue: switch ports serve ``fifo`` or ``fair`` (per-subflow round-robin).

    Attributes:
        events: packet events processed (transmission ends, arrivals, ACKs).
        link_bytes: bytes transmitted per link; max_queue_pkts: deepest queue per link.
        reordered: packets that arrived after a packet with a higher sequence number;
        max_reorder_pkts: largest out-of-order buffer a receiver needed.
        queue_delay_s: summed time packets spent waiting in queues.
    """

    def __init__(
        self,
        sim: Simulation,
        net: Network,
        mtu_bytes: int = 4096,
        window_pkts: int = 64,
        spray: str = "round_robin",
        queue: str = "fifo",
    ):
        if mtu_bytes < 64:
            raise ValueError(f"mtu_bytes: must be >= 64 (got {mtu_bytes})")
        if window_pkts < 1:
            raise ValueError(f"window_pkts: must be >= 1 (got {window_pkts})")
        if spray not in ("round_robin", "random"):
            raise ValueError(f"spray: unknown {spray!r} (allowed: round_robin, random)")
        if queue not in ("fifo", "fair"):
            raise ValueError(f"queue: unknown {queue!r} (allowed: fifo, fair)")
        self.sim, self.net = sim, net
        self.env = sim.env
        self._heap, self._eid = sim.env._queue, sim.env._eid  # the engine's heap and ids
        self._cal: list = []  # calendar heap: (time_s, engine id, kind, a, b, lane), see _push
        self._lanes: dict[float, deque] = {}  # FIFO lane per fixed delay, see _lane
        self._wake_ev: _Wake | None = None  # the engine event due at the calendar's head
        self._wake_key: tuple | None = None
        self._running = False
        self._handlers = [self._tx_done, self._arrive, self._ack]  # by kind (the general loop)
        self._inline = not type(self)._handlers_overridden()
        self._loop = self._run if self._inline else self._run_dispatch  # see _on_wake
        self.mtu, self.window, self.spray = int(mtu_bytes), int(window_pkts), spray
        self._rng = sim.rng("transport.packet.spray")
        n = net.n_links
        port = deque if queue == "fifo" else _Fair
        self._queues = [port() for _ in range(n)]  # switch output ports
        self._nic = {int(x): deque() for x in net.host_up}  # NIC ports: ready subflow ids
        self._isnic = [False] * n
        for x in self._nic:
            self._isnic[x] = True
        self._busy = [False] * n
        self._ser = (8.0 / net.capacity_bps).tolist()  # s per byte
        self._prop = net.delay_s.tolist()
        self._lb = [0.0] * n  # bytes sent per link (lists: cheaper than numpy scalars)
        self._tx_d = [self.mtu * s for s in self._ser]  # a full packet's serialisation (s)
        self._tx_lane = [self._lane(d) for d in self._tx_d]
        self._prop_lane = [self._lane(d) for d in self._prop]
        self._mq = [0] * n  # deepest queue per link (packets)
        self._flows: dict[int, _Flow] = {}
        self._next_id = 0
        self._callbacks = Callbacks()
        self.events = 0
        self.packets = 0
        self.reordered = 0
        self.max_reorder_pkts = 0
        self.queue_delay_s = 0.0
        self.delivered_bytes = 0.0
        #: optional path selector (:class:`transport.pathselect.PathSelector`): told of every
        #: new subflow in :meth:`add`, asked for packet paths in :meth:`_route`
        self.selector = None

    # -- public -----------------------------------------------------------------------------
    @property
    def link_bytes(self) -> np.ndarray:
        """Bytes transmitted per link so far."""
        return np.asarray(self._lb, dtype=float)

    @property
    def max_queue_pkts(self) -> np.ndarray:
        """Deepest queue per link (packets)."""
        return np.asarray(self._mq, dtype=np.int64)

    def add(self, src, dst, path, nbytes, owner, done, rows=None) -> None:
        """Start subflows (see :meth:`transport.flowsim.FlowTransport.add`)."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        path = np.broadcast_to(np.asarray(path, dtype=np.int64), src.shape)
        nbytes = np.asarray(nbytes, dtype=float)
        owner = np.broadcast_to(np.asarray(owner), src.shape)
        if np.any(nbytes <= 0):
            raise ValueError("nbytes: every subflow needs a size > 0")
        cb = self._callbacks.index_of(done)
        links, frac = self.net.route_rows(src, dst, path) if rows is None else rows
        n_p = self.net.n_paths(src, dst)
        for i in range(src.size):
            f = self._new_flow()
            k = int(n_p[i]) if path[i] == SPRAY else 1
            p = np.arange(k) if path[i] == SPRAY else np.asarray([path[i]])
            rows = self.net.paths(np.full(k, src[i]), np.full(k, dst[i]), p)
            f.routes = [tuple(r[r >= 0].tolist()) for r in rows]
            f.rr = int(self._rng.integers(k)) if k > 1 else 0
            f.n_pkts = int(np.ceil(nbytes[i] / self.mtu))
            f.last_size = float(nbytes[i] - (f.n_pkts - 1) * self.mtu)
            f.size = float(nbytes[i])
            f.next_seq = f.inflight = f.delivered = f.expected = 0
            f.ahead = set()
            f.max_seen = -1
            f.queued = False
            f.owner, f.cb = owner[i].item(), cb
            f.links, f.frac = links[i], frac[i]
            f.ack_delay = sum(self._prop[x] for x in f.routes[0])
            f.nic = f.routes[0][0]
            f.ack_lane = self._lane(f.ack_delay)
            fid = self._next_id
            self._next_id += 1
            self._flows[fid] = f
            if self.selector is not None:
                self.selector.added(fid, f, int(src[i]), int(dst[i]))
            self._send(fid, f)

    def outstanding_bytes(self) -> np.ndarray:
        """Bytes not yet delivered, spread over each subflow's route(s)."""
        out = np.zeros(self.net.n_links)
        for f in self._flows.values():
            left = f.size - min(f.delivered * self.mtu, f.size)
            m = f.links >= 0
            np.add.at(out, f.links[m], f.frac[m] * left)
        return out

    def _new_flow(self) -> _Flow:
        """A blank subflow record (subclasses add their own state)."""
        return _Flow()

    # -- calendar -----------------------------------------------------------------------------
    # Packet events live in the transport's own calendar and are processed by a loop
    # (:meth:`_run`) instead of one engine event each. An event is a plain tuple
    # ``(time_s, id, kind, a, b, lane)``.
    #
    # Tie rule: ``id`` comes from the engine's own counter at the moment the event is
    # scheduled and a calendar event counts as an engine event of priority NORMAL, so the loop
    # runs its next event only while ``(time_s, NORMAL, id)`` sorts before the engine's next
    # entry ``(time, priority, id)``; otherwise it leaves one wake-up event on the engine's
    # heap with exactly that key and returns. The merged order is therefore the one the engine
    # would have used had every packet event been an ``env.timeout``: results are bit-identical
    # to that model (tests/transport/test_transport_packet_golden.py).
    #
    # Lanes: events scheduled a fixed delay ``d`` after "now" (serialisation of a full packet
    # on a link, propagation, an ACK's return) are created in ``(time_s, id)`` order, since the
    # clock never goes back and float addition is monotone. Each distinct ``d`` has a FIFO lane
    # (a deque); only a lane's head sits in the heap ``_cal``, which so holds a handful of
    # entries instead of every packet in flight. Other delays go to the heap directly
    # (``lane`` is ``_NO_LANE``, always empty).
    def _lane(self, delay_s: float) -> deque:
        """The FIFO lane of events scheduled ``delay_s`` after now (created on first use)."""
        lane = self._lanes.get(delay_s)
        if lane is None:
            lane = self._lanes[delay_s] = deque()
        return lane

    def _push(self, t: float, kind: int, a, b=None) -> None:
        """Schedule calendar event ``kind`` with payload ``(a, b)`` at absolute time ``t``."""
        heappush(self._cal, (t, next(self._eid), kind, a, b, _NO_LANE))
        if not self._running:
            self._arm()

    def _push_in(self, delay_s: float, kind: int, a, b=None) -> None:
        """Schedule calendar event ``kind`` ``delay_s`` after now (through its lane)."""
        lane = self._lanes.get(delay_s)
        if lane is None:
            lane = self._lanes[delay_s] = deque()
        ent = (self.env._now + delay_s, next(self._eid), kind, a, b, lane)
        if not lane:
            heappush(self._cal, ent)
        lane.append(ent)
        if not self._running:
            self._arm()

    def _push_lane(self, lane: deque, t: float, kind: int, a, b=None) -> None:
        """Schedule calendar event ``kind`` at ``t`` = now + the delay of ``lane``."""
        ent = (t, next(self._eid), kind, a, b, lane)
        if not lane:
            heappush(self._cal, ent)
        lane.append(ent)
        if not self._running:
            self._arm()

    def _cancel(self, match) -> list:
        """Remove the pending calendar events ``(kind, a, b)`` for which ``match`` is true and
        return them (rare: a failed link's packets); lanes stay FIFO, the heap is rebuilt."""
        gone, keep = [], []
        for ent in self._cal:
            if ent[5] is _NO_LANE:
                (gone if match(ent[2], ent[3], ent[4]) else keep).append(ent)
        for lane in self._lanes.values():
            if lane:
                kept = [e for e in lane if not match(e[2], e[3], e[4])]
                gone += [e for e in lane if match(e[2], e[3], e[4])]
                lane.clear()
                lane.extend(kept)
                if kept:
                    keep.append(kept[0])
        self._cal[:] = keep
        heapify(self._cal)
        return [(e[2], e[3], e[4]) for e in sorted(gone)]

    def _arm(self) -> None:
        """Make sure an engine event is due at the calendar's head (a new earlier head gets a
        new wake; the one it supersedes fires later and does nothing)."""
        cal = self._cal
        if not cal:
            return
        t, eid = cal[0][0], cal[0][1]
        k = self._wake_key
        if k is not None and (k[0] < t or (k[0] == t and k[1] <= eid)):
            return
        w = _Wake(self._on_wake)
        self._wake_ev, self._wake_key = w, (t, eid)
        heappush(self._heap, (t, 1, eid, w))

    def _on_wake(self, w: _Wake) -> None:
        if w is not self._wake_ev:
            return  # superseded by an earlier head
        self._wake_ev = self._wake_key = None
        self._running = True
        try:
            self._loop()
        finally:
            self._running = False
        self._arm()

    def _run(self) -> None:
        """The calendar loop with the plain model's three events inlined (``_tx_done``,
        ``_arrive`` and ``_ack`` are the same steps as methods, which subclasses' loop
        :meth:`_run_dispatch` calls). Runs until the engine's next event comes first."""
        cal, eh, env = self._cal, self._heap, self.env
        nexteid = self._eid.__next__
        busy, lb, mq, ser = self._busy, self._lb, self._mq, self._ser
        prop, prop_lane, tx_d, tx_lane = self._prop, self._prop_lane, self._tx_d, self._tx_lane
        queues, nicq, isnic, flows = self._queues, self._nic, self._isnic, self._flows
        route_fn, nic_next, lane_of = self._route, self._nic_next, self._lane
        deliver = self._deliver
        mtu, window = self.mtu, self.window
        # the engine's next entry (time, priority, id); only the code this loop calls out to
        # (the done callback, _route, _nic_next) can schedule engine events: re-read after it
        top = eh[0] if eh else None
        et, ep, ee = (top[0], top[1], top[2]) if top is not None else (_INF, 1, 0)
        n_ev = n_pk = 0
        qd = self.queue_delay_s
        t = env._now  # the engine's clock is set only before code that may read it
        try:
            while cal:
                ent = cal[0]
                t, eid, kind, a, pkt, lane = ent
                if t >= et and (t > et or ep < 1 or eid > ee):
                    break  # the engine's event comes first
                lane.popleft()  # take the head off its lane (the next one, if any, is the head)
                if lane:
                    heapreplace(cal, lane[0])
                else:
                    heappop(cal)
                n_ev += 1
                if kind == 2:  # ACK for subflow ``a``
                    fid = a
                    f = flows.get(fid)
                    if f is None:
                        continue
                    f.inflight -= 1
                    if f.next_seq < f.n_pkts:
                        if not f.queued and f.inflight < window:  # _send → _to_nic
                            nic = f.nic
                            f.queued = True
                            nicq[nic].append(fid)
                            if not busy[nic]:
                                env._now = t
                                nic_next(nic)
                                if eh and eh[0] is not top:
                                    top = eh[0]
                                    et, ep, ee = top[0], top[1], top[2]
                    elif f.inflight == 0 and f.delivered == f.n_pkts:
                        del flows[fid]
                    continue
                elif kind == 1:  # arrival at the end of link route[hop] (packet ``a``)
                    pkt = a
                    hop = pkt[3] + 1
                    pkt[3] = hop
                    route = pkt[2]
                    if hop == len(route):  # delivered: reorder, ACK, completion
                        fid, seq = pkt[0], pkt[1]
                        f = flows[fid]
                        env._now = t  # a path selector's reorder buffer reads the clock
                        deliver(f, seq)
                        ln = f.ack_lane
                        ent = (t + f.ack_delay, nexteid(), 2, fid, None, ln)
                        if not ln:
                            heappush(cal, ent)
                        ln.append(ent)
                        if f.delivered == f.n_pkts:
                            self.delivered_bytes += f.size
                            self.events += n_ev
                            self.packets += n_pk
                            self.queue_delay_s = qd
                            n_ev = n_pk = 0
                            env._now = t
                            self._callbacks[f.cb](np.asarray([f.owner]), np.zeros(1))
                            qd = self.queue_delay_s
                            if eh and eh[0] is not top:
                                top = eh[0]
                                et, ep, ee = top[0], top[1], top[2]
                        continue
                    link = route[hop]  # switch: join the next link's queue, or transmit
                    if busy[link]:
                        q = queues[link]
                        pkt[5] = t
                        q.append(pkt)
                        if len(q) > mq[link]:
                            mq[link] = len(q)
                        continue
                    busy[link] = True
                    size = pkt[4]
                else:  # kind 0: link ``a`` finished serialising packet ``pkt``
                    link = a
                    ln = prop_lane[link]
                    ent = (t + prop[link], nexteid(), 1, pkt, None, ln)
                    if not ln:
                        heappush(cal, ent)
                    ln.append(ent)
                    if isnic[link]:  # the NIC's next packet (_nic_next, inlined)
                        ready = nicq[link]
                        if not ready:
                            busy[link] = False
                            continue
                        fid = ready.popleft()
                        f = flows[fid]
                        seq = f.next_seq
                        f.next_seq = seq + 1
                        f.inflight += 1
                        env._now = t
                        route = route_fn(f, seq)
                        if eh and eh[0] is not top:
                            top = eh[0]
                            et, ep, ee = top[0], top[1], top[2]
                        if f.inflight < window and f.next_seq < f.n_pkts:
                            ready.append(fid)
                        else:
                            f.queued = False
                        n_pk += 1
                        pkt = [fid, seq, route, 0, mtu, 0.0]
                        if seq == f.n_pkts - 1:
                            size = pkt[4] = f.last_size
                        else:
                            size = mtu
                    else:
                        q = queues[link]
                        if not q:
                            busy[link] = False
                            continue
                        pkt = q.popleft()
                        qd += t - pkt[5]
                        size = pkt[4]
                # transmit ``pkt`` (``size`` bytes) on the idle or just-freed ``link``
                lb[link] += size
                if size == mtu:
                    ln = tx_lane[link]
                    ent = (t + tx_d[link], nexteid(), 0, link, pkt, ln)
                else:
                    d = size * ser[link]
                    ln = lane_of(d)
                    ent = (t + d, nexteid(), 0, link, pkt, ln)
                if not ln:
                    heappush(cal, ent)
                ln.append(ent)
            else:
                env._now = t
        finally:
            self.events += n_ev
            self.packets += n_pk
            self.queue_delay_s = qd

    @classmethod
    def _handlers_overridden(cls) -> bool:
        """True if a subclass replaces a step of the packet's life, so the inlined loop
        would skip it; it then runs :meth:`_run_dispatch`."""
        base = PacketTransport
        return any(
            getattr(cls, m) is not getattr(base, m)
            for m in ("_tx_done", "_arrive", "_ack", "_send", "_to_nic", "_nic_next",
                      "_enqueue", "_transmit", "_run")
        )

    def _run_dispatch(self) -> None:
        """The calendar loop with one method call per event (``self._handlers[kind](a, b)``),
        for subclasses that override steps or add event kinds."""
        cal, eh, env, handlers = self._cal, self._heap, self.env, self._handlers
        top = eh[0] if eh else None
        et, ep, ee = (top[0], top[1], top[2]) if top is not None else (_INF, 1, 0)
        while cal:
            ent = cal[0]
            t, eid, kind, a, b, lane = ent
            if eh:
                if eh[0] is not top:
                    top = eh[0]
                    et, ep, ee = top[0], top[1], top[2]
                if t > et or (t == et and (ep < 1 or eid > ee)):
                    break
            lane.popleft()
            if lane:
                heapreplace(cal, lane[0])
            else:
                heappop(cal)
            env._now = t
            handlers[kind](a, b)

    # -- packet life --------------------------------------------------------------------------
    # ``_run`` inlines _tx_done, _arrive and _ack (with _enqueue, _transmit, _nic_next and
    # _send on their hot paths) and calls ``_route`` once per packet (the clock set). A
    # subclass that overrides any of them gets ``_run_dispatch``; an edit here must be made in
    # ``_run`` too (tests/transport/test_transport_packet_golden.py compares the two loops).
    def _send(self, fid: int, f: _Flow) -> None:
        """If the subflow may send (window, packets left), queue it at its NIC."""
        if f.queued or f.inflight >= self.window or f.next_seq >= f.n_pkts:
            return
        self._to_nic(fid, f)

    def _to_nic(self, fid: int, f: _Flow) -> None:
        """Put subflow ``fid`` on its NIC's round-robin list; start the NIC if idle."""
        nic = f.nic
        f.queued = True
        self._nic[nic].append(fid)
        if not self._busy[nic]:
            self._nic_next(nic)

    def _route(self, f: _Flow, seq: int) -> tuple:
        """The path of packet ``seq`` of ``f``: its only route, or sprayed (round-robin from
        ``f.rr``, or uniformly at random from the spray stream), unless a path selector
        picks it."""
        sel = self.selector
        if sel is not None and sel.pick is not None:
            return sel.pick(f, seq)
        k = len(f.routes)
        if k == 1:
            return f.routes[0]
        if self.spray == "round_robin":
            return f.routes[(seq + f.rr) % k]
        return f.routes[int(self._rng.integers(k))]

    def _nic_next(self, nic: int) -> None:
        """Transmit the next packet of the next ready subflow (round-robin) on ``nic``."""
        ready = self._nic[nic]
        if not ready:
            self._busy[nic] = False
            return
        fid = ready.popleft()
        f = self._flows[fid]
        seq = f.next_seq
        f.next_seq += 1
        f.inflight += 1
        route = self._route(f, seq)
        if f.inflight < self.window and f.next_seq < f.n_pkts:
            ready.append(fid)  # back of the round-robin list
        else:
            f.queued = False
        size = f.last_size if seq == f.n_pkts - 1 else self.mtu
        self.packets += 1
        self._transmit(nic, [fid, seq, route, 0, size, 0.0])

    def _enqueue(self, pkt: list) -> None:
        link = pkt[2][pkt[3]]
        if self._busy[link]:
            q = self._queues[link]
            pkt[5] = self.env._now
            q.append(pkt)
            if len(q) > self._mq[link]:
                self._mq[link] = len(q)
        else:
            self._transmit(link, pkt)

    def _transmit(self, link: int, pkt: list) -> None:
        self._busy[link] = True
        size = pkt[4]
        self._lb[link] += size
        if size == self.mtu:
            self._push_lane(self._tx_lane[link], self.env._now + self._tx_d[link], _TX, link, pkt)
        else:
            self._push_in(size * self._ser[link], _TX, link, pkt)

    def _tx_done(self, link: int, pkt: list) -> None:
        self.events += 1
        self._push_lane(self._prop_lane[link], self.env._now + self._prop[link], _ARRIVE, pkt)
        if self._isnic[link]:
            self._nic_next(link)
            return
        q = self._queues[link]
        if q:
            nxt = q.popleft()
            self.queue_delay_s += self.env._now - nxt[5]
            self._transmit(link, nxt)
        else:
            self._busy[link] = False

    def _arrive(self, pkt: list, _=None) -> None:
        self.events += 1
        pkt[3] += 1
        if pkt[3] < len(pkt[2]):
            self._enqueue(pkt)
            return
        fid, seq = pkt[0], pkt[1]
        f = self._flows[fid]
        self._deliver(f, seq)
        self._push_lane(f.ack_lane, self.env._now + f.ack_delay, _ACK, fid)
        if f.delivered == f.n_pkts:
            self.delivered_bytes += f.size
            self._callbacks[f.cb](np.asarray([f.owner]), np.zeros(1))

    def _deliver(self, f: _Flow, seq: int) -> None:
        """Packet ``seq`` of ``f`` reached its receiver: count it, note reordering, and move
        the in-order point past the packets held in the out-of-order set ``f.ahead``."""
        f.delivered += 1
        if seq < f.max_seen:
            self.reordered += 1
        else:
            f.max_seen = seq
        if seq == f.expected:
            f.expected += 1
            ahead = f.ahead
            if ahead:
                while f.expected in ahead:
                    ahead.discard(f.expected)
                    f.expected += 1
        else:
            f.ahead.add(seq)
            if len(f.ahead) > self.max_reorder_pkts:
                self.max_reorder_pkts = len(f.ahead)

    def _ack(self, fid: int, _=None) -> None:
        self.events += 1
        f = self._flows.get(fid)
        if f is None:
            return
        f.inflight -= 1
        if f.next_seq < f.n_pkts:
            self._send(fid, f)
        elif f.inflight == 0 and f.delivered == f.n_pkts:
            del self._flows[fid]
