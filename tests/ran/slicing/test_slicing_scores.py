"""TRACTOR's performance scores on hand-computed cases (eval_perf/perf_analysis.py)."""

import numpy as np
import pytest

from ran.slicing.scores import (
    Z90,
    embb_score,
    mmtc_score,
    slice_means,
    trial_statistics,
    ue_scores,
    urllc_score,
)


@pytest.mark.parametrize(
    "tx, buf, expected",
    [
        (0.0, 0, 0.5),  # (1.5 + 0 - 0)/3
        (1.0, 0, 1.75 / 3),  # (1.5 + 0.25)/3
        (6.0, 0, 1.0),  # (1.5 + 1.5)/3
        (10.0, 0, 1.0),  # clipped at 1
        (2.0, 125_000, 1.0 / 3),  # (1.5 + 0.5 - 1.0)/3: 125 kB = 1 Mbit
        (0.0, 1_000_000, 0.0),  # (1.5 - 8)/3 clipped at 0
    ],
)
def test_embb(tx, buf, expected):
    assert embb_score(tx, buf) == pytest.approx(expected)


@pytest.mark.parametrize(
    "tx, buf, expected",
    [
        (0.0, 0, 1.0),  # empty buffer
        (3.0, 0, 1.0),
        (0.0, 10, 0.0),  # backlog, nothing sent
        (1.0, 62_500, 0.5),  # 0.5 Mbit drains in 0.5 s at 1 Mbps
        (0.5, 125_000, 0.0),  # 1 Mbit at 0.5 Mbps: 2 s -> max(0, -1)
    ],
)
def test_urllc(tx, buf, expected):
    assert urllc_score(tx, buf) == pytest.approx(expected)


@pytest.mark.parametrize(
    "req, grant, prb, expected",
    [(0, 0, 9, 1 / 9), (0, 5, 3, 1 / 3), (10, 5, 9, 0.5), (10, 20, 9, 1.0), (3, 3, 15, 1.0)],
)
def test_mmtc(req, grant, prb, expected):
    assert mmtc_score(req, grant, prb) == pytest.approx(expected)


def test_scores_follow_the_slice_of_each_ue():
    report = {
        "tx_brate downlink [Mbps]": np.array([1.0, 1.0, 1.0]),
        "dl_buffer [bytes]": np.array([62_500.0, 62_500.0, 62_500.0]),
        "sum_requested_prbs": np.array([10.0, 10.0, 10.0]),
        "sum_granted_prbs": np.array([4.0, 4.0, 4.0]),
        "slice_prb": np.array([9.0, 15.0, 26.0]),
    }
    got = ue_scores(report, [0, 1, 2])
    np.testing.assert_allclose(got, [0.4, 0.5, (1.5 + 0.25 - 0.5) / 3])


def test_scores_on_arrays_and_slice_means():
    tx = np.array([0.0, 1.0, 6.0])
    buf = np.array([0.0, 62_500.0, 0.0])
    np.testing.assert_allclose(embb_score(tx, buf), [0.5, (1.75 - 0.5) / 3, 1.0])
    np.testing.assert_allclose(urllc_score(tx, buf), [1.0, 0.5, 1.0])
    np.testing.assert_allclose(mmtc_score([0, 10, 10], [0, 5, 20], 9), [1 / 9, 0.5, 1.0])
    means = slice_means([0.2, 0.4, 0.9], [0, 0, 2])
    np.testing.assert_allclose(means[[0, 2]], [0.3, 0.9])
    assert np.isnan(means[1])  # no UE in the URLLC slice


def test_trial_statistics():
    """Mean, ddof-1 std, CV and mean ± 1.645 s/√n, as perf_analysis.py computes them."""
    x = [0.6, 0.62, 0.64, 0.66]
    st = trial_statistics(x)
    s = np.std(x, ddof=1)
    assert st["mean"] == pytest.approx(0.63) and st["std"] == pytest.approx(s)
    assert st["cv"] == pytest.approx(s / 0.63)
    assert st["ci90_high"] - st["mean"] == pytest.approx(Z90 * s / 2)
    with pytest.raises(ValueError):
        trial_statistics([])


def test_mmtc_with_no_slice_prbs_scores_zero_regression():
    """Regression (issue 13): ``slice_prb = 0`` with nothing requested gave ``inf``; TRACTOR's
    ``perf_func`` catches the division by zero and scores 0."""
    assert mmtc_score(0.0, 0.0, 0.0) == 0.0
    assert ue_scores({"tx_brate downlink [Mbps]": [0.0], "dl_buffer [bytes]": [0.0],
                      "sum_requested_prbs": [0.0], "sum_granted_prbs": [0.0],
                      "slice_prb": [0.0]}, [0])[0] == 0.0


@pytest.mark.parametrize("path", [
    "ran/slicing/data/tractor_multi6/1010123456003_metrics.csv.gz",
    "/work/shared/data/oran/tractor_multi_ue_trial3_multi6/1010123456003_metrics.csv",
])
def test_real_multi_ue_log_scores_are_finite(path):
    """On the real TRACTOR 6-UE log every row has ``slice_prb = 0`` and 1,526 of 1,833 request
    nothing: scored as mMTC they get 0, never inf, and every score lies in [0, 1]."""
    from pathlib import Path

    from ran.slicing.kpm import load_colosseum_csv

    full = Path(__file__).resolve().parents[3] / path if not path.startswith("/") else Path(path)
    if not full.exists():
        pytest.skip(f"{path} not present")
    df = load_colosseum_csv(full)
    scores = ue_scores(df, np.zeros(len(df), dtype=np.int64))
    assert len(df) == 1833 and (df["slice_prb"] == 0).all()
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
    idle = (df["slice_prb"] == 0).to_numpy() & (df["sum_requested_prbs"] == 0).to_numpy()
    assert int(idle.sum()) == 1526 and (scores[idle] == 0).all()
