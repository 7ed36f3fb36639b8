"""Traffic classification from KPM windows, as in TRACTOR (Groen et al.).

A sample is a window of :data:`WINDOW` consecutive KPM reports of one UE × the 17
:data:`~ran.slicing.kpm.FEATURES`. Downlink bit rate is clipped at 20 Mbps and uplink at
15 Mbps, then every feature is min-max normalised with the training set's range. Classes, in
TRACTOR's order: eMBB, MTC, URLLC, control. As TRACTOR's ``check_zeros`` does, a window whose
every report has more than 10 zero KPIs is labelled control (silent), whatever the UE's app.

Two models: a scikit-learn random forest on window statistics (:class:`StatsClassifier`),
and a small Transformer in :mod:`.classify_torch`.
Simulated and real reports go through the same code: :func:`report_windows` takes any
frame with the Colosseum columns (from :func:`~ran.slicing.kpm.load_colosseum_csv` or from
the simulator).
"""

from __future__ import annotations

import importlib.resources
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netsim import Simulation

from .gnb import CLASS_SLICE, SlicingGnb, UeSpec
from .kpm import FEATURES, load_colosseum_csv, to_frame
from .scenario import random_rbgs
from .traffic import CLASSES, TRACES, make_ue_traffic

__all__ = [
    "WINDOW",
    "CLASS_NAMES",
    "CLIP",
    "SILENT_ZEROS",
    "feature_matrix",
    "windows",
    "window_labels",
    "report_windows",
    "MinMax",
    "window_stats",
    "StatsClassifier",
    "SimRun",
    "simulate_runs",
    "dataset",
    "capture_folds",
    "capture_holdout",
    "real_samples",
    "accuracy",
    "confusion",
    "online_evaluation",
]

WINDOW = 32
#: printable class names, index = label (TRACTOR order)
CLASS_NAMES = ("eMBB", "MTC", "URLLC", "control")
CTRL = CLASSES.index("ctrl")
#: clipping of the bit-rate features (Mbps)
CLIP = {"tx_brate downlink [Mbps]": 20.0, "rx_brate uplink [Mbps]": 15.0}
#: a report with more than this many zero KPIs (of 17) is silent
SILENT_ZEROS = 10
_CLIP_VEC = np.array([CLIP.get(f, np.inf) for f in FEATURES])


def feature_matrix(df: pd.DataFrame) -> np.ndarray:
    """The 17 TRACTOR features of a report frame, bit rates clipped, ``(reports, 17)``."""
    return np.minimum(df[list(FEATURES)].to_numpy(dtype=float), _CLIP_VEC)


def windows(x: np.ndarray, length: int = WINDOW, stride: int = 1) -> np.ndarray:
    """All windows of ``length`` consecutive rows, every ``stride`` rows: ``(m, length, k)``."""
    if x.shape[0] < length:
        return np.zeros((0, length, x.shape[1]))
    view = np.lib.stride_tricks.sliding_window_view(x, length, axis=0)  # (m, k, length)
    return np.ascontiguousarray(view[::stride].transpose(0, 2, 1))


def window_labels(w: np.ndarray, label: int) -> np.ndarray:
    """``label`` per window, or control where every report has > 10 zero KPIs."""
    silent = ((w == 0).sum(axis=2) > SILENT_ZEROS).all(axis=1)
    return np.where(silent, CTRL, label)


def report_windows(df: pd.DataFrame, label: int, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Windows and labels of one UE's report frame (rows in time order)."""
    w = windows(feature_matrix(df), WINDOW, stride)
    return w, window_labels(w, label)


@dataclass
class MinMax:
    """Per-feature min-max scaling fitted on training windows (constant features -> 0)."""

    low: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))
    span: np.ndarray = field(default_factory=lambda: np.ones(len(FEATURES)))

    def fit(self, w: np.ndarray) -> MinMax:
        self.low = w.min(axis=(0, 1))
        span = w.max(axis=(0, 1)) - self.low
        self.span = np.where(span > 0, span, np.inf)
        return self

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return (w - self.low) / self.span


def window_stats(w: np.ndarray) -> np.ndarray:
    """Summary of each window: per feature the mean, std, min, max, last value and fraction
    of non-zero reports, then the fraction of silent reports and the least and mean number
    of zero KPIs per report: ``(m, 6·17 + 3)``."""
    zeros = (w == 0).sum(axis=2)
    silent = (zeros > SILENT_ZEROS).mean(axis=1, keepdims=True)
    return np.concatenate(
        [w.mean(1), w.std(1), w.min(1), w.max(1), w[:, -1], (w != 0).mean(1), silent,
         zeros.min(axis=1, keepdims=True), zeros.mean(axis=1, keepdims=True)], axis=1,
    )


class StatsClassifier:
    """Random forest (scikit-learn, Breiman 2001) on :func:`window_stats` of normalised
    windows."""

    def __init__(self, seed: int = 0, trees: int = 300):
        from sklearn.ensemble import RandomForestClassifier

        self.scale = MinMax()
        self.model = RandomForestClassifier(trees, n_jobs=1, random_state=seed)

    def fit(self, w: np.ndarray, y: np.ndarray) -> StatsClassifier:
        self.scale.fit(w)
        self.model.fit(window_stats(self.scale(w)), y)
        return self

    def predict(self, w: np.ndarray) -> np.ndarray:
        if len(w) == 0:
            return np.zeros(0, dtype=int)
        return self.model.predict(window_stats(self.scale(w))).astype(int)


# -- simulated data ----------------------------------------------------------------------------
@dataclass
class SimRun:
    """Reports of one simulated cell: a frame per UE and the UE's class label."""

    frames: list[pd.DataFrame]
    labels: list[int]


def _random_ues(
    rng: np.random.Generator, n_per_class: int, traces: dict[str, tuple[str, ...]] | None = None
) -> list[UeSpec]:
    """UEs of every class at random placements and speeds; with ``traces``, each non-control
    UE replays one of ``traces[class]`` (drawn here) instead of the gNB's default choice."""
    ues = []
    for cls in ("embb", "mmtc", "urllc", "ctrl"):
        for _ in range(n_per_class if cls != "ctrl" else max(n_per_class // 2, 1)):
            d = ("close", "medium", "far")[int(rng.integers(3))]
            speed = float(rng.choice([0.0, 3.0]))
            own = make_ue_traffic(cls, "trace", rng, traces=traces) if traces else None
            ues.append(UeSpec(cls, d, speed, own if cls != "ctrl" else None))
    return ues


def simulate_runs(
    seed: int,
    runs: int,
    duration_s: float,
    n_per_class: int = 3,
    traffic: str = "mixed",
    traces: dict[str, tuple[str, ...]] | None = None,
) -> list[SimRun]:
    """Simulated KPM reports for the classifier: each run draws UEs of every class (placement
    and mobility at random), a random RBG split and schedulers, and the traffic ("trace",
    "commag" or "mixed": alternating) and a CBR rate in 0.5..4 Mbps. ``traces`` restricts the
    replayed captures per class (trace traffic only)."""
    if traces is not None and traffic != "trace":
        raise ValueError(f"traces: a capture subset needs traffic='trace' (got {traffic!r})")
    out = []
    for r in range(runs):
        sim = Simulation(seed=seed * 1000 + r)
        rng = sim.rng("dataset")
        mode = traffic if traffic != "mixed" else ("trace", "commag")[r % 2]
        gnb = SlicingGnb(
            sim, _random_ues(rng, n_per_class, traces), rbgs=random_rbgs(rng),
            policies=tuple(rng.choice(["rr", "wf", "pf"], 3)), traffic=mode,
            embb_rate_mbps=float(rng.uniform(0.5, 4.0)), keep_reports=True,
        )
        sim.run(until=duration_s)
        df = to_frame(gnb.reports)
        n = gnb.n
        frames = [df.iloc[u::n].reset_index(drop=True) for u in range(n)]
        out.append(SimRun(frames, [int(c) for c in gnb.true_class]))
    return out


def dataset(runs: list[SimRun], stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """All windows and labels of some runs."""
    ws, ys = [], []
    for run in runs:
        for frame, label in zip(run.frames, run.labels, strict=True):
            w, y = report_windows(frame, label, stride)
            ws.append(w)
            ys.append(y)
    return np.concatenate(ws), np.concatenate(ys)


def capture_folds() -> list[tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]]:
    """Leave-one-capture-out folds ``(train traces, held-out traces)``: fold k holds out
    capture ``k mod n`` of every class with n phone captures (3 folds: 3 eMBB and 3 URLLC
    apps, 2 idle mMTC captures)."""
    n = max(len(v) for v in TRACES.values())
    folds = []
    for k in range(n):
        test = {c: (names[k % len(names)],) for c, names in TRACES.items()}
        train = {c: tuple(x for x in names if x not in test[c]) for c, names in TRACES.items()}
        folds.append((train, test))
    return folds


def capture_holdout(
    make_model, seed: int, train_runs: int, test_runs: int, duration_s: float, stride: int = 4
) -> list[dict]:
    """Accuracy on phone captures the classifier never saw: per :func:`capture_folds` fold,
    train ``make_model()`` on cells replaying the other captures and test on cells replaying
    only the held-out ones. Rows: ``fold``, ``held_out`` (capture names), ``accuracy``, ``n``."""
    rows = []
    for k, (train, test) in enumerate(capture_folds()):
        tr = simulate_runs(seed + 2 * k, train_runs, duration_s, traffic="trace", traces=train)
        te = simulate_runs(seed + 2 * k + 1, test_runs, duration_s, traffic="trace", traces=test)
        x, y = dataset(tr, stride)
        model = make_model().fit(x, y)
        xt, yt = dataset(te, 1)
        held = "+".join(v[0] for v in test.values())
        rows.append(dict(fold=k, held_out=held, accuracy=accuracy(yt, model.predict(xt)),
                         n=len(yt)))
    return rows


# -- real data ---------------------------------------------------------------------------------
_DATA = importlib.resources.files("ran.slicing").joinpath("data")
_TRACTOR_CLASS = {"embb": 0, "mmtc": 1, "urllc": 2, "null": 3}
_COMMAG_CLASS = {1010123456002: 2, 1010123456003: 0, 1010123456004: 1}  # URLLC, eMBB, MTC


def real_samples() -> list[tuple[str, str, pd.DataFrame, int]]:
    """The real KPM logs shipped in ``data/``: ``(source, file, frame, class label)`` for the
    TRACTOR single-UE trial 7 logs (class from the file name), the TRACTOR 6-UE trial
    (``ue_trace_map.csv``) and the Colosseum COMMAG excerpt (slice of each IMSI)."""
    out = []
    for path in sorted(Path(str(_DATA / "tractor_kpi")).glob("*.csv.gz")):
        label = _TRACTOR_CLASS[path.name.split("_")[0]]
        out.append(("tractor_single_ue", path.name, load_colosseum_csv(path), label))
    multi = Path(str(_DATA / "tractor_multi6"))
    names = {"eMBB": 0, "mMTC": 1, "URLLC": 2}
    for row in pd.read_csv(multi / "ue_trace_map.csv").itertuples():
        path = multi / f"{row.imsi}_metrics.csv.gz"
        out.append(("tractor_multi_ue", path.name, load_colosseum_csv(path),
                    names[row.traffic_class]))
    for imsi, label in _COMMAG_CLASS.items():
        path = Path(str(_DATA / "colosseum_commag")) / f"{imsi}_metrics.csv"
        out.append(("colosseum_commag", path.name, load_colosseum_csv(path), label))
    return out


# -- evaluation --------------------------------------------------------------------------------
def accuracy(y_true, y_pred) -> float:
    y_true = np.asarray(y_true)
    return float((y_true == np.asarray(y_pred)).mean()) if y_true.size else float("nan")


def confusion(y_true, y_pred, n: int = len(CLASS_NAMES)) -> np.ndarray:
    """Counts ``[true, predicted]``."""
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return m


def online_evaluation(
    predict, seed: int, duration_s: float, n_per_class: int = 3, traffic: str = "trace"
) -> dict[str, float]:
    """Run a cell with the classifier in the loop: UEs start in a random slice; after every
    report, each UE with :data:`WINDOW` reports is classified from its last window and
    moved to the slice of the predicted class (control keeps it where it is).

    Returns the accuracy of those decisions against the window labels and the fraction of
    UE-reports served in the slice of their true class (control UEs: the mMTC slice)."""
    sim = Simulation(seed=seed)
    rng = sim.rng("online")
    ues = _random_ues(rng, n_per_class)
    start = rng.integers(0, 3, len(ues))
    gnb = SlicingGnb(sim, ues, rbgs=(5, 6, 6), traffic=traffic, slice_of=start)
    hist = [deque(maxlen=WINDOW) for _ in ues]
    true_slice = np.array([CLASS_SLICE[u.traffic_class] for u in ues])
    tally = {"decisions": 0, "correct": 0, "reports": 0, "in_slice": 0}

    def on_report(g: SlicingGnb) -> None:
        rows = np.minimum(np.stack([g.report[f] for f in FEATURES], axis=1), _CLIP_VEC)
        tally["reports"] += g.n
        tally["in_slice"] += int((g.slice_of == true_slice).sum())
        for u in range(g.n):
            hist[u].append(rows[u])
        ready = [u for u in range(g.n) if len(hist[u]) == WINDOW]
        if not ready:
            return
        w = np.stack([np.stack(hist[u]) for u in ready])
        pred = predict(w)
        truth = window_labels(w, 0)
        truth = np.where(truth == CTRL, CTRL, g.true_class[ready])
        tally["decisions"] += len(ready)
        tally["correct"] += int((pred == truth).sum())
        for u, p in zip(ready, pred, strict=True):
            if p != CTRL:
                g.move_ue(u, CLASS_SLICE[CLASSES[p]])

    gnb.listeners.append(on_report)
    sim.run(until=duration_s)
    return {
        "online_accuracy": tally["correct"] / max(tally["decisions"], 1),
        "decisions": tally["decisions"],
        "in_correct_slice": tally["in_slice"] / max(tally["reports"], 1),
    }
