"""Engine processes: one flight's connection as a process on a :class:`netsim.Simulation`.

:class:`FlightSession` advances a :class:`~satellite.handover.LinkSession` once per simulated
second. Every ``decision_interval_s`` it asks for a candidate to serve from, either from a
policy function or, when given a :class:`netsim.DecisionPoint`, from an external agent
(``action = yield point.request(state)``). It records ``delivered_bits``, ``outage_s``,
``interruption_s`` and ``handovers`` as counters in ``sim.metrics``.

:func:`planned_forecast` is the model-based forecast an env can show without a trained
model: the candidate's measured Es/N0 now, corrected by the change of antenna scan loss
between the attitude now and the attitude the flight plan implies at t + h (and blocked if the
line of sight then leaves the scan range or drops below the elevation mask).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from netsim import DecisionPoint, Simulation

from .handover import Interruptions, LinkSession, LinkView
from .linkbudget import TerminalParams, off_boresight_deg, scan_loss_db
from .links import BLOCKED_DB, LinkSet
from .platforms import Trajectory, planned_attitude
from .predict import _lead

__all__ = ["FlightSession", "planned_forecast"]

_TERMINAL = TerminalParams()
_COST = Interruptions()


def planned_forecast(
    ls: LinkSet, traj: Trajectory, horizon_s: int, terminal: TerminalParams = _TERMINAL
):
    """``(T, C)`` geometry forecast of Es/N0 at t + ``horizon_s`` (dB, ``BLOCKED_DB`` when the
    satellite will be blocked or below the mask): ``Es/N0(t) + L_scan(t) - L_scan(t + h)``
    with the future attitude from :func:`satellite.platforms.planned_attitude` and the
    satellite's future look angles from the ephemeris."""
    if horizon_s < 1:
        raise ValueError(f"horizon_s must be >= 1 (got {horizon_s})")
    hdg_h, roll_h = planned_attitude(
        traj.heading_deg,
        traj.speed_mps,
        traj.heading_to_go_deg,
        traj.time_to_turn_s,
        traj.next_turn_deg,
        horizon_s,
    )
    el_h, az_h = _lead(ls.el_deg, horizon_s), _lead(ls.az_deg, horizon_s)
    bore_h = off_boresight_deg(el_h, az_h, hdg_h[:, None], traj.pitch_deg[:, None], roll_h[:, None])
    loss_now = scan_loss_db(ls.boresight_deg, terminal)
    loss_h = scan_loss_db(bore_h, terminal)
    vis_h = _lead(ls.visible, horizon_s)
    base = np.where(np.isfinite(loss_now), ls.esn0_meas_db + loss_now, np.nan)
    pred = base - loss_h
    # a link blocked now: assume its unblocked level is the serving-free estimate of its peers
    pred = np.where(np.isfinite(pred), pred, BLOCKED_DB)
    return np.where(vis_h & np.isfinite(loss_h), pred, BLOCKED_DB)


class FlightSession:
    """One flight's connection on the engine.

    Args:
        sim: the simulation (its clock is seconds since take-off).
        ls: the flight's candidate links.
        policy: ``LinkView -> index`` used when no decision point is given.
        decisions: a :class:`netsim.DecisionPoint`; the agent's action is a candidate index.
        forecast: optional ``(pred_esn0_db, p_good)`` ``(T, C)`` arrays shown to policies.
        cost, decision_interval_s, acm_margin_db: see :func:`satellite.handover.simulate_handover`.
    """

    def __init__(
        self,
        sim: Simulation,
        ls: LinkSet,
        policy: Callable[[LinkView], int] | None = None,
        decisions: DecisionPoint | None = None,
        forecast: tuple[np.ndarray, np.ndarray | None] | None = None,
        cost: Interruptions = _COST,
        decision_interval_s: int = 1,
        acm_margin_db: float = 0.5,
    ):
        if policy is None and decisions is None:
            raise ValueError("FlightSession needs a policy or a DecisionPoint")
        if decision_interval_s < 1:
            raise ValueError(f"decision_interval_s must be >= 1 (got {decision_interval_s})")
        self.sim = sim
        self.ls = ls
        self.session = LinkSession(ls, cost, acm_margin_db)
        self.policy = policy
        self.decisions = decisions
        self.forecast = forecast
        self.interval = decision_interval_s
        self.t = 0
        self.done = False
        m = sim.metrics
        self.delivered = m.counter("delivered_bits")
        self.outage = m.counter("outage_s")
        self.interrupted = m.counter("interruption_s")
        self.handovers = m.counter("handovers")
        self.last_switch_cost_s = 0.0
        self.switch_cost_s = 0.0  # interruption (s) the handovers so far cost, in total
        sim.process(self._run())

    def view(self) -> LinkView:
        t = min(self.t, self.ls.t_s.size - 1)
        pred, pgood = (None, None) if self.forecast is None else self.forecast
        return self.session.view(
            t, None if pred is None else pred[t], None if pgood is None else pgood[t]
        )

    def _run(self):
        """Decide at each epoch, then account the seconds up to the next epoch in one go and
        wait for them in one timeout (the trace is the per-second one of
        :func:`satellite.handover.simulate_handover`; tested)."""
        n_t = self.ls.t_s.size
        env = self.sim.env
        sess = self.session
        tr = sess.trace
        while self.t < n_t:
            t = self.t
            if self.ls.n and t % self.interval == 0:
                view = self.view()
                target = (
                    (yield self.decisions.request(view))
                    if self.decisions is not None
                    else self.policy(view)
                )
                before = sess.pending
                kind = sess.switch(t, int(target))
                self.last_switch_cost_s = sess.pending - before
                self.switch_cost_s += self.last_switch_cost_s
                if kind:
                    self.handovers.add(1)
            end = min(n_t, (t // self.interval + 1) * self.interval) if self.ls.n else n_t
            bits = 0.0
            for u in range(t, end):
                bits += sess.account(u)
            served = tr.serving[t:end] >= 0
            self.delivered.add(bits)
            self.outage.add(float(np.count_nonzero(tr.outage[t:end] & served)))
            self.interrupted.add(float(tr.interrupted_s[t:end].sum()))
            self.t = end
            yield env.timeout(float(end - t))
        self.done = True
        if self.decisions is not None:
            self.decisions.finish()  # touchdown: the env ends the episode as terminated
