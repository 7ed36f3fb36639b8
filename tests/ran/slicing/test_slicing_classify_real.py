"""The real-log classifier's splits: captures held out together, majority baseline per fold."""

import numpy as np
import pytest

from ran.slicing.classify_real import RealUnit, cv_table, grouped_cv, real_units, summarise_cv


def _toy_units():
    """Six UEs, two of them sharing capture "a" (as the TRACTOR trials share captures); each
    window's single feature is its UE's index, so a model can see which UEs it trained on."""
    spec = [("s1", "a", 0), ("s1", "b", 1), ("s2", "a", 1), ("s2", "c", 2), ("s2", "d", 0),
            ("s3", "e", 2)]
    units = []
    for i, (src, cap, label) in enumerate(spec):
        n = 3 + i
        units.append(RealUnit(src, f"{src}/ue{i}", cap, np.full((n, 1), float(i)),
                              np.full(n, label)))
    return units


class _Recorder:
    """A constant majority model that records the UEs it trains on and predicts for."""

    log: list = []

    def fit(self, x, y):
        self.trained = set(x[:, 0].astype(int).tolist())
        self.label = int(np.bincount(y).argmax())
        return self

    def predict(self, x):
        _Recorder.log.append((self.trained, set(x[:, 0].astype(int).tolist())))
        return np.full(len(x), self.label)


@pytest.mark.parametrize("by", ["capture", "ue"])
def test_grouped_cv_never_trains_on_the_held_out_group(by):
    units = _toy_units()
    _Recorder.log = []
    folds = grouped_cv(units, by, _Recorder, train_stride=1)
    groups = {getattr(u, by) for u in units}
    assert len(folds) == len(units) and set(folds["ue"]) == {u.ue for u in units}
    for trained, tested in _Recorder.log:
        (i,) = tested  # each prediction covers one held-out UE
        key = getattr(units[i], by)
        same = {j for j, u in enumerate(units) if getattr(u, by) == key}
        assert trained == set(range(len(units))) - same  # all the others, none of its group
    # held out together: UEs 0 and 2 replay capture "a"; leave-one-UE-out separates them
    n_fits = len({frozenset(t) for t, _ in _Recorder.log})
    assert n_fits == len(groups) == (5 if by == "capture" else 6)
    # a constant majority model scores exactly the majority baseline
    np.testing.assert_allclose(folds["accuracy"], folds["majority"])
    table = summarise_cv(folds).set_index("source")
    w = folds["n"].to_numpy(float)
    assert table.loc["all", "accuracy"] == pytest.approx((folds["accuracy"] * w).sum() / w.sum())
    assert table.loc["all", "n"] == sum(len(u.labels) for u in units)
    cells = cv_table([summarise_cv(folds)])
    assert cells.index.tolist() == [by] and "(" in cells.loc[by, "all"]


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


def test_cli_prints_both_splits_and_rejects_bad_stride(monkeypatch, capsys, tmp_path):
    import ran.slicing.classify_real as cr

    monkeypatch.setattr(cr, "real_units", lambda stride: _toy_units())
    monkeypatch.setattr(cr, "default_model", lambda seed: _Recorder())
    assert cr.main(["--out", str(tmp_path / "folds.csv")]) == 0
    out = capsys.readouterr().out
    assert "| capture |" in out and "| ue |" in out
    assert len((tmp_path / "folds.csv").read_text().splitlines()) == 1 + 2 * 6
    with pytest.raises(SystemExit) as exc:
        cr.main(["--stride", "0"])
    assert exc.value.code == 2
