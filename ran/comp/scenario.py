"""Configuration schema of the CoMP-market network and its model factory.

``CompConfig`` holds every knob of :class:`ran.comp.model.CompNetwork` (city, radio, mobility,
handover, market); :func:`build` makes the network on a :class:`netsim.Simulation`. The study
``comp_market`` (``scenarios/comp_market.py``) and the envs in ``envs/`` build on both.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from netsim import Config, Simulation

from .apps import APPS
from .geometry import LAYOUTS
from .handover import HandoverParams
from .market import DYNAMICS
from .model import POLICIES, CompNetwork
from .pathloss import MODELS

__all__ = ["POLICIES", "CompConfig", "build"]

CLUSTER_BY = ("rsrp", "nearest")
UTILITIES = ("capped", "linear")
_CHOICES = {
    "layout": LAYOUTS,
    "pathloss_model": MODELS,
    "dynamics": DYNAMICS,
    "cluster_by": CLUSTER_BY,
    "utility": UTILITIES,
}
_LABELS = {
    "layout": "layout",
    "pathloss_model": "path-loss model",
    "dynamics": "market dynamics",
    "cluster_by": "cluster rule",
    "utility": "utility",
}


class CompConfig(Config):
    # city and deployment
    blocks_x: int = Field(6, ge=1, le=50, description="blocks along x")
    blocks_y: int = Field(6, ge=1, le=50, description="blocks along y")
    block_m: float = Field(80.0, gt=0, description="street spacing, centre line to centre line (m)")
    street_m: float = Field(16.0, gt=0, description="street width (m); < block_m/2")
    layout: str = Field("manhattan", description=f"BS layout: {', '.join(LAYOUTS)}")
    isd_m: float = Field(120.0, gt=0, description="inter-site distance of the hex layout (m)")
    # UEs and mobility
    n_ues: int = Field(200, ge=1, le=100_000)
    vehicle_fraction: float = Field(0.5, ge=0, le=1, description="share of UEs driving")
    pedestrian_speed_m_s: float = Field(1.5, gt=0, le=5)
    vehicle_speed_m_s: float = Field(10.0, gt=0, le=40)
    # radio
    pathloss_model: str = Field("umi_street_canyon", description=f"one of {', '.join(MODELS)}")
    carrier_hz: float = Field(3.5e9, ge=0.5e9, le=100e9, description="TR 38.901: 0.5-100 GHz")
    n_prbs: int = Field(51, ge=1, le=275, description="PRBs per BS (51 = 20 MHz at 30 kHz SCS)")
    prb_bandwidth_hz: float = Field(360e3, gt=0, description="12 subcarriers x SCS")
    tx_power_dbm: float = Field(30.0, ge=0, le=50, description="small-cell transmit power")
    noise_figure_db: float = Field(9.0, ge=0, le=20)
    h_bs_m: float = Field(10.0, gt=1, le=30, description="BS antenna height (UMi: 10 m)")
    h_ut_m: float = Field(1.5, gt=1, le=22.5, description="UE antenna height")
    shadowing: bool = Field(True, description="log-normal shadowing (TR 38.901 σ_SF)")
    snr_gap_db: float = Field(3.0, ge=0, le=15, description="Shannon SNR gap Γ")
    max_spectral_eff: float = Field(7.4063, gt=0, le=10, description="bit/s/Hz cap (CQI 15)")
    los_resolution_m: float = Field(0.5, gt=0, le=5, description="LoS table step along streets")
    # vehicle blockage (on/off per link)
    blockage: bool = True
    blockage_db: float = Field(10.0, ge=0, le=40, description="extra loss of a blocked LoS link")
    mean_blocked_s: float = Field(1.0, gt=0)
    mean_clear_s: float = Field(30.0, gt=0)
    # traffic and utilities
    utility: str = Field(
        "capped", description="capped: a·min(rate, need) per UE (apps); linear: Σ v·x"
    )
    app_shares: dict[str, float] = Field(
        default_factory=lambda: {"video": 0.4, "voice": 0.3, "bulk": 0.3},
        description="application mix (video, voice, bulk) with capped utilities",
    )
    urgency: bool = Field(True, description="urgency weights (apps, doubled when breaking)")
    demand_mbps: float = Field(2.0, gt=0, description="primary-link demand per UE (Mbit/s)")
    rate_floor_mbps: float = Field(1.0, ge=0, description="rate floor for the outage metric")
    # handover and RLF (TS 38.331 A3 / T310), one nested block
    handover: HandoverParams = Field(default_factory=HandoverParams)
    # CoMP market
    cluster_bs: int = Field(3, ge=1, le=16, description="K: BSs in a UE's CoMP cluster")
    cluster_by: str = Field("rsrp", description="cluster = the K BSs of highest rsrp | nearest")
    budget: float = Field(1.0, ge=0, description="tokens per UE per allocation epoch")
    budget_carry: bool = Field(
        False, description="UEs keep unspent tokens (earning budget per epoch, idle or not)"
    )
    budget_cap: float = Field(
        20.0, ge=1, description="with budget_carry: wallet cap, in epochs of income"
    )
    money_value: float = Field(0.0, ge=0, description="μ: value of a token (0 = fixed budget)")
    reserve_price: float = Field(1e-3, ge=0, description="reserve price (tokens per PRB)")
    market_interval_s: float = Field(0.1, gt=0, description="allocation epoch")
    market_eps: float = Field(1e-3, gt=0, le=0.5, description="stop when bids move less")
    market_max_rounds: int = Field(100, ge=1, le=100_000)
    message_latency_s: float = Field(5e-4, ge=0, le=0.1, description="one message, one way")
    dynamics: str = Field("newton", description=f"one of {', '.join(DYNAMICS)}")
    fisher_tol: float = Field(1e-5, gt=0, description="proportional-response stop tolerance")
    trouble_hold_s: float = Field(0.5, ge=0, description="stay in the market after trouble")
    policies: list[str] = Field(default_factory=lambda: list(POLICIES), min_length=1)
    # simulation
    dt_s: float = Field(0.01, gt=0, le=0.1, description="mobility, path loss and handover step")
    fading_step_s: float = Field(
        0.05, gt=0, le=1.0, description="update period of shadowing and blockage (>= dt_s)"
    )
    horizon: float = Field(60.0, gt=0, description="simulated seconds")

    @field_validator("layout", "pathloss_model", "dynamics", "cluster_by", "utility")
    @classmethod
    def _one_of(cls, v: str, info) -> str:
        allowed = _CHOICES[info.field_name]
        if v not in allowed:
            raise ValueError(f"unknown {_LABELS[info.field_name]} (allowed: {', '.join(allowed)})")
        return v

    @field_validator("app_shares")
    @classmethod
    def _apps(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k in v if k not in APPS]
        if bad:
            raise ValueError(f"unknown application {bad[0]!r} (allowed: {', '.join(APPS)})")
        if any(x < 0 for x in v.values()) or sum(v.values()) <= 0:
            raise ValueError("shares must be >= 0 with a positive sum")
        return v

    @field_validator("policies")
    @classmethod
    def _policies(cls, v: list[str]) -> list[str]:
        bad = [p for p in v if p not in POLICIES]
        if bad:
            raise ValueError(f"unknown policy {bad[0]!r} (allowed: {', '.join(POLICIES)})")
        if len(set(v)) != len(v):
            raise ValueError("policies must be distinct")
        return v

    @model_validator(mode="after")
    def _cross(self):
        if not self.street_m < self.block_m / 2:
            raise ValueError(f"street_m ({self.street_m}) must be < block_m/2 ({self.block_m / 2})")
        if self.fading_step_s < self.dt_s:
            raise ValueError("fading_step_s must be >= dt_s")
        if self.dt_s > self.market_interval_s:
            raise ValueError("dt_s must be <= market_interval_s")
        if self.vehicle_speed_m_s * self.dt_s >= self.block_m:
            raise ValueError("vehicle_speed_m_s * dt_s must be < block_m")
        return self


def build(sim: Simulation, cfg: CompConfig, **kwargs) -> CompNetwork:
    """The :class:`~ran.comp.model.CompNetwork` of ``cfg`` on ``sim`` (kwargs pass through)."""
    return CompNetwork(sim, cfg, **kwargs)
