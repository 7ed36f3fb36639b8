"""Hardware realism on networks (issue 16): multimode memories, noisy swap gates, dark
counts and detector dead time in quantum.network, checked against closed forms and against
the repeater chain of quantum.protocols with the same options."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from netsim import ConfigError, Simulation, validate
from netsim.stats import t_interval
from quantum.chain import ChainConfig, link_physics, simulate_chain
from quantum.network import EntanglementNetwork, NetworkConfig, edge_links, simulate_network
from quantum.physics import fidelity_to_werner, multiplexed_probability


def _path(n: int, km: float) -> nx.Graph:
    g = nx.path_graph(n + 1)
    nx.set_edge_attributes(g, km, "length_km")
    return g


def _slots(**kw) -> NetworkConfig:
    """Zero-length fibres, 1 s slots, zero latency, no decay unless given."""
    base = dict(memories=2, local_time_s=1.0, coherence_time_s=None, cutoff_s=None, f_min=0.0)
    return validate(NetworkConfig, {**base, **kw})


def _log(g, route, cfg, seed, horizon):
    sim = Simulation(seed)
    net = EntanglementNetwork(sim, g, [route], cfg, record=True)
    sim.run(until=horizon)
    return net.log


def test_multimode_single_link_interval_is_the_closed_form():
    """One hop, p = 0.1 per mode, m = 3 modes per 1 s round: the interval between pairs is
    geometric with mean 1/(1 − (1 − p)^m) = 3.69 rounds (99 % CI), not 1/p = 10."""
    p, m = 0.1, 3
    log = _log(_path(1, 0.0), [0, 1], _slots(success_probability=p, memory_modes=m), 1, 40_000)
    gaps = np.diff([0.0] + [t for _, t, _ in log])
    mean, half = t_interval(gaps, 0.99)
    assert abs(mean - 1.0 / (1.0 - (1.0 - p) ** m)) <= half
    assert abs(mean - 1.0 / p) > 10 * half


def test_memory_modes_is_the_multiplexed_probability():
    """m modes at p give the same run, bit for bit, as one mode at 1 − (1 − p)^m (the rounds
    draw from the same stream), on a 3-hop path with decay and a cutoff."""
    p, m = 0.05, 4
    g = _path(3, 0.0)
    kw = dict(coherence_time_s=50.0, cutoff_s=20.0, memories=2)
    a = _log(g, [0, 1, 2, 3], _slots(success_probability=p, memory_modes=m, **kw), 3, 5_000)
    q = float(multiplexed_probability(p, m))
    b = _log(g, [0, 1, 2, 3], _slots(success_probability=q, **kw), 3, 5_000)
    assert len(a) > 100 and a == b


def test_swap_gate_error_two_hops_closed_form():
    """2 hops, zero latency. With p = 1 and no decay every pair is swapped fresh:
    F = 1/4 + 3/4·(1 − p_gate)·s·w0² exactly (s = swap_werner). With p = 0.5 and
    depolarising memories (τ = 2 slots) the first pair waits D = |K1 − K2| slots:
    E[F] = 1/4 + 3/4·(1 − p_gate)·w0²·E[x^D], x = e^{−2/τ},
    E[x^D] = p/(2 − p)·(1 + 2(1 − p)x/(1 − (1 − p)x)) (99 % CI)."""
    g, route, f0, gate = _path(2, 0.0), [0, 1, 2], 0.95, 0.1
    w0 = float(fidelity_to_werner(f0))
    cfg = _slots(success_probability=1.0, link_fidelity=f0, swap_gate_error=gate,
                 swap_werner=0.98)
    fids = np.array([f for _, _, f in _log(g, route, cfg, 1, 50.5)])
    assert len(fids) == 50
    np.testing.assert_allclose(fids, 0.25 + 0.75 * (1 - gate) * 0.98 * w0**2, rtol=1e-13)
    p, tau = 0.5, 2.0
    cfg = _slots(success_probability=p, link_fidelity=f0, swap_gate_error=gate,
                 coherence_time_s=tau)
    fids = [f for _, _, f in _log(g, route, cfg, 4, 20_000)]
    x = np.exp(-2.0 / tau)
    ex = p / (2 - p) * (1 + 2 * (1 - p) * x / (1 - (1 - p) * x))
    mean, half = t_interval(fids, 0.99)
    assert abs(mean - (0.25 + 0.75 * (1 - gate) * w0**2 * ex)) <= half
    assert abs(mean - (0.25 + 0.75 * w0**2 * ex)) > 3 * half


def test_dark_counts_and_modes_give_the_chains_link():
    """A fibre of the network has the chain's per-round p and F0 (quantum.physics.
    heralded_link for both), bit for bit, with dark counts and modes; dark counts lower F0
    and raise p."""
    phys = dict(emission_efficiency=0.9, detector_efficiency=0.8, link_fidelity=0.97,
                attenuation_db_per_km=0.2, local_time_s=1e-5)
    g = _path(1, 25.0)
    for dc, m in ((0.0, 1), (0.01, 1), (0.01, 8), (0.0, 8)):
        lp = link_physics(ChainConfig(n_links=1, link_length_km=25.0, dark_count_prob=dc,
                                      memory_modes=m, **phys))
        link = edge_links(g, validate(NetworkConfig, dict(dark_count_prob=dc, memory_modes=m,
                                                          coherence_time_s=None, **phys)))[0, 1]
        assert link.p == lp.p and link.w0 == float(fidelity_to_werner(lp.f0))
        assert link.attempt_s == lp.attempt_s
    clean = edge_links(g, validate(NetworkConfig, dict(coherence_time_s=None, **phys)))[0, 1]
    dark = edge_links(g, validate(NetworkConfig, dict(dark_count_prob=0.01,
                                                      coherence_time_s=None, **phys)))[0, 1]
    assert dark.p > clean.p and dark.w0 < clean.w0


def test_dead_time_single_link_interval_is_the_closed_form():
    """One 10 km hop (η_ph = 0.9·0.9·10^(−0.1)), midpoint scheme, 10 µs local time, detectors
    blind for 1 ms after a click: p = η²/2, P_click = 1 − (1 − η)², t = L/c + 10 µs, and each
    clicked attempt lasts t_dead, so the interval has mean (t + P_click·(t_dead − t))/p
    (99 % CI), about 14× the dead-time-free t/p."""
    km, dead = 10.0, 1e-3
    eta = 0.81 * 10 ** (-0.2 * km / 2 / 10)
    p, click, t = eta**2 / 2, 1 - (1 - eta) ** 2, km * 1e3 / 2e8 + 1e-5
    cfg = validate(NetworkConfig, dict(emission_efficiency=0.9, detector_efficiency=0.9,
                                       local_time_s=1e-5, detector_dead_time_s=dead,
                                       coherence_time_s=None, cutoff_s=None, f_min=0.0))
    log = _log(_path(1, km), [0, 1], cfg, 2, 10.0)
    gaps = np.diff([0.0] + [tt for _, tt, _ in log])
    mean, half = t_interval(gaps, 0.99)
    assert abs(mean - (t + click * (dead - t)) / p) <= half
    assert abs(mean - t / p) > 10 * half
    link = edge_links(_path(1, km), cfg)[0, 1]
    assert link.rate_hz == pytest.approx(p / (t + click * (dead - t)), rel=1e-12)


PHYS = dict(emission_efficiency=0.9, detector_efficiency=0.9, link_fidelity=0.95,
            local_time_s=1e-5, coherence_time_s=0.05, cutoff_s=0.02, f_min=0.5)


def _agree(a, b, confidence=0.99) -> bool:
    (ma, ha), (mb, hb) = t_interval(a, confidence), t_interval(b, confidence)
    return abs(ma - mb) <= np.hypot(ha, hb)


def test_hardware_options_on_a_path_reproduce_the_chain():
    """Oracle: the repeater chain with the same dark counts, dead time, modes and gate error.
    One request
    on a 2-hop path of 20 km fibres with classical latency gives the same rate and fidelity
    (99 % CIs over 6 runs each); the options change both measurably, so the check can fail."""
    hw = dict(dark_count_prob=0.02, memory_modes=4, swap_gate_error=0.05,
              detector_dead_time_s=2e-4)
    reps, horizon = 6, 0.3

    def runs(extra):
        ch = ChainConfig(n_links=2, link_length_km=20.0, comm_qubits=2, max_link_pairs=1,
                         decoherence="depolarising", **PHYS, **extra)
        nc = validate(NetworkConfig, dict(memories=2, classical_latency=True, **PHYS, **extra))
        chain = [simulate_chain(ch, seed=100 + s, horizon_s=horizon) for s in range(reps)]
        net = [simulate_network(_path(2, 20.0), [[0, 1, 2]], nc, 200 + s, horizon)
               for s in range(reps)]
        return ([c.rate_hz for c in chain], [c.mean_fidelity for c in chain],
                [x.rate_hz[0] for x in net], [x.mean_fidelity[0] for x in net])

    cr, cf, nr, nf = runs(hw)
    assert _agree(cr, nr), (np.mean(cr), np.mean(nr))
    assert _agree(cf, nf), (np.mean(cf), np.mean(nf))
    _, _, nr0, nf0 = runs({})
    assert not _agree(nr, nr0) and not _agree(nf, nf0)


@pytest.mark.parametrize("bad, field", [
    ({"memory_modes": 0}, "memory_modes"),
    ({"swap_gate_error": 1.5}, "swap_gate_error"),
    ({"dark_count_prob": 1.0}, "dark_count_prob"),
    ({"dark_count_prob": 0.01, "success_probability": 0.1}, "dark_count_prob"),
    ({"detector_dead_time_s": -1e-6}, "detector_dead_time_s"),
    ({"detector_dead_time_s": 1e-6, "success_probability": 0.1}, "detector_dead_time_s"),
])
def test_bad_hardware_input_names_the_field(bad, field):
    with pytest.raises(ConfigError, match=field) as err:
        validate(NetworkConfig, bad)
    assert "\n" not in str(err.value).strip()
