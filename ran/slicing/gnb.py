"""The sliced gNB on the engine: three slices, per-TTI scheduling, a KPM report every 250 ms.

One engine event per report period: at the start of each period the gNB computes all its
TTIs at once (channel -> CQI/MCS -> traffic -> schedulers -> buffers) with the RBG split in
force, and publishes the period's KPM report (Colosseum columns) in :attr:`SlicingGnb.report`.

Link adaptation: the UE measures its CQI every :data:`CQI_PERIOD_TTI` TTIs, the gNB uses it
:data:`CQI_DELAY_TTI` TTIs later (36.213 periodic CSI); the MCS follows from the CQI
(:mod:`.phy`); a transport block is lost when the SINR at transmission is below the MCS's
threshold, and its bits stay queued (HARQ retransmission). Uplink: the gNB picks the UL MCS
from the UL SINR measured with the same delay; power headroom (36.213 §5.1.1.1 open-loop
control, α = 1) is ``PHR = PHR_REF - ΔPL - 10 log10(M_PRB)`` dB, reported within 0..31 like
the Colosseum logs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from netsim import Simulation

from .channel import DISTANCE_M, FADING_BLOCK_TTI, Channel, ChannelParams
from .kpm import REPORT_S, SCHEDULING_POLICY, downlink_kpis, uplink_kpis
from .phy import (
    MCS_ITBS,
    N_RBG,
    TTI_S,
    cqi_from_sinr_db,
    mcs_from_cqi,
    required_sinr_db,
    slice_prbs,
)
from .schedulers import POLICIES, UL_PRBS, schedule_block, uplink_block
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
CQI_DELAY_TTI = 4
PHR_REF_DB = 40.0
PHR_RANGE_DB = (0.0, 31.0)
PF_TIME_CONSTANT_S = 1.0
IMSI_BASE = 1010123456002
_ITBS = np.append(MCS_ITBS, -1)  # index -1 (no MCS) -> -1
_MCS_OF_CQI = mcs_from_cqi(np.arange(16))
_REQ_SINR = np.append(required_sinr_db(np.arange(MCS_ITBS.size)), np.inf)
_POLICY_CODE = np.arange(3, dtype=float)
_PF_ALPHA = 1.0 - np.exp(-REPORT_S / PF_TIME_CONSTANT_S)
#: report periods whose traffic, channel and link adaptation are drawn together
CHUNK_PERIODS = 16


def check_rbgs(rbgs) -> np.ndarray:
    """A valid RBG split (mMTC, URLLC, eMBB): three integers >= 1 summing to 17."""
    r = np.asarray(rbgs, dtype=np.int64)
    if r.shape != (3,) or (r < 1).any() or int(r.sum()) != N_RBG:
        raise ValueError(
            f"rbgs: need 3 slices with >= 1 RBG each summing to {N_RBG} (got {list(rbgs)})"
        )
    return r


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
                                 f"{', '.join(DISTANCE_M)} or metres)")  # fmt: skip
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
        for p in policies:
            if p not in POLICIES:
                raise ValueError(
                    f"scheduler: unknown policy {p!r} (allowed: {', '.join(POLICIES)})"
                )
        self.sim = sim
        self.ues = list(ues)
        self.n = len(self.ues)
        self.rbgs = check_rbgs(rbgs)
        self.policies = tuple(policies)
        setup = sim.rng("ran.traffic.setup")
        specs = [u.traffic or make_ue_traffic(u.traffic_class, traffic, setup, embb_rate_mbps)
                 for u in self.ues]  # fmt: skip
        self.traffic = TrafficMix(specs, sim.rng("ran.traffic"))
        self.true_class = np.array([CLASSES.index(u.traffic_class) for u in self.ues])
        channel = channel if channel is not None else ChannelParams()
        self.channel = Channel([u.distance_m() for u in self.ues], [u.speed_mps for u in self.ues],
                               sim.rng("ran.channel"), channel)  # fmt: skip
        if slice_of is None:
            slice_of = [CLASS_SLICE[u.traffic_class] for u in self.ues]
        self.slice_of = np.array(slice_of, dtype=np.int64)
        if self.slice_of.shape != (self.n,) or ((self.slice_of < 0) | (self.slice_of > 2)).any():
            raise ValueError("slice_of: need one slice id in 0..2 per UE")
        z = np.zeros(self.n, dtype=np.int64)
        self.dl_buffer, self.ul_buffer = z.copy(), z.copy()
        self.pf_avg = np.ones(self.n)
        self._bytes = [np.zeros(self.n), np.zeros(self.n)]  # arrived so far, DL / UL
        self._pkts = [np.zeros(self.n), np.zeros(self.n)]
        self._hist: dict[str, np.ndarray] = {}
        self.tti = 0
        self.period_tti = round(REPORT_S / TTI_S)
        self._x: dict[str, np.ndarray] = {}
        self._x_tti = 0
        self._x_next = CHUNK_PERIODS
        self._uplink: dict[str, np.ndarray] = {}
        self._ones = np.ones(self.period_tti)
        local = np.arange(CHUNK_PERIODS * self.period_tti)
        self._own_block = local // FADING_BLOCK_TTI
        # CQI reported at the last CQI instant <= t - delay; chunks start on a CQI instant
        self._src_block = (local - CQI_DELAY_TTI) // FADING_BLOCK_TTI + 1
        self.policies_code = np.array([SCHEDULING_POLICY[p] for p in self.policies])
        self.report: dict[str, np.ndarray] | None = None
        self.reports: list[dict[str, np.ndarray]] | None = [] if keep_reports else None
        self.listeners: list[Callable[[SlicingGnb], None]] = []
        self.passes = 0
        self._ident = {
            "num_ues": np.full(self.n, float(self.n)),
            "IMSI": IMSI_BASE + np.arange(self.n),
            "RNTI": 70.0 + np.arange(self.n),
            "slicing_enabled": np.ones(self.n),
            "power_multiplier": np.ones(self.n),
        }
        sim.every(REPORT_S, self._period, first=0.0)

    # -- control ------------------------------------------------------------------------------
    def set_rbgs(self, rbgs) -> None:
        """New RBG split, in force from the next report period."""
        self.rbgs = check_rbgs(rbgs)

    def move_ue(self, ue: int, slice_id: int) -> None:
        """Serve UE ``ue`` in slice ``slice_id`` from the next report period."""
        if slice_id not in (0, 1, 2):
            raise ValueError(f"slice_id: must be 0, 1 or 2 (got {slice_id})")
        self.slice_of[ue] = slice_id

    def users_per_slice(self) -> np.ndarray:
        return np.bincount(self.slice_of, minlength=3)

    # -- exogenous processes, a chunk of periods at a time -------------------------------------
    def _in_use(self, key: str, per_block: np.ndarray, t0: int) -> np.ndarray:
        """Per TTI of the chunk starting at TTI ``t0``: the measurement (one per CQI period)
        taken at the last CQI instant ``<= t - CQI_DELAY_TTI``."""
        last = self._hist.get(key, per_block[0])
        self._hist[key] = per_block[-1]
        ext = np.concatenate([last[None], per_block])  # ext[0]: the period before the chunk
        return ext[self._src_block]

    def _exogenous(self) -> None:
        """Traffic, channel, link adaptation and the whole uplink of the next
        :data:`CHUNK_PERIODS` periods: none of them depends on the downlink scheduling, so
        they are computed for many periods at once."""
        n_t, nb, n = self.period_tti, CHUNK_PERIODS, self.n
        t0 = self._x_tti
        arr = self.traffic.block(nb * n_t)
        sinr_b, mean_db = self.channel.sinr_db(nb, n_t, REPORT_S)  # per fading block
        cqi = self._in_use("dl", cqi_from_sinr_db(sinr_b), t0)
        mcs = _MCS_OF_CQI[cqi]
        own = self._own_block
        ul_sinr_b = sinr_b - self.channel.params.ul_gap_db
        ul_mcs = _MCS_OF_CQI[self._in_use("ul", cqi_from_sinr_db(ul_sinr_b), t0)]
        ul_sinr = ul_sinr_b[own]
        ul_margin = ul_sinr - _REQ_SINR[ul_mcs]
        ul_ok = ul_margin >= 0
        ul_buf, ul_served, ul_prbs = uplink_block(arr.ul_bytes * 8, _ITBS[ul_mcs], ul_ok,
                                                  self.ul_buffer, n)  # fmt: skip
        self.ul_buffer = ul_buf[-1].copy()
        p = self.channel.params
        share = max(UL_PRBS // n, 1)
        phr = np.clip(PHR_REF_DB - (p.snr_ref_db - mean_db) - 10 * np.log10(share), *PHR_RANGE_DB)
        shape = (nb, n_t, n)
        per = [
            a.reshape(shape).sum(axis=1)
            for a in (arr.dl_bytes, arr.dl_pkts, arr.ul_bytes, arr.ul_pkts)
        ]
        size = []  # running mean packet size at the end of each period, DL and UL
        for j, (nbytes, npkts) in enumerate(((per[0], per[1]), (per[2], per[3]))):
            cum_b = self._bytes[j] + np.cumsum(nbytes, axis=0)
            cum_p = self._pkts[j] + np.cumsum(npkts, axis=0)
            self._bytes[j], self._pkts[j] = cum_b[-1], cum_p[-1]
            size.append(cum_b / np.maximum(cum_p, 1))
        uplink = uplink_kpis(
            ul_prbs.reshape(shape), ul_mcs.reshape(shape), ul_ok.reshape(shape),
            ul_served.reshape(shape), ul_sinr.reshape(shape), ul_margin.reshape(shape),
            ul_buf.reshape(shape)[:, -1], phr, size[1], REPORT_S,
        )  # fmt: skip
        self._x = {
            "dl_bits": arr.dl_bytes * 8, "itbs": _ITBS[mcs], "mcs": mcs,
            "decoded": sinr_b[own] >= _REQ_SINR[mcs], "dl_size": size[0],
            "dl_cqi": cqi.reshape(shape).mean(axis=1),
        }  # fmt: skip
        self._uplink = uplink
        self._x_tti += nb * n_t
        self._x_next = 0

    # -- one report period ---------------------------------------------------------------------
    def _period(self) -> None:
        if self._x_next >= CHUNK_PERIODS:
            self._exogenous()
        i = self._x_next
        self._x_next += 1
        n_t = self.period_tti
        rows = slice(i * n_t, (i + 1) * n_t)
        x = self._x
        mcs = x["mcs"][rows]
        decoded = x["decoded"][rows]
        res = schedule_block(
            x["dl_bits"][rows], x["itbs"][rows], decoded, self.slice_of, self.rbgs,
            self.policies, self.dl_buffer, self.pf_avg, self.tti,
        )  # fmt: skip
        self.passes = res.passes
        self.dl_buffer = res.buffer[-1].copy()
        report = downlink_kpis(res.prbs, 3 * res.need, mcs, decoded, res.served, self.dl_buffer,
                               x["dl_size"][i], REPORT_S)  # fmt: skip
        report["dl_cqi"] = x["dl_cqi"][i]
        for key, val in self._uplink.items():
            report[key] = val[i]
        report.update(self._ident)
        self.tti += n_t
        report["Timestamp"] = np.full(self.n, round(self.tti * TTI_S * 1000))
        report["slice_id"] = self.slice_of.astype(float)
        report["slice_prb"] = slice_prbs(self.rbgs)[self.slice_of].astype(float)
        report["scheduling_policy"] = _POLICY_CODE[self.policies_code[self.slice_of]]
        self.pf_avg = (1 - _PF_ALPHA) * self.pf_avg + _PF_ALPHA * (self._ones @ res.served) / n_t
        self.report = report
        if self.reports is not None:
            self.reports.append(report)
        for listener in self.listeners:
            listener(self)
