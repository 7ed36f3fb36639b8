"""Routing variants at packet level: per-hop ECMP (with polarisation), flowlet switching,
adaptive spraying with a receiver reorder buffer, and link failures.

A :class:`PathSelector` attaches to a :class:`~transport.packetsim.PacketTransport` (or a
:class:`~transport.roce.RoceTransport`) through two hooks: ``add`` hands it
every new subflow, ``_route`` asks it for the path of every packet the NIC sends. A subflow's
candidate routes are the ones the balancer gave it (all equal-cost paths when the balancer
sprays, one when it pins a path); the scheme picks among them:

* ``source``: the transport's own choice (the balancer's path, or spraying); failures only.
* ``per_hop_ecmp``: each switch on the way picks among its equal-cost next hops by
  ``mix(H ⊕ salt_switch) mod n_next`` (hash-threshold ECMP, RFC 2992), ``H`` the seeded hash
  of the subflow's 5-tuple (:func:`~transport.balancing.ecmp_hash`, source port
  ``49152 + subflow id mod 16384``, RoCEv2 UDP). With ``polarised`` every switch uses the
  same hash function (salt 0): a fat-tree aggregation switch only sees flows whose hash
  already chose it at the edge, ``H mod k/2 = a``, so it sends them all to core ``a`` of its
  group and only ``k/2`` of the ``(k/2)²`` cores carry traffic (ECMP polarisation, e.g.
  Cisco's "CEF polarisation"; Zhang et al., *Hashing Linearity Enables Relative Path
  Control*, ATC 2021). Per-switch salts make the choices independent: each flow then lands
  on a uniform core, the balls-into-bins law of
  :func:`~transport.balancing.expected_max_load`.
* ``flowlet``: LetFlow/CONGA-style (Vanini et al., NSDI 2017; Alizadeh et al., SIGCOMM 2014):
  a subflow keeps its path while the gap between its consecutive packets at the sender is at
  most ``flowlet_timeout_s``; a longer gap starts a new flowlet on a path drawn uniformly
  (``random``, from the spray stream, so timeout 0 reproduces ``spray="random"`` draw for
  draw) or with the shortest first-hop queue (``least_loaded``). Timeout ∞ keeps one path per
  subflow (per-flow ECMP-like). No reordering when the timeout exceeds the spread of path
  latencies: a new flowlet leaves more than ``δ`` after the old one's last packet.
* ``adaptive``: per-packet spraying to the path whose first fabric hop (the ToR uplink) has
  the fewest packets: queued + in service + already committed by this ToR but still on a host
  link (local state, known when the packet is sent); ties go round-robin after the hop used
  last, and the paths that share a first hop take turns (a remote slow or busy link further
  on is invisible to this local rule). Packets reorder; the receiver's reorder buffer (below)
  says what that costs.

**Reorder buffer.** With a selector attached every receiver's out-of-order set is timed:
a packet waits from its arrival until every earlier packet of its subflow has arrived (then it
is delivered to the application, in order). A subflow completes when its last packet is
delivered in order, so completion times already count that wait. Reported: total and max
wait, packets that waited, and the total buffer occupancy over time (peak and time-average,
Little's law: mean occupancy = arrival rate × mean wait).

**Link failures** (``failures``): at ``t_s`` a fabric link stops;
the packet in serialisation on it, those propagating on it and those queued for it are lost,
and so is every later packet that reaches it. After ``detect_s`` the routing drops it: a
subflow whose candidate routes all cross it is rehashed over the remaining equal-cost paths
of its host pair (``mix(H) mod n_alive``; per-hop ECMP recomputes every choice with the dead
link's next hop gone, so flows through the affected switches may move too), the others keep
their surviving candidates. Lost packets are resent from their source at detection (or at
once if they reach the link after detection) on the subflow's new route: an optimistic
stand-in for a retransmission timeout equal to the detection delay. The resent packet is
charged to its host link but does not wait for the NIC (at most a window per subflow).

Under :class:`~transport.roce.RoceTransport` with PFC, a lost packet that was queued for or
in serialisation on the link, or reaches it later, first gives back the bytes it held at its
ingress port (RESUME upstream at Xon: no pause outlives the failure); at detection it is
resent through its NIC, ahead of new packets, in the window slot it still holds (the lossless
model has no retransmission timer). With PFC off the selector resends nothing: go-back-N
recovers the losses (NAK on the gap, or the retransmission timeout).
"""

from __future__ import annotations

import heapq
import zlib
from collections import deque
from dataclasses import dataclass, replace
from math import inf, isnan

import numpy as np

from .balancing import ROCE_DPORT, UDP, ecmp_hash
from .network import Network
from .packetsim import _ARRIVE, _TX, PacketTransport
from .roce import RoceTransport

__all__ = [
    "SCHEMES",
    "LinkFailure",
    "PathOptions",
    "PathSelector",
    "equal_cost_routes",
    "per_hop_choice",
    "per_hop_routes",
    "pod_core_loads",
    "switch_salts",
    "with_capacity",
]

SCHEMES = ("source", "per_hop_ecmp", "flowlet", "adaptive")
FLOWLET_CHOICES = ("random", "least_loaded")
_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64 finaliser on a Python int (same as :func:`transport.balancing._mix64`)."""
    x &= _M64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


@dataclass(frozen=True)
class LinkFailure:
    """Directed fabric link ``link`` fails at absolute time ``t_s`` (s)."""

    link: int
    t_s: float = 0.0


@dataclass(frozen=True)
class PathOptions:
    """Path-selection scheme and failures (see the module docstring)."""

    scheme: str = "source"
    polarised: bool = False  # per_hop_ecmp: one hash function at every switch
    flowlet_timeout_s: float = 50e-6
    flowlet_choice: str = "random"
    failures: tuple[LinkFailure, ...] = ()
    detect_s: float = 0.0

    def check(self, net: Network | None = None) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme: unknown {self.scheme!r} (allowed: {', '.join(SCHEMES)})")
        if isnan(self.flowlet_timeout_s) or self.flowlet_timeout_s < 0:
            raise ValueError(f"flowlet_timeout_s: must be >= 0 (got {self.flowlet_timeout_s})")
        if self.flowlet_choice not in FLOWLET_CHOICES:
            raise ValueError(
                f"flowlet_choice: unknown {self.flowlet_choice!r} (allowed: random, least_loaded)"
            )
        if not 0 <= self.detect_s < inf:
            raise ValueError(f"detect_s: must be finite and >= 0 (got {self.detect_s})")
        seen = set()
        for i, fl in enumerate(self.failures):
            if not 0 <= fl.t_s < inf:
                raise ValueError(f"failures[{i}].t_s: must be finite and >= 0 (got {fl.t_s})")
            if fl.link in seen:
                raise ValueError(f"failures[{i}].link: link {fl.link} fails twice")
            seen.add(fl.link)
            if net is not None:
                if not 0 <= fl.link < net.n_links:
                    raise ValueError(
                        f"failures[{i}].link: {fl.link} not in [0, {net.n_links})"
                    )
                if not net.fabric[fl.link]:
                    raise ValueError(
                        f"failures[{i}].link: {net.link_name(fl.link)} is a host link "
                        "(only switch-to-switch links can fail)"
                    )


# -- pure functions ------------------------------------------------------------------------
def switch_salts(net: Network, seed: int, polarised: bool) -> list[int]:
    """Per directed link, the hash salt of the switch that sends on it: 0 everywhere when
    ``polarised`` (one hash function fabric-wide), else a seeded per-switch value."""
    if polarised:
        return [0] * net.n_links
    salt = {}
    for name in set(net.src):
        salt[name] = _mix((seed & _M64) ^ (zlib.crc32(name.encode()) << 17) ^ 0x5BD1E995)
    return [salt[name] for name in net.src]


def per_hop_choice(routes, flow_hash: int, salts, dead=frozenset()) -> int:
    """Index in ``routes`` (one host pair's equal-cost routes, tuples of link ids) of the route
    that hop-by-hop hashing picks: at each hop the switch takes, among the distinct next links
    of the routes still open and avoiding ``dead`` links (sorted by link id),
    ``mix(H ⊕ salt) mod n``. ``-1`` if every route crosses a dead link."""
    open_ = [i for i, r in enumerate(routes) if not dead or dead.isdisjoint(r)]
    if not open_:
        return -1
    for h in range(1, len(routes[open_[0]])):
        nxt = sorted({routes[i][h] for i in open_})
        if len(nxt) > 1:
            pick = nxt[_mix(flow_hash ^ salts[nxt[0]]) % len(nxt)]
            open_ = [i for i in open_ if routes[i][h] == pick]
    return open_[0]


def equal_cost_routes(net: Network, src, dst) -> list[list[tuple]]:
    """Every equal-cost route (tuple of link ids, in path-index order) per host pair."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    n_p = net.n_paths(src, dst)
    out: list[list[tuple]] = [[] for _ in range(src.size)]
    for k in np.unique(n_p).tolist():
        fl = np.flatnonzero(n_p == k)
        paths = np.tile(np.arange(k), fl.size)
        rows = net.paths(np.repeat(src[fl], k), np.repeat(dst[fl], k), paths)
        rows = rows.reshape(fl.size, k, -1)
        for i, block in zip(fl.tolist(), rows, strict=True):
            out[i] = [tuple(r[r >= 0].tolist()) for r in block]
    return out


def flow_hashes(src, dst, sport, seed: int) -> list[int]:
    """Seeded 5-tuple hash per flow (RoCEv2: UDP to port 4791)."""
    return [int(h) for h in ecmp_hash(src, dst, sport, ROCE_DPORT, UDP, seed)]


_GOLDEN = 0x9E3779B97F4A7C15


def flow_hash(src: int, dst: int, sport: int, seed: int) -> int:
    """:func:`flow_hashes` of one flow in plain integers (the same value, 50× cheaper than a
    one-element numpy call)."""
    h = _mix(seed)
    for x in (src, dst, sport, ROCE_DPORT, UDP):
        h = _mix(h ^ ((x + _GOLDEN) & _M64))
    return h


def per_hop_routes(net: Network, src, dst, sport, seed: int, polarised: bool, dead=()):
    """Route (tuple of link ids) per flow under per-hop ECMP (:func:`per_hop_choice`)."""
    salts = switch_salts(net, seed, polarised)
    dead = frozenset(dead)
    out = []
    for routes, h in zip(
        equal_cost_routes(net, src, dst), flow_hashes(src, dst, sport, seed), strict=True
    ):
        i = per_hop_choice(routes, h, salts, dead)
        out.append(routes[i] if i >= 0 else None)
    return out


def pod_core_loads(net: Network, m: int, trials: int, seed: int, polarised: bool) -> np.ndarray:
    """Polarisation experiment on a fat tree: per trial, ``m`` flows from random hosts of pod 0
    to random hosts of other pods (random source ports, a fresh hash seed) are routed by
    per-hop ECMP; returns the flows per pod-0 core uplink, ``(trials, (k/2)²)``, column
    ``a·k/2 + c`` for aggregation switch ``a`` and core ``c`` of its group. Independent
    hashing makes a row ``m`` balls in ``(k/2)²`` bins; polarised, only the ``k/2`` columns
    ``c = a`` are used."""
    if net.kind != "fat_tree":
        raise ValueError("pod_core_loads: needs a fat-tree network")
    rng = np.random.default_rng(seed)
    per_pod = net.n_hosts // (int(net.tables["pod"].max()) + 1)
    a2c = net.tables["a2c"][0].ravel()
    loads = np.zeros((trials, a2c.size), dtype=np.int64)
    for t in range(trials):
        src = rng.integers(0, per_pod, m)
        dst = rng.integers(per_pod, net.n_hosts, m)
        sport = rng.integers(49152, 65536, m)
        routes = per_hop_routes(net, src, dst, sport, int(rng.integers(2**62)), polarised)
        links = np.array([r[2] for r in routes])  # the aggregation → core hop
        loads[t] = np.bincount(links, minlength=net.n_links)[a2c]
    return loads


def with_capacity(net: Network, links, factor: float) -> Network:
    """A copy of ``net`` whose ``links`` run at ``factor`` of their capacity (e.g. a slow spine:
    its uplinks and downlinks)."""
    if not factor > 0:
        raise ValueError(f"factor: must be > 0 (got {factor})")
    cap = net.capacity_bps.copy()
    cap[np.asarray(links, dtype=np.int64)] *= factor
    return replace(net, capacity_bps=cap)


# -- the selector on a packet transport ------------------------------------------------------
class _State:
    __slots__ = ("src", "dst", "h", "route", "last", "turn", "groups", "groups_of", "inner")


class _ReorderBuffer(set):
    """A receiver's out-of-order set that times each packet's stay (see PathSelector)."""

    __slots__ = ("sel", "t")

    def __init__(self, sel: PathSelector):
        super().__init__()
        self.sel = sel
        self.t: dict[int, float] = {}

    def add(self, seq) -> None:
        set.add(self, seq)
        sel = self.sel
        now = sel.env.now
        self.t[seq] = now
        sel._occupancy(now, 1)

    def discard(self, seq) -> None:
        set.discard(self, seq)
        sel = self.sel
        now = sel.env.now
        wait = now - self.t.pop(seq)
        sel.reorder_wait_s += wait
        sel.reorder_buffered += 1
        if wait > sel.reorder_max_wait_s:
            sel.reorder_max_wait_s = wait
        sel._occupancy(now, -1)


class _Hold:
    """Stands in for a dead link's queue: every packet that reaches the link is lost (kept
    for its resend at detection, or resent at once after detection)."""

    def __init__(self, sel: PathSelector, link: int, lost: list):
        self.sel, self.link, self.lost = sel, link, lost

    def __len__(self) -> int:
        return len(self.lost)

    def append(self, pkt) -> None:
        sel = self.sel
        sel.lost += 1
        if sel._roce:
            sel.tr._qbytes[self.link] -= pkt[4]  # the caller adds it back: the queue stays empty
            if not sel.tr._lossless:
                return  # lossy RoCE: go-back-N (NAK or timeout) recovers it
            sel._free(pkt)
        if self.link in sel.dead:
            sel._resend(pkt)
        else:
            self.lost.append(pkt)


class PathSelector:
    """Per-packet path selection, reorder-buffer accounting and failures on ``transport``.

    Args:
        transport: a :class:`PacketTransport` or ``RoceTransport``.
        options: :class:`PathOptions`.
        seed: hash seed (per-hop ECMP salts, 5-tuple hashes, failure rehash).

    Attributes:
        reorder_wait_s, reorder_max_wait_s: summed and largest reorder-buffer wait;
        reorder_buffered: packets that waited; reorder_peak_pkts: most packets buffered at
        once (all receivers); flowlets: flowlets started; lost, resent: failure losses and
        resends; flow_paths: per subflow id, the distinct routes its packets took (when
        ``record_paths``).
    """

    def __init__(self, transport: PacketTransport, options: PathOptions, seed: int = 0,
                 record_paths: bool = False):
        options.check(transport.net)
        self._roce = isinstance(transport, RoceTransport)
        base = RoceTransport if self._roce else PacketTransport
        if options.failures and type(transport)._enqueue is not base._enqueue:
            raise ValueError(
                "failures: only the plain packet transport and RoceTransport model them "
                f"({type(transport).__name__} replaces _enqueue)"
            )
        if getattr(transport, "selector", None) is not None:
            raise ValueError("transport: already has a path selector")
        self.tr, self.opt, self.net = transport, options, transport.net
        self.env = transport.env
        self.seed = int(seed) & _M64
        self._salts = switch_salts(self.net, self.seed, options.polarised)
        self._delta = float(options.flowlet_timeout_s)
        self._state: dict = {}
        self._pairs: dict[tuple[int, int], list[tuple]] = {}
        self._pending: list[list[float]] = [[] for _ in range(self.net.n_links)]
        self.dead: set[int] = set()  # failed links the routing knows about
        self.down: set[int] = set()  # failed links
        self.bytes_at_failure: dict[int, float] = {}
        self.reorder_wait_s = self.reorder_max_wait_s = 0.0
        self.reorder_buffered = 0
        self._occ = self.reorder_peak_pkts = 0
        self._occ_area = self._occ_t = 0.0
        self.flowlets = self.lost = self.resent = 0
        self.flow_paths: dict[int, set] | None = {} if record_paths else None
        self._fid_of: dict = {}
        pick = {"flowlet": self._flowlet, "adaptive": self._adaptive}.get(options.scheme)
        self.pick = self._recorded(pick) if record_paths and pick else pick
        transport.selector = self
        now = self.env.now
        for fl in options.failures:
            if fl.t_s < now:
                raise ValueError(f"failures: t_s {fl.t_s} is in the past (now {now})")
            transport.sim.schedule(fl.t_s - now, self._fail, fl.link)

    # -- hooks (called by the transport) ----------------------------------------------------
    def added(self, fid: int, f, src: int, dst: int) -> None:
        """A new subflow ``fid`` from host ``src`` to ``dst`` (before its first packet)."""
        st = _State()
        st.src, st.dst = src, dst
        st.h = flow_hash(src, dst, 49152 + fid % 16384, self.seed)
        st.route, st.last, st.turn, st.groups_of = None, -inf, 0, None
        f.ahead = _ReorderBuffer(self)
        if self.flow_paths is not None:
            self._fid_of[f] = fid
        if self.opt.scheme == "per_hop_ecmp" and len(f.routes) > 1:
            f.routes = [f.routes[per_hop_choice(f.routes, st.h, self._salts, self.dead)]]
        if self.dead:
            self._reroute(f, st)
        if len(self._state) > 4 * len(self.tr._flows) + 1024:  # forget finished subflows
            live = set(map(id, self.tr._flows.values()))
            self._state = {k: v for k, v in self._state.items() if id(k) in live}
        self._state[f] = st
        if self.flow_paths is not None and self.pick is None:
            self.flow_paths.setdefault(fid, set()).update(f.routes)

    def _recorded(self, pick):
        def wrapped(f, seq):
            route = pick(f, seq)
            self.flow_paths.setdefault(self._fid_of[f], set()).add(route)
            return route

        return wrapped

    # -- schemes ------------------------------------------------------------------------------
    def _commit(self, route: tuple, size: float) -> None:
        """Note that a packet sent now reaches the switch of ``route[1]`` one host-link
        serialisation and propagation later (for the first-hop occupancy of others)."""
        tr, nic = self.tr, route[0]
        heapq.heappush(
            self._pending[route[1]], self.env.now + size * tr._ser[nic] + tr._prop[nic]
        )

    def _load(self, link: int, now: float) -> int:
        """Packets queued for, in service on, or on their way to the first-hop ``link``."""
        p = self._pending[link]
        while p and p[0] <= now:
            heapq.heappop(p)
        tr = self.tr
        return len(tr._queues[link]) + tr._busy[link] + len(p)

    def _size(self, f, seq: int) -> float:
        return f.last_size if seq == f.n_pkts - 1 else self.tr.mtu

    def _least(self, f, st, now: float) -> tuple:
        """A route through the least-loaded first fabric hop (ties round-robin after the hop
        picked last), round-robin among the routes through that hop."""
        if st.groups_of is not f.routes:
            by_hop: dict[int, list] = {}
            for r in f.routes:
                by_hop.setdefault(r[1], []).append(r)
            st.groups, st.groups_of = list(by_hop.values()), f.routes
            st.inner = [0] * len(st.groups)
        groups = st.groups
        n = len(groups)
        best, pick = -1, 0
        for j in range(n):
            g = (st.turn + j) % n
            load = self._load(groups[g][0][1], now)
            if best < 0 or load < best:
                best, pick = load, g
                if load == 0:
                    break
        st.turn = pick + 1
        grp = groups[pick]
        i = st.inner[pick]
        st.inner[pick] = i + 1
        return grp[i % len(grp)]

    def _flowlet(self, f, seq: int) -> tuple:
        routes = f.routes
        least = self.opt.flowlet_choice == "least_loaded"
        if len(routes) == 1:
            if least:
                self._commit(routes[0], self._size(f, seq))
            return routes[0]
        st = self._state[f]
        now = self.env.now
        if st.route is None or now - st.last > self._delta:
            self.flowlets += 1
            if least:
                st.route = self._least(f, st, now)
            else:
                st.route = routes[int(self.tr._rng.integers(len(routes)))]
        st.last = now
        if least:
            self._commit(st.route, self._size(f, seq))
        return st.route

    def _adaptive(self, f, seq: int) -> tuple:
        routes = f.routes
        route = routes[0] if len(routes) == 1 else self._least(f, self._state[f], self.env.now)
        self._commit(route, self._size(f, seq))
        return route

    # -- reorder buffer -----------------------------------------------------------------------
    def _occupancy(self, now: float, delta: int) -> None:
        self._occ_area += self._occ * (now - self._occ_t)
        self._occ_t = now
        self._occ += delta
        if self._occ > self.reorder_peak_pkts:
            self.reorder_peak_pkts = self._occ

    def reorder_mean_pkts(self, until_s: float) -> float:
        """Time-averaged packets in all reorder buffers over ``[0, until_s]``."""
        area = self._occ_area + self._occ * max(until_s - self._occ_t, 0.0)
        return area / until_s if until_s > 0 else 0.0

    # -- failures -----------------------------------------------------------------------------
    def _fail(self, link: int) -> None:
        """The link stops: what is on it or queued for it is lost."""
        tr = self.tr
        self.down.add(link)
        self.bytes_at_failure[link] = tr._lb[link]
        q = tr._queues[link]
        lost = [q.popleft() for _ in range(len(q))]  # FIFO or fair queue
        # the packet in serialisation (_TX on the link) and those on the wire (_ARRIVE over it)
        gone = tr._cancel(
            lambda kind, a, b: (kind == _TX and a == link)
            or (kind == _ARRIVE and a[2][a[3]] == link)
        )
        if self._roce:  # queued or in serialisation: still held at the ingress they came in on
            tr._qbytes[link] = 0.0
            if tr._lossless:
                for pkt in lost + [b for kind, _, b in gone if kind == _TX]:
                    self._free(pkt)
        lost += [a if kind == _ARRIVE else b for kind, a, b in gone]
        self.lost += len(lost)
        if self._roce and not tr._lossless:
            lost = []  # go-back-N recovers them
        tr._queues[link] = _Hold(self, link, lost)
        tr._busy[link] = True  # nothing starts on it again
        tr.sim.schedule(self.opt.detect_s, self._detect, link)

    def _detect(self, link: int) -> None:
        """Routing drops the link: reroute the live subflows, resend what was lost."""
        self.dead.add(link)
        for f in list(self.tr._flows.values()):
            st = self._state.get(f)
            if st is not None:
                self._reroute(f, st)
        hold = self.tr._queues[link]
        lost, hold.lost = hold.lost, []
        for pkt in lost:
            self._resend(pkt)

    def _pair_routes(self, src: int, dst: int) -> list[tuple]:
        key = (src, dst)
        if key not in self._pairs:
            self._pairs[key] = equal_cost_routes(self.net, [src], [dst])[0]
        return self._pairs[key]

    def _reroute(self, f, st) -> None:
        """Candidate routes of ``f`` without dead links (rehash over the pair's surviving
        equal-cost paths when none is left; per-hop ECMP re-runs its hop choices)."""
        dead = self.dead
        if self.opt.scheme == "per_hop_ecmp":
            alive = self._pair_routes(st.src, st.dst)
            i = per_hop_choice(alive, st.h, self._salts, dead)
            keep = [alive[i]] if i >= 0 else []
        else:
            keep = [r for r in f.routes if dead.isdisjoint(r)]
            if not keep:
                alive = [r for r in self._pair_routes(st.src, st.dst) if dead.isdisjoint(r)]
                keep = [alive[_mix(st.h) % len(alive)]] if alive else []
        if not keep:
            raise RuntimeError(
                f"failures: no path left from h{st.src} to h{st.dst} (the fabric is cut)"
            )
        if keep != f.routes:
            f.routes = keep
            st.route = None
            if self.flow_paths is not None and self.pick is None:
                self.flow_paths.setdefault(self._fid_of[f], set()).update(keep)

    def _free(self, pkt: list) -> None:
        """RoCE with PFC: lost ``pkt`` no longer holds bytes at the ingress port it came in on
        (RESUME upstream if the port drains to Xon)."""
        tr = self.tr
        inl = pkt[2][pkt[3] - 1]
        held = tr._ingress[inl] = tr._ingress[inl] - pkt[4]
        if tr._pause_sent[inl] and held <= tr._xon[inl]:
            tr._signal_pause(inl, False)

    def _resend(self, pkt: list) -> None:
        """Send lost packet ``pkt`` again: from its source ToR on its subflow's route (plain
        transport), or through its NIC ahead of new packets (RoCE with PFC)."""
        tr = self.tr
        f = tr._flows.get(pkt[0])
        if f is None:
            return
        if self._roce:  # the packet keeps its window slot (still unacknowledged)
            if f.redo is None:
                f.redo = deque()
            f.redo.append(pkt[1])
            self.resent += 1
            tr._send(pkt[0], f)
            return
        routes = f.routes
        route = routes[0] if len(routes) == 1 else routes[_mix(pkt[1]) % len(routes)]
        if self.flow_paths is not None:
            self.flow_paths.setdefault(self._fid_of[f], set()).add(route)
        nic = route[0]
        pkt[2], pkt[3] = route, 1
        tr._lb[nic] += pkt[4]
        self.resent += 1
        tr.sim.schedule(pkt[4] * tr._ser[nic] + tr._prop[nic], tr._enqueue, pkt)
