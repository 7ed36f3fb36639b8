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


# -- finite-key BB84/BBM92 (Tomamichel, Lim, Gisin & Renner, Nat. Commun. 3, 634 (2012)) ---

from quantum.applications import (  # noqa: E402
    finite_key_fraction,
    finite_key_length,
    key_rate_finite_bps,
    signals_per_block,
)


@pytest.mark.parametrize("n, q, r_paper, p_test, q_tol, eps_rob", [
    (1e6, 0.010, 0.478, 0.125, 0.0173, 0.006),
    (1e6, 0.025, 0.357, 0.137, 0.0321, 0.007),
])
def test_finite_key_reproduces_table_ii(n, q, r_paper, p_test, q_tol, eps_rob):
    """Table II of Tomamichel et al. 2012 (security rate ε/ℓ = 1e-14, ξ = 1.1): r = (1 −
    ε_rob)ℓ/M at the paper's optimised parameters (its p column is the parameter-estimation
    basis probability: k = n(p/(1 − p))², M = n/(1 − p)²), within 1 %. ε = ℓ·1e-14 split
    evenly between ε_sec and ε_cor (fixed point)."""
    k = n * (p_test / (1 - p_test)) ** 2
    assert signals_per_block(n, k) == pytest.approx(n / (1 - p_test) ** 2)
    ell = 0.5 * n
    for _ in range(30):
        eps = ell * 1e-14 / 2
        ell = float(finite_key_length(n, k, q_tol, q, eps, eps, 1.1))
    r = (1 - eps_rob) * ell / signals_per_block(n, k)
    assert r == pytest.approx(r_paper, rel=0.01)
    # the grid optimum with ε_sec = 1e-10, ε_cor = 1e-15 is at least as good (within 1 %)
    assert finite_key_fraction(q, n, 1e-10, 1e-15, 1.1) >= 0.99 * r_paper


def test_finite_key_converges_to_the_asymptotic_rate():
    """With ξ = 1 the rate rises with the block size towards 1 − 2h(Q) (never above)."""
    for q in (0.01, 0.03, 0.06):
        asym = float(secret_fraction(q))
        rates = [finite_key_fraction(q, n, ec_efficiency=1.0) for n in 10.0 ** np.arange(3, 16)]
        assert all(b >= a for a, b in zip(rates, rates[1:], strict=False))
        assert rates[-1] <= asym
        assert rates[-1] == pytest.approx(asym, rel=0.02)


def test_finite_key_is_zero_below_a_minimum_block():
    """Q = 1 %: no key from 100-bit blocks (the ε terms alone cost log2(2/(ε_sec²ε_cor)) ≈
    117 bits > n), a key from 10^4 (the paper: 'significant key rates already for 10^4')."""
    assert finite_key_fraction(0.01, 100) == 0.0
    assert finite_key_fraction(0.01, 1e4) > 0.1
    assert finite_key_length(100, 100, 0.01, 0.01) < 0
    # above the asymptotic threshold (ξ = 1.1: h(Q) > 1/2.1) there is no key at any size
    assert finite_key_fraction(0.105, 1e12) == 0.0


def test_key_rate_finite_bps_per_pair_and_validation():
    rate = key_rate_finite_bps([100.0, 0.0], [0.99, 0.99], 1e6)
    assert rate[1] == 0.0
    assert rate[0] == pytest.approx(100 * finite_key_fraction(float(werner_qber(0.99)), 1e6))
    assert rate[0] < 100 * float(secret_fraction(werner_qber(0.99)))
    with pytest.raises(ValueError, match="eps_sec"):
        finite_key_fraction(0.01, 1e6, eps_sec=0)
    with pytest.raises(ValueError, match="block_bits"):
        finite_key_fraction(0.01, 0)
    with pytest.raises(ValueError, match="ec_efficiency"):
        finite_key_fraction(0.01, 1e6, ec_efficiency=0.9)
