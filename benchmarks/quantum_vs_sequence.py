"""netsim's repeater chain against SeQUeNCe on the same scenario (issue 6).

Scenario: a linear chain of 5 quantum routers (4 links of 10 km, 0.2 dB/km), one memory per
link side, raw pair fidelity 0.9, memory emission efficiency 0.9, detector efficiency 0.9,
memory coherence time 1 s, request F ≥ 0.6, 5 s of simulated time.

SeQUeNCe 1.x needs Python ≥ 3.12, so it runs in a subprocess from its own venv
(``/work/venvs/sequence``, SeQUeNCe 1.3.1 on CPython 3.12.1; create it with
``python3.12 -m venv /work/venvs/sequence && /work/venvs/sequence/bin/pip install sequence``
or set ``SEQUENCE_PYTHON``). It uses the Bell-diagonal formalism, the single-heralded
(two-photon, midpoint) generation protocol and its RSVP rules (nested swapping order).

The netsim side is configured with the same physics (:mod:`quantum.chain`):

* p per attempt = ½(η_emit·η(L/2)·η_det)², SeQUeNCe's SingleHeraldedBSM success rule;
* attempt duration 4·L/c = 200 µs: SeQUeNCe's attempt is a four-message cycle (resource
  manager REQUEST/RESPONSE, generation NEGOTIATE/ACK) overlapping the photon flight, so
  netsim's ``L/c + local_time_s`` uses ``local_time_s = 3·L/c``. The overlap holds because
  the router names grow along the chain (``r0 < r1 < …``): the downstream router of each
  link is the generation protocol's primary and negotiates as soon as it accepts the
  REQUEST; with the names reversed an attempt takes 5·L/c
  (``benchmarks/quantum_network_vs_sequence.py``, ``sequence_attempt_cycles``);
* depolarising memories with τ = 3T/4: SeQUeNCe's BDS memories apply X, Y, Z errors at rate
  1/(3T) each, which shrinks the Werner parameter by e^{−4t/(3T)} per stored qubit;
* cutoff T (SeQUeNCe memories expire one coherence time after excitation), nested swap order
  (SeQUeNCe's RSVP rules), a swap handshake (SeQUeNCe's swapping node first asks both far
  nodes for their memories and waits for both answers: one round trip to the farther one),
  swap outcomes as fibre-latency messages, each end freeing its memory when the last
  outcome reaches it (as SeQUeNCe's end nodes do), f_min 0.6.

Printed: delivered pairs/s (95% CI) and mean fidelity for both, the wall-clock and CPU
ratio on the 5 s scenario (target: netsim ≥ 10× faster), and netsim events/s on a
1,000-node chain. Timings on a shared machine are noisy; CPU time is the fairer figure.

Run: ``python benchmarks/quantum_vs_sequence.py [--routers 5] [--link-km 10]
[--coherence-s 1] [--sim-s 5] [--reps 20] [--seq-reps 5]``. Both CIs are t-intervals over
independent runs (different seeds).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from netsim import EventCounter
from netsim.stats import t_interval
from netsim.timing import timed
from quantum.chain import ChainConfig, link_physics, simulate_chain
from quantum.physics import C_FIBER_M_S

SCENARIO = {
    "routers": 5, "link_km": 10.0, "f0": 0.9, "eta_emit": 0.9, "eta_det": 0.9,
    "coherence_s": 1.0, "att_db_per_km": 0.2, "memories": 1, "f_min": 0.6, "sim_s": 5.0,
    "seed": 1,
}

SEQUENCE_PYTHON = os.environ.get("SEQUENCE_PYTHON", "/work/venvs/sequence/bin/python")

# Runs inside SeQUeNCe's venv; prints one JSON line. Any topology of quantum routers: one
# BSM node at the middle of every fibre, classical channels between every two routers with
# the fibre distance between them, requests (initiator, responder) reserved from 1 ms on.
SEQUENCE_DRIVER = r"""
import json, sys, time
from importlib.metadata import version
from sequence.constants import BELL_DIAGONAL_STATE_FORMALISM as BDS, SINGLE_HERALDED
from sequence.entanglement_management.generation import (
    EntanglementGenerationA, EntanglementGenerationB)
from sequence.entanglement_management.purification import PurificationProtocol
from sequence.entanglement_management.swapping import EntanglementSwappingA, EntanglementSwappingB
from sequence.app.request_app import RequestApp
from sequence.resource_management import resource_manager as rm
from sequence.topology.router_net_topo import RouterNetTopo

EntanglementGenerationA.set_global_type(SINGLE_HERALDED)
EntanglementGenerationB.set_global_type(SINGLE_HERALDED)
for cls in (EntanglementSwappingA, EntanglementSwappingB, PurificationProtocol):
    cls.set_formalism(BDS)

P = json.loads(sys.argv[1])
routers, links = P["names"], P["links"]
c = 2e8
ps = lambda s: int(round(s * 1e12))
bsms = [f"bsm{k}" for k in range(len(links))]
off = max(50, len(routers))
det = {"efficiency": P["eta_det"], "dark_count": 0, "time_resolution": 6, "count_rate": 1e11}
cfg = {
    "formalism": "bell_diagonal",
    "stop_time": ps(P["sim_s"] + 2e-3),
    "templates": {
        "router": {"MemoryArray": {"fidelity": P["f0"], "efficiency": P["eta_emit"],
                                    "coherence_time": P["coherence_s"], "frequency": 2e8}},
        "bsm": {"encoding_type": "single_heralded",
                "SingleHeraldedBSM": {"detectors": [det, det]}},
    },
    "nodes": [{"name": r, "type": "QuantumRouter", "_i": i, "memo_size": P["memo"][i],
               "template": "router"} for i, r in enumerate(routers)]
    + [{"name": b, "type": "BSMNode", "_i": off + k, "template": "bsm"}
       for k, b in enumerate(bsms)],
    "qchannels": [{"source": routers[x], "destination": bsms[k], "distance": km * 1e3 / 2,
                   "attenuation": P["att_db_per_km"] / 1e3}
                  for k, (a, b, km) in enumerate(links) for x in (a, b)],
    "cchannels": [{"source": u, "destination": v, "delay": ps(km * 1e3 / 2 / c)}
                  for k, (a, b, km) in enumerate(links) for x in (a, b)
                  for u, v in ((routers[x], bsms[k]), (bsms[k], routers[x]))]
    + [{"source": routers[i], "destination": routers[j], "delay": ps(P["dist_km"][i][j] * 1e3 / c)}
       for i in range(len(routers)) for j in range(len(routers)) if i != j],
}
rejected = [0]
_orig = rm.ResourceManager.received_message
def received_message(self, src, msg):
    if msg.msg_type == rm.ResourceManagerMsgType.RESPONSE and not msg.is_approved:
        rejected[0] += 1
    return _orig(self, src, msg)
rm.ResourceManager.received_message = received_message

class App(RequestApp):
    log = {}
    def get_memory(self, info):
        if info.state in ("ENTANGLED", "PURIFIED") and info.index in self.memo_to_reservation:
            res = self.memo_to_reservation[info.index]
            if info.remote_node == res.responder and info.fidelity >= res.fidelity:
                fids, times = App.log.setdefault((res.initiator, res.responder), ([], []))
                fids.append(info.fidelity)
                times.append(self.node.timeline.now() * 1e-12 - 1e-3)
        super().get_memory(info)

def run(seed):
    for node in cfg["nodes"]:
        node["seed"] = seed * 100 + node["_i"]
    App.log = {}
    rejected[0] = 0
    topo = RouterNetTopo({**cfg, "nodes": [{k: v for k, v in x.items() if k != "_i"}
                                           for x in cfg["nodes"]]})
    tl = topo.get_timeline()
    tl.show_progress = False
    nodes = {x.name: x for x in topo.get_nodes_by_type(RouterNetTopo.QUANTUM_ROUTER)}
    apps = {}
    for s, d in P["requests"]:
        for x in (s, d):
            if x not in apps:
                apps[x] = App(nodes[routers[x]])
    tl.init()
    # RSVP needs the reservation to start after its messages arrive: start at 1 ms
    for s, d in P["requests"]:
        apps[s].start(routers[d], ps(1e-3), ps(1e-3 + P["sim_s"]), P["memories"], P["f_min"])
    w0, c0 = time.perf_counter(), time.process_time()
    tl.run()
    per = [App.log.get((routers[s], routers[d]), ([], [])) for s, d in P["requests"]]
    return {"seed": seed, "requests": [{"fidelities": f, "times": t} for f, t in per],
            "events": tl.run_counter, "rejected": rejected[0],
            "wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}

runs = [run(P["seed"] + r) for r in range(P["seq_reps"])]
print(json.dumps({"version": version("sequence"), "python": sys.version.split()[0],
                  "runs": runs}))
"""


def sequence_chain(p: dict) -> dict:
    """The chain of ``p`` as a SeQUeNCe topology (:data:`SEQUENCE_DRIVER`'s input)."""
    n, km = p["routers"], p["link_km"]
    return {"names": [f"r{i}" for i in range(n)],
            "links": [[i, i + 1, km] for i in range(n - 1)],
            "dist_km": [[abs(i - j) * km for j in range(n)] for i in range(n)],
            "memo": [2 * p["memories"]] * n, "requests": [[0, n - 1]]}


def netsim_config(p: dict, n_links: int | None = None) -> ChainConfig:
    """The SeQUeNCe scenario in netsim terms (see the module docstring)."""
    lc = p["link_km"] * 1e3 / C_FIBER_M_S
    return ChainConfig(
        n_links=n_links or p["routers"] - 1, link_length_km=p["link_km"],
        attenuation_db_per_km=p["att_db_per_km"], scheme="midpoint",
        detector_efficiency=p["eta_det"], emission_efficiency=p["eta_emit"],
        link_fidelity=p["f0"], local_time_s=3 * lc, comm_qubits=2 * p["memories"],
        storage_qubits=0, max_link_pairs=p["memories"], decoherence="depolarising",
        coherence_time_s=0.75 * p["coherence_s"], cutoff_s=p["coherence_s"],
        swap_order="nested", swap_handshake=True, f_min=p["f_min"],
    )


def run_netsim(p: dict, reps: int) -> dict:
    cfg = netsim_config(p)
    rates, fids, walls, cpus = [], [], [], []
    for r in range(reps):
        res, wall, cpu = timed(lambda r=r: simulate_chain(cfg, seed=1000 + r, horizon_s=p["sim_s"]))
        walls.append(wall)
        cpus.append(cpu)
        rates.append(res.rate_hz)
        fids.append(res.fidelities[res.fidelities >= p["f_min"]])
    counter = EventCounter()
    simulate_chain(cfg, seed=1000, horizon_s=p["sim_s"], trace=counter)
    return {**summarise(rates, fids),
            "wall_s": float(np.median(walls)), "cpu_s": float(np.median(cpus)),
            "events": counter.count, "attempt_s": link_physics(cfg).attempt_s,
            "p": link_physics(cfg).p}


def run_sequence_topology(p: dict, topo: dict) -> dict | None:
    """``p["seq_reps"]`` independent SeQUeNCe runs (seeds ``seed``, ``seed + 1``, ...) of the
    requests of ``topo`` (see :func:`sequence_chain`) in one subprocess; returns the raw runs
    (per request: delivered fidelities and times) or None, printing why, when SeQUeNCe is
    missing or fails."""
    if not Path(SEQUENCE_PYTHON).exists():
        print(
            f"SeQUeNCe comparison skipped: no interpreter at {SEQUENCE_PYTHON} (SeQUeNCe 1.x "
            "needs Python >= 3.12; install it in a 3.12 venv and set SEQUENCE_PYTHON)"
        )
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "sequence_network.py"
        script.write_text(SEQUENCE_DRIVER)
        w0 = time.perf_counter()
        out = subprocess.run([SEQUENCE_PYTHON, str(script), json.dumps({**p, **topo})],
                             cwd=tmp, capture_output=True, text=True, check=False)
        total = time.perf_counter() - w0
    if out.returncode != 0:
        if "No module named 'sequence'" in out.stderr:
            print(
                f"SeQUeNCe comparison skipped: {SEQUENCE_PYTHON} has no 'sequence' package "
                "(pip install sequence==1.3.1 there)"
            )
        else:
            print("SeQUeNCe comparison failed:\n" + out.stderr[-2000:])
        return None
    d = json.loads(out.stdout.strip().splitlines()[-1])
    d["process_s"] = total
    return d


def summarise(rates: list[float], fids: list[np.ndarray]) -> dict:
    """Rate mean and 95 % t half-width over independent runs; mean fidelity of the pooled
    pairs and its standard error."""
    f = np.concatenate([np.asarray(x, dtype=float) for x in fids])
    mean, half = t_interval(rates)
    return {"rate": mean, "rate_ci": half, "fid": float(f.mean()) if f.size else float("nan"),
            "fid_se": float(f.std(ddof=1) / np.sqrt(f.size)) if f.size > 1 else float("nan")}


def run_sequence(p: dict) -> dict | None:
    """SeQUeNCe on the chain of ``p``; the rate CI is a t-interval over the runs."""
    d = run_sequence_topology(p, sequence_chain(p))
    if d is None:
        return None
    runs = d["runs"]
    out = summarise([len(r["requests"][0]["times"]) / p["sim_s"] for r in runs],
                    [r["requests"][0]["fidelities"] for r in runs])
    return {**out, "wall_s": float(np.median([r["wall_s"] for r in runs])),
            "cpu_s": float(np.median([r["cpu_s"] for r in runs])),
            "events": int(np.median([r["events"] for r in runs])),
            "rejected": int(sum(r["rejected"] for r in runs)), "process_s": d["process_s"],
            "version": d["version"], "python": d["python"], "reps": len(runs)}


def events_per_second(p: dict, nodes: int = 1000, sim_s: float = 0.5) -> dict:
    cfg = netsim_config(p, n_links=nodes - 1)
    counter = EventCounter()
    simulate_chain(cfg, seed=7, horizon_s=sim_s, trace=counter)
    res, wall, cpu = timed(lambda: simulate_chain(cfg, seed=7, horizon_s=sim_s))
    return {
        "events": counter.count,
        "wall_s": wall,
        "cpu_s": cpu,
        "delivered": res.delivered,
        "swaps": res.swaps,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--routers",
        type=int,
        default=SCENARIO["routers"],
        help="quantum routers on the chain (links = routers - 1)",
    )
    ap.add_argument("--link-km", type=float, default=SCENARIO["link_km"])
    ap.add_argument(
        "--coherence-s",
        type=float,
        default=SCENARIO["coherence_s"],
        help="SeQUeNCe memory coherence time T (s)",
    )
    ap.add_argument("--sim-s", type=float, default=SCENARIO["sim_s"])
    ap.add_argument("--reps", type=int, default=20, help="netsim replications")
    ap.add_argument(
        "--seq-reps",
        type=int,
        default=5,
        help="independent SeQUeNCe runs (seeds differ) for its 95%% CI",
    )
    ap.add_argument("--skip-sequence", action="store_true")
    ap.add_argument("--skip-scale", action="store_true", help="skip the 1,000-node chain")
    args = ap.parse_args(argv)
    if args.routers < 2 or args.reps < 2 or args.seq_reps < 2:
        ap.error("--routers, --reps and --seq-reps must be >= 2")
    p = dict(SCENARIO, routers=args.routers, link_km=args.link_km,
             coherence_s=args.coherence_s, sim_s=args.sim_s, seq_reps=args.seq_reps)
    print(f"scenario: {json.dumps(p)}")
    ns = run_netsim(p, args.reps)
    print(
        f"netsim   : p/attempt={ns['p']:.4f}, attempt={ns['attempt_s'] * 1e6:.0f} µs; "
        f"rate {ns['rate']:.1f} ± {ns['rate_ci']:.1f} pairs/s ({args.reps} reps), "
        f"fidelity {ns['fid']:.5f} ± {ns['fid_se']:.5f}; one {p['sim_s']:g} s run: "
        f"{ns['wall_s']:.3f} s wall, {ns['cpu_s']:.3f} s CPU, {ns['events']} events"
    )
    if not args.skip_scale:
        eps = events_per_second(p)
        print(
            f"netsim 1,000-node chain: {eps['events']} events in {eps['wall_s']:.2f} s wall / "
            f"{eps['cpu_s']:.2f} s CPU -> {eps['events'] / eps['wall_s']:,.0f} events/s wall, "
            f"{eps['events'] / eps['cpu_s']:,.0f} events/s CPU ({eps['swaps']} swaps, "
            f"{eps['delivered']} end-to-end pairs)"
        )
    sq = None if args.skip_sequence else run_sequence(p)
    if sq is None:
        return 0
    print(
        f"SeQUeNCe : {sq['version']} on Python {sq['python']} (subprocess); rate "
        f"{sq['rate']:.1f} ± {sq['rate_ci']:.1f} pairs/s ({sq['reps']} independent runs), "
        f"fidelity "
        f"{sq['fid']:.5f} ± {sq['fid_se']:.5f}; {sq['wall_s']:.1f} s wall, "
        f"{sq['cpu_s']:.1f} s CPU, {sq['events']} events "
        f"({sq['events'] / sq['wall_s']:,.0f} events/s wall, "
        f"{sq['events'] / sq['cpu_s']:,.0f} events/s CPU); "
        f"{sq['rejected']} rejected generation requests"
    )
    diff = ns["rate"] - sq["rate"]
    print(
        f"rate difference netsim − SeQUeNCe: {diff:+.1f} pairs/s "
        f"({diff / sq['rate']:+.1%}; combined 95% half-width "
        f"{np.hypot(ns['rate_ci'], sq['rate_ci']):.1f}); fidelity difference "
        f"{ns['fid'] - sq['fid']:+.5f}"
    )
    print(f"CPU-time ratio SeQUeNCe/netsim: {sq['cpu_s'] / ns['cpu_s']:.0f}x")
    print(f"wall-time ratio SeQUeNCe/netsim: {sq['wall_s'] / ns['wall_s']:.0f}x (target >= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
