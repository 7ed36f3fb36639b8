"""The set objective F(S) that MOHAF and every baseline are scored on.

For a set S of (request, resource) pairs

    F(S) = Σ_{(i,j)∈S} w_ij  +  δ · Σ_k [H(h⁰_k + n_k(S)) − H(h⁰_k)]

with ``w_ij`` the base utility (cost, QoS and energy terms, utility.py), ``n_k(S)`` the number
of pairs of requester k in S, ``h⁰_k`` what k already holds (online auction) and
``H(n) = Σ_{m≤n} 1/m`` the harmonic number. The fairness part is a concave non-decreasing
function of a modular count, hence monotone submodular; with ``w ≥ 0`` the sum is monotone
submodular (Nemhauser, Wolsey & Fisher 1978). The marginal gain of adding ``(i, j)`` is exactly
``U_ij = w_ij + δ/(1 + h_k)``, the per-pair utility of utility.py, so F(S) = ΣU over winners
in any acceptance order and the paper's *allocation efficiency* is ``F(S)/N``.

Mechanisms are scored by :func:`auction.metrics.score` (this F, cost term at the reference
prices); :class:`PairObjective` is the same F over an explicit ground set, for the brute force
and the property tests.
"""

from __future__ import annotations

import numpy as np

__all__ = ["harmonic", "fairness_value", "PairObjective"]


def harmonic(n) -> np.ndarray:
    """``H(n) = Σ_{m=1}^{n} 1/m`` for non-negative integers (array-valued)."""
    n = np.asarray(n, dtype=np.int64)
    top = int(n.max()) if n.size else 0
    table = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, top + 1))])
    return table[n]


def fairness_value(counts, held0=None) -> float:
    """``Σ_k H(h⁰_k + n_k) − H(h⁰_k)`` (unweighted)."""
    counts = np.asarray(counts, dtype=np.int64)
    h0 = np.zeros_like(counts) if held0 is None else np.asarray(held0, dtype=np.int64)
    return float(np.sum(harmonic(h0 + counts) - harmonic(h0)))


class PairObjective:
    """F over an explicit ground set of pairs ``e = 0..P-1`` with base utilities ``w[e]`` and
    requester ``group[e]``: the set function the submodularity tests and brute force use."""

    def __init__(self, w: np.ndarray, group: np.ndarray, delta: float):
        self.w = np.asarray(w, float)
        self.group = np.asarray(group, np.int64)
        self.delta = float(delta)
        self._k = int(self.group.max()) + 1 if self.group.size else 0

    def __call__(self, subset) -> float:
        idx = np.asarray(
            sorted(subset) if isinstance(subset, set | frozenset) else subset, dtype=np.int64
        )
        if idx.size == 0:
            return 0.0
        counts = np.bincount(self.group[idx], minlength=self._k)
        return float(self.w[idx].sum()) + self.delta * fairness_value(counts)

    def gain(self, subset, e: int) -> float:
        """Marginal gain ``F(S ∪ {e}) − F(S)`` in closed form: ``w_e + δ/(1 + n_k(S))``."""
        idx = np.asarray(list(subset), dtype=np.int64)
        held = int(np.sum(self.group[idx] == self.group[e])) if idx.size else 0
        return float(self.w[e] + self.delta / (1.0 + held))
