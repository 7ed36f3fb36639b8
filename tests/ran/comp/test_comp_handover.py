"""A3 / time-to-trigger / execution and T310 radio-link failure on scripted traces.

Oracle: the rules of 3GPP TS 38.331 §5.5.4.4 (A3 entering condition ``Mn - Hys > Mp + Off``
held for ``timeToTrigger``) and §5.3.10 (T310 started below Qout, stopped above Qin, RLF on
expiry), applied by hand to 10 ms traces.
"""

import numpy as np
import pytest

from ran.comp.handover import HandoverParams, HandoverState, handover_step

DT = 0.01
P = HandoverParams(
    a3_offset_db=3.0,
    hysteresis_db=1.0,
    ttt_s=0.16,
    execution_s=0.2,
    interruption_s=0.03,
    qout_db=-8.0,
    qin_db=-6.0,
    t310_s=1.0,
    reestablish_s=0.5,
)


def _run(rsrp_fn, sinr_fn, t_end=4.0, p=P, m=2):
    ts = np.round(np.arange(0.0, t_end + 1e-9, DT), 10)
    st = HandoverState.initial(np.array([rsrp_fn(0.0)]))
    log = {"triggered": [], "completed": [], "rlf": [], "reestablished": [], "serving": []}
    for t in ts[1:]:
        ev = handover_step(st, t, np.array([rsrp_fn(t)]), np.array([sinr_fn(t)]), p)
        for k in ("triggered", "completed", "rlf", "reestablished"):
            if getattr(ev, k).size:
                log[k].append(float(t))
        log["serving"].append(int(st.serving[0]))
    return log, st


def test_a3_triggers_exactly_after_ttt_and_completes_after_execution():
    # serving -80 dBm; neighbour jumps to -75.5 at t = 1.00: -75.5 - 1 > -80 + 3
    log, st = _run(lambda t: [-80.0, -75.5 if t >= 1.0 - 1e-9 else -90.0], lambda t: 10.0)
    assert log["triggered"] == [pytest.approx(1.16)]
    assert log["completed"] == [pytest.approx(1.36)]
    assert st.serving[0] == 1
    assert st.has_primary(1.38)[0] == np.False_ and st.has_primary(1.39 + 1e-9)[0]


def test_condition_exactly_at_threshold_does_not_enter():
    # Mn - Hys = -76 equals Mp + Off = -77 + 1? use -76: -76 - 1 = -77 = -80 + 3 (not >)
    log, _ = _run(lambda t: [-80.0, -76.0], lambda t: 10.0)
    assert log["triggered"] == []


def test_interruption_of_the_condition_restarts_ttt():
    def rsrp(t):
        dip = 1.10 - 1e-9 <= t < 1.12 - 1e-9  # two samples below the threshold
        return [-80.0, -90.0 if (t < 1.0 - 1e-9 or dip) else -75.0]

    log, _ = _run(rsrp, lambda t: 10.0)
    assert log["triggered"] == [pytest.approx(1.12 + 0.16)]


def test_best_triggered_cell_is_the_target():
    log, st = _run(
        lambda t: [-80.0, -70.0, -72.0] if t >= 0.5 - 1e-9 else [-80.0, -95.0, -95.0],
        lambda t: 10.0,
    )
    assert log["triggered"] == [pytest.approx(0.66)]
    assert st.serving[0] == 1


def test_zero_ttt_triggers_at_first_sample():
    p = HandoverParams(ttt_s=0.0, execution_s=0.1)
    log, _ = _run(lambda t: [-80.0, -70.0 if t >= 2.0 - 1e-9 else -90.0], lambda t: 10.0, p=p)
    assert log["triggered"] == [pytest.approx(2.0)]
    assert log["completed"] == [pytest.approx(2.1)]


def test_t310_expiry_declares_rlf_then_reestablishes_on_best_cell():
    log, st = _run(lambda t: [-80.0, -85.0], lambda t: -10.0 if t >= 1.0 - 1e-9 else 5.0)
    # T310 from 1.00 expires at 2.00; re-established at 2.50; the link is still below Qout,
    # so T310 restarts at the next sample (2.51) and expires again at 3.51
    assert log["rlf"] == [pytest.approx(2.0), pytest.approx(3.51)]
    assert log["reestablished"] == [pytest.approx(2.5)]  # the second one is due at 4.01
    assert st.in_rlf()[0] and st.serving[0] == 0


def test_t310_stops_above_qin_but_not_between_qout_and_qin():
    # below Qout at 1.0; at 1.5 rises to -7 (between Qout and Qin): T310 keeps running
    log, _ = _run(
        lambda t: [-80.0, -85.0],
        lambda t: -10.0 if 1.0 - 1e-9 <= t < 1.5 - 1e-9 else (-7.0 if t >= 1.5 - 1e-9 else 5.0),
    )
    assert log["rlf"] == [pytest.approx(2.0)]

    # above Qin at 1.5: T310 stops, a new dip at 2.0 restarts it -> RLF at 3.0
    def sinr(t):
        if 1.0 - 1e-9 <= t < 1.5 - 1e-9 or t >= 2.0 - 1e-9:
            return -10.0
        return 0.0

    log, _ = _run(lambda t: [-80.0, -85.0], sinr)
    assert log["rlf"] == [pytest.approx(3.0)]


def test_rlf_cancels_a_pending_handover():
    p = HandoverParams(ttt_s=0.0, execution_s=1.0, t310_s=0.5)
    log, st = _run(
        lambda t: [-80.0, -70.0 if t >= 1.0 - 1e-9 else -90.0],
        lambda t: -10.0 if t >= 1.0 - 1e-9 else 5.0,
        t_end=1.6,
        p=p,
    )
    assert log["triggered"] == [pytest.approx(1.0)]
    assert log["rlf"] == [pytest.approx(1.5)]
    assert log["completed"] == []
    assert st.target[0] == -1


def test_bad_parameters():
    with pytest.raises(ValueError, match="ttt_s"):
        HandoverParams(ttt_s=-0.1)
    with pytest.raises(ValueError, match="qin_db"):
        HandoverParams(qout_db=-6.0, qin_db=-8.0)
