"""Repeater-protocol search (ESSS-like) and its mapping onto qubits as a task DAG.

A *protocol* is a tree whose leaves generate elementary links and whose inner nodes swap
(``F = F1·F2 + (1−F1)(1−F2)/3``) or distil (BBPSSW in Werner form) pairs. Following the
Entanglement Swap Scheduling Search of Skrzypczyk & Wehner (2021, after Van Meter et al.), a
path is split recursively at a pivot node; the pivot moves towards the slower side until the
left and right sub-protocols are balanced. When the fidelity asked of a (sub-)path cannot be
met directly, distillation is inserted: *pumping* (the accumulated pair is distilled with a
fresh copy, ``rounds`` times) or *nested* recurrence (two copies of the same level). The
fidelity a sub-protocol must reach is found by inverting the swap and distillation maps.

The chosen tree is expanded into a DAG of operations (:class:`Op`: link generation, swap,
distil; durations in slots) and mapped onto specific qubits by an ASAP list schedule
(:func:`map_protocol`): link generation occupies one communication qubit at each end for its
window of ``ceil(window_factor / (R·slot))`` slots; the new half moves to a free storage
qubit (or stays in the communication qubit) and is held until the operation that consumes it
ends. The result, a :class:`TaskShape`, is one instance of a periodic task: which qubit is
busy when, relative to the instance start.

Decoherence is applied per stored half with the node's coherence time τ:
``F(t) = 1/4 + (F0 − 1/4)·exp(−t/τ_u)·exp(−t/τ_v)`` (depolarising memories). The *nominal*
fidelity of a shape assumes every link pair is created at the end of its generation window
(the deterministic link model of paper (a)); the search retries with a higher target until
the nominal delivered fidelity, decoherence included, reaches ``F_min``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import networkx as nx
import numpy as np

from .physics import bbpssw, depolarise, fidelity_to_werner, swap_fidelity, werner_to_fidelity

__all__ = [
    "LINK",
    "SWAP",
    "DISTILL",
    "SearchParams",
    "Link",
    "Swap",
    "Distill",
    "Op",
    "TaskShape",
    "Plan",
    "window_slots",
    "unswap_fidelity",
    "distilled_fidelity",
    "required_input_fidelity",
    "expand",
    "map_protocol",
    "evaluate",
    "success_probability",
    "search_protocol",
    "describe",
]

LINK, SWAP, DISTILL = "link", "swap", "distill"
SCHEMES = ("pump", "nest")
CREATION = ("start", "end")


@dataclass(frozen=True)
class SearchParams:
    """Timing and search settings.

    Attributes:
        slot_s: slot length (s); every operation takes a whole number of slots.
        window_factor: link generation window = ``window_factor / R`` (paper: 1, the mean
            generation time), rounded up to whole slots.
        swap_slots, distill_slots: durations of a swap and of a distillation (slots).
        swap_success: probability that a swap succeeds (NV: 1).
        max_distill_rounds: most pumping rounds / nesting levels tried per (sub-)path.
        schemes: distillation schemes tried, ``"pump"`` and/or ``"nest"``.
        fidelity_targets: number of fidelity targets in [F_min, 1) the search scans to find
            the protocol that still meets F_min once decoherence is included.
        max_ops: largest protocol (operations per instance) that is mapped and considered.
        plan_creation: when a link pair is assumed created within its window for planning:
            ``"start"`` (worst case: every delivered pair is then guaranteed >= F_min under
            heralded generation) or ``"end"`` (the deterministic model of paper (a)).
    """

    slot_s: float = 0.01
    window_factor: float = 1.0
    swap_slots: int = 1
    distill_slots: int = 1
    swap_success: float = 1.0
    max_distill_rounds: int = 2
    schemes: tuple[str, ...] = SCHEMES
    fidelity_targets: int = 16
    plan_creation: str = "start"
    max_ops: int = 256

    def __post_init__(self) -> None:
        if not (self.slot_s > 0 and math.isfinite(self.slot_s)):
            raise ValueError(f"slot_s: must be a positive number of seconds (got {self.slot_s!r})")
        if not (self.window_factor > 0 and math.isfinite(self.window_factor)):
            raise ValueError(f"window_factor: must be > 0 (got {self.window_factor!r})")
        for name in ("swap_slots", "distill_slots"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1 slot (got {v!r})")
        if not 0 < self.swap_success <= 1:
            raise ValueError(f"swap_success: must be in (0, 1] (got {self.swap_success!r})")
        if not 0 <= self.max_distill_rounds <= 6:
            raise ValueError(
                f"max_distill_rounds: must be in 0..6 (got {self.max_distill_rounds!r})"
            )
        if not 1 <= self.fidelity_targets <= 200:
            raise ValueError(f"fidelity_targets: must be in 1..200 (got {self.fidelity_targets!r})")
        if self.plan_creation not in CREATION:
            raise ValueError(f"plan_creation: unknown {self.plan_creation!r} (allowed: start, end)")
        bad = set(self.schemes) - set(SCHEMES)
        if bad:
            raise ValueError(f"schemes: unknown {sorted(bad)} (allowed: {', '.join(SCHEMES)})")


# -- protocol trees ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Link:
    """Generate an elementary pair over edge (u, v) with capability (fidelity, rate_hz)."""

    u: Any
    v: Any
    fidelity: float
    rate_hz: float
    slots: int

    @property
    def ends(self) -> tuple:
        return (self.u, self.v)

    @property
    def est(self) -> int:
        return self.slots

    @property
    def size(self) -> int:
        return 1


@dataclass(frozen=True, eq=False)
class Swap:
    """Swap at ``node`` the pairs (a, node) and (node, b) into (a, b)."""

    node: Any
    left: Protocol
    right: Protocol
    fidelity: float
    est: int
    size: int

    @property
    def ends(self) -> tuple:
        return (self.left.ends[0], self.right.ends[1])


@dataclass(frozen=True, eq=False)
class Distill:
    """Distil ``first`` with ``second`` (same ends) by BBPSSW; ``scheme`` is pump or nest."""

    first: Protocol
    second: Protocol
    scheme: str
    fidelity: float
    est: int
    size: int

    @property
    def ends(self) -> tuple:
        return self.first.ends


Protocol = Link | Swap | Distill


def window_slots(rate_hz: float, params: SearchParams) -> int:
    """Generation window ``ceil(window_factor / (R·slot))`` slots (>= 1)."""
    return max(1, math.ceil(params.window_factor / (rate_hz * params.slot_s) * (1 - 1e-9)))


def _swap(node, left: Protocol, right: Protocol, params: SearchParams) -> Swap:
    f = float(swap_fidelity(left.fidelity, right.fidelity))
    est = max(left.est, right.est) + params.swap_slots
    return Swap(node, left, right, f, est, left.size + right.size + 1)


def _distill(first: Protocol, second: Protocol, scheme: str, params: SearchParams) -> Distill:
    f = float(bbpssw(first.fidelity, second.fidelity)[1])
    # both inputs use the same two nodes' communication qubits: estimate them as sequential
    est = first.est + second.est + params.distill_slots
    return Distill(first, second, scheme, f, est, first.size + second.size + 1)


def _wrap(base: Protocol, scheme: str | None, rounds: int, params: SearchParams) -> Protocol:
    """``rounds`` pumping steps (distil with a fresh ``base``) or nesting levels."""
    acc = base
    for _ in range(rounds):
        acc = _distill(acc, base if scheme == "pump" else acc, scheme, params)
    return acc


def describe(p: Protocol) -> str:
    """Compact text form, e.g. ``S1(L0-1,D(L1-2,L1-2))``."""
    if isinstance(p, Link):
        return f"L{p.u}-{p.v}"
    if isinstance(p, Swap):
        return f"S{p.node}({describe(p.left)},{describe(p.right)})"
    return f"D{p.scheme[0]}({describe(p.first)},{describe(p.second)})"


# -- fidelity algebra (inverse maps; forward maps are in quantum.physics) ------------------------
def unswap_fidelity(f_target: float) -> float:
    """Fidelity ``x`` both inputs need so that swapping two Werner pairs of fidelity ``x``
    gives ``f_target``: ``w_x = sqrt(w_target)`` since swapping multiplies Werner parameters."""
    w = float(fidelity_to_werner(f_target))
    if w <= 0:
        return 0.25
    return float(werner_to_fidelity(math.sqrt(w)))


def distilled_fidelity(x, rounds: int, scheme: str):
    """Fidelity after ``rounds`` BBPSSW steps from Werner pairs of fidelity ``x`` (scalar or
    array): pumping ``F_{k+1} = BBPSSW(F_k, x)`` or nesting ``F_{k+1} = BBPSSW(F_k, F_k)``."""
    f = x
    for _ in range(rounds):
        f = bbpssw(f, x if scheme == "pump" else f)[1]
    return f


_GRID = np.linspace(0.5, 1.0, 500_001)


@lru_cache(maxsize=32)
def _distill_curve(rounds: int, scheme: str) -> np.ndarray:
    """``distilled_fidelity`` on a fine grid of input fidelities in [1/2, 1], made monotone
    (running maximum) for inversion by binary search."""
    return np.maximum.accumulate(distilled_fidelity(_GRID, rounds, scheme))


def required_input_fidelity(f_target: float, rounds: int, scheme: str) -> float | None:
    """Smallest input fidelity ``x`` in [1/2, 1] whose ``rounds``-step distillation reaches
    ``f_target`` (on a grid of step 1e-6, rounded up); ``None`` if even ``x = 1`` falls
    short. ``rounds = 0`` returns ``f_target``."""
    if rounds == 0:
        return f_target
    curve = _distill_curve(rounds, scheme)
    i = int(np.searchsorted(curve, f_target - 1e-12, side="left"))
    return None if i >= curve.size else float(_GRID[i])


# -- the task DAG and its mapping onto qubits ----------------------------------------------------
@dataclass(frozen=True)
class Op:
    """One operation of a task: link generation, swap or distillation.

    ``ends`` is the pair it produces, ``inputs`` the ops whose pairs it consumes, ``duration``
    its length in slots, ``fidelity`` the link's F0 (links) or the nominal output fidelity
    without decoherence, ``rate_hz`` the link's generation rate (0 for other ops).
    """

    index: int
    kind: str
    ends: tuple
    node: Any
    inputs: tuple[int, ...]
    duration: int
    fidelity: float
    rate_hz: float = 0.0


def expand(tree: Protocol, params: SearchParams) -> tuple[Op, ...]:
    """Post-order expansion of a protocol tree into ops (inputs always precede consumers;
    a subtree used twice, as in pumping, becomes two independent copies)."""
    ops: list[Op] = []

    def visit(p: Protocol) -> int:
        if isinstance(p, Link):
            ops.append(Op(len(ops), LINK, p.ends, None, (), p.slots, p.fidelity, p.rate_hz))
        elif isinstance(p, Swap):
            i, j = visit(p.left), visit(p.right)
            ops.append(Op(len(ops), SWAP, p.ends, p.node, (i, j), params.swap_slots, p.fidelity))
        else:
            i, j = visit(p.first), visit(p.second)
            ops.append(
                Op(len(ops), DISTILL, p.ends, None, (i, j), params.distill_slots, p.fidelity)
            )
        return len(ops) - 1

    visit(tree)
    return tuple(ops)


Qubit = tuple  # (node, "c" | "s", index)


@dataclass(frozen=True, eq=False)
class TaskShape:
    """One instance of a task mapped onto qubits (times in slots, relative to its start).

    Attributes:
        ops: the operations in topological order.
        start: ASAP start slot of each op.
        gen_qubits: communication qubits ``(q_u, q_v)`` a link op generates with (else None).
        hold_qubits: qubits ``(q_u, q_v)`` holding the pair an op produces.
        consumer: the op consuming each op's pair (-1 for the final op).
        taus: coherence times ``(τ_u, τ_v)`` (s) of the nodes holding each op's pair.
        makespan: slots from the first op's start to the last op's end.
        creation: planning assumption for link pairs, created at the window ``"start"``
            (worst case) or ``"end"``; used by :func:`evaluate` when no times are given.
    """

    ops: tuple[Op, ...]
    start: tuple[int, ...]
    gen_qubits: tuple
    hold_qubits: tuple
    consumer: tuple[int, ...]
    taus: tuple
    makespan: int
    durations: np.ndarray = field(repr=False)
    creation: str = "start"

    @property
    def ends(self) -> tuple:
        return self.ops[-1].ends

    def intervals(self, start=None) -> list[tuple[Qubit, int, int]]:
        """Busy intervals ``(qubit, a, b)`` (slots ``a <= t < b``) for op starts ``start``
        (default: the ASAP mapping); adjacent intervals on a qubit are merged."""
        raw: dict[Qubit, list[list[int]]] = {}
        for q, a, b in self.raw_intervals(start):
            raw.setdefault(q, []).append([a, b])
        out = []
        for q in sorted(raw, key=repr):
            merged: list[list[int]] = []
            for a, b in sorted(raw[q]):
                if merged and a <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            out.extend((q, a, b) for a, b in merged)
        return out

    @property
    def qubits(self) -> tuple[Qubit, ...]:
        return tuple(sorted({q for q, _, _ in self.intervals()}, key=repr))

    def raw_intervals(self, start=None) -> list[tuple[Qubit, int, int]]:
        """Unmerged busy intervals (for checking that no qubit is used twice at once)."""
        s = self.start if start is None else [int(x) for x in start]
        uses = _qubit_uses(self.ops, s, self.gen_qubits, self.hold_qubits, self.consumer)
        return [(q, a, b) for q, a, b, _k in uses]


def _node_qubits(g: nx.Graph, n) -> tuple[list[Qubit], list[Qubit]]:
    data = g.nodes[n]
    comm, storage = int(data.get("comm_qubits", 0)), int(data.get("storage_qubits", 0))
    if comm < 1:
        raise ValueError(f"node {n!r}: has {comm} communication qubits; at least 1 is needed")
    return [(n, "c", i) for i in range(comm)], [(n, "s", i) for i in range(storage)]


def map_protocol(ops: tuple[Op, ...], g: nx.Graph, creation: str = "start") -> TaskShape | None:
    """ASAP list schedule of ``ops`` onto the qubits of ``g`` (priority: op order).

    Returns ``None`` when the nodes' memories cannot hold the pairs the protocol needs at
    the same time (the schedule deadlocks).
    """
    k_ops = len(ops)
    nodes = sorted(
        {n for op in ops for n in op.ends} | {op.node for op in ops if op.kind == SWAP}, key=repr
    )
    comm, stor = {}, {}
    for n in nodes:
        comm[n], stor[n] = _node_qubits(g, n)
    inf = math.inf
    free_at: dict[Qubit, float] = {q: 0 for n in nodes for q in comm[n] + stor[n]}
    consumer = [-1] * k_ops
    missing = [len(op.inputs) for op in ops]
    for op in ops:
        for i in op.inputs:
            consumer[i] = op.index
    start, end = [-1] * k_ops, [-1] * k_ops
    gen: list = [None] * k_ops
    hold: list = [None] * k_ops
    ready = [k for k in range(k_ops) if missing[k] == 0]
    running: list[int] = []
    finished = 0
    t = 0
    while True:
        for k in sorted(k for k in running if end[k] == t):
            op = ops[k]
            if op.kind == LINK:
                held = []
                for n, cq in zip(op.ends, gen[k], strict=True):
                    sq = next((q for q in stor[n] if free_at[q] <= t), None)
                    if sq is None:
                        held.append(cq)  # stays in the communication qubit
                    else:
                        free_at[sq], free_at[cq] = inf, t
                        held.append(sq)
                hold[k] = tuple(held)
            elif op.kind == SWAP:
                i, j = op.inputs
                free_at[hold[i][1]] = free_at[hold[j][0]] = t
                hold[k] = (hold[i][0], hold[j][1])
            else:
                i, j = op.inputs
                for q in hold[j]:
                    free_at[q] = t
                hold[k] = hold[i]
            finished += 1
            running.remove(k)
            c = consumer[k]
            if c >= 0:
                missing[c] -= 1
                if missing[c] == 0:
                    ready.append(c)
        if finished == k_ops:
            break
        ready.sort()
        still = []
        for k in ready:
            op = ops[k]
            if op.kind == LINK:
                cu = next((q for q in comm[op.ends[0]] if free_at[q] <= t), None)
                cv = next((q for q in comm[op.ends[1]] if free_at[q] <= t), None)
                if cu is None or cv is None:
                    still.append(k)
                    continue
                free_at[cu] = free_at[cv] = inf
                gen[k] = (cu, cv)
            start[k], end[k] = t, t + op.duration
            running.append(k)
        ready = still
        if not running:
            return None
        t = min(end[k] for k in running)
    start = _delay_links(ops, start, gen, hold, consumer)
    taus = tuple(
        (float(g.nodes[op.ends[0]]["coherence_s"]), float(g.nodes[op.ends[1]]["coherence_s"]))
        for op in ops
    )
    return TaskShape(
        ops=ops,
        start=tuple(start),
        gen_qubits=tuple(gen),
        hold_qubits=tuple(hold),
        consumer=tuple(consumer),
        taus=taus,
        makespan=max(end),
        durations=np.array([op.duration for op in ops], dtype=np.int64),
        creation=creation,
    )


def _qubit_uses(ops, start, gen, hold, consumer):
    """``(qubit, a, b, op)``: generation windows and the holding of each op's output pair."""
    for k, op in enumerate(ops):
        e = start[k] + op.duration
        if op.kind == LINK:
            for q in gen[k]:
                yield q, start[k], e, k
        c = consumer[k]
        if c >= 0:
            for q in hold[k]:
                yield q, e, start[c] + ops[c].duration, k


def _delay_links(ops, start, gen, hold, consumer) -> list[int]:
    """ALAP pass (paper (a): shift the ASAP schedule to cut storage time): each link
    generation moves as late as its consumer and the next use of its communication qubits
    allow, latest first. Holding intervals only shrink, so the mapping stays valid."""
    start = list(start)
    links = sorted(
        (k for k, op in enumerate(ops) if op.kind == LINK and consumer[k] >= 0),
        key=lambda k: -start[k],
    )
    uses: dict[Qubit, list[tuple[int, int]]] = {}
    for q, a, _b, owner in _qubit_uses(ops, start, gen, hold, consumer):
        uses.setdefault(q, []).append((a, owner))
    for k in links:
        dur = ops[k].duration
        latest_end = start[consumer[k]]
        for q in gen[k]:
            if q in hold[k]:
                continue  # the half stays in this qubit until it is consumed
            # start times of later uses are those of the ASAP schedule: they only move later,
            # so this bound is conservative and the shifted mapping stays valid
            later = [a for a, owner in uses[q] if owner != k and a >= start[k] + dur]
            if later:
                latest_end = min(latest_end, min(later))
        start[k] = max(start[k], latest_end - dur)
    return start


def _decay(f, dt_s, taus):
    """Both halves of a pair decay in their own memories (``depolarise`` per qubit)."""
    return depolarise(depolarise(f, dt_s, taus[0], 1), dt_s, taus[1], 1)


def evaluate(
    shape: TaskShape,
    slot_s: float,
    start=None,
    created_s=None,
    swap_ok=None,
    distill_u=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Outcome of ``J`` instances of ``shape``, vectorised over instances.

    Args:
        start: ``(J, K)`` op start slots (default: the shape's own, ``J = 1``).
        created_s: ``(J, K)`` creation times (s) of link pairs, NaN where generation failed
            (default: the start or end of each window, per ``shape.creation``).
        swap_ok: ``(J, K)`` booleans, swap outcomes (default: all succeed).
        distill_u: ``(J, K)`` uniforms; distillation ``k`` succeeds when ``u < p_k`` with the
            BBPSSW probability of its actual inputs (default: all succeed).

    Returns:
        ``(success, fidelity)``, each ``(J,)``; fidelity of the delivered pair at the end of
        the last op (NaN where the instance failed). Pairs decay from creation until the end
        of the op consuming them.
    """
    ok, fid, _p = _propagate(shape, slot_s, start, created_s, swap_ok, distill_u)
    return ok, fid


def _propagate(shape, slot_s, start, created_s, swap_ok, distill_u):
    """:func:`evaluate` plus the product of the BBPSSW success probabilities."""
    s = np.atleast_2d(np.asarray(shape.start if start is None else start, dtype=float))
    end_s = (s + shape.durations[None, :]) * slot_s
    n_inst = s.shape[0]
    fid: list = [None] * len(shape.ops)
    t_ref: list = [None] * len(shape.ops)
    ok: list = [None] * len(shape.ops)
    p_distill = np.ones(n_inst)
    for k, op in enumerate(shape.ops):
        if op.kind == LINK:
            if created_s is not None:
                t0 = np.asarray(created_s, dtype=float)[:, k]
            elif shape.creation == "start":
                t0 = s[:, k] * slot_s
            else:
                t0 = end_s[:, k]
            fid[k] = np.full(n_inst, op.fidelity)
            t_ref[k] = t0
            ok[k] = np.isfinite(t0)
            continue
        i, j = op.inputs
        te = end_s[:, k]
        with np.errstate(invalid="ignore"):
            fi = _decay(fid[i], te - t_ref[i], shape.taus[i])
            fj = _decay(fid[j], te - t_ref[j], shape.taus[j])
        good = ok[i] & ok[j]
        if op.kind == SWAP:
            fid[k] = swap_fidelity(fi, fj)
            if swap_ok is not None:
                good = good & np.asarray(swap_ok, dtype=bool)[:, k]
        else:
            p, fid[k] = bbpssw(fi, fj)
            p_distill = p_distill * p
            if distill_u is not None:
                good = good & (np.asarray(distill_u, dtype=float)[:, k] < p)
        t_ref[k] = te
        ok[k] = good
    last = len(shape.ops) - 1
    with np.errstate(invalid="ignore"):  # delivered at the end of the last op
        f_out = _decay(fid[last], end_s[:, last] - t_ref[last], shape.taus[last])
    return ok[last], np.where(ok[last], f_out, np.nan), p_distill


def success_probability(shape: TaskShape, params: SearchParams) -> float:
    """Probability that one instance delivers a pair: every link succeeds within its window
    (``1 − exp(−R·W·slot)``, generation time ~ Exp(R)), every swap succeeds, and every
    distillation succeeds with its BBPSSW probability at the planned input fidelities."""
    p = float(_propagate(shape, params.slot_s, None, None, None, None)[2][0])
    for op in shape.ops:
        if op.kind == LINK:
            p *= 1.0 - math.exp(-op.rate_hz * op.duration * params.slot_s)
        elif op.kind == SWAP:
            p *= params.swap_success
    return p


# -- the search ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Plan:
    """A demand's chosen protocol: the path, the tree, its qubit mapping, the nominal
    delivered fidelity (decoherence included) and the per-instance success probability."""

    path: tuple
    tree: Protocol
    shape: TaskShape
    fidelity: float
    p_success: float

    @property
    def makespan(self) -> int:
        return self.shape.makespan


_F_GRID = 100_000


class _Esss:
    """Memoised recursive search over sub-paths."""

    def __init__(self, g: nx.Graph, params: SearchParams):
        self.g, self.p = g, params
        self.cache: dict = {}
        self.links: dict = {}
        self.options = [
            (s, r) for s in params.schemes for r in range(1, params.max_distill_rounds + 1)
        ]

    def _links(self, u, v) -> list[Link]:
        key = (u, v)
        if key not in self.links:
            caps = self.g.edges[u, v].get("capabilities")
            if not caps:
                raise ValueError(f"edge {u}-{v}: no link 'capabilities' attached")
            self.links[key] = [
                Link(u, v, float(f), float(r), window_slots(r, self.p)) for f, r in caps
            ]
        return self.links[key]

    def _best_link(self, u, v, f_needed: float) -> Link | None:
        ok = [lk for lk in self._links(u, v) if lk.fidelity >= f_needed - 1e-12]
        return min(ok, key=lambda lk: (lk.slots, -lk.fidelity)) if ok else None

    def _lower_bound(self, path: tuple) -> int:
        """Lower bound on any protocol's estimate for ``path``: the slowest edge's fastest
        window plus a swap per level of a balanced tree."""
        slowest = max(
            min(lk.slots for lk in self._links(u, v)) for u, v in zip(path, path[1:], strict=False)
        )
        return slowest + math.ceil(math.log2(len(path) - 1)) * self.p.swap_slots

    def candidates(self, path: tuple, f_target: float, top: bool = False) -> list[Protocol]:
        """Protocols for ``path`` reaching ``f_target`` (no decoherence), fastest first.

        Targets are rounded up to a grid of 1e-5 (a conservative request) so that the many
        nearby targets of a recursive search share their sub-results."""
        f_q = math.ceil(f_target * _F_GRID - 1e-6) / _F_GRID
        key = (path, f_q, top)
        if key not in self.cache:
            self.cache[key] = self._search(path, f_q, top) if f_q <= 1.0 else []
        return self.cache[key]

    def _search(self, path: tuple, f_target: float, top: bool) -> list[Protocol]:
        out: list[Protocol] = []
        if len(path) == 2:
            direct = self._best_link(path[0], path[1], f_target)
            if direct is not None:
                out.append(direct)
            for scheme, rounds in self.options:
                x = required_input_fidelity(f_target, rounds, scheme)
                base = None if x is None else self._best_link(path[0], path[1], x)
                if base is not None:
                    out.append(_wrap(base, scheme, rounds, self.p))
        else:
            lo, hi = 1, len(path) - 2
            lb = self._lower_bound(path)
            best_est = None
            while lo <= hi:
                m = (lo + hi) // 2
                best = None
                for scheme, rounds in [(None, 0), *self.options]:
                    # below the top level only the fastest candidate is used: skip options
                    # whose estimate cannot beat the best found (est >= (rounds + 1)·lb)
                    if not top and best_est is not None and (rounds + 1) * lb >= best_est:
                        continue
                    f_swap = (
                        required_input_fidelity(f_target, rounds, scheme) if rounds else f_target
                    )
                    if f_swap is None:
                        continue
                    f_each = unswap_fidelity(f_swap)
                    left = self.candidates(path[: m + 1], f_each)
                    right = self.candidates(path[m:], f_each) if left else []
                    if not right:
                        continue
                    cand = _wrap(_swap(path[m], left[0], right[0], self.p), scheme, rounds, self.p)
                    out.append(cand)
                    best_est = cand.est if best_est is None else min(best_est, cand.est)
                    if best is None or cand.est < best[0].est:
                        best = (cand, left[0].est, right[0].est)
                if best is None:
                    break
                _, est_l, est_r = best
                if est_l == est_r:
                    break
                if est_l > est_r:
                    hi = m - 1  # left side slower: shorten it
                else:
                    lo = m + 1
        out = [p for p in out if p.fidelity >= f_target - 1e-9]
        out.sort(key=lambda p: (p.est, -p.fidelity))
        return out


def search_protocol(
    g: nx.Graph,
    path,
    f_min: float,
    params: SearchParams | None = None,
    max_slots: int | None = None,
) -> Plan | None:
    """The fastest protocol (smallest makespan, then highest fidelity) on ``path`` whose
    nominal delivered fidelity, decoherence included, is at least ``f_min``; ``None`` if the
    links, memories or ``max_slots`` make it impossible.

    Raises:
        ValueError: ``f_min`` outside (0.25, 1], a path of fewer than two nodes, a path that
            is not a walk on ``g``, or a node without communication qubits.
    """
    params = params or SearchParams()
    if not (isinstance(f_min, int | float) and 0.25 < f_min <= 1.0):
        raise ValueError(f"f_min: must be in (0.25, 1] (got {f_min!r})")
    path = tuple(path)
    if len(path) < 2:
        raise ValueError(f"path: needs at least two nodes (got {list(path)})")
    for u, v in zip(path, path[1:], strict=False):
        if not g.has_edge(u, v):
            raise ValueError(f"path: {u!r}-{v!r} is not an edge of the network")
    for n in path:
        _node_qubits(g, n)
    search = _Esss(g, params)
    # Decoherence makes the best target non-monotone: stronger links take longer windows and
    # make the other pairs wait. Scan targets from F_min towards 1 and keep the fastest
    # protocol whose nominal delivered fidelity still reaches F_min.
    best = None
    for f_target in np.linspace(f_min, 1.0, params.fidelity_targets, endpoint=False):
        trees = search.candidates(path, float(f_target), top=True)
        if not trees:
            break  # a higher target is unreachable too
        if best is not None and trees[0].est >= best[0].makespan:
            break  # every remaining protocol is estimated slower than the best found
        for tree in trees:
            if tree.size > params.max_ops or (max_slots is not None and tree.est > max_slots):
                continue
            shape = map_protocol(expand(tree, params), g, params.plan_creation)
            if shape is None or (max_slots is not None and shape.makespan > max_slots):
                continue
            f = float(evaluate(shape, params.slot_s)[1][0])
            if f >= f_min and (best is None or (shape.makespan, -f) < (best[0].makespan, -best[1])):
                best = (shape, f, tree)
    if best is None:
        return None
    shape, f, tree = best
    return Plan(path, tree, shape, f, success_probability(shape, params))
