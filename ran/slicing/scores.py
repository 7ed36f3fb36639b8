"""TRACTOR's per-UE performance scores and its per-trial statistics.

Scores, from ``eval_perf/perf_analysis.py`` of genesys-neu/oran-resource-opt (Groen et al.,
"From Classification to Optimization: Slicing and Resource Management with TRACTOR"),
computed from one KPM report of a UE (bit rates in Mbps, buffers in bytes):

* eMBB: ``clip((3/2 + tx_brate/4 - dl_buffer·8/1e6) / 3, 0, 1)``;
* URLLC: 1 if the buffer is empty, 0 if it is not and nothing was sent, otherwise
  ``max(0, 1 - (dl_buffer·8/1e6) / tx_brate)``;
* mMTC: ``1/slice_prb`` (PRBs of the UE's slice) if nothing was requested, otherwise
  ``min(1, granted/requested)`` PRBs; 0 when nothing was requested and ``slice_prb = 0``
  (``perf_func`` catches the division by zero and scores 0; the real multi-UE logs hold such
  rows).

A trial's score is the mean over its reports and UEs; across trials TRACTOR reports the
mean, the CV (std/mean, ddof = 1) and a 90% normal interval ``mean ± 1.645·s/√n``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numba import njit, vectorize

from netsim.stats import coefficient_of_variation

from .kpm import COL, KPM_COLUMNS, KpmReport

__all__ = [
    "embb_score",
    "urllc_score",
    "mmtc_score",
    "ue_scores",
    "slice_means",
    "trial_statistics",
    "Z90",
]

Z90 = 1.645  # TRACTOR's 90% normal quantile


@njit(cache=True, inline="always")
def _embb(tx_mbps, buffer_bytes):
    return min(max((1.5 + tx_mbps / 4.0 - buffer_bytes * 8.0 / 1e6) / 3.0, 0.0), 1.0)


@njit(cache=True, inline="always")
def _urllc(tx_mbps, buffer_bytes):
    if buffer_bytes == 0:
        return 1.0
    if tx_mbps > 0:
        return max(0.0, 1.0 - buffer_bytes * 8.0 / 1e6 / tx_mbps)
    return 0.0


@njit(cache=True, inline="always")
def _mmtc(requested_prbs, granted_prbs, slice_prb):
    if requested_prbs == 0:
        return 1.0 / slice_prb if slice_prb > 0 else 0.0
    return min(1.0, granted_prbs / requested_prbs)


_F2 = ["float64(float64, float64)"]


@vectorize(_F2, cache=True)
def embb_score(tx_brate_mbps, dl_buffer_bytes):
    """``clip((1.5 + tx/4 - buffer·8/1e6)/3, 0, 1)``."""
    return _embb(tx_brate_mbps, dl_buffer_bytes)


@vectorize(_F2, cache=True)
def urllc_score(tx_brate_mbps, dl_buffer_bytes):
    """1 for an empty buffer; else 0 if nothing was sent; else ``max(0, 1 - buffer_Mb/tx)``."""
    return _urllc(tx_brate_mbps, dl_buffer_bytes)


@vectorize(["float64(float64, float64, float64)"], cache=True)
def mmtc_score(requested_prbs, granted_prbs, slice_prb):
    """``1/slice_prb`` if nothing was requested (0 if ``slice_prb = 0``), else
    ``min(1, granted/requested)``."""
    return _mmtc(requested_prbs, granted_prbs, slice_prb)


@njit(cache=True)
def _ue_scores(slice_id, tx, buf, req, granted, prb):
    out = np.empty(slice_id.size)
    for u in range(slice_id.size):
        s = slice_id[u]
        if s == 0:
            out[u] = _mmtc(req[u], granted[u], prb[u])
        elif s == 1:
            out[u] = _urllc(tx[u], buf[u])
        else:
            out[u] = _embb(tx[u], buf[u])
    return out


_F = np.float64
_ROWS = tuple(COL[c] for c in ("tx_brate downlink [Mbps]", "dl_buffer [bytes]",
                               "sum_requested_prbs", "sum_granted_prbs", "slice_prb"))


@njit(cache=True)
def _report_scores(data, slice_id):
    tx, buf, req, granted, prb = _ROWS
    return _ue_scores(slice_id, data[tx], data[buf], data[req], data[granted], data[prb])


def ue_scores(report: Mapping, slice_id) -> np.ndarray:
    """Score of every UE of a KPM report, by the slice it is served in (0 mMTC, 1 URLLC,
    2 eMBB), as TRACTOR's ``perf_func`` does."""
    slice_id = np.asarray(slice_id, dtype=np.int64)
    if isinstance(report, KpmReport):
        return _report_scores(report.data, slice_id)
    cols = [np.asarray(report[KPM_COLUMNS[r]], dtype=_F) for r in _ROWS]
    return _ue_scores(slice_id, *cols)


@njit(cache=True)
def _slice_means(scores, slice_id):
    total, count = np.zeros(3), np.zeros(3)
    for u in range(scores.size):  # index order, as np.bincount adds
        total[slice_id[u]] += scores[u]
        count[slice_id[u]] += 1
    return total / count


def slice_means(scores, slice_id) -> np.ndarray:
    """Mean score of the UEs of each slice (mMTC, URLLC, eMBB); NaN for an empty slice."""
    return _slice_means(np.asarray(scores, dtype=_F), np.asarray(slice_id, dtype=np.int64))


def trial_statistics(trial_means: Sequence[float]) -> dict[str, float]:
    """Mean, standard deviation (ddof 1), CV and TRACTOR's 90% interval over trials."""
    x = np.asarray(trial_means, dtype=float)
    if x.size == 0:
        raise ValueError("trial_statistics needs at least one trial")
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if x.size > 1 else float("nan")
    half = Z90 * std / np.sqrt(x.size) if x.size > 1 else float("nan")
    cv = coefficient_of_variation(x)  # scores are >= 0, so |mean| = mean
    return {"n": int(x.size), "mean": mean, "std": std, "cv": cv,
            "ci90_low": mean - half, "ci90_high": mean + half}
