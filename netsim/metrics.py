"""Metrics recorded on the simulation clock, exported as a tidy ``pandas.DataFrame``.

Three kinds:

* :class:`Counter` - a running count (``add``);
* :class:`Level` - a piecewise-constant quantity (queue length, busy servers) whose
  time-weighted average ``(1/T)∫ x(t) dt`` is kept exactly;
* :class:`Series` - timestamped observations (waiting times, rates).

``Recorder.reset()`` discards everything before a warm-up point. The tidy frame has columns
``metric, kind, time, value``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from .stats import batch_means

__all__ = ["Counter", "Level", "Series", "Recorder"]

Clock = Callable[[], float]


class Counter:
    """A running count."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def add(self, n: float = 1.0) -> None:
        self.value += n

    def _reset(self, _now: float) -> None:
        self.value = 0.0


class Level:
    """A piecewise-constant level with its exact time-weighted average."""

    __slots__ = ("_clock", "value", "_area", "_t_last", "_t0", "_hist_t", "_hist_v")

    def __init__(self, clock: Clock, initial: float = 0.0, history: bool = False):
        self._clock = clock
        now = clock()
        self.value = float(initial)
        self._area = 0.0
        self._t_last = self._t0 = now
        self._hist_t: list[float] | None = [now] if history else None
        self._hist_v: list[float] | None = [self.value] if history else None

    def set(self, value: float) -> None:
        now = self._clock()
        self._area += self.value * (now - self._t_last)
        self._t_last = now
        self.value = value
        if self._hist_t is not None:
            self._hist_t.append(now)
            self._hist_v.append(value)

    def add(self, delta: float) -> None:
        self.set(self.value + delta)

    def time_average(self, now: float | None = None) -> float:
        """``(1/(now - t0)) ∫_{t0}^{now} x(t) dt``; NaN over an empty interval."""
        now = self._clock() if now is None else now
        span = now - self._t0
        if span <= 0:
            return float("nan")
        return (self._area + self.value * (now - self._t_last)) / span

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        """Change times and values (only when created with ``history=True``)."""
        if self._hist_t is None:
            raise ValueError("level was created without history=True")
        return np.asarray(self._hist_t), np.asarray(self._hist_v)

    def _reset(self, now: float) -> None:
        self._area = 0.0
        self._t_last = self._t0 = now
        if self._hist_t is not None:
            self._hist_t[:] = [now]
            self._hist_v[:] = [self.value]


class Series:
    """Timestamped observations."""

    __slots__ = ("_clock", "_t", "_v")

    def __init__(self, clock: Clock):
        self._clock = clock
        self._t: list[float] = []
        self._v: list[float] = []

    def record(self, value: float) -> None:
        self._t.append(self._clock())
        self._v.append(value)

    def extend(self, times: Iterable[float], values: Iterable[float]) -> None:
        """Append many observations at once (e.g. from a vectorised step)."""
        self._t.extend(times)
        self._v.extend(values)

    def __len__(self) -> int:
        return len(self._v)

    @property
    def times(self) -> np.ndarray:
        return np.asarray(self._t, dtype=float)

    @property
    def values(self) -> np.ndarray:
        return np.asarray(self._v, dtype=float)

    def _reset(self, _now: float) -> None:
        self._t.clear()
        self._v.clear()


class Recorder:
    """All metrics of one run, by name."""

    def __init__(self, clock: Clock, start: float = 0.0):
        self._clock = clock
        self._t0 = start
        self.counters: dict[str, Counter] = {}
        self.levels: dict[str, Level] = {}
        self.series: dict[str, Series] = {}

    def counter(self, name: str) -> Counter:
        c = self.counters.get(name)
        if c is None:
            self._check_new(name)
            c = self.counters[name] = Counter()
        return c

    def level(self, name: str, initial: float = 0.0, history: bool = False) -> Level:
        lv = self.levels.get(name)
        if lv is None:
            self._check_new(name)
            lv = self.levels[name] = Level(self._clock, initial, history)
        return lv

    def timeseries(self, name: str) -> Series:
        s = self.series.get(name)
        if s is None:
            self._check_new(name)
            s = self.series[name] = Series(self._clock)
        return s

    def _check_new(self, name: str) -> None:
        if name in self.counters or name in self.levels or name in self.series:
            raise ValueError(f"metric {name!r} already exists with another kind")

    def reset(self) -> None:
        """Discard all statistics gathered so far (end of warm-up)."""
        now = self._clock()
        self._t0 = now
        for m in (*self.counters.values(), *self.levels.values(), *self.series.values()):
            m._reset(now)

    def to_frame(self, samples: bool = True) -> pd.DataFrame:
        """Tidy frame ``metric, kind, time, value``.

        Counters give one ``count`` row, levels one ``time_average`` row (and their ``level``
        history, if kept), series one ``mean`` row plus, with ``samples``, every observation.
        """
        now = self._clock()
        parts: list[pd.DataFrame] = []

        def block(metric: str, kind: str, t, v) -> None:
            t = np.atleast_1d(np.asarray(t, dtype=float))
            v = np.atleast_1d(np.asarray(v, dtype=float))
            parts.append(pd.DataFrame({"metric": metric, "kind": kind, "time": t, "value": v}))

        for name, c in self.counters.items():
            block(name, "count", now, c.value)
        for name, lv in self.levels.items():
            block(name, "time_average", now, lv.time_average(now))
            if samples and lv._hist_t is not None:
                block(name, "level", *lv.history())
        for name, s in self.series.items():
            vals = s.values
            block(name, "mean", now, vals.mean() if vals.size else np.nan)
            if samples:
                block(name, "sample", s.times, vals)
        if not parts:
            return pd.DataFrame({"metric": [], "kind": [], "time": [], "value": []})
        return pd.concat(parts, ignore_index=True)

    def summary(self, confidence: float = 0.95, batches: int = 20) -> pd.DataFrame:
        """One row per metric: value and, for series, a batch-means CI within this run."""
        now = self._clock()
        rows = []
        for name, c in self.counters.items():
            rows.append((name, "count", c.value, np.nan, np.nan))
        for name, lv in self.levels.items():
            rows.append((name, "time_average", lv.time_average(now), np.nan, np.nan))
        for name, s in self.series.items():
            mean, half = batch_means(s.values, batches, confidence) if len(s) else (np.nan, np.nan)
            rows.append((name, "mean", mean, mean - half, mean + half))
        return pd.DataFrame(rows, columns=["metric", "kind", "value", "ci_low", "ci_high"])
