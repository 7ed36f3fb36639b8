"""Delivery times of swap-ASAP repeater chains: closed forms and an exact Markov chain.

Setting (the oracle cases of :mod:`quantum.protocols`): ``n`` links, attempts in synchronous
slots that each succeed with probability ``p``, one pair per link and node side, no
classical latency, instant swaps, no cutoff.

* **First pair** (and every pair under ``restart="after_delivery"``, a renewal process): all
  links must succeed once, so the delivery time is the maximum of ``n`` independent
  geometric variables, ``E[max] = Σ_{k≥0} [1 − (1 − (1−p)^k)^n]`` slots (for ``n = 2``:
  ``(3 − 2p)/(p(2 − p))``; Shchukin, Schmidt & van Loock, PRA 100, 032322 (2019), eq. 6).
* **Steady state under swap-ASAP restarts** (``restart="asap"``): once a swap frees both ends
  of an inner link it attempts again while the chain still waits for a slow outer link, so
  for ``n ≥ 4`` consecutive deliveries overlap (pipelining) and the mean interval drops below
  ``E[max]``. :func:`swap_asap_interval` gives it exactly from the stationary law of the
  slot Markov chain whose state is the set of stored pairs.
"""

from __future__ import annotations

from itertools import product

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

__all__ = ["expected_max_geometric", "swap_asap_interval"]


def expected_max_geometric(n: int, p: float, tol: float = 1e-15) -> float:
    """``E[max(K_1..K_n)]`` for i.i.d. ``K_i ~ Geometric(p)`` on {1, 2, ...} (slots):
    ``Σ_{k≥0} [1 − (1 − q^k)^n]`` with ``q = 1 − p``."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must be in (0, 1], got {p}")
    q = 1.0 - p
    total, k = 0.0, 0
    while True:
        term = 1.0 - (1.0 - q**k) ** n
        total += term
        k += 1
        if term < tol or q == 0.0:
            return total


def _step(pairs: frozenset, succeeded: tuple[int, ...], n: int) -> tuple[frozenset, int]:
    """Add the new link pairs, swap wherever a node holds a left and a right pair, deliver
    an end-to-end pair. Returns (next state, deliveries)."""
    segs = set(pairs) | {(k, k + 1) for k in succeeded}
    merged = True
    while merged:
        merged = False
        ends = {b: (a, b) for a, b in segs}
        for a, b in list(segs):
            left = ends.get(a)
            if a > 0 and left is not None and (a, b) in segs and left in segs:
                segs.discard(left)
                segs.discard((a, b))
                segs.add((left[0], b))
                merged = True
                break
    delivered = int((0, n) in segs)
    segs.discard((0, n))
    return frozenset(segs), delivered


def _generating(pairs: frozenset, n: int) -> list[int]:
    starts = {a for a, _ in pairs}
    stops = {b for _, b in pairs}
    return [k for k in range(n) if k not in starts and k + 1 not in stops]


def swap_asap_interval(n: int, p: float, max_states: int = 200_000) -> float:
    """Mean steady-state interval (slots) between end-to-end deliveries of swap-ASAP with
    immediate restarts, from the exact stationary law of the slot Markov chain (states: the
    sets of stored pairs; transitions: every subset of attempting links succeeding)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    start = frozenset()
    index = {start: 0}
    todo = [start]
    rows, cols, vals, deliver = [], [], [], {}
    while todo:
        s = todo.pop()
        i = index[s]
        gen = _generating(s, n)
        r = 0.0
        for bits in product((0, 1), repeat=len(gen)):
            k = sum(bits)
            prob = p**k * (1.0 - p) ** (len(gen) - k)
            nxt, d = _step(s, tuple(g for g, b in zip(gen, bits, strict=True) if b), n)
            if nxt not in index:
                if len(index) >= max_states:
                    raise ValueError(f"more than {max_states} states; lower n")
                index[nxt] = len(index)
                todo.append(nxt)
            rows.append(i)
            cols.append(index[nxt])
            vals.append(prob)
            r += prob * d
        deliver[i] = r
    m = len(index)
    P = sparse.csr_matrix((vals, (rows, cols)), shape=(m, m))
    # π (P − I) = 0 with Σπ = 1: replace one equation by the normalisation
    A = (P.T - sparse.identity(m)).tolil()
    A[0, :] = np.ones(m)
    b = np.zeros(m)
    b[0] = 1.0
    pi = spsolve(A.tocsr(), b)
    rate = float(sum(pi[i] * deliver[i] for i in range(m)))
    return 1.0 / rate
