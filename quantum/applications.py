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
* **Finite-key BB84/BBM92** (Tomamichel, Lim, Gisin & Renner, "Tight finite-key analysis for
  quantum cryptography", Nat. Commun. 3, 634 (2012), Eq. (2)): with ``n`` raw key bits
  (X basis), ``k`` parameter-estimation bits (Z basis), abort threshold ``Q_tol``, a source of
  preparation quality ``q`` (1 for BB84 qubits or an ideal entangled source), the protocol is
  ``ε_sec``-secret and ``ε_cor``-correct with
  ``ℓ = n(q − h(Q_tol + μ)) − leak_EC − log2(2/(ε_sec² ε_cor))``,
  ``μ = sqrt((n + k)/(nk) · (k + 1)/k · ln(2/ε_sec))`` (the published form; the arXiv
  transcription 1103.4130 writes ``ln(4/ε_sec)``, a < 2 % change of μ at ε_sec = 1e-10).
  ``leak_EC = ξ n h(Q)`` with ξ = 1.1 as in the paper's numerics, at the expected error rate
  Q (the paper notes the leakage is a function of the expected X-basis error; with Q_tol
  in its place Table II is not reproduced). Each basis is picked with ``p_x =
  (1 + sqrt(k/n))^−1``, so ``M(n, k) = (sqrt n + sqrt k)²`` pairs are needed per block, and
  the expected secret bits per delivered pair are ``r = (1 − ε_rob) ℓ/M`` with
  ``ε_rob = P[Binomial(k, Q) > k Q_tol]`` (Eq. (3)). :func:`finite_key_fraction` maximises
  r over k and Q_tol on a grid: every grid point is a valid protocol, so the maximum is an
  achievable rate. As n → ∞ it tends to ``1 − (1 + ξ)h(Q)`` (``1 − 2h(Q)`` for ξ = 1) with
  no sifting loss (asymmetric bases), and it is 0 below a minimum block size.
* **GHZ by fusion at a star's centre.** The centre holds one half of n Werner pairs, one per
  leaf, and measures its n qubits in the GHZ basis; the leaves, after Pauli corrections, share
  an n-qubit GHZ state. A Werner pair is ``(id ⊗ D_w)(Φ+)`` with ``D_w`` the depolarising
  channel on the leaf's qubit, which the measurement does not touch and which commutes with
  the Pauli corrections, so the output is ``(⊗_i D_{w_i})(GHZ)``. Depolarising a set S of
  qubits leaves fidelity 1 (S = ∅), ``2^{−|S|−1}`` (0 < |S| < n) or ``2^{−n}`` (all); summing
  over S gives ``F = ½ ∏(1 + w_i)/2 + ½ ∏ w_i + ½ ∏(1 − w_i)/2`` (n = 2: the swap's
  ``(1 + 3 w1 w2)/4``). The centre's measurement and the corrections are taken as ideal.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binom

from .physics import fidelity_to_werner, werner_to_fidelity

__all__ = ["binary_entropy", "werner_qber", "secret_fraction", "key_rate_bps",
           "teleportation_fidelity", "finite_key_length", "signals_per_block",
           "finite_key_fraction", "key_rate_finite_bps", "ghz_fidelity", "assemble_ghz"]


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


def _check_eps(eps_sec: float, eps_cor: float, ec_efficiency: float) -> None:
    if not 0 < eps_sec < 1:
        raise ValueError(f"eps_sec must be in (0, 1), got {eps_sec}")
    if not 0 < eps_cor < 1:
        raise ValueError(f"eps_cor must be in (0, 1), got {eps_cor}")
    if not ec_efficiency >= 1:
        raise ValueError(f"ec_efficiency must be >= 1, got {ec_efficiency}")


def finite_key_length(n, k, q_tol, qber, eps_sec: float = 1e-10, eps_cor: float = 1e-15,
                      ec_efficiency: float = 1.1, preparation_quality: float = 1.0):
    """Secret key length ℓ (bits, may be negative: no key) of Tomamichel et al. 2012, Eq. (2):
    ``n(q − h(Q_tol + μ)) − ξ n h(Q) − log2(2/(ε_sec² ε_cor))`` with
    ``μ = sqrt((n + k)/(nk) · (k + 1)/k · ln(2/ε_sec))``; broadcasts over arrays."""
    _check_eps(eps_sec, eps_cor, ec_efficiency)
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    if np.any(n <= 0) or np.any(k <= 0):
        raise ValueError("n and k must be > 0")
    mu = np.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2 / eps_sec))
    x = np.minimum(np.asarray(q_tol, dtype=float) + mu, 0.5)
    leak = ec_efficiency * n * binary_entropy(qber)
    return n * (preparation_quality - binary_entropy(x)) - leak - (
        math.log2(2.0) - 2 * math.log2(eps_sec) - math.log2(eps_cor))


def signals_per_block(n, k):
    """Expected pairs ``M = (sqrt n + sqrt k)²`` until n X-X and k Z-Z coincidences, with
    each side picking X with probability ``(1 + sqrt(k/n))^−1`` (Tomamichel et al. 2012)."""
    return (np.sqrt(np.asarray(n, dtype=float)) + np.sqrt(np.asarray(k, dtype=float))) ** 2


_K_FRACTIONS = np.logspace(-7, 0.5, 151)  # k/n
_TOL_STEPS = np.concatenate([[0.0], np.logspace(-6, math.log10(0.05), 120)])  # Q_tol − Q


def finite_key_fraction(qber: float, block_bits: float, eps_sec: float = 1e-10,
                        eps_cor: float = 1e-15, ec_efficiency: float = 1.1) -> float:
    """Expected secret bits per delivered pair ``max over (k, Q_tol) of (1 − ε_rob) ℓ/M``
    for a raw-key block of ``block_bits`` = n bits at error rate ``qber`` (≥ 0; 0 when no
    grid point gives a positive key). Grid: k/n in 10^[−7, 0.5] (151 log-spaced points,
    k ≥ 1), Q_tol − Q in {0} ∪ 10^[−6, log10 0.05] (120 log-spaced points)."""
    _check_eps(eps_sec, eps_cor, ec_efficiency)
    n = float(block_bits)
    if not n >= 1:
        raise ValueError(f"block_bits must be >= 1, got {block_bits}")
    q = float(qber)
    if not 0 <= q <= 0.5:
        raise ValueError(f"qber must lie in [0, 1/2], got {qber}")
    if 1 - (1 + ec_efficiency) * float(binary_entropy(q)) <= 0:
        return 0.0
    k = np.unique(np.maximum(np.round(_K_FRACTIONS * n), 1.0))[:, None]
    tol = q + _TOL_STEPS[None, :]
    ell = finite_key_length(n, k, tol, q, eps_sec, eps_cor, ec_efficiency)
    rob = binom.sf(np.floor(tol * k + 1e-9), k, q)  # P[errors > k Q_tol]: abort
    r = (1 - rob) * np.maximum(ell, 0.0) / signals_per_block(n, k)
    return float(r.max())


def key_rate_finite_bps(pairs_per_s, fidelity, block_bits: float, eps_sec: float = 1e-10,
                        eps_cor: float = 1e-15, ec_efficiency: float = 1.1):
    """Long-run finite-key secret bits/s from ``pairs_per_s`` Werner pairs of ``fidelity``
    with blocks of ``block_bits`` raw key bits (:func:`finite_key_fraction` per pair)."""
    rate, q = np.broadcast_arrays(np.asarray(pairs_per_s, dtype=float), werner_qber(fidelity))
    out = np.zeros(rate.shape)
    flat_r, flat_q, flat_out = rate.reshape(-1), q.reshape(-1), out.reshape(-1)
    for i in np.flatnonzero(flat_r):  # pairs that deliver nothing need no optimisation
        flat_out[i] = flat_r[i] * finite_key_fraction(float(flat_q[i]), block_bits, eps_sec,
                                                      eps_cor, ec_efficiency)
    return out


def ghz_fidelity(fidelities) -> float:
    """Fidelity with |GHZ_n> of the state made by fusing n Werner pairs of ``fidelities``
    (one per leaf, n ≥ 2) at the centre: ``½ ∏(1 + w_i)/2 + ½ ∏ w_i + ½ ∏(1 − w_i)/2`` with
    ``w_i = (4F_i − 1)/3`` (see the module docstring)."""
    f = np.asarray(fidelities, dtype=float)
    if f.ndim != 1 or f.size < 2:
        raise ValueError("ghz_fidelity needs the fidelities of at least 2 pairs")
    if np.any((f < 0.25) | (f > 1.0)):
        raise ValueError("fidelity must lie in [1/4, 1]")
    w = fidelity_to_werner(f)
    return float(0.5 * np.prod((1 + w) / 2) + 0.5 * np.prod(w) + 0.5 * np.prod((1 - w) / 2))


def assemble_ghz(deliveries, n_leaves: int, coherence_s: float | None,
                 cutoff_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fuse delivered Bell pairs into GHZ states at the centre of a star.

    ``deliveries`` are ``(leaf index, time s, fidelity)`` in any order. Each leaf keeps its
    newest pair (a newer one replaces it); a stored pair depolarises, ``w(t) = w e^{−2t/τ}``
    (both halves stored, τ = ``coherence_s``; None: no decay), and is dropped once older than
    ``cutoff_s``. When every leaf holds a pair the centre fuses them at once. Returns the
    fusion times and the GHZ fidelities (:func:`ghz_fidelity`)."""
    if n_leaves < 2:
        raise ValueError(f"n_leaves must be >= 2, got {n_leaves}")
    rate = 0.0 if coherence_s is None else 2.0 / coherence_s
    held: list[tuple[float, float] | None] = [None] * n_leaves
    times, fids = [], []
    for leaf, t, f in sorted(deliveries, key=lambda d: (d[1], d[0])):
        if not 0 <= leaf < n_leaves:
            raise ValueError(f"leaf index {leaf} outside 0..{n_leaves - 1}")
        held[leaf] = (t, float(fidelity_to_werner(f)))
        if cutoff_s is not None:
            held = [h if h is not None and t - h[0] <= cutoff_s else None for h in held]
        if all(h is not None for h in held):
            w = [h[1] * math.exp(-rate * (t - h[0])) for h in held]
            times.append(t)
            fids.append(ghz_fidelity(werner_to_fidelity(w)))
            held = [None] * n_leaves
    return np.asarray(times), np.asarray(fids)
