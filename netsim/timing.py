"""Timing for the benchmarks: wall-clock time (``time.perf_counter``) and the CPU time this
process used (``time.process_time``, the steadier figure on a shared machine)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["timed", "best_of"]

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """``(fn(), wall_s, cpu_s)`` of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def best_of(fn: Callable[[], T], repeat: int = 3) -> tuple[T, float, float]:
    """``(result of the last call, best wall_s, best cpu_s)`` over ``repeat`` calls: load
    from other processes only ever slows a run down, so the minimum is the best estimate."""
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    wall = cpu = float("inf")
    out = None
    for _ in range(repeat):
        out, w, c = timed(fn)
        wall, cpu = min(wall, w), min(cpu, c)
    return out, wall, cpu
