"""Speed of the transport models (run: ``python benchmarks/transport.py [--quick]``).

1. Ring all-reduce over 1,024 GPUs (32 leaves × 32 hosts, 16 spines, 1:1) with ECMP, fluid
   model, 1 GB: target < 5 s wall. Baseline in the same run: the same simulation with the
   textbook progressive-filling solver and no reuse of identical rate solutions.
2. One max-min solve, 100k flows × 5 distinct links each (5,000 links, capacities uniform in
   10–100 Gb/s): target < 0.5 s. Baselines: a plain progressive filling (one bottleneck level
   per iteration, two sparse matrix-vector products per level: the straightforward
   implementation, and the rival that counts) and the library's textbook reference (which
   also handles rate caps and weights, and slices the sparse matrix per level: slower).
3. Packet-level events per CPU second on an all-to-all (16 hosts, 4 leaves × 2 spines): target
   >= 1M (an event: a packet's transmission end, its arrival at a hop, its ACK). Baseline: a
   straightforward SimPy model (one process per packet, a ``simpy.Resource`` FIFO per port),
   compared in packet-hops per CPU second (it has no ACKs or NIC arbitration). The RoCE
   transport (buffers, ECN, PFC, DCQCN; :mod:`transport.roce`) on the same traffic.
4. A 128-GPU ring all-reduce of 64 MB at packet level (16 leaves × 8 hosts, 8 spines, packed,
   minimal split): CPU time (target < 60 s). Rival: the fluid model of the same run.

Each line prints the measurement, the baseline and the ratio last. Timings are wall-clock
(``time.perf_counter``) with the CPU time beside it; on a shared machine wall time is noisy.
"""

from __future__ import annotations

import argparse
import os
import sys

# this file is benchmarks/transport.py: drop its folder from the path so that ``transport``
# names the package, not this script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import simpy  # noqa: E402

from netsim import Simulation  # noqa: E402
from netsim.timing import best_of, timed  # noqa: E402
from transport.collectives import alltoall, ring_allreduce  # noqa: E402
from transport.maxmin import max_min_rates_coo, max_min_rates_reference  # noqa: E402
from transport.network import leaf_spine_network  # noqa: E402
from transport.packetsim import PacketTransport  # noqa: E402
from transport.roce import RoceOptions, RoceTransport  # noqa: E402
from transport.simulate import simulate_collective  # noqa: E402


def _reference_solver(rows, cols, coef, n, cap):
    return max_min_rates_reference(sp.csr_matrix((coef, (rows, cols)), shape=(n, cap.size)), cap)


def bench_ring(quick: bool) -> None:
    leaves, hosts, spines = (8, 8, 4) if quick else (32, 32, 16)
    net = leaf_spine_network(leaves, spines, hosts)
    coll = ring_allreduce(leaves * hosts, 1e9)
    kw = {"balancing": "ecmp", "placement": "packed", "seed": 1}
    res, wall, cpu = timed(lambda: simulate_collective(net, coll, **kw))
    base, bwall, bcpu = timed(
        lambda: simulate_collective(net, coll, solver=_reference_solver, cache=False, **kw)
    )
    assert abs(base.cct_s - res.cct_s) <= 1e-9 * res.cct_s
    print(
        f"ring all-reduce {leaves * hosts} GPUs ECMP packed (flow-level, 1 GB): "
        f"{wall:.2f} s wall ({cpu:.2f} s CPU), CCT {res.cct_s * 1e3:.2f} ms, "
        f"{res.events} events | baseline (textbook solver, no reuse): {bwall:.2f} s wall "
        f"({bcpu:.2f} s CPU) | target < 5 s | speed-up x{bwall / wall:.1f}"
    )
    rnd, rwall, rcpu = timed(
        lambda: simulate_collective(net, coll, **{**kw, "placement": "random"})
    )
    print(
        f"  same with random rank placement: {rwall:.2f} s wall ({rcpu:.2f} s CPU), "
        f"CCT {rnd.cct_s * 1e3:.2f} ms, {rnd.events} completion events, "
        f"{rnd.extra['solves']} distinct solves"
    )


def bench_maxmin(quick: bool) -> None:
    n, k, links = (20_000, 5, 1_000) if quick else (100_000, 5, 5_000)
    rng = np.random.default_rng(0)
    cols = np.argsort(rng.random((n, links)), axis=1)[:, :k] if quick else None
    if cols is None:  # k distinct links per flow without an n×links matrix
        cols = rng.integers(0, links, (n, k))
        for _ in range(10):
            dup = np.zeros(n, dtype=bool)
            for a in range(k):
                for b in range(a):
                    dup |= cols[:, a] == cols[:, b]
            if not dup.any():
                break
            cols[dup] = rng.integers(0, links, (int(dup.sum()), k))
    rows = np.repeat(np.arange(n), k)
    cols = cols.ravel()
    coef = np.ones(n * k)
    cap = rng.uniform(10e9, 100e9, links)
    best = (np.inf, np.inf)
    for _ in range(3):
        rates, wall, cpu = timed(lambda: max_min_rates_coo(rows, cols, coef, n, cap))
        best = min(best, (wall, cpu))
    a = sp.csr_matrix((coef, (rows, cols)), shape=(n, links))
    at = a.T.tocsr()
    plain, pwall, pcpu = timed(lambda: _plain_filling(a, at, cap))
    ref, bwall, bcpu = timed(lambda: max_min_rates_reference(a, cap))
    err = max(float(np.max(np.abs(rates - r) / r)) for r in (ref, plain))
    print(
        f"max-min solve {n} flows x {k} links ({links} links): {best[0]:.3f} s wall "
        f"({best[1]:.3f} s CPU, best of 3) | baseline plain progressive filling: "
        f"{pwall:.2f} s wall ({pcpu:.2f} s CPU); textbook reference {bwall:.2f} s wall "
        f"({bcpu:.2f} s CPU); max rel. diff {err:.1e} | target < 0.5 s "
        f"| speed-up x{pcpu / best[1]:.1f} CPU vs plain (x{bcpu / best[1]:.1f} vs reference)"
    )


def _plain_filling(a: sp.csr_matrix, at: sp.csr_matrix, cap: np.ndarray) -> np.ndarray:
    """Plain progressive filling: all unfrozen rates rise to the next link saturation; the
    flows of saturated links freeze; one level per iteration."""
    n = a.shape[0]
    active = np.ones(n)
    rate = np.zeros(n)
    rem = cap.astype(float).copy()
    while active.any():
        grow = at @ active  # unfrozen flows per link
        live = grow > 0
        t = float((rem[live] / grow[live]).min())
        rate += t * active
        rem -= t * grow
        sat = (live & (rem <= 1e-9 * cap)).astype(float)
        active[(a @ sat) > 0] = 0.0
    return rate


def _naive_packets(net, src, dst, path, nbytes, mtu):
    """Straightforward SimPy packet model: one process per packet, FIFO Resource per port."""
    sim = simpy.Environment()
    ports = [simpy.Resource(sim, capacity=1) for _ in range(net.n_links)]
    rows = net.paths(src, dst, path)
    hops = [0]

    def packet(route, size):
        for link in route:
            with ports[link].request() as req:
                yield req
                yield sim.timeout(size * 8.0 / net.capacity_bps[link])
            yield sim.timeout(net.delay_s[link])
            hops[0] += 1

    for row, b in zip(rows, nbytes, strict=True):
        route = row[row >= 0].tolist()
        n_pkts = int(np.ceil(b / mtu))
        for q in range(n_pkts):
            sim.process(packet(route, mtu if q < n_pkts - 1 else b - (n_pkts - 1) * mtu))
    sim.run()
    return hops[0], sim.now


def bench_packets(quick: bool) -> None:
    net = leaf_spine_network(4, 2, 4)
    coll = alltoall(16, (4e6 if quick else 32e6))
    st = coll.steps[0]
    path = np.where(net.tor[st.src] == net.tor[st.dst], 0, st.src % 2)
    mtu = 4096

    def mine():
        sim = Simulation(0)
        tr = PacketTransport(sim, net, mtu_bytes=mtu, window_pkts=10**6)
        tr.add(st.src, st.dst, path, st.nbytes, np.arange(len(st)), lambda o, d: None)
        sim.run()
        return tr, sim.now

    # alternate the two, best of 3 and of 2 by CPU time (a shared machine's load drifts);
    # each time covers building the model and running it
    cpu = bcpu = np.inf
    for rep in range(3):
        (tr, t_end), w, c = timed(mine)
        if c < cpu:
            wall, cpu = w, c
        if rep == 2:
            break
        (bhops, b_end), w, c = timed(
            lambda: _naive_packets(net, st.src, st.dst, path, st.nbytes, mtu)
        )
        if c < bcpu:
            bwall, bcpu = w, c
    hops = int(tr.link_bytes.sum() // mtu)
    print(
        f"packet level all-to-all 16 hosts ({tr.packets} packets, {tr.events} events): "
        f"{tr.events / cpu:,.0f} events/s CPU ({cpu:.2f} s CPU, {wall:.2f} s wall; best of 3), "
        f"{hops / cpu:,.0f} packet-hops/s CPU, makespan {t_end * 1e3:.3f} ms | baseline "
        f"process-per-packet SimPy: {bhops / bcpu:,.0f} packet-hops/s CPU ({bcpu:.2f} s CPU, "
        f"{bwall:.2f} s wall; best of 2), makespan {b_end * 1e3:.3f} ms | target >= 1M "
        f"events/s CPU | speed-up x{(hops / cpu) / (bhops / bcpu):.1f} (packet-hops/s, CPU)"
    )

    def roce():
        sim = Simulation(0)
        tr = RoceTransport(sim, net, mtu_bytes=mtu, window_pkts=10**6, options=RoceOptions())
        tr.add(st.src, st.dst, path, st.nbytes, np.arange(len(st)), lambda o, d: None)
        sim.run()
        return tr, sim.now

    (rtr, r_end), rwall, rcpu = best_of(roce, 3)
    ratio = (rtr.events / rcpu) / (tr.events / cpu)
    print(
        f"  RoCE transport (1 MB buffers, ECN, PFC, DCQCN) on the same all-to-all: "
        f"{rtr.events / rcpu:,.0f} events/s CPU ({rtr.events} events, {rcpu:.2f} s CPU, "
        f"best of 3), "
        f"makespan {r_end * 1e3:.3f} ms, {rtr.pauses} pauses, {rtr.cnps} CNPs | plain packet "
        f"model {tr.events / cpu:,.0f} events/s CPU | ratio x{ratio:.2f}"
    )
    full, fwall, fcpu = timed(
        lambda: simulate_collective(net, ring_allreduce(16, 16e6), balancing="spray",
                                    mode="packet")
    )
    print(
        f"  packet-level ring all-reduce 16 GPUs 16 MB sprayed: {full.events / fcpu:,.0f} "
        f"events/s CPU ({full.events} events, {fcpu:.2f} s CPU, {fwall:.2f} s wall)"
    )


def bench_ring_packet(quick: bool) -> None:
    leaves, spines, hosts = (4, 2, 8) if quick else (16, 8, 8)
    net = leaf_spine_network(leaves, spines, hosts)
    coll = ring_allreduce(leaves * hosts, 64e6)
    kw = {"balancing": "minimal_split", "placement": "packed", "seed": 1, "alpha_s": 1e-6}
    pkt, wall, cpu = timed(lambda: simulate_collective(net, coll, mode="packet", **kw))
    fluid, fwall, fcpu = timed(lambda: simulate_collective(net, coll, **kw))
    print(
        f"packet-level ring all-reduce {leaves * hosts} GPUs 64 MB (minimal split, packed): "
        f"{cpu:.1f} s CPU ({wall:.1f} s wall), {pkt.events:,} events "
        f"({pkt.events / cpu:,.0f} events/s CPU), CCT {pkt.cct_s * 1e3:.3f} ms | target "
        f"< 60 s CPU | rival: fluid model {fcpu:.2f} s CPU, CCT {fluid.cct_s * 1e3:.3f} ms "
        f"| packet/fluid CCT x{pkt.cct_s / fluid.cct_s:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--only-maxmin", action="store_true", help="only the max-min solve")
    ap.add_argument("--only-packets", action="store_true", help="only the packet-level runs")
    args = ap.parse_args()
    if args.only_packets:
        bench_packets(args.quick)
        bench_ring_packet(args.quick)
        return
    bench_maxmin(args.quick)
    if args.only_maxmin:
        return
    bench_ring(args.quick)
    bench_packets(args.quick)
    bench_ring_packet(args.quick)


if __name__ == "__main__":
    main()
