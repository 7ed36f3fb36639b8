"""Configuration of the sliced RAN and the factories that build it.

:class:`RanConfig` holds the TRACTOR gNB's arguments (user mix, RBG split, schedulers,
traffic, placement); :func:`build_gnb` turns one into a :class:`~ran.slicing.gnb.SlicingGnb`.
:class:`CellConfig` holds the contested cell's (:mod:`.fluid`); :meth:`CellConfig.params`
turns one into its :class:`~ran.slicing.fluid.CellParams`. The envs (``envs/oran.py``,
``envs/oran_tractor.py``) and the study (``scenarios/oran_slicing.py``) extend or nest them.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from netsim import Config, Simulation

from .channel import DISTANCE_M, ChannelParams
from .fluid import CellParams
from .gnb import SlicingGnb, make_ues
from .phy import N_RBG

__all__ = [
    "UserCount",
    "Rbg",
    "RanConfig",
    "CellConfig",
    "build_gnb",
    "random_rbgs",
    "MAX_UES_PER_SLICE",
]

MAX_UES_PER_SLICE = 10
UserCount = Annotated[int, Field(ge=0, le=MAX_UES_PER_SLICE)]
Rbg = Annotated[int, Field(ge=1, le=N_RBG - 2)]
Scheduler = Literal["rr", "wf", "pf"]
SPEED_MPS = {"static": 0.0, "mobile": 3.0}


class RanConfig(Config):
    """The sliced gNB: UEs per slice, RBG split, intra-slice schedulers, traffic, radio."""

    users: tuple[UserCount, UserCount, UserCount] = Field(
        (1, 2, 3), description="UEs in the (mMTC, URLLC, eMBB) slices, 0..10 each"
    )
    rbgs: tuple[Rbg, Rbg, Rbg] | None = Field(
        (3, 5, 9), description="RBGs of (mMTC, URLLC, eMBB), >= 1 each, summing to 17"
    )
    schedulers: tuple[Scheduler, Scheduler, Scheduler] = Field(
        ("rr", "wf", "pf"), description="intra-slice scheduler of (mMTC, URLLC, eMBB)"
    )
    traffic: Literal["trace", "commag"] = Field(
        "trace", description="TRACTOR phone-trace replay or COMMAG parametric traffic"
    )
    embb_rate_mbps: float = Field(1.0, ge=0, le=50, description="CBR rate of COMMAG eMBB UEs")
    distance: Literal["close", "medium", "far", "mixed"] = Field(
        "close", description="UE placement: 20, 50, 100 m, or drawn per UE"
    )
    mobility: Literal["static", "mobile"] = Field("static", description="0 or 3 m/s")
    snr_at_20m_db: float = Field(25.0, ge=-10, le=60, description="mean DL SNR at 20 m (dB)")
    pathloss_exponent: float = Field(3.0, ge=2, le=5)

    @model_validator(mode="after")
    def _check(self):
        if sum(self.users) < 1:
            raise ValueError("users: need at least one UE in total")
        if self.rbgs is not None and sum(self.rbgs) != N_RBG:
            raise ValueError(f"rbgs: the split must sum to {N_RBG} RBGs (got {sum(self.rbgs)})")
        return self


Placement = Literal["close", "medium", "far"]
Rate = Annotated[float, Field(ge=0, le=100)]
PacketRate = Annotated[float, Field(ge=0, le=1e5)]
Sojourn = Annotated[float, Field(gt=0, le=3600)]


class CellConfig(Config):
    """The contested cell (:mod:`.fluid`): UEs per slice, placements, time-varying traffic."""

    users: tuple[UserCount, UserCount, UserCount] = Field(
        (3, 3, 4), description="UEs in the (mMTC, URLLC, eMBB) slices, 0..10 each"
    )
    placements: list[Placement] = Field(
        ["close", "medium"], min_length=1,
        description="each UE's distance is drawn among these (20, 50, 100 m) every episode",
    )
    snr_at_20m_db: float = Field(25.0, ge=-10, le=60, description="mean DL SNR at 20 m (dB)")
    pathloss_exponent: float = Field(3.0, ge=2, le=5)
    shadowing_db: float = Field(4.0, ge=0, le=20, description="log-normal shadowing σ (dB)")
    embb_rate_mbps: tuple[Rate, Rate] = Field(
        (1.0, 6.0), description="eMBB session rate drawn uniformly in [low, high] (Mbit/s)"
    )
    embb_on_s: Sojourn = Field(2.0, description="mean eMBB session length (s)")
    embb_off_s: Sojourn = Field(2.0, description="mean gap between eMBB sessions (s)")
    urllc_rate_pps: tuple[PacketRate, PacketRate] = Field(
        (50.0, 2000.0), description="URLLC packets/s (300 B) when calm and in a burst"
    )
    urllc_burst_s: Sojourn = Field(0.5, description="mean URLLC burst length (s)")
    urllc_calm_s: Sojourn = Field(3.0, description="mean time between URLLC bursts (s)")
    mmtc_rate_pps: tuple[PacketRate, PacketRate] = Field(
        (10.0, 800.0), description="mMTC packets/s per device (100 B), normal and in a storm"
    )
    mmtc_storm_s: Sojourn = Field(0.5, description="mean alarm-storm length (s)")
    mmtc_calm_s: Sojourn = Field(5.0, description="mean time between alarm storms (s)")
    weights: tuple[float, float, float] = Field(
        (1.0, 1.0, 1.0), description="weights of the (mMTC, URLLC, eMBB) scores in the reward"
    )

    @model_validator(mode="after")
    def _check(self):
        if sum(self.users) < 1:
            raise ValueError("users: need at least one UE in total")
        if min(self.weights) < 0 or sum(self.weights) <= 0:
            raise ValueError("weights: must be >= 0 with a positive sum")
        for name in ("embb_rate_mbps", "urllc_rate_pps", "mmtc_rate_pps"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name}: low must not exceed high (got {lo}, {hi})")
        return self

    def params(self) -> CellParams:
        """The model's parameters."""
        return CellParams(
            users=tuple(self.users), distances_m=tuple(DISTANCE_M[p] for p in self.placements),
            snr_ref_db=self.snr_at_20m_db, pathloss_exponent=self.pathloss_exponent,
            shadowing_db=self.shadowing_db, embb_on_s=self.embb_on_s, embb_off_s=self.embb_off_s,
            embb_rate_mbps=tuple(self.embb_rate_mbps), urllc_rate_pps=tuple(self.urllc_rate_pps),
            urllc_burst_s=self.urllc_burst_s, urllc_calm_s=self.urllc_calm_s,
            mmtc_rate_pps=tuple(self.mmtc_rate_pps), mmtc_storm_s=self.mmtc_storm_s,
            mmtc_calm_s=self.mmtc_calm_s, weights=tuple(self.weights),
        )


def random_rbgs(rng: np.random.Generator) -> tuple[int, int, int]:
    """A split of the 17 RBGs drawn uniformly among those with >= 1 RBG per slice."""
    a, b = sorted(rng.choice(np.arange(1, N_RBG), size=2, replace=False).tolist())
    return (a, b - a, N_RBG - b)


def build_gnb(
    sim: Simulation, cfg: RanConfig, users=None, rbgs=None, keep_reports: bool = False
) -> SlicingGnb:
    """The gNB of ``cfg`` on ``sim`` (``users``/``rbgs`` override the config's)."""
    users = cfg.users if users is None else users
    rbgs = rbgs or cfg.rbgs or random_rbgs(sim.rng("ran.rbgs"))
    placement = sim.rng("ran.placement") if cfg.distance == "mixed" else None
    ues = make_ues(users, cfg.distance, SPEED_MPS[cfg.mobility], placement)
    params = ChannelParams(snr_ref_db=cfg.snr_at_20m_db, pathloss_exponent=cfg.pathloss_exponent)
    return SlicingGnb(
        sim, ues, rbgs=rbgs, policies=cfg.schedulers, traffic=cfg.traffic,
        embb_rate_mbps=cfg.embb_rate_mbps, channel=params, keep_reports=keep_reports,
    )
