"""Per-TTI schedulers of the sliced gNB, compiled with numba: one loop over TTIs and UEs.

Inter-slice: each slice owns a fixed number of RBGs for the block. Intra-slice, every TTI,
the slice's RBGs go to its UEs, never more than a UE needs to empty its buffer
(work-conserving); a UE's need is the fewest RBGs whose transport block (36.213 TBS table)
holds its backlog. The policies (SCOPE/Colosseum offer RR, WF and PF; the definitions below
are ours):

* ``rr`` round-robin - RBGs dealt one at a time in cyclic order starting at a pointer that
  advances every TTI: the integer max-min fair split of the RBGs over the needs;
* ``wf`` water-filling - RBGs poured into UEs in decreasing order of spectral efficiency
  (bits per RBG at the current MCS), each up to its need: the throughput-maximising fill;
* ``pf`` proportional fair - the same fill in decreasing order of ``r_u(t) / R̄_u(t)``
  (Kelly; Jalali, Padovani & Pankaj, VTC 2000) with ``R̄_u`` the UE's average throughput
  (bits/TTI), updated every TTI by Jalali's exponential average
  ``R̄_u(t+1) = (1 - 1/t_c) R̄_u(t) + (1/t_c) s_u(t)`` over the bits ``s_u(t)`` served in
  TTI ``t`` (0 when not served), ``t_c =`` :data:`PF_WINDOW_TTI` TTIs (ns-3's
  ``PfFfMacScheduler`` uses a 99-TTI window). Every UE's average is updated in every TTI,
  so a backlogged UE that is not served sees its priority rise within the block.

eMBB UEs size their need with ``3g - 1`` PRBs, so that a UE granted its need empties its
buffer even when it holds the 2-PRB RBG (which goes to the eMBB UE with most RBGs when the
slice is fully used). A UE is served ``min(backlog, TBS(I_TBS, PRBs))`` bits when its block
is decoded, nothing otherwise (the bits stay queued for the HARQ retransmission).

:func:`schedule_slice` is the only implementation of one TTI of a slice (slices do not
interact within a TTI); :func:`schedule_block` runs it over a block and keeps every per-TTI
array (the tests hold it to a literal TTI-by-TTI reference), and the gNB's period kernel
(:mod:`.period`) runs it and keeps only the sums a KPM report needs. Ties in WF/PF go to the
lower UE index.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from .phy import N_PRB, N_RBG, RBG_PRBS, RBG_SIZE, rbg_capacity_table, tbs_table

__all__ = [
    "POLICIES",
    "POLICY_CODE",
    "PF_WINDOW_TTI",
    "PF_BETA",
    "UL_PRBS",
    "need_table",
    "rbgs_needed",
    "allocate",
    "schedule_slice",
    "BlockResult",
    "schedule_block",
]

POLICIES = ("rr", "wf", "pf")
#: numeric code of each policy (as in SCOPE's ``scheduling_policy`` column)
POLICY_CODE = {p: i for i, p in enumerate(POLICIES)}
RR, WF, PF = 0, 1, 2
#: PRBs available to PUSCH (50 minus 4 at the band edges for PUCCH)
UL_PRBS = 46
_SHORT = RBG_SIZE - int(RBG_PRBS[-1])  # PRBs missing from the short RBG
_EMBB = 2  # the slice that holds the short RBG
_PF_FLOOR = 1e-9  # PF divides by max(average throughput, this)
#: time constant t_c of the PF average (TTIs), and its per-TTI weight 1/t_c
PF_WINDOW_TTI = 100
PF_BETA = 1.0 / PF_WINDOW_TTI


@lru_cache(maxsize=1)
def need_table() -> np.ndarray:
    """``[short, i_tbs, g]`` -> bits carried by ``g`` RBGs (g = 0..17) at TBS index 0..26:
    ``TBS(I_TBS, min(3g, 50))``, or ``TBS(I_TBS, 3g - 1)`` for ``short`` (eMBB) UEs."""
    g = np.arange(N_RBG + 1)
    tbs = tbs_table()[:27]
    full = tbs[:, np.minimum(RBG_SIZE * g, N_PRB)]
    short = tbs[:, np.maximum(RBG_SIZE * g - _SHORT, 0)]
    table = np.ascontiguousarray(np.stack([full, short]))
    table.setflags(write=False)
    return table


# constants compiled into the kernels
_TBS = np.ascontiguousarray(tbs_table())  # row -1: no transmission
_NEED = need_table()
_RATE = np.ascontiguousarray(rbg_capacity_table()[:, 1]).astype(np.float64)  # bits per RBG


@njit(cache=True, inline="always")
def _need(demand_bits, i_tbs, short):
    """Fewest RBGs whose transport block holds ``demand_bits`` (17 when even the whole
    carrier cannot, 0 for no demand or no MCS), by a scan of the capacities: backlogs are
    mostly a packet or two, or more than the carrier."""
    if i_tbs < 0 or demand_bits <= 0:
        return 0
    row = _NEED[short, i_tbs]
    if row[N_RBG] < demand_bits:
        return N_RBG
    g = 1
    while row[g] < demand_bits:
        g += 1
    return g


@njit(cache=True)
def _need_many(demand, i_tbs, short):
    out = np.empty(demand.size, dtype=np.int64)
    for j in range(demand.size):
        out[j] = _need(demand[j], i_tbs[j], short[j])
    return out


def rbgs_needed(demand_bits, i_tbs, short=False) -> np.ndarray:
    """Fewest RBGs ``g`` (0..17) whose transport block holds ``demand_bits``:
    ``TBS(I_TBS, 3g)``, or ``TBS(I_TBS, 3g - 1)`` where ``short`` (eMBB UEs, which may hold
    the 2-PRB RBG). 17 when even the whole carrier cannot, 0 for no demand or no MCS."""
    d, i, s = (np.array(x, dtype=np.int64) for x in np.broadcast_arrays(demand_bits, i_tbs, short))
    return _need_many(d.ravel(), i.ravel(), s.ravel()).reshape(d.shape)


@njit(cache=True)
def _share(policy, want, members, s, m, k, start, prio, order, alloc):
    """RBGs of slice ``s`` in a TTI where the wants of its ``m`` UEs ``members[s, :m]``
    (each <= k) exceed its ``k`` RBGs: RR deals them one at a time from member ``start``,
    WF/PF fill the UEs in decreasing ``prio``. Writes ``alloc``; ``order`` is scratch."""
    for j in range(m):
        alloc[members[s, j]] = 0
    left = k
    if policy == RR:  # every RBG finds a taker: the wants exceed k
        j = start
        while left > 0:
            u = members[s, j]
            if alloc[u] < want[u]:
                alloc[u] += 1
                left -= 1
            j = j + 1 if j + 1 < m else 0
        return
    for j in range(m):  # stable insertion sort by decreasing priority
        u = members[s, j]
        i = j
        while i > 0 and prio[order[i - 1]] < prio[u]:
            order[i] = order[i - 1]
            i -= 1
        order[i] = u
    for j in range(m):
        u = order[j]
        g = want[u] if want[u] < left else left
        alloc[u] = g
        left -= g


@njit(cache=True, inline="always")
def schedule_slice(t, s, members, m, k, policy, demand, i_tbs, decoded, avg, need, want, prio,
                   order, alloc, prbs, served):
    """One TTI of slice ``s`` (``k`` RBGs, its ``m`` UEs ``members[s, :m]``): needs,
    allocation, PRBs and bits served. ``demand[u]`` is the UE's backlog plus this TTI's
    arrivals (bits) and ``t`` the global TTI index (RR pointer ``t mod m``). Writes ``need``,
    ``alloc``, ``prbs`` and ``served``; ``want``, ``prio`` and ``order`` are scratch."""
    short = 1 if s == _EMBB else 0
    total = 0
    for j in range(m):
        u = members[s, j]
        q = _need(demand[u], i_tbs[u], short)
        need[u] = q
        w = q if q < k else k
        want[u] = w
        alloc[u] = w
        total += w
    if total > k:
        for j in range(m):
            u = members[s, j]
            if policy == WF:
                prio[u] = _RATE[i_tbs[u]]
            elif policy == PF:
                prio[u] = _RATE[i_tbs[u]] / max(avg[u], _PF_FLOOR)
        _share(policy, want, members, s, m, k, t % m, prio, order, alloc)
        total = k
    top = members[s, 0]
    for j in range(m):
        u = members[s, j]
        prbs[u] = RBG_SIZE * alloc[u]
        if alloc[u] > alloc[top]:
            top = u
    if short and total == k:
        prbs[top] -= _SHORT
    for j in range(m):
        u = members[s, j]
        served[u] = min(demand[u], _TBS[i_tbs[u], prbs[u]]) if decoded[u] else 0


def slice_members(slice_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(members, counts)``: the UEs of each slice in index order, ``members[s, :counts[s]]``."""
    slice_of = np.asarray(slice_of, dtype=np.int64)
    members = np.zeros((3, max(slice_of.size, 1)), dtype=np.int64)
    counts = np.zeros(3, dtype=np.int64)
    for s in range(3):
        idx = np.flatnonzero(slice_of == s)
        members[s, : idx.size] = idx
        counts[s] = idx.size
    return members, counts


def policy_codes(policies) -> np.ndarray:
    """Codes (0 rr, 1 wf, 2 pf) of per-slice policy names; ValueError for an unknown one."""
    for p in policies:
        if p not in POLICY_CODE:
            raise ValueError(f"scheduler: unknown policy {p!r} (allowed: {', '.join(POLICIES)})")
    return np.array([POLICY_CODE[p] for p in policies], dtype=np.int64)


def allocate(policy: str, want, k: int, start: int = 0, priority=None) -> np.ndarray:
    """RBGs of one slice in one TTI for UEs wanting ``want`` (each capped at ``k``) under
    ``policy``: all wants when they fit in ``k``; otherwise ``rr`` deals the RBGs one at a time
    in cyclic order from UE ``start``, ``wf``/``pf`` fill the UEs in decreasing
    ``priority`` (ties: lower index first)."""
    code = int(policy_codes([policy])[0])
    want = np.minimum(np.asarray(want, dtype=np.int64), k)
    if want.sum() <= k:
        return want
    m = want.size
    prio = np.zeros(m) if priority is None else np.asarray(priority, dtype=np.float64)
    alloc = np.zeros(m, dtype=np.int64)
    _share(code, want, np.arange(m)[None], 0, m, int(k), int(start) % m, prio,
           np.zeros(m, dtype=np.int64), alloc)
    return alloc


@dataclass
class BlockResult:
    """Downlink of one block, per (TTI, UE): RBGs granted, PRBs granted, RBGs needed, bits
    served, buffer after the TTI (bits); and per UE the PF average after the block."""

    alloc: np.ndarray
    prbs: np.ndarray
    need: np.ndarray
    served: np.ndarray
    buffer: np.ndarray
    avg: np.ndarray


@njit(cache=True)
def _schedule_block(arrivals, i_tbs, decoded, members, counts, rbgs, policy, b0, avg, t0,
                    beta, alloc, prbs, need, served, buffer):
    n_t, n = arrivals.shape
    b = b0.copy()
    demand = np.empty(n, dtype=np.int64)
    want = np.zeros(n, dtype=np.int64)
    order = np.zeros(n, dtype=np.int64)
    prio = np.zeros(n)
    for t in range(n_t):
        for u in range(n):
            demand[u] = b[u] + arrivals[t, u]
        for s in range(3):
            if counts[s]:
                schedule_slice(t0 + t, s, members, counts[s], rbgs[s], policy[s], demand,
                               i_tbs[t], decoded[t], avg, need[t], want, prio, order, alloc[t],
                               prbs[t], served[t])
        for u in range(n):
            b[u] = demand[u] - served[t, u]
            buffer[t, u] = b[u]
            avg[u] = (1.0 - beta) * avg[u] + beta * served[t, u]


def schedule_block(
    arrivals: np.ndarray,
    i_tbs: np.ndarray,
    decoded: np.ndarray,
    slice_of: np.ndarray,
    rbgs,
    policies,
    b0: np.ndarray,
    avg: np.ndarray,
    t0: int = 0,
    pf_beta: float = PF_BETA,
) -> BlockResult:
    """Schedule a block of TTIs on the downlink, keeping every per-TTI array.

    Args:
        arrivals: bits arriving per (TTI, UE).
        i_tbs: TBS index per (TTI, UE) from the reported CQI (-1: no transmission).
        decoded: whether a transport block sent in that TTI is decoded (else it is lost and
            its bits stay queued for retransmission).
        slice_of: slice index (0 mMTC, 1 URLLC, 2 eMBB) of each UE.
        rbgs: RBGs owned by each slice (the eMBB slice holds the 2-PRB RBG).
        policies: intra-slice policy of each slice ("rr", "wf", "pf").
        b0: buffer of each UE before the block (bits).
        avg: average throughput of each UE (bits/TTI) for PF before the block (not changed).
        t0: global index of the block's first TTI (RR pointer).
        pf_beta: weight ``1/t_c`` of the per-TTI PF average.
    """
    arrivals = np.ascontiguousarray(arrivals, dtype=np.int64)
    shape = arrivals.shape
    members, counts = slice_members(slice_of)
    out = [np.zeros(shape, dtype=np.int64) for _ in range(5)]
    avg = np.array(avg, dtype=np.float64)
    _schedule_block(arrivals, np.ascontiguousarray(i_tbs, dtype=np.int64),
                    np.ascontiguousarray(decoded, dtype=np.bool_), members, counts,
                    np.asarray(rbgs, dtype=np.int64), policy_codes(policies),
                    np.asarray(b0, dtype=np.int64), avg, int(t0), float(pf_beta),
                    *out)
    return BlockResult(*out, avg)
