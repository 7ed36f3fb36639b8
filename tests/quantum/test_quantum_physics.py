"""Oracles for quantum.physics: hand values from the issue and brute-force density matrices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quantum_dm import BELL, PHI_P, bell_diagonal_rho

from quantum import physics as ph


def test_bbpssw_issue_hand_values():
    """Issue 6: BBPSSW on Werner F = 0.9, 0.8 succeeds with p ≈ 0.8178, F' ≈ 0.8832."""
    p, f = ph.bbpssw(0.9, 0.8)
    assert p == pytest.approx(0.8178, abs=5e-5)
    assert f == pytest.approx(0.8832, abs=5e-5)


def test_bbpssw_matches_original_fidelity_form():
    """Bennett et al. 1996: F' = (F1F2 + r1r2)/(F1F2 + F1r2 + r1F2 + 5r1r2), r = (1−F)/3."""
    f1, f2 = 0.75, 0.68
    r1, r2 = (1 - f1) / 3, (1 - f2) / 3
    n = f1 * f2 + f1 * r2 + r1 * f2 + 5 * r1 * r2
    p, f = ph.bbpssw(f1, f2)
    assert p == pytest.approx(n)
    assert f == pytest.approx((f1 * f2 + r1 * r2) / n)


def test_swap_hand_value_and_werner_product():
    """F' = F1F2 + (1−F1)(1−F2)/3: 0.9, 0.8 -> 0.72 + 0.02/3; equivalently w' = w1·w2."""
    assert ph.swap_fidelity(0.9, 0.8) == pytest.approx(0.72 + 0.02 / 3)
    w = ph.fidelity_to_werner(0.9) * ph.fidelity_to_werner(0.8)
    assert ph.werner_to_fidelity(w) == pytest.approx(ph.swap_fidelity(0.9, 0.8))


def test_depolarising_hand_values():
    """F(t) = 1/4 + (F0 − 1/4)e^{−qt/τ}: F0 = 0.95, t = τ: one qubit 0.25 + 0.7/e."""
    assert ph.depolarise(0.95, 1.0, 1.0) == pytest.approx(0.25 + 0.7 / np.e)
    assert ph.depolarise(0.95, 1.0, 1.0, qubits=2) == pytest.approx(0.25 + 0.7 / np.e**2)
    assert ph.depolarise(0.95, 1e9, 1.0) == pytest.approx(0.25)


def test_swap_by_bell_measurement_on_density_matrices():
    """Brute force: project qubits 2,3 of ρ12⊗ρ34 on Φ⁺ (the other outcomes are equivalent up
    to Pauli corrections) and compare the 1-4 state with the correlation-product rule."""
    rng = np.random.default_rng(1)
    for _ in range(5):
        c1 = rng.dirichlet(np.ones(4))
        c2 = rng.dirichlet(np.ones(4))
        rho = np.kron(bell_diagonal_rho(c1), bell_diagonal_rho(c2)).reshape([2] * 8)
        # indices (a1 a2 a3 a4, b1 b2 b3 b4); contract qubits 2, 3 with <Φ+|.|Φ+>
        phi = PHI_P.reshape(2, 2)
        out = np.einsum("xy,ixyjkzwl,zw->ijkl", phi.conj(), rho, phi).reshape(4, 4)
        out /= np.trace(out)
        fid = [float(np.real(b @ out @ b)) for b in BELL]
        s = ph.bell_diagonal_to_correlations(c1) * ph.bell_diagonal_to_correlations(c2)
        np.testing.assert_allclose(fid, ph.correlations_to_bell_diagonal(s), atol=1e-12)


def test_t1t2_single_qubit_matches_kraus_channel():
    """Amplitude (T1) and pure dephasing on one half of Φ⁺ (Nielsen & Chuang §8.3): the exact
    fidelity equals 1/4 + 3/4·(e^{−t/T1} + 2e^{−t/T2})/3."""
    t1, t2, t = 2.0, 1.5, 0.7
    g = 1 - np.exp(-t / t1)
    lam = np.exp(-t / t2) / np.sqrt(1 - g)  # remaining coherence after amplitude damping
    k_ad = [np.array([[1, 0], [0, np.sqrt(1 - g)]]), np.array([[0, np.sqrt(g)], [0, 0]])]
    pz = (1 - lam) / 2
    k_pd = [np.sqrt(1 - pz) * np.eye(2), np.sqrt(pz) * np.diag([1, -1])]
    rho = np.outer(PHI_P, PHI_P)
    for kset in (k_ad, k_pd):
        rho = sum(np.kron(k, np.eye(2)) @ rho @ np.kron(k, np.eye(2)).conj().T for k in kset)
    exact = float(np.real(PHI_P @ rho @ PHI_P))
    assert ph.t1t2_decay(1.0, t, t1, t2) == pytest.approx(exact, rel=1e-12)


def test_t1t2_rejects_unphysical_t2():
    with pytest.raises(ValueError, match="t2_s"):
        ph.memory_factors(1.0, 1, t1_s=1.0, t2_s=3.0)


def test_dejmps_equals_bbpssw_on_werner_inputs():
    """One DEJMPS round on Werner inputs has BBPSSW's success probability and fidelity."""
    for f1, f2 in ((0.9, 0.8), (0.7, 0.7), (0.6, 0.95)):
        p, c = ph.dejmps(ph.werner_to_bell_diagonal(f1), ph.werner_to_bell_diagonal(f2))
        pb, fb = ph.bbpssw(f1, f2)
        assert p == pytest.approx(pb)
        assert c[0] == pytest.approx(fb)


def test_dejmps_beats_bbpssw_when_iterated():
    """Deutsch et al. 1996: DEJMPS converges faster than BBPSSW (no twirl between rounds)."""
    c = ph.werner_to_bell_diagonal(0.7)
    f = 0.7
    for _ in range(3):
        _, c = ph.dejmps(c, c)
        _, f = ph.bbpssw(f, f)
    assert c[0] > f + 0.01


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda v: sum(v) > 1e-3),
    st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda v: sum(v) > 1e-3),
    st.floats(0.0, 50.0),
)
def test_fidelity_stays_in_range(v1, v2, t):
    """Property: swap, decay and distillation keep Bell-diagonal weights in the simplex and
    Werner fidelities in [1/4, 1]."""
    c1 = np.asarray(v1) / sum(v1)
    c2 = np.asarray(v2) / sum(v2)
    p, c = ph.dejmps(c1, c2)
    assert -1e-12 <= p <= 1 + 1e-12
    if p > 1e-9:
        assert np.all(c >= -1e-9) and abs(c.sum() - 1) < 1e-9
    f1 = max(c1[0], 0.25)
    f2 = max(c2[0], 0.25)
    for f in (
        ph.swap_fidelity(f1, f2),
        ph.depolarise(f1, t, 1.0, 2),
        ph.t1t2_decay(f1, t, 2.0, 3.0),
        ph.bbpssw(f1, f2)[1],
    ):
        assert 0.25 - 1e-12 <= float(f) <= 1 + 1e-12


def test_link_success_probability_schemes():
    """Midpoint: p = η_ph²/2 with η_ph = η_e·η_d·10^(−0.02·L/2); single click: 1 − (1 − αη_ph)²."""
    eta_ph = 0.8 * 0.9 * 10 ** (-0.02 * 25 / 2)
    assert ph.link_success_probability(25, "midpoint", 0.9, 0.8) == pytest.approx(eta_ph**2 / 2)
    sc = ph.link_success_probability(25, "single_click", 0.9, 0.8, bright_state=0.1)
    assert sc == pytest.approx(1 - (1 - 0.1 * eta_ph) ** 2)
    assert ph.fiber_transmissivity(50) == pytest.approx(0.1)
    assert ph.attempt_time_s(10, 1e-5) == pytest.approx(10e3 / 2e8 + 1e-5)
    assert ph.link_initial_fidelity("single_click", 1.0, 0.2) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="scheme"):
        ph.link_success_probability(10, "teleport")
    with pytest.raises(ValueError, match="bright_state"):
        ph.link_success_probability(10, "single_click", bright_state=0.9)


def test_hashing_yield():
    assert ph.werner_hashing_yield(1.0) == pytest.approx(1.0)
    assert ph.werner_hashing_yield(0.6) == 0.0
    f = 0.95
    r = (1 - f) / 3
    assert ph.werner_hashing_yield(f) == pytest.approx(1 + f * np.log2(f) + 3 * r * np.log2(r))


def test_noisy_swap_by_bell_measurement_with_misread_bits():
    """Brute force: after projecting on Φ⁺, each correction bit is wrong with probability ε
    (X or Z applied to qubit 4); the averaged 1-4 state matches noisy_swap_correlations."""
    x = np.array([[0, 1], [1, 0]])
    z = np.diag([1, -1])
    rng = np.random.default_rng(2)
    for eps in (0.0, 0.05, 0.2):
        c1, c2 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
        rho = np.kron(bell_diagonal_rho(c1), bell_diagonal_rho(c2)).reshape([2] * 8)
        phi = PHI_P.reshape(2, 2)
        out = np.einsum("xy,ixyjkzwl,zw->ijkl", phi.conj(), rho, phi).reshape(4, 4)
        out /= np.trace(out)
        avg = np.zeros((4, 4))
        for px, (ex, ez) in zip(
            [(1 - eps) ** 2, eps * (1 - eps), eps * (1 - eps), eps**2],
            [(0, 0), (1, 0), (0, 1), (1, 1)],
            strict=True,
        ):
            u = np.kron(np.eye(2), np.linalg.matrix_power(z, ez) @ np.linalg.matrix_power(x, ex))
            avg = avg + px * (u @ out @ u.conj().T)
        fid = [float(np.real(b @ avg @ b)) for b in BELL]
        s = ph.noisy_swap_correlations(ph.bell_diagonal_to_correlations(c1),
                                       ph.bell_diagonal_to_correlations(c2), meas_error=eps)
        np.testing.assert_allclose(fid, ph.correlations_to_bell_diagonal(s), atol=1e-12)
    with pytest.raises(ValueError, match="meas_error"):
        ph.noisy_swap_correlations((1, 1, 1), (1, 1, 1), meas_error=0.6)
