"""Per-UE radio channel: distance, mobility, shadowing and fast fading, per TTI.

* Mean SNR: log-distance path loss (Rappaport, *Wireless Communications*, §4.9),
  ``SNR(d) = SNR(d_ref) - 10·n·log10(d/d_ref)`` dB with d_ref = 20 m; the default
  ``SNR(20 m) = 25 dB`` and ``n = 3`` put close / medium / far UEs (Colosseum's 20, 50 and
  100 m placements) at CQI ≈ 15 / 8 / 3 before fading.
* Shadowing: log-normal, σ dB; for moving UEs correlated in distance with Gudmundson's model
  ``ρ = exp(-Δd / d_corr)`` (Electron. Lett. 27(23), 1991).
* Fast fading: block fading, constant over :data:`FADING_BLOCK_TTI` TTIs (the CQI period,
  below the 7 ms coherence time at 3 m/s and 2.6 GHz), a complex Gauss-Markov (AR(1))
  process from block to block with ``ρ = J0(2π f_D T_block)`` (Clarke/Jakes),
  ``f_D = v f_c / c``; static UEs are Rician with K = 10 dB and a 1 Hz environmental
  Doppler, moving UEs (3 m/s) Rayleigh. The diffuse part follows
  ``h_k = ρ h_{k-1} + sqrt(1 - ρ²) w_k``, ``w_k ~ CN(0, 1)`` (:func:`gauss_markov`).
* Mobility: random direction model (Royer, Melliar-Smith & Moser, ICC 2001) at constant speed,
  heading redrawn every 10 s on average and reversed at the 10 m / 150 m ring edges.
* Uplink SINR = downlink SINR - ``ul_gap_db`` (UE power below the gNB's), same fading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.special import j0

__all__ = [
    "DISTANCE_M",
    "ChannelParams",
    "Channel",
    "mean_snr_db",
    "ar1_coefficient",
    "gauss_markov",
]

#: Colosseum placements (m)
DISTANCE_M = {"close": 20.0, "medium": 50.0, "far": 100.0}
CARRIER_HZ = 2.6e9
LIGHT_MPS = 299_792_458.0
RING_M = (10.0, 150.0)
STATIC_DOPPLER_HZ = 1.0
STATIC_K_DB = 10.0
TURN_RATE_HZ = 0.1
#: TTIs per fading block (= CQI period)
FADING_BLOCK_TTI = 5


@dataclass(frozen=True)
class ChannelParams:
    snr_ref_db: float = 25.0  # mean DL SNR at 20 m
    pathloss_exponent: float = 3.0
    shadowing_db: float = 4.0
    shadow_corr_m: float = 10.0
    ul_gap_db: float = 5.0


def mean_snr_db(distance_m, params: ChannelParams) -> np.ndarray:
    """Log-distance mean SNR (dB): ``SNR(20 m) - 10 n log10(d / 20 m)``."""
    d = np.maximum(np.asarray(distance_m, dtype=float), 1.0)
    return params.snr_ref_db - 10.0 * params.pathloss_exponent * np.log10(d / 20.0)


def ar1_coefficient(speed_mps, dt_s: float = FADING_BLOCK_TTI * 1e-3) -> np.ndarray:
    """Correlation of the fading gain over ``dt_s``, ``J0(2π f_D dt)`` with
    ``f_D = v f_c / c`` (1 Hz for static UEs)."""
    fd = np.where(np.asarray(speed_mps) > 0, np.asarray(speed_mps) * CARRIER_HZ / LIGHT_MPS,
                  STATIC_DOPPLER_HZ)
    return np.clip(j0(2.0 * np.pi * fd * dt_s), 0.0, 0.999999)


@njit(cache=True)
def gauss_markov(w, rho, state, out):
    """Complex AR(1) per column: ``out[k] = ρ out[k-1] + sqrt(1 - ρ²) w[k]`` from
    ``out[-1] = state`` (each UE ``u`` with its own ``ρ_u``); ``state`` becomes the last row."""
    blocks, n = w.shape
    for u in range(n):
        r = rho[u]
        c = np.sqrt(1.0 - r * r)
        zr, zi = r * state[u].real, r * state[u].imag
        for k in range(blocks):
            yr = zr + c * w[k, u].real
            yi = zi + c * w[k, u].imag
            out[k, u] = complex(yr, yi)
            zr, zi = r * yr, r * yi
        if blocks:
            state[u] = out[blocks - 1, u]


class Channel:
    """Channels of ``n`` UEs, advanced one block of TTIs at a time.

    Args:
        distance_m: initial distance of each UE from the gNB (m).
        speed_mps: speed of each UE (0 = static).
        rng: the channel's random stream.
    """

    def __init__(self, distance_m, speed_mps, rng: np.random.Generator, params=ChannelParams()):
        self.params = params
        self.rng = rng
        d = np.asarray(distance_m, dtype=float)
        self.speed = np.asarray(speed_mps, dtype=float) * np.ones_like(d)
        n = d.size
        ang = rng.uniform(0, 2 * np.pi, n)
        self.pos = np.stack([d * np.cos(ang), d * np.sin(ang)], axis=1)
        self.heading = rng.uniform(0, 2 * np.pi, n)
        self.shadow_db = rng.normal(0.0, params.shadowing_db, n)
        self.rho = ar1_coefficient(self.speed)
        k = np.where(self.speed > 0, 0.0, 10.0 ** (STATIC_K_DB / 10.0))
        self.los = np.sqrt(k / (k + 1.0))
        self.scatter = np.sqrt(1.0 / (k + 1.0))
        h0 = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2.0)
        self._state = h0  # diffuse component at the last TTI

    @property
    def distance_m(self) -> np.ndarray:
        return np.hypot(self.pos[:, 0], self.pos[:, 1])

    def move(self, dt_s: float) -> None:
        """Advance positions by ``dt_s`` seconds (random direction model) and update the
        correlated shadowing of moving UEs."""
        moving = self.speed > 0
        if not moving.any():
            return
        rng = self.rng
        turn = rng.random(self.speed.size) < TURN_RATE_HZ * dt_s
        self.heading = np.where(turn, rng.uniform(0, 2 * np.pi, self.speed.size), self.heading)
        step = self.speed * dt_s
        new = self.pos + step[:, None] * np.stack([np.cos(self.heading), np.sin(self.heading)], 1)
        r = np.hypot(new[:, 0], new[:, 1])
        out = (r < RING_M[0]) | (r > RING_M[1])
        self.heading = np.where(out, self.heading + np.pi, self.heading)
        self.pos = np.where(out[:, None], self.pos, new)
        rho = np.exp(-step / self.params.shadow_corr_m)
        fresh = rng.normal(0.0, self.params.shadowing_db, self.speed.size)
        self.shadow_db = np.where(
            moving, rho * self.shadow_db + np.sqrt(1 - rho**2) * fresh, self.shadow_db
        )

    def sinr_db(self, n_periods: int, period_tti: int, period_s: float):
        """Downlink SINR (dB) of every UE per fading block for the next ``n_periods`` report
        periods of ``period_tti`` TTIs, shape ``(n_periods·period_tti/FADING_BLOCK_TTI, n)``;
        UEs move ``period_s`` seconds between periods. Also returns the mean SNR (path loss +
        shadowing, dB) per period, ``(n_periods, n)``."""
        rng = self.rng
        n = self.speed.size
        per = period_tti // FADING_BLOCK_TTI
        n_blk = n_periods * per
        w = rng.standard_normal((n_blk, 2 * n)).view(complex) / np.sqrt(2.0)
        diffuse = np.empty((n_blk, n), dtype=complex)
        gauss_markov(w, self.rho, self._state, diffuse)
        gain = np.abs(self.los + self.scatter * diffuse) ** 2
        mean = np.empty((n_periods, n))
        if (self.speed > 0).any():
            for i in range(n_periods):
                mean[i] = mean_snr_db(self.distance_m, self.params) + self.shadow_db
                self.move(period_s)
        else:  # nobody moves: the mean SNR stays put
            mean[:] = mean_snr_db(self.distance_m, self.params) + self.shadow_db
        fading = 10.0 * np.log10(np.maximum(gain, 1e-12))
        return np.repeat(mean, per, axis=0) + fading, mean
