"""What delivered pairs are worth to applications (pure functions).

* **QKD (BBM92 / E91 with BB84-type measurements).** A Werner pair of fidelity F gives the
  same error rate in every basis, ``Q = (1 − w)/2 = 2(1 − F)/3`` with ``w = (4F − 1)/3``.
  The asymptotic secret fraction for symmetric errors is ``r = 1 − 2h(Q)`` (Shor & Preskill,
  PRL 85, 441 (2000)), positive for ``Q < 11.0 %`` (F > 0.835); ``h`` is the binary entropy.
  The key rate is ``pairs/s · sifting · max(r, 0)`` (sifting 1/2 for random basis choice, →1
  for the efficient asymmetric BB84 of Lo, Chau & Ardehali 2005).
* **Teleportation** through a Werner pair acts on the input as the depolarising channel
  ``ρ → wρ + (1 − w)I/2``; averaged over pure inputs its fidelity is
  ``(1 + w)/2 = (2F + 1)/3`` (Horodecki, Horodecki & Horodecki, PRA 60, 1888 (1999)), above
  the classical 2/3 iff F > 1/2.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_entropy", "werner_qber", "secret_fraction", "key_rate_bps",
           "teleportation_fidelity"]


def binary_entropy(p):
    """``h(p) = −p log2 p − (1 − p) log2(1 − p)`` (0 at p ∈ {0, 1})."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -p * np.log2(p) - (1 - p) * np.log2(1 - p)
    return np.nan_to_num(h, nan=0.0)


def werner_qber(f):
    """Error rate ``Q = 2(1 − F)/3`` of a Werner pair measured in any common basis."""
    f = np.asarray(f, dtype=float)
    if np.any((f < 0.25) | (f > 1.0)):
        raise ValueError("fidelity must lie in [1/4, 1]")
    return 2.0 * (1.0 - f) / 3.0


def secret_fraction(q):
    """Asymptotic BB84/BBM92 secret fraction ``max(1 − 2h(Q), 0)``."""
    return np.maximum(1.0 - 2.0 * binary_entropy(q), 0.0)


def key_rate_bps(pairs_per_s, fidelity, sifting: float = 0.5):
    """Secret key bits/s from ``pairs_per_s`` Werner pairs of ``fidelity``."""
    if not 0 < sifting <= 1:
        raise ValueError(f"sifting must be in (0, 1], got {sifting}")
    return np.asarray(pairs_per_s, dtype=float) * sifting * secret_fraction(werner_qber(fidelity))


def teleportation_fidelity(f):
    """Average teleportation fidelity ``(2F + 1)/3`` with a Werner resource of fidelity F."""
    f = np.asarray(f, dtype=float)
    if np.any((f < 0.25) | (f > 1.0)):
        raise ValueError("fidelity must lie in [1/4, 1]")
    return (2.0 * f + 1.0) / 3.0
