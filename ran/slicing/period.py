"""Compiled kernels of the gNB (numba): the downlink of one report period and the uplink of a
chunk of periods, straight from per-fading-block channel arrays to KPM sums.

Link adaptation per TTI (36.213 periodic CSI, see :mod:`.gnb`): TTI ``t`` of a chunk uses the
CQI measured in fading block ``(t - CQI_DELAY_TTI) // FADING_BLOCK_TTI + 1`` of ``cqi_ext``
(row 0 is the previous chunk's last block), hence MCS ``mcs_from_cqi(CQI)`` and TBS index
``I_TBS(MCS)``; the block sent in TTI ``t`` is decoded when the SINR of its own fading block
``t // FADING_BLOCK_TTI`` reaches the MCS's threshold. The downlink schedule of each TTI is
:func:`.schedulers.schedule_slice`; the uplink gives each UE a fixed PRB share in every TTI it
has data, and its buffer follows ``B_t = max(0, B_{t-1} + a_t - c_t)``.

Nothing per TTI leaves the kernels except the uplink's two real-valued terms, which
:mod:`.kpm` sums with numpy so that the report columns keep numpy's summation order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .channel import FADING_BLOCK_TTI
from .kpm import COL, downlink_columns
from .phy import MCS_ITBS, RBG_SIZE, TTI_S, mcs_from_cqi, required_sinr_db
from .schedulers import _TBS, schedule_slice

__all__ = [
    "CQI_DELAY_TTI",
    "DL_SUMS",
    "UL_SUMS",
    "downlink_period",
    "report_period",
    "chunk_arrivals",
    "packet_sizes",
    "uplink_chunk",
]

#: TTIs between a CQI measurement and its use (36.213 periodic CSI)
CQI_DELAY_TTI = 4
#: integer sums per UE of a period's downlink, in this order
DL_SUMS = ("n", "ok", "mcs", "bits", "req_prbs", "prbs", "cqi")
#: integer sums per UE and period of the uplink, in this order
UL_SUMS = ("n", "ok", "mcs", "bits")

_MCS_OF_CQI = mcs_from_cqi(np.arange(16))  # -1 for CQI 0
_ITBS_OF_MCS = np.append(MCS_ITBS, -1)  # index -1 (no MCS) -> -1
_REQ_SINR = np.append(required_sinr_db(np.arange(MCS_ITBS.size)), np.inf)  # dB, -1 -> inf
_TIMESTAMP, _SLICE_ID, _SLICE_PRB, _POLICY = (
    COL[c] for c in ("Timestamp", "slice_id", "slice_prb", "scheduling_policy")
)


@njit(cache=True, inline="always")
def _blocks(t):
    """Fading block of TTI ``t`` of a chunk, and the ``cqi_ext`` row in use."""
    return t // FADING_BLOCK_TTI, (t - CQI_DELAY_TTI) // FADING_BLOCK_TTI + 1


@njit(cache=True)
def downlink_period(first, n_t, dl_bytes, cqi_ext, sinr_db, members, counts, rbgs, policy,
                    buffer, avg, t_global, beta, sums):
    """Schedule TTIs ``first .. first + n_t - 1`` of a chunk (arrivals ``dl_bytes`` per
    (TTI, UE), CQI per block ``cqi_ext``, SINR per block ``sinr_db``) from the buffers
    ``buffer`` (bits, updated in place). ``t_global`` is the global index of TTI ``first``;
    slices do not interact within a TTI, so each is run through the period in turn, and a
    TTI in which no UE of the slice has data is skipped (nothing is needed or sent). The PF
    averages ``avg`` (bits/TTI) follow ``avg ← (1 - β) avg + β·served`` every TTI, in place
    (a UE's average only matters inside its own slice).

    Adds the :data:`DL_SUMS` of every UE into ``sums`` ``(7, n)``: TTIs scheduled, of them
    decoded, MCS over them, bits served, PRBs requested (3 per RBG needed) and granted, CQI."""
    n = buffer.size
    for t in range(first, first + n_t):
        src = _blocks(t)[1]
        for u in range(n):
            sums[6, u] += cqi_ext[src, u]
    demand = np.zeros(n, dtype=np.int64)
    i_tbs = np.zeros(n, dtype=np.int64)
    decoded = np.zeros(n, dtype=np.bool_)
    mcs = np.zeros(n, dtype=np.int64)
    need = np.zeros(n, dtype=np.int64)
    want = np.zeros(n, dtype=np.int64)
    order = np.zeros(n, dtype=np.int64)
    alloc = np.zeros(n, dtype=np.int64)
    prbs = np.zeros(n, dtype=np.int64)
    served = np.zeros(n, dtype=np.int64)
    prio = np.zeros(n)
    for s in range(3):
        m, k, pol = counts[s], rbgs[s], policy[s]
        for t in range(first, first + n_t):
            busy = False
            for j in range(m):
                u = members[s, j]
                demand[u] = buffer[u] + 8 * dl_bytes[t, u]
                busy |= demand[u] > 0
            if not busy:
                for j in range(m):
                    u = members[s, j]
                    avg[u] = (1.0 - beta) * avg[u] + beta * 0
                continue
            own, src = _blocks(t)
            for j in range(m):
                u = members[s, j]
                mc = _MCS_OF_CQI[cqi_ext[src, u]]
                mcs[u] = mc
                i_tbs[u] = _ITBS_OF_MCS[mc]
                decoded[u] = sinr_db[own, u] >= _REQ_SINR[mc]
            schedule_slice(t_global + t - first, s, members, m, k, pol, demand, i_tbs, decoded,
                           avg, need, want, prio, order, alloc, prbs, served)
            for j in range(m):
                u = members[s, j]
                buffer[u] = demand[u] - served[u]
                avg[u] = (1.0 - beta) * avg[u] + beta * served[u]
                if prbs[u] > 0:
                    sums[0, u] += 1
                    sums[1, u] += decoded[u]
                    sums[2, u] += mcs[u]
                    sums[5, u] += prbs[u]
                sums[3, u] += served[u]
                sums[4, u] += RBG_SIZE * need[u]


@njit(cache=True)
def report_period(first, n_t, dl_bytes, cqi_ext, sinr_db, members, counts, rbgs, policy,
                  slice_of, slice_prb, buffer, avg, t_global, packet_bytes, pf_beta, period_s,
                  out):
    """One report period: :func:`downlink_period`, then the downlink and slice columns of
    the report matrix ``out`` (:func:`~ran.slicing.kpm.downlink_columns`; ``slice_prb`` per
    slice, timestamp in ms at the period's end); the PF averages ``avg`` are updated every
    TTI with weight ``pf_beta`` (:func:`downlink_period`)."""
    n = buffer.size
    sums = np.zeros((7, n), dtype=np.int64)
    downlink_period(first, n_t, dl_bytes, cqi_ext, sinr_db, members, counts, rbgs, policy,
                    buffer, avg, t_global, pf_beta, sums)
    downlink_columns(sums, buffer, packet_bytes, n_t, period_s, out)
    stamp = float(round((t_global + n_t) * TTI_S * 1000))
    for u in range(n):
        s = slice_of[u]
        out[_TIMESTAMP, u] = stamp
        out[_SLICE_ID, u] = s
        out[_SLICE_PRB, u] = slice_prb[s]
        out[_POLICY, u] = policy[s]


@njit(cache=True)
def chunk_arrivals(dl_cell, dl_bytes, ul_cell, ul_bytes, n_t, dl_dense, ul_dense, totals):
    """Bytes of a chunk's packets (cell ``tti·UEs + ue``) per (TTI, UE) into ``dl_dense`` and
    per (UE, TTI) into ``ul_dense`` (both overwritten), and per period and UE the bytes and
    packets of each direction into ``totals`` ``(periods, 4, n)``: DL bytes, DL packets, UL
    bytes, UL packets."""
    n = dl_dense.shape[1]
    dl_dense[:] = 0
    ul_dense[:] = 0
    totals[:] = 0
    for i in range(dl_cell.size):
        t, u = dl_cell[i] // n, dl_cell[i] % n
        dl_dense[t, u] += dl_bytes[i]
        totals[t // n_t, 0, u] += dl_bytes[i]
        totals[t // n_t, 1, u] += 1
    for i in range(ul_cell.size):
        t, u = ul_cell[i] // n, ul_cell[i] % n
        ul_dense[u, t] += ul_bytes[i]
        totals[t // n_t, 2, u] += ul_bytes[i]
        totals[t // n_t, 3, u] += 1


@njit(cache=True)
def packet_sizes(totals, so_far, sizes):
    """Mean packet size (bytes) of each direction and UE over everything arrived by the end
    of each period, ``sizes`` ``(2, periods, n)``, from the per-period ``totals`` of
    :func:`chunk_arrivals`; ``so_far`` ``(4, n)`` (bytes and packets so far, DL then UL) is
    updated in place."""
    for d in range(2):
        for i in range(totals.shape[0]):
            for u in range(totals.shape[2]):
                so_far[2 * d, u] += totals[i, 2 * d, u]
                so_far[2 * d + 1, u] += totals[i, 2 * d + 1, u]
                sizes[d, i, u] = so_far[2 * d, u] / max(so_far[2 * d + 1, u], 1.0)


@njit(cache=True)
def uplink_chunk(n_t, ul_bytes, cqi_ext, sinr_db, iters_db, share, buffer, sums, real_sums,
                 buffers, terms):
    """Uplink of a chunk of periods of ``n_t`` TTIs (``ul_bytes`` per (UE, TTI)): each UE
    holds ``share`` PRBs in every TTI it has data; MCS from the UL CQI per block ``cqi_ext``,
    decoded when the block's UL SINR ``sinr_db`` reaches the MCS's threshold. ``buffer``
    (bits) is updated in place; the UEs' uplinks are independent and run one after another.

    Writes per period and UE the :data:`UL_SUMS` into ``sums`` ``(periods, 4, n)``, the
    buffer at the period's end into ``buffers``, and the sums in time order over the granted
    TTIs of the SINR (dB) and of the decoder effort ``iters_db[variant, block, UE]`` into
    ``real_sums`` ``(periods, 2, n)``, where ``variant`` is 1 in the TTI whose CQI comes from
    its own block, 0 otherwise. When ``terms`` is not empty, every TTI's terms of those two
    sums go there too, ``(2, TTIs, n)`` (0 when not granted, ``0 × SINR`` keeping numpy's
    sign of zero)."""
    n, total = ul_bytes.shape
    keep = terms.shape[1] > 0
    for u in range(n):
        b = buffer[u]
        for p in range(total // n_t):
            n_on = n_ok = mcs = bits = 0
            sinr = iters = 0.0
            for t in range(p * n_t, (p + 1) * n_t):
                demand = b + 8 * ul_bytes[u, t]
                if keep:
                    own, src = _blocks(t)
                    on = 1.0 if demand > 0 else 0.0
                    terms[0, t, u] = on * sinr_db[own, u]
                    terms[1, t, u] = on * iters_db[src - own, own, u]
                if demand == 0:
                    continue
                own, src = _blocks(t)
                m = _MCS_OF_CQI[cqi_ext[src, u]]
                ok = sinr_db[own, u] >= _REQ_SINR[m]
                served = min(demand, _TBS[_ITBS_OF_MCS[m], share]) if ok else 0
                b = demand - served
                n_on += 1
                n_ok += ok
                mcs += m
                bits += served
                sinr += sinr_db[own, u]
                iters += iters_db[src - own, own, u]
            sums[p, 0, u], sums[p, 1, u], sums[p, 2, u], sums[p, 3, u] = n_on, n_ok, mcs, bits
            real_sums[p, 0, u], real_sums[p, 1, u] = sinr, iters
            buffers[p, u] = b
        buffer[u] = b
