"""Chakra execution traces replayed as a workload: compute and collectives with dependencies.

Reads the Chakra JSON workload graph (``{"workload_graph": [...]}``, one rank of an MLCommons
Chakra execution trace: ``Id``, ``Name``, ``NodeType``, ``runtime`` in µs, ``data_deps``,
``is_cpu_op``; node types from Chakra's ``et_def.proto``: 4 = COMP_NODE, 7 = COMM_COLL_NODE).

Replay semantics (:func:`replay`), as a CUDA-stream model: every node runs on one *lane* -
``cpu`` (host-side ops and launches), ``gpu`` (compute kernels) or ``comm`` (collective
kernels, NCCL's own stream) - lanes execute their nodes in trace order (by ``Id``), one at a
time, and a node starts when its lane is free and every ``data_deps`` node has finished.
Compute nodes take their measured runtime; each GPU collective node takes the time the caller
gives (the fabric simulation of that collective under a routing scheme), so the iteration time
is the trace's makespan under that routing.

The trace records no message sizes. :func:`collective_bytes` infers one from the measured
kernel time at a stated reference algorithm bandwidth (``bytes = runtime · algbw_ref``); the
collective kind comes from the kernel name (``ncclKernel_AllReduce_…`` etc.). Broadcast is
replayed as a ring all-gather of the same bytes (both move about S per link, pipelined).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ChakraNode", "ReplayResult", "load_workload_graph", "replay", "collective_bytes",
           "COLLECTIVE_OF_KERNEL"]

COMP_NODE, COMM_COLL_NODE = 4, 7  # Chakra et_def.proto NodeType
#: NCCL kernel name → :data:`transport.collectives.COLLECTIVES` key
COLLECTIVE_OF_KERNEL = {
    "AllReduce": "ring_allreduce",
    "AllGather": "ring_allgather",
    "ReduceScatter": "ring_reducescatter",
    "Broadcast": "ring_allgather",
    "AllToAll": "alltoall",
}
_KIND = re.compile(r"(AllReduce|AllGather|ReduceScatter|Broadcast|AllToAll)", re.IGNORECASE)


@dataclass(frozen=True)
class ChakraNode:
    """One trace node. ``collective`` is a :data:`COLLECTIVES` key for GPU collective kernels
    and ``None`` otherwise; ``runtime_s`` is the measured duration."""

    id: int
    name: str
    lane: str  # "cpu", "gpu" or "comm"
    runtime_s: float
    deps: tuple[int, ...]
    collective: str | None = None


@dataclass
class ReplayResult:
    """Iteration time and its parts (s); ``start_s``/``finish_s`` per node id."""

    iteration_s: float
    compute_s: float  # sum of GPU compute kernel runtimes
    comm_s: float  # sum of collective times as replayed
    exposed_comm_s: float  # time the comm lane was busy while the gpu lane was idle
    start_s: dict
    finish_s: dict


#: the bundled trace (MLCommons Chakra, Apache-2.0; see ``transport/data/README.md``)
BUNDLED_TRACE = Path(__file__).parent / "data" / "chakra_workload_graph_rank0.json.gz"


def load_workload_graph(path: str | Path) -> list[ChakraNode]:
    """Nodes of a Chakra JSON workload graph (``.json`` or ``.json.gz``), in trace order."""
    path = Path(path)
    raw_text = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_text()
    data = json.loads(raw_text)
    raw = data.get("workload_graph") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise ValueError(f"{path}: no 'workload_graph' list (a Chakra JSON workload graph)")
    nodes = []
    for i, n in enumerate(raw):
        try:
            nid, ntype, name = int(n["Id"]), int(n["NodeType"]), str(n["Name"])
            deps = tuple(int(d) for d in n.get("data_deps", ()))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: workload_graph[{i}]: bad or missing field ({e})") from e
        runtime = float(n.get("runtime", 0.0)) * 1e-6
        if runtime < 0:
            raise ValueError(f"{path}: workload_graph[{i}].runtime: must be >= 0")
        cpu = bool(n.get("is_cpu_op", False))
        coll = None
        if cpu:
            lane = "cpu"
        elif ntype == COMM_COLL_NODE:
            m = _KIND.search(name)
            if m is None:
                raise ValueError(f"{path}: workload_graph[{i}].Name: unknown collective {name!r}")
            key = next(k for k in COLLECTIVE_OF_KERNEL if k.lower() == m.group(1).lower())
            lane, coll = "comm", COLLECTIVE_OF_KERNEL[key]
        else:
            lane = "gpu"
        nodes.append(ChakraNode(nid, name, lane, runtime, deps, coll))
    ids = [n.id for n in nodes]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: workload_graph: duplicate Id")
    known = set(ids)
    for n in nodes:
        missing = [d for d in n.deps if d not in known]
        if missing:
            raise ValueError(f"{path}: node {n.id}.data_deps: unknown node {missing[0]}")
    return sorted(nodes, key=lambda n: n.id)


def collective_bytes(node: ChakraNode, reference_algbw_Bps: float) -> float:
    """Message bytes of a collective node: measured runtime × reference algorithm bandwidth."""
    if reference_algbw_Bps <= 0:
        raise ValueError(f"reference_algbw_Bps: must be > 0 (got {reference_algbw_Bps})")
    return max(node.runtime_s * reference_algbw_Bps, 1.0)


def replay(nodes: list[ChakraNode], comm_time_s: Callable[[ChakraNode], float]) -> ReplayResult:
    """Makespan of ``nodes`` with in-order lanes and data dependencies (module docstring).

    ``comm_time_s(node)`` gives each collective node's duration. Raises ``ValueError`` on a
    dependency cycle (or a dependency that an in-order lane can never satisfy).
    """
    lanes: dict[str, list[ChakraNode]] = {}
    for n in nodes:
        lanes.setdefault(n.lane, []).append(n)
    head = dict.fromkeys(lanes, 0)
    free = dict.fromkeys(lanes, 0.0)
    start: dict[int, float] = {}
    finish: dict[int, float] = {}
    busy: dict[str, list[tuple[float, float]]] = {k: [] for k in lanes}
    comm_s = 0.0
    left = len(nodes)
    while left:
        progress = False
        for lane, seq in lanes.items():
            while head[lane] < len(seq):
                n = seq[head[lane]]
                if any(d not in finish for d in n.deps):
                    break
                dur = comm_time_s(n) if n.collective is not None else n.runtime_s
                if n.collective is not None:
                    comm_s += dur
                t0 = max([free[lane], *(finish[d] for d in n.deps)])
                start[n.id], finish[n.id] = t0, t0 + dur
                free[lane] = t0 + dur
                busy[lane].append((t0, t0 + dur))
                head[lane] += 1
                left -= 1
                progress = True
        if not progress:
            stuck = [lanes[k][head[k]].id for k in lanes if head[k] < len(lanes[k])]
            raise ValueError(f"data_deps: nodes {stuck} wait on each other (a cycle)")
    compute = sum(n.runtime_s for n in nodes if n.lane == "gpu")
    exposed = _uncovered(busy.get("comm", []), busy.get("gpu", []))
    return ReplayResult(max(finish.values(), default=0.0), compute, comm_s, exposed, start,
                        finish)


def _uncovered(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Length of the union of intervals ``a`` not covered by the union of intervals ``b``."""
    if not a:
        return 0.0
    pts = sorted({t for iv in a + b for t in iv})
    mids = (np.asarray(pts[:-1]) + np.asarray(pts[1:])) / 2
    in_a = np.zeros(mids.size, dtype=bool)
    in_b = np.zeros(mids.size, dtype=bool)
    for lo, hi in a:
        in_a |= (mids > lo) & (mids < hi)
    for lo, hi in b:
        in_b |= (mids > lo) & (mids < hi)
    return float(np.sum(np.diff(pts)[in_a & ~in_b]))
