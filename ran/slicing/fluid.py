"""A contested sliced cell, batched: many independent copies stepped in one compiled call.

The TRACTOR gNB (:mod:`.gnb`) schedules every TTI of a 250 ms report and its traffic leaves
the cell underloaded, so its slicing problem is nearly degenerate (issue 13). This model poses
a contested one, fast enough to train on and to run hundreds of copies side by side:

* **Carrier.** The same 10 MHz LTE carrier: 50 PRBs in 17 RBGs (:mod:`.phy`); a split gives
  each slice (mMTC, URLLC, eMBB) >= 1 RBG, PRBs as :func:`.phy.slice_prbs`.
* **Time.** A decision every :data:`DECISION_S` = 100 ms (a near-RT RIC control loop);
  inside it, :data:`N_SUB` sub-steps of :data:`SUB_TTI` = 10 TTIs. Channel and link
  adaptation are constant over a decision period (block fading, coherence time of static
  UEs at 1 Hz Doppler ~ 400 ms); traffic arrives per sub-step.
* **Channel.** Per UE, a placement drawn among Colosseum's 20 / 50 / 100 m, log-distance
  mean SNR (:func:`.channel.mean_snr_db`, 25 dB at 20 m, exponent 3), log-normal shadowing
  (σ 4 dB, per episode), and Rician (K = 10 dB) block fading whose diffuse part is a
  Gauss-Markov process with ``ρ = J0(2π f_D T)`` (Clarke/Jakes; f_D = 1 Hz, T = 100 ms).
* **Link adaptation.** CQI and MCS as ns-3's LteAmc (:func:`.phy.cqi_from_sinr_db`,
  :func:`.phy.mcs_from_cqi`); a UE holding a slice of ``P`` PRBs alone sends
  ``TBS(I_TBS, P)`` bits per TTI (36.213 Table 7.1.7.2.1-1).
* **Intra-slice scheduling.** Fluid proportional fair: in a sub-step each slice is shared in
  time among its UEs with data. With time shares ``t_u`` (sum 1) and rates ``R_u`` the PF
  allocation maximises ``Σ log(t_u R_u)``, i.e. equal shares ``t_u = 1/m`` (Kelly 1997); a
  UE whose data needs less time than its share gives the rest back (water-filling), so the
  slice is work-conserving.
* **Traffic** (time-varying, so that the best split changes within an episode):
  eMBB UEs alternate on/off sessions (geometric, mean on :data:`EMBB_ON_S`, off
  :data:`EMBB_OFF_S`) at a CBR rate drawn per session in :data:`EMBB_RATE_MBPS`; URLLC UEs
  are two-state MMPPs of :data:`URLLC_PACKET_BYTES`-byte packets (normal / burst rates
  :data:`URLLC_RATE_PPS`, mean burst :data:`URLLC_BURST_S`); mMTC devices send small
  Poisson packets, with cell-wide alarm storms (:data:`MMTC_RATE_PPS`).
* **Queues.** eMBB and mMTC bits wait in a per-UE buffer capped at :data:`BUFFER_CAP_BITS`
  (drop-tail). URLLC bits have a :data:`URLLC_BUDGET_MS` delay budget: what is not served in
  the sub-step it arrives in is late and discarded.

Scores of a decision period, each in [0, 1]: eMBB and mMTC, the fraction of the slice's
pending bits (backlog at the start plus arrivals) that were served; URLLC, the fraction of
its arrived bits delivered within the budget (1 when nothing arrived or was pending). The
reward is their mean. Per-slice latency: URLLC on-time share; eMBB/mMTC queueing delay by
Little's law (mean backlog / throughput).

Random numbers: each copy owns a generator and draws uniforms in chunks of
:data:`CHUNK_STEPS` decision periods; the kernel turns them into fading (Box-Muller) and
arrivals (Poisson by inversion). A copy's trajectory depends only on its own generator and
actions, so a batch of N copies is bit-identical to N single copies, and a copy can be
evaluated one step ahead under every split on the same random numbers (:meth:`FluidCell.peek`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit
from scipy.special import j0

from .channel import STATIC_DOPPLER_HZ, STATIC_K_DB, ChannelParams, mean_snr_db
from .phy import MCS_ITBS, N_RBG, NS3_CQI_EFFICIENCY, SNR_GAP_DB, mcs_from_cqi, tbs_table

__all__ = [
    "DECISION_S",
    "N_SUB",
    "SUB_TTI",
    "SPLITS",
    "split_index",
    "CellParams",
    "FluidCell",
    "N_STATS",
    "STAT_NAMES",
]

DECISION_S = 0.1
SUB_TTI = 10
N_SUB = 10
TTI_S = 1e-3
SUB_S = SUB_TTI * TTI_S
CHUNK_STEPS = 32
#: every split of the 17 RBGs with >= 1 RBG per slice, in lexicographic order (120)
SPLITS = np.array(
    [(a, b, N_RBG - a - b) for a in range(1, N_RBG - 1) for b in range(1, N_RBG - a)],
    dtype=np.int64,
)

EMBB_ON_S, EMBB_OFF_S = 2.0, 2.0
EMBB_RATE_MBPS = (1.0, 6.0)
URLLC_PACKET_BYTES = 300
URLLC_RATE_PPS = (50.0, 2000.0)  # normal, burst
URLLC_BURST_S, URLLC_CALM_S = 0.5, 3.0
URLLC_BUDGET_MS = 10.0
MMTC_PACKET_BYTES = 100
MMTC_RATE_PPS = (10.0, 800.0)  # per device: normal, during a storm
MMTC_STORM_S, MMTC_CALM_S = 0.5, 5.0
BUFFER_CAP_BITS = 1e6

#: per-slice statistics of a decision period, in this order (each a (3,) row)
STAT_NAMES = ("arrived_bits", "served_bits", "pending_bits", "backlog_bits", "lost_bits",
              "score", "bits_per_prb_tti")
N_STATS = len(STAT_NAMES)
_ARR, _SRV, _PEND, _BACK, _LOST, _SCORE, _BPP = range(N_STATS)


def split_index(split) -> int:
    """Index in :data:`SPLITS` of a split ``(mMTC, URLLC, eMBB)``; ValueError if invalid."""
    s = tuple(int(x) for x in split)
    hit = np.flatnonzero((SPLITS == np.array(s)).all(axis=1))
    if len(s) != 3 or hit.size != 1:
        raise ValueError(f"split: need 3 RBG counts >= 1 summing to {N_RBG} (got {list(s)})")
    return int(hit[0])


@dataclass(frozen=True)
class CellParams:
    """Traffic and channel parameters of :class:`FluidCell` (defaults: the module constants).

    Per-step probabilities come from mean sojourn times ``T`` as ``1 - exp(-Δ/T)``."""

    users: tuple[int, int, int] = (3, 3, 4)
    distances_m: tuple[float, ...] = (20.0, 50.0)
    snr_ref_db: float = 25.0
    pathloss_exponent: float = 3.0
    shadowing_db: float = 4.0
    embb_on_s: float = EMBB_ON_S
    embb_off_s: float = EMBB_OFF_S
    embb_rate_mbps: tuple[float, float] = EMBB_RATE_MBPS
    urllc_rate_pps: tuple[float, float] = URLLC_RATE_PPS
    urllc_burst_s: float = URLLC_BURST_S
    urllc_calm_s: float = URLLC_CALM_S
    mmtc_rate_pps: tuple[float, float] = MMTC_RATE_PPS
    mmtc_storm_s: float = MMTC_STORM_S
    mmtc_calm_s: float = MMTC_CALM_S
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def vector(self) -> np.ndarray:
        """The numeric parameters the kernel reads, in its order."""
        p = lambda t: 1.0 - np.exp(-DECISION_S / t)  # noqa: E731 - per-step switch probability
        w = np.asarray(self.weights, dtype=float)
        v = np.array([
            p(self.embb_on_s), p(self.embb_off_s),
            self.embb_rate_mbps[0] * 1e6 * SUB_S, self.embb_rate_mbps[1] * 1e6 * SUB_S,
            self.urllc_rate_pps[0] * SUB_S, self.urllc_rate_pps[1] * SUB_S,
            p(self.urllc_burst_s), p(self.urllc_calm_s), 8.0 * URLLC_PACKET_BYTES,
            self.mmtc_rate_pps[0] * SUB_S, self.mmtc_rate_pps[1] * SUB_S,
            p(self.mmtc_storm_s), p(self.mmtc_calm_s), 8.0 * MMTC_PACKET_BYTES,
            BUFFER_CAP_BITS, *(w / w.sum()),
        ])
        return np.append(v, np.exp(-v[[4, 5, 9, 10]]))  # e^-λ of the four Poisson rates


@lru_cache(maxsize=1)
def _tables():
    itbs_of_cqi = np.append(-1, MCS_ITBS[mcs_from_cqi(np.arange(1, 16))]).astype(np.int64)
    return (np.ascontiguousarray(tbs_table()), itbs_of_cqi,
            np.ascontiguousarray(NS3_CQI_EFFICIENCY[1:]))


@njit(cache=True, inline="always")
def _poisson(lam, exp_minus_lam, u):
    """Poisson(``lam``) by inversion of the uniform ``u`` (sequential search of the CDF,
    Devroye 1986, §X.3); ``exp_minus_lam`` = e^-λ."""
    k = 0
    p = exp_minus_lam
    c = p
    while u > c and k < 10_000:
        k += 1
        p *= lam / k
        c += p
    return k


@njit(cache=True)
def _step(split, slice_of, mean_db, h_re, h_im, buf, on, rate, burst, storm, u, par, rho,
          los, scatter, tbs, itbs_of_cqi, cqi_eff, gap_lin, stats):
    """One decision period of one copy (state arrays updated in place); returns the reward.

    ``u`` holds the period's uniforms: per UE ``[f1, f2, switch, rate, a_0 .. a_{N_SUB-1}]``,
    then one for the storm. ``stats`` ``(N_STATS, 3)`` receives :data:`STAT_NAMES`."""
    n = slice_of.size
    w = 4 + N_SUB
    prbs = _split_prbs_of(split)
    # -- state switches at the start of the period -------------------------------------------
    us = u[n * w]
    if storm[0]:
        if us < par[11]:
            storm[0] = 0
    elif us < par[12]:
        storm[0] = 1
    stats[:] = 0.0
    itbs = np.empty(n, dtype=np.int64)
    cap = np.empty(n)  # bits per sub-step holding the whole slice
    for i in range(n):
        b = i * w
        s = slice_of[i]
        if s == 2:
            if on[i]:
                if u[b + 2] < par[0]:
                    on[i] = 0
            elif u[b + 2] < par[1]:
                on[i] = 1
                rate[i] = par[2] + (par[3] - par[2]) * u[b + 3]
        elif s == 1:
            if burst[i]:
                if u[b + 2] < par[6]:
                    burst[i] = 0
            elif u[b + 2] < par[7]:
                burst[i] = 1
        # fading: Gauss-Markov diffuse part, complex normal by Box-Muller
        r = np.sqrt(-2.0 * np.log(1.0 - u[b]))
        zr = r * np.cos(2.0 * np.pi * u[b + 1]) / np.sqrt(2.0)
        zi = r * np.sin(2.0 * np.pi * u[b + 1]) / np.sqrt(2.0)
        c = np.sqrt(1.0 - rho * rho)
        h_re[i] = rho * h_re[i] + c * zr
        h_im[i] = rho * h_im[i] + c * zi
        gr = los + scatter * h_re[i]
        gi = scatter * h_im[i]
        gain = max(gr * gr + gi * gi, 1e-12)
        sinr_lin = 10.0 ** (mean_db[i] / 10.0) * gain
        eff = np.log2(1.0 + sinr_lin / gap_lin)
        cqi = 0
        for k in range(cqi_eff.size):
            if cqi_eff[k] < eff:
                cqi = k + 1
        itbs[i] = itbs_of_cqi[cqi]
        cap[i] = SUB_TTI * tbs[itbs[i], prbs[s]]
        stats[_BPP, s] += tbs[itbs[i], 10] / 10.0
        stats[_PEND, s] += buf[i]
    # -- sub-steps ----------------------------------------------------------------------------
    demand = np.empty(n)
    served = np.empty(n)
    order = np.empty(n, dtype=np.int64)
    for j in range(N_SUB):
        for i in range(n):
            s = slice_of[i]
            a = u[i * w + 4 + j]
            if s == 2:
                arr = rate[i] if on[i] else 0.0
            elif s == 1:
                if burst[i]:
                    arr = _poisson(par[5], par[19], a) * par[8]
                else:
                    arr = _poisson(par[4], par[18], a) * par[8]
            elif storm[0]:
                arr = _poisson(par[10], par[21], a) * par[13]
            else:
                arr = _poisson(par[9], par[20], a) * par[13]
            stats[_ARR, s] += arr
            stats[_PEND, s] += arr
            demand[i] = arr if s == 1 else buf[i] + arr
        for s in range(3):
            _share_time(s, slice_of, demand, cap, served, order)
        for i in range(n):
            s = slice_of[i]
            stats[_SRV, s] += served[i]
            left = demand[i] - served[i]
            if s == 1:
                stats[_LOST, s] += left
                buf[i] = 0.0
            else:
                keep = min(left, par[14])
                stats[_LOST, s] += left - keep
                buf[i] = keep
                stats[_BACK, s] += keep / N_SUB  # mean backlog over the sub-steps
    reward = 0.0
    counts = np.zeros(3)
    for i in range(n):
        counts[slice_of[i]] += 1
    for s in range(3):
        if counts[s] > 0:
            stats[_BPP, s] /= counts[s]
        pend = stats[_ARR, s] if s == 1 else stats[_PEND, s]
        stats[_SCORE, s] = stats[_SRV, s] / pend if pend > 0 else 1.0
        if stats[_SCORE, s] > 1.0:
            stats[_SCORE, s] = 1.0
        reward += par[15 + s] * stats[_SCORE, s]
    return reward


@njit(cache=True, inline="always")
def _split_prbs_of(split):
    out = np.empty(3, dtype=np.int64)
    for s in range(3):
        out[s] = 3 * split[s]
    out[2] -= 1  # the eMBB slice holds the 2-PRB RBG
    return out


@njit(cache=True)
def _share_time(s, slice_of, demand, cap, served, order):
    """Fluid PF in slice ``s`` for one sub-step: equal time shares of the UEs with data and a
    usable channel, the time a UE does not need given back to the others (water-filling)."""
    m = 0
    for i in range(slice_of.size):
        if slice_of[i] == s:
            served[i] = 0.0
            if demand[i] > 0 and cap[i] > 0:
                # insertion sort by the time needed, demand/cap (ties: lower index first)
                need = demand[i] / cap[i]
                k = m
                while k > 0 and demand[order[k - 1]] / cap[order[k - 1]] > need:
                    order[k] = order[k - 1]
                    k -= 1
                order[k] = i
                m += 1
    left = 1.0
    for k in range(m):
        i = order[k]
        share = left / (m - k)
        need = demand[i] / cap[i]
        if need <= share:
            served[i] = demand[i]
            left -= need
        else:
            served[i] = share * cap[i]
            left -= share


@njit(cache=True)
def _step_batch(idx, splits, slice_of, mean_db, h_re, h_im, buf, on, rate, burst, storm, chunk,
                pos, par, rho, los, scatter, tbs, itbs_of_cqi, cqi_eff, gap_lin, rewards,
                stats):
    """:func:`_step` for the copies ``idx``, each with its split and its chunk's next row."""
    for k in range(idx.size):
        e = idx[k]
        rewards[e] = _step(splits[e], slice_of, mean_db[e], h_re[e], h_im[e], buf[e], on[e],
                           rate[e], burst[e], storm[e], chunk[e, pos[e]], par, rho[e], los,
                           scatter, tbs, itbs_of_cqi, cqi_eff, gap_lin, stats[e])
        pos[e] += 1


@njit(cache=True)
def _peek(e, slice_of, mean_db, h_re, h_im, buf, on, rate, burst, storm, row, par, rho, los,
          scatter, tbs, itbs_of_cqi, cqi_eff, gap_lin, splits, out):
    """Reward of copy ``e``'s next period under every split in ``splits``, each from a copy of
    its state and on the same uniforms ``row``."""
    st = np.empty((N_STATS, 3))
    for k in range(splits.shape[0]):
        out[k] = _step(splits[k], slice_of, mean_db[e].copy(), h_re[e].copy(), h_im[e].copy(),
                       buf[e].copy(), on[e].copy(), rate[e].copy(), burst[e].copy(),
                       storm[e].copy(), row, par, rho, los, scatter, tbs, itbs_of_cqi,
                       cqi_eff, gap_lin, st)


class FluidCell:
    """``n_envs`` independent copies of the contested cell, each with its own generator.

    Args:
        n_envs: number of copies.
        params: traffic and channel parameters (same for every copy).
    """

    def __init__(self, n_envs: int, params: CellParams | None = None):
        self.params = params if params is not None else CellParams()
        p = self.params
        self.n_envs = int(n_envs)
        self.slice_of = np.repeat(np.arange(3), p.users).astype(np.int64)
        n, e = self.slice_of.size, self.n_envs
        if n < 1:
            raise ValueError("users: need at least one UE")
        self.n_ue = n
        self.width = n * (4 + N_SUB) + 1
        self.par = self.params.vector()
        self._tbs, self._itbs_of_cqi, self._cqi_eff = _tables()
        self._gap_lin = float(10.0 ** (SNR_GAP_DB / 10.0))
        k = 10.0 ** (STATIC_K_DB / 10.0)
        self._los, self._scatter = float(np.sqrt(k / (k + 1))), float(np.sqrt(1 / (k + 1)))
        self.rho = np.full(e, float(j0(2.0 * np.pi * STATIC_DOPPLER_HZ * DECISION_S)))
        self.mean_db = np.zeros((e, n))
        self.h_re, self.h_im, self.buf, self.rate = (np.zeros((e, n)) for _ in range(4))
        self.on = np.zeros((e, n), dtype=np.int8)
        self.burst = np.zeros((e, n), dtype=np.int8)
        self.storm = np.zeros((e, 1), dtype=np.int8)
        self.splits = np.zeros((e, 3), dtype=np.int64)
        self.chunk = np.zeros((e, CHUNK_STEPS, self.width))
        self.pos = np.full(e, CHUNK_STEPS, dtype=np.int64)
        self.rewards = np.zeros(e)
        self.stats = np.zeros((e, N_STATS, 3))
        self.rngs: list[np.random.Generator | None] = [None] * e

    def reset_copy(self, e: int, rng: np.random.Generator, split=(3, 5, 9)) -> None:
        """Start copy ``e`` afresh from generator ``rng``: placements, shadowing, fading and
        traffic states are drawn from it; empty buffers."""
        p, n = self.params, self.n_ue
        self.rngs[e] = rng
        dist = np.asarray(p.distances_m, dtype=float)[rng.integers(0, len(p.distances_m), n)]
        chan = ChannelParams(snr_ref_db=p.snr_ref_db, pathloss_exponent=p.pathloss_exponent)
        self.mean_db[e] = mean_snr_db(dist, chan) + rng.normal(0.0, p.shadowing_db, n)
        h = rng.standard_normal(2 * n) / np.sqrt(2.0)
        self.h_re[e], self.h_im[e] = h[:n], h[n:]
        self.buf[e] = 0.0
        start = rng.random((3, n))
        par = self.par
        on_frac = p.embb_on_s / (p.embb_on_s + p.embb_off_s)
        burst_frac = p.urllc_burst_s / (p.urllc_burst_s + p.urllc_calm_s)
        self.on[e] = (self.slice_of == 2) & (start[0] < on_frac)
        self.rate[e] = par[2] + (par[3] - par[2]) * start[1]
        self.burst[e] = (self.slice_of == 1) & (start[2] < burst_frac)
        self.storm[e] = 0
        self.splits[e] = SPLITS[split_index(split)]
        self.pos[e] = CHUNK_STEPS  # the next step draws a fresh chunk
        self.stats[e] = 0.0
        self.rewards[e] = 0.0

    def _ensure_chunk(self, idx) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        for e in idx[self.pos[idx] >= CHUNK_STEPS].tolist():
            self.rngs[e].random(out=self.chunk[e])
            self.pos[e] = 0

    def step(self, idx=None) -> np.ndarray:
        """Advance the copies ``idx`` (default all) one decision period with their current
        :attr:`splits`; returns the rewards of all copies (others unchanged)."""
        idx = np.arange(self.n_envs) if idx is None else np.asarray(idx, dtype=np.int64)
        self._ensure_chunk(idx)
        _step_batch(idx, self.splits, self.slice_of, self.mean_db, self.h_re, self.h_im,
                    self.buf, self.on, self.rate, self.burst, self.storm, self.chunk, self.pos,
                    self.par, self.rho, self._los, self._scatter, self._tbs, self._itbs_of_cqi,
                    self._cqi_eff, self._gap_lin, self.rewards, self.stats)
        return self.rewards

    def peek(self, e: int, splits=SPLITS) -> np.ndarray:
        """Reward copy ``e`` would get in its next period under each split (rows of
        ``splits``), on the same random numbers; the copy's state is unchanged."""
        self._ensure_chunk([e])
        out = np.empty(len(splits))
        _peek(int(e), self.slice_of, self.mean_db, self.h_re, self.h_im, self.buf, self.on,
              self.rate, self.burst, self.storm, self.chunk[e, self.pos[e]], self.par,
              float(self.rho[e]), self._los, self._scatter, self._tbs, self._itbs_of_cqi,
              self._cqi_eff, self._gap_lin, np.ascontiguousarray(splits, dtype=np.int64),
              out)
        return out
