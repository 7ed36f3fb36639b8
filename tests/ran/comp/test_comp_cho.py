"""Rel-16 CHO, DAPS, L3 filtering and ping-pong counting (ran.comp.cho) against closed forms
and scripted hand cases (TS 38.331 §5.5.3.2 and §5.3.5.13, TS 38.300 §10.2.1.2, TR 36.839)."""

import numpy as np
import pytest

from netsim import Simulation
from ran.comp.cho import (
    ChoState,
    adapted_coefficient,
    cho_step,
    daps_step,
    filter_coefficient,
    l3_filter,
    ping_pongs,
)
from ran.comp.handover import HandoverParams, HandoverState, handover_step
from ran.comp.scenario import CompConfig, build


def test_filter_coefficient_is_the_38331_table():
    """a = 1/2^(k/4): fc0 -> 1 (no filtering), fc4 -> 1/2, fc8 -> 1/4; fc10 does not exist."""
    assert filter_coefficient(0) == 1.0
    assert filter_coefficient(4) == 0.5
    assert filter_coefficient(8) == 0.25
    assert filter_coefficient(19) == pytest.approx(2**-4.75)
    with pytest.raises(ValueError, match="l3_filter_k"):
        filter_coefficient(10)


def test_l3_filter_step_response_is_the_closed_form():
    """Unit step after F_0 = M_1 = 0: F_n = 1 - (1 - a)^n (first-order IIR)."""
    a = filter_coefficient(4)
    f = l3_filter(np.full(3, np.nan), np.zeros(3), a)  # F_0 = M_1
    assert np.all(f == 0.0)
    for n in range(1, 30):
        f = l3_filter(f, np.ones(3), a)
        assert f == pytest.approx(1.0 - (1.0 - a) ** n, abs=1e-15)
    # k = 0: the output is the measurement itself
    m = np.array([-80.0, -95.5, -101.25])
    assert np.array_equal(l3_filter(np.array([1.0, 2.0, 3.0]), m, 1.0), m)


def test_adapted_coefficient_preserves_the_time_constant():
    """Four samples of a' at 50 ms forget as much as one sample of a at 200 ms."""
    a = filter_coefficient(4)
    a2 = adapted_coefficient(a, 0.05, 0.2)
    f = 0.0
    for _ in range(4):
        f = l3_filter(f, 1.0, a2)
    assert float(f) == pytest.approx(a, rel=1e-12)
    assert adapted_coefficient(a, 0.2, 0.2) == pytest.approx(a)
    with pytest.raises(ValueError):
        adapted_coefficient(0.0, 0.1, 0.2)


def test_ping_pong_hand_case():
    """UE 0: A->B at 0, back B->A at 0.5 s (ping-pong), A->B again at 2.0 s (stayed 1.5 s: not);
    UE 1: C->D, then D->E (a different cell: not); UE 2: E->F, F->E after exactly 1 s (not:
    the stay must be shorter than T_pp). The log is shuffled."""
    log = [
        (0, 0.0, 0, 1),
        (0, 0.5, 1, 0),
        (0, 2.0, 0, 1),
        (1, 0.2, 2, 3),
        (1, 0.4, 3, 4),
        (2, 3.0, 4, 5),
        (2, 4.0, 5, 4),
    ]
    want = np.array([False, True, False, False, False, False, False])
    perm = np.random.default_rng(3).permutation(len(log))
    arr = np.array(log, dtype=float)[perm]
    got = ping_pongs(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], window_s=1.0)
    assert np.array_equal(got, want[perm])
    assert ping_pongs([], [], [], [], 1.0).size == 0


P = HandoverParams(
    a3_offset_db=3.0, hysteresis_db=1.0, ttt_s=0.16, execution_s=0.2, interruption_s=0.03,
    t310_s=1.0,
)
DT = 0.01
CAMP_ON_0 = np.array([[-80.0, -100.0]])  # the UE starts on cell 0


def _script(neighbour_before: float, jump_t: float = 0.5, horizon: float = 1.2, sinr=10.0):
    """Two cells, one UE on cell 0 at -80 dBm; cell 1 at ``neighbour_before`` until
    ``jump_t``, then -75 dBm (A3: -75 - 1 > -80 + 3). Returns (t, rsrp, sinr) per step."""
    out = []
    for i in range(int(round(horizon / DT)) + 1):
        t = i * DT
        n1 = neighbour_before if t < jump_t - 1e-9 else -75.0
        out.append((t, np.array([[-80.0, n1]]), np.array([sinr])))
    return out


def _run(kind: str, script, sinr_at=None):
    st = (ChoState if kind == "cho" else HandoverState).initial(CAMP_ON_0)
    trig = done = None
    for t, rsrp, sinr in script:
        if sinr_at is not None:
            sinr = sinr_at(t)
        if kind == "cho":
            ev = cho_step(st, t, rsrp, sinr, P, prep_margin_db=3.0, prep_s=0.2)
        elif kind == "daps":
            ev = daps_step(st, t, rsrp, sinr, P)
        else:
            ev = handover_step(st, t, rsrp, sinr, P)
        if ev.triggered.size and trig is None:
            trig = t
        if ev.completed.size and done is None:
            done = t
            primary_at_done = bool(st.has_primary(t)[0])
            primary_after = bool(st.has_primary(t + 0.02)[0])
            primary_later = bool(st.has_primary(t + 0.031)[0])
    return trig, done, primary_at_done, primary_after, primary_later, st


def test_cho_executes_at_the_prepared_target_without_the_command_delay():
    """Prepared early (cell 1 at -78 dBm meets A3 - 3 dB from t = 0, ready at 0.2 s): the
    execution condition holds from 0.5 s, TTT ends at 0.66 s and CHO switches then, while
    the baseline waits for the 0.2 s of preparation and command (0.86 s). Both interrupt
    for the 30 ms of random access."""
    script = _script(-78.0)
    trig_a3, done_a3, *_ = _run("a3", script)
    trig, done, at_done, after, later, st = _run("cho", script)
    assert trig_a3 == pytest.approx(0.66) and done_a3 == pytest.approx(0.86)
    assert trig == pytest.approx(0.66) and done == pytest.approx(0.66)
    assert st.serving[0] == 1
    assert not at_done and not after and later  # 30 ms interruption
    assert np.all(np.isinf(st.prepared_at))  # candidates released after the switch


def test_cho_falls_back_to_the_baseline_when_the_target_is_not_ready():
    """Cell 1 jumps from -90 to -75 dBm at 0.5 s: preparation starts then and is ready at
    0.7 s, after the trigger (0.66 s), so the UE uses the legacy handover (0.86 s)."""
    trig, done, *_ = _run("cho", _script(-90.0))
    assert trig == pytest.approx(0.66) and done == pytest.approx(0.86)


def test_cho_does_not_prepare_over_a_broken_source_link():
    """Below Qout the source cannot deliver the conditional reconfiguration: no candidate."""
    st = ChoState.initial(CAMP_ON_0)
    cho_step(st, 0.0, np.array([[-80.0, -78.0]]), np.array([-20.0]), P, 3.0, 0.2)
    assert np.isinf(st.prepared_at).all()
    cho_step(st, 0.01, np.array([[-80.0, -78.0]]), np.array([5.0]), P, 3.0, 0.2)
    assert st.prepared_at[0, 1] == pytest.approx(0.21)


def test_daps_has_no_interruption_while_the_source_holds():
    """Same trigger and completion time as the baseline; at completion (0.86 s) the source
    SINR is 10 dB >= Qout, so the UE keeps its data link (no 30 ms gap)."""
    script = _script(-90.0)
    _, done_a3, a3_at, a3_after, _, _ = _run("a3", script)
    _, done, at_done, after, later, st = _run("daps", script)
    assert done == done_a3 == pytest.approx(0.86)
    assert not a3_at and not a3_after  # baseline: interrupted
    assert at_done and after and later and st.serving[0] == 1


def test_daps_interrupts_when_the_source_fails():
    """Source SINR below Qout (-8 dB) from 0.7 s (T310 runs, 1 s, no RLF before 0.86 s):
    the source cannot hold, so DAPS interrupts like the baseline."""
    script = _script(-90.0)
    _, done, at_done, after, later, _ = _run(
        "daps", script, sinr_at=lambda t: np.array([10.0 if t < 0.7 else -12.0])
    )
    assert done == pytest.approx(0.86)
    assert not at_done and not after and later


def _net(policies, **kw):
    cfg = CompConfig.model_validate(
        {"blocks_x": 2, "blocks_y": 2, "n_ues": 30, "horizon": 1.5, "policies": policies,
         "vehicle_fraction": 0.9, **kw}
    )
    sim = Simulation(5)
    net = build(sim, cfg)
    sim.run(until=cfg.horizon)
    return net


def test_rival_schemes_do_not_disturb_the_baseline_and_report_statistics():
    """Adding CHO and DAPS to the policies leaves every other policy's rates bit-identical
    (they run on the same channel and only read it), and the summary carries per-scheme
    handover, ping-pong, RLF and no-primary rows."""
    a = _net(["no_comp", "equal_share"])
    b = _net(["no_comp", "equal_share", "cho", "daps"])
    assert np.array_equal(a.rate_sum, b.rate_sum[:2])
    s = b.summary().set_index(["policy", "metric"])["value"]
    for scheme in ("a3", "cho", "daps"):
        for m in ("ho_handovers", "ho_ping_pongs", "ho_rlf", "ho_no_primary_share"):
            assert np.isfinite(s[(scheme, m)])
    assert ("cho", "trouble_frac_below_floor") in s.index
    # DAPS follows the baseline's handovers and only removes interruptions
    assert s[("daps", "ho_handovers")] == s[("a3", "ho_handovers")]
    assert s[("daps", "ho_no_primary_share")] <= s[("a3", "ho_no_primary_share")]


def test_l3_filtering_in_the_network_uses_the_adapted_coefficient():
    net = _net(["no_comp"], handover={"l3_filter_k": 4})
    assert net._l3_a == pytest.approx(1 - 0.5 ** (0.01 / 0.2))
    assert not np.array_equal(net.rsrp_l3, net.rsrp_dbm)
    with pytest.raises(ValueError, match="l3_filter_k"):
        CompConfig.model_validate({"handover": {"l3_filter_k": 10}})
