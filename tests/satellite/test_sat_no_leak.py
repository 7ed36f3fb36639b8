"""No feature at time t reads the future (issue 17): perturb only rows after t of every input
column and check that no feature at rows <= t changes."""

import numpy as np
import pandas as pd
import pytest
from test_sat_handover import toy

from satellite.predict import FEATURES, candidate_rows, dataset_features

T = 200


def _frame(seed=0, horizon=30):
    rng = np.random.default_rng(seed)
    t = np.arange(T, dtype=float)
    el = 30.0 + 0.01 * t
    d = {
        "flight": "F0001", "t_s": t,
        "lat_deg": 47 + 1e-3 * t, "lon_deg": 8 + 1e-3 * t, "alt_m": np.full(T, 10000.0),
        "speed_mps": np.full(T, 230.0), "heading_deg": 90 + rng.normal(0, 1, T),
        "vs_mps": rng.normal(0, 1, T), "roll_deg": rng.normal(0, 3, T),
        "pitch_deg": np.full(T, 2.5), "phase": np.full(T, 2.0),
        "time_to_turn_s": np.maximum(150 - t, 0), "next_turn_deg": np.full(T, 30.0),
        "heading_to_go_deg": rng.normal(0, 2, T), "kind": np.zeros(T),
        "el_deg": el, "az_deg": np.full(T, 170.0), "boresight_deg": 60 - 0.01 * t,
        "off_axis_deg": rng.uniform(0, 0.3, T), "esn0_db": 8 + rng.normal(0, 0.5, T),
        "radar_level_mmh": rng.exponential(1, T), "radar_column_mmh": rng.exponential(1, T),
        "radar_top_above_m": rng.normal(-3000, 500, T),
        f"plan_el_h{horizon}_deg": el + 0.3, f"plan_az_h{horizon}_deg": np.full(T, 171.0),
    }
    return pd.DataFrame(d)


def _perturb_after(df, t0, rng):
    out = df.copy()
    for c in out.columns:
        if c in ("flight", "t_s", "kind"):
            continue
        x = out[c].to_numpy(dtype=float).copy()
        x[t0 + 1 :] = rng.normal(0, 50, T - t0 - 1)
        x[t0 + 1 :: 7] = np.nan  # lost links in the future
        out[c] = x
    return out


@pytest.mark.parametrize("t0", [60, 100, 170])
def test_dataset_features_do_not_read_the_future(t0):
    df = _frame()
    ref = dataset_features(df, 30)
    got = dataset_features(_perturb_after(df, t0, np.random.default_rng(t0)), 30)
    assert list(ref.columns) == list(FEATURES)
    pd.testing.assert_frame_equal(ref.iloc[: t0 + 1], got.iloc[: t0 + 1])


def test_issue_reproduction_lost_link_at_130_leaves_row_100_alone():
    """The issue's case: row 130 loses the link (el, az NaN, Es/N0 -20 dB); row 100's el_h
    stayed 30.0 -> 0.0 and esn0_plan_h 7.96 -> -20 before the fix."""
    df = _frame()
    ref = dataset_features(df, 30)
    bad = df.copy()
    bad.loc[130, ["el_deg", "az_deg"]] = np.nan
    bad.loc[130, "esn0_db"] = -20.0
    got = dataset_features(bad, 30)
    for f in ("el_h", "esn0_plan_h", "bore_h", "margin_h"):
        assert got.loc[100, f] == ref.loc[100, f]
    # the lost link itself is flagged, not written as a zero elevation
    assert got.loc[130, "link_now"] == 0.0 and np.isnan(got.loc[130, "el"])


def test_candidate_features_do_not_read_the_future():
    """Candidate rows read the link set up to t and the plan's look angles at row t."""
    rng = np.random.default_rng(3)
    n_c = 4
    ls = toy(rng.normal(6, 2, (T, n_c)), rng.random((T, n_c)) < 0.9, [0, 0, 1, 1],
             [0, 1, 0, 1], [0, 0, 1, 1])
    ls.el_deg = 20 + rng.uniform(0, 40, (T, n_c))
    ls.az_deg = rng.uniform(0, 360, (T, n_c))
    look = (ls.el_deg + 1.0, ls.az_deg + 1.0)
    df = _frame()
    traj = type("Traj", (), {k: df[k].to_numpy() for k in df.columns if k != "flight"})
    radar = {k: df[k].to_numpy() for k in ("radar_level_mmh", "radar_column_mmh",
                                            "radar_top_above_m")}
    mask = np.ones((T, n_c), dtype=bool)
    X, ti, _, _ = candidate_rows(ls, traj, radar, mask, 30, look_h=look)
    t0 = 90
    for name in ("esn0_db", "esn0_meas_db", "el_deg", "az_deg", "boresight_deg",
                 "off_axis_deg", "load"):
        a = getattr(ls, name).copy()
        a[t0 + 1 :] = rng.normal(0, 50, a[t0 + 1 :].shape)
        setattr(ls, name, a)
    ls.visible[t0 + 1 :] = False
    ls.blocked[t0 + 1 :] = True
    X2, ti2, _, _ = candidate_rows(ls, traj, radar, mask, 30, look_h=look)
    keep = ti <= t0
    pd.testing.assert_frame_equal(
        X[keep].reset_index(drop=True), X2[ti2 <= t0].reset_index(drop=True)
    )
