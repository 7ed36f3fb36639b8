"""Benchmark timing helpers."""

import time

import pytest

from netsim.timing import best_of, timed


def test_timed_returns_the_result_and_both_clocks():
    out, wall, cpu = timed(lambda: sum(range(100_000)))
    assert out == sum(range(100_000))
    assert wall > 0 and cpu > 0


def test_sleep_counts_in_wall_time_but_not_cpu_time():
    _, wall, cpu = timed(lambda: time.sleep(0.05))
    assert wall >= 0.05 and cpu < 0.04


def test_best_of_keeps_the_minimum_and_calls_repeat_times():
    calls = []
    sleeps = iter([0.06, 0.01, 0.04])

    def fn():
        calls.append(1)
        time.sleep(next(sleeps))
        return len(calls)

    out, wall, _ = best_of(fn, 3)
    assert out == 3 and len(calls) == 3
    assert 0.01 <= wall < 0.04
    with pytest.raises(ValueError, match="repeat"):
        best_of(fn, 0)
