"""Closed-form queueing results (pure functions). Rates are per second, times in seconds.

Notation: arrival rate λ, service rate per server μ, servers c, offered load a = λ/μ,
utilisation ρ = λ/(cμ). W is the mean sojourn (time in system), Wq the mean wait in queue,
L and Lq the time-average numbers in system and queue (Little: L = λW, Lq = λWq).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["QueueMetrics", "erlang_b", "erlang_c", "mm1", "mmc", "mg1", "mm1k", "tandem"]


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state means of one station (or a whole network for ``tandem``)."""

    utilisation: float  # ρ, busy fraction of each server
    wait: float  # Wq (s)
    sojourn: float  # W (s)
    queue_length: float  # Lq
    number_in_system: float  # L


def _check(lam: float, mu: float, c: int = 1) -> None:
    if lam <= 0 or mu <= 0:
        raise ValueError("arrival and service rates must be positive")
    if c < 1:
        raise ValueError("servers must be >= 1")
    if lam >= c * mu:
        raise ValueError(f"unstable queue: rho = {lam / (c * mu):.4g} >= 1")


def erlang_b(c: int, a: float) -> float:
    """Erlang-B blocking probability by the stable recursion B_k = aB_{k-1}/(k + aB_{k-1})."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang-C probability that an arrival waits: C = cB/(c - a(1 - B)), a < c."""
    if a >= c:
        raise ValueError("Erlang C needs a < c")
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc(lam: float, mu: float, c: int) -> QueueMetrics:
    """M/M/c: Wq = C(c, a)/(cμ - λ) (Erlang C)."""
    _check(lam, mu, c)
    wq = erlang_c(c, lam / mu) / (c * mu - lam)
    w = wq + 1.0 / mu
    return QueueMetrics(lam / (c * mu), wq, w, lam * wq, lam * w)


def mm1(lam: float, mu: float) -> QueueMetrics:
    """M/M/1: W = 1/(μ - λ), Wq = ρ/(μ - λ)."""
    return mmc(lam, mu, 1)


def mg1(lam: float, mean_service: float, scv: float) -> QueueMetrics:
    """M/G/1 by Pollaczek-Khinchine: Wq = λE[S²]/(2(1-ρ)), E[S²] = (1 + SCV)·E[S]².

    ``scv`` is the squared coefficient of variation of service (1 exponential, 0
    deterministic).
    """
    _check(lam, 1.0 / mean_service)
    rho = lam * mean_service
    wq = lam * (1.0 + scv) * mean_service**2 / (2.0 * (1.0 - rho))
    w = wq + mean_service
    return QueueMetrics(rho, wq, w, lam * wq, lam * w)


def mm1k(lam: float, mu: float, k: int) -> tuple[float, QueueMetrics]:
    """M/M/1/K (K places in system): stationary p_n ∝ ρⁿ, n = 0..K.

    Returns (blocking probability p_K, metrics of admitted customers; Little's law with the
    admitted rate λ(1 - p_K)). ρ may be ≥ 1.
    """
    if lam <= 0 or mu <= 0 or k < 1:
        raise ValueError("need positive rates and K >= 1")
    n = np.arange(k + 1)
    p = (lam / mu) ** n.astype(float)
    p /= p.sum()
    lam_eff = lam * (1.0 - p[-1])
    L = float((n * p).sum())
    Lq = float((np.maximum(n - 1, 0) * p).sum())
    w = L / lam_eff
    return float(p[-1]), QueueMetrics(1.0 - float(p[0]), Lq / lam_eff, w, Lq, L)


def tandem(
    lam: float, stations: Sequence[tuple[int, float]]
) -> tuple[list[QueueMetrics], QueueMetrics]:
    """Open Jackson tandem: Poisson(λ) through M/M/c_i stations in series.

    By Burke's and Jackson's theorems each station is an independent M/M/c_i fed at λ; the
    network's W and L are sums. ``stations`` holds (c_i, μ_i).
    """
    per = [mmc(lam, mu, c) for c, mu in stations]
    total = QueueMetrics(
        float("nan"),
        sum(m.wait for m in per),
        sum(m.sojourn for m in per),
        sum(m.queue_length for m in per),
        sum(m.number_in_system for m in per),
    )
    return per, total
