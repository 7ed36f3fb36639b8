"""QKD key rate and teleportation fidelity against brute force on density matrices."""

from __future__ import annotations

import numpy as np
import pytest

from quantum.applications import (
    binary_entropy,
    key_rate_bps,
    secret_fraction,
    teleportation_fidelity,
    werner_qber,
)

PHI = np.array([1, 0, 0, 1]) / np.sqrt(2)
X = np.array([[0, 1], [1, 0]])
Z = np.diag([1, -1])
H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)


def werner(f):
    w = (4 * f - 1) / 3
    return w * np.outer(PHI, PHI) + (1 - w) * np.eye(4) / 4


@pytest.mark.parametrize("f", [0.7, 0.9, 0.99])
def test_qber_matches_measuring_a_werner_state(f):
    """Probability that Z⊗Z (and X⊗X) outcomes differ, from the density matrix."""
    rho = werner(f)
    zz = np.real(np.trace(rho @ np.kron(Z, Z)))
    u = np.kron(H, H)
    xx = np.real(np.trace(u @ rho @ u.T @ np.kron(Z, Z)))
    assert (1 - zz) / 2 == pytest.approx(werner_qber(f))
    assert (1 - xx) / 2 == pytest.approx(werner_qber(f))


def test_secret_fraction_threshold_and_values():
    assert binary_entropy(0.5) == pytest.approx(1.0)
    assert secret_fraction(0.0) == pytest.approx(1.0)
    assert secret_fraction(0.1100278644) == pytest.approx(0.0, abs=1e-8)  # Shor-Preskill 11 %
    assert secret_fraction(0.12) == 0.0
    assert key_rate_bps(100.0, 1.0) == pytest.approx(50.0)
    assert key_rate_bps(100.0, 0.8) == 0.0  # Q = 13.3 %


def _teleport(psi, rho_ab):
    """Teleport |psi> (qubit 0) with resource rho_ab (qubits 1, 2); average output fidelity
    over the four Bell outcomes with their Pauli corrections."""
    rho = np.kron(np.outer(psi, psi.conj()), rho_ab)
    bells = [PHI, np.array([1, 0, 0, -1]) / np.sqrt(2), np.array([0, 1, 1, 0]) / np.sqrt(2),
             np.array([0, 1, -1, 0]) / np.sqrt(2)]
    fixes = [np.eye(2), Z, X, Z @ X]
    fid = 0.0
    for b, c in zip(bells, fixes, strict=True):
        proj = np.kron(np.outer(b, b.conj()), np.eye(2))
        out = (proj @ rho @ proj).reshape(4, 2, 4, 2)
        out = np.einsum("iaib->ab", out)
        out = c @ out @ c.conj().T
        fid += np.real(psi.conj() @ out @ psi)
    return fid


@pytest.mark.parametrize("f", [0.5, 0.8, 0.95])
def test_teleportation_fidelity_by_brute_force(f):
    rng = np.random.default_rng(0)
    vals = []
    for _ in range(400):
        v = rng.normal(size=2) + 1j * rng.normal(size=2)
        vals.append(_teleport(v / np.linalg.norm(v), werner(f)))
    # the channel is depolarising, so every input gets the same fidelity
    assert np.allclose(vals, teleportation_fidelity(f))


def test_bad_input():
    with pytest.raises(ValueError, match="fidelity"):
        werner_qber(0.1)
    with pytest.raises(ValueError, match="sifting"):
        key_rate_bps(1.0, 0.9, sifting=0)
