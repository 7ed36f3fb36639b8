"""Signal-quality prediction: features from the link and flight history, the class label at
t + h, gradient boosting against persistence, evaluated on held-out flights.

* Label: the class of the measured Es/N0 ``h`` seconds ahead on the serving link, by the
  thresholds ``edges`` (default: outage below -2.35 dB, the QPSK 1/4 QEF threshold of DVB-S2;
  degraded below 5.50 dB, the 8PSK 3/5 threshold, i.e. QPSK-only ACM; good above).
* Features (all known at time t): the Es/N0 history (levels, rolling means/min/max and slopes
  over 5-60 s), satellite elevation and its trend, azimuth relative to the track, antenna
  off-boresight angle and what it becomes banked into the next planned turn and after it,
  the off-boresight angle and scan margin at t + h (and over t + h ± 5 s) at the attitude the
  autopilot will fly along the plan (:func:`satellite.features.autopilot_attitude`),
  off-axis angle to the beam centre and its trend, altitude, speeds, roll, phase, flight-plan
  look-ahead (time to and size of the next turn), the forward weather radar, and the time
  since the link was last blocked.
* Models: scikit-learn ``HistGradientBoostingClassifier`` with rows weighted by
  ``sqrt(n_max/n_c)`` of their class (and a regressor of the future Es/N0 for handover);
  persistence predicts the current class. Cross-validation is
  ``GroupKFold`` by flight - never by row. Metrics: macro-F1, per-class F1, ROC-AUC of the
  outage class (one-vs-rest on the predicted probability), all on held-out flights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d, minimum_filter1d
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from .features import autopilot_attitude
from .linkbudget import TerminalParams, off_boresight_deg, scan_loss_db
from .links import BLOCKED_DB

__all__ = [
    "CLASSES",
    "DEFAULT_EDGES_DB",
    "FEATURES",
    "classify",
    "link_features",
    "dataset_features",
    "future",
    "Forecaster",
    "cross_validate",
    "train_test_scores",
    "class_weights",
    "scores",
    "shortlist",
    "candidate_rows",
    "forecast_links",
    "noisy_plan",
    "AUTOPILOT_FEATURES",
    "PLAN_FEATURES",
]

CLASSES = ("outage", "degraded", "good")
#: half-width (s) of the window around t + h over which the planned scan margin is bracketed
_ATT_WINDOW_S = 5
DEFAULT_EDGES_DB = (-2.35, 5.50)
FEATURES = (
    "esn0",
    "esn0_mean5",
    "esn0_mean30",
    "esn0_min15",
    "esn0_min60",
    "esn0_max60",
    "esn0_d5",
    "esn0_d15",
    "esn0_d30",
    "el",
    "el_rate",
    "rel_az",
    "bore",
    "bore_d5",
    "bore_bank",
    "bore_after",
    "scan_margin",
    "off_axis",
    "off_axis_rate",
    "kind",
    "alt",
    "vs",
    "speed",
    "roll",
    "roll_d3",
    "phase",
    "ttt",
    "nturn",
    "togo",
    "bore_togo",
    "esn0_plan_h",
    "el_h",
    "bore_h",
    "margin_h",
    "margin_h_lo",
    "margin_h_hi",
    "roll_h",
    "radar_level",
    "radar_column",
    "radar_top_above",
    "since_blocked",
    "link_now",
)


#: features computed from the autopilot's attitude forecast along the plan
AUTOPILOT_FEATURES = ("bore_h", "margin_h", "margin_h_lo", "margin_h_hi", "roll_h", "esn0_plan_h")
#: features read from the flight plan (next turn, leg to go, look angles at t + h)
PLAN_FEATURES = ("ttt", "nturn", "togo", "bore_togo", "bore_bank", "bore_after", "el_h")


def noisy_plan(df: pd.DataFrame, level: float, seed: int = 0) -> pd.DataFrame:
    """The flight plan as the predictor gets it, with ATC and timing uncertainty.

    ``level`` in [0, 1] scales three errors, drawn once per planned turn (a run of rows with
    the same ``next_turn_deg`` and decreasing ``time_to_turn_s``) from the named stream
    ``plan_noise/<flight>``: the turn starts ``N(0, 30·level)`` s off the plan (turn-timing
    noise, ATC vectors), its angle is off by a factor ``1 + N(0, 0.3·level)`` (direct-to
    shortcuts and vectors change it), and with probability ``0.5·level`` the turn is not in
    the plan at all (a partial plan: ``time_to_turn_s`` and ``next_turn_deg`` NaN). Level 0
    returns ``df`` unchanged."""
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"plan_noise: level must be in [0, 1] (got {level})")
    if level == 0.0:
        return df
    from netsim.rng import stream

    out = df.copy()
    ttt = out["time_to_turn_s"].to_numpy(dtype=float).copy()
    nturn = out["next_turn_deg"].to_numpy(dtype=float).copy()
    for blk in _flight_blocks(df):
        a, b = blk.start, blk.stop
        t, n = ttt[a:b], nturn[a:b]
        new = np.r_[True, (n[1:] != n[:-1]) | (np.nan_to_num(t[1:]) > np.nan_to_num(t[:-1]))]
        turn_id = np.cumsum(new) - 1
        k = int(turn_id[-1]) + 1
        rng = stream(seed, f"plan_noise/{df['flight'].iloc[a]}")
        offset = rng.normal(0.0, 30.0 * level, k)[turn_id]
        factor = (1.0 + rng.normal(0.0, 0.3 * level, k))[turn_id]
        drop = (rng.random(k) < 0.5 * level)[turn_id]
        ttt[a:b] = np.where(drop, np.nan, np.maximum(t + offset, 0.0))
        nturn[a:b] = np.where(drop, np.nan, n * factor)
    out["time_to_turn_s"] = ttt
    out["next_turn_deg"] = nturn
    return out


def classify(esn0_db, edges=DEFAULT_EDGES_DB) -> np.ndarray:
    """Class index per value: 0 = below edges[0], 1 = below edges[1], ..., NaN -> 0."""
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 1 or np.any(np.diff(e) <= 0):
        raise ValueError(
            f"edges: need increasing thresholds in dB (got {list(np.atleast_1d(edges))})"
        )
    x = np.nan_to_num(np.asarray(esn0_db, dtype=float), nan=-np.inf)
    return np.searchsorted(e, x, side="right")


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    """x[t - k] with the first value repeated at the start (axis 0)."""
    out = np.empty_like(x)
    out[k:] = x[:-k] if k else x
    out[:k] = x[:1]
    return out


def _rolling_mean(x: np.ndarray, w: int) -> np.ndarray:
    c = np.cumsum(x, axis=0)
    out = c.copy()
    out[w:] = c[w:] - c[:-w]
    n = np.minimum(np.arange(1, x.shape[0] + 1), w).reshape(-1, *([1] * (x.ndim - 1)))
    return out / n


def _since(flag: np.ndarray, cap: float = 600.0) -> np.ndarray:
    """Seconds since ``flag`` was last true (capped), per column."""
    out = np.empty(flag.shape)
    run = np.full(flag.shape[1:], cap)
    for t in range(flag.shape[0]):
        run = np.where(flag[t], 0.0, np.minimum(run + 1.0, cap))
        out[t] = run
    return out


def link_features(
    esn0: np.ndarray,
    el: np.ndarray,
    az: np.ndarray,
    bore: np.ndarray,
    off_axis: np.ndarray,
    kind: np.ndarray,
    plat: dict[str, np.ndarray],
    radar: dict[str, np.ndarray],
    max_scan_deg: float = 70.0,
    horizon_s: int = 30,
    el_future: np.ndarray | None = None,
    az_future: np.ndarray | None = None,
    scan_exponent: float = 1.2,
) -> dict[str, np.ndarray]:
    """Features ``(T, C)`` of ``C`` link series sampled every second on one platform.

    ``plat`` holds the platform arrays ``(T,)``: heading_deg, pitch_deg, roll_deg, alt_m,
    vs_mps, speed_mps, phase, time_to_turn_s, next_turn_deg, heading_to_go_deg; ``radar`` the
    three radar
    arrays of :func:`satellite.dataset.radar_features`. Every feature at row t uses rows <= t
    of the inputs only (tested by perturbing the future). The ``*_h`` features look
    ``horizon_s`` ahead with what is known now: the *current* satellite's elevation and
    azimuth at t + h (``el_future``/``az_future``, row t: from its ephemeris along the flight
    plan; default: the current look angles, i.e. no look-ahead) and the attitude the
    autopilot will fly along the plan (:func:`satellite.features.autopilot_attitude`, with
    roll-in/roll-out), at t + h and bracketed over t + h ± 5 s (``margin_h_lo``/
    ``margin_h_hi``: scan margin at the worse and better end). A missing link (no serving
    satellite, NaN look angles) is flagged by ``link_now = 0`` and NaN geometry, never by a
    zero elevation.
    """
    e = np.where(np.isfinite(esn0), esn0, BLOCKED_DB)
    n_t, n_c = e.shape
    col = lambda a: np.broadcast_to(np.asarray(a, dtype=float)[:, None], (n_t, n_c))  # noqa: E731
    hdg, pitch = plat["heading_deg"][:, None], plat["pitch_deg"][:, None]
    nturn = np.nan_to_num(plat["next_turn_deg"])[:, None]
    togo = np.nan_to_num(plat["heading_to_go_deg"])[:, None]
    bank = np.sign(nturn) * np.minimum(25.0, np.abs(nturn) * 2.5)
    el_f = np.asarray(el, dtype=float)
    az = np.asarray(az, dtype=float)
    link_now = np.isfinite(el_f)
    off = np.asarray(off_axis, dtype=float)
    out = {
        "esn0": e,
        "esn0_mean5": _rolling_mean(e, 5),
        "esn0_mean30": _rolling_mean(e, 30),
        "esn0_min15": minimum_filter1d(e, 15, axis=0, origin=7, mode="nearest"),
        "esn0_min60": minimum_filter1d(e, 60, axis=0, origin=29, mode="nearest"),
        "esn0_max60": maximum_filter1d(e, 60, axis=0, origin=29, mode="nearest"),
        "esn0_d5": e - _lag(e, 5),
        "esn0_d15": e - _lag(e, 15),
        "esn0_d30": e - _lag(e, 30),
        "el": el_f,
        "el_rate": (el_f - _lag(el_f, 10)) / 10.0,
        "rel_az": (az - hdg + 180.0) % 360.0 - 180.0,
        "bore": np.asarray(bore, dtype=float),
        "bore_d5": bore - _lag(bore, 5),
        "bore_bank": off_boresight_deg(el_f, az, hdg, pitch, bank),
        "bore_after": off_boresight_deg(el_f, az, hdg + nturn, pitch, 0.0),
        "off_axis": off,
        "off_axis_rate": (off - _lag(off, 30)) / 30.0,
        "kind": np.broadcast_to(np.asarray(kind, dtype=float)[None, :], (n_t, n_c)),
        "alt": col(plat["alt_m"]),
        "vs": col(plat["vs_mps"]),
        "speed": col(plat["speed_mps"]),
        "roll": col(plat["roll_deg"]),
        "roll_d3": col(plat["roll_deg"] - _lag(plat["roll_deg"], 3)),
        "phase": col(plat["phase"]),
        "ttt": col(np.nan_to_num(plat["time_to_turn_s"], nan=3600.0)),
        "nturn": col(np.nan_to_num(plat["next_turn_deg"])),
        "togo": col(togo[:, 0]),
        "bore_togo": off_boresight_deg(el_f, az, hdg + togo, pitch, 0.0),
        "radar_level": col(radar["radar_level_mmh"]),
        "radar_column": col(radar["radar_column_mmh"]),
        "radar_top_above": col(radar["radar_top_above_m"]),
        "since_blocked": _since(e <= BLOCKED_DB),
        "link_now": link_now.astype(float),
    }
    out["scan_margin"] = max_scan_deg - out["bore"]
    el_h = el_f if el_future is None else np.asarray(el_future, dtype=float)
    az_h = az if az_future is None else np.asarray(az_future, dtype=float)
    # attitude at t + h - w, t + h, t + h + w from the autopilot run along the flight plan
    w = min(_ATT_WINDOW_S, horizon_s)
    hdg_w, roll_w = autopilot_attitude(plat, [horizon_s - w, horizon_s, horizon_s + w])
    bore_w = [
        off_boresight_deg(el_h, az_h, hdg_w[i][:, None], pitch, roll_w[i][:, None])
        for i in range(3)
    ]
    out["el_h"] = el_h
    out["bore_h"] = bore_w[1]
    out["margin_h"] = max_scan_deg - out["bore_h"]
    out["margin_h_lo"] = max_scan_deg - np.maximum(bore_w[0], bore_w[2])
    out["margin_h_hi"] = max_scan_deg - np.minimum(bore_w[0], bore_w[2])
    out["roll_h"] = col(roll_w[1])
    # geometry forecast: the Es/N0 the antenna would see without scan loss (last unblocked
    # value carried through blockages, 5-s mean), minus the scan loss at the planned attitude
    term = TerminalParams(scan_exponent=scan_exponent, max_scan_deg=max_scan_deg)
    loss_now = scan_loss_db(np.nan_to_num(out["bore"], nan=180.0), term)
    clear = np.isfinite(loss_now) & (e > BLOCKED_DB)
    unscanned = _ffill(np.where(clear, e + np.where(clear, loss_now, 0.0), np.nan))
    loss_h = scan_loss_db(out["bore_h"], term)
    plan = _rolling_mean(np.nan_to_num(unscanned, nan=BLOCKED_DB), 5) - np.where(
        np.isfinite(loss_h), loss_h, 0.0
    )
    out["esn0_plan_h"] = np.where(
        np.isfinite(el_h), np.where(np.isfinite(loss_h), plan, BLOCKED_DB), np.nan
    )
    return out


def _ffill(x: np.ndarray) -> np.ndarray:
    """Carry the last finite value forward along axis 0 (NaN before the first)."""
    idx = np.where(np.isfinite(x), np.arange(x.shape[0])[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = np.take_along_axis(x, idx, axis=0)
    return out


def _lead(x: np.ndarray, k: int) -> np.ndarray:
    """x[t + k] with the last value repeated at the end (axis 0)."""
    if k <= 0:
        return x
    out = np.empty_like(x)
    out[:-k] = x[k:]
    out[-k:] = x[-1:]
    return out


_PLAT = {
    "heading_deg": "heading_deg",
    "pitch_deg": "pitch_deg",
    "roll_deg": "roll_deg",
    "alt_m": "alt_m",
    "vs_mps": "vs_mps",
    "speed_mps": "speed_mps",
    "phase": "phase",
    "time_to_turn_s": "time_to_turn_s",
    "next_turn_deg": "next_turn_deg",
    "heading_to_go_deg": "heading_to_go_deg",
}
_RADAR = ("radar_level_mmh", "radar_column_mmh", "radar_top_above_m")


def _flight_blocks(df: pd.DataFrame) -> list[slice]:
    f = df["flight"].to_numpy()
    starts = np.flatnonzero(np.r_[True, f[1:] != f[:-1]])
    ends = np.r_[starts[1:], f.size]
    return [slice(a, b) for a, b in zip(starts, ends, strict=True)]


def dataset_features(
    df: pd.DataFrame, horizon_s: int = 30, max_scan_deg: float = 70.0
) -> pd.DataFrame:
    """Feature matrix (rows aligned with ``df``) for the serving-link dataset; ``df`` must be
    ordered by flight and time (as :func:`satellite.dataset.generate_dataset` returns it).

    The look-ahead geometry comes from the columns ``plan_el_h{horizon_s}_deg`` and
    ``plan_az_h{horizon_s}_deg`` (the satellite serving at t, seen at t + h from the
    planned position; written by :func:`satellite.dataset.flight_frame`); without them (a real
    log) the current look angles stand in. The realised future of the serving link is never
    read."""
    el_col, az_col = f"plan_el_h{horizon_s}_deg", f"plan_az_h{horizon_s}_deg"
    has_plan = el_col in df.columns and az_col in df.columns
    parts = []
    for blk in _flight_blocks(df):
        d = df.iloc[blk]
        plat = {k: d[v].to_numpy(dtype=float) for k, v in _PLAT.items()}
        radar = {k: d[k].to_numpy(dtype=float) for k in _RADAR}
        f = link_features(
            d["esn0_db"].to_numpy(dtype=float)[:, None],
            d["el_deg"].to_numpy(dtype=float)[:, None],
            d["az_deg"].to_numpy(dtype=float)[:, None],
            d["boresight_deg"].to_numpy(dtype=float)[:, None],
            d["off_axis_deg"].to_numpy(dtype=float)[:, None],
            d["kind"].to_numpy(dtype=float)[:1],
            plat,
            radar,
            max_scan_deg,
            horizon_s,
            d[el_col].to_numpy(dtype=float)[:, None] if has_plan else None,
            d[az_col].to_numpy(dtype=float)[:, None] if has_plan else None,
        )
        parts.append(pd.DataFrame({k: f[k][:, 0] for k in FEATURES}))
    return pd.concat(parts, ignore_index=True)


def future(df: pd.DataFrame, horizon_s: int, column: str = "esn0_db") -> np.ndarray:
    """``column`` at t + horizon within the same flight (NaN past the end); rows are 1 s apart."""
    if horizon_s < 0:
        raise ValueError(f"horizon_s must be >= 0 (got {horizon_s})")
    x = df[column].to_numpy(dtype=float)
    out = np.full(x.size, np.nan)
    for blk in _flight_blocks(df):
        a, b = blk.start, blk.stop
        if b - a > horizon_s:
            out[a : b - horizon_s] = x[a + horizon_s : b]
    return out


def scores(
    y_true: np.ndarray, y_pred: np.ndarray, p_outage: np.ndarray | None = None, n_classes: int = 3
) -> dict:
    """Macro-F1, per-class F1 and (with ``p_outage``) the outage ROC-AUC."""
    labels = list(range(n_classes))
    per = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    out = {"macro_f1": float(np.mean(per))}
    for i, v in enumerate(per):
        out[f"f1_{CLASSES[i] if n_classes == 3 else i}"] = float(v)
    if p_outage is not None:
        pos = y_true == 0
        out["auc_outage"] = (
            float(roc_auc_score(pos, p_outage)) if 0 < pos.sum() < pos.size else float("nan")
        )
    return out


def _classifier(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed % 2**32,
    )


def class_weights(y: np.ndarray) -> np.ndarray:
    """Per-row weights ``sqrt(n_max / n_c)`` for class ``c`` of each row: halfway, on a log
    scale, between no weighting and "balanced" - rare outages get attention without flooding
    the common class with false alarms."""
    counts = np.bincount(np.asarray(y, dtype=int))
    w = np.sqrt(counts.max() / np.maximum(counts, 1))
    return w[np.asarray(y, dtype=int)]


class QuantileBinned:
    """A gradient-boosting estimator on features quantised to <= 255 levels per column by
    *unweighted* quantiles (NaN kept as missing).

    Given sample weights, scikit-learn >= 1.6 places its bin thresholds at weighted
    percentiles, one slow call per feature and bin (most of the study's wall time); with the
    features already on <= 255 levels it keeps them as they are. The trees then split on the
    same thresholds an unweighted fit would use, and the weights still act on the loss."""

    def __init__(self, estimator, max_bins: int = 255, subsample: int = 200_000, seed: int = 0):
        self.estimator = estimator
        self.max_bins = max_bins
        self.subsample = subsample
        self.seed = seed

    def _edges(self, x: np.ndarray) -> np.ndarray:
        x = x[np.isfinite(x)]
        if x.size > self.subsample:
            x = np.random.default_rng(self.seed).choice(x, self.subsample, replace=False)
        u = np.unique(x)
        if u.size <= self.max_bins:
            return 0.5 * (u[1:] + u[:-1])
        return np.unique(np.quantile(x, np.linspace(0, 1, self.max_bins + 1)[1:-1]))

    def _bin(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        out = np.empty_like(X)
        for j, e in enumerate(self.edges_):
            out[:, j] = np.searchsorted(e, X[:, j], side="right")
        return np.where(np.isnan(X), np.nan, out)

    def fit(self, X, y, sample_weight=None) -> QuantileBinned:
        X = np.asarray(X, dtype=float)
        self.edges_ = [self._edges(X[:, j]) for j in range(X.shape[1])]
        self.estimator.fit(self._bin(X), y, sample_weight=sample_weight)
        return self

    @property
    def classes_(self):
        return self.estimator.classes_

    def predict_proba(self, X) -> np.ndarray:
        return self.estimator.predict_proba(self._bin(X))

    def predict(self, X) -> np.ndarray:
        return self.estimator.predict(self._bin(X))


def _fit_classifier(X, y, seed: int) -> QuantileBinned:
    return QuantileBinned(_classifier(seed), seed=seed).fit(X, y, sample_weight=class_weights(y))


def cross_validate(
    df: pd.DataFrame,
    horizons: list[int],
    edges=DEFAULT_EDGES_DB,
    n_splits: int = 5,
    train_stride: int = 3,
    seed: int = 0,
    threads: int = 1,
    feature_names: tuple[str, ...] = FEATURES,
) -> pd.DataFrame:
    """GroupKFold-by-flight evaluation of gradient boosting and persistence at each horizon.

    Training uses every ``train_stride``-th row of the training flights (consecutive seconds
    are nearly duplicates); every row of the held-out flights with a defined label is scored.
    Returns one row per (horizon, model) with the pooled out-of-fold metrics. ``threads``
    caps OpenMP threads (oversubscribed OpenMP on a shared machine is far slower than one).
    """
    groups = df["flight"].to_numpy()
    now = classify(df["esn0_db"].to_numpy(dtype=float), edges)
    n_groups = np.unique(groups).size
    if n_groups < n_splits:
        raise ValueError(
            f"need at least {n_splits} flights for {n_splits}-fold CV (got {n_groups})"
        )
    rows = []
    with threadpool_limits(threads):
        for h in horizons:
            X = dataset_features(df, h)[list(feature_names)]
            rows.extend(
                _cv_horizon(X, df, h, edges, groups, now, n_splits, train_stride, seed, n_groups)
            )
    return pd.DataFrame(rows)


def _cv_horizon(X, df, h, edges, groups, now, n_splits, train_stride, seed, n_groups) -> list[dict]:
    """Out-of-fold predictions at horizon ``h`` pooled over the folds, and their scores."""
    fut = future(df, h)
    ok = np.isfinite(fut)
    y = classify(fut, edges)
    pred = np.full(y.size, -1)
    p_out = np.full(y.size, np.nan)
    for tr, te in GroupKFold(n_splits=n_splits).split(X, y, groups):
        tr = tr[ok[tr]][::train_stride]
        te = te[ok[te]]
        clf = _fit_classifier(X.iloc[tr], y[tr], seed)
        proba = clf.predict_proba(X.iloc[te])
        cls = clf.classes_
        pred[te] = cls[np.argmax(proba, axis=1)]
        p_out[te] = proba[:, list(cls).index(0)] if 0 in cls else 0.0
    gb = scores(y[ok], pred[ok], p_out[ok])
    # persistence: the class now; its outage "probability" is the indicator of outage now
    ps = scores(y[ok], now[ok], (now[ok] == 0).astype(float))
    base = {"horizon_s": h, "rows": int(ok.sum()), "flights": int(n_groups)}
    return [
        {**base, "model": name, **d} for name, d in (("gradient_boosting", gb), ("persistence", ps))
    ]


def train_test_scores(
    train: pd.DataFrame,
    test: pd.DataFrame,
    horizon_s: int,
    edges=DEFAULT_EDGES_DB,
    train_stride: int = 3,
    seed: int = 0,
    feature_names: tuple[str, ...] = FEATURES,
    by: str | None = None,
) -> pd.DataFrame:
    """Gradient boosting trained on every ``train_stride``-th labelled row of ``train`` and
    persistence, both scored on every labelled row of ``test`` (other flights, e.g. real
    tracks): one row per model with :func:`scores`, ``rows`` and ``flights`` of the test
    rows and the class shares ``share_<class>`` of their labels. With ``by`` (a column of
    ``test``) also one row per model and value of that column; column ``group`` is ``"all"``
    or the value."""
    h = horizon_s
    fut_tr = future(train, h)
    ok_tr = np.isfinite(fut_tr)
    y_tr = classify(fut_tr, edges)
    fut = future(test, h)
    ok = np.isfinite(fut)
    if not ok.any():
        raise ValueError(f"test flights: no row has a label {h} s ahead")
    y = classify(fut, edges)
    now = classify(test["esn0_db"].to_numpy(dtype=float), edges)
    with threadpool_limits(1):
        X_tr = dataset_features(train, h)[list(feature_names)]
        X_te = dataset_features(test, h)[list(feature_names)]
        rows = np.flatnonzero(ok_tr)[:: max(train_stride, 1)]
        clf = _fit_classifier(X_tr.iloc[rows], y_tr[rows], seed)
        proba = clf.predict_proba(X_te)
    cls = clf.classes_
    pred = cls[np.argmax(proba, axis=1)]
    p_out = proba[:, list(cls).index(0)] if 0 in cls else np.zeros(len(test))
    groups = [("all", ok)]
    if by is not None:
        col = test[by].to_numpy()
        groups += [(g, ok & (col == g)) for g in dict.fromkeys(col)]
    out = []
    for g, m in groups:
        share = np.bincount(y[m], minlength=len(edges) + 1) / max(int(m.sum()), 1)
        base = {"group": g, "horizon_s": h, "rows": int(m.sum()),
                "flights": int(test.loc[m, "flight"].nunique())}
        base |= {f"share_{CLASSES[i] if len(edges) == 2 else i}": v for i, v in enumerate(share)}
        out.append({**base, "model": "gradient_boosting", **scores(y[m], pred[m], p_out[m])})
        out.append({**base, "model": "persistence",
                    **scores(y[m], now[m], (now[m] == 0).astype(float))})
    return pd.DataFrame(out)


@dataclass
class Forecaster:
    """Gradient-boosted forecasts of a link ``horizon_s`` ahead: class probabilities and the
    Es/N0 itself (for handover). Classes are weighted by ``sqrt(n_max / n_c)`` (see
    :func:`class_weights`), which suits a macro-F1 objective with rare outages."""

    horizon_s: int = 30
    edges: tuple[float, ...] = DEFAULT_EDGES_DB
    seed: int = 0
    clf: QuantileBinned | None = field(default=None, repr=False)
    reg: HistGradientBoostingRegressor | None = field(default=None, repr=False)

    def fit(self, X: pd.DataFrame, esn0_future: np.ndarray) -> Forecaster:
        ok = np.isfinite(esn0_future)
        y = classify(esn0_future[ok], self.edges)
        with threadpool_limits(1):
            self.clf = _fit_classifier(X[ok], y, self.seed)
            self.reg = HistGradientBoostingRegressor(
                max_iter=200,
                learning_rate=0.1,
                max_leaf_nodes=31,
                min_samples_leaf=40,
                early_stopping=False,
                random_state=self.seed % 2**32,
            ).fit(X[ok], esn0_future[ok])
        return self

    def predict(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forecast Es/N0 (dB), P(good) and P(outage) per row."""
        if self.clf is None:
            raise RuntimeError("Forecaster.fit must be called first")
        with threadpool_limits(1):
            proba = self.clf.predict_proba(X)
            esn0 = self.reg.predict(X)
        cls = list(self.clf.classes_)
        top = len(self.edges)
        p_good = proba[:, cls.index(top)] if top in cls else np.zeros(len(X))
        p_out = proba[:, cls.index(0)] if 0 in cls else np.zeros(len(X))
        return esn0, p_good, p_out


# -- candidate links (handover) ---------------------------------------------------------------
def shortlist(ls, per_satellite: int = 2, k: int = 8) -> np.ndarray:
    """Boolean ``(T, C)``: per second the ``k`` best usable candidates by measured Es/N0,
    taking at most ``per_satellite`` beams of any one satellite (so other satellites and
    providers make the list)."""
    usable = ls.visible & ~ls.blocked
    v = np.where(usable, ls.esn0_meas_db, -np.inf)
    n_t, n_c = v.shape
    out = np.zeros((n_t, n_c), dtype=bool)
    if n_c == 0:
        return out
    key = ls.provider.astype(np.int64) * 1_000_000 + ls.sat.astype(np.int64)
    keep = np.zeros((n_t, n_c), dtype=bool)
    for kk in np.unique(key):
        cols = np.flatnonzero(key == kk)
        order = np.argsort(-v[:, cols], axis=1, kind="stable")[:, :per_satellite]
        rows = np.repeat(np.arange(n_t), order.shape[1])
        keep[rows, cols[order.ravel()]] = True
    v = np.where(keep, v, -np.inf)
    top = np.argsort(-v, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(n_t), top.shape[1])
    out[rows, top.ravel()] = True
    return out & np.isfinite(v)


def candidate_rows(
    ls,
    traj,
    radar: dict,
    mask: np.ndarray,
    horizon_s: int = 30,
    max_scan_deg: float = 70.0,
    chunk: int = 16,
    look_h: tuple[np.ndarray, np.ndarray] | None = None,
):
    """Features of the (t, c) pairs where ``mask`` is true, and the target: the measured
    Es/N0 of candidate c at t + horizon (``BLOCKED_DB`` if it is not usable then, NaN past
    the end of the flight). Returns (X, t_idx, c_idx, target).

    ``look_h`` = ``(el, az)`` ``(T, C)``: candidate c's look angles at t + horizon from its
    ephemeris along the flight plan (row t). Default: ``ls``'s geometric look angles
    shifted by the horizon, which is the same thing when the aircraft flies its plan
    exactly (the generator without disturbances); pass the plan's when it does not."""
    if look_h is None:
        look_h = (_lead(ls.el_deg, horizon_s), _lead(ls.az_deg, horizon_s))
    n_t = ls.t_s.size
    plat = {k: np.asarray(getattr(traj, k), dtype=float) for k in _PLAT}
    usable = ls.visible & ~ls.blocked
    fut = np.where(usable, ls.esn0_meas_db, BLOCKED_DB)
    parts, ti, ci = [], [], []
    for a in range(0, ls.n, chunk):
        cols = np.arange(a, min(ls.n, a + chunk))
        t_idx, c_loc = np.nonzero(mask[:, cols])
        if t_idx.size == 0:
            continue
        f = link_features(
            ls.esn0_meas_db[:, cols],
            ls.el_deg[:, cols],
            ls.az_deg[:, cols],
            ls.boresight_deg[:, cols],
            ls.off_axis_deg[:, cols],
            ls.kind[cols],
            plat,
            radar,
            max_scan_deg,
            horizon_s,
            look_h[0][:, cols],
            look_h[1][:, cols],
        )
        parts.append(pd.DataFrame({k: f[k][t_idx, c_loc] for k in FEATURES}))
        ti.append(t_idx)
        ci.append(cols[c_loc])
    if not parts:
        return pd.DataFrame(columns=list(FEATURES)), np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    t_idx, c_idx = np.concatenate(ti), np.concatenate(ci)
    target = np.where(
        t_idx + horizon_s < n_t, fut[np.minimum(t_idx + horizon_s, n_t - 1), c_idx], np.nan
    )
    return pd.concat(parts, ignore_index=True), t_idx, c_idx, target


def forecast_links(
    model: Forecaster,
    ls,
    traj,
    radar: dict,
    mask: np.ndarray,
    max_scan_deg: float = 70.0,
    look_h: tuple[np.ndarray, np.ndarray] | None = None,
):
    """``(T, C)`` forecasts (Es/N0 dB and P(good) at t + horizon) for the masked pairs, NaN
    elsewhere (``look_h``: see :func:`candidate_rows`)."""
    X, t_idx, c_idx, _ = candidate_rows(
        ls, traj, radar, mask, model.horizon_s, max_scan_deg, look_h=look_h
    )
    pred = np.full(ls.esn0_db.shape, np.nan)
    pgood = np.full(ls.esn0_db.shape, np.nan)
    if len(X):
        e, g, _ = model.predict(X)
        pred[t_idx, c_idx] = e
        pgood[t_idx, c_idx] = g
    return pred, pgood
