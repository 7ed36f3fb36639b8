"""Config schema and model factory of the ``satellite_handover`` study (the run, summary and
plots live in ``scenarios/satellite_handover.py``).

:class:`HandoverStudyConfig` nests the dataset's :class:`~satellite.dataset.DatasetConfig`
and the handover :class:`InterruptionConfig`; :func:`build` makes the world and the flights
(trajectory, candidate links, radar) the study evaluates.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from netsim import Config

from .dataset import DatasetConfig, build_world, fly_disturbed, make_plans, radar_features
from .handover import POLICIES
from .links import evaluate_links
from .predict import DEFAULT_EDGES_DB

__all__ = ["HandoverStudyConfig", "InterruptionConfig", "build", "handover_flights"]

PolicyName = Literal[tuple(POLICIES)]  # one of the names of handover.POLICIES


class InterruptionConfig(Config):
    beam_s: float = Field(2.0, ge=0, description="beam switch on the same satellite (s)")
    satellite_s: float = Field(10.0, ge=0, description="GEO satellite switch, same provider (s)")
    leo_satellite_s: float = Field(0.05, ge=0, description="LEO satellite switch (s)")
    provider_s: float = Field(30.0, ge=0, description="provider switch (s)")
    leo_slot_s: float = Field(15.0, gt=0, description="LEO reconfiguration period (s)")
    make_before_break: bool = Field(
        False, description="second modem keeps the old link during planned handovers"
    )
    loss_detect_s: int = Field(
        2, ge=1, description="seconds without lock before a loss is declared"
    )


class HandoverStudyConfig(Config):
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    edges_db: tuple[float, float] = Field(
        DEFAULT_EDGES_DB, description="outage and degraded thresholds on Es/N0 (dB)"
    )
    horizon_s: int = Field(30, ge=1, le=600)
    horizons: list[int] = Field(default_factory=lambda: [10, 30, 60, 120, 300], min_length=1)
    cv_folds: int = Field(5, ge=2, le=20)
    horizon_folds: int = Field(3, ge=2, le=20, description="folds for the F1-vs-horizon curve")
    train_stride: int = Field(8, ge=1, description="use every n-th second of training flights")
    train_flights: int = Field(
        60, ge=2, description="flights (all providers) to train the candidate forecaster"
    )
    test_flights: int = Field(50, ge=1, description="held-out flights for the handover comparison")
    policies: list[PolicyName] = Field(default_factory=lambda: list(POLICIES), min_length=1)
    interruptions: InterruptionConfig = Field(default_factory=InterruptionConfig)
    terminal_modes: list[Literal["single_modem", "make_before_break"]] = Field(
        default_factory=lambda: ["single_modem", "make_before_break"],
        min_length=1,
        description="handover modes compared: break-before-make, or a second modem",
    )
    decision_interval_s: int = Field(1, ge=1)
    acm_margin_db: float = Field(0.5, ge=0)
    shortlist_k: int = Field(8, ge=1, le=64)
    plan_noise: float = Field(
        0.5, ge=0, le=1, description="flight-plan noise level the predictor gets (0: exact)"
    )
    noise_levels: list[float] = Field(
        default_factory=lambda: [0.0, 0.5, 1.0],
        description="plan-noise levels of the ablation (F1 at horizon_s; empty: no ablation)",
    )
    real_flights: list[Literal["elal747", "switzerland", "qantas747"]] = Field(
        default_factory=lambda: ["elal747", "switzerland"],
        description="bundled real ADS-B samples replayed as held-out flights (F1 reported "
        "apart, without plan features; empty: none)",
    )
    plot_flight: int = Field(
        -1, ge=-1, description="test flight to plot (-1: the one where policies differ most)"
    )

    @model_validator(mode="after")
    def _check(self):
        if self.edges_db[1] <= self.edges_db[0]:
            raise ValueError(f"edges_db must be increasing (got {self.edges_db})")
        if self.dataset.flights < self.cv_folds:
            raise ValueError(
                f"dataset.flights ({self.dataset.flights}) must be >= cv_folds ({self.cv_folds})"
            )
        if any(not 0.0 <= x <= 1.0 for x in self.noise_levels):
            raise ValueError(f"noise_levels must be in [0, 1] (got {self.noise_levels})")
        if self.plot_flight >= self.test_flights:
            raise ValueError(f"plot_flight must be < test_flights ({self.test_flights})")
        return self


def build(cfg: HandoverStudyConfig, seed: int, n: int, prefix: str):
    """Trajectories, link sets (all providers) and radar of ``n`` fresh flights in the study's
    world (same world seed as the dataset, other flight plans)."""
    world = build_world(cfg.dataset.world, seed)
    trajs = fly_disturbed(cfg.dataset, make_plans(cfg.dataset, seed, n=n, prefix=prefix), seed)
    out = []
    for tr in trajs:
        out.append(
            (
                tr,
                evaluate_links(world, tr),
                radar_features(world, tr, seed, cfg.dataset.radar_noise),
            )
        )
    return world, out


#: the study's flights: ``build(cfg, seed, n, prefix) -> (world, [(traj, links, radar), ...])``
handover_flights = build
