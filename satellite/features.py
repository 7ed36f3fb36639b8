"""Look-ahead features for the signal-quality predictor that use only what the platform knows
at time t: its own attitude, its flight plan and its autopilot's lateral control law.

:func:`autopilot_attitude` predicts heading and roll ``dt`` seconds ahead by running the
lateral guidance of :func:`satellite.platforms.fly` forward from the current state: bank
command ``clip(k·ψ_err, ±φ_max)`` followed at a limited roll rate, turn rate
``ψ' = g·tan(φ)/V`` (coordinated turn), and the heading error stepping by the planned turn
angle when the next waypoint is sequenced (``time_to_turn_s``). Unlike the step model of
:func:`satellite.platforms.planned_attitude` it keeps the roll-in/roll-out transients, which
decide when a banked turn blocks the antenna.
"""

from __future__ import annotations

import numpy as np

from .platforms import G_M_S2

__all__ = ["autopilot_attitude"]


def autopilot_attitude(
    plat, dt_s, max_bank_deg: float = 25.0, roll_rate_dps: float = 5.0, bank_gain: float = 2.5
) -> tuple[np.ndarray, np.ndarray]:
    """Heading and roll (deg) after each look-ahead in ``dt_s`` (s, int or sequence of ints).

    ``plat`` maps ``heading_deg``, ``roll_deg``, ``speed_mps``, ``heading_to_go_deg``,
    ``time_to_turn_s`` and ``next_turn_deg`` to arrays ``(N,)`` (or scalars), as recorded by
    :func:`satellite.platforms.fly`. Integrates, in 1-s steps, its autopilot: roll follows
    ``clip(bank_gain·ψ_err, ±max_bank_deg)`` at ``roll_rate_dps``, heading turns at
    ``g·tan(φ)/V`` (coordinated turn), and the heading error to go grows by ``next_turn_deg``
    when ``time_to_turn_s`` runs out (later turns are unknown and taken as none). The speed is
    held. NaN plan data mean "no turn". Returns ``(heading, roll)``, each shaped
    ``(len(dt_s), N)`` for a sequence, ``(N,)`` for a scalar.
    """
    scalar = np.ndim(dt_s) == 0
    steps = np.atleast_1d(np.asarray(dt_s, dtype=int))
    if steps.size == 0 or np.any(steps < 0):
        raise ValueError(f"dt_s: need look-aheads >= 0 s (got {list(steps)})")
    arr = lambda k: np.atleast_1d(np.asarray(plat[k], dtype=float))  # noqa: E731
    v = np.maximum(arr("speed_mps"), 1.0)
    hdg = arr("heading_deg").copy()
    roll = np.nan_to_num(arr("roll_deg"))
    err = np.nan_to_num(arr("heading_to_go_deg"))
    ttt = np.nan_to_num(arr("time_to_turn_s"), nan=np.inf)
    nturn = np.nan_to_num(arr("next_turn_deg"))
    pending = nturn != 0
    # the recorded error to go was measured before this second's heading update
    err = err - np.degrees(G_M_S2 * np.tan(np.radians(roll)) / v)
    out_h = np.empty((steps.size, hdg.size))
    out_r = np.empty((steps.size, hdg.size))
    for k in range(int(steps.max()) + 1):
        for i in np.flatnonzero(steps == k):
            out_h[i], out_r[i] = hdg % 360.0, roll
        ttt = ttt - 1.0
        sequenced = pending & (ttt <= 0.0)
        err = np.where(sequenced, err + nturn, err)
        pending = pending & ~sequenced
        cmd = np.clip(bank_gain * err, -max_bank_deg, max_bank_deg)
        roll = roll + np.clip(cmd - roll, -roll_rate_dps, roll_rate_dps)
        rate = np.degrees(G_M_S2 * np.tan(np.radians(roll)) / v)
        hdg = hdg + rate
        err = err - rate
    if scalar:
        return out_h[0], out_r[0]
    return out_h, out_r
