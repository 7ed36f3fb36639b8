"""Outer-loop link adaptation: zero drift at the BLER target, the exact NACK-count identity,
and convergence on a logistic BLER curve to the back-off its closed form predicts."""

import numpy as np
import pytest

from ran.slicing.olla import nack_fraction, olla_update, run_olla, step_down_db


def test_steps_and_zero_drift_at_the_target():
    assert step_down_db(0.5, 0.1) == pytest.approx(0.5 / 9)
    # 9 ACKs and 1 NACK at T = 0.1 bring the offset back where it started
    off = 1.0
    for nack in [False] * 9 + [True]:
        off = olla_update(off, nack, 0.5, 0.1)
    assert off == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(olla_update([0.0, 0.0], [True, False], 1.0, 0.2), [1.0, -0.25])
    with pytest.raises(ValueError, match="bler_target"):
        step_down_db(0.5, 1.0)
    with pytest.raises(ValueError, match="step_up_db"):
        olla_update(0.0, True, 0.0, 0.1)


def test_nack_count_identity_on_any_sequence():
    rng = np.random.default_rng(3)
    nacks = rng.random((500, 4)) < [0.02, 0.1, 0.3, 0.7]
    off = np.zeros(4)
    for row in nacks:
        off = olla_update(off, row, 0.3, 0.1)
    np.testing.assert_allclose(nack_fraction(0.0, off, 500, 0.3, 0.1), nacks.mean(axis=0))


def test_converges_to_the_bler_target_on_a_logistic_curve():
    # BLER at back-off x dB: 1 / (1 + exp(a (x - b))); it equals T at x* = b + ln((1-T)/T) / a
    a, b, target = 1.5, 2.0, 0.1
    x_star = b + np.log((1 - target) / target) / a

    def p_nack(x):
        return 1.0 / (1.0 + np.exp(a * (x - b)))

    offsets, nacks = run_olla(p_nack, 4000, np.random.default_rng(7), n_links=64,
                              offset0_db=-5.0, step_up_db=0.2, bler_target=target)
    settled = offsets[1000:]
    assert abs(settled.mean() - x_star) < 0.1
    bler = nacks[1000:].mean()
    se = np.sqrt(target * (1 - target) / nacks[1000:].size)
    assert abs(bler - target) < 5 * se + 0.005
    # from any start, each link's offset ends near x*
    assert np.all(np.abs(offsets[-1] - x_star) < 2.0)
