"""Hardware realism on the repeater-chain engine (issue 16, item 2): dark counts, detector
dead time, multimode memories and noisy swap/pumping gates, each against its closed form."""

from __future__ import annotations

import numpy as np
import pytest

from netsim import ConfigError, Simulation, validate
from netsim.stats import t_interval
from quantum import physics as ph
from quantum.chain import ChainConfig, build_chain, link_physics, simulate_chain
from quantum.waiting import expected_max_geometric


def _cfg(**kw) -> ChainConfig:
    return validate(ChainConfig, kw)


def _gaps(res):
    return np.diff(np.r_[0.0, res.delivery_times])


@pytest.mark.parametrize("scheme", ["midpoint", "single_click"])
def test_dark_counts_set_link_probability_and_fidelity(scheme):
    """One 40 km link, no memory decay: p = heralded_state's P_herald and every delivered pair
    has F0 with Werner parameter w(link_fidelity model)·w_dc(p_dc)/w_dc(0); the delivery rate
    is p/t_att (99 % CI of the i.i.d. geometric gaps)."""
    kw = dict(n_links=1, link_length_km=40, scheme=scheme, decoherence="none",
              link_fidelity=0.97, f_min=0, local_time_s=1e-6)
    cfg = _cfg(dark_count_prob=2e-3, **kw)
    eta_ph = 0.9 * 10 ** (-0.02 * 20)
    herald, c, _ = ph.heralded_state(scheme, eta_ph, 2e-3, 0.1)
    ref = ph.heralded_state(scheme, eta_ph, 0.0, 0.1)[1]
    lp = link_physics(cfg)
    assert lp.p == pytest.approx(herald, rel=1e-12)
    f_clean = ph.link_initial_fidelity(scheme, 0.97, 0.1)
    w = ph.fidelity_to_werner(f_clean) * ph.fidelity_to_werner(c[0]) / ph.fidelity_to_werner(
        ref[0])
    assert lp.f0 == pytest.approx(float(ph.werner_to_fidelity(w)), rel=1e-12)
    assert lp.f0 < link_physics(_cfg(**kw)).f0  # dark counts cost fidelity
    res = simulate_chain(cfg, seed=2, horizon_s=3000 * lp.attempt_s / lp.p)
    np.testing.assert_allclose(res.fidelities, lp.f0, rtol=1e-12)
    mean, half = t_interval(_gaps(res), 0.99)
    assert abs(mean - lp.attempt_s / lp.p) <= half


def test_dead_time_slows_the_link_as_the_closed_form():
    """Dead time 3.5 attempts, dark counts 1 %: the mean gap between heralds on one link is
    (t_att + P_click·(t_dead − t_att))/P_herald (physics.dead_time_attempt_s); every gap is
    k·t_att + j·(t_dead − t_att) with 1 ≤ j ≤ k."""
    base = dict(n_links=1, link_length_km=20, decoherence="none", f_min=0,
                dark_count_prob=0.01, detector_efficiency=0.5)
    lp0 = link_physics(_cfg(**base))
    t_dead = 3.5 * lp0.attempt_s
    cfg = _cfg(detector_dead_time_s=t_dead, **base)
    lp = link_physics(cfg)
    assert lp.p == lp0.p and lp.dead_extra_s == pytest.approx(2.5 * lp.attempt_s)
    expect = float(ph.dead_time_attempt_s(lp.attempt_s, t_dead, lp.click_p)) / lp.p
    res = simulate_chain(cfg, seed=4, horizon_s=3000 * expect)
    gaps = _gaps(res)
    mean, half = t_interval(gaps, 0.99)
    assert abs(mean - expect) <= half
    assert mean > 1.2 * lp.attempt_s / lp.p  # clearly slower than without dead time
    # lattice: gap = k·t + j·e with 1 ≤ j ≤ k (the successful attempt always clicked)
    t, e = lp.attempt_s, lp.dead_extra_s
    ks = np.arange(1, 2000)
    for g in gaps[:200]:
        j = (g - ks * t) / e
        ok = (j >= 1 - 1e-6) & (j <= ks + 1e-6) & (np.abs(j - np.round(j)) < 1e-6)
        assert ok.any()
    # dead time shorter than an attempt costs nothing
    short = link_physics(_cfg(detector_dead_time_s=0.5 * lp.attempt_s, **base))
    assert short.dead_extra_s == 0.0


@pytest.mark.parametrize("modes", [1, 4])
def test_multiplexed_memory_rates_on_one_and_two_links(modes):
    """m modes per round: one link delivers every t/(1 − (1 − p)^m) on average; two links
    (swap-ASAP, zero latency, renewals) every E[max of 2 geometrics(p_m)] =
    (3 − 2p_m)/(p_m(2 − p_m)) slots, so the rate gain of m = 4 over m = 1 is that ratio."""
    p = 0.05
    p_m = 1 - (1 - p) ** modes
    for n, expect in ((1, 1 / p_m), (2, expected_max_geometric(2, p_m))):
        cfg = _cfg(n_links=n, link_length_km=0, local_time_s=1.0, success_probability=p,
                   memory_modes=modes, decoherence="none", f_min=0)
        assert link_physics(cfg).p == pytest.approx(p_m, rel=1e-12)
        res = simulate_chain(cfg, seed=5 + n, horizon_s=3000 * expect)
        mean, half = t_interval(_gaps(res), 0.99)
        assert abs(mean - expect) <= half
    assert expected_max_geometric(2, p_m) == pytest.approx((3 - 2 * p_m) / (p_m * (2 - p_m)))


@pytest.mark.parametrize("protocol", ["bbpssw", "dejmps"])
def test_noisy_pumping_gives_the_noisy_recurrence(protocol):
    """N = 1, one round with noisy CNOTs (p_gate = 0.03) and measurements (ε = 0.02), no
    decay: each delivered pair has noisy_bbpssw's fidelity (Werner inputs: DEJMPS = BBPSSW)
    and the fraction of successful rounds matches its p."""
    cfg = _cfg(n_links=1, link_length_km=0, local_time_s=1e-3, success_probability=0.5,
               decoherence="none", link_fidelity=0.8, distillation=protocol, distill_rounds=1,
               distill_time_s=1e-4, max_link_pairs=2, f_min=0.0, distill_gate_error=0.03,
               distill_meas_error=0.02)
    sim = Simulation(7)
    chain = build_chain(sim, cfg)
    sim.run(until=12.0)
    p, f = ph.noisy_bbpssw(0.8, 0.8, 0.03, 0.02)
    np.testing.assert_allclose(chain.fidelities(), f, rtol=1e-12)
    assert f < ph.bbpssw(0.8, 0.8)[1]
    trials = chain.distill_successes + chain.distill_failures
    assert abs(chain.distill_successes / trials - p) < 4 * np.sqrt(p * (1 - p) / trials)


def test_swap_gate_error_gives_the_closed_form_fidelity():
    """2 noiseless links (F0 = 1, no decay, zero latency), swap CNOT depolarising p_gate and
    misread bits ε: correlations (1 − p_gate)(1 − 2ε, (1 − 2ε)², 1 − 2ε), so
    F = (1 + (1 − p_gate)(2e + e²))/4 with e = 1 − 2ε (noisy_swap_werner for F0 = 1)."""
    g, eps = 0.04, 0.01
    cfg = _cfg(n_links=2, link_length_km=0, local_time_s=1.0, success_probability=0.5,
               decoherence="none", link_fidelity=1.0, swap_gate_error=g, swap_meas_error=eps,
               f_min=0)
    res = simulate_chain(cfg, seed=1, horizon_s=200)
    e = 1 - 2 * eps
    assert res.delivered > 20
    np.testing.assert_allclose(res.fidelities, (1 + (1 - g) * (2 * e + e * e)) / 4, rtol=1e-12)
    w = ph.noisy_swap_werner(1.0, 1.0, g, eps)
    assert res.mean_fidelity == pytest.approx(float(ph.werner_to_fidelity(w)), rel=1e-12)


def test_same_seed_same_results_with_every_imperfection():
    cfg = _cfg(n_links=3, dark_count_prob=1e-4, detector_dead_time_s=2e-4, memory_modes=3,
               swap_gate_error=0.01, distillation="dejmps", distill_rounds=1, max_link_pairs=2,
               comm_qubits=2, storage_qubits=2, distill_gate_error=0.01, distill_meas_error=0.01)
    a = simulate_chain(cfg, seed=3, horizon_s=0.1)
    b = simulate_chain(cfg, seed=3, horizon_s=0.1)
    assert a.delivered > 0
    assert np.array_equal(a.delivery_times, b.delivery_times)
    assert np.array_equal(a.fidelities, b.fidelities)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"dark_count_prob": -1e-3}, "dark_count_prob"),
        ({"dark_count_prob": 1.2}, "dark_count_prob"),
        ({"detector_dead_time_s": -1.0}, "detector_dead_time_s"),
        ({"memory_modes": 0}, "memory_modes"),
        ({"swap_gate_error": 1.5}, "swap_gate_error"),
        ({"swap_gate_error": -0.1}, "swap_gate_error"),
        ({"distill_gate_error": -0.1}, "distill_gate_error"),
        ({"distill_gate_error": 2.0}, "distill_gate_error"),
        ({"distill_meas_error": 0.7}, "distill_meas_error"),
        ({"distill_meas_error": -0.2}, "distill_meas_error"),
        ({"dark_count_prob": 1e-3, "success_probability": 0.1}, "dark_count_prob"),
        ({"detector_dead_time_s": 1e-3, "link_rate_hz": 10.0}, "detector_dead_time_s"),
    ],
)
def test_bad_hardware_input_is_rejected_clearly(kw, field):
    with pytest.raises(ConfigError, match=field) as err:
        _cfg(**kw)
    assert "\n" not in str(err.value)
