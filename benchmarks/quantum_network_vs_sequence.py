"""netsim's entanglement network (quantum.network) against SeQUeNCe 1.3.1 on a star (issue 16).

Scenario: a star of one centre router and ``--leaves`` end nodes on fibres of ``--arms-km``
(cycled; default 5, 10, 15, 20 km), each arm cut into ``--hops-per-arm`` equal links by
repeaters; request ``i`` joins leaf ``2i + 1`` to leaf ``2i + 2`` through the centre, all
requests at once, static routing (the tree's only path, which SeQUeNCe's Dijkstra tables
also pick). Link and memory physics as in ``benchmarks/quantum_vs_sequence.py``: raw pair
fidelity 0.9, η_emit = η_det = 0.9, 0.2 dB/km, memory coherence T = 1 s, request F ≥ 0.6,
one memory per request and route side.

The netsim side is :mod:`quantum.network` with the same mapping as the chain benchmark
(p per attempt ``½(η_emit·η(L/2)·η_det)²``; depolarising τ = 3T/4; cutoff T; nested swap
order; swap handshake) and ``classical_latency=True``: swap outcomes, handshakes and end
releases travel the fibre along the route. Two details of SeQUeNCe's protocols are mapped:
an attempt takes 4·L/c or 5·L/c depending on which end's *name* is larger
(:func:`sequence_attempt_cycles`; each fibre's ``local_time_s`` is the rest beyond ``L/c``),
and a hop's upstream end sends its generation request as soon as it is free
(``request_ahead=True``), so after a swap the request travels with the swap outcome.
SeQUeNCe's RSVP reserves a request's memories at every node of its route for the whole run
(all or nothing), so the centre gets two memories per request; netsim's nodes share
``2 × requests`` qubits, enough that requests never contend, as in SeQUeNCe. The
zero-latency model (``classical_latency=False``) runs beside it as the simple rival.

Printed: per request, delivered pairs/s with F ≥ 0.6 (95 % t-CI over independent runs,
different seeds) and the mean fidelity of those pairs for both simulators, their differences,
then CPU seconds per simulated second of each and the ratio (SeQUeNCe may simulate less
time, ``--seq-sim-s``, on bigger stars). Without SeQUeNCe (``SEQUENCE_PYTHON``, see the chain
benchmark) it prints the netsim side and one line saying why.

Run: ``python benchmarks/quantum_network_vs_sequence.py [--leaves 4] [--arms-km 5,10,15,20]
[--hops-per-arm 1] [--names plain|ordered] [--sim-s 2] [--seq-sim-s S] [--reps 20]
[--seq-reps 4]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import networkx as nx
import numpy as np

from netsim import EventCounter, Simulation
from netsim.timing import timed
from quantum.network import EntanglementNetwork, NetworkConfig
from quantum.physics import C_FIBER_M_S


def _sibling(name: str):
    """The benchmark script ``name`` next to this one (its SeQUeNCe driver is reused)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


vs = _sibling("quantum_vs_sequence")

SCENARIO = {k: vs.SCENARIO[k] for k in ("f0", "eta_emit", "eta_det", "coherence_s",
                                        "att_db_per_km", "f_min", "seed")}
SCENARIO.update(memories=1, leaves=4, arms_km=[5.0, 10.0, 15.0, 20.0], hops_per_arm=1,
                names="plain", sim_s=2.0)


def _name(p: dict, request: int, upstream: bool, step: int) -> str:
    """SeQUeNCe name of the router ``step`` links from the centre on an arm of ``request``.

    ``plain``: centre ``c``, leaves ``l1 .. l{2R}``, arm repeaters ``m{leaf}_{k}``;
    ``ordered``: names grow along every route (``b…`` upstream, ``m`` centre, ``x…``
    downstream), as in the chain benchmark's ``r0 < r1 < …``."""
    leaf = 2 * request + (1 if upstream else 2)
    h = p["hops_per_arm"]
    if p["names"] == "plain":
        return f"l{leaf}" if step == h else f"m{leaf}_{step}"
    if upstream:
        return f"b{request:04d}_{h - step:04d}"
    return f"x{request:04d}_{step:04d}"


def sequence_attempt_cycles(names: list[str], u: int, v: int) -> int:
    """Fibre latencies ``L/c`` per generation attempt of SeQUeNCe 1.3.1 on a hop ``u → v``
    of a route (from ``resource_management/action_condition_set.py`` and
    ``entanglement_management/generation``): ``u`` sends the resource manager's REQUEST
    and ``v`` answers (1 + 1); the protocol's primary, the end with the larger *name*, sends
    NEGOTIATE, answered by NEGOTIATE_ACK, then the photons reach the midpoint and the
    outcome returns (L/2 + L/2). If ``v`` is primary it negotiates as soon as it accepts the
    REQUEST, overlapping the RESPONSE: 4 L/c per attempt; if ``u`` is, it waits for the
    RESPONSE: 5 L/c."""
    return 4 if names[v] > names[u] else 5


def star(p: dict) -> tuple[nx.Graph, list[str], list[list[int]]]:
    """The star of ``p``: the graph (node 0 the centre; edges with ``length_km`` and
    ``local_time_s`` such that an attempt lasts :func:`sequence_attempt_cycles` ``· L/c``),
    router names and one route per request (leaf to leaf)."""
    g = nx.Graph()
    names = ["c" if p["names"] == "plain" else "m"]
    arms = []
    for j in range(p["leaves"]):
        seg = p["arms_km"][j % len(p["arms_km"])] / p["hops_per_arm"]
        path = [0]
        for h in range(1, p["hops_per_arm"] + 1):
            names.append(_name(p, j // 2, j % 2 == 0, h))
            g.add_edge(path[-1], len(names) - 1, length_km=seg)
            path.append(len(names) - 1)
        arms.append(path)
    routes = [arms[2 * i][::-1] + arms[2 * i + 1][1:] for i in range(p["leaves"] // 2)]
    for r in routes:
        for u, v in zip(r[:-1], r[1:], strict=True):
            km = g.edges[u, v]["length_km"]
            cycles = sequence_attempt_cycles(names, u, v)
            g.edges[u, v]["local_time_s"] = (cycles - 1) * km * 1e3 / C_FIBER_M_S
    return g, names, routes


def sequence_star(p: dict) -> dict:
    """The star as a SeQUeNCe topology (the chain benchmark's driver input)."""
    g, names, routes = star(p)
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="length_km"))
    n = len(names)
    memo = [2 * p["memories"]] * n
    memo[0] = 2 * p["memories"] * len(routes)
    return {"names": names,
            "links": [[u, v, d["length_km"]] for u, v, d in g.edges(data=True)],
            "dist_km": [[dist[i][j] for j in range(n)] for i in range(n)],
            "memo": memo, "requests": [[r[0], r[-1]] for r in routes]}


def netsim_config(p: dict, latency: bool = True) -> NetworkConfig:
    return NetworkConfig(
        memories=2 * p["memories"] * (p["leaves"] // 2), channels=1,
        attenuation_db_per_km=p["att_db_per_km"], detector_efficiency=p["eta_det"],
        emission_efficiency=p["eta_emit"], link_fidelity=p["f0"],
        coherence_time_s=0.75 * p["coherence_s"], cutoff_s=p["coherence_s"],
        f_min=p["f_min"], classical_latency=latency, swap_handshake=latency,
        request_ahead=latency, swap_order="nested")


def run_netsim(p: dict, reps: int, latency: bool = True) -> dict:
    """Per request: rate and fidelity (pairs with F ≥ f_min) over ``reps`` seeds; median CPU
    of one run, and its engine events."""
    g, _, routes = star(p)
    cfg = netsim_config(p, latency)

    def one(seed, trace=None):
        sim = Simulation(seed, trace=trace)
        net = EntanglementNetwork(sim, g, routes, cfg, record=True)
        sim.run(until=p["sim_s"])
        return net.log

    logs, cpus = [], []
    for r in range(reps):
        log, _, cpu = timed(lambda r=r: one(1000 + r))
        logs.append(log)
        cpus.append(cpu)
    counter = EventCounter()
    one(1000, counter)
    per = []
    for q in range(len(routes)):
        fids = [np.array([f for rq, _, f in log if rq == q and f >= p["f_min"]]) for log in logs]
        per.append(vs.summarise([x.size / p["sim_s"] for x in fids], fids))
    return {"requests": per, "cpu_s": float(np.median(cpus)), "events": counter.count}


def run_sequence(p: dict) -> dict | None:
    d = vs.run_sequence_topology(p, sequence_star(p))
    if d is None:
        return None
    runs = d["runs"]
    per = [vs.summarise([len(r["requests"][q]["times"]) / p["sim_s"] for r in runs],
                        [r["requests"][q]["fidelities"] for r in runs])
           for q in range(len(runs[0]["requests"]))]
    return {"requests": per, "cpu_s": float(np.median([r["cpu_s"] for r in runs])),
            "events": int(np.median([r["events"] for r in runs])),
            "rejected": int(sum(r["rejected"] for r in runs)), "version": d["version"],
            "python": d["python"], "reps": len(runs)}


def _row(x: dict) -> str:
    return (f"{x['rate']:8.1f} ± {x['rate_ci']:5.1f} pairs/s, F {x['fid']:.5f} (se "
            f"{x['fid_se']:.1e})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leaves", type=int, default=SCENARIO["leaves"],
                    help="end nodes (even); request i joins leaves 2i+1 and 2i+2")
    ap.add_argument("--arms-km", default="5,10,15,20", help="arm lengths (km), cycled")
    ap.add_argument("--hops-per-arm", type=int, default=1, help="links per arm")
    ap.add_argument("--names", choices=("plain", "ordered"), default="plain",
                    help="SeQUeNCe router names: plain (c, l1, ...) or growing along routes")
    ap.add_argument("--sim-s", type=float, default=SCENARIO["sim_s"])
    ap.add_argument("--seq-sim-s", type=float, default=None,
                    help="SeQUeNCe's simulated time (default: --sim-s)")
    ap.add_argument("--reps", type=int, default=20, help="netsim replications")
    ap.add_argument("--seq-reps", type=int, default=4, help="independent SeQUeNCe runs")
    ap.add_argument("--skip-sequence", action="store_true")
    args = ap.parse_args(argv)
    try:
        arms = [float(x) for x in args.arms_km.split(",")]
    except ValueError:
        ap.error(f"--arms-km must be comma-separated numbers, got {args.arms_km!r}")
    if args.leaves < 2 or args.leaves % 2:
        ap.error("--leaves must be an even number >= 2")
    if not arms or min(arms) <= 0:
        ap.error("--arms-km must be positive")
    if args.hops_per_arm < 1 or args.reps < 2 or args.seq_reps < 2:
        ap.error("--hops-per-arm must be >= 1, --reps and --seq-reps >= 2")
    if args.sim_s <= 0 or (args.seq_sim_s is not None and args.seq_sim_s <= 0):
        ap.error("--sim-s and --seq-sim-s must be > 0")
    p = dict(SCENARIO, leaves=args.leaves, arms_km=arms, hops_per_arm=args.hops_per_arm,
             names=args.names, sim_s=args.sim_s, seq_reps=args.seq_reps)
    _, names, routes = star(p)
    labels = [f"{names[r[0]]}→{names[r[-1]]} ({len(r) - 1} hops)" for r in routes]
    cyc = [[sequence_attempt_cycles(names, u, v) for u, v in zip(r[:-1], r[1:], strict=True)]
           for r in routes]
    print(f"scenario: star, {len(names)} routers, {len(routes)} requests; {p}; "
          f"SeQUeNCe attempt = (L/c) × {cyc} per hop")
    ns = run_netsim(p, args.reps)
    zl = run_netsim(p, args.reps, latency=False)
    print(f"netsim (classical latency), {args.reps} runs; one {p['sim_s']:g} s run: "
          f"{ns['cpu_s']:.3f} s CPU, {ns['events']} events")
    for lab, a, b in zip(labels, ns["requests"], zl["requests"], strict=True):
        print(f"  {lab:24s} {_row(a)}   [zero-latency model: {b['rate']:.1f} pairs/s, "
              f"F {b['fid']:.5f}]")
    ps = dict(p, sim_s=args.seq_sim_s or p["sim_s"])
    sq = None if args.skip_sequence else run_sequence(ps)
    if sq is None:
        return 0
    print(f"SeQUeNCe {sq['version']} on Python {sq['python']}, {sq['reps']} independent runs "
          f"of {ps['sim_s']:g} s: {sq['cpu_s']:.1f} s CPU and {sq['events']} events per run; "
          f"{sq['rejected']} rejected generation requests")
    for lab, a, b in zip(labels, ns["requests"], sq["requests"], strict=True):
        d = a["rate"] - b["rate"]
        print(f"  {lab:24s} {_row(b)}   netsim − SeQUeNCe {d:+.1f} ({d / b['rate']:+.1%}; "
              f"combined 95% half-width {np.hypot(a['rate_ci'], b['rate_ci']):.1f}), "
              f"F {a['fid'] - b['fid']:+.5f}")
    ns_cpu = ns["cpu_s"] / p["sim_s"]
    sq_cpu = sq["cpu_s"] / ps["sim_s"]
    print(f"CPU s per simulated s: netsim {ns_cpu:.4f}, SeQUeNCe {sq_cpu:.2f}; "
          f"ratio {sq_cpu / ns_cpu:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
