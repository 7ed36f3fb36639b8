"""Hardware on the engine: memories, stored pairs and heralded link generation.

Thin and fast by design: a pair is a small slotted object holding its Bell-diagonal
correlations ``(s_x, s_y, s_z)`` at a reference time (see :mod:`quantum.physics`); memory decay
is applied lazily, exactly, when the pair is next touched. A link's heralded attempts are not
simulated one by one: the number of attempts to the first success is drawn from the geometric
law ``P(K = k) = (1 − p)^{k−1} p`` and the herald is one engine event ``K·t_attempt`` later,
which is exactly the attempt-by-attempt process since nothing interrupts an attempt.

Detector dead time (:func:`quantum.physics.dead_time_attempt_s`): an attempt in which a
detector clicked lasts ``max(t_att, t_dead)``, so the herald of ``K`` attempts comes
``K·t_att + extra·(1 + Binomial(K − 1, q))`` after the start, with ``extra = max(0, t_dead −
t_att)`` and ``q = (P_click − p)/(1 − p)`` the probability that a failed attempt clicked (the
successful one always did). Its mean is ``(t_att + P_click·extra)/p``. The successful
attempt's dead period is charged before its herald (the pair is available up to ``extra``
late; the link's throughput is exact), and concurrent generations on one link
(``max_link_pairs > 1``) are separate channels with their own detectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from netsim.rng import Buffered

from .physics import C_FIBER_M_S

__all__ = ["MemoryModel", "Pair", "Node", "Link", "message_delay_s", "failed_click_probability",
           "dead_time_extra_s"]


def message_delay_s(distance_km: float) -> float:
    """Latency of a classical message over ``distance_km`` of fibre: ``d/c_fiber`` (s)."""
    return abs(distance_km) * 1e3 / C_FIBER_M_S


def failed_click_probability(p: float, click_p: float) -> float:
    """Probability ``q = (P_click − p)/(1 − p)`` that a failed attempt clicked (clipped to
    [0, 1]; 0 when ``p = 1``)."""
    return min(1.0, max(0.0, (click_p - p) / (1.0 - p))) if p < 1.0 else 0.0


def dead_time_extra_s(k: int, extra_s: float, fail_click: float, rng) -> float:
    """Extra time (s) that detector dead time adds to ``k`` attempts ending in a success:
    ``extra·(1 + Binomial(k − 1, q))`` (the successful attempt always clicked; ``rng`` a
    numpy Generator)."""
    clicks = 1 + (int(rng.binomial(k - 1, fail_click)) if k > 1 else 0)
    return extra_s * clicks


@dataclass(frozen=True)
class MemoryModel:
    """Decay of a stored pair while both halves wait (rates per second per pair).

    ``kind``: ``"none"``, ``"depolarising"`` (coherence time ``tau_s`` per qubit:
    ``F(t) = 1/4 + (F0 − 1/4)·e^{−2t/τ}`` for a pair) or ``"t1t2"`` (Pauli-twirled amplitude and
    phase damping: ``s_x, s_y ∝ e^{−2t/T2}``, ``s_z ∝ e^{−2t/T1}``).
    """

    kind: str = "depolarising"
    tau_s: float = 1.0
    t1_s: float = 1.0
    t2_s: float = 1.0

    @property
    def rates(self) -> tuple[float, float, float]:
        """Decay rates (1/s) of (s_x, s_y, s_z) with both qubits stored."""
        if self.kind == "none":
            return 0.0, 0.0, 0.0
        if self.kind == "depolarising":
            r = 2.0 / self.tau_s
            return r, r, r
        if self.kind == "t1t2":
            r2 = 2.0 / self.t2_s
            return r2, r2, 2.0 / self.t1_s
        raise ValueError(f"memory kind must be none, depolarising or t1t2, got {self.kind!r}")


class Pair:
    """An entangled pair between nodes ``a < b``; correlations valid at ``t_ref``.

    ``ka``/``kb``: times at which node a / b has received every herald and swap outcome that
    identifies its partner (a node may only swap or consume a half it knows);
    ``store_a``/``store_b``: whether each half sits in a storage (True) or a communication
    (False) qubit; ``link``: the elementary link it was heralded on,
    until it is swapped; ``held``: elementary links whose generation quota it still holds
    after swaps (restart after delivery only).
    """

    __slots__ = (
        "a", "b", "sx", "sy", "sz", "t_ref", "t_born", "ka", "kb", "alive", "busy",
        "rounds", "store_a", "store_b", "link", "delivering", "held",
    )

    def __init__(self, a, b, sx, sy, sz, t, ka, kb, store_a, store_b, link, rounds):
        self.a = a
        self.b = b
        self.sx = sx
        self.sy = sy
        self.sz = sz
        self.t_ref = t
        self.t_born = t
        self.ka = ka
        self.kb = kb
        self.alive = True
        self.busy = False
        self.rounds = rounds
        self.store_a = store_a
        self.store_b = store_b
        self.link = link
        self.delivering = False
        self.held: tuple = ()

    def fidelity(self) -> float:
        """``F = (1 + s_x + s_y + s_z)/4`` at ``t_ref``."""
        return (1.0 + self.sx + self.sy + self.sz) * 0.25


class Node:
    """A node's memory: free communication and storage qubits, and the pairs it holds
    (``left``: pairs ending here from the left; ``right``: pairs starting here), oldest first."""

    __slots__ = ("index", "pos_km", "comm_free", "store_free", "left", "right", "links",
                 "lcap", "rcap")

    def __init__(
        self, index: int, pos_km: float, comm: int, storage: int, sides: int, per_side: int
    ):
        self.index = index
        self.pos_km = pos_km
        self.comm_free = comm
        self.store_free = storage
        self.left: list[Pair] = []
        self.right: list[Pair] = []
        self.links: list[Link] = []
        # memory is allocated per direction: a side holds at most ``per_side`` pairs, and a
        # repeater keeps one qubit for each side (no deadlock with every qubit on one side)
        cap = comm + storage - (1 if sides == 2 else 0)
        self.lcap = self.rcap = min(cap, per_side)

    def take(self) -> bool:
        """Park a freshly heralded half: into a free storage qubit if any (freeing the
        communication qubit), else it stays in the communication qubit. Returns the choice."""
        if self.store_free > 0:
            self.store_free -= 1
            self.comm_free += 1
            return True
        return False

    def release(self, stored: bool) -> None:
        if stored:
            self.store_free += 1
        else:
            self.comm_free += 1


class Link:
    """A heralded elementary link between nodes ``a`` and ``b = a + 1``.

    Each attempt lasts ``attempt_s`` and succeeds with probability ``p``; ``active`` counts the
    pairs it is generating or holding unswapped (at most ``max_pairs``), ``pending`` those it is
    generating. With ``dead_extra_s > 0`` (detector dead time beyond the attempt time) every
    attempt that clicked (probability ``click_p`` ≥ ``p``) lasts ``dead_extra_s`` longer; the
    extra draws use their own stream ``dead_rng``.
    """

    __slots__ = (
        "index", "a", "b", "p", "attempt_s", "flight_s", "max_pairs", "active", "pending",
        "attempts",
        "successes", "_log1mp", "_uniform", "s0", "dead_extra_s", "fail_click", "_dead_rng",
    )

    def __init__(self, index, a, b, p, attempt_s, flight_s, s0, max_pairs, rng,
                 dead_extra_s: float = 0.0, click_p: float = 0.0, dead_rng=None):
        self.index = index
        self.a = a
        self.b = b
        self.p = p
        self.attempt_s = attempt_s
        self.flight_s = flight_s
        self.s0 = s0
        self.max_pairs = max_pairs
        self.active = 0
        self.pending = 0
        self.attempts = 0
        self.successes = 0
        self._log1mp = math.log1p(-p) if p < 1.0 else None
        self._uniform = Buffered(lambda n: rng.random(n), block=256)
        self.dead_extra_s = float(dead_extra_s)
        self.fail_click = failed_click_probability(p, click_p)
        if self.dead_extra_s > 0.0 and dead_rng is None:
            raise ValueError("a link with dead time needs dead_rng")
        self._dead_rng = dead_rng

    def attempts_to_success(self) -> int:
        """Geometric number of attempts to the first success (inverse CDF, K ≥ 1)."""
        if self._log1mp is None:
            return 1
        u = self._uniform()
        return 1 + int(math.log1p(-u) / self._log1mp)

    def dead_time_s(self, k: int) -> float:
        """Extra time (s) that detector dead time adds to ``k`` attempts ending in a success:
        ``extra·(1 + Binomial(k − 1, q))`` (0 without dead time)."""
        if self.dead_extra_s <= 0.0:
            return 0.0
        return dead_time_extra_s(k, self.dead_extra_s, self.fail_click, self._dead_rng)
