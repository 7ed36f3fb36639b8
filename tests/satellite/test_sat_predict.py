"""Prediction pipeline: features are causal, GroupKFold never mixes flights, metrics."""

import numpy as np
import pandas as pd
import pytest

from satellite.predict import FEATURES, cross_validate, dataset_features, scores


def _synthetic(n_flights=10, n=400, seed=0):
    """Flights whose Es/N0 drops for 60 s after a 'turn' announced by time_to_turn_s: the
    future is predictable from the plan, not from the present level."""
    rng = np.random.default_rng(seed)
    frames = []
    for f in range(n_flights):
        t = np.arange(n, dtype=float)
        start = rng.integers(100, 300)
        es = np.where((t >= start) & (t < start + 60), -10.0, 8.0) + rng.normal(0, 0.1, n)
        d = {
            "flight": f"f{f}",
            "t_s": t,
            "esn0_db": es,
            "el_deg": 30.0,
            "az_deg": 180.0,
            "boresight_deg": 60.0,
            "off_axis_deg": 0.1,
            "kind": 0,
            "heading_deg": 90.0,
            "pitch_deg": 2.5,
            "roll_deg": 0.0,
            "alt_m": 10000.0,
            "vs_mps": 0.0,
            "speed_mps": 230.0,
            "phase": 2,
            "time_to_turn_s": np.maximum(start - t, 0.0),
            "next_turn_deg": 0.0,
            "heading_to_go_deg": 0.0,
            "radar_level_mmh": 0.0,
            "radar_column_mmh": 0.0,
            "radar_top_above_m": -10000.0,
        }
        frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True)


def test_features_are_causal():
    """Changing the future of a flight leaves its past features unchanged."""
    df = _synthetic(2)
    a = dataset_features(df, horizon_s=0)
    df2 = df.copy()
    df2.loc[350:399, "esn0_db"] = 99.0
    b = dataset_features(df2, horizon_s=0)
    hist = [c for c in FEATURES if c.startswith("esn0") or c == "since_blocked"]
    pd.testing.assert_frame_equal(a.loc[:349, hist], b.loc[:349, hist])
    assert list(a.columns) == list(FEATURES)


def test_gradient_boosting_beats_persistence_on_a_predictable_future():
    df = _synthetic(10)
    res = cross_validate(df, [30], n_splits=5, train_stride=2)
    gb = res[res.model == "gradient_boosting"].iloc[0]
    ps = res[res.model == "persistence"].iloc[0]
    assert gb.f1_outage > 0.9 and gb.f1_outage > ps.f1_outage + 0.2
    assert gb.flights == 10


def test_scores_and_cv_bad_input():
    s = scores(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1]), np.array([0.9, 0.1, 0.0, 0.2]))
    assert s["f1_outage"] == 1.0 and s["auc_outage"] == 1.0
    assert s["macro_f1"] == pytest.approx((1.0 + 2 / 3 + 2 / 3) / 3)
    with pytest.raises(ValueError, match="at least 5 flights"):
        cross_validate(_synthetic(3, 100), [10], n_splits=5)
