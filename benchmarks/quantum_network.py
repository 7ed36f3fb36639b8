"""Speed of entanglement distribution on a 100-node network with 50 concurrent requests.

Network: a connected random geometric graph of ``--nodes`` nodes in a 200 km square (radius
chosen for connectivity, fibre length = distance), 8 qubits per node, one channel per
fibre, τ = 1 s, cutoff 0.1 s; ``--requests`` user pairs routed on shortest paths, all
running at once (:mod:`quantum.network`), first in the zero-latency limit (the default
config), then with classical-message latency, swap handshakes, early requests and nested
swapping (the SeQUeNCe-like mode of ``benchmarks/quantum_network_vs_sequence.py``).
Printed: engine events, CPU time and events/s (target ≥ 50k events/s), and the same figures
for the repeater chain of :mod:`quantum.chain` (1,000 nodes) run in the same process as the
reference; the ratio last.
Timings on a shared machine are pessimistic; CPU time is the fairer figure.

Run: ``python benchmarks/quantum_network.py [--nodes 100] [--requests 50] [--sim-s 0.5]``.
"""

from __future__ import annotations

import argparse
import sys

import networkx as nx
import numpy as np

from netsim import EventCounter
from netsim.rng import stream
from netsim.timing import timed
from quantum.chain import ChainConfig, simulate_chain
from quantum.network import NetworkConfig, simulate_network
from quantum.routing import route_requests


def geometric_network(n: int, seed: int, side_km: float = 200.0) -> nx.Graph:
    """A connected random geometric graph on a ``side_km`` square, edges weighted by km."""
    radius = 1.6 * np.sqrt(np.log(n) / (np.pi * n))
    for k in range(100):
        g = nx.random_geometric_graph(n, radius, seed=seed + k)
        if nx.is_connected(g):
            break
    else:
        raise RuntimeError("no connected random geometric graph found")
    for u, v in g.edges:
        d = np.hypot(*np.subtract(g.nodes[u]["pos"], g.nodes[v]["pos"]))
        g.edges[u, v]["length_km"] = float(max(d * side_km, 0.5))
    return g


def run_network(nodes: int, requests: int, sim_s: float, seed: int = 1,
                latency: bool = False) -> dict:
    g = geometric_network(nodes, seed)
    rng = stream(seed, "bench.pairs")
    pairs = [tuple(int(x) for x in rng.choice(nodes, 2, replace=False)) for _ in range(requests)]
    routes = route_requests(g, pairs, "shortest")
    cfg = NetworkConfig(memories=8, coherence_time_s=1.0, cutoff_s=0.1,
                        classical_latency=latency, swap_handshake=latency,
                        request_ahead=latency, swap_order="nested" if latency else "asap")
    counter = EventCounter()
    simulate_network(g, routes, cfg, seed, sim_s, trace=counter)
    res, wall, cpu = timed(lambda: simulate_network(g, routes, cfg, seed, sim_s))
    return {"events": counter.count, "wall_s": wall, "cpu_s": cpu,
            "delivered": int(res.delivered.sum()), "served": int((res.delivered > 0).sum()),
            "hops": float(np.mean([len(r) - 1 for r in routes]))}


def run_chain(sim_s: float) -> dict:
    cfg = ChainConfig(n_links=999, link_length_km=10.0, cutoff_s=0.1, f_min=0.5)
    counter = EventCounter()
    simulate_chain(cfg, seed=7, horizon_s=sim_s, trace=counter)
    _, wall, cpu = timed(lambda: simulate_chain(cfg, seed=7, horizon_s=sim_s))
    return {"events": counter.count, "wall_s": wall, "cpu_s": cpu}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--sim-s", type=float, default=0.5)
    args = ap.parse_args(argv)
    eps = {}
    for latency in (False, True):
        net = run_network(args.nodes, args.requests, args.sim_s, latency=latency)
        eps[latency] = net["events"] / net["cpu_s"]
        mode = "latency, handshake, request_ahead, nested" if latency else "zero latency"
        print(f"network ({mode}): {args.nodes} nodes, {args.requests} requests "
              f"({net['hops']:.1f} hops on average), {args.sim_s:g} s simulated: "
              f"{net['events']} events, {net['cpu_s']:.2f} s CPU ({net['wall_s']:.2f} s "
              f"wall) -> {eps[latency]:,.0f} events/s CPU (target >= 50,000); {net['delivered']} "
              f"end-to-end pairs, {net['served']}/{args.requests} requests served")
    ch = run_chain(0.05)
    ceps = ch["events"] / ch["cpu_s"]
    print(f"reference, 1,000-node repeater chain: {ch['events']} events, {ch['cpu_s']:.2f} s "
          f"CPU -> {ceps:,.0f} events/s CPU")
    print(f"ratio network/chain events/s: {eps[False] / ceps:.2f} (zero latency), "
          f"{eps[True] / ceps:.2f} (latency)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
