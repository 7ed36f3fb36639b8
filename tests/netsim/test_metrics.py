"""Recorder: exact time-weighted averages, warm-up reset, tidy export."""

import numpy as np
import pytest

from netsim import Simulation


def test_level_time_average_exact():
    sim = Simulation()
    lv = sim.metrics.level("q", history=True)
    # 0 on [0,1), 2 on [1,4), 1 on [4,10)  -> (0 + 6 + 6)/10
    sim.schedule(1.0, lv.set, 2)
    sim.schedule(4.0, lv.add, -1)
    sim.run(until=10.0)
    assert lv.time_average() == pytest.approx(1.2)
    t, v = lv.history()
    assert t.tolist() == [0.0, 1.0, 4.0] and v.tolist() == [0, 2, 1]


def test_reset_discards_warmup():
    sim = Simulation()
    lv = sim.metrics.level("q")
    c = sim.metrics.counter("n")
    s = sim.metrics.timeseries("w")
    sim.schedule(1.0, lv.set, 5)
    sim.schedule(1.0, c.add)
    sim.schedule(1.0, s.record, 3.0)
    sim.run(until=2.0)
    sim.metrics.reset()
    sim.schedule(1.0, lv.set, 1)  # 5 on [2,3), 1 on [3,6)
    sim.run(until=6.0)
    assert lv.time_average() == pytest.approx((5 + 3) / 4)
    assert c.value == 0 and len(s) == 0


def test_to_frame_is_tidy():
    sim = Simulation()
    s = sim.metrics.timeseries("w")
    sim.metrics.counter("c").add(3)
    for k in range(4):
        sim.schedule(k + 1, s.record, float(k))
    sim.run()
    df = sim.metrics.to_frame()
    assert list(df.columns) == ["metric", "kind", "time", "value"]
    assert df[(df.metric == "w") & (df.kind == "mean")]["value"].item() == pytest.approx(1.5)
    assert df[(df.metric == "w") & (df.kind == "sample")]["time"].tolist() == [1, 2, 3, 4]
    assert df[df.metric == "c"]["value"].item() == 3


def test_summary_batch_means_ci_covers_mean_of_iid():
    sim = Simulation(seed=1)
    s = sim.metrics.timeseries("x")
    s.extend(np.arange(2000.0), sim.rng("x").normal(5.0, 1.0, 2000))
    row = sim.metrics.summary().iloc[0]
    assert row.ci_low < 5.0 < row.ci_high


def test_kind_clash_rejected():
    sim = Simulation()
    sim.metrics.counter("a")
    with pytest.raises(ValueError):
        sim.metrics.level("a")
