"""Applications, desired rates and urgency of the UEs (what makes CoMP PRBs worth buying).

Each UE runs one application drawn at placement from ``app_shares``:

* ``video``: desired rate uniform in 5-25 Mbit/s, urgency 2 (a stall is visible);
* ``voice``: 0.1 Mbit/s, urgency 4 (tiny but must not drop);
* ``bulk``: elastic download, desired 50 Mbit/s, urgency 0.5;
* ``stream``: 10 Mbit/s, urgency 1 (the homogeneous reference: every UE alike).

A UE in trouble needs ``D_i = max(desired_i - primary_i, 0)`` Mbit/s from CoMP; PRBs beyond
that are worth nothing to it. Its urgency ``a_i`` is the application's, doubled while its link
is about to break (handover executing or T310 running) when ``urgency`` is on; with
``urgency`` off every ``a_i`` is 1. These are modelling choices of this toolkit (the seed
paper's utilities were not available).
"""

from __future__ import annotations

import numpy as np

__all__ = ["APPS", "draw_apps", "need_mbps", "urgency"]

#: name -> (desired rate low, high (Mbit/s), urgency weight)
APPS: dict[str, tuple[float, float, float]] = {
    "video": (5.0, 25.0, 2.0),
    "voice": (0.1, 0.1, 4.0),
    "bulk": (50.0, 50.0, 0.5),
    "stream": (10.0, 10.0, 1.0),
}


def draw_apps(rng: np.random.Generator, n: int, shares: dict[str, float]):
    """Per UE: application index into ``list(shares)``, desired rate (Mbit/s) and the
    application's urgency weight."""
    names = list(shares)
    p = np.array([shares[k] for k in names], dtype=float)
    app = rng.choice(len(names), size=n, p=p / p.sum())
    u = rng.random(n)
    lo = np.array([APPS[k][0] for k in names])[app]
    hi = np.array([APPS[k][1] for k in names])[app]
    weight = np.array([APPS[k][2] for k in names])[app]
    return app, lo + (hi - lo) * u, weight


def need_mbps(desired: np.ndarray, primary: np.ndarray) -> np.ndarray:
    """``max(desired - primary, 0)``: the rate CoMP has to add (Mbit/s)."""
    return np.maximum(np.asarray(desired) - np.asarray(primary), 0.0)


def urgency(app_weight: np.ndarray, breaking: np.ndarray, on: bool) -> np.ndarray:
    """``a_i``: the application's weight, doubled while the link is breaking; 1 when off."""
    if not on:
        return np.ones(np.shape(app_weight))
    return np.asarray(app_weight, dtype=float) * np.where(breaking, 2.0, 1.0)
