"""TRACTOR's per-UE performance scores and its per-trial statistics.

Scores, from ``eval_perf/perf_analysis.py`` of genesys-neu/oran-resource-opt (Groen et al.,
"From Classification to Optimization: Slicing and Resource Management with TRACTOR"),
computed from one KPM report of a UE (bit rates in Mbps, buffers in bytes):

* eMBB: ``clip((3/2 + tx_brate/4 - dl_buffer·8/1e6) / 3, 0, 1)``;
* URLLC: 1 if the buffer is empty, 0 if it is not and nothing was sent, otherwise
  ``max(0, 1 - (dl_buffer·8/1e6) / tx_brate)``;
* mMTC: ``1/slice_prb`` (PRBs of the UE's slice) if nothing was requested, otherwise
  ``min(1, granted/requested)`` PRBs.

A trial's score is the mean over its reports and UEs; across trials TRACTOR reports the
mean, the CV (std/mean, ddof = 1) and a 90% normal interval ``mean ± 1.645·s/√n``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["embb_score", "urllc_score", "mmtc_score", "ue_scores", "trial_statistics", "Z90"]

Z90 = 1.645  # TRACTOR's 90% normal quantile


def embb_score(tx_brate_mbps, dl_buffer_bytes) -> np.ndarray:
    """``clip((1.5 + tx/4 - buffer·8/1e6)/3, 0, 1)``."""
    tx = np.asarray(tx_brate_mbps, dtype=float)
    buf = np.asarray(dl_buffer_bytes, dtype=float)
    return np.clip((1.5 + tx / 4.0 - buf * 8.0 / 1e6) / 3.0, 0.0, 1.0)


def urllc_score(tx_brate_mbps, dl_buffer_bytes) -> np.ndarray:
    """1 for an empty buffer; else 0 if nothing was sent; else ``max(0, 1 - buffer_Mb/tx)``."""
    tx = np.asarray(tx_brate_mbps, dtype=float)
    buf = np.asarray(dl_buffer_bytes, dtype=float)
    drain = np.divide(buf * 8.0 / 1e6, tx, out=np.full(np.broadcast(tx, buf).shape, np.inf),
                      where=tx > 0)  # fmt: skip
    return np.where(buf == 0, 1.0, np.maximum(0.0, 1.0 - drain))


def mmtc_score(requested_prbs, granted_prbs, slice_prb) -> np.ndarray:
    """``1/slice_prb`` if nothing was requested, else ``min(1, granted/requested)``."""
    req = np.asarray(requested_prbs, dtype=float)
    grant = np.asarray(granted_prbs, dtype=float)
    prb = np.asarray(slice_prb, dtype=float)
    shape = np.broadcast(req, grant, prb).shape
    ratio = np.divide(grant, req, out=np.zeros(shape), where=req > 0)
    idle = np.divide(1.0, prb, out=np.full(shape, np.inf), where=prb > 0)
    return np.where(req == 0, idle, np.minimum(1.0, ratio))


def ue_scores(report: dict[str, np.ndarray], slice_id) -> np.ndarray:
    """Score of every UE of a KPM report, by the slice it is served in (0 mMTC, 1 URLLC,
    2 eMBB), as TRACTOR's ``perf_func`` does."""
    tx = report["tx_brate downlink [Mbps]"]
    buf = report["dl_buffer [bytes]"]
    mmtc = mmtc_score(report["sum_requested_prbs"], report["sum_granted_prbs"], report["slice_prb"])
    return np.choose(np.asarray(slice_id, dtype=np.int64),
                     (mmtc, urllc_score(tx, buf), embb_score(tx, buf)))  # fmt: skip


def trial_statistics(trial_means: Sequence[float]) -> dict[str, float]:
    """Mean, standard deviation (ddof 1), CV and TRACTOR's 90% interval over trials."""
    x = np.asarray(trial_means, dtype=float)
    if x.size == 0:
        raise ValueError("trial_statistics needs at least one trial")
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if x.size > 1 else float("nan")
    half = Z90 * std / np.sqrt(x.size) if x.size > 1 else float("nan")
    cv = std / mean if mean != 0 else float("nan")
    return {"n": int(x.size), "mean": mean, "std": std, "cv": cv,
            "ci90_low": mean - half, "ci90_high": mean + half}  # fmt: skip
