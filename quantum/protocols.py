"""Repeater-chain protocols on the engine: swap-ASAP with an optional cutoff, link-level
entanglement pumping (BBPSSW or DEJMPS) and end-to-end delivery.

Model (nodes 0..N, links i = (i, i+1)):

* **Generation.** A link attempts whenever a communication qubit is free at both ends and it
  holds fewer than ``max_link_pairs`` pairs; the herald is an engine event (see
  :mod:`quantum.hardware`). A heralded half moves into a storage qubit when one is free.
* **Swapping** at repeater m (``F' = F1·F2 + (1−F1)(1−F2)/3`` for Werner pairs; in general the
  correlations multiply) takes ``swap_time_s`` and succeeds with ``swap_success``; its outcome
  travels over the fibre to the two far nodes as an engine event (a message), and a node only
  swaps or consumes a half once it knows the partner. Swap-ASAP swaps the oldest known pairs as
  soon as a repeater holds one on each side (``swap_order="nested"``: only pairs reaching its
  doubling-scheme partners); an external policy (the Gym env) may call :meth:`swap_at` and
  :meth:`discard_at` instead. A failed swap frees the far halves when the failure message
  arrives.
* **Restarts and pipelining.** With ``restart="asap"`` (the default, as in SeQUeNCe and
  NetSquid's swap-ASAP examples) a link attempts again as soon as both its nodes have a free
  qubit. A swap frees the repeater's two qubits, so from ``N ≥ 4`` links an inner link whose
  two ends were both swapped away restarts while the chain still waits for a slow outer link,
  and consecutive end-to-end pairs overlap: the steady-state interval is below the first
  pair's ``E[max of N geometrics]`` (N = 8, p = 0.1: 22.28 vs 26.30 slots). Both oracles are
  in :mod:`quantum.waiting`. ``restart="after_delivery"`` keeps each link's quota with the
  pair it fed until that pair is delivered or discarded, so every delivery is a renewal with
  mean ``E[max]``.
* **Cutoff.** A pair not yet end-to-end whose oldest constituent was heralded more than
  ``cutoff_s`` ago is discarded at both ends (timestamps are global, so both ends apply the
  rule at the same instant without messages). A pair that is busy (distilling or swapping)
  when its cutoff fires is checked again when the operation ends.
* **Distillation** (pumping, Dür & Briegel 2007): a link pair is swapped only after
  ``distill_rounds`` successful rounds; a round consumes a second pair on the same link, takes
  ``distill_time_s`` plus the one-way exchange of outcomes ``L/c``, and succeeds with BBPSSW's or
  DEJMPS's probability.
* **Delivery.** Each end frees its half of an end-to-end pair when the last swap-outcome
  message reaches it, so the nearer end's link restarts first (as in SeQUeNCe); the pair
  counts as delivered when both ends know it, and its fidelity, decayed up to then, counts
  towards ``delivered_ok`` if it is at least ``f_min``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from netsim import Simulation
from netsim.rng import Buffered

from .hardware import Link, MemoryModel, Node, Pair, message_delay_s
from .physics import (
    bbpssw,
    bell_diagonal_to_correlations,
    correlations_to_bell_diagonal,
    dejmps,
    fidelity_to_werner,
    noisy_bbpssw,
    noisy_recurrence,
)

__all__ = ["RepeaterChain", "distill_correlations", "nested_partners"]


def distill_correlations(
    protocol: str, s1, s2, gate_error: float = 0.0, meas_error: float = 0.0
) -> tuple[float, tuple[float, float, float]]:
    """One recurrence round on two pairs given by correlations: returns (p_success, s_out).

    ``"bbpssw"`` twirls both inputs to Werner form first (Bennett et al. 1996); ``"dejmps"``
    acts on the Bell-diagonal coefficients (Deutsch et al. 1996). ``gate_error`` (two-qubit
    depolarising after each CNOT) and ``meas_error`` (misread bits) follow Briegel et al.
    1998 (:func:`quantum.physics.noisy_recurrence`); 0 gives the noiseless maps."""
    if gate_error or meas_error:
        if protocol not in ("bbpssw", "dejmps"):
            raise ValueError(
                f"distillation protocol must be 'bbpssw' or 'dejmps', got {protocol!r}"
            )
        c1, c2 = correlations_to_bell_diagonal(s1), correlations_to_bell_diagonal(s2)
        if protocol == "bbpssw":
            p, f = noisy_bbpssw(c1[0], c2[0], gate_error, meas_error)
            w = float(fidelity_to_werner(f))
            return float(p), (w, w, w)
        p, c = noisy_recurrence(c1, c2, gate_error, meas_error)
        s = bell_diagonal_to_correlations(c)
        return float(p), (float(s[0]), float(s[1]), float(s[2]))
    if protocol == "bbpssw":
        f1 = (1.0 + sum(s1)) / 4.0
        f2 = (1.0 + sum(s2)) / 4.0
        p, f = bbpssw(f1, f2)
        w = float(fidelity_to_werner(f))
        return float(p), (w, w, w)
    if protocol == "dejmps":
        p, c = dejmps(correlations_to_bell_diagonal(s1), correlations_to_bell_diagonal(s2))
        s = bell_diagonal_to_correlations(c)
        return float(p), (float(s[0]), float(s[1]), float(s[2]))
    raise ValueError(f"distillation protocol must be 'bbpssw' or 'dejmps', got {protocol!r}")


def nested_partners(n_links: int) -> dict[int, tuple[int, int]]:
    """Swap partners of each repeater under the nested (doubling) order: a repeater at an odd
    index of the path swaps its neighbours; the others wait for the path reduced to its
    even-indexed nodes (and the last one) and repeat, as SeQUeNCe's RSVP rules do. For
    ``2^k`` links this is the textbook nesting-level scheme (Briegel et al., PRL 81, 5932)."""
    if n_links < 1:
        raise ValueError(f"n_links must be >= 1, got {n_links}")
    out: dict[int, tuple[int, int]] = {}
    path = list(range(n_links + 1))
    while len(path) > 2:
        for i in range(1, len(path) - 1, 2):
            out[path[i]] = (path[i - 1], path[i + 1])
        path = [x for i, x in enumerate(path) if i % 2 == 0 or i == len(path) - 1]
    return out


class RepeaterChain:
    """A linear repeater chain running on ``sim``.

    Args:
        sim: the simulation.
        positions_km: node positions along the fibre (N + 1 increasing values).
        link_p: success probability per attempt of each of the N links.
        attempt_s: attempt duration of each link (s).
        f0: initial Werner fidelity of each link's pairs (at the herald, before flight decay).
        memory: the :class:`~quantum.hardware.MemoryModel`.
        comm_qubits, storage_qubits: per node.
        max_link_pairs: pairs a link may generate or hold unswapped at once.
        cutoff_s: discard pairs older than this (None: never).
        swap_success, swap_time_s, swap_werner: swap success probability, duration (s) and a
            Werner factor (1 = noiseless) applied to every swap output.
        swap_meas_error: probability that each Bell-measurement outcome bit is misread
            (:func:`quantum.physics.noisy_swap_correlations`).
        distillation, distill_rounds, distill_time_s: link-level pumping.
        distill_gate_error, distill_meas_error: noisy CNOTs and measurements in pumping
            (:func:`distill_correlations`).
        link_dead_extra_s, link_click_p: per link, the time a clicked attempt lasts beyond
            ``attempt_s`` (detector dead time) and the click probability per attempt
            (:class:`~quantum.hardware.Link`); None: no dead time.
        f_min: delivered pairs with fidelity ≥ f_min count as useful.
        auto_swap: swap automatically (True) or on external decisions (False).
        swap_order: ``"asap"`` (any ready left/right couple) or ``"nested"`` (each repeater
            swaps only pairs reaching its :func:`nested_partners`).
        swap_handshake: before swapping, confirm with both far nodes that they still hold
            their halves: the swap waits one round trip to the farther one (SeQUeNCe's
            reservation rules do this).
        restart: ``"asap"`` (a link attempts again as soon as its qubits are free, e.g.
            right after a swap consumed its pair: pipelining) or ``"after_delivery"`` (a
            link's quota returns only when the end-to-end pair it fed is delivered or
            discarded: one round at a time).
    """

    def __init__(
        self,
        sim: Simulation,
        positions_km: Sequence[float],
        link_p: Sequence[float],
        attempt_s: Sequence[float],
        f0: Sequence[float],
        memory: MemoryModel,
        comm_qubits: int = 1,
        storage_qubits: int = 0,
        max_link_pairs: int = 1,
        cutoff_s: float | None = None,
        swap_success: float = 1.0,
        swap_time_s: float = 0.0,
        swap_werner: float = 1.0,
        swap_meas_error: float = 0.0,
        distillation: str = "none",
        distill_rounds: int = 0,
        distill_time_s: float = 0.0,
        distill_gate_error: float = 0.0,
        distill_meas_error: float = 0.0,
        link_dead_extra_s: Sequence[float] | None = None,
        link_click_p: Sequence[float] | None = None,
        f_min: float = 0.5,
        auto_swap: bool = True,
        swap_order: str = "asap",
        swap_handshake: bool = False,
        restart: str = "asap",
    ):
        n = len(link_p)
        if n < 1 or len(positions_km) != n + 1 or len(attempt_s) != n or len(f0) != n:
            raise ValueError("need N >= 1 links with N + 1 positions and N attempt times and f0")
        if comm_qubits < 1:
            raise ValueError("comm_qubits must be >= 1 at every node (a repeater needs memory)")
        if n > 1 and comm_qubits + storage_qubits < 2:
            raise ValueError("a repeater needs >= 2 qubits (comm_qubits + storage_qubits)")
        if distill_rounds > 0 and max_link_pairs < 2:
            raise ValueError("distillation needs max_link_pairs >= 2")
        self.sim = sim
        self.env = sim.env
        self.n_links = n
        self.memory = memory
        self._rx, self._ry, self._rz = memory.rates
        self.nodes = [
            Node(i, float(x), comm_qubits, storage_qubits, 1 if i in (0, n) else 2, max_link_pairs)
            for i, x in enumerate(positions_km)
        ]
        if swap_order not in ("asap", "nested"):
            raise ValueError(f"swap_order must be 'asap' or 'nested', got {swap_order!r}")
        self._partners = nested_partners(n) if swap_order == "nested" else None
        if restart not in ("asap", "after_delivery"):
            raise ValueError(f"restart must be 'asap' or 'after_delivery', got {restart!r}")
        self.restart_after_delivery = restart == "after_delivery"
        self.links: list[Link] = []
        for i in range(n):
            flight = message_delay_s(positions_km[i + 1] - positions_km[i])
            w = float(fidelity_to_werner(f0[i]))
            # both halves wait for the photons' flight and the herald's return (L/c)
            s0 = (w * math.exp(-self._rx * flight), w * math.exp(-self._ry * flight),
                  w * math.exp(-self._rz * flight))
            extra = 0.0 if link_dead_extra_s is None else float(link_dead_extra_s[i])
            link = Link(i, i, i + 1, float(link_p[i]), float(attempt_s[i]), flight, s0,
                        max_link_pairs, sim.rng(f"quantum.link.{i}"), extra,
                        0.0 if link_click_p is None else float(link_click_p[i]),
                        sim.rng(f"quantum.link.{i}.dead") if extra > 0.0 else None)
            self.links.append(link)
            self.nodes[i].links.append(link)
            self.nodes[i + 1].links.append(link)
        self.cutoff_s = cutoff_s
        self.swap_success = swap_success
        self.swap_time_s = swap_time_s
        self.swap_werner = swap_werner
        # each misread outcome bit applies a wrong Pauli: physics.noisy_swap_correlations
        e = 1.0 - 2.0 * swap_meas_error
        self._swap_factors = (swap_werner * e, swap_werner * e * e, swap_werner * e)
        self.swap_handshake = swap_handshake
        self.distillation = distillation
        self.distill_rounds = distill_rounds
        self.distill_time_s = distill_time_s
        self.distill_gate_error = distill_gate_error
        self.distill_meas_error = distill_meas_error
        self.f_min = f_min
        self.auto_swap = auto_swap
        g_swap, g_dist = sim.rng("quantum.swap"), sim.rng("quantum.distill")
        self._u_swap = Buffered(lambda k: g_swap.random(k), block=1024)
        self._u_dist = Buffered(lambda k: g_dist.random(k), block=256)
        # KPIs (plain attributes: the hot path avoids metric objects)
        self.delivered = 0
        self.delivered_ok = 0
        self.swaps = 0
        self.swap_failures = 0
        self.discarded = 0
        self.distill_successes = 0
        self.distill_failures = 0
        self.delivery_times: list[float] = []
        self.delivery_fidelities: list[float] = []
        self._work: list[int] = []
        self._draining = False
        #: succeeds when ``stop_after`` pairs have been delivered (None: never)
        self.stop_after: int | None = None
        self.done = self.env.event()
        for node in self.nodes:
            self._fill(node)

    # -- state ----------------------------------------------------------------------------
    def _refresh(self, pair: Pair, now: float) -> None:
        """Apply memory decay up to ``now`` (exact: decay factors compose)."""
        dt = now - pair.t_ref
        if dt > 0.0:
            if self._rx:
                pair.sx *= math.exp(-self._rx * dt)
                pair.sy *= math.exp(-self._ry * dt)
                pair.sz *= math.exp(-self._rz * dt)
            pair.t_ref = now

    def fidelity(self, pair: Pair) -> float:
        """Fidelity of ``pair`` now."""
        self._refresh(pair, self.env.now)
        return pair.fidelity()

    def _ready(self, pair: Pair) -> bool:
        return not pair.busy and pair.rounds >= self.distill_rounds

    # -- generation -------------------------------------------------------------------------
    def _fill(self, node: Node) -> None:
        """Start attempts on the node's links while qubits allow (least-loaded link first)."""
        links = node.links
        if len(links) == 2 and links[1].active < links[0].active:
            links = (links[1], links[0])
        nodes = self.nodes
        env = self.env
        for link in links:
            a = nodes[link.a]
            b = nodes[link.b]
            while (
                link.active < link.max_pairs and a.comm_free > 0 and b.comm_free > 0
                and len(a.right) + link.pending < a.rcap and len(b.left) + link.pending < b.lcap
            ):
                a.comm_free -= 1
                b.comm_free -= 1
                link.active += 1
                link.pending += 1
                k = link.attempts_to_success()
                link.attempts += k
                dt = k * link.attempt_s
                if link.dead_extra_s:
                    dt += link.dead_time_s(k)
                env.timeout(dt, link).callbacks.append(self._on_herald)

    def _on_herald(self, ev) -> None:
        link: Link = ev.value
        now = self.env.now
        link.successes += 1
        link.pending -= 1
        a, b = self.nodes[link.a], self.nodes[link.b]
        sx, sy, sz = link.s0
        moved_a, moved_b = a.take(), b.take()
        pair = Pair(link.a, link.b, sx, sy, sz, now, now, now, moved_a, moved_b, link, 0)
        a.right.append(pair)
        b.left.append(pair)
        if self.cutoff_s is not None:
            self._arm_cutoff(pair)
        if self.distill_rounds > 0:
            self._try_distill(link, pair)
        else:
            self._progress(pair)
        # only a half moved into storage frees a communication qubit for new attempts
        if moved_a:
            self._fill(a)
        if moved_b:
            self._fill(b)

    def _progress(self, pair: Pair) -> None:
        """An elementary pair became ready: deliver it if end-to-end, else its (knowing) ends
        may swap."""
        if pair.a == 0 and pair.b == self.n_links:
            self._schedule_delivery(pair)
        elif self.auto_swap:
            if pair.a > 0:
                self._queue_swap(pair.a)
            if pair.b < self.n_links:
                self._queue_swap(pair.b)

    def _queue_swap(self, m: int) -> None:
        self._work.append(m)
        if self._draining:  # an outer call drains the work list (no deep recursion)
            return
        self._draining = True
        try:
            while self._work:
                self._try_swap(self._work.pop())
        finally:
            self._draining = False

    # -- swapping ---------------------------------------------------------------------------
    def usable_left(self, p: Pair, now: float) -> bool:
        """``p`` ends at a repeater that may swap it now (ready and known there)."""
        return p.kb <= now and not p.busy and p.rounds >= self.distill_rounds

    def usable_right(self, p: Pair, now: float) -> bool:
        return p.ka <= now and not p.busy and p.rounds >= self.distill_rounds

    def _couple(self, m: int) -> tuple[Pair, Pair] | None:
        """The oldest usable (left, right) pairs repeater ``m`` may swap, if any."""
        node = self.nodes[m]
        now = self.env.now
        lo, hi = (None, None) if self._partners is None else self._partners[m]
        left = next(
            (p for p in node.left if (lo is None or p.a == lo) and self.usable_left(p, now)), None
        )
        if left is None:
            return None
        right = next(
            (p for p in node.right if (hi is None or p.b == hi) and self.usable_right(p, now)),
            None,
        )
        return None if right is None else (left, right)

    def _try_swap(self, m: int) -> None:
        while (couple := self._couple(m)) is not None:
            self._start_swap(m, *couple)

    def swap_at(self, m: int) -> bool:
        """External decision: swap the oldest ready pairs at repeater ``m`` (if both exist)."""
        if not 0 < m < self.n_links:
            raise ValueError(f"node {m} is not a repeater (1..{self.n_links - 1})")
        couple = self._couple(m)
        if couple is None:
            return False
        self._start_swap(m, *couple)
        return True

    def _start_swap(self, m: int, left: Pair, right: Pair) -> None:
        delay = self.swap_time_s
        if self.swap_handshake:
            x = self.nodes[m].pos_km
            far = max(x - self.nodes[left.a].pos_km, self.nodes[right.b].pos_km - x)
            delay += 2.0 * message_delay_s(far)
        if delay > 0.0:
            left.busy = right.busy = True
            ev = self.env.timeout(delay, (m, left, right))
            ev.callbacks.append(self._on_swap_done)
        else:
            self._swap(m, left, right)

    def _on_swap_done(self, ev) -> None:
        m, left, right = ev.value
        self._swap(m, left, right)
        if self.auto_swap:
            self._queue_swap(m)

    def _drop_link_quota(self, pair: Pair) -> None:
        """Give back the generation quota ``pair`` holds (its link and any held links) and
        let those links attempt again."""
        link = pair.link
        if link is not None:
            pair.link = None
            link.active -= 1
        if pair.held:
            held, pair.held = pair.held, ()
            for lk in held:
                lk.active -= 1
            for lk in held:
                self._fill(self.nodes[lk.a])
                self._fill(self.nodes[lk.b])

    def _hand_over_quota(self, new: Pair, left: Pair, right: Pair) -> None:
        """Restart after delivery: the swapped pair keeps the quotas of its constituents, so
        their links stay idle until it is delivered or discarded."""
        new.held = (*left.held, *right.held,
                    *(p.link for p in (left, right) if p.link is not None))
        left.link = right.link = None
        left.held = right.held = ()

    def _swap(self, m: int, left: Pair, right: Pair) -> None:
        now = self.env.now
        node = self.nodes[m]
        self._refresh(left, now)
        self._refresh(right, now)
        node.left.remove(left)
        node.right.remove(right)
        node.release(left.store_b)
        node.release(right.store_a)
        left.alive = right.alive = False
        self.swaps += 1
        far_a, far_b = self.nodes[left.a], self.nodes[right.b]
        if self.swap_success < 1.0 and self._u_swap() >= self.swap_success:
            self.swap_failures += 1
            far_a.right.remove(left)
            far_b.left.remove(right)
            self._release_later(far_a, left.store_a, abs(node.pos_km - far_a.pos_km))
            self._release_later(far_b, right.store_b, abs(far_b.pos_km - node.pos_km))
        else:
            qx, qy, qz = self._swap_factors
            pair = Pair(left.a, right.b, left.sx * right.sx * qx, left.sy * right.sy * qy,
                        left.sz * right.sz * qz, now,
                        max(left.ka, now + message_delay_s(node.pos_km - far_a.pos_km)),
                        max(right.kb, now + message_delay_s(far_b.pos_km - node.pos_km)),
                        left.store_a, right.store_b, None, self.distill_rounds)
            pair.t_born = min(left.t_born, right.t_born)
            if self.restart_after_delivery:
                self._hand_over_quota(pair, left, right)
            far_a.right[far_a.right.index(left)] = pair
            far_b.left[far_b.left.index(right)] = pair
            if pair.a == 0 and pair.b == self.n_links:
                self._schedule_delivery(pair)
            else:
                if self.cutoff_s is not None:
                    self._arm_cutoff(pair)
                self._announce(pair)
        self._drop_link_quota(left)
        self._drop_link_quota(right)
        self._fill(node)

    def _announce(self, pair: Pair) -> None:
        """Swap-outcome messages reach the far nodes at ``ka``/``kb``; then they may act."""
        now = self.env.now
        for end, t in ((pair.a, pair.ka), (pair.b, pair.kb)):
            if 0 < end < self.n_links:
                if t > now:
                    ev = self.env.timeout(t - now, end)
                    ev.callbacks.append(self._on_message)
                elif self.auto_swap:
                    self._queue_swap(end)

    def _on_message(self, ev) -> None:
        if self.auto_swap:
            self._queue_swap(ev.value)

    def _release_later(self, node: Node, stored: bool, distance_km: float) -> None:
        ev = self.env.timeout(message_delay_s(distance_km), (node, stored))
        ev.callbacks.append(self._on_release)

    def _on_release(self, ev) -> None:
        node, stored = ev.value
        node.release(stored)
        self._fill(node)

    # -- cutoff and discards ----------------------------------------------------------------
    def _arm_cutoff(self, pair: Pair) -> None:
        delay = pair.t_born + self.cutoff_s - self.env.now
        ev = self.env.timeout(max(delay, 0.0), pair)
        ev.callbacks.append(self._on_cutoff)

    def _on_cutoff(self, ev) -> None:
        pair: Pair = ev.value
        if pair.alive and not pair.busy and not pair.delivering:
            self._discard(pair)

    def _discard(self, pair: Pair) -> None:
        self.discarded += 1
        self._remove(pair)

    def _remove(self, pair: Pair) -> None:
        """Free both halves of ``pair`` now."""
        pair.alive = False
        a, b = self.nodes[pair.a], self.nodes[pair.b]
        a.right.remove(pair)
        b.left.remove(pair)
        a.release(pair.store_a)
        b.release(pair.store_b)
        self._drop_link_quota(pair)
        self._fill(a)
        self._fill(b)

    def discard_at(self, m: int) -> bool:
        """External decision: discard the oldest ready pair held at node ``m``."""
        node = self.nodes[m]
        cands = [p for p in (*node.left, *node.right) if self._ready(p) and not p.delivering]
        if not cands:
            return False
        self._discard(min(cands, key=lambda p: p.t_born))
        return True

    # -- distillation -----------------------------------------------------------------------
    def _try_distill(self, link: Link, fresh: Pair) -> None:
        for other in self.nodes[link.a].right:
            if (
                other is not fresh
                and other.link is link
                and not other.busy
                and (other.rounds < self.distill_rounds)
            ):
                other.busy = fresh.busy = True
                ev = self.env.timeout(self.distill_time_s + link.flight_s, (other, fresh))
                ev.callbacks.append(self._on_distilled)
                return

    def _on_distilled(self, ev) -> None:
        keep, used = ev.value
        now = self.env.now
        self._refresh(keep, now)
        self._refresh(used, now)
        keep.busy = used.busy = False
        link = keep.link
        p, s = distill_correlations(
            self.distillation, (keep.sx, keep.sy, keep.sz), (used.sx, used.sy, used.sz),
            self.distill_gate_error, self.distill_meas_error,
        )
        self._remove(used)
        if self._u_dist() < p:
            self.distill_successes += 1
            keep.sx, keep.sy, keep.sz = s
            keep.rounds += 1
            if self.cutoff_s is not None and now >= keep.t_born + self.cutoff_s:
                # its cutoff fired while it was busy distilling (and skipped it): apply now
                self._discard(keep)
            elif keep.rounds >= self.distill_rounds:
                self._progress(keep)
        else:
            self.distill_failures += 1
            self._remove(keep)
        # pairs that were waiting on this link can pump now
        for other in list(self.nodes[link.a].right):
            if (
                other.alive
                and other.link is link
                and not other.busy
                and (other.rounds < self.distill_rounds)
            ):
                self._try_distill(link, other)

    # -- delivery ---------------------------------------------------------------------------
    def _schedule_delivery(self, pair: Pair) -> None:
        """Each end frees its half when it learns the last swap outcome (``ka`` at end a,
        ``kb`` at end b), as SeQUeNCe's end nodes do; the pair counts as delivered, with its
        fidelity decayed up to then, when the later end knows."""
        pair.delivering = True
        now = self.env.now
        for side, t in (("a", pair.ka), ("b", pair.kb)):
            if t <= now:
                self._free_end(pair, side)
            else:
                ev = self.env.timeout(t - now, (pair, side))
                ev.callbacks.append(self._on_end_knows)

    def _on_end_knows(self, ev) -> None:
        self._free_end(*ev.value)

    def _free_end(self, pair: Pair, side: str) -> None:
        if side == "a":
            node = self.nodes[pair.a]
            node.right.remove(pair)
            node.release(pair.store_a)
        else:
            node = self.nodes[pair.b]
            node.left.remove(pair)
            node.release(pair.store_b)
        if pair not in self.nodes[pair.a].right and pair not in self.nodes[pair.b].left:
            self._deliver(pair)
        self._fill(node)

    def _deliver(self, pair: Pair) -> None:
        """Record a delivered pair whose two halves are already freed."""
        now = self.env.now
        self._refresh(pair, now)
        f = pair.fidelity()
        self.delivered += 1
        if f >= self.f_min:
            self.delivered_ok += 1
        self.delivery_times.append(now)
        self.delivery_fidelities.append(f)
        pair.alive = False
        self._drop_link_quota(pair)
        if self.delivered == self.stop_after:
            self.done.succeed()

    # -- views ------------------------------------------------------------------------------
    def total_attempts(self) -> int:
        return sum(link.attempts for link in self.links)

    def fidelities(self) -> np.ndarray:
        return np.asarray(self.delivery_fidelities, dtype=float)
