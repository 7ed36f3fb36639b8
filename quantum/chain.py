"""The repeater-chain model: a validated config, its factory and a one-call simulation.

``ChainConfig`` describes N equal links, the link physics (parametric midpoint or single-click
scheme, a given per-attempt probability, or a (fidelity, rate) capability), memories, cutoff,
swapping and distillation, and the hardware imperfections of issue 16 (dark counts and
detector dead time in heralding, multimode memories, noisy gates and measurements in swaps
and pumping; all off by default, which leaves every result bit-identical).
:func:`build_chain` puts a :class:`~quantum.protocols.RepeaterChain`
on a simulation; :func:`simulate_chain` runs one and returns its KPIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from netsim import Config, Simulation

from .bounds import plob_capacity
from .hardware import MemoryModel
from .physics import attempt_time_s, fiber_transmissivity, heralded_link
from .protocols import RepeaterChain

__all__ = ["ChainConfig", "LinkPhysics", "link_physics", "build_chain", "simulate_chain",
           "ChainResult"]


class ChainConfig(Config):
    """A linear repeater chain of ``n_links`` equal links (``n_links − 1`` repeaters)."""

    n_links: int = Field(2, ge=1, le=100_000, description="elementary links N (N−1 repeaters)")
    link_length_km: float = Field(10.0, ge=0, le=10_000, description="length of each link (km)")
    attenuation_db_per_km: float = Field(0.2, ge=0, le=10, description="fibre loss (dB/km)")
    scheme: Literal["midpoint", "single_click"] = "midpoint"
    detector_efficiency: float = Field(0.9, gt=0, le=1, description="midpoint detector η_d")
    emission_efficiency: float = Field(1.0, gt=0, le=1, description="memory→fibre η_e")
    bright_state: float = Field(0.1, gt=0, le=0.5, description="single-click α")
    link_fidelity: float = Field(0.95, ge=0.25, le=1, description="F0 of a fresh pair")
    local_time_s: float = Field(1e-5, ge=0, description="local time per attempt (s)")
    success_probability: float | None = Field(
        None, gt=0, le=1, description="override p per attempt (else from the scheme)"
    )
    link_rate_hz: float | None = Field(
        None, gt=0, description="capability form: pairs/s of a link (p = rate·t_attempt)"
    )
    dark_count_prob: float = Field(
        0.0, ge=0, lt=1, description="dark-count probability per detector and detection window"
    )
    detector_dead_time_s: float = Field(
        0.0, ge=0, description="a detector that clicked is blind for this long (s)"
    )
    memory_modes: int = Field(
        1, ge=1, le=100_000, description="modes per attempt round (multiplexed memory)"
    )
    comm_qubits: int = Field(2, ge=1, le=1024, description="communication qubits per node")
    storage_qubits: int = Field(0, ge=0, le=1024, description="storage qubits per node")
    max_link_pairs: int = Field(
        1, ge=1, le=1024, description="pairs per link, and per node side, at once"
    )
    swap_order: Literal["asap", "nested"] = "asap"
    swap_handshake: bool = Field(
        False, description="swap waits a round trip to confirm with the far nodes"
    )
    restart: Literal["asap", "after_delivery"] = Field(
        "asap",
        description="links attempt again as soon as a swap frees them (asap: pipelining) "
        "or only once the end-to-end pair they fed is gone (after_delivery)",
    )
    decoherence: Literal["none", "depolarising", "t1t2"] = "depolarising"
    coherence_time_s: float = Field(1.0, gt=0, description="depolarising τ per qubit (s)")
    t1_s: float = Field(10.0, gt=0, description="T1 (s), decoherence=t1t2")
    t2_s: float = Field(1.0, gt=0, description="T2 (s), decoherence=t1t2; T2 <= 2·T1")
    cutoff_s: float | None = Field(None, gt=0, description="discard pairs older than this (s)")
    swap_success: float = Field(1.0, gt=0, le=1, description="swap success probability")
    swap_time_s: float = Field(0.0, ge=0, description="swap duration (s)")
    swap_werner: float = Field(1.0, gt=0, le=1, description="Werner factor of the swap gate")
    swap_meas_error: float = Field(
        0.0, ge=0, le=0.5, description="probability that each Bell-measurement bit is misread"
    )
    swap_gate_error: float = Field(
        0.0, ge=0, le=1, description="two-qubit depolarising probability of the swap's CNOT"
    )
    distillation: Literal["none", "bbpssw", "dejmps"] = "none"
    distill_rounds: int = Field(0, ge=0, le=10, description="pumping rounds per link pair")
    distill_time_s: float = Field(0.0, ge=0, description="distillation duration (s)")
    distill_gate_error: float = Field(
        0.0, ge=0, le=1, description="two-qubit depolarising probability of each pumping CNOT"
    )
    distill_meas_error: float = Field(
        0.0, ge=0, le=0.5, description="probability that each pumping measurement is misread"
    )
    f_min: float = Field(0.5, ge=0, le=1, description="delivered fidelity that counts")

    @model_validator(mode="after")
    def _consistent(self):
        if self.decoherence == "t1t2" and self.t2_s > 2 * self.t1_s:
            raise ValueError(f"t2_s ({self.t2_s}) must be <= 2·t1_s ({2 * self.t1_s})")
        if self.distill_rounds > 0 and self.distillation == "none":
            raise ValueError("distill_rounds > 0 needs distillation = bbpssw or dejmps")
        if self.distillation != "none" and self.distill_rounds == 0:
            raise ValueError("distillation needs distill_rounds >= 1")
        if self.distill_rounds > 0 and self.max_link_pairs < 2:
            raise ValueError("distillation needs max_link_pairs >= 2 (two pairs per link)")
        if self.n_links > 1 and self.comm_qubits + self.storage_qubits < 2:
            raise ValueError(
                "a repeater needs at least 2 qubits: comm_qubits + storage_qubits >= 2"
            )
        if self.success_probability is not None and self.link_rate_hz is not None:
            raise ValueError("give success_probability or link_rate_hz, not both")
        parametric = self.success_probability is None and self.link_rate_hz is None
        for name in ("dark_count_prob", "detector_dead_time_s"):
            if getattr(self, name) > 0 and not parametric:
                raise ValueError(
                    f"{name} needs the parametric link model: drop success_probability "
                    "and link_rate_hz"
                )
        t_att = float(attempt_time_s(self.link_length_km, self.local_time_s))
        if t_att <= 0:
            raise ValueError("link_length_km and local_time_s are both 0: attempts take no time")
        if self.link_rate_hz is not None and self.link_rate_hz * t_att > 1:
            raise ValueError(
                f"link_rate_hz ({self.link_rate_hz}) exceeds one pair per attempt "
                f"(1/t_attempt = {1 / t_att:.4g} Hz)"
            )
        return self


@dataclass(frozen=True)
class LinkPhysics:
    """Derived per-link quantities of a config."""

    p: float  # success probability per attempt
    attempt_s: float  # attempt duration (s)
    f0: float  # fidelity of a fresh pair
    eta: float  # end-to-end transmissivity of the link's fibre
    eta_station: float  # η_emit·η_det (photon efficiency outside the fibre)
    click_p: float = 0.0  # P(a detector clicks) per attempt round (dead time only)
    dead_extra_s: float = 0.0  # extra duration of a clicked attempt: max(0, t_dead − t_att)

    @property
    def plob(self) -> float:
        """PLOB capacity of the link's fibre (ebits per use)."""
        return float(plob_capacity(self.eta))


def link_physics(cfg: ChainConfig) -> LinkPhysics:
    """Success probability per attempt round, attempt time and F0 of one link of ``cfg``.

    p, F0 and the click probability come from :func:`quantum.physics.heralded_link` (shared
    with :mod:`quantum.network`): dark counts (``dark_count_prob > 0``) replace the scheme's
    p by the herald probability with dark counts and scale F0's Werner parameter by
    ``w_dc(p_dc)/w_dc(0)``; ``memory_modes = m`` makes a round succeed with
    ``1 − (1 − p)^m`` and click with ``1 − (1 − P_click)^m`` (one heralded mode is kept;
    modes use separate detection windows). Dead time keeps p and adds
    ``max(0, t_dead − t_att)`` to each attempt that clicked."""
    t_att = float(attempt_time_s(cfg.link_length_km, cfg.local_time_s))
    given = cfg.success_probability
    if cfg.link_rate_hz is not None:
        given = cfg.link_rate_hz * t_att
    p, f0, click = heralded_link(
        cfg.link_length_km, cfg.scheme, cfg.link_fidelity, cfg.detector_efficiency,
        cfg.emission_efficiency, cfg.bright_state, cfg.attenuation_db_per_km,
        cfg.dark_count_prob, cfg.memory_modes, given, cfg.detector_dead_time_s > 0,
    )
    eta = float(fiber_transmissivity(cfg.link_length_km, cfg.attenuation_db_per_km))
    return LinkPhysics(float(p), t_att, f0, eta, cfg.emission_efficiency * cfg.detector_efficiency,
                       float(click), max(0.0, cfg.detector_dead_time_s - t_att))


def build_chain(sim: Simulation, cfg: ChainConfig, auto_swap: bool = True) -> RepeaterChain:
    """A :class:`RepeaterChain` for ``cfg`` on ``sim``."""
    lp = link_physics(cfg)
    n = cfg.n_links
    memory = MemoryModel(cfg.decoherence, cfg.coherence_time_s, cfg.t1_s, cfg.t2_s)
    return RepeaterChain(
        sim,
        positions_km=[i * cfg.link_length_km for i in range(n + 1)],
        link_p=[lp.p] * n,
        attempt_s=[lp.attempt_s] * n,
        f0=[lp.f0] * n,
        memory=memory,
        comm_qubits=cfg.comm_qubits,
        storage_qubits=cfg.storage_qubits,
        max_link_pairs=cfg.max_link_pairs,
        cutoff_s=cfg.cutoff_s,
        swap_success=cfg.swap_success,
        swap_time_s=cfg.swap_time_s,
        swap_werner=cfg.swap_werner * (1.0 - cfg.swap_gate_error),
        swap_meas_error=cfg.swap_meas_error,
        distillation=cfg.distillation,
        distill_rounds=cfg.distill_rounds,
        distill_time_s=cfg.distill_time_s,
        distill_gate_error=cfg.distill_gate_error,
        distill_meas_error=cfg.distill_meas_error,
        link_dead_extra_s=[lp.dead_extra_s] * n if lp.dead_extra_s > 0 else None,
        link_click_p=[lp.click_p] * n,
        f_min=cfg.f_min,
        auto_swap=auto_swap,
        swap_order=cfg.swap_order,
        swap_handshake=cfg.swap_handshake,
        restart=cfg.restart,
    )


@dataclass(frozen=True)
class ChainResult:
    """KPIs of one chain run over ``duration_s`` simulated seconds."""

    duration_s: float
    delivered: int
    delivered_ok: int
    fidelities: np.ndarray
    delivery_times: np.ndarray
    attempts: int
    link_successes: int
    swaps: int
    discarded: int
    attempt_s: float

    @property
    def rate_hz(self) -> float:
        """End-to-end pairs per second with fidelity ≥ f_min."""
        return self.delivered_ok / self.duration_s

    @property
    def rate_per_use(self) -> float:
        """Useful pairs per channel use (one attempt slot of a link)."""
        return self.rate_hz * self.attempt_s

    @property
    def mean_fidelity(self) -> float:
        return float(self.fidelities.mean()) if self.fidelities.size else float("nan")


def simulate_chain(
    cfg: ChainConfig,
    seed: int,
    horizon_s: float,
    max_deliveries: int | None = None,
    trace=None,
) -> ChainResult:
    """Run swap-ASAP on ``cfg`` for ``horizon_s`` simulated seconds (or until
    ``max_deliveries`` pairs were delivered) and return its KPIs."""
    if horizon_s <= 0:
        raise ValueError(f"horizon_s must be > 0, got {horizon_s}")
    if max_deliveries is not None and max_deliveries < 1:
        raise ValueError(f"max_deliveries must be >= 1, got {max_deliveries}")
    sim = Simulation(seed, trace=trace)
    chain = build_chain(sim, cfg)
    if max_deliveries is None:
        sim.run(until=horizon_s)
    else:
        chain.stop_after = max_deliveries
        sim.run(until=sim.any_of([chain.done, sim.timeout(horizon_s)]))
    duration = sim.now
    return ChainResult(
        duration_s=duration,
        delivered=chain.delivered,
        delivered_ok=chain.delivered_ok,
        fidelities=chain.fidelities(),
        delivery_times=np.asarray(chain.delivery_times),
        attempts=chain.total_attempts(),
        link_successes=sum(link.successes for link in chain.links),
        swaps=chain.swaps,
        discarded=chain.discarded,
        attempt_s=link_physics(cfg).attempt_s,
    )
