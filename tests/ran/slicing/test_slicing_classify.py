"""Traffic classification: windows, TRACTOR's control relabelling, models, real samples."""

import numpy as np
import pytest

from ran.slicing.classify import (
    CLASS_NAMES,
    CTRL,
    SILENT_ZEROS,
    WINDOW,
    MinMax,
    StatsClassifier,
    _random_ues,
    accuracy,
    capture_folds,
    capture_holdout,
    confusion,
    dataset,
    feature_matrix,
    online_evaluation,
    real_samples,
    report_windows,
    simulate_runs,
    window_labels,
    window_stats,
    windows,
)
from ran.slicing.kpm import FEATURES
from ran.slicing.traffic import TRACES, make_ue_traffic


def test_windows_slide_over_reports():
    x = np.arange(40 * 3, dtype=float).reshape(40, 3)
    w = windows(x, 32, 1)
    assert w.shape == (9, 32, 3)
    np.testing.assert_array_equal(w[0], x[:32])
    np.testing.assert_array_equal(w[-1], x[8:])
    assert windows(x, 32, 4).shape == (3, 32, 3)
    assert windows(x[:10], 32).shape == (0, 32, 3)


def test_control_relabelling_rule():
    """TRACTOR check_zeros: control iff every report of the window has > 10 zero KPIs."""
    w = np.zeros((2, WINDOW, len(FEATURES)))
    w[:, :, :6] = 1.0  # 11 zeros per report: silent
    w[1, 5, 6] = 1.0  # one report with 10 zeros: not silent
    np.testing.assert_array_equal(window_labels(w, 1), [CTRL, 1])
    assert SILENT_ZEROS == 10 and CLASS_NAMES[CTRL] == "control"


def test_clipping_and_scaling():
    import pandas as pd

    df = pd.DataFrame({f: [0.0, 1.0] for f in FEATURES})
    df.loc[1, "tx_brate downlink [Mbps]"] = 35.0
    df.loc[1, "rx_brate uplink [Mbps]"] = 18.0
    x = feature_matrix(df)
    assert x[1, FEATURES.index("tx_brate downlink [Mbps]")] == 20.0
    assert x[1, FEATURES.index("rx_brate uplink [Mbps]")] == 15.0
    w = np.stack([np.tile(x[:1], (WINDOW, 1)), np.tile(x[1:], (WINDOW, 1))])
    w[:, :, 0] = 7.0  # a constant feature scales to 0
    scaled = MinMax().fit(w)(w)
    assert scaled.min() == 0.0 and scaled.max() == 1.0 and (scaled[:, :, 0] == 0).all()
    assert window_stats(scaled).shape == (2, 6 * len(FEATURES) + 3)


def test_real_samples_load():
    samples = real_samples()
    assert len(samples) == 9 + 6 + 3
    sources = {s for s, *_ in samples}
    assert sources == {"tractor_single_ue", "tractor_multi_ue", "colosseum_commag"}
    for _source, _name, frame, label in samples:
        w, y = report_windows(frame, label)
        assert w.shape == (len(frame) - WINDOW + 1, WINDOW, len(FEATURES))
        assert set(np.unique(y)) <= {label, CTRL}
    labels = {name: label for _, name, _, label in samples}
    assert labels["null_no_traffic_CNTRL.csv.gz"] == CTRL
    assert labels["1010123456003_metrics.csv"] == 0  # COMMAG UE2: eMBB slice


@pytest.fixture(scope="module")
def small_runs():
    return simulate_runs(seed=3, runs=3, duration_s=25.0, n_per_class=2, traffic="commag")


def test_forest_learns_simulated_traffic(small_runs):
    x, y = dataset(small_runs[:2], stride=2)
    xt, yt = dataset(small_runs[2:], stride=1)
    assert set(np.unique(y)) == {0, 1, 2, 3}
    model = StatsClassifier(seed=0, trees=30).fit(x, y)
    pred = model.predict(xt)
    assert accuracy(yt, pred) > 0.6  # four classes: chance is about 0.25
    cm = confusion(yt, pred)
    assert cm.sum() == len(yt) and cm.shape == (4, 4)


def test_transformer_is_deterministic(small_runs):
    from ran.slicing.classify_torch import TransformerClassifier

    x, y = dataset(small_runs[:1], stride=4)
    a = TransformerClassifier(seed=1, epochs=1).fit(x, y).predict(x)
    b = TransformerClassifier(seed=1, epochs=1).fit(x, y).predict(x)
    np.testing.assert_array_equal(a, b)
    assert a.shape == y.shape and set(np.unique(a)) <= {0, 1, 2, 3}


def test_online_evaluation_with_a_silent_classifier():
    """A classifier that always answers "control" moves nobody: its accuracy is the share of
    silent windows and the share of UEs in their slice stays at the starting share."""
    res = online_evaluation(lambda w: np.full(len(w), CTRL), seed=2, duration_s=12.0,
                            n_per_class=1, traffic="trace")
    assert res["decisions"] == (48 - WINDOW + 1) * 4  # 4 UEs (one per class) from report 32
    assert 0.0 <= res["online_accuracy"] <= 1.0 and 0.0 <= res["in_correct_slice"] <= 1.0


def test_capture_folds_hold_out_every_capture_and_never_train_on_it():
    folds = capture_folds()
    assert len(folds) == max(len(v) for v in TRACES.values())
    for cls, names in TRACES.items():
        held = [test[cls][0] for _, test in folds]
        assert set(held) == set(names)  # every capture is held out at least once
        for train, test in folds:
            assert train[cls] and not set(train[cls]) & set(test[cls])
            assert set(train[cls]) | set(test[cls]) == set(names)


def test_trace_subsets_replay_only_the_given_captures():
    rng = np.random.default_rng(0)
    train, test = capture_folds()[0]
    ues = _random_ues(rng, 4, test)
    for ue in ues:
        if ue.traffic_class == "ctrl":
            assert ue.traffic is None
        else:
            assert ue.traffic.trace == test[ue.traffic_class][0]
    with pytest.raises(ValueError, match="traces"):
        make_ue_traffic("embb", "trace", rng, traces={"embb": ("urllc_meet_04_10_first200s",)})
    with pytest.raises(ValueError, match="traces"):
        simulate_runs(1, 1, 1.0, traffic="commag", traces=test)


def test_capture_holdout_rows_and_a_blind_model():
    """A model that always answers eMBB scores the share of eMBB windows on every fold."""

    class AlwaysEmbb:
        def fit(self, x, y):
            return self

        def predict(self, w):
            return np.zeros(len(w), dtype=int)

    rows = capture_holdout(AlwaysEmbb, seed=3, train_runs=1, test_runs=1, duration_s=10.0)
    assert [r["fold"] for r in rows] == [0, 1, 2]
    for r, (_, test) in zip(rows, capture_folds(), strict=True):
        assert r["held_out"] == "+".join(v[0] for v in test.values())
        assert r["n"] > 0 and 0.0 < r["accuracy"] < 0.5  # eMBB is 3 of 11 UEs; some silent
