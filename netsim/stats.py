"""Output analysis: confidence intervals across and within runs, fairness, variability.

* Across replications: Student-t interval ``mean ± t_{n-1,(1+c)/2} · s/√n``.
* Within one long run: the batch-means method (Law & Kelton, *Simulation Modeling and
  Analysis*, §9.5.3) - split the observations into ``k`` contiguous batches and treat the
  batch means as approximately i.i.d. normal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = ["t_interval", "batch_means", "summarize", "jain_index", "coefficient_of_variation"]


def t_interval(
    samples: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval of ``samples``.

    Non-finite samples are left out. With fewer than two samples the half-width is NaN.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return float("nan"), float("nan")
    mean = float(x.mean())
    if n < 2:
        return mean, float("nan")
    sem = float(x.std(ddof=1)) / np.sqrt(n)
    return mean, float(_st.t.ppf(0.5 + confidence / 2.0, n - 1) * sem)


def batch_means(
    samples: Sequence[float] | np.ndarray, batches: int = 20, confidence: float = 0.95
) -> tuple[float, float]:
    """Mean and batch-means CI half-width of one run's (correlated) observations.

    Observations beyond ``batches * (n // batches)`` at the end are dropped from the batches
    (but not from the mean). Needs at least two observations per batch.
    """
    x = np.asarray(samples, dtype=float)
    if batches < 2:
        raise ValueError("batches must be >= 2")
    size = x.size // batches
    if size < 2:
        return (float(x.mean()) if x.size else float("nan")), float("nan")
    means = x[: size * batches].reshape(batches, size).mean(axis=1)
    _, half = t_interval(means, confidence)
    return float(x.mean()), half


def coefficient_of_variation(x: Sequence[float] | np.ndarray) -> float:
    """Sample standard deviation over mean (CV)."""
    a = np.asarray(x, dtype=float)
    if a.size < 2 or a.mean() == 0:
        return float("nan")
    return float(a.std(ddof=1) / abs(a.mean()))


def jain_index(x: Sequence[float] | np.ndarray) -> float:
    """Jain's fairness index ``(Σx)² / (n·Σx²)``, in [1/n, 1] (Jain, Chiu & Hawe, 1984).

    All-zero input counts as perfectly fair (1.0).
    """
    a = np.asarray(x, dtype=float)
    if a.size == 0:
        raise ValueError("jain_index needs at least one value")
    if np.any(a < 0):
        raise ValueError("jain_index needs non-negative values")
    sq = float(np.dot(a, a))
    if sq == 0.0:
        return 1.0
    return float(a.sum() ** 2 / (a.size * sq))


def summarize(
    df: pd.DataFrame,
    by: Sequence[str],
    value: str = "value",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per group: n, mean, std, CV, and the Student-t CI across the rows of the group.

    Typically ``df`` holds one row per replication and metric, and ``by`` names the metric
    and any other key columns. Non-finite values (a replication that produced no estimate)
    are left out of every statistic, and ``n`` counts the values actually used.
    """
    by = list(by)
    rows = []
    for key, grp in df.groupby(by, sort=True, dropna=False):
        x = grp[value].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        mean, half = t_interval(x, confidence)
        std = float(np.std(x, ddof=1)) if x.size > 1 else float("nan")
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            (*key, x.size, mean, std, coefficient_of_variation(x), mean - half, mean + half)
        )
    cols = [*by, "n", "mean", "std", "cv", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)
