"""Hardware realism (issue 16, item 2): dark counts and dead time in heralding, multiplexed
memories, noisy gates and measurements in swap and distillation. Every closed form of
quantum.physics is checked against the density-matrix brute force of ``quantum_dm``
(Fock-space optics for the click patterns, explicit circuits for swap and recurrence)."""

from __future__ import annotations

import numpy as np
import pytest
from quantum_dm import (
    corrected_bell_coefficients,
    heralding_patterns,
    noisy_swap,
    recurrence_round,
)

from quantum import physics as ph

SCHEMES = [("midpoint", 0.5), ("single_click", 0.1), ("single_click", 0.3)]


@pytest.mark.parametrize(("scheme", "alpha"), SCHEMES)
@pytest.mark.parametrize(("eta", "p_dc"), [(0.3, 0.0), (0.3, 0.05), (0.8, 0.2), (0.05, 0.01)])
def test_heralding_with_dark_counts_matches_click_pattern_enumeration(scheme, alpha, eta, p_dc):
    """Brute force: spins emit into two Fock modes, photons are lost, interfere on a 50:50
    beam splitter and are counted by threshold detectors with dark counts; summing the
    accepted click patterns (exactly one click per window) after each pattern's Pauli
    correction gives P_herald and the Bell coefficients of physics.heralded_state, and
    1 − P(no click) its click probability."""
    reference, _ = heralding_patterns(scheme, 0.7, 0.0, alpha)
    states, no_click = heralding_patterns(scheme, eta, p_dc, alpha)
    coeffs = corrected_bell_coefficients(states, reference)
    herald, c, click = ph.heralded_state(scheme, eta, p_dc, alpha)
    assert herald == pytest.approx(coeffs.sum(), rel=1e-12)
    np.testing.assert_allclose(c, coeffs / coeffs.sum(), atol=1e-12)
    assert click == pytest.approx(1 - no_click, rel=1e-12)


def test_heralding_without_dark_counts_reduces_to_the_link_model():
    """p_dc = 0: double click P = η²/2 with F = 1 (Barrett & Kok); single click
    P = 1 − (1 − αη)² (physics.link_success_probability) and F = 2(1 − α)/(2 − αη)."""
    eta_ph = 0.8 * 0.9 * 10 ** (-0.02 * 25 / 2)
    p, c, _ = ph.heralded_state("midpoint", eta_ph)
    assert p == pytest.approx(float(ph.link_success_probability(25, "midpoint", 0.9, 0.8)))
    assert c[0] == 1.0
    p, c, _ = ph.heralded_state("single_click", eta_ph, 0.0, 0.1)
    assert p == pytest.approx(float(ph.link_success_probability(25, "single_click", 0.9, 0.8,
                                                                0.1)))
    assert c[0] == pytest.approx(2 * 0.9 / (2 - 0.1 * eta_ph))


def test_dark_counts_dominate_at_long_distance():
    """The double-click fidelity falls monotonically with p_dc; at η = 0 every herald is two
    dark clicks (q1 = q2 = q0, so P = q0²): half of them on the |↑↓⟩/|↓↑⟩ mixture (F = 1/2),
    half on |↑↑⟩/|↓↓⟩ (F = 0), F = 1/4."""
    fids = [ph.heralded_state("midpoint", 0.01, p)[1][0] for p in (0, 1e-6, 1e-4, 1e-3, 1e-2)]
    assert all(a > b for a, b in zip(fids, fids[1:], strict=False))
    p_dc = 1e-2
    herald, c, _ = ph.heralded_state("midpoint", 0.0, p_dc)
    q0 = 2 * p_dc * (1 - p_dc)
    assert herald == pytest.approx(q0 * q0)  # q1 = q2 = q0 when no photon arrives
    assert c[0] == pytest.approx(0.25)  # half mixed (F = 1/2), half product (F = 0)


def test_dead_time_attempt_duration_matches_an_attempt_by_attempt_simulation():
    """Monte Carlo of the renewal process: each attempt succeeds with P_herald, clicks with
    P_click ⊇ success, and a clicked attempt lasts max(t_att, t_dead). The mean time per
    success equals dead_time_attempt_s(...)/P_herald."""
    p_h, _, p_click = ph.heralded_state("midpoint", 0.4, 0.02)
    t_att, t_dead = 1.0, 3.5
    rng = np.random.default_rng(5)
    u = rng.random(2_000_000)
    success = u < p_h
    clicked = u < p_click
    dur = np.where(clicked, max(t_att, t_dead), t_att)
    mean_time = dur.sum() / success.sum()
    expect = float(ph.dead_time_attempt_s(t_att, t_dead, p_click)) / p_h
    assert mean_time == pytest.approx(expect, rel=0.01)
    assert float(ph.dead_time_attempt_s(t_att, 0.5, p_click)) == t_att  # shorter than t_att


def test_multiplexed_probability():
    """1 − (1 − p)^m, stable for small p; m = 1 returns p itself."""
    assert ph.multiplexed_probability(0.1, 1) == 0.1
    assert ph.multiplexed_probability(0.1, 3) == pytest.approx(1 - 0.9**3)
    assert ph.multiplexed_probability(1e-12, 1000) == pytest.approx(1e-9, rel=1e-6)
    with pytest.raises(ValueError, match="modes"):
        ph.multiplexed_probability(0.1, 0)


@pytest.mark.parametrize(("gate_error", "meas_error"),
                         [(0.0, 0.0), (0.05, 0.0), (0.0, 0.03), (0.1, 0.07)])
@pytest.mark.parametrize("rotate", [True, False])
def test_noisy_recurrence_matches_density_matrix_circuit(gate_error, meas_error, rotate):
    """Brute force on 4 qubits (Briegel et al. 1998 noise model): (DEJMPS rotations), CNOTs
    each followed by two-qubit depolarising, Z measurements with misread bits, keep on
    reported agreement; p_success and the kept pair's Bell coefficients equal
    physics.noisy_recurrence."""
    rng = np.random.default_rng(int(1000 * gate_error + 100 * meas_error) + rotate)
    for _ in range(3):
        c1, c2 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
        p_bf, c_bf = recurrence_round(c1, c2, gate_error, meas_error, rotate)
        p, c = ph.noisy_recurrence(c1, c2, gate_error, meas_error, rotate)
        assert p == pytest.approx(p_bf, rel=1e-12)
        np.testing.assert_allclose(c, c_bf, atol=1e-12)


def test_noiseless_recurrence_is_bbpssw_and_dejmps():
    """No noise: the circuit reproduces the issue's BBPSSW numbers 0.817778 / 0.883152 and
    noisy_recurrence equals physics.dejmps."""
    p_bf, c_bf = recurrence_round(ph.werner_to_bell_diagonal(0.9), ph.werner_to_bell_diagonal(0.8))
    assert (p_bf, c_bf[0]) == pytest.approx((0.817778, 0.883152), abs=1e-6)
    assert ph.noisy_bbpssw(0.9, 0.8) == pytest.approx(ph.bbpssw(0.9, 0.8), rel=1e-14)
    c1, c2 = np.array([0.7, 0.1, 0.15, 0.05]), np.array([0.6, 0.2, 0.1, 0.1])
    p, c = ph.noisy_recurrence(c1, c2)
    pd, cd = ph.dejmps(c1, c2)
    assert p == pytest.approx(pd, rel=1e-14)
    np.testing.assert_allclose(c, cd, rtol=1e-14)


def test_noisy_bbpssw_hand_values_and_threshold():
    """Hand value with gate noise only (Werner F = 0.9, 0.8, p_gate = 0.02, p2 = 0.98):
    p = p2²(1 + w1w2)/2 + (1 − p2²)/2 and F = (p2²·(F1F2 + r1r2) + (1 − p2²)/8)/p; noise
    raises the fixed-point threshold: with p_gate = 0.05 a pair of F = 0.6 no longer gains."""
    f1, f2, g = 0.9, 0.8, 0.02
    w1, w2 = ph.fidelity_to_werner(f1), ph.fidelity_to_werner(f2)
    k = (1 - g) ** 2
    r1, r2 = (1 - f1) / 3, (1 - f2) / 3
    p_expect = k * (1 + w1 * w2) / 2 + (1 - k) / 2
    p, f = ph.noisy_bbpssw(f1, f2, g)
    assert p == pytest.approx(p_expect, rel=1e-12)
    assert f == pytest.approx((k * (f1 * f2 + r1 * r2) + (1 - k) / 8) / p_expect, rel=1e-12)
    assert ph.noisy_bbpssw(0.6, 0.6)[1] > 0.6
    assert ph.noisy_bbpssw(0.6, 0.6, gate_error=0.05)[1] < 0.6


@pytest.mark.parametrize(("gate_error", "meas_error"), [(0.0, 0.0), (0.05, 0.0), (0.1, 0.07)])
def test_noisy_swap_matches_density_matrix_circuit(gate_error, meas_error):
    """Brute force: CNOT + two-qubit depolarising + H + misread Z measurements + Pauli
    correction; the 1-4 pair equals noisy_swap_correlations with gate_werner = 1 − p_gate,
    and for Werner inputs its twirl is noisy_swap_werner."""
    rng = np.random.default_rng(9)
    c1, c2 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    s = ph.noisy_swap_correlations(ph.bell_diagonal_to_correlations(c1),
                                   ph.bell_diagonal_to_correlations(c2), 1 - gate_error,
                                   meas_error)
    np.testing.assert_allclose(ph.correlations_to_bell_diagonal(s),
                               noisy_swap(c1, c2, gate_error, meas_error), atol=1e-12)
    f1, f2 = 0.9, 0.85
    out = noisy_swap(ph.werner_to_bell_diagonal(f1), ph.werner_to_bell_diagonal(f2),
                     gate_error, meas_error)
    w = ph.noisy_swap_werner(ph.fidelity_to_werner(f1), ph.fidelity_to_werner(f2), gate_error,
                             meas_error)
    assert ph.fidelity_to_werner(out[0]) == pytest.approx(w, abs=1e-12)


def test_bad_probabilities_are_rejected():
    with pytest.raises(ValueError, match="gate_error"):
        ph.noisy_recurrence((1, 0, 0, 0), (1, 0, 0, 0), gate_error=1.5)
    with pytest.raises(ValueError, match="meas_error"):
        ph.noisy_recurrence((1, 0, 0, 0), (1, 0, 0, 0), meas_error=-0.1)
    with pytest.raises(ValueError, match="dark_count_prob"):
        ph.heralded_state("midpoint", 0.5, dark_count_prob=-1e-3)
    with pytest.raises(ValueError, match="gate_error"):
        ph.noisy_swap_werner(1, 1, gate_error=-0.1)
    with pytest.raises(ValueError, match="scheme"):
        ph.heralded_state("teleport", 0.5)
