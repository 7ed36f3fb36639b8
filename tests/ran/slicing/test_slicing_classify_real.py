"""The real-log classifier's splits: captures held out together, majority baseline per fold."""

import numpy as np
import pytest

from ran.slicing.classify_real import grouped_cv, real_units, summarise_cv


@pytest.fixture(scope="module")
def units():
    return real_units(stride=16)


@pytest.mark.slow
def test_units_and_shared_captures(units):
    assert len(units) == 18 and len({u.ue for u in units}) == 18
    by_capture = {}
    for u in units:
        by_capture.setdefault(u.capture, []).append(u.source)
    # the same phone capture replayed in the single- and the 6-UE trial
    for cap in ("urllc_04_10", "urllc_04_16", "mmtc_04_10"):
        assert sorted(by_capture[cap]) == ["tractor_multi_ue", "tractor_single_ue"]
    assert len(by_capture) == 15


@pytest.mark.slow
def test_leave_one_capture_out_never_trains_on_the_held_out_capture(units):
    seen = []

    class Spy:
        """A constant model that records its training set."""

        def fit(self, x, y):
            seen.append(x)
            self.label = int(np.bincount(y).argmax())
            return self

        def predict(self, x):
            return np.full(len(x), self.label)

    folds = grouped_cv(units, "capture", Spy)
    caps = sorted({u.capture for u in units})
    assert len(seen) == len(caps)
    for cap, x in zip(caps, seen, strict=True):
        expected = np.concatenate([u.features[::2] for u in units if u.capture != cap])
        np.testing.assert_array_equal(x, expected)
    # a constant majority model scores exactly the majority baseline
    np.testing.assert_allclose(folds["accuracy"], folds["majority"])
    table = summarise_cv(folds).set_index("source")
    w = folds["n"].to_numpy(float)
    assert table.loc["all", "majority"] == pytest.approx((folds["majority"] * w).sum() / w.sum())
    with pytest.raises(ValueError, match="by"):
        grouped_cv(units, "cell")
