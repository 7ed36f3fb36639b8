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


# -- GHZ by fusing Werner pairs at a star's centre -----------------------------------------

from itertools import product  # noqa: E402

from quantum.applications import assemble_ghz, ghz_fidelity  # noqa: E402


def _ghz_by_density_matrix(fids):
    """Brute force: n Werner pairs (centre_i, leaf_i); project the centre qubits onto each
    GHZ-basis state (|x> + (−1)^s |x̄>)/√2 (x_1 = 0), apply X on leaf i where x_i = 1 and Z on
    leaf 1 if s = 1, and sum the outcome-weighted fidelities with |GHZ_n>."""
    n = len(fids)
    rho = np.array([[1.0]])
    for f in fids:
        rho = np.kron(rho, werner(f))  # qubit order c1 l1 c2 l2 ...
    t = rho.reshape([2] * (4 * n))
    order = [2 * i for i in range(n)] + [2 * i + 1 for i in range(n)]  # c1..cn l1..ln
    t = t.transpose(order + [2 * n + o for o in order])
    rho = t.reshape(4 ** n, 4 ** n)
    dim = 2 ** n
    ghz = np.zeros(dim)
    ghz[0] = ghz[-1] = 1 / np.sqrt(2)
    total = 0.0
    for x in product((0, 1), repeat=n - 1):
        x = (0, *x)
        ix = int("".join(map(str, x)), 2)
        for s in (0, 1):
            g = np.zeros(dim)
            g[ix] = 1 / np.sqrt(2)
            g[dim - 1 - ix] = (-1) ** s / np.sqrt(2)
            proj = np.kron(g.reshape(1, -1), np.eye(dim))  # <g| ⊗ I
            sigma = proj @ rho @ proj.T
            c = np.array([[1.0]])
            for i in range(n):
                op = np.linalg.matrix_power(X, x[i])
                if i == 0 and s:
                    op = Z @ op
                c = np.kron(c, op)
            total += float(ghz @ c @ sigma @ c.T @ ghz)
    return total


@pytest.mark.parametrize("fids", [(0.9, 0.8, 0.95), (1.0, 1.0, 1.0), (0.25, 0.6, 0.99),
                                  (0.97, 0.85, 0.9, 0.7)])
def test_ghz_fidelity_matches_density_matrix_fusion(fids):
    assert ghz_fidelity(fids) == pytest.approx(_ghz_by_density_matrix(fids), abs=1e-12)


def test_ghz_fidelity_two_pairs_is_the_swap():
    f1, f2 = 0.9, 0.8
    assert ghz_fidelity([f1, f2]) == pytest.approx(f1 * f2 + (1 - f1) * (1 - f2) / 3)
    with pytest.raises(ValueError, match="at least 2"):
        ghz_fidelity([0.9])


def test_assemble_ghz_keeps_the_newest_pair_decays_and_cuts_off():
    tau = 1.0
    log = [(0, 0.0, 0.9), (0, 0.1, 0.95), (1, 0.2, 0.8), (2, 0.3, 0.9),  # fuse at 0.3
           (1, 0.4, 0.9), (2, 0.5, 0.9), (0, 2.0, 0.9)]  # leaf 1, 2 expire (cutoff 1 s)
    t, f = assemble_ghz(log, 3, tau, cutoff_s=1.0)
    assert list(t) == [0.3]
    decay = [np.exp(-2 * 0.2), np.exp(-2 * 0.1), 1.0]
    fs = [(1 + 3 * (4 * f0 - 1) / 3 * d) / 4 for f0, d in zip((0.95, 0.8, 0.9), decay, strict=True)]
    assert f[0] == pytest.approx(ghz_fidelity(fs))
    t2, _ = assemble_ghz(log, 3, tau, cutoff_s=None)
    assert list(t2) == [0.3, 2.0]


def test_assemble_ghz_rate_for_poisson_deliveries():
    """Leaves receiving pairs as independent Poisson processes of rate λ (no decay, no
    cutoff): after each fusion the centre waits for the last of n Exp(λ) first arrivals, so
    fusions form a renewal process of mean interval H_n/λ (H_n the n-th harmonic number)."""
    rng = np.random.default_rng(7)
    lam, n, horizon = 2.0, 3, 5_000.0
    log = []
    for leaf in range(n):
        t = np.cumsum(rng.exponential(1 / lam, size=int(lam * horizon * 1.2)))
        log += [(leaf, float(x), 1.0) for x in t[t < horizon]]
    times, fids = assemble_ghz(log, n, coherence_s=None)
    gaps = np.diff(times)
    h_n = sum(1 / i for i in range(1, n + 1))
    assert gaps.mean() == pytest.approx(h_n / lam, abs=4 * gaps.std() / np.sqrt(len(gaps)))
    assert np.allclose(fids, 1.0)
