"""LTE physical-layer tables for a 10 MHz carrier: CQI, MCS, transport block sizes, RBGs.

Sources (3GPP TS 36.213 V10+, "E-UTRA physical layer procedures"):

* CQI table - Table 7.2.3-1 (4-bit CQI: modulation, code rate x 1024, efficiency);
* MCS table - Table 7.1.7.1-1 (PDSCH I_MCS -> modulation order Q_m and TBS index I_TBS);
* TBS table - Table 7.1.7.2.1-1 (I_TBS x N_PRB -> transport block size in bits), the
  whole table N_PRB = 1..110 in ``data/tbs_36213.csv`` (so 20 MHz carriers are covered;
  ``tbs_bits(26, 100) = 75376``); more than 110 PRBs raises;
* RBG size - Table 7.1.6.1-1: 27..63 PRBs -> P = 3, so 50 PRBs form 16 RBGs of 3 PRBs and
  one of 2 (17 RBGs); TRACTOR gives the short RBG to the eMBB slice.

Link adaptation follows ns-3's ``LteAmc`` (``src/lte/model/lte-amc.cc``, PiroEW2010 model):
the CQI is the highest index whose efficiency is below ``log2(1 + SINR/Γ)``, with the SNR gap
``Γ = -ln(5·BER)/1.5`` at BER = 5e-5 (``GetCqiFromSpectralEfficiency``), and the MCS is the
highest whose spectral efficiency does not exceed the CQI's (``GetMcsFromCqi``). Both use
ns-3's efficiency tables, R1-081483 rounded to 2 decimals (:data:`NS3_CQI_EFFICIENCY`,
:data:`MCS_EFFICIENCY`), not the 4-decimal 36.213 CQI column: with the latter CQI 3, 5, 6,
7, 9 and 14 would map one MCS lower than ns-3 (e.g. CQI 3: MCS 3 instead of 4).
"""

from __future__ import annotations

import importlib.resources
from functools import lru_cache

import numpy as np
from numba import njit

__all__ = [
    "N_PRB",
    "N_RBG",
    "RBG_PRBS",
    "TTI_S",
    "CQI_QM",
    "CQI_CODE_RATE_X1024",
    "CQI_EFFICIENCY",
    "NS3_CQI_EFFICIENCY",
    "N_PRB_MAX",
    "MCS_QM",
    "MCS_ITBS",
    "MCS_EFFICIENCY",
    "SNR_GAP_DB",
    "tbs_table",
    "tbs_bits",
    "rbg_capacity_table",
    "CQI_SINR_DB",
    "cqi_from_sinr_db",
    "mcs_from_cqi",
    "efficiency_from_sinr_db",
    "slice_prbs",
    "required_sinr_db",
]

TTI_S = 1e-3  # LTE subframe (s)
N_PRB = 50  # 10 MHz carrier
N_PRB_MAX = 110  # columns of 36.213 Table 7.1.7.2.1-1
RBG_SIZE = 3  # Table 7.1.6.1-1, 27..63 PRBs
N_RBG = 17
#: PRBs of each RBG: 16 of 3 and the last of 2 (50 PRBs)
RBG_PRBS = np.array([RBG_SIZE] * (N_RBG - 1) + [N_PRB - RBG_SIZE * (N_RBG - 1)], dtype=np.int64)

# -- 36.213 Table 7.2.3-1: CQI index -> modulation order, code rate x 1024, efficiency ----------
CQI_QM = np.array([0, 2, 2, 2, 2, 2, 2, 4, 4, 4, 6, 6, 6, 6, 6, 6], dtype=np.int64)
CQI_CODE_RATE_X1024 = np.array(
    [0, 78, 120, 193, 308, 449, 602, 378, 490, 616, 466, 567, 666, 772, 873, 948], dtype=np.int64
)
CQI_EFFICIENCY = np.array(
    [0.0, 0.1523, 0.2344, 0.3770, 0.6016, 0.8770, 1.1758, 1.4766, 1.9141, 2.4063,
     2.7305, 3.3223, 3.9023, 4.5234, 5.1152, 5.5547]
)
#: CQI efficiency as ns-3's LteAmc tabulates it (R1-081483, 2 decimals); used for the AMC
NS3_CQI_EFFICIENCY = np.array(
    [0.0, 0.15, 0.23, 0.38, 0.6, 0.88, 1.18, 1.48, 1.91, 2.41, 2.73, 3.32, 3.9, 4.52, 5.12, 5.55]
)

# -- 36.213 Table 7.1.7.1-1: I_MCS 0..28 -> Q_m and I_TBS (29..31 are retransmission-only) ---
MCS_QM = np.array([2] * 10 + [4] * 7 + [6] * 12, dtype=np.int64)
MCS_ITBS = np.array(list(range(10)) + list(range(9, 16)) + list(range(15, 27)), dtype=np.int64)
#: spectral efficiency (bit/s/Hz) of each MCS, 3GPP R1-081483 as used by ns-3 LteAmc
MCS_EFFICIENCY = np.array(
    [0.15, 0.19, 0.23, 0.31, 0.38, 0.49, 0.6, 0.74, 0.88, 1.03, 1.18, 1.33, 1.48, 1.7, 1.91,
     2.16, 2.41, 2.57, 2.73, 3.03, 3.32, 3.61, 3.9, 4.21, 4.52, 4.82, 5.12, 5.33, 5.55]
)

_BER = 5e-5
#: SNR gap of the AMC model, Γ = -ln(5·BER)/1.5 (ns-3 LteAmc, PiroEW2010), in dB
SNR_GAP_DB = float(10.0 * np.log10(-np.log(5.0 * _BER) / 1.5))


@lru_cache(maxsize=1)
def tbs_table() -> np.ndarray:
    """TBS (bits) indexed ``[i_tbs, n_prb]`` for I_TBS 0..26 and N_PRB 0..110 (column 0 is
    0), plus a final all-zero row so that ``i_tbs = -1`` (no transmission) yields 0 bits.
    Values: 3GPP TS 36.213 Table 7.1.7.2.1-1."""
    path = importlib.resources.files("ran.slicing").joinpath("data/tbs_36213.csv")
    rows = np.loadtxt(str(path), delimiter=",", comments="#", skiprows=2, dtype=np.int64)
    table = np.zeros((28, N_PRB_MAX + 1), dtype=np.int64)
    table[:27, 1:] = rows[:, 1:]
    table.setflags(write=False)
    return table


def tbs_bits(i_tbs, n_prb) -> np.ndarray:
    """Transport block size in bits for TBS index ``i_tbs`` (-1 = none) on ``n_prb`` PRBs,
    0..110 (36.213 Table 7.1.7.2.1-1); broadcasts over arrays. ValueError outside 0..110
    PRBs or 0..26 (and -1) for I_TBS."""
    i, n = np.asarray(i_tbs), np.asarray(n_prb)
    if ((n < 0) | (n > N_PRB_MAX)).any():
        raise ValueError(f"n_prb: must be in 0..{N_PRB_MAX} (36.213 Table 7.1.7.2.1-1)")
    if ((i < -1) | (i > 26)).any():
        raise ValueError("i_tbs: must be in 0..26, or -1 for no transmission")
    return tbs_table()[i, n]


@lru_cache(maxsize=1)
def rbg_capacity_table() -> np.ndarray:
    """``[i_tbs, g]`` -> bits carried by ``g`` full RBGs (3g PRBs, at most 50) in one TTI."""
    g = np.arange(N_RBG + 1)
    table = tbs_table()[:, np.minimum(RBG_SIZE * g, N_PRB)]
    table.setflags(write=False)
    return table


def efficiency_from_sinr_db(sinr_db) -> np.ndarray:
    """Achievable spectral efficiency ``log2(1 + SINR/Γ)`` (bit/s/Hz) of the AMC model."""
    return np.log2(1.0 + 10.0 ** ((np.asarray(sinr_db, dtype=float) - SNR_GAP_DB) / 10.0))


#: SINR (dB) at which ``log2(1 + SINR/Γ)`` reaches the efficiency of CQI 1..15
CQI_SINR_DB = SNR_GAP_DB + 10.0 * np.log10(2.0 ** NS3_CQI_EFFICIENCY[1:] - 1.0)
#: band (dB) around a CQI threshold inside which the CQI is computed from the efficiency
_NEAR_DB = 1e-9


@njit(cache=True)
def _cqi_by_threshold(sinr_db, out):
    """CQI as the number of :data:`CQI_SINR_DB` thresholds below the SINR; -1 within
    ``_NEAR_DB`` of a threshold (or NaN), where rounding could decide."""
    for i in range(sinr_db.size):
        s = sinr_db[i]
        c = 0
        near = False
        for k in range(CQI_SINR_DB.size):
            c += s > CQI_SINR_DB[k]
            near |= not abs(s - CQI_SINR_DB[k]) > _NEAR_DB
        out[i] = -1 if near else c


def cqi_from_sinr_db(sinr_db) -> np.ndarray:
    """CQI 0..15: the highest index whose (ns-3) efficiency is below ``log2(1 + SINR/Γ)``
    (ns-3 LteAmc::CreateCqiFeedbacks); 0 means out of range (no transmission).

    Computed as the number of thresholds :data:`CQI_SINR_DB` below the SINR (the efficiency
    is increasing in the SINR), and from the efficiency itself within 1e-9 dB of a
    threshold, so that the result is that of the formula (up to its own one-ulp ambiguity at a
    threshold)."""
    s = np.asarray(sinr_db, dtype=float)
    out = np.empty(s.shape, dtype=np.int64)
    _cqi_by_threshold(np.ascontiguousarray(s.reshape(-1)), out.reshape(-1))
    near = out < 0
    if near.any():
        eff = efficiency_from_sinr_db(s[near])
        out[near] = np.searchsorted(NS3_CQI_EFFICIENCY[1:], eff, side="left")
    return out


def mcs_from_cqi(cqi) -> np.ndarray:
    """I_MCS 0..28 for CQI 1..15: the highest MCS whose efficiency does not exceed the CQI's,
    both from ns-3's tables (ns-3 LteAmc::GetMcsFromCqi); -1 for CQI 0."""
    cqi = np.asarray(cqi)
    mcs = np.searchsorted(MCS_EFFICIENCY, NS3_CQI_EFFICIENCY[cqi], side="right") - 1
    return np.where(cqi > 0, np.maximum(mcs, 0), -1).astype(np.int64)


def slice_prbs(rbgs) -> np.ndarray:
    """PRBs owned by each slice (mMTC, URLLC, eMBB) for an RBG split: 3 per RBG, except
    that the eMBB slice (index 2) holds the 2-PRB RBG (TRACTOR's ``slice_prb`` accounting)."""
    r = np.asarray(rbgs, dtype=np.int64)
    out = RBG_SIZE * r
    out[..., 2] -= RBG_SIZE - int(RBG_PRBS[-1])
    return out


def required_sinr_db(mcs) -> np.ndarray:
    """SINR (dB) at which MCS ``mcs`` is decodable under the AMC model, the inverse of
    ``log2(1 + SINR/Γ)``: ``Γ·(2^eff - 1)``; +inf for ``mcs = -1`` (no transmission)."""
    mcs = np.asarray(mcs)
    eff = MCS_EFFICIENCY[np.maximum(mcs, 0)]
    req = SNR_GAP_DB + 10.0 * np.log10(2.0**eff - 1.0)
    return np.where(mcs >= 0, req, np.inf)
