"""Handover and radio-link monitoring as engine-free state machines, vectorised over UEs.

* Event A3 (3GPP TS 38.331 §5.5.4.4) with zero cell-specific offsets: neighbour ``n`` enters
  when ``Mn - Hys > Mp + Off`` (RSRP in dBm). A cell triggers once its entering condition has
  held at every measurement during ``timeToTrigger`` (TTT); the best-RSRP triggered cell
  becomes the handover target. Execution (preparation, command, random access) then takes
  ``execution_s``; at completion the UE switches cell and its primary link is interrupted for
  ``interruption_s``.
* Radio link failure (TS 38.331 §5.3.10, simplified from N310/N311 counting to SINR levels):
  T310 starts when the serving SINR falls below ``Qout``, stops when it rises above ``Qin``,
  and on expiry declares RLF; the UE re-establishes on the best cell after ``reestablish_s``,
  without a primary link in between. An RLF cancels a pending handover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import Field, model_validator

from netsim import Config

__all__ = [
    "HandoverParams",
    "HandoverState",
    "HandoverEvents",
    "handover_step",
    "complete_handover",
]

#: the filterCoefficient values of TS 38.331 (FilterCoefficient ::= fc0 ... fc19)
FILTER_COEFFICIENTS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 17, 19)
_EPS_S = 1e-9  # time comparisons tolerate float round-off of accumulated steps


class HandoverParams(Config):
    """A3 and RLF parameters (dB, s); nested as ``handover`` in
    :class:`~ran.comp.scenario.CompConfig`."""

    a3_offset_db: float = Field(3.0, description="A3 offset Off (dB)")
    hysteresis_db: float = Field(1.0, ge=0, description="A3 hysteresis Hys (dB)")
    ttt_s: float = Field(0.16, ge=0, le=5.12, description="time to trigger")
    execution_s: float = Field(0.2, ge=0, le=1.0, description="handover execution delay")
    interruption_s: float = Field(0.03, ge=0, le=0.5, description="primary-link interruption")
    qout_db: float = Field(-8.0, description="T310 start below this SINR (dB)")
    qin_db: float = Field(-6.0, description="T310 stop above this SINR (dB)")
    t310_s: float = Field(1.0, ge=0, le=6.0, description="T310 duration")
    reestablish_s: float = Field(0.5, ge=0, le=5.0, description="RLF to re-establishment")
    # L3 filtering (TS 38.331 §5.5.3.2) of the RSRP every scheme decides on; 0 = off
    l3_filter_k: int = Field(0, ge=0, le=19, description="filterCoefficient k (0 = none)")
    l3_reference_s: float = Field(
        0.2, gt=0, le=2.0, description="sample period X that k assumes (L1 period, TS 38.133)"
    )
    # Rel-16 conditional handover (ran.comp.cho) and ping-pong statistics
    cho_prep_margin_db: float = Field(
        3.0, ge=0, le=20, description="CHO prepares a candidate at A3 offset minus this"
    )
    cho_prep_s: float = Field(0.2, ge=0, le=1.0, description="CHO candidate preparation time")
    ping_pong_s: float = Field(1.0, gt=0, le=10, description="ping-pong: stay shorter than this")

    @model_validator(mode="after")
    def _levels(self):
        if self.qin_db < self.qout_db:
            raise ValueError(f"qin_db ({self.qin_db}) must be >= qout_db ({self.qout_db})")
        if self.l3_filter_k not in FILTER_COEFFICIENTS:
            raise ValueError(
                f"l3_filter_k must be one of {FILTER_COEFFICIENTS}, got {self.l3_filter_k}"
            )
        return self


@dataclass
class HandoverState:
    """Per-UE handover state; times are absolute simulation times (s), NaN = not running."""

    serving: np.ndarray  # (N,) int
    cond_since: np.ndarray  # (N, M) float: since when A3 entering holds for cell m
    target: np.ndarray  # (N,) int, -1 = no handover in execution
    complete_at: np.ndarray  # (N,) float, +inf = none
    interrupted_until: np.ndarray  # (N,) float
    t310_since: np.ndarray  # (N,) float, NaN = T310 stopped
    rlf_until: np.ndarray  # (N,) float, NaN = not in RLF

    @classmethod
    def initial(cls, rsrp_dbm) -> HandoverState:
        """Every UE camps on its best-RSRP cell."""
        rsrp = np.asarray(rsrp_dbm, dtype=float)
        n, m = rsrp.shape
        return cls(
            serving=np.argmax(rsrp, axis=1),
            cond_since=np.full((n, m), np.nan),
            target=np.full(n, -1),
            complete_at=np.full(n, np.inf),
            interrupted_until=np.full(n, -np.inf),
            t310_since=np.full(n, np.nan),
            rlf_until=np.full(n, np.nan),
        )

    def in_handover(self) -> np.ndarray:
        return self.target >= 0

    def in_rlf(self) -> np.ndarray:
        return ~np.isnan(self.rlf_until)

    def has_primary(self, t: float) -> np.ndarray:
        """UEs with a working primary link at time ``t`` (not in RLF or interruption)."""
        return ~self.in_rlf() & (t >= self.interrupted_until - _EPS_S)


@dataclass
class HandoverEvents:
    """UE indices per event in one step."""

    triggered: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    completed: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    rlf: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    reestablished: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


def complete_handover(st: HandoverState, ue, t: float, p: HandoverParams) -> None:
    """The UEs ``ue`` (indices or mask) switch to their target at ``t``: the target becomes
    the serving cell, the link is interrupted for ``p.interruption_s``, and the A3 and T310
    timers are cleared."""
    st.serving[ue] = st.target[ue]
    st.target[ue] = -1
    st.complete_at[ue] = np.inf
    st.interrupted_until[ue] = t + p.interruption_s
    st.cond_since[ue] = np.nan
    st.t310_since[ue] = np.nan


def a3_entering(rsrp_dbm, serving, p: HandoverParams, margin_db: float = 0.0) -> np.ndarray:
    """A3 entering condition per UE and cell, ``M_n − Hys > M_s + Off − margin`` (TS 38.331
    §5.5.4.4; ``margin_db`` > 0 is CHO's earlier preparation threshold), False on the serving
    cell. RSRP ``(N, M)`` in dBm, ``serving`` ``(N,)``."""
    rows = np.arange(rsrp_dbm.shape[0])
    threshold = rsrp_dbm[rows, serving] + p.a3_offset_db
    if margin_db:
        threshold = threshold - margin_db
    cond = rsrp_dbm - p.hysteresis_db > threshold[:, None]
    cond[rows, serving] = False
    return cond


def handover_step(
    st: HandoverState, t: float, rsrp_dbm, sinr_db, p: HandoverParams
) -> HandoverEvents:
    """Advance ``st`` (in place) to time ``t`` with this step's measurements: RSRP ``(N, M)``
    in dBm and serving-cell SINR ``(N,)`` in dB (measured on the serving cell before any
    switch in this step). Returns the UEs that triggered A3, completed a handover, declared
    RLF or re-established."""
    rsrp = np.asarray(rsrp_dbm, dtype=float)
    sinr = np.asarray(sinr_db, dtype=float)
    ev = HandoverEvents()

    # radio link monitoring on the current serving cell
    in_rlf = ~np.isnan(st.rlf_until)
    monitor = ~in_rlf
    below = monitor & (sinr < p.qout_db)
    above = sinr > p.qin_db
    start = below & np.isnan(st.t310_since)
    st.t310_since[start] = t
    st.t310_since[above | in_rlf] = np.nan
    expired = monitor & (t - st.t310_since >= p.t310_s - _EPS_S)  # NaN compares False
    if expired.any():
        ev.rlf = np.flatnonzero(expired)
        st.rlf_until[ev.rlf] = t + p.reestablish_s
        st.t310_since[ev.rlf] = np.nan
        st.target[ev.rlf] = -1
        st.complete_at[ev.rlf] = np.inf
        st.cond_since[ev.rlf] = np.nan
        in_rlf = ~np.isnan(st.rlf_until)

    # re-establishment after RLF on the best cell
    done = in_rlf & (t >= st.rlf_until - _EPS_S)
    if done.any():
        ev.reestablished = np.flatnonzero(done)
        st.serving[done] = np.argmax(rsrp[done], axis=1)
        st.rlf_until[done] = np.nan
        in_rlf = ~np.isnan(st.rlf_until)

    # handover completion
    finish = (st.target >= 0) & (t >= st.complete_at - _EPS_S)
    if finish.any():
        ev.completed = np.flatnonzero(finish)
        complete_handover(st, finish, t, p)

    # A3 entering condition and time-to-trigger, for UEs neither in handover nor in RLF
    idle = (st.target < 0) & ~in_rlf
    cond = a3_entering(rsrp, st.serving, p) & idle[:, None]
    cs = st.cond_since
    st.cond_since = np.where(cond, np.where(np.isnan(cs), t, cs), np.nan)
    held = t - st.cond_since >= p.ttt_s - _EPS_S
    fire = held.any(axis=1)
    if fire.any():
        ev.triggered = np.flatnonzero(fire)
        cand = np.where(held[fire], rsrp[fire], -np.inf)
        st.target[fire] = np.argmax(cand, axis=1)
        st.complete_at[fire] = t + p.execution_s
        st.cond_since[fire] = np.nan
    return ev
