"""Link budget of the small-cell network: received power per PRB, SINR with load-coupled
interference and coordinated-beamforming nulling, and rate per PRB (Shannon with a gap).

Band split: every BS schedules its own UEs on the lowest PRBs ``[0, u_k)`` and sells spare
PRBs from the top of the band ``[n - σ_k, n)`` (``u_k + σ_k <= n``), as in soft-frequency-reuse
partitions. An interferer then hits a fraction of a victim's PRBs equal to the overlap of
these ranges, so CoMP transmissions on idle PRBs disturb primary links only in loaded cells.
Pure, vectorised functions; powers in W unless the name says dBm, rates in bit/s.
"""

from __future__ import annotations

import numpy as np

from netsim.radio import dbm_to_watt, shannon_rate_bps

__all__ = [
    "rx_power_w",
    "primary_overlap",
    "comp_overlap",
    "serving_sinr",
    "cluster_sinr",
    "prb_rate_bps",
]


def rx_power_w(tx_prb_dbm: float, loss_db) -> np.ndarray:
    """Received power per PRB ``P_tx,PRB - L`` (dBm -> W) for total link loss ``L`` (dB)."""
    return dbm_to_watt(tx_prb_dbm - np.asarray(loss_db, dtype=float))


def primary_overlap(used, sold, n_prbs: float) -> np.ndarray:
    """``A[s, k]``: fraction of BS ``s``'s primary PRBs ``[0, u_s)`` on which BS ``k``
    transmits, ``(min(u_s, u_k) + max(0, u_s + σ_k - n)) / u_s`` (1 where ``u_s = 0``, the
    worst case); zero diagonal. ``used``, ``sold``: ``(M,)`` PRB counts."""
    u, s = np.asarray(used, dtype=float), np.asarray(sold, dtype=float)
    uc = u[:, None]
    hit = np.minimum(uc, u[None, :]) + np.maximum(0.0, uc + s[None, :] - n_prbs)
    a = np.divide(hit, np.maximum(uc, 1e-12), out=np.ones_like(hit), where=uc > 0)
    a.flat[:: u.size + 1] = 0.0  # zero diagonal
    return np.minimum(a, 1.0, out=a)


def comp_overlap(used, sold, n_prbs: float) -> np.ndarray:
    """``B[j, k]``: fraction of BS ``j``'s sold PRBs ``[n - σ_j, n)`` on which BS ``k``
    transmits, ``(max(0, u_k + σ_j - n) + min(σ_j, σ_k)) / σ_j``; where ``σ_j = 0`` it is the
    exposure of the top PRB (the next one sold), ``[σ_k > 0 or u_k >= n]``. Zero diagonal."""
    u, s = np.asarray(used, dtype=float), np.asarray(sold, dtype=float)
    sc = s[:, None]
    hit = np.maximum(0.0, u[None, :] + sc - n_prbs) + np.minimum(sc, s[None, :])
    b = np.empty_like(hit)
    b[:] = ((s > 0) | (u >= n_prbs - 1e-9)).astype(float)  # top[k] in every row j
    np.divide(hit, np.maximum(sc, 1e-12), out=b, where=sc > 0)
    b.flat[:: s.size + 1] = 0.0  # zero diagonal
    return np.minimum(b, 1.0, out=b)


def serving_sinr(rx_w, serving, overlap, noise_w: float) -> np.ndarray:
    """SINR of each UE's serving link ``S / (Σ_k A[s, k]·P_k + N)`` for an ``(M, M)`` overlap
    matrix (:func:`primary_overlap`) or an ``(M,)`` activity vector ``a`` (then ``A[s, k] =
    a_k`` for ``k ≠ s``: the random-PRB, load-coupled interference model)."""
    rx = np.asarray(rx_w, dtype=float)
    a = np.asarray(overlap, dtype=float)
    rows = np.arange(rx.shape[0])
    s = rx[rows, serving]
    if a.ndim == 1:
        interference = rx @ a - s * a[serving]
    else:
        interference = np.einsum("nm,nm->n", rx, a[serving])
    return s / (interference + noise_w)


def cluster_sinr(rx_w, cluster, overlap, noise_w: float) -> np.ndarray:
    """SINR ``(N, K)`` of the link from each cluster member ``j`` on purchased PRBs under
    coordinated beamforming: the other cluster members null their interference on those
    PRBs, so ``SINR_ij = P_ij / (Σ_{k∉cluster(i)} B[j, k]·P_ik + N)`` (:func:`comp_overlap`)."""
    rx = np.asarray(rx_w, dtype=float)
    b = np.asarray(overlap, dtype=float)
    rows = np.arange(rx.shape[0])[:, None]
    s = rx[rows, cluster]
    total = np.einsum("nkm,nm->nk", b[cluster], rx)
    # B[c_ik, c_il]: the in-cluster part of the sum, subtracted again
    inside = np.einsum("nkl,nl->nk", b[cluster[:, :, None], cluster[:, None, :]], s)
    return s / (total - inside + noise_w)


def prb_rate_bps(sinr, prb_bandwidth_hz: float, gap_db: float, max_se: float) -> np.ndarray:
    """Rate of one PRB: ``B_PRB·min(log2(1 + SINR/Γ), SE_max)`` (Shannon with an SNR gap Γ,
    capped at the top spectral efficiency, e.g. 7.4063 bit/s/Hz for CQI 15 of TS 38.214
    Table 5.2.2.1-3)."""
    r = shannon_rate_bps(prb_bandwidth_hz, np.maximum(sinr, 0.0), gap_db)
    return np.minimum(r, prb_bandwidth_hz * max_se)
