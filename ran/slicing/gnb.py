"""The sliced gNB on the engine: three slices, per-TTI scheduling, a KPM report every 250 ms.

One engine event per report period: at the start of each period the gNB computes all its
TTIs at once (channel -> CQI/MCS -> traffic -> schedulers -> buffers) with the RBG split in
force, and publishes the period's KPM report (Colosseum columns) in :attr:`SlicingGnb.report`.

Link adaptation: the UE measures its CQI every :data:`CQI_PERIOD_TTI` TTIs, the gNB uses it
:data:`~.period.CQI_DELAY_TTI` TTIs later (36.213 periodic CSI); the MCS follows from the CQI
(:mod:`.phy`); a transport block is lost when the SINR at transmission is below the MCS's
threshold, and its bits stay queued (HARQ retransmission). Uplink: the gNB picks the UL MCS
from the UL SINR measured with the same delay; power headroom (36.213 §5.1.1.1 open-loop
control, α = 1) is ``PHR = PHR_REF - ΔPL - 10 log10(M_PRB)`` dB, reported within 0..31 like
the Colosseum logs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from netsim import Simulation

from .channel import DISTANCE_M, FADING_BLOCK_TTI, Channel, ChannelParams
from .kpm import (
    COL,
    KPM_COLUMNS,
    REPORT_S,
    KpmReport,
    period_sums,
    turbo_iterations,
    uplink_columns,
)
from .period import (
    _MCS_OF_CQI,
    _REQ_SINR,
    chunk_arrivals,
    packet_sizes,
    report_period,
    uplink_chunk,
)
from .phy import N_RBG, TTI_S, cqi_from_sinr_db, slice_prbs
from .schedulers import PF_BETA, UL_PRBS, policy_codes, slice_members
from .traffic import CLASSES, TrafficMix, UeTraffic, make_ue_traffic

__all__ = [
    "SLICES",
    "CLASS_SLICE",
    "UeSpec",
    "SlicingGnb",
    "make_ues",
    "check_rbgs",
]

#: slice ids: 0 mMTC, 1 URLLC, 2 eMBB
SLICES = ("mmtc", "urllc", "embb")
#: default slice of each traffic class (control-only UEs sit in the mMTC slice)
CLASS_SLICE = {"mmtc": 0, "urllc": 1, "embb": 2, "ctrl": 0}
CQI_PERIOD_TTI = FADING_BLOCK_TTI  # CQI measured once per fading block
PHR_REF_DB = 40.0
PHR_RANGE_DB = (0.0, 31.0)
IMSI_BASE = 1010123456002
#: report periods whose traffic, channel and link adaptation are drawn together
CHUNK_PERIODS = 16


def check_rbgs(rbgs) -> np.ndarray:
    """A valid RBG split (mMTC, URLLC, eMBB): three integers >= 1 summing to 17."""
    return np.array(_split(tuple(int(x) for x in np.ravel(rbgs))), dtype=np.int64)


@lru_cache(maxsize=256)
def _split(rbgs: tuple) -> tuple[int, int, int]:
    if len(rbgs) != 3 or min(rbgs) < 1 or sum(rbgs) != N_RBG:
        raise ValueError(
            f"rbgs: need 3 slices with >= 1 RBG each summing to {N_RBG} (got {list(rbgs)})"
        )
    return rbgs


@lru_cache(maxsize=256)
def _slice_prb(split: tuple) -> tuple[float, float, float]:
    return tuple(slice_prbs(split).astype(float).tolist())


@dataclass(frozen=True)
class UeSpec:
    """One UE: its traffic class, distance ("close", "medium", "far" or metres), speed
    (m/s; 0 static) and optionally an explicit :class:`UeTraffic`."""

    traffic_class: str
    distance: str | float = "close"
    speed_mps: float = 0.0
    traffic: UeTraffic | None = None

    def distance_m(self) -> float:
        if isinstance(self.distance, str):
            if self.distance not in DISTANCE_M:
                raise ValueError(f"distance: unknown placement {self.distance!r} (allowed: "
                                 f"{', '.join(DISTANCE_M)} or metres)")
            return DISTANCE_M[self.distance]
        return float(self.distance)


def make_ues(
    users: Sequence[int],
    distance: str = "close",
    speed_mps: float = 0.0,
    rng: np.random.Generator | None = None,
) -> list[UeSpec]:
    """UEs for ``users = (n_mMTC, n_URLLC, n_eMBB)``; ``distance="mixed"`` draws each UE's
    placement from close/medium/far with ``rng``."""
    out = []
    for cls, n in zip(SLICES, users, strict=True):
        for _ in range(int(n)):
            d = distance
            if distance == "mixed":
                d = ("close", "medium", "far")[int(rng.integers(3))]
            out.append(UeSpec(cls, d, speed_mps))
    return out


class SlicingGnb:
    """A 10 MHz gNB with three slices on a :class:`netsim.Simulation`.

    Args:
        sim: the simulation.
        ues: the UEs.
        rbgs: initial RBGs of (mMTC, URLLC, eMBB).
        policies: intra-slice scheduler of each slice ("rr", "wf", "pf").
        traffic: "trace" (TRACTOR phone captures) or "commag" (parametric) for UEs without
            an explicit :class:`UeTraffic`.
        embb_rate_mbps: CBR rate of parametric eMBB UEs.
        channel: channel parameters.
        slice_of: initial slice of each UE (default: its class's slice).
        keep_reports: keep every report in :attr:`reports`.
    """

    def __init__(
        self,
        sim: Simulation,
        ues: Sequence[UeSpec],
        rbgs=(3, 5, 9),
        policies=("rr", "wf", "pf"),
        traffic: str = "trace",
        embb_rate_mbps: float = 1.0,
        channel: ChannelParams | None = None,
        slice_of: Sequence[int] | None = None,
        keep_reports: bool = False,
    ):
        if not ues:
            raise ValueError("ues: need at least one UE")
        self.policies_code = policy_codes(policies)
        self.sim = sim
        self.ues = list(ues)
        self.n = len(self.ues)
        self.policies = tuple(policies)
        setup = sim.rng("ran.traffic.setup")
        specs = [u.traffic or make_ue_traffic(u.traffic_class, traffic, setup, embb_rate_mbps)
                 for u in self.ues]
        self.traffic = TrafficMix(specs, sim.rng("ran.traffic"))
        self.true_class = np.array([CLASSES.index(u.traffic_class) for u in self.ues])
        channel = channel if channel is not None else ChannelParams()
        self.channel = Channel([u.distance_m() for u in self.ues], [u.speed_mps for u in self.ues],
                               sim.rng("ran.channel"), channel)
        if slice_of is None:
            slice_of = [CLASS_SLICE[u.traffic_class] for u in self.ues]
        self.slice_of = np.array(slice_of, dtype=np.int64)
        if self.slice_of.shape != (self.n,) or ((self.slice_of < 0) | (self.slice_of > 2)).any():
            raise ValueError("slice_of: need one slice id in 0..2 per UE")
        self.set_rbgs(rbgs)
        self._layout()
        z = np.zeros(self.n, dtype=np.int64)
        self.dl_buffer, self.ul_buffer = z.copy(), z.copy()
        self.pf_avg = np.ones(self.n)
        self._so_far = np.zeros((4, self.n))  # bytes and packets arrived so far, DL then UL
        self._hist: dict[str, np.ndarray] = {}
        self.tti = 0
        self.period_tti = round(REPORT_S / TTI_S)
        self._x: tuple = ()
        self._x_next = CHUNK_PERIODS
        chunk_tti = CHUNK_PERIODS * self.period_tti
        self._dl_bytes = np.zeros((chunk_tti, self.n), dtype=np.int64)  # work arrays
        self._ul_bytes = np.zeros((self.n, chunk_tti), dtype=np.int64)
        self._template = np.zeros((len(KPM_COLUMNS), self.n))
        for key, val in {
            "num_ues": float(self.n),
            "IMSI": IMSI_BASE + np.arange(self.n),
            "RNTI": 70.0 + np.arange(self.n),
            "slicing_enabled": 1.0,
            "power_multiplier": 1.0,
        }.items():
            self._template[COL[key]] = val
        self.report: KpmReport | None = None
        self.reports: list[KpmReport] | None = [] if keep_reports else None
        self.listeners: list[Callable[[SlicingGnb], None]] = []
        sim.every(REPORT_S, self._period, first=0.0)

    # -- control ------------------------------------------------------------------------------
    def set_rbgs(self, rbgs) -> None:
        """New RBG split, in force from the next report period."""
        self.split = _split(tuple(int(x) for x in np.ravel(rbgs)))  # (mMTC, URLLC, eMBB)
        self.rbgs = np.array(self.split, dtype=np.int64)
        self._slice_prb = np.array(_slice_prb(self.split))

    def move_ue(self, ue: int, slice_id: int) -> None:
        """Serve UE ``ue`` in slice ``slice_id`` from the next report period."""
        if slice_id not in (0, 1, 2):
            raise ValueError(f"slice_id: must be 0, 1 or 2 (got {slice_id})")
        if self.slice_of[ue] != slice_id:
            self.slice_of[ue] = slice_id
            self._layout()

    def users_per_slice(self) -> np.ndarray:
        return self._counts.copy()

    def _layout(self) -> None:
        """Per-UE slice data the kernels and reports use (after any move)."""
        self._members, self._counts = slice_members(self.slice_of)

    # -- exogenous processes, a chunk of periods at a time -------------------------------------
    def _extend(self, key: str, per_block: np.ndarray) -> np.ndarray:
        """Measurements per fading block of the chunk, after the last one of the previous
        chunk (the first chunk repeats its first block): row ``j`` of the result is block
        ``j - 1``."""
        last = self._hist.get(key, per_block[0])
        self._hist[key] = per_block[-1]
        return np.concatenate([last[None], per_block])

    def _exogenous(self) -> None:
        """Traffic, channel, link adaptation and the whole uplink of the next
        :data:`CHUNK_PERIODS` periods: none of them depends on the downlink scheduling, so
        they are computed for many periods at once (the reports' uplink columns included)."""
        n_t, nb, n = self.period_tti, CHUNK_PERIODS, self.n
        pk = self.traffic.packets(nb * n_t)
        totals = np.empty((nb, 4, n), dtype=np.int64)
        chunk_arrivals(pk.dl_cell, pk.dl_bytes, pk.ul_cell, pk.ul_bytes, n_t, self._dl_bytes,
                       self._ul_bytes, totals)
        sinr_b, mean_db = self.channel.sinr_db(nb, n_t, REPORT_S)  # per fading block
        cqi_ext = self._extend("dl", cqi_from_sinr_db(sinr_b))
        ul_sinr_b = sinr_b - self.channel.params.ul_gap_db
        ul_cqi_ext = self._extend("ul", cqi_from_sinr_db(ul_sinr_b))
        # decoder effort of a block whose CQI is the previous block's (0) or its own (1)
        req = _REQ_SINR[_MCS_OF_CQI[ul_cqi_ext]]
        iters = turbo_iterations(np.stack([ul_sinr_b - req[:-1], ul_sinr_b - req[1:]]))
        sums = np.empty((nb, 4, n), dtype=np.int64)
        real_sums = np.empty((nb, 2, n))
        ul_buf = np.empty((nb, n), dtype=np.int64)
        # numpy sums a lone UE's terms in another order than time order: keep them for it
        terms = np.empty((2, nb * n_t if n == 1 else 0, n))
        share = max(UL_PRBS // n, 1)
        uplink_chunk(n_t, self._ul_bytes, ul_cqi_ext, ul_sinr_b, iters, share, self.ul_buffer,
                     sums, real_sums, ul_buf, terms)
        if n == 1:
            real_sums = np.stack([period_sums(x.reshape(nb, n_t, n)) for x in terms], axis=1)
        p = self.channel.params
        phr = np.clip(PHR_REF_DB - (p.snr_ref_db - mean_db) - 10 * np.log10(share), *PHR_RANGE_DB)
        size = np.empty((2, nb, n))  # mean packet size so far at each period's end, DL / UL
        packet_sizes(totals, self._so_far, size)
        rows = np.repeat(self._template[None], nb, axis=0)
        uplink_columns(sums, ul_buf, real_sums, phr, size[1], REPORT_S, rows)
        self._x = (self._dl_bytes, cqi_ext, sinr_b, size[0], rows)
        self._x_next = 0

    # -- one report period ---------------------------------------------------------------------
    def _period(self) -> None:
        if self._x_next >= CHUNK_PERIODS:
            self._exogenous()
        i = self._x_next
        self._x_next += 1
        n_t = self.period_tti
        dl_bytes, cqi_ext, sinr_b, dl_size, rows = self._x
        rep = rows[i]
        report_period(i * n_t, n_t, dl_bytes, cqi_ext, sinr_b, self._members, self._counts,
                      self.rbgs, self.policies_code, self.slice_of, self._slice_prb,
                      self.dl_buffer, self.pf_avg, self.tti, dl_size[i], PF_BETA, REPORT_S,
                      rep)
        self.tti += n_t
        self.report = report = KpmReport(rep)
        if self.reports is not None:
            self.reports.append(report)
        for listener in self.listeners:
            listener(self)
