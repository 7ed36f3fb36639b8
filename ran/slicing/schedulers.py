"""Per-TTI schedulers, computed for a whole block of TTIs at once (vectorised over TTIs and UEs).

Inter-slice: each slice owns a fixed number of RBGs for the block. Intra-slice, every TTI,
the slice's RBGs go to its UEs, never more than a UE needs to empty its buffer
(work-conserving); a UE's need is the fewest RBGs whose transport block (36.213 TBS table)
holds its backlog. The policies (SCOPE/Colosseum offer RR, WF and PF; the definitions below
are ours):

* ``rr`` round-robin - RBGs dealt one at a time in cyclic order starting at a pointer that
  advances every TTI: the integer max-min fair split of the RBGs over the needs;
* ``wf`` water-filling - RBGs poured into UEs in decreasing order of spectral efficiency
  (bits per RBG at the current MCS), each up to its need: the throughput-maximising fill;
* ``pf`` proportional fair - the same fill in decreasing order of ``r_u(t) / R̄_u``
  (Kelly; Jalali, Padovani & Pankaj, VTC 2000) with ``R̄_u`` the UE's average throughput,
  updated once per block.

eMBB UEs size their need with ``3g - 1`` PRBs, so that a UE granted its need empties its
buffer even when it holds the 2-PRB RBG (which goes to the eMBB UE with most RBGs when the
slice is fully used).

How a block is solved exactly without a loop over TTIs (:func:`schedule_block`):

1. Every UE is solved alone as if it could use its whole slice: it is served
   ``min(demand, TBS(slice))``. Buffers follow Lindley's recursion
   ``B_t = max(0, B_{t-1} + a_t - c_t)``, solved for all TTIs at once as
   ``B_t = S_t - min(0, min_{k<=t} S_k)`` with ``S_t = B_0 + Σ_{k<=t} (a_k - c_k)``. This is
   exact in every TTI in which the needs of a slice's UEs fit in its RBGs (each UE then gets
   its need; a lone UE is capped at the slice).
2. From the first TTI where a slice's needs do not fit, its UEs are coupled. Short coupled
   stretches (a few TTIs until the buffers agree with step 1 again, after which step 1 is
   exact again) are stepped TTI by TTI in plain Python; a stretch longer than
   :data:`STEP_LIMIT` TTIs, or a slice overloaded in much of the block (:data:`HEAVY`), is
   finished by a vectorised fixed-point iteration: allocate from
   the buffers, recompute the buffers, until nothing changes. Its fixed point is the
   sequential solution, and each pass makes at least one more TTI exact (the allocation up to
   the first changed TTI came from exact buffers), so it ends within T + 1 passes; in
   practice 2-4.

The TTI-by-TTI reference in the tests reproduces every block bit for bit.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from operator import add, sub, truediv

import numpy as np

from .phy import N_RBG, RBG_PRBS, RBG_SIZE, rbg_capacity_table, tbs_table

__all__ = [
    "POLICIES",
    "lindley",
    "rbgs_needed",
    "round_robin",
    "priority_fill",
    "allocate",
    "BlockResult",
    "schedule_block",
    "uplink_block",
    "UL_PRBS",
]

POLICIES = ("rr", "wf", "pf")
#: PRBs available to PUSCH (50 minus 4 at the band edges for PUCCH)
UL_PRBS = 46
_KEY = 1 << 20  # > largest TBS of the table (36 696 bits)
_SHORT = RBG_SIZE - int(RBG_PRBS[-1])  # PRBs missing from the short RBG
_BIG = np.iinfo(np.int64).max // 4
#: longest coupled stretch stepped TTI by TTI before the fixed-point iteration takes over
STEP_LIMIT = 24
#: a slice overloaded in more than 1/HEAVY of the remaining TTIs goes to the fixed point at once
HEAVY = 8


def lindley(arrivals: np.ndarray, capacity: np.ndarray, b0: np.ndarray):
    """Queue ``B_t = max(0, B_{t-1} + a_t - c_t)`` from ``B_{-1} = b0`` for all t at once.

    Returns ``(buffer, served)``, each shaped like ``arrivals`` (integers stay exact).
    """
    buffer, served, _ = _lindley(arrivals, capacity, b0)
    return buffer, served


def _lindley(arrivals, capacity, b0):
    """:func:`lindley` plus the buffers before each TTI."""
    s = b0 + np.cumsum(arrivals - capacity, axis=0)
    buffer = s - np.minimum(np.minimum.accumulate(s, axis=0), 0)
    prev = np.concatenate([b0[None], buffer[:-1]], axis=0)
    return buffer, prev + arrivals - buffer, prev


@lru_cache(maxsize=1)
def _need_keys() -> tuple[np.ndarray, int]:
    cap = rbg_capacity_table()[:27]  # rows I_TBS 0..26, columns g = 0..17 (3g PRBs)
    g = np.arange(cap.shape[1])
    short = tbs_table()[:27][:, np.maximum(RBG_SIZE * g - _SHORT, 0)]  # 3g - 1 PRBs
    both = np.concatenate([cap, short])
    flat = (np.arange(54)[:, None] * _KEY + both).ravel()
    return flat, cap.shape[1]


def rbgs_needed(demand_bits: np.ndarray, i_tbs: np.ndarray, short=False) -> np.ndarray:
    """Fewest RBGs ``g`` (0..17) whose transport block holds ``demand_bits``:
    ``TBS(I_TBS, 3g)``, or ``TBS(I_TBS, 3g - 1)`` where ``short`` (eMBB UEs, which may hold
    the 2-PRB RBG). 17 when even the whole carrier cannot, 0 for no demand or no MCS."""
    flat, width = _need_keys()
    cap_max = int(rbg_capacity_table()[26, -1])
    row = np.maximum(i_tbs, 0) + 27 * np.asarray(short, dtype=np.int64)
    key = row * _KEY + np.minimum(demand_bits, cap_max + 1)
    g = np.searchsorted(flat, key, side="left") - row * width
    return np.where(i_tbs >= 0, np.minimum(g, N_RBG), 0)


def round_robin(need: np.ndarray, k: int, start: np.ndarray) -> np.ndarray:
    """Deal ``k`` RBGs one at a time to UEs in cyclic order from ``start[t]``, skipping UEs
    whose need is met. Equals the integer max-min fair split: every UE gets ``min(need, L)``
    and the ``R`` leftover RBGs go, one each, to the first unsatisfied UEs in cyclic order."""
    t, n = need.shape
    rows = np.arange(t)[:, None]
    s = np.sort(need, axis=1)
    csum = np.cumsum(s, axis=1)
    i = np.arange(n)
    total_at = csum + (n - 1 - i) * s  # RBGs used if the level were s_i
    k_ok = (total_at <= k).sum(axis=1)  # needs fully served
    done = k_ok == n
    prefix = np.where(k_ok > 0, csum[rows[:, 0], np.maximum(k_ok - 1, 0)], 0)
    level = np.where(done, _BIG, (k - prefix) // np.maximum(n - k_ok, 1))
    base = np.minimum(need, level[:, None])
    left = np.where(done, 0, k - base.sum(axis=1))
    perm = (start[:, None] + i) % n
    elig = need[rows, perm] > level[:, None]
    rank = np.cumsum(elig, axis=1) - elig
    extra = np.empty_like(elig)
    extra[rows, perm] = elig & (rank < left[:, None])
    return base + extra


def priority_fill(need: np.ndarray, k: int, priority: np.ndarray) -> np.ndarray:
    """Fill UEs up to their need in decreasing ``priority`` (ties: lower index first) until
    the ``k`` RBGs are used."""
    rows = np.arange(need.shape[0])[:, None]
    order = np.argsort(-priority, axis=1, kind="stable")
    ns = need[rows, order]
    before = np.cumsum(ns, axis=1) - ns
    out = np.empty_like(need)
    out[rows, order] = np.clip(k - before, 0, ns)
    return out


def allocate(policy: str, need: np.ndarray, k: int, t0: int, rate: np.ndarray, avg: np.ndarray):
    """RBGs per (TTI, UE) of one slice with ``k`` RBGs under ``policy`` (rr, wf, pf).

    ``rate`` is the bits per RBG of each UE per TTI, ``avg`` its average throughput (PF) and
    ``t0`` the index of the block's first TTI (RR pointer)."""
    if policy == "rr":
        return round_robin(need, k, (t0 + np.arange(need.shape[0])) % need.shape[1])
    if policy == "wf":
        return priority_fill(need, k, rate)
    if policy == "pf":
        return priority_fill(need, k, rate / np.maximum(avg, 1e-9))
    raise ValueError(f"scheduler: unknown policy {policy!r} (allowed: {', '.join(POLICIES)})")


@dataclass
class BlockResult:
    """Downlink of one block, per (TTI, UE): RBGs and PRBs granted, RBGs needed, bits served,
    buffer after the TTI (bits); ``passes``: most fixed-point passes of a slice (0 when
    none was needed)."""

    alloc: np.ndarray
    prbs: np.ndarray
    need: np.ndarray
    served: np.ndarray
    buffer: np.ndarray
    passes: int


def _prbs(alloc: np.ndarray, k: int, short: bool) -> np.ndarray:
    """PRBs per UE: 3 per RBG, and when an eMBB slice is fully used its UE with most RBGs
    (lowest index on ties) holds the 2-PRB RBG."""
    prbs = RBG_SIZE * alloc
    if short:
        full = np.flatnonzero(alloc.sum(axis=1) == k)
        prbs[full, np.argmax(alloc[full], axis=1)] -= _SHORT
    return prbs


def _solve_slice(arr, i_tbs, decoded, rate, avg, k, policy, b0, t0, short, prev):
    """Exact downlink of one slice with several UEs over a stretch of TTIs, by the
    fixed-point iteration of the module docstring, from the buffers guess ``prev``
    (``prev[t]`` = buffer before TTI t; ``prev[0]`` must be exact).

    Between passes a UE that got its whole need is given the capacity of the whole slice
    (it may need more next pass); one that did not, the capacity of what it got. Either way
    it is served ``min(demand, capacity)`` exactly when the allocation is right."""
    tbs = tbs_table()
    whole = RBG_SIZE * k - _SHORT * short
    alloc = np.zeros_like(arr)
    short_of = np.zeros(arr.shape, dtype=bool)  # UE got less than it needed
    prbs, need, buffer, served = (np.zeros_like(arr) for _ in range(4))
    prev = prev.copy()
    prev[0] = b0
    first, passes, guess = 0, 0, False
    while True:
        passes += 1
        nd = rbgs_needed(arr[first:] + prev[first:], i_tbs[first:], short)
        capped = np.minimum(nd, k)
        new = allocate(policy, capped, k, t0 + first, rate[first:], avg)
        lack = new < capped
        need[first:] = nd
        if guess:
            diff = ((new != alloc[first:]) | (lack != short_of[first:])).any(axis=1)
            if not diff.any():
                return alloc, prbs, need, served, buffer, passes
            m = int(diff.argmax())  # TTIs before it are final
            first, new, lack = first + m, new[m:], lack[m:]
        guess = True
        alloc[first:] = new
        short_of[first:] = lack
        prbs[first:] = _prbs(new, k, short)
        cap = np.where(decoded[first:], tbs[i_tbs[first:], np.where(lack, prbs[first:], whole)], 0)
        start = b0 if first == 0 else buffer[first - 1]
        buffer[first:], served[first:] = lindley(arr[first:], cap, start)
        prev[first + 1 :] = buffer[first:-1]


@lru_cache(maxsize=1)
def _py_tables() -> tuple[list, list, list]:
    """Plain-list tables for the TTI-by-TTI path: need thresholds per TBS index with full
    and short RBGs (a last row for "no MCS" that no demand reaches), and TBS rows (row -1 =
    no MCS)."""
    flat, width = _need_keys()
    rows = (flat.reshape(54, width) % _KEY).tolist()
    never = [1 << 62] * width
    return rows[:27] + [never], rows[27:] + [never], tbs_table().tolist()


_CHUNK_ROWS = 8  # rows converted to lists at a time by the TTI-by-TTI path


@lru_cache(maxsize=64)
def _layout(slice_bytes: bytes):
    """Per slice assignment (cached): eMBB mask and columns, UE-to-slice one-hot matrix and
    the columns of each slice."""
    slice_of = np.frombuffer(slice_bytes, dtype=np.int64)
    short = slice_of == 2
    onehot = (slice_of[:, None] == np.arange(3)).astype(np.int64)
    members = [np.flatnonzero(slice_of == s) for s in range(3)]
    return short, np.flatnonzero(short), onehot, members


def _step_slice(x, avg, k, policy, b, t0, short, first, last):
    """Step one slice TTI by TTI (plain Python) from buffers ``b`` over TTIs
    ``first..last``, stopping after the first TTI whose buffers equal the step-1 buffers.

    ``x[t]`` stacks (arrivals, TBS index, decoded, bits per RBG, step-1 buffers) of the
    slice's UEs. Returns the stepped rows of (alloc, prbs, need, served, buffer), the last TTI
    stepped, and whether the buffers met step 1."""
    full_rows, short_rows, tbs = _py_tables()
    need_rows = short_rows if short else full_rows
    n = len(b)
    idx = range(n)
    zero, cap = [0] * n, [N_RBG] * n
    out_alloc, out_prbs, out_need, out_served, out_buf = [], [], [], [], []
    rows: list = []
    rr = policy == "rr"
    avg = [max(a, 1e-9) for a in avg]  # PF divides as allocate() does: bit-identical keys
    for t in range(first, last + 1):
        if (t - first) % _CHUNK_ROWS == 0:
            rows = x[t : t + _CHUNK_ROWS].tolist()
        arr, it, dec, rate, until = rows[(t - first) % _CHUNK_ROWS]
        dem = list(map(add, b, arr))
        need = list(map(bisect_left, map(need_rows.__getitem__, it), dem, zero, cap))
        want = [q if q < k else k for q in need]
        if sum(want) <= k:
            alloc = want
        elif rr:  # deal RBGs cyclically from the pointer; every RBG finds a taker
            alloc = [0] * n
            left, u = k, (t0 + t) % n
            while left:
                if alloc[u] < want[u]:
                    alloc[u] += 1
                    left -= 1
                u = u + 1 if u + 1 < n else 0
        else:
            prio = rate if policy == "wf" else list(map(truediv, rate, avg))
            alloc = [0] * n
            left = k
            for u in sorted(idx, key=prio.__getitem__, reverse=True):  # stable: ties by index
                g = want[u] if want[u] < left else left
                alloc[u] = g
                left -= g
        prbs = [RBG_SIZE * a for a in alloc]
        if short and sum(alloc) == k:
            prbs[alloc.index(max(alloc))] -= _SHORT
        served = [(min(dem[u], tbs[it[u]][prbs[u]]) if dec[u] else 0) for u in idx]
        b = list(map(sub, dem, served))
        out_alloc.append(alloc)
        out_prbs.append(prbs)
        out_need.append(need)
        out_served.append(served)
        out_buf.append(b)
        if b == until:
            return (out_alloc, out_prbs, out_need, out_served, out_buf), t, True
    return (out_alloc, out_prbs, out_need, out_served, out_buf), last, False


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
) -> BlockResult:
    """Schedule one block of TTIs on the downlink (see the module docstring).

    Args:
        arrivals: bits arriving per (TTI, UE).
        i_tbs: TBS index per (TTI, UE) from the reported CQI (-1: no transmission).
        decoded: whether a transport block sent in that TTI is decoded (else it is lost and
            its bits stay queued for retransmission).
        slice_of: slice index (0 mMTC, 1 URLLC, 2 eMBB) of each UE.
        rbgs: RBGs owned by each slice (the eMBB slice holds the 2-PRB RBG).
        policies: intra-slice policy of each slice ("rr", "wf", "pf").
        b0: buffer of each UE before the block (bits).
        avg: average throughput of each UE (bits/TTI) for PF.
        t0: global index of the block's first TTI.
    """
    rbgs = np.asarray(rbgs, dtype=np.int64)
    n_t = arrivals.shape[0]
    short, emb, onehot, members = _layout(np.asarray(slice_of, dtype=np.int64).tobytes())
    k_of = rbgs[slice_of]
    whole = np.where(decoded, tbs_table()[i_tbs, RBG_SIZE * k_of - _SHORT * short], 0)
    buffer, served, prev = _lindley(arrivals, whole, b0)
    need = rbgs_needed(arrivals + prev, i_tbs, short)
    alloc = np.minimum(need, k_of)
    used = alloc @ onehot  # RBGs used per (TTI, slice)
    prbs = RBG_SIZE * alloc
    if emb.size:
        rows = np.flatnonzero(used[:, 2] == rbgs[2])
        if rows.size:
            prbs[rows, emb[np.argmax(alloc[rows][:, emb], axis=1)]] -= _SHORT
    passes = 0
    congested = (used > rbgs).any(axis=0)
    if not congested.any():
        return BlockResult(alloc, prbs, need, served, buffer, passes)
    rate = rbg_capacity_table()[i_tbs, 1]
    for s in np.flatnonzero(congested):
        cols = members[s]
        k, pol, sh = int(rbgs[s]), policies[s], bool(s == 2)
        over = np.flatnonzero(used[:, s] > k).tolist()
        x = np.stack([arrivals[:, cols], i_tbs[:, cols], decoded[:, cols], rate[:, cols],
                      buffer[:, cols]], axis=1)  # fmt: skip
        avg_s = avg[cols].tolist()
        stepped: list[list] = [[], [], [], [], []]
        got_rows: list[int] = []
        f, tail = over[0], None
        if len(over) * HEAVY > n_t - f:  # overloaded much of the time: fixed point at once
            tail = (f, (b0[cols] if f == 0 else buffer[f - 1, cols]).tolist())
        while tail is None:  # step coupled stretches while they stay short
            b = b0[cols].tolist() if f == 0 else x[f - 1, 4].tolist()
            last = min(f + STEP_LIMIT, n_t) - 1
            got, last, synced = _step_slice(x, avg_s, k, pol, b, t0, sh, f, last)
            for o, r in zip(stepped, got, strict=True):
                o.extend(r)
            got_rows.extend(range(f, last + 1))
            f = last + 1
            if f >= n_t:
                break
            if not synced:  # a long coupled stretch: finish the block by fixed point
                tail = (f, got[4][-1])
                break
            i = bisect_left(over, f)  # step 1 is exact again until its next overload
            if i == len(over):
                break
            f = over[i]
        if got_rows:
            r = np.array(got_rows)[:, None]
            for o, v in zip((alloc, prbs, need, served, buffer), stepped, strict=True):
                o[r, cols] = v
        if tail is not None:
            f = tail[0]
            res = _solve_slice(
                arrivals[f:, cols], i_tbs[f:, cols], decoded[f:, cols], rate[f:, cols],
                avg[cols], k, pol, np.array(tail[1]), t0 + f, sh, prev[f:, cols],
            )  # fmt: skip
            for o, v in zip((alloc, prbs, need, served, buffer), res[:5], strict=True):
                o[f:, cols] = v
            passes = max(passes, res[5])
    return BlockResult(alloc, prbs, need, served, buffer, passes)


def uplink_block(arrivals, i_tbs, decoded, b0, n_ues: int):
    """Uplink of one block: each UE holds a fixed ``UL_PRBS // n_ues`` PRBs (at least 1) in
    every TTI it has data (the uplink is not sliced). Returns ``(buffer, served, prbs)``."""
    share = max(UL_PRBS // max(n_ues, 1), 1)
    capacity = np.where(decoded, tbs_table()[i_tbs, share], 0)
    buffer, served = lindley(arrivals, capacity, b0)
    prev = np.concatenate([b0[None], buffer[:-1]], axis=0)
    prbs = np.where((prev + arrivals) > 0, share, 0)
    return buffer, served, prbs
