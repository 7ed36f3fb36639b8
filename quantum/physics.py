"""Physics of entangled pairs: pure, vectorised functions.

States are Werner states of fidelity F (to the target Bell state), with Werner parameter
``w = (4F - 1)/3``, or Bell-diagonal states given by coefficients (A, B, C, D) with A the
fidelity. Fidelity always lies in [1/4, 1].

Sources: Dür & Briegel, Rep. Prog. Phys. 70, 1381 (2007) (swap, Werner algebra);
Bennett et al., PRL 76, 722 (1996) (BBPSSW); Deutsch et al., PRL 77, 2818 (1996) (DEJMPS).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "C_FIBER_M_S",
    "fidelity_to_werner",
    "werner_to_fidelity",
    "depolarise",
    "swap_fidelity",
    "bbpssw",
    "dejmps",
    "werner_to_bell_diagonal",
    "fiber_transmissivity",
]

#: speed of light in fibre (refractive index ≈ 1.5): 2·10⁸ m/s
C_FIBER_M_S = 2.0e8


def fidelity_to_werner(f):
    """``w = (4F − 1)/3``."""
    return (4.0 * np.asarray(f, dtype=float) - 1.0) / 3.0


def werner_to_fidelity(w):
    """``F = (3w + 1)/4``."""
    return (3.0 * np.asarray(w, dtype=float) + 1.0) / 4.0


def depolarise(f, dt_s, tau_s, qubits: int = 1):
    """Depolarising memory decay ``F(t) = 1/4 + (F0 − 1/4)·exp(−q·t/τ)`` for ``q`` stored
    qubits of the pair waiting ``t`` seconds each with coherence time τ (the decay rate doubles
    when both halves wait)."""
    f = np.asarray(f, dtype=float)
    return 0.25 + (f - 0.25) * np.exp(-qubits * np.asarray(dt_s, dtype=float) / tau_s)


def swap_fidelity(f1, f2):
    """Entanglement swapping of two Werner pairs: ``F = F1·F2 + (1 − F1)(1 − F2)/3``
    (equivalently ``w = w1·w2``)."""
    f1 = np.asarray(f1, dtype=float)
    f2 = np.asarray(f2, dtype=float)
    return f1 * f2 + (1.0 - f1) * (1.0 - f2) / 3.0


def bbpssw(f1, f2):
    """BBPSSW recurrence on two Werner pairs, in Werner form (Bennett et al. 1996).

    Returns ``(p_success, F_out)`` with ``p = (1 + w1·w2)/2`` and
    ``w' = (w1 + w2 + 4·w1·w2)/(6p)``. E.g. F = 0.9, 0.8 gives p ≈ 0.8178, F' ≈ 0.8832.
    """
    w1, w2 = fidelity_to_werner(f1), fidelity_to_werner(f2)
    p = (1.0 + w1 * w2) / 2.0
    w_out = (w1 + w2 + 4.0 * w1 * w2) / (6.0 * p)
    return p, werner_to_fidelity(w_out)


def werner_to_bell_diagonal(f):
    """Bell-diagonal coefficients (A, B, C, D) of a Werner state: (F, (1−F)/3 ×3)."""
    f = np.asarray(f, dtype=float)
    r = (1.0 - f) / 3.0
    return np.stack([f, r, r, r], axis=-1)


def dejmps(c1, c2):
    """DEJMPS recurrence on two Bell-diagonal states (Deutsch et al. 1996).

    ``c1``, ``c2``: arrays ``(..., 4)`` of coefficients (A, B, C, D), A = fidelity to Φ⁺.
    With ``N = (A1 + B1)(A2 + B2) + (C1 + D1)(C2 + D2)`` the success probability, the output is
    ``A' = (A1A2 + B1B2)/N``, ``B' = (C1D2 + D1C2)/N``, ``C' = (C1C2 + D1D2)/N``,
    ``D' = (A1B2 + B1A2)/N``. Returns ``(p_success, coefficients_out)``.
    """
    a1, b1, c_1, d1 = np.moveaxis(np.asarray(c1, dtype=float), -1, 0)
    a2, b2, c_2, d2 = np.moveaxis(np.asarray(c2, dtype=float), -1, 0)
    n = (a1 + b1) * (a2 + b2) + (c_1 + d1) * (c_2 + d2)
    out = np.stack(
        [a1 * a2 + b1 * b2, c_1 * d2 + d1 * c_2, c_1 * c_2 + d1 * d2, a1 * b2 + b1 * a2], axis=-1
    )
    return n, out / np.asarray(n)[..., None]


def fiber_transmissivity(length_km, attenuation_db_per_km: float = 0.2):
    """Fibre transmissivity ``η = 10^(−α·L/10)`` (0.2 dB/km: ``10^(−0.02·L)``)."""
    return np.power(10.0, -attenuation_db_per_km * np.asarray(length_km, dtype=float) / 10.0)
