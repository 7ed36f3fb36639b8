"""Shared state with a revision number and bit-parity checked by hashing (PCCL shared state).

Each peer holds a copy of the shared state (e.g. model parameters) and a revision. Before a
sync the application increments its revision; the master expects exactly ``r + 1`` where r is
the group's revision of the previous sync. Every peer sends ``(revision, content hash)``; the
master elects the most popular hash among the peers at the expected revision and tells every
peer that is out of date (wrong revision) or divergent (other hash) to re-fetch the state from
a peer holding the popular hash (PCCL docs, "Shared-State Mask & Mismatch Checks"). After the
sync every peer has the same bits and the revision ``r + 1``: the group revision rises by
exactly one per sync and no peer's revision ever falls.

If no peer presents the expected revision (every up-to-date peer has left), the newest copy
present is adopted and relabelled ``r + 1``; the plan says so (``rollback``) because training
progress since that copy is lost.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["content_hash", "PeerState", "SyncPlan", "plan_sync", "apply_sync", "flip_bit"]


def content_hash(data: np.ndarray) -> str:
    """BLAKE2b-128 of the array's dtype, shape and raw bytes (hex)."""
    a = np.ascontiguousarray(data)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


@dataclass
class PeerState:
    """One peer's copy of the shared state."""

    revision: int
    data: np.ndarray

    def hash(self) -> str:
        return content_hash(self.data)


@dataclass(frozen=True)
class SyncPlan:
    """The master's decision for one sync.

    Attributes:
        revision: the group revision after the sync (expected = previous + 1).
        popular_hash: the elected content hash.
        fetches: peer -> the peer it must re-fetch the state from.
        rollback: no peer held the expected revision; an older copy was adopted.
    """

    revision: int
    popular_hash: str
    fetches: dict[int, int] = field(default_factory=dict)
    rollback: bool = False


def plan_sync(
    offers: Mapping[int, tuple[int, str]],
    expected_revision: int,
    bandwidth_bps: np.ndarray | None = None,
) -> SyncPlan:
    """Elect the popular ``(expected_revision, hash)`` among ``offers`` (peer -> (revision,
    hash)) and pick, for every other peer, the holder with the highest ``bandwidth_bps[holder,
    peer]`` (lowest peer id without a matrix) to fetch from.

    Ties in popularity go to the hash held by the lowest peer id (deterministic).
    """
    if not offers:
        raise ValueError("a sync needs at least one peer")
    peers = sorted(offers)
    current = [p for p in peers if offers[p][0] == expected_revision]
    rollback = not current
    if rollback:
        newest = max(offers[p][0] for p in peers)
        current = [p for p in peers if offers[p][0] == newest]
    votes = Counter(offers[p][1] for p in current)
    top = max(votes.values())
    popular = next(offers[p][1] for p in current if votes[offers[p][1]] == top)
    holders = [p for p in current if offers[p][1] == popular]
    fetches: dict[int, int] = {}
    for p in peers:
        if p in holders:  # up to date (in a rollback only the revision label changes)
            continue
        if bandwidth_bps is None:
            fetches[p] = holders[0]
        else:
            fetches[p] = max(holders, key=lambda h, p=p: (bandwidth_bps[h, p], -h))
    return SyncPlan(expected_revision, popular, fetches, rollback)


def apply_sync(states: Mapping[int, PeerState], plan: SyncPlan) -> None:
    """Copy the popular state to every fetcher and set every revision to ``plan.revision``."""
    for peer, source in plan.fetches.items():
        states[peer].data = states[source].data.copy()
    for peer in states:
        states[peer].revision = plan.revision


def flip_bit(data: np.ndarray, rng: np.random.Generator) -> None:
    """Flip one uniformly chosen bit of ``data`` in place (a silent divergence)."""
    raw = data.view(np.uint8).reshape(-1)
    i = int(rng.integers(raw.size))
    raw[i] ^= np.uint8(1 << int(rng.integers(8)))
