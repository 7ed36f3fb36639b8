"""RoCE-like packet transport: finite buffers, ECN, PFC, DCQCN or Swift, drops and go-back-N.

:class:`RoceTransport` extends :class:`~transport.packetsim.PacketTransport` (whose fast path
is untouched: with no :class:`RoceOptions` the study runs the plain model, bit-identical) with:

* **Finite buffers.** Lossless (PFC on): each switch ingress port owns ``buffer_bytes`` (a
  static per-port partition of the shared buffer, as PFC accounts it): a packet counts against
  the port it came in on from its arrival until its last bit leaves the egress port. Lossy
  (PFC off): each egress queue holds at most ``buffer_bytes`` and drops the tail beyond.
* **ECN** (RED on the egress queue; Floyd & Jacobson 1993, as DCQCN uses it): a packet that
  joins an egress queue holding ``q`` bytes is marked with probability 0 for ``q ≤ Kmin``,
  ``Pmax·(q − Kmin)/(Kmax − Kmin)`` in between and 1 for ``q ≥ Kmax``.
* **PFC** (IEEE 802.1Qbb): when an ingress port holds ``≥ Xoff`` bytes the switch sends PAUSE
  upstream; it reaches the sender one propagation delay later, which then starts no new packet
  on that link until RESUME (sent when the port drains to ``≤ Xon``). The paused port is a FIFO,
  so every flow behind it waits (head-of-line blocking). Lossless guarantee: after PAUSE is
  sent the port can still receive the packet on the wire, a full link's worth of bytes in
  flight for two propagation delays and one more packet whose serialisation had started, so
  ``Xoff = buffer − (2·C·d/8 + 2·MTU)`` (the headroom, Cisco/Mellanox PFC headroom formula
  without cable/PHY terms). With PFC on a drop is a configuration error and raises.
* **DCQCN** (Zhu et al., *Congestion Control for Large-Scale RDMA Deployments*, SIGCOMM 2015,
  Fig. 7 and §4): the receiver (NP) returns a CNP for a marked packet, at most one per flow
  per ``cnp_interval_s``; the sender (RP) paces its QP at rate ``Rc`` and on a CNP sets
  ``Rt ← Rc, Rc ← Rc(1 − α/2), α ← (1 − g)α + g``; α decays as ``(1 − g)`` per ``K`` without
  CNP; every ``T`` without CNP the rate rises: fast recovery ``Rc ← (Rt + Rc)/2`` for ``F``
  periods, then additive increase ``Rt ← Rt + R_AI`` first. (Timer-driven increase only: the
  byte counter, B = 10 MB, fires about every 0.8 ms at 100 Gb/s and is left out.)
* **Swift** (Kumar et al., SIGCOMM 2020; the fabric-delay part of Alg. 1), the window-based
  alternative (``cc="swift"``): each ACK carries its packet's switch queueing delay ``d``;
  below ``swift_target_s`` the window grows by ``ai/cwnd`` per ACK, above it shrinks, at most
  once per RTT, by ``max(1 − β(d − target)/d, 1 − max_mdf)``; ``1 ≤ cwnd ≤ window_pkts``.
* **Loss recovery, lossy mode (PFC off).** Go-back-N as RoCEv2 NICs do it: the receiver
  accepts only the next expected packet, discards anything else and sends one NAK per gap;
  a NAK or a retransmission timeout (``rto_s`` without cumulative ACK progress) makes the
  sender resend from the first unacknowledged packet. Sprayed flows therefore pay for
  reordering with spurious go-backs, as they do on NICs without out-of-order placement.
  With PFC on, the receiver places packets out of order (a reorder buffer, as the plain
  packet model does) and acknowledges each one.

ACKs, NAKs and CNPs travel back one path propagation delay, unqueued (as in the plain model).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from heapq import heappop, heappush, heapreplace

import numpy as np

from netsim import Simulation
from netsim.rng import Buffered

from .network import Network
from .packetsim import _ARRIVE, _INF, _N_KINDS, _TX, PacketTransport, _Flow

__all__ = ["RoceOptions", "RoceTransport", "pfc_headroom_bytes", "red_mark_probability"]

# calendar event kinds beyond the plain model's (transport.packetsim._push)
_WAKE, _PAUSE, _GBN_ACK, _NAK, _RTO, _CNP, _INCREASE = range(_N_KINDS, _N_KINDS + 7)


@dataclass(frozen=True)
class RoceOptions:
    """Buffer, ECN, PFC, congestion-control and loss-recovery parameters (bytes, s, bit/s).

    ECN defaults are the DCQCN settings HPCC used at 100 Gb/s (Li et al., SIGCOMM 2019, §5.1:
    Kmin 100 KB, Kmax 400 KB, Pmax 0.2); DCQCN timers and gains are the paper's (g = 1/256,
    T = K = 55 µs, F = 5, CNP every 50 µs); ``rai_bps`` = 40 Mb/s is the paper's R_AI.
    """

    buffer_bytes: float = 1_000_000.0
    ecn: bool = True
    kmin_bytes: float = 100_000.0
    kmax_bytes: float = 400_000.0
    pmax: float = 0.2
    pfc: bool = True
    xoff_bytes: float | None = None  # None: buffer − headroom (lossless)
    xon_bytes: float | None = None  # None: Xoff − 2·MTU
    cc: str = "dcqcn"  # "dcqcn", "swift" or "none"
    g: float = 1.0 / 256.0
    timer_s: float = 55e-6
    alpha_timer_s: float = 55e-6
    fast_recovery_steps: int = 5
    rai_bps: float = 40e6
    min_rate_bps: float = 100e6
    cnp_interval_s: float = 50e-6
    rto_s: float = 1e-3
    swift_target_s: float = 10e-6  # fabric queueing delay Swift aims at
    swift_ai_pkts: float = 1.0  # additive increase per RTT (packets)
    swift_beta: float = 0.8
    swift_max_mdf: float = 0.5  # largest multiplicative decrease per RTT

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        positive = ("buffer_bytes", "timer_s", "alpha_timer_s", "rai_bps", "min_rate_bps",
                    "cnp_interval_s", "rto_s")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be > 0 (got {getattr(self, name)})")
        if not 0 <= self.kmin_bytes < self.kmax_bytes:
            raise ValueError(f"kmin_bytes: need 0 <= kmin < kmax (got {self.kmin_bytes})")
        if not 0 < self.pmax <= 1:
            raise ValueError(f"pmax: must be in (0, 1] (got {self.pmax})")
        if not 0 < self.g < 1:
            raise ValueError(f"g: must be in (0, 1) (got {self.g})")
        if self.cc not in ("dcqcn", "swift", "none"):
            raise ValueError(f"cc: unknown {self.cc!r} (allowed: dcqcn, swift, none)")
        if not self.swift_target_s > 0:
            raise ValueError(f"swift_target_s: must be > 0 (got {self.swift_target_s})")
        if not 0 < self.swift_max_mdf < 1:
            raise ValueError(f"swift_max_mdf: must be in (0, 1) (got {self.swift_max_mdf})")
        if self.fast_recovery_steps < 0:
            raise ValueError(f"fast_recovery_steps: must be >= 0 (got {self.fast_recovery_steps})")
        if self.xoff_bytes is not None and not 0 < self.xoff_bytes <= self.buffer_bytes:
            raise ValueError(f"xoff_bytes: must be in (0, buffer_bytes] (got {self.xoff_bytes})")


def pfc_headroom_bytes(capacity_bps: np.ndarray, delay_s: np.ndarray, mtu_bytes: int):
    """Bytes a port may still receive after it sends PAUSE: ``2·C·d/8 + 2·MTU`` (the pause
    frame's flight, the bytes already on the wire, one packet in serialisation upstream and
    the packet that crossed Xoff)."""
    return 2.0 * np.asarray(capacity_bps) * np.asarray(delay_s) / 8.0 + 2.0 * mtu_bytes


def red_mark_probability(queue_bytes, kmin_bytes: float, kmax_bytes: float, pmax: float):
    """RED/ECN marking probability of a packet joining a queue of ``queue_bytes`` (Floyd &
    Jacobson 1993; DCQCN §3.1): 0 up to Kmin, ``Pmax·(q − Kmin)/(Kmax − Kmin)`` up to Kmax,
    then 1."""
    q = np.asarray(queue_bytes, dtype=float)
    p = pmax * (q - kmin_bytes) / (kmax_bytes - kmin_bytes)
    return np.where(q <= kmin_bytes, 0.0, np.where(q >= kmax_bytes, 1.0, p))


class _RFlow(_Flow):
    __slots__ = ("rate", "rt", "alpha", "inc", "epoch", "t_cnp", "t_next", "waking",
                 "cnp_sent", "una", "nak_for", "progress", "line", "sent_max", "cwnd", "t_dec",
                 "qdelays", "redo")


class RoceTransport(PacketTransport):
    """Packet transport with finite buffers, ECN, PFC, DCQCN and go-back-N (module docstring).

    Args:
        sim, net, mtu_bytes, window_pkts, spray, queue: as :class:`PacketTransport`.
        options: :class:`RoceOptions`.

    Attributes (beyond :class:`PacketTransport`'s):
        drops: packets dropped at full buffers; retransmitted: packets sent again;
        timeouts: go-back-N retransmission timeouts; naks: NAKs sent;
        ecn_marked: packets marked; cnps: CNPs delivered to senders;
        pauses: PAUSE frames sent; pause_time_s: per link, time its sender was paused;
        max_ingress_bytes: per link, most bytes held at its downstream ingress port (PFC on);
        max_queue_bytes: per link, deepest egress queue in bytes.
    """

    def __init__(
        self,
        sim: Simulation,
        net: Network,
        mtu_bytes: int = 4096,
        window_pkts: int = 64,
        spray: str = "round_robin",
        queue: str = "fifo",
        options: RoceOptions | None = None,
    ):
        super().__init__(sim, net, mtu_bytes, window_pkts, spray, queue)
        o = options or RoceOptions()
        o.check()
        self.opt = o
        n = net.n_links
        head = pfc_headroom_bytes(net.capacity_bps, net.delay_s, self.mtu)
        if o.xoff_bytes is None:
            xoff = o.buffer_bytes - head
            if o.pfc and np.any(xoff <= self.mtu):
                raise ValueError(
                    f"buffer_bytes: {o.buffer_bytes:.0f} B leaves no room above the PFC "
                    f"headroom ({head.max():.0f} B on the longest link)"
                )
        else:
            xoff = np.full(n, float(o.xoff_bytes))
        self._xoff = xoff.tolist()
        xon = xoff - 2 * self.mtu if o.xon_bytes is None else np.full(n, float(o.xon_bytes))
        self._xon = np.maximum(xon, 0.0).tolist()
        self._cap = net.capacity_bps.tolist()
        self._lossless = bool(o.pfc)
        self._dcqcn = o.cc == "dcqcn"
        self._swift = o.cc == "swift"
        self._ecn = bool(o.ecn)
        ecn_rng = sim.rng("transport.roce.ecn")
        self._ecn_u = Buffered(lambda k: ecn_rng.random(k), block=1024)  # same draws as scalars
        self._ingress = [0.0] * n  # bytes held at the downstream end of each link
        self._qbytes = [0.0] * n  # bytes waiting in each egress queue
        self._paused = [False] * n  # the link's sender may not start a packet
        self._pause_sent = [False] * n
        self._pause_t0 = [0.0] * n
        self.pause_time_s = np.zeros(n)
        self._mi = [0.0] * n  # most bytes held per ingress port
        self._mqb = [0.0] * n  # deepest egress queue in bytes
        self.drops = self.retransmitted = self.timeouts = self.naks = 0
        self.ecn_marked = self.cnps = self.pauses = 0
        self._handlers += [self._wake, self._pause_effect, self._gbn_ack, self._gbn_nak,
                           self._rto, self._cnp, self._increase]
        if type(self)._roce_loop_ok():
            self._loop = self._run_roce

    @property
    def max_ingress_bytes(self) -> np.ndarray:
        """Per link, most bytes held at its downstream ingress port (PFC on)."""
        return np.asarray(self._mi, dtype=float)

    @property
    def max_queue_bytes(self) -> np.ndarray:
        """Per link, deepest egress queue in bytes."""
        return np.asarray(self._mqb, dtype=float)

    # -- the calendar loop ----------------------------------------------------------------------
    @classmethod
    def _roce_loop_ok(cls) -> bool:
        """True unless a subclass replaces a step :meth:`_run_roce` inlines."""
        return all(
            getattr(cls, m) is getattr(RoceTransport, m)
            for m in ("_tx_done", "_arrive", "_enqueue", "_next_on", "_transmit", "_run_roce")
        )

    def _run_roce(self) -> None:
        """The calendar loop (:meth:`PacketTransport._run_dispatch`) with the per-hop events
        inlined: a transmission's end (``_tx_done`` with ``_next_on``) and an arrival at a
        switch (``_arrive`` with ``_enqueue``). Deliveries, ACKs and timers call their
        methods."""
        cal, eh, env, handlers = self._cal, self._heap, self.env, self._handlers
        nexteid = self._eid.__next__
        busy, lb, mq, ser, lane_of = self._busy, self._lb, self._mq, self._ser, self._lane
        prop, prop_lane, tx_d, tx_lane = self._prop, self._prop_lane, self._tx_d, self._tx_lane
        queues, isnic = self._queues, self._isnic
        ingress, qbytes, paused = self._ingress, self._qbytes, self._paused
        pause_sent = self._pause_sent
        xon, xoff, mi, mqb = self._xon, self._xoff, self._mi, self._mqb
        lossless, ecn, ecn_u = self._lossless, self._ecn, self._ecn_u
        o = self.opt
        buf_lim = o.buffer_bytes + 1e-9
        kmin, kmax, pmax = o.kmin_bytes, o.kmax_bytes, o.pmax
        mtu = self.mtu
        top = eh[0] if eh else None
        et, ep, ee = (top[0], top[1], top[2]) if top is not None else (_INF, 1, 0)
        n_ev = 0
        try:
            while cal:
                ent = cal[0]
                t, eid, kind, a, pkt, lane = ent
                if eh:
                    if eh[0] is not top:  # a call-out scheduled an engine event
                        top = eh[0]
                        et, ep, ee = top[0], top[1], top[2]
                    if t >= et and (t > et or ep < 1 or eid > ee):
                        break  # the engine's event comes first
                lane.popleft()  # the head off its lane (see PacketTransport._run)
                if lane:
                    heapreplace(cal, lane[0])
                else:
                    heappop(cal)
                env._now = t
                if kind == _ARRIVE:
                    pkt = a
                    route = pkt[2]
                    hop = pkt[3] + 1
                    if hop == len(route):  # delivery: the receiver's method
                        self.events += n_ev
                        n_ev = 0
                        self._arrive(pkt)
                        continue
                    n_ev += 1  # at a switch: _enqueue, inlined
                    pkt[3] = hop
                    link, inl, size = route[hop], route[hop - 1], pkt[4]
                    if lossless:  # ingress accounting, PAUSE at Xoff
                        held = ingress[inl] + size
                        if held > buf_lim:
                            self._enqueue(pkt)  # raises
                        ingress[inl] = held
                        if held > mi[inl]:
                            mi[inl] = held
                        if held >= xoff[inl] and not pause_sent[inl]:
                            self._signal_pause(inl, True)
                    elif qbytes[link] + size > buf_lim:  # lossy: tail drop
                        self.drops += 1
                        continue
                    if ecn and not pkt[6]:
                        q = qbytes[link]
                        if q > kmin:  # red_mark_probability
                            p = 1.0 if q >= kmax else pmax * (q - kmin) / (kmax - kmin)
                            if p >= 1.0 or ecn_u() < p:
                                pkt[6] = True
                                self.ecn_marked += 1
                    if busy[link] or paused[link]:
                        q = queues[link]
                        pkt[5] = t
                        q.append(pkt)
                        qb = qbytes[link] = qbytes[link] + size
                        if qb > mqb[link]:
                            mqb[link] = qb
                        if len(q) > mq[link]:
                            mq[link] = len(q)
                        continue
                elif kind == _TX:  # _tx_done, inlined
                    n_ev += 1
                    link = a
                    ln = prop_lane[link]
                    ent = (t + prop[link], nexteid(), _ARRIVE, pkt, None, ln)
                    if not ln:
                        heappush(cal, ent)
                    ln.append(ent)
                    hop = pkt[3]
                    if hop > 0 and lossless:  # the packet leaves the switch
                        inl = pkt[2][hop - 1]
                        held = ingress[inl] = ingress[inl] - pkt[4]
                        if pause_sent[inl] and held <= xon[inl]:
                            self._signal_pause(inl, False)
                    if isnic[link]:
                        self._nic_next(link)
                        continue
                    q = queues[link]  # _next_on
                    if not q or paused[link]:
                        busy[link] = False
                        continue
                    pkt = q.popleft()
                    size = pkt[4]
                    qbytes[link] -= size
                    wait = t - pkt[5]
                    self.queue_delay_s += wait
                    pkt[7] += wait  # the packet's fabric queueing delay (Swift's signal)
                else:
                    self.events += n_ev
                    n_ev = 0
                    handlers[kind](a, pkt)
                    continue
                busy[link] = True  # _transmit, inlined
                size = pkt[4]
                lb[link] += size
                if size == mtu:
                    ln = tx_lane[link]
                    ent = (t + tx_d[link], nexteid(), _TX, link, pkt, ln)
                else:
                    d = size * ser[link]
                    ln = lane_of(d)
                    ent = (t + d, nexteid(), _TX, link, pkt, ln)
                if not ln:
                    heappush(cal, ent)
                ln.append(ent)
        finally:
            self.events += n_ev

    # -- flows ------------------------------------------------------------------------------
    def _new_flow(self) -> _RFlow:
        f = _RFlow()
        f.rate = f.rt = f.line = 0.0  # set on first send (NIC line rate)
        f.alpha, f.inc, f.epoch = 1.0, 0, 0
        f.t_cnp = f.cnp_sent = -np.inf
        f.t_next = 0.0
        f.waking = False
        f.una = f.sent_max = 0
        f.nak_for = -1
        f.progress = self.env._now
        f.cwnd = float(self.window)
        f.t_dec = -np.inf
        f.qdelays = deque()
        f.redo = None  # lossless: lost packets to send again first (a deque; link failures)
        return f

    def add(self, src, dst, path, nbytes, owner, done, rows=None) -> None:
        first = self._next_id
        super().add(src, dst, path, nbytes, owner, done, rows)
        if not self._lossless:
            for fid in range(first, self._next_id):
                self._push_in(self.opt.rto_s, _RTO, fid)

    def flow_delivered_bytes(self) -> dict:
        """Bytes delivered in order so far per owner of each unfinished subflow."""
        return {f.owner: min(f.delivered * self.mtu, f.size) for f in self._flows.values()}

    def flow_rates_bps(self) -> dict:
        """DCQCN current rate ``Rc`` per owner of each unfinished subflow (line rate if uncut)."""
        return {f.owner: (f.rate or self._cap[f.routes[0][0]]) for f in self._flows.values()}

    def _can_send(self, f: _RFlow) -> bool:
        if f.redo:  # lost on a failed link: resent in the window slot it still holds
            return True
        if f.next_seq >= f.n_pkts:
            return False
        if self._lossless:
            return f.inflight < f.cwnd
        return f.next_seq - f.una < f.cwnd

    def _send(self, fid: int, f: _RFlow) -> None:
        if f.queued or f.waking or not self._can_send(f):
            return
        now = self.env._now
        if f.t_next > now + 1e-15:
            f.waking = True
            self._push(now + (f.t_next - now), _WAKE, fid)
            return
        self._to_nic(fid, f)

    def _wake(self, fid: int, _=None) -> None:
        self.events += 1
        f = self._flows.get(fid)
        if f is not None:
            f.waking = False
            self._send(fid, f)

    def _nic_next(self, nic: int) -> None:
        ready = self._nic[nic]
        if not ready or self._paused[nic]:
            self._busy[nic] = False
            return
        fid = ready.popleft()
        f = self._flows.get(fid)
        if f is None or not self._can_send(f):  # finished, or an ACK/NAK moved its window
            if f is not None:
                f.queued = False
            self._nic_next(nic)
            return
        if f.redo:  # lossless: a packet lost on a failed link (transport.pathselect)
            seq = f.redo.popleft()
        else:
            seq = f.next_seq
            f.next_seq += 1
            if self._lossless:
                f.inflight += 1
        if seq < f.sent_max:
            self.retransmitted += 1
        else:
            f.sent_max = seq + 1
        route = self._route(f, seq)
        size = f.last_size if seq == f.n_pkts - 1 else self.mtu
        now = self.env._now
        wire = size * self._ser[nic]
        if f.rate:  # paced by DCQCN
            f.t_next = now + 8.0 * size / f.rate
        f.queued = False
        if self._can_send(f):
            if f.t_next <= now + wire + 1e-15:
                f.queued = True
                ready.append(fid)
            else:
                self._send(fid, f)
        self.packets += 1
        self._transmit(nic, [fid, seq, route, 0, size, 0.0, False, 0.0])

    # -- switches ---------------------------------------------------------------------------
    def _enqueue(self, pkt: list) -> None:
        route, hop, size = pkt[2], pkt[3], pkt[4]
        link, inl = route[hop], route[hop - 1]
        if self._lossless:  # ingress accounting, PAUSE at Xoff
            held = self._ingress[inl] + size
            if held > self.opt.buffer_bytes + 1e-9:
                raise RuntimeError(
                    f"PFC: ingress buffer of link {self.net.link_name(inl)} overflowed "
                    f"({held:.0f} B > buffer_bytes {self.opt.buffer_bytes:.0f} B): Xoff leaves "
                    "less than the PFC headroom"
                )
            self._ingress[inl] = held
            if held > self._mi[inl]:
                self._mi[inl] = held
            if held >= self._xoff[inl] and not self._pause_sent[inl]:
                self._signal_pause(inl, True)
        elif self._qbytes[link] + size > self.opt.buffer_bytes + 1e-9:  # lossy: tail drop
            self.drops += 1
            return
        if self._ecn and not pkt[6]:
            q, o = self._qbytes[link], self.opt
            if q > o.kmin_bytes:  # red_mark_probability, inlined (hot path)
                p = (
                    1.0
                    if q >= o.kmax_bytes
                    else o.pmax * (q - o.kmin_bytes) / (o.kmax_bytes - o.kmin_bytes)
                )
                if p >= 1.0 or self._ecn_u() < p:
                    pkt[6] = True
                    self.ecn_marked += 1
        if self._busy[link] or self._paused[link]:
            q = self._queues[link]
            pkt[5] = self.env._now
            q.append(pkt)
            qb = self._qbytes[link] = self._qbytes[link] + size
            if qb > self._mqb[link]:
                self._mqb[link] = qb
            if len(q) > self._mq[link]:
                self._mq[link] = len(q)
        else:
            self._transmit(link, pkt)

    def _tx_done(self, link: int, pkt: list) -> None:
        self.events += 1
        self._push_lane(self._prop_lane[link], self.env._now + self._prop[link], _ARRIVE, pkt)
        hop = pkt[3]
        if hop > 0 and self._lossless:  # the packet leaves the switch: free its ingress bytes
            inl = pkt[2][hop - 1]
            held = self._ingress[inl] = self._ingress[inl] - pkt[4]
            if self._pause_sent[inl] and held <= self._xon[inl]:
                self._signal_pause(inl, False)
        if self._isnic[link]:
            self._nic_next(link)
            return
        self._next_on(link)

    def _next_on(self, link: int) -> None:
        q = self._queues[link]
        if q and not self._paused[link]:
            nxt = q.popleft()
            self._qbytes[link] -= nxt[4]
            wait = self.env._now - nxt[5]
            self.queue_delay_s += wait
            nxt[7] += wait  # the packet's fabric queueing delay (Swift's signal)
            self._transmit(link, nxt)
        else:
            self._busy[link] = False

    def _signal_pause(self, link: int, on: bool) -> None:
        """Send PAUSE (``on``) or RESUME to the sender of ``link``; it acts one delay later."""
        self._pause_sent[link] = on
        self.pauses += on
        self._push_in(self._prop[link], _PAUSE, link, on)

    def _pause_effect(self, link: int, on: bool) -> None:
        self.events += 1
        if on == self._paused[link]:
            return
        self._paused[link] = on
        if on:
            self._pause_t0[link] = self.env._now
            return
        self.pause_time_s[link] += self.env._now - self._pause_t0[link]
        if not self._busy[link]:
            self._busy[link] = True
            if self._isnic[link]:
                self._nic_next(link)
            else:
                self._next_on(link)

    # -- receivers --------------------------------------------------------------------------
    def _arrive(self, pkt: list, _=None) -> None:
        if pkt[3] + 1 < len(pkt[2]) or self._lossless:
            if pkt[3] + 1 == len(pkt[2]):
                if pkt[6]:
                    self._maybe_cnp(pkt[0])
                if self._swift:  # ACKs return in arrival order: queue the delay they carry
                    self._flows[pkt[0]].qdelays.append(pkt[7])
            super()._arrive(pkt)  # forwarding, or lossless delivery with per-packet ACK
            return
        self.events += 1
        pkt[3] += 1
        fid, seq = pkt[0], pkt[1]
        f = self._flows.get(fid)
        if f is None:  # a late duplicate of a finished flow
            return
        if pkt[6]:
            self._maybe_cnp(fid)
        if seq < f.max_seen:
            self.reordered += 1
        else:
            f.max_seen = seq
        if seq == f.expected:  # go-back-N receiver: in order only, cumulative ACK
            f.expected += 1
            f.delivered += 1
            if self._swift:
                f.qdelays.append(pkt[7])
            self._push_lane(f.ack_lane, self.env._now + f.ack_delay, _GBN_ACK, fid, f.expected)
            if f.delivered == f.n_pkts:
                self.delivered_bytes += f.size
                self._callbacks[f.cb](np.asarray([f.owner]), np.zeros(1))
        elif seq > f.expected and f.nak_for != f.expected:
            f.nak_for = f.expected
            self.naks += 1
            self._push_lane(f.ack_lane, self.env._now + f.ack_delay, _NAK, fid, f.expected)

    def _gbn_ack(self, fid: int, cum: int) -> None:
        self._gbn(fid, cum, False)

    def _gbn_nak(self, fid: int, cum: int) -> None:
        self._gbn(fid, cum, True)

    def _gbn(self, fid: int, cum: int, nak: bool) -> None:
        """Go-back-N sender: cumulative ACK ``cum`` or a NAK asking to resend from ``cum``."""
        self.events += 1
        f = self._flows.get(fid)
        if f is None:
            return
        if self._swift and not nak:
            self._swift_update(f, f.qdelays.popleft())
        if cum > f.una:
            f.una = cum
            f.progress = self.env._now
            f.next_seq = max(f.next_seq, cum)  # never resend what is acknowledged
        if f.una >= f.n_pkts:
            del self._flows[fid]
            return
        if nak and f.next_seq > cum:
            f.next_seq = cum  # go back N
        self._send(fid, f)

    def _ack(self, fid: int, _=None) -> None:
        if self._swift:
            f = self._flows.get(fid)
            if f is not None:
                self._swift_update(f, f.qdelays.popleft())
        super()._ack(fid)

    def _swift_update(self, f: _RFlow, delay_s: float) -> None:
        """Swift (Kumar et al., SIGCOMM 2020, Alg. 1, fabric part): per ACK, below the target
        delay ``cwnd += ai/cwnd``; above it, at most once per RTT,
        ``cwnd *= max(1 − β·(d − target)/d, 1 − max_mdf)``; 1 ≤ cwnd ≤ window_pkts."""
        o = self.opt
        if delay_s < o.swift_target_s:
            f.cwnd = min(float(self.window), f.cwnd + o.swift_ai_pkts / f.cwnd)
            return
        now = self.env._now
        if now - f.t_dec >= 2 * f.ack_delay + delay_s:
            cut = max(
                1 - o.swift_beta * (delay_s - o.swift_target_s) / delay_s, 1 - o.swift_max_mdf
            )
            f.cwnd = max(1.0, f.cwnd * cut)
            f.t_dec = now

    def _rto(self, fid: int, _=None) -> None:
        self.events += 1
        f = self._flows.get(fid)
        if f is None:
            return
        now, rto = self.env._now, self.opt.rto_s
        if now - f.progress >= rto * (1 - 1e-9) and f.next_seq > f.una:
            self.timeouts += 1
            f.next_seq = f.una
            f.progress = now
            self._send(fid, f)
        self._push(now + max(f.progress + rto - now, rto * 1e-3), _RTO, fid)

    # -- DCQCN --------------------------------------------------------------------------------
    def _maybe_cnp(self, fid: int) -> None:
        """NP: one CNP per flow per ``cnp_interval_s`` for ECN-marked arrivals."""
        if not self._dcqcn:
            return
        f = self._flows.get(fid)
        now = self.env._now
        if f is None or now - f.cnp_sent < self.opt.cnp_interval_s:
            return
        f.cnp_sent = now
        self._push_lane(f.ack_lane, self.env._now + f.ack_delay, _CNP, fid)

    def _cnp(self, fid: int, _=None) -> None:
        """RP: multiplicative decrease; α decays lazily over the K periods since the last CNP."""
        self.events += 1
        f = self._flows.get(fid)
        if f is None:
            return
        o, now = self.opt, self.env._now
        self.cnps += 1
        if not f.rate:
            f.line = f.rate = self._cap[f.routes[0][0]]
        if np.isfinite(f.t_cnp):
            periods = int((now - f.t_cnp) / o.alpha_timer_s + 1e-9)
            f.alpha *= (1.0 - o.g) ** periods
        f.t_cnp = now
        f.rt = f.rate
        f.rate = max(o.min_rate_bps, f.rate * (1.0 - f.alpha / 2.0))
        f.alpha = (1.0 - o.g) * f.alpha + o.g
        f.inc = 0
        f.epoch += 1
        self._push_in(o.timer_s, _INCREASE, fid, f.epoch)

    def _increase(self, fid: int, epoch: int) -> None:
        """RP rate-increase timer: fast recovery, then additive increase (DCQCN Fig. 7)."""
        self.events += 1
        f = self._flows.get(fid)
        if f is None or epoch != f.epoch:
            return  # a CNP reset the timer
        o = self.opt
        f.inc += 1
        if f.inc > o.fast_recovery_steps:
            f.rt = min(f.line, f.rt + o.rai_bps)
        f.rate = min(f.line, (f.rt + f.rate) / 2.0)
        if f.rate < f.line * (1 - 1e-9):
            self._push_in(o.timer_s, _INCREASE, fid, epoch)
        else:
            f.rate = f.line
