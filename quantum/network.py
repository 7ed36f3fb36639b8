"""Entanglement distribution on arbitrary graphs: many user pairs competing for memories and
fibres, swap-ASAP along each request's route, cutoffs and memory decay, on the engine.

Model (every request ``r`` follows a fixed route ``P_r = (n_0, ..., n_k)``, chosen by a
policy of :mod:`quantum.routing`):

* **Resources.** Every node has ``memories`` qubits shared by all requests, every fibre
  ``channels`` generation slots. Hop ``h`` of request ``r`` attempts when it holds no pair
  (one pair per hop and node side, as the chain of :mod:`quantum.protocols`) and a qubit is
  free at both ends and a channel on the fibre; it takes them atomically. Hops that find a
  resource busy wait in first-come-first-served queues at the nodes and the fibre. Requests
  holding some qubits while waiting for others can deadlock when memories are scarce; a
  cutoff (or ending the requests) breaks it.
* **Generation** is heralded as in :mod:`quantum.hardware`: the number of attempts to the
  first success is geometric (per-attempt probability of the midpoint scheme, or a given
  ``success_probability``), one engine event per herald; the fibre channel is released at the
  herald, the two qubits stay with the pair.
* **Hardware** (issue 16, all off by default): ``dark_count_prob`` and ``memory_modes`` set
  each fibre's p and F0 through :func:`quantum.physics.heralded_link`, the chain's function
  (herald probability with dark counts, F0 scaled by ``w_dc(p_dc)/w_dc(0)``, a round of m
  modes succeeds with ``1 − (1 − p)^m``); ``detector_dead_time_s`` lengthens every attempt
  that clicked to ``t_dead`` (:func:`quantum.hardware.dead_time_extra_s`, as the chain's
  links: ``K·t + extra·(1 + Binomial(K − 1, q))``, ``q = (P_click − p)/(1 − p)``, on the
  stream ``quantum.net.edge.<i>.dead``); ``swap_gate_error`` multiplies the swap's Werner
  factor by ``1 − p_gate`` (:func:`quantum.physics.noisy_swap_werner` with ``ε = 0``).
* **Swap-ASAP.** A node holding a pair of request ``r`` on each side of its route swaps them
  at once: Werner parameters multiply (``F' = F1·F2 + (1−F1)(1−F2)/3`` for Werner pairs,
  times ``swap_werner·(1 − swap_gate_error)``) and the node's two qubits are freed.
  ``swap_order="nested"`` lets a node swap only pairs reaching its doubling-scheme partners
  on the route (:func:`quantum.protocols.nested_partners`, SeQUeNCe's RSVP order).
* **Classical messages.** ``classical_latency=False`` (the default) takes them as
  instantaneous: the zero-latency limit, whose slot oracles are below. With
  ``classical_latency=True`` they travel the route's fibre at ``c`` (``d/c``, ``d`` the
  distance along the route), exactly as in :mod:`quantum.protocols`: a swap outcome reaches
  the two far nodes ``d/c`` later and a node swaps a pair only once it knows its partner;
  each end of an end-to-end pair frees its qubit when the last outcome reaches it, and the
  pair counts as delivered, with its fidelity decayed up to then, when the later end knows.
  ``swap_handshake=True`` (needs the latency) makes a swap first confirm with both far nodes
  that they still hold their halves: it waits one round trip to the farther one, both pairs
  busy meanwhile (SeQUeNCe's swapping rules do this). ``request_ahead=True`` (needs the
  latency) models SeQUeNCe's resource manager, whose hop attempt opens with a request sent by
  the upstream end as soon as its own qubit is free: when the downstream end frees ``δ`` later,
  ``0 < δ ≤ min(L/c, local_time)`` (typically after the upstream node swapped, its outcome
  and the request flying together), the first attempt ends ``δ`` earlier than a fresh one.
* **Decay and cutoff.** Stored pairs depolarise, ``w(t) = w·e^{−2t/τ}`` (both halves
  stored); a pair whose oldest constituent is older than ``cutoff_s`` is discarded. A pair
  busy in a handshake when its cutoff fires is swapped anyway; the swapped pair keeps the
  oldest birth time, so it is discarded at once unless it is end-to-end (as in the chain).
* **Delivery.** An end-to-end pair is consumed at once without latency (fidelity recorded,
  qubits freed), or as each end learns it with latency; it counts as good when
  ``F ≥ f_min``.

Oracle cases (tests): one request on ``k`` zero-latency hops reproduces the chain's
steady-state interval (:func:`quantum.waiting.swap_asap_interval`); requests on a star
whose centre has enough memory are independent (interval ``E[max of 2 geometrics]``); with
``classical_latency=True`` one request on a path reproduces the repeater chain of
:mod:`quantum.protocols` (rate and fidelity, asap or nested, with or without handshake).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
from pydantic import Field, model_validator

from netsim import Config, Simulation
from netsim.rng import Buffered

from .hardware import dead_time_extra_s, failed_click_probability
from .physics import (
    C_FIBER_M_S,
    attempt_time_s,
    dead_time_attempt_s,
    fidelity_to_werner,
    heralded_link,
)
from .protocols import nested_partners

__all__ = ["NetworkConfig", "EdgeLink", "edge_links", "EntanglementNetwork", "NetworkResult",
           "simulate_network"]


class NetworkConfig(Config):
    """Hardware of every node and fibre of an entanglement network."""

    memories: int = Field(4, ge=2, le=4096, description="qubits per node, shared by requests")
    channels: int = Field(1, ge=1, le=1024, description="concurrent generations per fibre")
    attenuation_db_per_km: float = Field(0.2, ge=0, le=10, description="fibre loss (dB/km)")
    detector_efficiency: float = Field(0.9, gt=0, le=1, description="midpoint detector η_d")
    emission_efficiency: float = Field(0.9, gt=0, le=1, description="memory→fibre η_e")
    link_fidelity: float = Field(0.97, ge=0.25, le=1, description="F0 of a fresh pair")
    local_time_s: float = Field(1e-5, ge=0, description="local time per attempt (s)")
    success_probability: float | None = Field(
        None, gt=0, le=1, description="override p per attempt on every fibre"
    )
    coherence_time_s: float | None = Field(
        1.0, gt=0, description="depolarising τ per qubit (s); None: no decay"
    )
    cutoff_s: float | None = Field(0.05, gt=0, description="discard pairs older than this (s)")
    swap_werner: float = Field(1.0, gt=0, le=1, description="Werner factor of a swap")
    swap_gate_error: float = Field(
        0.0, ge=0, le=1, description="two-qubit depolarising probability of the swap's CNOT "
        "(Werner factor 1 − p_gate, as in the chain)")
    dark_count_prob: float = Field(
        0.0, ge=0, lt=1, description="dark-count probability per detector and detection window "
        "(parametric links only)")
    detector_dead_time_s: float = Field(
        0.0, ge=0, description="a detector that clicked is blind for this long (s) "
        "(parametric links only)")
    memory_modes: int = Field(
        1, ge=1, le=100_000, description="modes per attempt round (multiplexed memory): "
        "p → 1 − (1 − p)^m")
    f_min: float = Field(0.5, ge=0, le=1, description="delivered fidelity that counts")
    classical_latency: bool = Field(
        False, description="swap outcomes and end releases travel the fibre at c (True) or "
        "are instantaneous (False: the zero-latency limit)")
    swap_handshake: bool = Field(
        False, description="a swap first waits a round trip to confirm with the farther far "
        "node (needs classical_latency)")
    swap_order: Literal["asap", "nested"] = Field(
        "asap", description="swap any ready couple (asap) or only doubling-scheme partners "
        "along the route (nested)")
    request_ahead: bool = Field(
        False, description="a hop's upstream end sends its generation request as soon as its "
        "own qubit is free (SeQUeNCe's resource manager), so a downstream end freed up to L/c "
        "later does not delay the attempt (needs classical_latency)")

    @model_validator(mode="after")
    def _consistent(self):
        if self.swap_handshake and not self.classical_latency:
            raise ValueError("swap_handshake needs classical_latency = true (a handshake "
                             "without message latency takes no time)")
        if self.request_ahead and not self.classical_latency:
            raise ValueError("request_ahead needs classical_latency = true")
        for name in ("dark_count_prob", "detector_dead_time_s"):
            if getattr(self, name) > 0 and self.success_probability is not None:
                raise ValueError(f"{name} needs the parametric link model: drop "
                                 "success_probability")
        return self


# messages due at t count as arrived at t ± this (float rounding of now + (t − now))
_EPS_S = 1e-12


@dataclass(frozen=True)
class EdgeLink:
    """Per-fibre physics: success probability per attempt, attempt time (s), Werner
    parameter of a fresh pair after the herald's flight, expected pairs/s ``p/t``; with
    detector dead time, the click probability per attempt and the extra duration
    ``max(0, t_dead − t)`` of an attempt that clicked."""

    p: float
    attempt_s: float
    w0: float
    click_p: float = 0.0
    dead_extra_s: float = 0.0

    @property
    def rate_hz(self) -> float:
        """Expected pairs/s (with dead time: ``p/E[t]``, :func:`dead_time_attempt_s`)."""
        if self.dead_extra_s > 0.0:
            return self.p / float(dead_time_attempt_s(self.attempt_s, self.attempt_s
                                                      + self.dead_extra_s, self.click_p))
        return self.p / self.attempt_s


def edge_links(g: nx.Graph, cfg: NetworkConfig) -> dict[tuple, EdgeLink]:
    """:class:`EdgeLink` of every edge (both orientations) from its ``length_km``; an edge's
    own ``local_time_s`` attribute, if any, replaces ``cfg.local_time_s`` on that fibre."""
    out = {}
    for u, v, d in g.edges(data=True):
        L = float(d.get("length_km", 0.0))
        t = float(attempt_time_s(L, d.get("local_time_s", cfg.local_time_s)))
        if t <= 0:
            raise ValueError(f"edge {u}-{v}: length_km and local_time_s are both 0")
        p, f0, click = heralded_link(
            L, "midpoint", cfg.link_fidelity, cfg.detector_efficiency, cfg.emission_efficiency,
            0.1, cfg.attenuation_db_per_km, cfg.dark_count_prob, cfg.memory_modes,
            cfg.success_probability, cfg.detector_dead_time_s > 0)
        w = float(fidelity_to_werner(f0))
        flight = L * 1e3 / C_FIBER_M_S
        tau = cfg.coherence_time_s
        decay = 1.0 if tau is None else math.exp(-2 * flight / tau)
        dead = max(0.0, cfg.detector_dead_time_s - t)
        link = EdgeLink(float(p), t, w * decay, click if dead > 0 else 0.0, dead)
        out[(u, v)] = out[(v, u)] = link
    return out


def _uniforms(gen: np.random.Generator) -> Buffered:
    return Buffered(lambda n: gen.random(n), block=256)


class _Pair:
    """A pair of one request between route positions ``i < j``; ``ka``/``kb``: when the
    ends at ``i``/``j`` know their partner; ``busy``: in a swap handshake;
    ``delivering``: end-to-end, its ends freeing their halves as they learn it."""

    __slots__ = ("i", "j", "w", "t_ref", "t_born", "alive", "ka", "kb", "busy", "delivering")

    def __init__(self, i, j, w, t, born, ka, kb):
        self.i, self.j, self.w, self.t_ref, self.t_born, self.alive = i, j, w, t, born, True
        self.ka, self.kb = ka, kb
        self.busy = self.delivering = False


class EntanglementNetwork:
    """Requests along fixed routes on ``g`` sharing node memories and fibre channels.

    Args:
        sim: the simulation.
        g: the graph (edges with ``length_km``).
        routes: one node sequence per request (at least one hop each).
        cfg: the :class:`NetworkConfig`.
        record: keep every delivery as ``(request, time s, fidelity)`` in ``log``.
    """

    def __init__(self, sim: Simulation, g: nx.Graph, routes: Sequence[Sequence],
                 cfg: NetworkConfig, record: bool = False):
        self.sim, self.env, self.cfg = sim, sim.env, cfg
        self.links = edge_links(g, cfg)
        nodes = list(g.nodes)
        self.node_index = {n: i for i, n in enumerate(nodes)}
        self.free = [cfg.memories] * len(nodes)
        edges = sorted({tuple(sorted((self.node_index[u], self.node_index[v]), key=int))
                        for u, v in g.edges})
        self.edge_index = {e: i for i, e in enumerate(edges)}
        self.edge_free = [cfg.channels] * len(edges)
        self._edge_phys = [None] * len(edges)
        for (a, b), i in self.edge_index.items():
            self._edge_phys[i] = self.links[(nodes[a], nodes[b])]
        self._u = [_uniforms(sim.rng(f"quantum.net.edge.{i}")) for i in range(len(edges))]
        #: per edge with dead time: (P(a failed attempt clicked), its own stream), else None
        self._dead = [(failed_click_probability(ln.p, ln.click_p),
                       sim.rng(f"quantum.net.edge.{i}.dead")) if ln.dead_extra_s > 0 else None
                      for i, ln in enumerate(self._edge_phys)]
        self.routes: list[list[int]] = []
        self._hop_edge: list[list[int]] = []
        self._rate = 0.0 if cfg.coherence_time_s is None else 2.0 / cfg.coherence_time_s
        # the swap's Werner factor, gate noise included (as quantum.chain.build_chain)
        self._swap_w = cfg.swap_werner * (1.0 - cfg.swap_gate_error)
        self.rpair: list[list] = []
        self.lpair: list[list] = []
        self.attempting: list[list[bool]] = []
        self.queued: list[list[bool]] = []
        self.active: list[bool] = []
        self._wait_node: list[deque] = [deque() for _ in nodes]
        self._wait_edge: list[deque] = [deque() for _ in edges]
        self.delivered: list[int] = []
        self.good: list[int] = []
        self.fid_sum: list[float] = []
        self.log: list[tuple[int, float, float]] | None = [] if record else None
        self.discarded = 0
        self.swaps = 0
        self.heralds = 0
        self._lat = cfg.classical_latency
        self._handshake = cfg.swap_handshake
        self._nested = cfg.swap_order == "nested"
        self._ahead = cfg.request_ahead
        #: per request and hop: when the hop's upstream side was freed (request_ahead)
        self._up_free_t: list[list[float]] = []
        self._s_per_km = 1e3 / C_FIBER_M_S
        self._length_km = {(u, v): float(d.get("length_km", 0.0)) for u, v, d in g.edges(data=True)}
        #: per request: cumulative fibre length (km) along the route, and nested partners
        self.route_km: list[list[float]] = []
        self._partners: list[dict | None] = []
        for route in routes:
            self.add_request(route)

    # -- requests -----------------------------------------------------------------------
    def add_request(self, route: Sequence) -> int:
        """Start serving a request along ``route`` (node names); returns its index."""
        r = len(self.routes)
        if len(route) < 2:
            raise ValueError(f"route {r} needs at least one hop, got {route!r}")
        idx = [self.node_index[n] for n in route]
        hops = []
        for a, b in zip(idx[:-1], idx[1:], strict=True):
            key = (min(a, b), max(a, b))
            if key not in self.edge_index:
                raise ValueError(f"route {r}: {list(route)} uses a missing edge")
            hops.append(self.edge_index[key])
        km = [0.0]
        for u, v in zip(route[:-1], route[1:], strict=True):
            km.append(km[-1] + self._length_km.get((u, v), self._length_km.get((v, u), 0.0)))
        self.routes.append(idx)
        self.route_km.append(km)
        self._up_free_t.append([-math.inf] * len(hops))
        self._partners.append(nested_partners(len(hops)) if self._nested else None)
        self._hop_edge.append(hops)
        self.rpair.append([None] * len(idx))
        self.lpair.append([None] * len(idx))
        self.attempting.append([False] * len(hops))
        self.queued.append([False] * len(hops))
        self.active.append(True)
        self.delivered.append(0)
        self.good.append(0)
        self.fid_sum.append(0.0)
        for h in range(len(hops)):
            self._try_start(r, h)
        return r

    def end_request(self, r: int) -> None:
        """Stop request ``r``: its stored pairs are discarded and its qubits freed (hops
        still attempting free theirs at their herald)."""
        if not self.active[r]:
            return
        self.active[r] = False
        q = self.queued[r]
        for h in range(len(q)):
            q[h] = False
        held = []  # a delivering pair may already be gone from its first end
        for p in (*self.rpair[r], *self.lpair[r]):
            if p is not None and p.alive and p not in held:
                held.append(p)
        for p in held:
            self._free_pair(r, p)

    # -- generation ---------------------------------------------------------------------
    def _try_start(self, r: int, h: int) -> None:
        if not self.active[r] or self.attempting[r][h] or self.rpair[r][h] is not None:
            return
        if self.lpair[r][h + 1] is not None:
            return
        a, b = self.routes[r][h], self.routes[r][h + 1]
        e = self._hop_edge[r][h]
        if self.free[a] > 0 and self.free[b] > 0 and self.edge_free[e] > 0:
            self.free[a] -= 1
            self.free[b] -= 1
            self.edge_free[e] -= 1
            self.attempting[r][h] = True
            self.queued[r][h] = False
            link = self._edge_phys[e]
            if link.p >= 1.0:
                k = 1
            else:
                k = 1 + int(math.log1p(-self._u[e]()) / math.log1p(-link.p))
            delay = k * link.attempt_s
            if link.dead_extra_s:
                fail_click, gen = self._dead[e]
                delay += dead_time_extra_s(k, link.dead_extra_s, fail_click, gen)
            if self._ahead:
                lead = self.env.now - self._up_free_t[r][h]
                hop_s = self._delay(r, h, h + 1)
                if 0.0 < lead <= min(hop_s, link.attempt_s - hop_s) + _EPS_S:
                    delay -= lead  # the request left the upstream end ``lead`` ago
                self._up_free_t[r][h] = -math.inf
            self.env.timeout(delay, (r, h)).callbacks.append(self._on_herald)
        elif not self.queued[r][h]:
            self.queued[r][h] = True
            self._wait_node[a].append((r, h))
            self._wait_node[b].append((r, h))
            self._wait_edge[e].append((r, h))

    def _serve(self, queue: deque) -> None:
        """Start waiting hops in arrival order while resources allow (lazy deletion)."""
        seen = set()
        for _ in range(len(queue)):
            item = queue.popleft()
            r, h = item
            if not self.queued[r][h] or item in seen:
                continue  # started meanwhile, or a stale duplicate
            seen.add(item)
            self._try_start(r, h)
            if self.queued[r][h]:
                queue.append(item)

    def _released(self, node: int | None = None, edge: int | None = None) -> None:
        if edge is not None and self._wait_edge[edge]:
            self._serve(self._wait_edge[edge])
        if node is not None and self._wait_node[node]:
            self._serve(self._wait_node[node])

    def _on_herald(self, ev) -> None:
        r, h = ev.value
        now = self.env.now
        self.heralds += 1
        self.attempting[r][h] = False
        e = self._hop_edge[r][h]
        self.edge_free[e] += 1
        if not self.active[r]:  # the request ended while this hop was attempting
            a, b = self.routes[r][h], self.routes[r][h + 1]
            self.free[a] += 1
            self.free[b] += 1
            self._released(edge=e)
            self._released(node=a)
            self._released(node=b)
            return
        pair = _Pair(h, h + 1, self._edge_phys[e].w0, now, now, now, now)
        self.rpair[r][h] = pair
        self.lpair[r][h + 1] = pair
        self._arm_cutoff(r, pair)
        self._progress(r, pair)
        self._released(edge=e)

    # -- swapping, delivery, cutoff -----------------------------------------------------
    def _refresh(self, p: _Pair, now: float) -> None:
        dt = now - p.t_ref
        if dt > 0.0 and self._rate:
            p.w *= math.exp(-self._rate * dt)
        p.t_ref = now

    def _delay(self, r: int, i: int, j: int) -> float:
        """Message latency (s) between route positions ``i`` and ``j`` of request ``r``."""
        km = self.route_km[r]
        return abs(km[j] - km[i]) * self._s_per_km

    def _progress(self, r: int, pair: _Pair) -> None:
        """A pair known at both ends: deliver it if end-to-end, else try its ends' swaps."""
        k = len(self.routes[r]) - 1
        if pair.i == 0 and pair.j == k:
            if self._lat:
                self._schedule_delivery(r, pair)
            else:
                self._deliver(r, pair)
            return
        if pair.i > 0 and self._try_swap(r, pair.i):
            return  # the swap carries the new pair on
        if pair.j < k:
            self._try_swap(r, pair.j)

    def _try_swap(self, r: int, m: int) -> bool:
        """Swap (or start the handshake of) the pairs at route position ``m`` if it holds
        one on each side, knows both partners, and (nested) they reach its partners."""
        left, right = self.lpair[r][m], self.rpair[r][m]
        if left is None or right is None or left.busy or right.busy:
            return False
        if self._lat:
            t = self.env.now + _EPS_S
            if left.kb > t or right.ka > t:
                return False
        if self._nested:
            lo, hi = self._partners[r][m]
            if left.i != lo or right.j != hi:
                return False
        if self._handshake:
            wait = 2.0 * max(self._delay(r, left.i, m), self._delay(r, m, right.j))
            left.busy = right.busy = True
            self.env.timeout(wait, (r, m, left, right)).callbacks.append(self._on_handshake)
            return True
        self._swap(r, m)
        return True

    def _on_handshake(self, ev) -> None:
        r, m, left, right = ev.value
        left.busy = right.busy = False
        if left.alive and right.alive:  # else the request ended meanwhile
            self._swap(r, m)

    def _swap(self, r: int, m: int) -> None:
        now = self.env.now
        left, right = self.lpair[r][m], self.rpair[r][m]
        self._refresh(left, now)
        self._refresh(right, now)
        left.alive = right.alive = False
        if self._lat:
            ka = max(left.ka, now + self._delay(r, left.i, m))
            kb = max(right.kb, now + self._delay(r, m, right.j))
        else:
            ka = kb = now
        new = _Pair(left.i, right.j, left.w * right.w * self._swap_w, now,
                    min(left.t_born, right.t_born), ka, kb)
        self.lpair[r][m] = self.rpair[r][m] = None
        if self._ahead:
            self._up_free_t[r][m] = now
        self.rpair[r][new.i] = new
        self.lpair[r][new.j] = new
        self.swaps += 1
        node = self.routes[r][m]
        self.free[node] += 2
        k = len(self.routes[r]) - 1
        if new.i > 0 or new.j < k:
            self._arm_cutoff(r, new)
        self._try_start(r, m - 1)
        self._try_start(r, m)
        self._released(node=node)
        if not self._lat:
            self._progress(r, new)
        elif new.i == 0 and new.j == k:
            self._schedule_delivery(r, new)
        else:  # the outcome travels to the far ends; each may act when it knows
            for end, t in ((new.i, ka), (new.j, kb)):
                if 0 < end < k:
                    if t > now:
                        ev = self.env.timeout(t - now, (r, end))
                        ev.callbacks.append(self._on_message)
                    else:
                        self._try_swap(r, end)

    def _on_message(self, ev) -> None:
        r, m = ev.value
        if self.active[r]:
            self._try_swap(r, m)

    def _free_pair(self, r: int, p: _Pair) -> None:
        """Discard ``p``: free whichever of its ends still hold it."""
        p.alive = False
        held_a = self.rpair[r][p.i] is p
        held_b = self.lpair[r][p.j] is p
        if held_a:
            self.rpair[r][p.i] = None
            if self._ahead:
                self._up_free_t[r][p.i] = self.env.now
        if held_b:
            self.lpair[r][p.j] = None
        a, b = self.routes[r][p.i], self.routes[r][p.j]
        self.free[a] += held_a
        self.free[b] += held_b
        k = len(self.routes[r]) - 1
        if p.i < k:
            self._try_start(r, p.i)
        if p.j > 0:
            self._try_start(r, p.j - 1)
        self._released(node=a)
        self._released(node=b)

    def _record(self, r: int, p: _Pair) -> None:
        self._refresh(p, self.env.now)
        f = (1.0 + 3.0 * p.w) / 4.0
        self.delivered[r] += 1
        self.fid_sum[r] += f
        if f >= self.cfg.f_min:
            self.good[r] += 1
        if self.log is not None:
            self.log.append((r, self.env.now, f))

    def _deliver(self, r: int, p: _Pair) -> None:
        """Zero latency: consume an end-to-end pair at once."""
        self._record(r, p)
        self._free_pair(r, p)

    def _schedule_delivery(self, r: int, p: _Pair) -> None:
        """With latency: each end frees its half when it learns the last swap outcome
        (``ka`` at the first end, ``kb`` at the last), as :mod:`quantum.protocols` does."""
        p.delivering = True
        now = self.env.now
        for last, t in ((False, p.ka), (True, p.kb)):
            if t <= now:
                self._free_end(r, p, last)
            else:
                self.env.timeout(t - now, (r, p, last)).callbacks.append(self._on_end_knows)

    def _on_end_knows(self, ev) -> None:
        self._free_end(*ev.value)

    def _free_end(self, r: int, p: _Pair, last: bool) -> None:
        if not p.alive:
            return  # the request ended meanwhile and freed it
        k = len(self.routes[r]) - 1
        if last:
            self.lpair[r][k] = None
            node, hop = self.routes[r][k], k - 1
        else:
            self.rpair[r][0] = None
            node, hop = self.routes[r][0], 0
            if self._ahead:
                self._up_free_t[r][0] = self.env.now
        self.free[node] += 1
        if self.rpair[r][0] is not p and self.lpair[r][k] is not p:
            self._record(r, p)
            p.alive = False
        self._try_start(r, hop)
        self._released(node=node)

    def _arm_cutoff(self, r: int, p: _Pair) -> None:
        if self.cfg.cutoff_s is None:
            return
        delay = max(p.t_born + self.cfg.cutoff_s - self.env.now, 0.0)
        self.env.timeout(delay, (r, p)).callbacks.append(self._on_cutoff)

    def _on_cutoff(self, ev) -> None:
        r, p = ev.value
        if p.alive and not p.busy and not p.delivering:
            self.discarded += 1
            self._free_pair(r, p)


@dataclass(frozen=True)
class NetworkResult:
    """Per-request KPIs of one run over ``duration_s``."""

    duration_s: float
    delivered: np.ndarray
    good: np.ndarray
    mean_fidelity: np.ndarray
    discarded: int
    swaps: int
    heralds: int

    @property
    def rate_hz(self) -> np.ndarray:
        """Good pairs per second per request."""
        return self.good / self.duration_s


def simulate_network(
    g: nx.Graph, routes: Sequence[Sequence], cfg: NetworkConfig, seed: int, horizon_s: float,
    trace=None,
) -> NetworkResult:
    """Run the requests of ``routes`` on ``g`` for ``horizon_s`` and return their KPIs."""
    if horizon_s <= 0:
        raise ValueError(f"horizon_s must be > 0, got {horizon_s}")
    sim = Simulation(seed, trace=trace)
    net = EntanglementNetwork(sim, g, routes, cfg)
    sim.run(until=horizon_s)
    delivered = np.asarray(net.delivered, dtype=np.int64)
    good = np.asarray(net.good, dtype=np.int64)
    fid = np.where(delivered > 0, np.asarray(net.fid_sum) / np.maximum(delivered, 1), np.nan)
    return NetworkResult(horizon_s, delivered, good, fid, net.discarded, net.swaps, net.heralds)
