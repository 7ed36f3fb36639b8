"""Beam load: other terminals sharing a beam's forward carrier.

The number of other active terminals in beam ``b`` is an M(t)/M/∞ process: sessions arrive
as a Poisson process of rate ``λ_b(t) = n̄_b·d(t)/τ`` and last Exp(τ). It is simulated exactly
on a grid of step Δ by ``n(t+Δ) = Binomial(n(t), e^(-Δ/τ)) + Poisson(λ·τ·(1 - e^(-Δ/τ)))``
(thinning of survivors plus new arrivals still active). ``n̄_b`` is log-normal across beams
(busy and quiet beams) and ``d(t)`` a diurnal profile peaking in the evening (local solar
time from the beam longitude). A full-buffer user gets an equal time share of the DVB-S2
carrier, ``R = η(Es/N0)·Rs / (1 + n)`` (round-robin TDM).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BeamLoad", "simulate_load", "diurnal_factor", "user_share"]


def diurnal_factor(local_hour):
    """Relative demand over the day: 0.35 at 04:00, 1.0 around 20:00 (smooth cosine)."""
    h = np.asarray(local_hour, dtype=float)
    return 0.675 + 0.325 * np.cos(2 * np.pi * (h - 20.0) / 24.0)


def user_share(load):
    """Fraction of the carrier a full-buffer user gets with ``load`` other active users."""
    return 1.0 / (1.0 + np.asarray(load, dtype=float))


@dataclass
class BeamLoad:
    """Other active users per beam on a time grid: ``counts[k, b]`` at ``t0_s + k·step_s``."""

    t0_s: float
    step_s: float
    counts: np.ndarray  # (K, B) int

    def at(self, t_s, beam):
        """Load of ``beam`` (array of indices) at times ``t_s`` (sample-and-hold)."""
        k = np.clip(
            ((np.asarray(t_s, dtype=float) - self.t0_s) // self.step_s).astype(int),
            0,
            self.counts.shape[0] - 1,
        )
        return self.counts[k, np.asarray(beam)]


def simulate_load(
    rng: np.random.Generator,
    beam_lon_deg,
    t0_s: float,
    t1_s: float,
    epoch_hour_utc: float,
    mean_users: float = 6.0,
    spread: float = 0.6,
    session_s: float = 600.0,
    step_s: float = 10.0,
) -> BeamLoad:
    """Simulate every beam's load over ``[t0_s, t1_s]`` starting from the stationary
    Poisson distribution (``epoch_hour_utc``: UTC hour at t = 0)."""
    if mean_users < 0 or session_s <= 0 or step_s <= 0:
        raise ValueError("mean_users must be >= 0, session_s and step_s > 0")
    lon = np.asarray(beam_lon_deg, dtype=float)
    nbar = mean_users * np.exp(spread * rng.standard_normal(lon.size) - spread**2 / 2)
    times = np.arange(t0_s, t1_s + step_s, step_s)
    local = (epoch_hour_utc + times[:, None] / 3600.0 + lon[None, :] / 15.0) % 24.0
    mean = nbar[None, :] * diurnal_factor(local)  # stationary mean of the M/M/inf process
    keep = np.exp(-step_s / session_s)
    counts = np.empty((times.size, lon.size), dtype=np.int64)
    n = rng.poisson(mean[0])
    for k in range(times.size):
        if k:
            n = rng.binomial(n, keep) + rng.poisson(mean[k] * (1.0 - keep))
        counts[k] = n
    return BeamLoad(float(t0_s), float(step_s), counts)
