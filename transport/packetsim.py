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
"""

from __future__ import annotations

from collections import deque
from heapq import heappush

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


class _Timer:
    """A bare timeout for the engine's event loop, which reads only ``callbacks``, ``_ok``
    and ``_value`` (``simpy.Environment.step``). Pushed on the heap exactly as
    ``simpy.Environment.schedule`` pushes a ``Timeout`` (same time, priority and id counter),
    so the event order and every result equal ``env.timeout``'s; it skips the ``Timeout``
    constructor, the packet mode's largest single cost."""

    __slots__ = ("callbacks", "_ok", "_value", "value")

    def __init__(self, value, callback):
        self.callbacks = [callback]
        self._ok = True
        self._value = self.value = value


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
        events: engine callbacks processed (packet transmissions, arrivals, ACKs).
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
        self._heap, self._eid = sim.env._queue, sim.env._eid  # see _Timer
        self.mtu, self.window, self.spray = int(mtu_bytes), int(window_pkts), spray
        self._rng = sim.rng("transport.packet.spray")
        n = net.n_links
        port = deque if queue == "fifo" else _Fair
        self._queues = [port() for _ in range(n)]  # switch output ports
        self._nic = {int(x): deque() for x in net.host_up}  # NIC ports: ready subflow ids
        self._busy = [False] * n
        self._ser = (8.0 / net.capacity_bps).tolist()  # s per byte
        self._prop = net.delay_s.tolist()
        self._lb = [0.0] * n  # bytes sent per link (lists: cheaper than numpy scalars)
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

    # -- packet life --------------------------------------------------------------------------
    def _send(self, fid: int, f: _Flow) -> None:
        """If the subflow may send (window, packets left), queue it at its NIC."""
        if f.queued or f.inflight >= self.window or f.next_seq >= f.n_pkts:
            return
        self._to_nic(fid, f)

    def _to_nic(self, fid: int, f: _Flow) -> None:
        """Put subflow ``fid`` on its NIC's round-robin list; start the NIC if idle."""
        nic = f.routes[0][0]
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
            pkt[5] = self.env.now
            q.append(pkt)
            if len(q) > self._mq[link]:
                self._mq[link] = len(q)
        else:
            self._transmit(link, pkt)

    def _transmit(self, link: int, pkt: list) -> None:
        self._busy[link] = True
        size = pkt[4]
        self._lb[link] += size
        env = self.env  # env.timeout(size·8/C, (link, pkt)) → _tx_done
        timer = _Timer((link, pkt), self._tx_done)
        heappush(self._heap, (env._now + size * self._ser[link], 1, next(self._eid), timer))

    def _tx_done(self, ev) -> None:
        self.events += 1
        link, pkt = ev.value
        env = self.env  # env.timeout(delay, pkt) → _arrive
        timer = _Timer(pkt, self._arrive)
        heappush(self._heap, (env._now + self._prop[link], 1, next(self._eid), timer))
        if link in self._nic:
            self._nic_next(link)
            return
        q = self._queues[link]
        if q:
            nxt = q.popleft()
            self.queue_delay_s += self.env.now - nxt[5]
            self._transmit(link, nxt)
        else:
            self._busy[link] = False

    def _arrive(self, ev) -> None:
        self.events += 1
        pkt = ev.value
        pkt[3] += 1
        if pkt[3] < len(pkt[2]):
            self._enqueue(pkt)
            return
        fid, seq = pkt[0], pkt[1]
        f = self._flows[fid]
        f.delivered += 1
        if seq < f.max_seen:
            self.reordered += 1
        else:
            f.max_seen = seq
        if seq == f.expected:
            f.expected += 1
            while f.expected in f.ahead:
                f.ahead.discard(f.expected)
                f.expected += 1
        else:
            f.ahead.add(seq)
            self.max_reorder_pkts = max(self.max_reorder_pkts, len(f.ahead))
        timer = _Timer(fid, self._ack)  # env.timeout(ack_delay, fid) → _ack
        heappush(self._heap, (self.env._now + f.ack_delay, 1, next(self._eid), timer))
        if f.delivered == f.n_pkts:
            self.delivered_bytes += f.size
            self._callbacks[f.cb](np.asarray([f.owner]), np.zeros(1))

    def _ack(self, ev) -> None:
        self.events += 1
        fid = ev.value
        f = self._flows.get(fid)
        if f is None:
            return
        f.inflight -= 1
        if f.next_seq < f.n_pkts:
            self._send(fid, f)
        elif f.inflight == 0 and f.delivered == f.n_pkts:
            del self._flows[fid]
