"""Blockage-event windows: a probe the study attaches to a :class:`~ran.comp.model.CompNetwork`.

A *blockage event* starts when a UE's serving link leaves LoS or gets blocked by a vehicle
without a cell change in the same tick. The probe keeps the last ``before_s`` of every UE's
rate per policy in a ring buffer, then records the rates until ``after_s`` past the handover's
completion (or ``max_s`` without one). Per event and policy it stores the mean rate before,
during the gap (onset to completion) and after, the minimum rate over the gap, and the minimum
during handover execution (A3 trigger to completion). When the trigger precedes the onset
the whole gap lies inside the execution, so that minimum is taken over the whole gap; it is
NaN only for events without a handover, and statistics skip NaN
(:func:`below_floor_share`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import Field

from netsim import Config

__all__ = ["EventWindows", "EventProbe", "EPISODE_COLUMNS", "below_floor_share"]

EPISODE_COLUMNS = (
    "event",
    "ue",
    "t0",
    "policy",
    "handover",
    "rlf",
    "gap_s",
    "trigger_s",
    "rate_before",
    "rate_gap",
    "rate_after",
    "min_rate_gap",
    "min_rate_handover",
)


class EventWindows(Config):
    """Windows of the event probe (s)."""

    before_s: float = Field(1.0, ge=0, le=10, description="history kept before the onset")
    after_s: float = Field(1.0, ge=0, le=10, description="recorded after handover completion")
    max_s: float = Field(5.0, gt=0, le=60, description="give up on events without handover")
    trace_step_s: float = Field(0.05, gt=0, description="resolution of stored event traces")


def below_floor_share(x, floor: float) -> float:
    """Share of the finite values of ``x`` below ``floor`` (NaN never counts, in the numerator
    or the denominator); NaN when no value is finite."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float((x < floor).mean()) if x.size else math.nan


@dataclass
class _Episode:
    """Rates of one UE around a blockage event (rows: ticks; columns: policies)."""

    ue: int
    t0: float
    before: np.ndarray
    rates: list = field(default_factory=list)
    t_ho: float = math.nan
    t_trigger: float = math.nan
    rlf: bool = False
    end: float = math.inf


class EventProbe:
    """Records blockage events of ``net``; attach with ``EventProbe(net, windows)``."""

    def __init__(self, net, windows: EventWindows | None = None):
        self.net, self.w = net, windows or EventWindows()
        dt, n, n_pol = net.cfg.dt_s, net.n_ues, len(net.names)
        self._ring_len = max(1, int(round(self.w.before_s / dt)))
        self._ring = np.zeros((self._ring_len, n, n_pol), dtype=np.float32)
        self._ring_pos = 0
        self._ring_full = 0
        self._episodes: dict[int, _Episode] = {}
        self.episode_rows: list[tuple] = []
        self.trace_rows: list[tuple] = []
        self._prev_clear = net.serving_clear()
        self._c_events = net.sim.metrics.counter("blockage_events")
        net.tick_hooks.append(self._tick)

    def _history(self, ue: int) -> np.ndarray:
        """The UE's last rates (oldest first), ``(<= L, P)``."""
        if self._ring_full < self._ring_len:
            return self._ring[: self._ring_pos, ue].astype(float)
        order = np.r_[self._ring_pos : self._ring_len, 0 : self._ring_pos]
        return self._ring[order, ue].astype(float)

    def _tick(self, net, t: float, ev, serving_before) -> None:
        clear = net.serving_clear()
        onsets = np.flatnonzero(self._prev_clear & ~clear & (net.ho.serving == serving_before))
        self._prev_clear = clear
        executing = net.ho.in_handover()
        for ue in onsets.tolist():
            if ue not in self._episodes:
                self._c_events.add()
                e = self._episodes[ue] = _Episode(ue, t, self._history(ue))
                if executing[ue]:
                    e.t_trigger = t  # triggered before the onset: the whole gap executes
        for ue in ev.triggered.tolist():
            e = self._episodes.get(ue)
            if e is not None and math.isnan(e.t_trigger):
                e.t_trigger = t
        for ue in ev.completed.tolist():
            e = self._episodes.get(ue)
            if e is not None and math.isnan(e.t_ho):
                e.t_ho, e.end = t, t + self.w.after_s
        for ue in ev.rlf.tolist():
            if ue in self._episodes:
                self._episodes[ue].rlf = True
        done = []
        for ue, e in self._episodes.items():
            e.rates.append(net.rates[ue].copy())
            if t >= e.end - 1e-9 or (math.isnan(e.t_ho) and t - e.t0 >= self.w.max_s - 1e-9):
                done.append(ue)
        for ue in done:
            self._finish(self._episodes.pop(ue))
        self._ring[self._ring_pos] = net.rates
        self._ring_pos = (self._ring_pos + 1) % self._ring_len
        self._ring_full = min(self._ring_full + 1, self._ring_len)

    def _finish(self, e: _Episode) -> None:
        names, dt = self.net.names, self.net.cfg.dt_s
        after = np.asarray(e.rates)
        rel = np.r_[-np.arange(e.before.shape[0], 0, -1) * dt, np.arange(after.shape[0]) * dt]
        rates = np.concatenate([e.before.reshape(-1, after.shape[1]), after])
        handover = not math.isnan(e.t_ho)
        gap_end = (e.t_ho - e.t0) if handover else rel[-1] + dt
        phase = np.where(rel < 0, "before", np.where(rel < gap_end - 1e-9, "gap", "after"))
        kid = len(self.episode_rows) // max(1, len(names))
        t_trig = (e.t_trigger - e.t0) if not math.isnan(e.t_trigger) else math.inf
        executing = (rel >= t_trig - 1e-9) & (phase == "gap")
        for j, p in enumerate(names):
            r = rates[:, j]
            gap, ex = r[phase == "gap"], r[executing]
            self.episode_rows.append(
                (
                    kid,
                    e.ue,
                    e.t0,
                    p,
                    handover,
                    e.rlf,
                    float(gap_end),
                    float(t_trig) if math.isfinite(t_trig) else math.nan,
                    float(r[phase == "before"].mean()) if (phase == "before").any() else math.nan,
                    float(gap.mean()) if gap.size else math.nan,
                    float(r[phase == "after"].mean()) if (phase == "after").any() else math.nan,
                    float(gap.min()) if gap.size else math.nan,
                    float(ex.min()) if ex.size else math.nan,
                )
            )
        stride = max(1, int(round(self.w.trace_step_s / dt)))
        keep = np.flatnonzero(np.rint(rel / dt).astype(np.int64) % stride == 0)
        for i in keep.tolist():
            for j, p in enumerate(names):
                self.trace_rows.append((kid, p, float(rel[i]), phase[i], float(rates[i, j])))

    def episode_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.episode_rows, columns=list(EPISODE_COLUMNS))

    def trace_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            self.trace_rows, columns=["event", "policy", "rel_time", "phase", "rate"]
        )
