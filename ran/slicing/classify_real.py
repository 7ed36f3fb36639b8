"""Traffic classification trained and judged on the real KPM logs, split by capture and UE.

The classifiers of :mod:`.classify` learn from simulated cells that replay the phone
captures; judged on held-out cells they replay the same captures, which flatters them. Here
the model learns only from real logs (``data/``: TRACTOR single-UE trial 7, the 6-UE trial 3,
the Colosseum COMMAG excerpt) and is judged on logs it never saw:

* **leave-one-capture-out**: all UEs replaying one phone capture (the same capture can be
  replayed in the single- and the multi-UE trial) are held out together;
* **leave-one-UE-out**: one UE's log is held out.

Features: windows of :data:`~.classify.WINDOW` reports, ``log1p`` of the 17 KPIs (bit rates
clipped as in TRACTOR) summarised by :func:`~.classify.window_stats`; the log replaces
TRACTOR's min-max scaling so that testbeds with other scales (COMMAG) are not squashed.
Labels as TRACTOR (silent windows are ``control``). Model: scikit-learn's histogram gradient
boosting with balanced class weights. Beside every accuracy, the **majority-class baseline**:
the training fold's most frequent class predicted for every held-out window.

Leave-one-UE-out keeps in training the other UEs that replay the same phone capture (three
captures are replayed in both TRACTOR trials), so leave-one-capture-out is the stricter split.

Run ``python -m ran.slicing.classify_real`` to print both splits' table (accuracy with the
majority baseline in brackets, per source), ``--out FILE.csv`` to keep the per-UE folds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .classify import _DATA, real_samples, report_windows, window_stats

__all__ = [
    "RealUnit",
    "real_units",
    "grouped_cv",
    "summarise_cv",
    "default_model",
    "cv_table",
    "main",
]


@dataclass
class RealUnit:
    """The windows of one real UE log: source, UE id, capture id, features, labels."""

    source: str
    ue: str
    capture: str
    features: np.ndarray
    labels: np.ndarray


def _captures() -> dict[str, str]:
    """File name -> capture (raw phone trace) it replays."""
    out = {}
    multi = pd.read_csv(Path(str(_DATA / "tractor_multi6")) / "ue_trace_map.csv")
    for row in multi.itertuples():
        out[f"{row.imsi}_metrics.csv.gz"] = str(row.raw_trace)
    return out


def real_units(stride: int = 4) -> list[RealUnit]:
    """Every real UE log as a :class:`RealUnit` (windows every ``stride`` reports)."""
    caps = _captures()
    units = []
    for source, fname, df, label in real_samples():
        w, y = report_windows(df, label, stride)
        stem = fname.split(".")[0]
        if source == "tractor_single_ue":
            capture = "null" if stem.startswith("null") else stem
        elif source == "tractor_multi_ue":
            capture = caps[fname]
        else:
            capture = f"commag_{stem}"
        feats = window_stats(np.log1p(np.maximum(w, 0.0)))
        units.append(RealUnit(source, f"{source}/{stem}", capture, feats, y))
    return units


def default_model(seed: int = 0):
    """Histogram gradient boosting, balanced class weights (scikit-learn)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=150, random_state=seed,
                                          class_weight="balanced")


def grouped_cv(
    units: list[RealUnit],
    by: str,
    make_model: Callable[[], object] = default_model,
    train_stride: int = 2,
) -> pd.DataFrame:
    """Hold out each group (``by`` = ``"capture"`` or ``"ue"``) in turn, train on the rest
    (every ``train_stride``-th window), predict the held-out windows. One row per held-out
    UE: ``source, ue, capture, n, accuracy, majority`` (the training majority's accuracy)."""
    if by not in ("capture", "ue"):
        raise ValueError(f"by: must be 'capture' or 'ue' (got {by!r})")
    rows = []
    for key in sorted({getattr(u, by) for u in units}):
        train = [u for u in units if getattr(u, by) != key]
        x = np.concatenate([u.features[::train_stride] for u in train])
        y = np.concatenate([u.labels[::train_stride] for u in train])
        model = make_model().fit(x, y)
        majority = int(np.bincount(y).argmax())
        for u in (u for u in units if getattr(u, by) == key):
            pred = model.predict(u.features) if len(u.labels) else np.zeros(0, dtype=int)
            rows.append(dict(split=by, source=u.source, ue=u.ue, capture=u.capture,
                             n=len(u.labels), accuracy=float((pred == u.labels).mean()),
                             majority=float((u.labels == majority).mean())))
    return pd.DataFrame(rows)


def summarise_cv(folds: pd.DataFrame) -> pd.DataFrame:
    """Accuracy and majority baseline over all held-out windows, per source and overall."""
    out = []
    for source, grp in [("all", folds), *folds.groupby("source", sort=False)]:
        w = grp["n"].to_numpy(float)
        out.append(dict(split=grp["split"].iloc[0], source=source, n=int(w.sum()),
                        accuracy=float((grp["accuracy"] * w).sum() / w.sum()),
                        majority=float((grp["majority"] * w).sum() / w.sum())))
    return pd.DataFrame(out)


SOURCES = ("all", "tractor_single_ue", "tractor_multi_ue", "colosseum_commag")


def cv_table(summaries: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per split, one column per source: ``"accuracy (majority)"`` to 3 decimals."""
    rows = {}
    for summ in summaries:
        by = summ.set_index("source")
        split = str(summ["split"].iloc[0])
        rows[split] = {src: f"{by.loc[src, 'accuracy']:.3f} ({by.loc[src, 'majority']:.3f})"
                       for src in SOURCES if src in by.index}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("split")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: both grouped splits on the real logs, printed as a markdown table."""
    from netsim.tables import markdown_table

    ap = argparse.ArgumentParser(
        prog="python -m ran.slicing.classify_real", description=main.__doc__
    )
    ap.add_argument("--stride", type=int, default=4, help="reports between windows (>= 1)")
    ap.add_argument("--seed", type=int, default=0, help="model seed")
    ap.add_argument("--out", type=Path, help="CSV of the per-UE folds")
    args = ap.parse_args(argv)
    if args.stride < 1:
        ap.error(f"--stride: must be >= 1 (got {args.stride})")
    units = real_units(args.stride)
    folds = [grouped_cv(units, by, lambda: default_model(args.seed)) for by in ("capture", "ue")]
    if args.out is not None:
        pd.concat(folds, ignore_index=True).to_csv(args.out, index=False)
    print(markdown_table(cv_table([summarise_cv(f) for f in folds]), index=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
