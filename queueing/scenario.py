"""Config schema and model factory of the queueing studies (``mm1``, ``mmc``, ``tandem``).

The studies themselves (run, summarise, plot) live in :mod:`scenarios.queues`; this module
holds what they are built from: the pydantic schema, :func:`build` (the network on a
:class:`netsim.Simulation`) and :func:`theory` (the closed forms the config calls for).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from netsim import Config, Simulation

from .model import QueueNetwork
from .theory import QueueMetrics, mg1, mmc, tandem

__all__ = ["StationConfig", "QueueConfig", "build", "theory"]


class StationConfig(Config):
    servers: int = Field(1, ge=1, le=1000, description="identical servers c")
    service_rate: float = Field(1.0, gt=0, description="service rate of one server μ (1/s)")


class QueueConfig(Config):
    arrival_rate: float = Field(0.9, gt=0, description="Poisson arrival rate λ (1/s)")
    stations: list[StationConfig] = Field(
        default_factory=lambda: [StationConfig()], min_length=1, max_length=16,
        description="FIFO stations in series",
    )
    service: Literal["exponential", "deterministic"] = Field(
        "exponential", description="service-time distribution"
    )
    horizon: float = Field(50_000.0, gt=0, description="simulated time per replication (s)")
    warmup: float = Field(5_000.0, ge=0, description="time discarded at the start (s)")
    samples: int = Field(0, ge=0, description="sojourn times kept per replication for plots")

    @model_validator(mode="after")
    def _stable(self):
        if self.warmup >= self.horizon:
            raise ValueError(f"warmup ({self.warmup}) must be < horizon ({self.horizon})")
        for i, st in enumerate(self.stations):
            rho = self.arrival_rate / (st.servers * st.service_rate)
            if rho >= 1:
                raise ValueError(
                    f"station {i} has load rho={rho:.3g}; arrival_rate must be < "
                    f"servers*service_rate = {st.servers * st.service_rate:g} for a steady state"
                )
        if self.service == "deterministic" and (
            len(self.stations) > 1 or self.stations[0].servers > 1
        ):
            raise ValueError(
                "service=deterministic has a closed form for one single-server station only"
            )
        return self


def build(cfg: QueueConfig, sim: Simulation) -> QueueNetwork:
    """The network of ``cfg`` as processes on ``sim`` (streams ``arrivals``, ``service.i``)."""
    return QueueNetwork(
        sim, cfg.arrival_rate, [(s.servers, s.service_rate) for s in cfg.stations], cfg.service
    )


def theory(cfg: QueueConfig) -> tuple[list[QueueMetrics], QueueMetrics]:
    """Closed forms for ``cfg``: per station and end to end (M/D/1 Pollaczek-Khinchine, M/M/c
    Erlang C, Jackson tandem)."""
    lam = cfg.arrival_rate
    if cfg.service == "deterministic":
        m = mg1(lam, 1.0 / cfg.stations[0].service_rate, scv=0.0)
        return [m], m
    per = [mmc(lam, s.service_rate, s.servers) for s in cfg.stations]
    if len(per) == 1:
        return per, per[0]
    return tandem(lam, [(s.servers, s.service_rate) for s in cfg.stations])
