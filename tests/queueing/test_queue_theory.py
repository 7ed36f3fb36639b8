"""Closed forms against textbook hand values (Kleinrock Vol. 1; Gross & Harris)."""

import pytest

from queueing.theory import erlang_b, erlang_c, mg1, mm1, mm1k, mmc, tandem


def test_mm1_hand_values():
    m = mm1(0.9, 1.0)
    assert (m.utilisation, m.sojourn, m.wait) == pytest.approx((0.9, 10.0, 9.0))
    assert (m.number_in_system, m.queue_length) == pytest.approx((9.0, 8.1))


def test_erlang_values():
    # Erlang B(c=2, a=1) = (1/2)/(1 + 1 + 1/2) = 0.2; Erlang C(2, 1) = 1/3
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # c = 1 reduces to rho
    assert erlang_c(1, 0.7) == pytest.approx(0.7)


def test_mmc_reduces_to_mm1_and_little():
    assert mmc(0.5, 1.0, 1) == mm1(0.5, 1.0)
    m = mmc(2.7, 1.0, 3)
    assert m.number_in_system == pytest.approx(2.7 * m.sojourn)
    assert m.queue_length == pytest.approx(2.7 * m.wait)


def test_pk_md1_is_half_mm1_wait():
    assert mg1(0.8, 1.0, 0.0).wait == pytest.approx(mm1(0.8, 1.0).wait / 2)
    assert mg1(0.8, 1.0, 1.0).wait == pytest.approx(mm1(0.8, 1.0).wait)


def test_mm1k_limits():
    p, m = mm1k(1.0, 1.0, 4)  # rho = 1: uniform over 0..4
    assert p == pytest.approx(0.2) and m.number_in_system == pytest.approx(2.0)
    p, m = mm1k(0.5, 1.0, 200)  # large K -> M/M/1
    assert p == pytest.approx(0.0, abs=1e-12) and m.sojourn == pytest.approx(2.0)


def test_tandem_sums():
    per, total = tandem(0.8, [(1, 1.0), (2, 0.6)])
    assert total.sojourn == pytest.approx(per[0].sojourn + per[1].sojourn)


def test_unstable_rejected():
    with pytest.raises(ValueError, match="unstable"):
        mm1(1.0, 1.0)
    with pytest.raises(ValueError):
        mmc(1.0, -1.0, 2)
