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
* **Swap-ASAP.** A node holding a pair of request ``r`` on each side of its route swaps them
  at once: Werner parameters multiply (``F' = F1·F2 + (1−F1)(1−F2)/3`` for Werner pairs,
  times ``swap_werner``) and the node's two qubits are freed. Classical messages are taken as
  instantaneous (no swap-outcome latency), so this is the zero-latency limit of the chain.
* **Decay and cutoff.** Stored pairs depolarise, ``w(t) = w·e^{−2t/τ}`` (both halves
  stored); a pair whose oldest constituent is older than ``cutoff_s`` is discarded.
* **Delivery.** An end-to-end pair is consumed at once (fidelity recorded, qubits freed);
  it counts as good when ``F ≥ f_min``.

Oracle cases (tests): one request on ``k`` zero-latency hops reproduces the chain's
steady-state interval (:func:`quantum.waiting.swap_asap_interval`); requests on a star
whose centre has enough memory are independent (interval ``E[max of 2 geometrics]``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from pydantic import Field

from netsim import Config, Simulation
from netsim.rng import Buffered

from .physics import (
    C_FIBER_M_S,
    attempt_time_s,
    fidelity_to_werner,
    link_initial_fidelity,
    link_success_probability,
)

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
    f_min: float = Field(0.5, ge=0, le=1, description="delivered fidelity that counts")


@dataclass(frozen=True)
class EdgeLink:
    """Per-fibre physics: success probability per attempt, attempt time (s), Werner
    parameter of a fresh pair after the herald's flight, expected pairs/s ``p/t``."""

    p: float
    attempt_s: float
    w0: float

    @property
    def rate_hz(self) -> float:
        return self.p / self.attempt_s


def edge_links(g: nx.Graph, cfg: NetworkConfig) -> dict[tuple, EdgeLink]:
    """:class:`EdgeLink` of every edge (both orientations) from its ``length_km``."""
    out = {}
    f0 = link_initial_fidelity("midpoint", cfg.link_fidelity, 0.1)
    w = float(fidelity_to_werner(f0))
    for u, v, d in g.edges(data=True):
        L = float(d.get("length_km", 0.0))
        t = float(attempt_time_s(L, cfg.local_time_s))
        if t <= 0:
            raise ValueError(f"edge {u}-{v}: length_km and local_time_s are both 0")
        if cfg.success_probability is not None:
            p = cfg.success_probability
        else:
            p = float(link_success_probability(
                L, "midpoint", cfg.detector_efficiency, cfg.emission_efficiency, 0.1,
                cfg.attenuation_db_per_km))
        flight = L * 1e3 / C_FIBER_M_S
        tau = cfg.coherence_time_s
        decay = 1.0 if tau is None else math.exp(-2 * flight / tau)
        link = EdgeLink(float(p), t, w * decay)
        out[(u, v)] = out[(v, u)] = link
    return out


def _uniforms(gen: np.random.Generator) -> Buffered:
    return Buffered(lambda n: gen.random(n), block=256)


class _Pair:
    __slots__ = ("i", "j", "w", "t_ref", "t_born", "alive")

    def __init__(self, i, j, w, t, born):
        self.i, self.j, self.w, self.t_ref, self.t_born, self.alive = i, j, w, t, born, True


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
        self.routes: list[list[int]] = []
        self._hop_edge: list[list[int]] = []
        self._rate = 0.0 if cfg.coherence_time_s is None else 2.0 / cfg.coherence_time_s
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
        self.routes.append(idx)
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
        for p in list(self.rpair[r]):
            if p is not None:
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
            self.env.timeout(k * link.attempt_s, (r, h)).callbacks.append(self._on_herald)
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
        pair = _Pair(h, h + 1, self._edge_phys[e].w0, now, now)
        self.rpair[r][h] = pair
        self.lpair[r][h + 1] = pair
        self._arm_cutoff(r, pair)
        self._swap_around(r, pair)
        self._released(edge=e)

    # -- swapping, delivery, cutoff -----------------------------------------------------
    def _refresh(self, p: _Pair, now: float) -> None:
        dt = now - p.t_ref
        if dt > 0.0 and self._rate:
            p.w *= math.exp(-self._rate * dt)
        p.t_ref = now

    def _swap_around(self, r: int, pair: _Pair) -> None:
        k = len(self.routes[r]) - 1
        lp, rp = self.lpair[r], self.rpair[r]
        if pair.i > 0 and lp[pair.i] is not None:
            pair = self._swap(r, pair.i)
        if pair.j < k and rp[pair.j] is not None:
            pair = self._swap(r, pair.j)
        if pair.i == 0 and pair.j == k:
            self._deliver(r, pair)

    def _swap(self, r: int, m: int) -> _Pair:
        now = self.env.now
        left, right = self.lpair[r][m], self.rpair[r][m]
        self._refresh(left, now)
        self._refresh(right, now)
        left.alive = right.alive = False
        new = _Pair(left.i, right.j, left.w * right.w * self.cfg.swap_werner, now,
                    min(left.t_born, right.t_born))
        self.lpair[r][m] = self.rpair[r][m] = None
        self.rpair[r][new.i] = new
        self.lpair[r][new.j] = new
        self.swaps += 1
        node = self.routes[r][m]
        self.free[node] += 2
        if new.i > 0 or new.j < len(self.routes[r]) - 1:
            self._arm_cutoff(r, new)
        self._try_start(r, m - 1)
        self._try_start(r, m)
        self._released(node=node)
        return new

    def _free_pair(self, r: int, p: _Pair) -> None:
        p.alive = False
        self.rpair[r][p.i] = None
        self.lpair[r][p.j] = None
        a, b = self.routes[r][p.i], self.routes[r][p.j]
        self.free[a] += 1
        self.free[b] += 1
        k = len(self.routes[r]) - 1
        if p.i < k:
            self._try_start(r, p.i)
        if p.j > 0:
            self._try_start(r, p.j - 1)
        self._released(node=a)
        self._released(node=b)

    def _deliver(self, r: int, p: _Pair) -> None:
        self._refresh(p, self.env.now)
        f = (1.0 + 3.0 * p.w) / 4.0
        self.delivered[r] += 1
        self.fid_sum[r] += f
        if f >= self.cfg.f_min:
            self.good[r] += 1
        if self.log is not None:
            self.log.append((r, self.env.now, f))
        self._free_pair(r, p)

    def _arm_cutoff(self, r: int, p: _Pair) -> None:
        if self.cfg.cutoff_s is None:
            return
        delay = max(p.t_born + self.cfg.cutoff_s - self.env.now, 0.0)
        self.env.timeout(delay, (r, p)).callbacks.append(self._on_cutoff)

    def _on_cutoff(self, ev) -> None:
        r, p = ev.value
        if p.alive:
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
