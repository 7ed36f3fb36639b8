"""The PCCL master: who is registered and who is accepted, votes, the ring, the bandwidth store.

Engine-free bookkeeping; :mod:`transport.pccl.model` drives it on the simulation clock.

* A connecting peer is **registered** (pending). It becomes **accepted** only when every
  accepted peer has voted to accept new peers at a collective boundary (unanimous
  micro-consensus; an empty world accepts without a vote). PCCL docs, "Accepting new peers".
* A peer that stops answering is **dropped**; the ring is re-formed from the survivors.
* The ring is either the join order (PCCL before ``pcclOptimizeTopology``) or the optimised
  order of :mod:`transport.pccl.ring_order` on the **measured** bandwidth store; each
  ordered pair is benchmarked once, the first time both peers are accepted.
* The group revision of the shared state (:mod:`transport.pccl.state`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np

from .ring_order import edge_costs, optimise_ring
from .wan import measure_bandwidth

__all__ = ["Master", "RingPolicy"]

RingPolicy = Literal["optimised", "join"]


class Master:
    """Membership, ring order and bandwidth store of one peer group.

    Args:
        bandwidth_bps: true achievable rate of every directed site pair (what a benchmark
            measures, up to noise).
        latency_s: one-way latency of every pair (s).
        message_bytes: all-reduce size S; the ring optimiser's edge cost is
            ``latency + 8S/(n·B̂)`` with B̂ the measured bandwidth.
        policy: ``"optimised"`` or ``"join"``.
        rng: generator of the benchmark noise.
        measure_cv: coefficient of variation of a benchmark reading.
        exact_max: largest ring solved exactly (Held-Karp); 2-opt beyond.
        seed: seed of the 2-opt random restarts.
    """

    def __init__(
        self,
        bandwidth_bps: np.ndarray,
        latency_s: np.ndarray,
        message_bytes: float,
        policy: RingPolicy,
        rng: np.random.Generator,
        measure_cv: float = 0.0,
        exact_max: int = 10,
        seed: int = 0,
    ):
        if policy not in ("optimised", "join"):
            raise ValueError(f"ring policy must be 'optimised' or 'join', got {policy!r}")
        self.bandwidth_bps = np.asarray(bandwidth_bps, dtype=float)
        self.latency_s = np.asarray(latency_s, dtype=float)
        self.message_bytes = float(message_bytes)
        self.policy = policy
        self.measure_cv = measure_cv
        self.exact_max = exact_max
        self.seed = seed
        self._rng = rng
        n = self.bandwidth_bps.shape[0]
        self.measured = np.full((n, n), np.nan)
        self.accepted: list[int] = []  # in join order
        self.pending: list[int] = []
        self.incarnation: dict[int, int] = {}  # peer -> incarnation it registered with
        self.revision = 0
        self._rings: dict[tuple[int, ...], tuple[int, ...]] = {}

    # -- membership ----------------------------------------------------------------------------
    def knows(self, peer: int) -> bool:
        return peer in self.incarnation

    def register(self, peer: int, incarnation: int) -> None:
        """A peer connects: it waits (pending) for a vote."""
        if self.knows(peer):
            raise ValueError(f"peer {peer} is already registered; drop it first")
        self.incarnation[peer] = incarnation
        self.pending.append(peer)

    def drop(self, peer: int) -> bool:
        """Forget a peer (dead or reconnecting). Returns True if it was accepted."""
        self.incarnation.pop(peer, None)
        if peer in self.pending:
            self.pending.remove(peer)
        if peer in self.accepted:
            self.accepted.remove(peer)
            return True
        return False

    def vote_accept(self, votes: Iterable[int]) -> list[int] | None:
        """Accept every pending peer if all accepted peers voted (or none is accepted).

        Returns the newly accepted peers, or ``None`` when the vote is not unanimous.
        """
        if not set(self.accepted) <= set(votes):
            return None
        new, self.pending = self.pending, []
        self.accepted.extend(new)
        return new

    # -- bandwidth store and ring ---------------------------------------------------------------
    def measure(self, peers: Iterable[int]) -> int:
        """Benchmark every not yet measured ordered pair among ``peers``; returns how many."""
        p = np.asarray(sorted(peers), dtype=int)
        sub = self.measured[np.ix_(p, p)]
        missing = np.isnan(sub) & ~np.eye(p.size, dtype=bool)
        count = int(missing.sum())
        if count:
            rows, cols = p[np.nonzero(missing)[0]], p[np.nonzero(missing)[1]]
            self.measured[rows, cols] = measure_bandwidth(
                self.bandwidth_bps[rows, cols], self._rng, self.measure_cv
            )
        return count

    def ring(self) -> tuple[int, ...]:
        """The accepted peers in ring order (empty or one peer: no ring)."""
        peers = tuple(self.accepted)
        if len(peers) < 2 or self.policy == "join":
            return peers
        key = tuple(sorted(peers))
        ring = self._rings.get(key)
        if ring is None:
            p = np.asarray(key)
            bw = self.measured[np.ix_(p, p)]
            if np.any(np.isnan(bw[~np.eye(p.size, dtype=bool)])):
                raise RuntimeError("ring requested before every pair was measured")
            chunk_bits = 8.0 * self.message_bytes / p.size
            cost = edge_costs(bw, self.latency_s[np.ix_(p, p)], chunk_bits)
            order, _ = optimise_ring(cost, self.exact_max, seed=self.seed)
            ring = self._rings[key] = tuple(int(p[i]) for i in order)
        return ring
