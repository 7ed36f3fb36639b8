"""Collective algorithms as steps of point-to-point transfers, and their dependency DAG.

Sizes follow nccl-tests (``S`` = the op's buffer size per rank): all-reduce and
reduce-scatter take an ``S``-byte input per rank, all-gather an ``S``-byte output, all-to-all
an ``S``-byte send buffer (``S/n`` to each peer). Algorithms, for ``n`` ranks:

* ring all-reduce (Patarasuk & Yuan, JPDC 2009): reduce-scatter then all-gather, ``2(n−1)``
  steps of ``S/n`` from rank ``i`` to ``i+1``; α-β time ``2(n−1)α + 2(n−1)/n·S/B``;
* ring reduce-scatter / all-gather: ``n−1`` steps of ``S/n`` each;
* recursive halving-doubling all-reduce (Rabenseifner 2004; Thakur et al., IJHPCA 2005):
  ``log2 n`` halving exchanges of ``S/2, S/4, …, S/n`` then the mirror doubling, time
  ``2·log2(n)·α + 2(n−1)/n·S/B``; ``n`` a power of two;
* double binary tree all-reduce (NCCL ``ncclGetDtree``, src/graph/trees.cc): two
  complementary binary trees each reduce ``S/2`` to the root and broadcast it back;
* all-to-all: one step in which every rank sends ``S/n`` to every other rank;
* hierarchical all-reduce on ``N`` servers of ``G`` GPUs (rank ``s·G + g``; the 2D / hierarchical
  scheme of Horovod's hierarchical all-reduce; Cho et al., "BlueConnect",
  SysML 2019): ring reduce-scatter inside each server (``G−1`` steps of ``S/G``), ring
  all-reduce of the ``S/G`` shard across servers on each rail (``2(N−1)`` steps of
  ``S/(GN)``), ring all-gather inside each server; time
  ``2(G−1)(α + 8S/(G·B_intra)) + 2(N−1)(α + 8S/(GN·B_inter))``
  (:func:`hierarchical_allreduce_time`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Step",
    "Collective",
    "Schedule",
    "COLLECTIVES",
    "BUSBW_FACTORS",
    "build_collective",
    "ring_allreduce",
    "ring_reducescatter",
    "ring_allgather",
    "rabenseifner_allreduce",
    "tree_allreduce",
    "alltoall",
    "hierarchical_allreduce",
    "hierarchical_allreduce_time",
    "double_binary_tree",
    "place_ranks",
    "schedule",
    "alpha_beta_time",
]


@dataclass(frozen=True)
class Step:
    """Transfers that a collective issues together: rank ``src[i]`` sends ``nbytes[i]`` bytes
    to rank ``dst[i]``."""

    src: np.ndarray
    dst: np.ndarray
    nbytes: np.ndarray

    def __len__(self) -> int:
        return int(self.src.size)


@dataclass(frozen=True)
class Collective:
    """A collective as an ordered tuple of steps.

    Attributes:
        name: algorithm key in :data:`COLLECTIVES`.
        op: nccl-tests operation (``allreduce``, ``allgather``, ``reducescatter``,
            ``alltoall``), which fixes the bus-bandwidth factor.
        n_ranks, message_bytes: ``n`` and the nccl-tests size ``S``.
    """

    name: str
    op: str
    n_ranks: int
    message_bytes: float
    steps: tuple[Step, ...]

    @property
    def busbw_factor(self) -> float:
        return BUSBW_FACTORS[self.op](self.n_ranks)

    @property
    def total_bytes(self) -> float:
        return float(sum(s.nbytes.sum() for s in self.steps))


#: nccl-tests PERFORMANCE.md: busbw = algbw · factor(n)
BUSBW_FACTORS: dict[str, Callable[[int], float]] = {
    "allreduce": lambda n: 2.0 * (n - 1) / n,
    "allgather": lambda n: (n - 1) / n,
    "reducescatter": lambda n: (n - 1) / n,
    "alltoall": lambda n: (n - 1) / n,
}


def _check(n: int, message_bytes: float) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"ranks: a collective needs an integer >= 2 ranks (got {n!r})")
    if not (np.isfinite(message_bytes) and message_bytes > 0):
        raise ValueError(f"message_bytes: must be a finite number > 0 (got {message_bytes!r})")


def _step(src, dst, nbytes) -> Step:
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    return Step(src, dst, np.broadcast_to(np.asarray(nbytes, dtype=float), src.shape).copy())


def _ring_steps(n: int, chunk: float, count: int) -> tuple[Step, ...]:
    r = np.arange(n)
    return tuple(_step(r, (r + 1) % n, chunk) for _ in range(count))


def ring_allreduce(n: int, message_bytes: float) -> Collective:
    """Ring all-reduce: ``2(n−1)`` steps, rank ``i`` sends ``S/n`` to ``i+1`` in each."""
    _check(n, message_bytes)
    steps = _ring_steps(n, message_bytes / n, 2 * (n - 1))
    return Collective("ring_allreduce", "allreduce", n, float(message_bytes), steps)


def ring_reducescatter(n: int, message_bytes: float) -> Collective:
    """Ring reduce-scatter: ``n−1`` steps of ``S/n``."""
    _check(n, message_bytes)
    steps = _ring_steps(n, message_bytes / n, n - 1)
    return Collective("ring_reducescatter", "reducescatter", n, float(message_bytes), steps)


def ring_allgather(n: int, message_bytes: float) -> Collective:
    """Ring all-gather: ``n−1`` steps of ``S/n`` (``S`` = output buffer)."""
    _check(n, message_bytes)
    steps = _ring_steps(n, message_bytes / n, n - 1)
    return Collective("ring_allgather", "allgather", n, float(message_bytes), steps)


def rabenseifner_allreduce(n: int, message_bytes: float) -> Collective:
    """Recursive halving (reduce-scatter, partner distance n/2, n/4, …, 1, sizes S/2 … S/n)
    then recursive doubling (all-gather, the mirror). ``n`` must be a power of two."""
    _check(n, message_bytes)
    if n & (n - 1):
        raise ValueError(f"ranks: rabenseifner_allreduce needs a power of two (got {n})")
    r = np.arange(n)
    halving = []
    dist, size = n // 2, message_bytes / 2
    while dist >= 1:
        halving.append(_step(r, r ^ dist, size))
        dist //= 2
        size /= 2
    steps = tuple(halving) + tuple(reversed(halving))
    return Collective("rabenseifner_allreduce", "allreduce", n, float(message_bytes), steps)


def _btree(n: int) -> np.ndarray:
    """Parent of each rank in NCCL's binary tree (``ncclGetBtree``): rank 0 is the root;
    rank ``r`` with lowest set bit ``b`` hangs under ``(r ^ b) | 2b`` (or ``r ^ b`` when that
    is out of range)."""
    parent = np.full(n, -1, dtype=np.int64)
    for r in range(1, n):
        bit = r & -r
        up = (r ^ bit) | (bit << 1)
        parent[r] = up if up < n else r ^ bit
    return parent


def double_binary_tree(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Parents of the two complementary trees of NCCL's double binary tree: the second tree
    is the first mirrored (``n`` even) or shifted by one rank (``n`` odd), so that a rank that
    is a leaf in one tree is an inner node in the other."""
    t1 = _btree(n)
    base = _btree(n)
    t2 = np.full(n, -1, dtype=np.int64)
    if n % 2 == 0:  # mirror: rank r plays position n-1-r
        for pos in range(n):
            if base[pos] >= 0:
                t2[n - 1 - pos] = n - 1 - base[pos]
    else:  # shift: rank r plays position r-1
        for pos in range(n):
            if base[pos] >= 0:
                t2[(pos + 1) % n] = (base[pos] + 1) % n
    return t1, t2


def _heights_depths(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = parent.size
    depth = np.zeros(n, dtype=np.int64)
    for r in range(n):
        d, p = 0, parent[r]
        while p >= 0:
            d, p = d + 1, parent[p]
        depth[r] = d
    height = np.zeros(n, dtype=np.int64)
    for r in np.argsort(-depth, kind="stable"):
        if parent[r] >= 0:
            height[parent[r]] = max(height[parent[r]], height[r] + 1)
    return height, depth


def tree_allreduce(n: int, message_bytes: float) -> Collective:
    """Double binary tree all-reduce: each tree carries ``S/2``. Reduce: a rank of height
    ``h`` sends to its parent in step ``h`` (after its children). Broadcast: a rank of depth
    ``d`` sends to its children in step ``H + d``."""
    _check(n, message_bytes)
    trees = double_binary_tree(n)
    info = [(p, *_heights_depths(p)) for p in trees]
    top = max(int(h.max()) for _, h, _ in info)
    steps = []
    half = message_bytes / 2
    for t in range(top):  # reduce phase
        src = np.concatenate([np.flatnonzero((h == t) & (p >= 0)) for p, h, _ in info])
        dst = np.concatenate([p[(h == t) & (p >= 0)] for p, h, _ in info])
        steps.append(_step(src, dst, half))
    for t in range(top):  # broadcast phase: parent at depth t feeds children at depth t+1
        src = np.concatenate([p[(d == t + 1)] for p, _, d in info])
        dst = np.concatenate([np.flatnonzero(d == t + 1) for _, _, d in info])
        steps.append(_step(src, dst, half))
    steps = [s for s in steps if len(s)]
    return Collective("tree_allreduce", "allreduce", n, float(message_bytes), tuple(steps))


def alltoall(n: int, message_bytes: float) -> Collective:
    """All-to-all: one step of ``n(n−1)`` transfers of ``S/n``."""
    _check(n, message_bytes)
    src, dst = np.divmod(np.arange(n * n), n)
    off = src != dst
    step = _step(src[off], dst[off], message_bytes / n)
    return Collective("alltoall", "alltoall", n, float(message_bytes), (step,))


def hierarchical_allreduce(servers: int, gpus_per_server: int, message_bytes: float) -> Collective:
    """Hierarchical all-reduce (module docstring) on ``N·G`` ranks, rank ``s·G + g`` = GPU
    ``g`` of server ``s``: intra-server ring reduce-scatter, per-rail inter-server ring
    all-reduce of the shard, intra-server ring all-gather. Every step runs all servers (or
    all rails) at once; a phase with one member (``G = 1`` or ``N = 1``) has no steps."""
    for name, v in (("servers", servers), ("gpus_per_server", gpus_per_server)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name}: must be an integer >= 1 (got {v!r})")
    N, G = int(servers), int(gpus_per_server)
    _check(N * G, message_bytes)
    srv, gpu = np.divmod(np.arange(N * G), G)
    intra = _step(np.arange(N * G), srv * G + (gpu + 1) % G, message_bytes / G)
    inter = _step(np.arange(N * G), ((srv + 1) % N) * G + gpu, message_bytes / (G * N))
    steps = (intra,) * (G - 1) + (inter,) * (2 * (N - 1)) + (intra,) * (G - 1)
    return Collective("hierarchical_allreduce", "allreduce", N * G, float(message_bytes), steps)


def hierarchical_allreduce_time(
    servers: int,
    gpus_per_server: int,
    message_bytes: float,
    alpha_s: float,
    intra_bps: float,
    inter_bps: float,
) -> float:
    """α-β time of :func:`hierarchical_allreduce` (s): ``2(G−1)(α + 8S/(G·B_intra)) +
    2(N−1)(α + 8S/(G·N·B_inter))``: two intra-server ring phases of ``G−1`` steps of ``S/G``
    and one inter-server ring all-reduce of ``S/G`` (Patarasuk & Yuan 2009 per phase)."""
    N, G, S = int(servers), int(gpus_per_server), float(message_bytes)
    intra = 2 * (G - 1) * (alpha_s + 8.0 * S / (G * intra_bps))
    inter = 2 * (N - 1) * (alpha_s + 8.0 * S / (G * N * inter_bps))
    return intra + inter


COLLECTIVES: dict[str, Callable[[int, float], Collective]] = {
    "ring_allreduce": ring_allreduce,
    "tree_allreduce": tree_allreduce,
    "rabenseifner_allreduce": rabenseifner_allreduce,
    "ring_allgather": ring_allgather,
    "ring_reducescatter": ring_reducescatter,
    "alltoall": alltoall,
}


def build_collective(name: str, n_ranks: int, message_bytes: float) -> Collective:
    """The collective ``name`` (a key of :data:`COLLECTIVES`)."""
    if name not in COLLECTIVES:
        raise ValueError(f"collective: unknown {name!r} (allowed: {', '.join(COLLECTIVES)})")
    return COLLECTIVES[name](n_ranks, message_bytes)


def alpha_beta_time(coll: Collective, alpha_s: float, bandwidth_bps: float) -> float:
    """Step-synchronous α-β time on a non-blocking network where each rank's link runs at
    ``B``: ``Σ_steps (α + 8·max_rank bytes_sent_or_received / B)`` (s)."""
    total = 0.0
    for s in coll.steps:
        out = np.bincount(s.src, weights=s.nbytes, minlength=coll.n_ranks)
        inn = np.bincount(s.dst, weights=s.nbytes, minlength=coll.n_ranks)
        total += alpha_s + 8.0 * max(out.max(), inn.max()) / bandwidth_bps
    return total


def place_ranks(n_ranks: int, n_hosts: int, placement: str, rng: np.random.Generator | None = None):
    """Host of each rank: ``packed`` (rank r on host r) or ``random`` (a uniformly random
    injective placement drawn from ``rng``)."""
    if n_ranks > n_hosts:
        raise ValueError(f"ranks: {n_ranks} ranks do not fit on {n_hosts} hosts (ranks <= hosts)")
    if placement == "packed":
        return np.arange(n_ranks, dtype=np.int64)
    if placement == "random":
        if rng is None:
            raise ValueError("placement=random needs a random generator")
        return rng.permutation(n_hosts)[:n_ranks].astype(np.int64)
    raise ValueError(f"placement: unknown {placement!r} (allowed: packed, random)")


@dataclass(frozen=True)
class Schedule:
    """A dependency DAG of transfers (nodes). A node starts when all its predecessors are
    done; nodes with ``nbytes == 0`` and ``src == -1`` are barriers that complete at once.

    Attributes:
        src, dst: ranks (``-1`` for barriers); nbytes: bytes; step, chunk: origin indices;
        conn: connection id ``src·n + dst`` of the rank pair (sets the ECMP source port);
        n_deps: predecessors per node; succ_ptr, succ: successors in CSR form.
    """

    src: np.ndarray
    dst: np.ndarray
    nbytes: np.ndarray
    step: np.ndarray
    chunk: np.ndarray
    conn: np.ndarray
    n_deps: np.ndarray
    succ_ptr: np.ndarray
    succ: np.ndarray
    n_steps: int
    collective: Collective

    def __len__(self) -> int:
        return int(self.src.size)

    def successors(self, node: int) -> np.ndarray:
        return self.succ[self.succ_ptr[node] : self.succ_ptr[node + 1]]


def schedule(coll: Collective, chunks: int = 1, sync: str = "step") -> Schedule:
    """Expand ``coll`` into a DAG of transfers.

    ``chunks`` splits every transfer into equal pieces. ``sync="step"``: the collective runs
    ``chunks`` times on ``S/chunks`` bytes, one step at a time with a barrier after each step
    (the flows of a step start together, as in the packet-spraying paper's model).
    ``sync="dataflow"``: a rank sends chunk ``c`` of step ``k`` as soon as it has received
    chunk ``c`` of everything sent to it since its previous send and has sent chunk ``c−1``
    of the same transfer, so chunks pipeline through the steps.
    """
    if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer) or chunks < 1:
        raise ValueError(f"chunks: must be an integer >= 1 (got {chunks!r})")
    if sync not in ("step", "dataflow"):
        raise ValueError(f"sync: unknown {sync!r} (allowed: step, dataflow)")
    n = coll.n_ranks
    K = len(coll.steps)
    src, dst, nb, stp, chk = [], [], [], [], []
    base = []  # first node id of (chunk, step)
    node = 0
    order = [(c, k) for c in range(chunks) for k in range(K)]
    for c, k in order:
        s = coll.steps[k]
        base.append(node)
        src.append(s.src)
        dst.append(s.dst)
        nb.append(s.nbytes / chunks)
        stp.append(np.full(len(s), k))
        chk.append(np.full(len(s), c))
        node += len(s)
        if sync == "step":  # barrier node after each (chunk, step)
            src.append([-1])
            dst.append([-1])
            nb.append([0.0])
            stp.append([k])
            chk.append([c])
            node += 1
    src = np.concatenate(src).astype(np.int64)
    dst = np.concatenate(dst).astype(np.int64)
    nbytes = np.concatenate(nb).astype(float)
    step = np.concatenate(stp).astype(np.int64)
    chunk = np.concatenate(chk).astype(np.int64)
    edges_from, edges_to = [], []
    if sync == "step":
        for i, (_c, k) in enumerate(order):
            first, barrier = base[i], base[i] + len(coll.steps[k])
            members = np.arange(first, barrier)
            edges_from.append(members)
            edges_to.append(np.full(members.size, barrier))
            if i + 1 < len(order):
                nxt = np.arange(base[i + 1], base[i + 1] + len(coll.steps[order[i + 1][1]]))
                edges_from.append(np.full(nxt.size, barrier))
                edges_to.append(nxt)
    else:
        _dataflow_edges(coll, chunks, base, edges_from, edges_to)
    e_from = np.concatenate(edges_from) if edges_from else np.zeros(0, dtype=np.int64)
    e_to = np.concatenate(edges_to) if edges_to else np.zeros(0, dtype=np.int64)
    n_nodes = src.size
    order_e = np.argsort(e_from, kind="stable")
    succ = e_to[order_e].astype(np.int64)
    succ_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(e_from, minlength=n_nodes), out=succ_ptr[1:])
    n_deps = np.bincount(e_to, minlength=n_nodes).astype(np.int64)
    conn = np.where(src >= 0, src * n + dst, -1)  # one connection per ordered rank pair
    return Schedule(src, dst, nbytes, step, chunk, conn, n_deps, succ_ptr, succ, K, coll)


def _dataflow_edges(coll: Collective, chunks: int, base: list[int], e_from, e_to) -> None:
    n, K = coll.n_ranks, len(coll.steps)
    for c in range(chunks):
        # per rank: node ids received since its last send (for chunk c)
        pending: list[list[int]] = [[] for _ in range(n)]
        for k in range(K):
            s = coll.steps[k]
            ids = base[c * K + k] + np.arange(len(s))
            for node, a in zip(ids.tolist(), s.src.tolist(), strict=True):
                if pending[a]:
                    e_from.append(np.asarray(pending[a], dtype=np.int64))
                    e_to.append(np.full(len(pending[a]), node))
            sent = set(s.src.tolist())
            for a in sent:
                pending[a] = []
            for node, b in zip(ids.tolist(), s.dst.tolist(), strict=True):
                pending[b].append(node)
            if c > 0:  # the same transfer's previous chunk goes first on the connection
                prev = base[(c - 1) * K + k] + np.arange(len(s))
                e_from.append(prev)
                e_to.append(ids)
