"""Configuration of the sliced RAN and the factory that builds it on a simulation.

:class:`RanConfig` holds the model's arguments (user mix, RBG split, schedulers, traffic,
placement); :func:`build_gnb` turns one into a :class:`~ran.slicing.gnb.SlicingGnb`. The
env (``envs/oran.py``) and the study (``scenarios/oran_slicing.py``) extend this schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from netsim import Config, Simulation

from .channel import ChannelParams
from .gnb import SlicingGnb, make_ues
from .phy import N_RBG

__all__ = ["UserCount", "Rbg", "RanConfig", "build_gnb", "random_rbgs", "MAX_UES_PER_SLICE"]

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
    )  # fmt: skip
