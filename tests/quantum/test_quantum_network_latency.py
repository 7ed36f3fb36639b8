"""Classical-message latency in quantum.network (issue 16): with ``classical_latency=True``
one request on a path is the repeater chain of quantum.protocols (the oracle: the model that
agrees with SeQUeNCe 1.3.1 on chains), exact message timings, memory bookkeeping when
requests end mid-flight, and the zero-latency limit kept as the default."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from netsim import ConfigError, Simulation, validate
from netsim.stats import t_interval
from quantum.chain import ChainConfig, simulate_chain
from quantum.network import EntanglementNetwork, NetworkConfig, simulate_network
from quantum.physics import C_FIBER_M_S

PHYS = dict(emission_efficiency=0.9, detector_efficiency=0.9, link_fidelity=0.95,
            local_time_s=1e-5, coherence_time_s=0.05, cutoff_s=0.02, f_min=0.5)


def _path(n: int, km: float) -> nx.Graph:
    g = nx.path_graph(n + 1)
    nx.set_edge_attributes(g, km, "length_km")
    return g


def _chain_and_network(n, km, order, handshake, latency, reps=8, horizon=0.5):
    """Per-run rates and mean fidelities of the chain and of one request on a path."""
    ch = ChainConfig(n_links=n, link_length_km=km, comm_qubits=2, max_link_pairs=1,
                     decoherence="depolarising", swap_order=order, swap_handshake=handshake,
                     **PHYS)
    nc = validate(NetworkConfig, dict(memories=2, swap_order=order, swap_handshake=handshake,
                                      classical_latency=latency, **PHYS))
    g = _path(n, km)
    chain = [simulate_chain(ch, seed=100 + s, horizon_s=horizon) for s in range(reps)]
    net = [simulate_network(g, [list(range(n + 1))], nc, 200 + s, horizon) for s in range(reps)]
    return ([c.rate_hz for c in chain], [c.mean_fidelity for c in chain],
            [x.rate_hz[0] for x in net], [x.mean_fidelity[0] for x in net])


def _agree(a, b, confidence=0.99) -> bool:
    (ma, ha), (mb, hb) = t_interval(a, confidence), t_interval(b, confidence)
    return abs(ma - mb) <= np.hypot(ha, hb)


@pytest.mark.parametrize("n, km, order, handshake", [
    (3, 10.0, "asap", False),
    (4, 20.0, "nested", True),
])
def test_latency_path_reproduces_the_repeater_chain(n, km, order, handshake):
    """Oracle: quantum.protocols' chain (swap outcomes and end releases as fibre messages;
    within 0.2 % of SeQUeNCe on chains). One request on a path with the same physics must
    give the same rate and fidelity (99 % CIs over 8 independent runs each)."""
    cr, cf, nr, nf = _chain_and_network(n, km, order, handshake, latency=True)
    assert _agree(cr, nr), (np.mean(cr), np.mean(nr))
    assert _agree(cf, nf), (np.mean(cf), np.mean(nf))


def test_zero_latency_limit_is_measurably_faster_than_the_chain():
    """The same comparison fails without latency (4 links of 20 km: the instantaneous
    messages buy ~10 % more pairs), so the oracle test above can fail."""
    cr, _, nr, _ = _chain_and_network(4, 20.0, "asap", False, latency=False)
    assert np.mean(nr) > np.mean(cr) and not _agree(cr, nr)


def test_message_timings_are_exact():
    """p = 1, no decay, route 0-1-2 of 10 km and 30 km, 10 µs local time: hop 0 heralds at
    L/c + 10 µs = 60 µs, hop 1 at 160 µs and node 1 swaps then. The outcome reaches node 0
    50 µs and node 2 150 µs later: the first pair is delivered at 310 µs; node 0 restarts at
    210 µs (herald 270 µs), node 2 at 310 µs (herald 470 µs), so pairs follow every 310 µs.
    A handshake first waits 2·30 km/c = 300 µs: deliveries at 610 µs, then every 610 µs."""
    g = nx.Graph()
    g.add_edge(0, 1, length_km=10.0)
    g.add_edge(1, 2, length_km=30.0)
    base = dict(memories=2, success_probability=1.0, coherence_time_s=None, cutoff_s=None,
                local_time_s=1e-5, classical_latency=True, f_min=0.0)
    for handshake, first, gap in ((False, 310e-6, 310e-6), (True, 610e-6, 610e-6)):
        sim = Simulation(1)
        cfg = validate(NetworkConfig, {**base, "swap_handshake": handshake})
        net = EntanglementNetwork(sim, g, [[0, 1, 2]], cfg, record=True)
        sim.run(until=first + 4.5 * gap)
        times = [t for _, t, _ in net.log]
        assert times == pytest.approx([first + i * gap for i in range(5)], abs=1e-12)
        assert 30e3 / C_FIBER_M_S == pytest.approx(150e-6)


def test_request_ahead_timings_are_exact():
    """request_ahead (SeQUeNCe's resource manager sends a hop's request from its upstream end
    as soon as that end is free): p = 1, hops of 10 and 30 km whose attempts last 4·L/c
    (200 µs, 600 µs). Node 1 swaps at 600 µs; node 2 learns it at 750 µs, when node 1's
    request (sent at the swap) reaches it, so hop 1's next pair is heralded 600 − 150 µs
    later, at 1200 µs, and delivered at 1350 µs: every 600 µs instead of 750 µs."""
    g = nx.Graph()
    for u, v, km in ((0, 1, 10.0), (1, 2, 30.0)):
        g.add_edge(u, v, length_km=km, local_time_s=3 * km * 1e3 / C_FIBER_M_S)
    base = dict(memories=2, success_probability=1.0, coherence_time_s=None, cutoff_s=None,
                classical_latency=True, f_min=0.0)
    for ahead, gap in ((False, 750e-6), (True, 600e-6)):
        sim = Simulation(1)
        cfg = validate(NetworkConfig, {**base, "request_ahead": ahead})
        net = EntanglementNetwork(sim, g, [[0, 1, 2]], cfg, record=True)
        sim.run(until=750e-6 + 4.5 * gap)
        times = [t for _, t, _ in net.log]
        assert times == pytest.approx([750e-6 + i * gap for i in range(5)], abs=1e-12)


def _held(net, r):
    return {p for p in (*net.rpair[r], *net.lpair[r]) if p is not None}


def _busy(net, r):
    return any(p.busy for p in _held(net, r))


def _half_released(net, r):
    return any(p.delivering and (net.rpair[r][0] is not p or net.lpair[r][-1] is not p)
               for p in _held(net, r))


def _run_until(sim, net, cond, step=5e-6, limit=0.1):
    """Advance in small steps until ``cond(net, r)`` holds for an active request ``r``."""
    while sim.now < limit:
        sim.run(until=sim.now + step)
        for r, on in enumerate(net.active):
            if on and cond(net, r):
                return r
    raise AssertionError(f"{cond.__name__} never held within {limit} s")


def test_ending_requests_mid_flight_returns_every_qubit():
    """Requests on a star (unequal arms) ended while one of their swaps is in its handshake,
    and while an end-to-end pair is freed at one end but not yet at the other (its pending
    release must not free a qubit twice), then the last one: once the engine drains, every
    memory and channel is free again, and reruns are bit-identical."""
    g = nx.star_graph(4)
    for leaf, km in ((1, 40.0), (2, 10.0), (3, 30.0), (4, 20.0)):
        g.edges[0, leaf]["length_km"] = km
    cfg = validate(NetworkConfig, dict(memories=4, classical_latency=True, swap_handshake=True,
                                       cutoff_s=2e-3, coherence_time_s=0.1))
    counts = []
    for _ in range(2):
        sim = Simulation(9)
        net = EntanglementNetwork(sim, g, [[1, 0, 2], [3, 0, 4], [1, 0, 3]], cfg)
        net.end_request(_run_until(sim, net, _busy))
        net.end_request(_run_until(sim, net, _half_released))
        sim.run(until=0.1)
        for r in range(3):
            net.end_request(r)
        sim.run(until=0.2)
        assert net.free == [cfg.memories] * 5 and net.edge_free == [cfg.channels] * 4
        counts.append((tuple(net.delivered), net.swaps, net.discarded, net.heralds))
    assert counts[0] == counts[1] and sum(counts[0][0]) > 0


def test_handshake_without_latency_is_rejected():
    with pytest.raises(ConfigError, match="swap_handshake"):
        validate(NetworkConfig, {"swap_handshake": True})
    with pytest.raises(ConfigError, match="request_ahead"):
        validate(NetworkConfig, {"request_ahead": True})
    assert NetworkConfig().classical_latency is False
