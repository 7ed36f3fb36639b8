"""Repeater chain on the engine: the swap-ASAP delivery-time oracle, PLOB, fidelity range,
exact fidelities on hand-computable configs, cutoff, distillation, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim import ConfigError, Simulation, validate
from netsim.stats import t_interval
from quantum import physics as ph
from quantum.bounds import chain_capacity, plob_capacity
from quantum.chain import ChainConfig, build_chain, link_physics, simulate_chain


def _cfg(**kw) -> ChainConfig:
    return validate(ChainConfig, kw)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_two_link_swap_asap_mean_delivery_time(p):
    """Oracle (issue 6): 2-link swap-ASAP, per-attempt success p, unlimited memory lifetime:
    the mean delivery time is E[max(K1, K2)] = (3 − 2p)/(p(2 − p)) attempts. Deliveries are
    renewals (both links restart together), so the inter-delivery times are i.i.d."""
    cfg = _cfg(
        n_links=2, link_length_km=0, local_time_s=1.0, success_probability=p, decoherence="none"
    )
    res = simulate_chain(cfg, seed=11, horizon_s=4000 * (3 - 2 * p) / (p * (2 - p)))
    gaps = np.diff(np.r_[0.0, res.delivery_times])
    mean, half = t_interval(gaps, 0.99)
    assert abs(mean - (3 - 2 * p) / (p * (2 - p))) <= half
    assert np.allclose(gaps, np.round(gaps))  # attempts happen on a lattice of slots


@pytest.mark.parametrize(("p", "tau_s"), [(0.1, 20.0), (0.5, 2.0)])
def test_two_link_mean_fidelity_with_both_halves_decaying(p, tau_s):
    """Oracle: 2-link swap-ASAP, zero-length links, attempts of T = 1 s. The first pair waits
    D = |K1 − K2| attempts with both halves stored, so the delivered Werner parameter is
    w0²·x^D with x = e^{−2T/τ} (the decay rate doubles when both halves wait). For i.i.d.
    geometric K: P(D = 0) = p/(2 − p), P(D = d) = 2p(1 − p)^d/(2 − p), hence
    E[x^D] = p/(2 − p)·(1 + 2(1 − p)x/(1 − (1 − p)x)) and E[F] = 1/4 + 3/4·w0²·E[x^D]."""
    cfg = _cfg(
        n_links=2,
        link_length_km=0,
        local_time_s=1.0,
        success_probability=p,
        coherence_time_s=tau_s,
        link_fidelity=0.95,
        f_min=0.0,
    )
    res = simulate_chain(cfg, seed=11, horizon_s=4000 * (3 - 2 * p) / (p * (2 - p)))
    x = np.exp(-2.0 / tau_s)
    w0 = (4 * 0.95 - 1) / 3
    expect = 0.25 + 0.75 * w0**2 * p / (2 - p) * (1 + 2 * (1 - p) * x / (1 - (1 - p) * x))
    mean, half = t_interval(res.fidelities, 0.99)
    assert res.delivered > 3500
    assert abs(mean - expect) <= half
    # one waiting half only would decay at rate 1/τ: clearly outside the interval
    x1 = np.exp(-1.0 / tau_s)
    wrong = 0.25 + 0.75 * w0**2 * p / (2 - p) * (1 + 2 * (1 - p) * x1 / (1 - (1 - p) * x1))
    assert abs(mean - wrong) > 2 * half


@settings(max_examples=15, deadline=None)
@given(st.floats(1.0, 150.0), st.floats(0.3, 1.0), st.sampled_from(["midpoint", "single_click"]))
def test_link_rate_per_channel_use_below_plob(length_km, eta_d, scheme):
    """Oracle (issue 6): pairs per channel use (successes/attempts) never exceed the PLOB
    capacity. The double-click midpoint scheme is compared with −log2(1 − η) of the whole link;
    the single-click scheme puts a measuring station at the midpoint (its √η scaling is the
    twin-field effect), so its bound is the two-segment chain min(C(√η), C(√η))."""
    cfg = _cfg(
        n_links=1,
        link_length_km=length_km,
        detector_efficiency=eta_d,
        scheme=scheme,
        decoherence="none",
        f_min=0.0,
    )
    lp = link_physics(cfg)
    res = simulate_chain(cfg, seed=3, horizon_s=4000 * lp.attempt_s / lp.p)
    per_use = res.link_successes / res.attempts
    if scheme == "midpoint":
        bound = float(plob_capacity(lp.eta))
    else:
        bound = chain_capacity([np.sqrt(lp.eta)] * 2)
    assert per_use <= bound
    assert res.rate_per_use * res.duration_s <= res.attempts  # one pair per use at most
    # the engine's heralds follow the link model, written out here independently: each photon
    # crosses L/2 of fibre (0.2 dB/km) and a detector, p = η_ph²/2 or 1 − (1 − α·η_ph)²
    eta_ph = 1.0 * eta_d * 10 ** (-0.02 * length_km / 2)
    p = eta_ph**2 / 2 if scheme == "midpoint" else 1 - (1 - 0.1 * eta_ph) ** 2
    assert abs(per_use - p) <= 4.5 * np.sqrt(p * (1 - p) / res.attempts)


def test_single_link_fidelity_is_flight_decay_exactly():
    """N = 1: every pair is delivered at its herald with F0 decayed while both halves waited
    L/c: depolarising F = 1/4 + (F0 − 1/4)e^{−2(L/c)/τ}; T1/T2 likewise with the twirl."""
    cfg = _cfg(n_links=1, link_length_km=40, coherence_time_s=1e-3, link_fidelity=0.9)
    res = simulate_chain(cfg, seed=1, horizon_s=0.2)
    expect = ph.depolarise(0.9, 40e3 / ph.C_FIBER_M_S, 1e-3, qubits=2)
    assert res.delivered > 10
    np.testing.assert_allclose(res.fidelities, expect, rtol=1e-12)
    np.testing.assert_allclose(
        res.delivery_times / res.attempt_s, np.round(res.delivery_times / res.attempt_s)
    )
    cfg = _cfg(
        n_links=1, link_length_km=40, decoherence="t1t2", t1_s=2e-3, t2_s=1e-3, link_fidelity=0.9
    )
    res = simulate_chain(cfg, seed=1, horizon_s=0.2)
    np.testing.assert_allclose(
        res.fidelities, ph.t1t2_decay(0.9, 40e3 / ph.C_FIBER_M_S, 2e-3, 1e-3, qubits=2), rtol=1e-12
    )


def test_noiseless_chain_fidelity_is_swap_product():
    """Without decay, N links of F0 deliver w = w0^N exactly (swap = Werner product)."""
    for n in (2, 3, 5):
        res = simulate_chain(
            _cfg(n_links=n, decoherence="none", link_fidelity=0.97), seed=2, horizon_s=0.05
        )
        assert res.delivered > 0
        w = ph.fidelity_to_werner(0.97) ** n
        np.testing.assert_allclose(res.fidelities, ph.werner_to_fidelity(w), rtol=1e-12)
    res = simulate_chain(
        _cfg(n_links=2, decoherence="none", link_fidelity=0.9, swap_werner=0.8),
        seed=2,
        horizon_s=0.05,
    )
    w = ph.fidelity_to_werner(0.9) ** 2 * 0.8
    np.testing.assert_allclose(res.fidelities, ph.werner_to_fidelity(w), rtol=1e-12)


@settings(max_examples=12, deadline=None)
@given(
    st.integers(1, 5),
    st.floats(0.0, 60.0),
    st.floats(1e-4, 1.0),
    st.sampled_from([None, 1e-3, 1e-2]),
    st.sampled_from(["depolarising", "t1t2"]),
    st.floats(0.3, 1.0),
    st.integers(0, 3),
)
def test_fidelity_always_in_range(n, length, tau, cutoff, deco, swap_p, storage):
    """Property (issue 6): every delivered fidelity lies in [1/4, 1]."""
    cfg = _cfg(
        n_links=n,
        link_length_km=length,
        coherence_time_s=tau,
        t1_s=tau,
        t2_s=tau,
        cutoff_s=cutoff,
        decoherence=deco,
        swap_success=swap_p,
        comm_qubits=1 if storage else 2,
        storage_qubits=storage,
        f_min=0.0,
    )
    res = simulate_chain(cfg, seed=5, horizon_s=0.02)
    assert np.all(res.fidelities >= 0.25 - 1e-12) and np.all(res.fidelities <= 1 + 1e-12)


def test_cutoff_bounds_the_age_and_raises_fidelity():
    """With cutoff t_c, a 2-link pair waits at most t_c, so (zero-length links, instant
    delivery) w ≥ w0²·e^{−(2/τ)(2 t_c)}; cutting off stale pairs raises the mean fidelity."""
    base = dict(
        n_links=2,
        link_length_km=0,
        local_time_s=1e-3,
        success_probability=0.02,
        coherence_time_s=0.05,
        link_fidelity=0.99,
        f_min=0.0,
    )
    free = simulate_chain(_cfg(**base), seed=4, horizon_s=30.0)
    cut = simulate_chain(_cfg(**base, cutoff_s=0.01), seed=4, horizon_s=30.0)
    w_min = ph.fidelity_to_werner(0.99) ** 2 * np.exp(-(2 / 0.05) * 2 * 0.01)
    assert cut.discarded > 0 and free.discarded == 0
    assert cut.fidelities.min() >= ph.werner_to_fidelity(w_min) - 1e-12
    assert free.fidelities.min() < ph.werner_to_fidelity(w_min)
    assert cut.mean_fidelity > free.mean_fidelity


@pytest.mark.parametrize("protocol", ["bbpssw", "dejmps"])
def test_link_distillation_exact_fidelity_and_success_rate(protocol):
    """N = 1, one pumping round, no decay: each delivered pair has F' = BBPSSW(F0, F0) (=
    DEJMPS on Werner inputs) and the fraction of successful rounds matches p."""
    cfg = _cfg(
        n_links=1,
        link_length_km=0,
        local_time_s=1e-3,
        success_probability=0.5,
        decoherence="none",
        link_fidelity=0.8,
        distillation=protocol,
        distill_rounds=1,
        distill_time_s=1e-4,
        max_link_pairs=2,
        f_min=0.0,
    )
    sim = Simulation(7)
    chain = build_chain(sim, cfg)
    sim.run(until=40.0)
    p, f = ph.bbpssw(0.8, 0.8)
    np.testing.assert_allclose(chain.fidelities(), f, rtol=1e-12)
    trials = chain.distill_successes + chain.distill_failures
    frac = chain.distill_successes / trials
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / trials)


def test_swap_failures_release_far_memories_after_latency():
    """Failed swaps (p_swap = 0.5) waste both pairs; far halves are freed by a message event,
    and the chain keeps delivering with the noiseless fidelity."""
    cfg = _cfg(
        n_links=3, link_length_km=20, decoherence="none", swap_success=0.5, link_fidelity=0.95
    )
    sim = Simulation(3)
    chain = build_chain(sim, cfg)
    sim.run(until=0.5)
    assert chain.swap_failures > 0 and chain.delivered > 0
    assert abs(chain.swap_failures / chain.swaps - 0.5) < 0.1
    np.testing.assert_allclose(
        chain.fidelities(), ph.werner_to_fidelity(ph.fidelity_to_werner(0.95) ** 3), rtol=1e-12
    )


def test_nv_memory_layout_and_capability_rate():
    """1 communication + 3 storage qubits (NV) deliver without deadlock; a (F, rate)
    capability gives links that succeed at that rate."""
    res = simulate_chain(
        _cfg(n_links=4, comm_qubits=1, storage_qubits=3, max_link_pairs=2), seed=1, horizon_s=0.5
    )
    assert res.delivered > 100
    cfg = _cfg(
        n_links=1, link_length_km=5, link_rate_hz=500.0, link_fidelity=0.9, decoherence="none"
    )
    res = simulate_chain(cfg, seed=1, horizon_s=20.0)
    assert abs(res.delivered / 20.0 - 500.0) < 4 * np.sqrt(500.0 / 20.0)
    np.testing.assert_allclose(res.fidelities, 0.9)


def test_same_seed_same_results():
    cfg = _cfg(n_links=4, cutoff_s=2e-3, swap_success=0.9, coherence_time_s=0.01)
    a = simulate_chain(cfg, seed=9, horizon_s=0.2)
    b = simulate_chain(cfg, seed=9, horizon_s=0.2)
    c = simulate_chain(cfg, seed=10, horizon_s=0.2)
    assert np.array_equal(a.delivery_times, b.delivery_times)
    assert np.array_equal(a.fidelities, b.fidelities)
    assert (a.attempts, a.swaps, a.discarded) == (b.attempts, b.swaps, b.discarded)
    assert not np.array_equal(a.delivery_times, c.delivery_times)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"f_min": 1.2}, "f_min"),
        ({"link_rate_hz": 0.0}, "link_rate_hz"),
        ({"link_rate_hz": -5.0}, "link_rate_hz"),
        ({"link_rate_hz": 1e9}, "link_rate_hz"),
        ({"comm_qubits": 0}, "comm_qubits"),
        ({"comm_qubits": 1, "storage_qubits": 0}, "at least 2 qubits"),
        ({"decoherence": "t1t2", "t1_s": 1.0, "t2_s": 3.0}, "t2_s"),
        ({"distillation": "bbpssw"}, "distill_rounds"),
        ({"distillation": "bbpssw", "distill_rounds": 1}, "max_link_pairs"),
        ({"link_length_km": 0, "local_time_s": 0}, "attempts take no time"),
        ({"n_links": 0}, "n_links"),
        ({"scheme": "teleport"}, "scheme"),
    ],
)
def test_bad_input_is_rejected_clearly(kw, field):
    with pytest.raises(ConfigError, match=field) as err:
        _cfg(**kw)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="horizon_s"):
        simulate_chain(_cfg(), seed=0, horizon_s=0)


def test_nested_partners_follow_the_doubling_rule():
    """Reference: reduce the path to its even-indexed nodes (and the last) until the node sits
    at an odd index; its neighbours there are its partners (SeQUeNCe's RSVP swapping rule)."""
    from quantum.protocols import nested_partners

    def reference(n):
        out = {}
        for m in range(1, n):
            path = list(range(n + 1))
            while path.index(m) % 2 == 0:
                path = [x for i, x in enumerate(path) if i % 2 == 0 or i == len(path) - 1]
            i = path.index(m)
            out[m] = (path[i - 1], path[i + 1])
        return out

    assert nested_partners(4) == {1: (0, 2), 2: (0, 4), 3: (2, 4)}
    for n in range(1, 40):
        assert nested_partners(n) == reference(n)


def test_swap_outcome_messages_set_the_delivery_time():
    """p = 1, no decay, 10 km links: every link heralds at T = L/c + local. Nested 4 links:
    repeaters 1 and 3 swap at T, repeater 2 learns its pairs' far ends 10 km away at
    T + 50 µs and swaps, the ends learn 20 km away: delivery at T + 150 µs exactly."""
    lc = 10e3 / ph.C_FIBER_M_S
    cfg = _cfg(
        n_links=4,
        link_length_km=10,
        success_probability=1.0,
        decoherence="none",
        swap_order="nested",
        local_time_s=1e-4,
    )
    res = simulate_chain(cfg, seed=0, horizon_s=1e-3, max_deliveries=1)
    assert res.delivery_times[0] == pytest.approx(lc + 1e-4 + lc + 2 * lc, rel=1e-12)
    # with the handshake each swap first waits a round trip to its farther partner:
    # 10 km (100 µs) at level 1, 20 km (200 µs) at level 2
    res = simulate_chain(cfg.model_copy(update={"swap_handshake": True}), seed=0,
                         horizon_s=1e-3, max_deliveries=1)
    t = lc + 1e-4 + 2 * lc + lc + 4 * lc + 2 * lc
    assert res.delivery_times[0] == pytest.approx(t, rel=1e-12)
    cfg = _cfg(n_links=2, link_length_km=10, success_probability=1.0, decoherence="none")
    res = simulate_chain(cfg, seed=0, horizon_s=1e-3, max_deliveries=1)
    assert res.delivery_times[0] == pytest.approx(lc + 1e-5 + lc, rel=1e-12)
