"""The rival the industry chose: Rel-16 conditional handover (CHO) and DAPS handover, with
L3 measurement filtering and ping-pong statistics. Engine-free, vectorised over UEs.

* **L3 filtering** (3GPP TS 38.331 §5.5.3.2): ``F_n = (1 - a)·F_{n-1} + a·M_n`` with
  ``a = 1/2^(k/4)`` for ``filterCoefficient`` ``k`` (``F_0 = M_1``; ``k = 0`` means no
  filtering), applied to RSRP in dB. ``k`` assumes a sample period ``X`` (one L1 measurement
  period of TS 38.133); at another period ``Δt`` the UE adapts the filter to keep its time
  constant: ``a' = 1 - (1 - a)^(Δt/X)`` (:func:`adapted_coefficient`).
* **CHO** (TS 38.300 §9.2.3.4, TS 38.331 §5.3.5.13): the source prepares candidate targets
  early, when a preparation event (A3 with a smaller offset, ``a3_offset - prep_margin``)
  holds and the source link still carries RRC signalling (SINR above ``Qout``); preparation
  (request, target admission, conditional reconfiguration sent to the UE) takes
  ``prep_s``. The UE then evaluates the execution condition itself (the same A3 with TTT as
  the baseline) and, on a prepared target, executes at once: no measurement report and no
  handover command over the (possibly blocked) source link, only the random access to the
  target (the ``interruption_s`` of the baseline). A target that is not yet prepared falls
  back to the baseline handover (``execution_s``). Stored candidates are released when the
  serving cell changes.
* **DAPS** (dual active protocol stack, make-before-break; TS 38.300 §10.2.1.2): preparation
  and command as in the baseline (``execution_s``), but at completion the UE keeps receiving
  from the source while it accesses the target, so the interruption is zero as long as the
  source link holds (SINR above ``Qout``); when it does not, the UE gets the baseline
  interruption.
* **Ping-pong** (the 3GPP TR 36.839 definition: a handover back to the previous cell after a
  time of stay below ``T_pp``, 1 s there): :func:`ping_pongs` marks them in a handover log.

The baseline is :func:`~ran.comp.handover.handover_step` (A3, TTT, ``execution_s`` of
preparation and command, ``interruption_s``); CHO and DAPS reuse it, so the three differ only
where the standards differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .handover import (
    FILTER_COEFFICIENTS,
    HandoverEvents,
    HandoverParams,
    HandoverState,
    a3_entering,
    complete_handover,
    handover_step,
)

__all__ = [
    "FILTER_COEFFICIENTS",
    "SCHEMES",
    "filter_coefficient",
    "adapted_coefficient",
    "l3_filter",
    "ChoState",
    "cho_step",
    "daps_step",
    "ping_pongs",
]

#: handover schemes compared on the same events (``a3`` = the baseline of handover.py)
SCHEMES = ("a3", "cho", "daps")


def filter_coefficient(k: int) -> float:
    """``a = 1/2^(k/4)`` of TS 38.331 §5.5.3.2 for ``filterCoefficient`` ``k`` (1 for k = 0:
    no filtering)."""
    if k not in FILTER_COEFFICIENTS:
        raise ValueError(f"l3_filter_k: must be one of {FILTER_COEFFICIENTS}, got {k!r}")
    return 1.0 / 2.0 ** (k / 4.0)


def adapted_coefficient(a: float, sample_s: float, reference_s: float) -> float:
    """The coefficient that keeps the filter's time constant when it runs every
    ``sample_s`` instead of every ``reference_s`` (TS 38.331 §5.5.3.2: "the UE shall adapt
    the filter such that the time characteristics of the filter are preserved at different
    input rates"): ``a' = 1 - (1 - a)^(sample_s/reference_s)``, so that ``n`` samples of
    ``a'`` forget as much as ``n·sample_s/reference_s`` samples of ``a``."""
    if not (0.0 < a <= 1.0):
        raise ValueError(f"a: must be in (0, 1], got {a!r}")
    if not (sample_s > 0 and reference_s > 0):
        raise ValueError("sample_s and reference_s must be > 0")
    return 1.0 - (1.0 - a) ** (sample_s / reference_s)


def l3_filter(previous, measurement, a: float) -> np.ndarray:
    """One step ``F_n = (1 - a)·F_{n-1} + a·M_n`` (TS 38.331 §5.5.3.2), elementwise; where
    ``F_{n-1}`` is NaN (no measurement yet) ``F_n = M_n`` (``F_0 = M_1``)."""
    m = np.asarray(measurement, dtype=float)
    f = np.asarray(previous, dtype=float)
    if a == 1.0:
        return m.copy()
    return np.where(np.isnan(f), m, (1.0 - a) * f + a * m)


@dataclass
class ChoState(HandoverState):
    """:class:`~ran.comp.handover.HandoverState` plus, per UE and cell, the time its
    conditional reconfiguration is ready (``prepared_at``; +inf = not prepared)."""

    prepared_at: np.ndarray | None = None  # (N, M)

    @classmethod
    def initial(cls, rsrp_dbm) -> ChoState:
        base = HandoverState.initial(rsrp_dbm)
        st = cls(**base.__dict__)
        st.prepared_at = np.full(np.shape(rsrp_dbm), np.inf)
        return st


def cho_step(
    st: ChoState,
    t: float,
    rsrp_dbm,
    sinr_db,
    p: HandoverParams,
    prep_margin_db: float,
    prep_s: float,
) -> HandoverEvents:
    """Advance a CHO UE population ``st`` (in place) to time ``t``.

    1. The baseline state machine (:func:`~ran.comp.handover.handover_step`: RLM, RLF,
       completion of fallback handovers, A3 with TTT) runs first.
    2. UEs that triggered on a target whose conditional reconfiguration is ready execute at
       once: they switch now and are interrupted for ``interruption_s`` (the random access);
       a target not ready yet keeps the baseline ``execution_s`` (legacy fallback).
    3. Candidate preparation: a neighbour ``m`` with ``M_m - Hys > M_s + Off - margin`` is
       prepared (ready ``prep_s`` later) if the source SINR is above ``Qout``; candidates
       are released when the serving cell changes (completion, RLF re-establishment).
    """
    rsrp = np.asarray(rsrp_dbm, dtype=float)
    sinr = np.asarray(sinr_db, dtype=float)
    before = st.serving.copy()
    ev = handover_step(st, t, rsrp, sinr, p)
    if ev.triggered.size:
        ue = ev.triggered
        ready = st.prepared_at[ue, st.target[ue]] <= t + 1e-9
        go = ue[ready]
        if go.size:
            complete_handover(st, go, t, p)
            ev.completed = np.union1d(ev.completed, go)
    changed = st.serving != before
    st.prepared_at[changed] = np.inf
    # preparation of candidates while the source still carries signalling
    idle = (st.target < 0) & np.isnan(st.rlf_until) & (sinr >= p.qout_db)
    cond = a3_entering(rsrp, st.serving, p, prep_margin_db) & idle[:, None]
    new = cond & np.isinf(st.prepared_at)
    st.prepared_at[new] = t + prep_s
    return ev


def daps_step(st: HandoverState, t: float, rsrp_dbm, sinr_db, p: HandoverParams) -> HandoverEvents:
    """Advance a DAPS UE population ``st`` (in place): the baseline handover, except that a
    completing UE whose source link holds (serving SINR measured this step >= ``Qout``) keeps
    receiving from it while it accesses the target (no interruption); otherwise the
    baseline ``interruption_s`` applies."""
    sinr = np.asarray(sinr_db, dtype=float)
    ev = handover_step(st, t, rsrp_dbm, sinr, p)
    if ev.completed.size:
        held = sinr[ev.completed] >= p.qout_db
        st.interrupted_until[ev.completed[held]] = -np.inf
    return ev


def ping_pongs(ue, time_s, source, target, window_s: float = 1.0) -> np.ndarray:
    """Mask of the handovers in a log that are ping-pongs: the UE hands back to the cell it
    left (``target == source`` of its previous handover) less than ``window_s`` after that
    handover (TR 36.839: time of stay below ``T_pp``). The log may be in any order; entries
    are compared per UE in time order."""
    ue, time_s = np.asarray(ue), np.asarray(time_s, dtype=float)
    source, target = np.asarray(source), np.asarray(target)
    n = ue.size
    if not (time_s.size == source.size == target.size == n):
        raise ValueError("ue, time_s, source and target must have the same length")
    order = np.lexsort((time_s, ue))
    u, tt, s, d = ue[order], time_s[order], source[order], target[order]
    prev_same = np.r_[False, u[1:] == u[:-1]]
    back = np.zeros(n, dtype=bool)
    back[1:] = prev_same[1:] & (d[1:] == s[:-1]) & (s[1:] == d[:-1])
    back[1:] &= tt[1:] - tt[:-1] < window_s
    out = np.zeros(n, dtype=bool)
    out[order] = back
    return out
