"""Entanglement distribution on graphs (quantum.network) and routing (quantum.routing):
closed forms on rings and stars, memory decay, contention, determinism, routing oracles."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pytest

from netsim import ConfigError, Simulation, validate
from netsim.stats import batch_means, t_interval
from quantum.network import EntanglementNetwork, NetworkConfig, edge_links, simulate_network
from quantum.routing import route_requests, widest_route
from quantum.waiting import expected_max_geometric, swap_asap_interval


def _zero_latency(g, **kw):
    nx.set_edge_attributes(g, 0.0, "length_km")
    base = dict(local_time_s=1.0, success_probability=0.1, coherence_time_s=None,
                cutoff_s=None, f_min=0.0)
    return validate(NetworkConfig, {**base, **kw})


def test_ring_path_matches_the_chain_markov_chain():
    """One request over 4 hops of an 8-ring (2 qubits per node, zero latency, p = 0.1 per
    1 s slot): mean interval = swap_asap_interval(4, 0.1) = 19.63 slots (the exact stationary
    law), not E[max] = 20.27."""
    g = nx.cycle_graph(8)
    cfg = _zero_latency(g, memories=2)
    sim = Simulation(2)
    net = EntanglementNetwork(sim, g, [[0, 1, 2, 3, 4]], cfg, record=True)
    sim.run(until=80_000)
    gaps = np.diff([t for _, t, _ in net.log])
    mean, half = batch_means(gaps, batches=20, confidence=0.99)
    assert abs(mean - swap_asap_interval(4, 0.1)) <= half
    assert abs(mean - expected_max_geometric(4, 0.1)) > half


def test_star_requests_with_enough_memory_are_independent():
    """Three requests leaf-centre-leaf; the centre holds 6 qubits and every fibre is used by
    one request: each is a 2-link chain with interval E[max of 2 geometrics] = 14.74 slots.
    With 2 centre qubits they contend and each gets less than a third of... the total drops."""
    g = nx.star_graph(6)
    routes = [[1, 0, 2], [3, 0, 4], [5, 0, 6]]
    horizon = 40_000
    res = simulate_network(g, routes, _zero_latency(g, memories=6), 3, horizon)
    want = horizon / expected_max_geometric(2, 0.1)
    for n in res.delivered:
        assert abs(n - want) < 3.5 * np.sqrt(want)
    tight = simulate_network(g, routes, _zero_latency(g, memories=2), 3, horizon)
    # only one request can hold the centre's two qubits at a time
    assert tight.delivered.sum() < 0.5 * res.delivered.sum()


def test_two_hop_fidelity_with_depolarising_memories():
    """Oracle (as for the chain): 2 hops, zero latency, slots of T = 1 s; the first pair
    waits D = |K1 − K2| slots with both halves stored, so E[F] = 1/4 + 3/4·w0²·E[x^D],
    x = e^{−2T/τ}, E[x^D] = p/(2 − p)·(1 + 2(1 − p)x/(1 − (1 − p)x))."""
    p, tau = 0.5, 2.0
    g = nx.path_graph(3)
    cfg = _zero_latency(g, memories=2, success_probability=p, coherence_time_s=tau,
                        link_fidelity=0.95)
    sim = Simulation(4)
    net = EntanglementNetwork(sim, g, [[0, 1, 2]], cfg, record=True)
    sim.run(until=20_000)
    fids = [f for _, _, f in net.log]
    x = np.exp(-2.0 / tau)
    w0 = (4 * 0.95 - 1) / 3
    expect = 0.25 + 0.75 * w0**2 * p / (2 - p) * (1 + 2 * (1 - p) * x / (1 - (1 - p) * x))
    mean, half = t_interval(fids, 0.99)
    assert abs(mean - expect) <= half


def test_cutoff_and_contention_on_a_grid_are_deterministic():
    g = nx.grid_2d_graph(4, 4)
    nx.set_edge_attributes(g, 5.0, "length_km")
    cfg = validate(NetworkConfig, {"memories": 3, "cutoff_s": 2e-3})
    pairs = [((0, 0), (3, 3)), ((0, 3), (3, 0)), ((1, 0), (1, 3)), ((0, 1), (3, 2))]
    routes = route_requests(g, pairs, "shortest")
    a = simulate_network(g, routes, cfg, seed=5, horizon_s=0.2)
    b = simulate_network(g, routes, cfg, seed=5, horizon_s=0.2)
    c = simulate_network(g, routes, cfg, seed=6, horizon_s=0.2)
    assert np.array_equal(a.delivered, b.delivered) and a.discarded == b.discarded
    assert not np.array_equal(a.delivered, c.delivered)
    assert a.discarded > 0 and a.delivered.sum() > 0
    assert np.all((a.mean_fidelity[a.delivered > 0] >= 0.25)
                  & (a.mean_fidelity[a.delivered > 0] <= 1))


def test_widest_route_matches_brute_force():
    """Highest-rate routing = the simple path maximising the bottleneck rate (brute force
    over every simple path of a random geometric graph), shortest among ties."""
    g = nx.random_geometric_graph(12, 0.45, seed=3)
    for u, v in g.edges:
        g.edges[u, v]["length_km"] = 10 + 50 * float(np.hypot(*np.subtract(
            g.nodes[u]["pos"], g.nodes[v]["pos"])))
    links = edge_links(g, validate(NetworkConfig, {}))
    rate = {e: links[e].rate_hz for e in links}
    src, dst = 0, max(nx.node_connected_component(g, 0))
    best = max(min(rate[e] for e in pairwise(p)) for p in nx.all_simple_paths(g, src, dst))
    path = widest_route(g, src, dst, rate)
    assert min(rate[e] for e in pairwise(path)) == pytest.approx(best)


def test_balanced_routing_spreads_load_on_a_ring():
    """On a 6-ring, two requests 0→3 have two disjoint 3-hop paths: shortest puts both on
    one, k-shortest balancing uses both."""
    g = nx.cycle_graph(6)
    nx.set_edge_attributes(g, 1.0, "length_km")
    pairs = [(0, 3), (0, 3)]
    short = route_requests(g, pairs, "shortest")
    bal = route_requests(g, pairs, "k_shortest_balanced", memories=2, k=2)
    assert short[0] == short[1]
    assert set(bal[0][1:-1]).isdisjoint(bal[1][1:-1])


def test_bad_input():
    g = nx.path_graph(3)
    nx.set_edge_attributes(g, 1.0, "length_km")
    with pytest.raises(ConfigError, match="memories"):
        validate(NetworkConfig, {"memories": 1})
    with pytest.raises(ValueError, match="missing edge"):
        simulate_network(g, [[0, 2]], validate(NetworkConfig, {}), 1, 0.1)
    with pytest.raises(ValueError, match="routing policy"):
        route_requests(g, [(0, 2)], "fastest")


def test_routing_study_quick_run():
    from netsim import RunContext
    from scenarios.quantum_routing import RoutingStudy, run

    cfg = validate(RoutingStudy, {"pairs": 20, "horizon_s": 0.02})
    df = run(cfg, RunContext(seed=1))
    wide = df.pivot_table(index="policy", columns="metric", values="value")
    assert set(wide.index) == {"shortest", "highest_rate", "k_shortest_balanced"}
    assert (wide["mean_hops"] >= 1).all()
    assert (wide["throughput_hz"] >= 0).all()


def test_quick_preset_resolves():
    from pathlib import Path

    from netsim.scenario import resolve

    root = Path(__file__).resolve().parents[2]
    r = resolve(str(root / "scenarios" / "quantum_routing.quick.yaml"))
    assert r.scenario.name == "quantum_routing" and r.reps == 4
    assert r.config.pairs >= 20 and r.config.horizon_s < 1.0
