"""4-ary min-heaps in plain record arrays for compiled (numba) loops.

A heap lives in a segment ``[lo, lo + n)`` of an array of :data:`ENTRY` records (a float
key, an integer tie-break and an integer payload, side by side so a comparison touches one
cache line); entries order by ``(key, tie)`` like Python tuples in ``heapq``. Several heaps
can share an array in disjoint segments (one per requester in greedy.py). With unique
tie-breaks the order is total, so every correct heap pops the same sequence as ``heapq``
(tests/auction/test_auction_heap.py checks this). Sizes are returned, not stored.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["ENTRY", "before", "push", "pop", "replace"]

ARITY = 4  # children per node: a shallower tree, siblings share cache lines
ENTRY = np.dtype([("key", np.float64), ("tie", np.int64), ("val", np.int64)], align=True)


@njit(cache=True, inline="always")
def before(k1: float, t1: int, k2: float, t2: int) -> bool:
    """``(k1, t1) < (k2, t2)`` lexicographically."""
    return k1 < k2 or (k1 == k2 and t1 < t2)


@njit(cache=True)
def _sift_up(h, lo: int, pos: int, key: float, tie: int, val: int) -> None:
    """Place ``(key, tie) -> val`` at ``pos`` or above, moving larger parents down."""
    while pos > 0:
        parent = (pos - 1) // ARITY
        e = h[lo + parent]
        if not before(key, tie, e.key, e.tie):
            break
        h[lo + pos] = e
        pos = parent
    e = h[lo + pos]
    e.key, e.tie, e.val = key, tie, val


@njit(cache=True)
def _sift_down(h, lo: int, n: int, key: float, tie: int, val: int) -> None:
    """Place ``(key, tie) -> val`` at the root or below, moving smaller children up."""
    pos = 0
    while True:
        first = ARITY * pos + 1
        if first >= n:
            break
        c = first
        for d in range(first + 1, min(first + ARITY, n)):
            if before(h[lo + d].key, h[lo + d].tie, h[lo + c].key, h[lo + c].tie):
                c = d
        if not before(h[lo + c].key, h[lo + c].tie, key, tie):
            break
        h[lo + pos] = h[lo + c]
        pos = c
    e = h[lo + pos]
    e.key, e.tie, e.val = key, tie, val


@njit(cache=True)
def push(h, lo: int, n: int, key: float, tie: int, val: int) -> int:
    """Add ``(key, tie) -> val`` to the heap of size ``n``; returns the new size."""
    _sift_up(h, lo, n, key, tie, val)
    return n + 1


@njit(cache=True)
def pop(h, lo: int, n: int) -> int:
    """Remove the smallest entry (read it at ``h[lo]`` first); returns the new size."""
    n -= 1
    if n > 0:
        last = h[lo + n]
        _sift_down(h, lo, n, last.key, last.tie, last.val)
    return n


@njit(cache=True)
def replace(h, lo: int, n: int, key: float, tie: int, val: int) -> None:
    """Replace the smallest entry by ``(key, tie) -> val`` (``heapq.heapreplace``)."""
    _sift_down(h, lo, n, key, tie, val)
