"""Churn scripts and the master's membership bookkeeping."""

import numpy as np
import pytest

from transport.pccl.master import Master
from transport.pccl.membership import ChurnEvent, poisson_churn, up_fraction, validate_script


def test_poisson_churn_alternates_and_is_deterministic():
    a = poisson_churn(np.random.default_rng(5), 6, 36_000.0, 2 / 3600, 6 / 3600)
    b = poisson_churn(np.random.default_rng(5), 6, 36_000.0, 2 / 3600, 6 / 3600)
    assert a == b and len(a) > 50
    assert [e.time_s for e in a] == sorted(e.time_s for e in a)
    validate_script(a, 6, range(6))  # alternation leave/join per peer from "all up"


def test_poisson_churn_rates():
    """Alternating renewal: departures per peer-hour of uptime ≈ λ, and the fraction of
    time up ≈ μ/(λ+μ) (Monte Carlo over a long horizon)."""
    lam, mu, peers, horizon = 4.0 / 3600, 12.0 / 3600, 20, 200 * 3600.0
    ev = poisson_churn(np.random.default_rng(1), peers, horizon, lam, mu)
    up_time = 0.0
    for p in range(peers):
        t_last, up = 0.0, True
        for e in (e for e in ev if e.peer == p):
            if up:
                up_time += e.time_s - t_last
            t_last, up = e.time_s, not up
        if up:
            up_time += horizon - t_last
    leaves = sum(e.kind == "leave" for e in ev)
    assert leaves / up_time == pytest.approx(lam, rel=0.05)
    assert up_time / (peers * horizon) == pytest.approx(up_fraction(lam, mu), rel=0.03)


def test_zero_rates_and_bad_rates():
    assert poisson_churn(np.random.default_rng(0), 4, 1000.0, 0.0, 1.0) == []
    ev = poisson_churn(np.random.default_rng(0), 4, 1e6, 1e-3, 0.0)
    assert all(e.kind == "leave" for e in ev) and len(ev) == 4  # nobody returns
    with pytest.raises(ValueError, match=">= 0"):
        poisson_churn(np.random.default_rng(0), 4, 1000.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="horizon"):
        poisson_churn(np.random.default_rng(0), 4, 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        up_fraction(-1.0, 1.0)
    assert up_fraction(0.0, 0.0) == 1.0


@pytest.mark.parametrize(
    "events, match",
    [
        ([ChurnEvent(1.0, 0, "join")], "cannot join"),
        ([ChurnEvent(1.0, 0, "leave"), ChurnEvent(2.0, 0, "leave")], "cannot leave"),
        ([ChurnEvent(-1.0, 0, "leave")], ">= 0"),
        ([ChurnEvent(1.0, 7, "leave")], "site index"),
        ([ChurnEvent(1.0, 0, "crash")], "kind"),
    ],
)
def test_bad_scripts_rejected(events, match):
    with pytest.raises(ValueError, match=match):
        validate_script(events, 3, [0, 1, 2])


def _master(policy="optimised", n=5):
    rng = np.random.default_rng(0)
    bw = rng.uniform(1e9, 1e10, (n, n))
    lat = np.full((n, n), 0.01)
    return Master(bw, lat, 1e8, policy, rng, measure_cv=0.0)


def test_vote_must_be_unanimous_and_empty_world_bootstraps():
    m = _master()
    m.register(0, 0)
    m.register(1, 0)
    assert m.vote_accept([]) == [0, 1]  # nobody accepted yet: no vote needed
    m.register(2, 0)
    assert m.vote_accept([0]) is None and m.pending == [2]  # peer 1 did not vote
    assert m.vote_accept([0, 1]) == [2] and m.accepted == [0, 1, 2]
    with pytest.raises(ValueError, match="already registered"):
        m.register(2, 1)
    assert m.drop(1) and m.accepted == [0, 2] and not m.knows(1)
    assert not m.drop(1)


def test_ring_policies_and_measurement_once():
    m = _master("join")
    for p in (3, 0, 4):
        m.register(p, 0)
    m.vote_accept([])
    assert m.ring() == (3, 0, 4)  # join order
    m = _master("optimised")
    for p in range(5):
        m.register(p, 0)
    m.vote_accept([])
    with pytest.raises(RuntimeError, match="measured"):
        m.ring()
    assert m.measure(m.accepted) == 20 and m.measure(m.accepted) == 0
    ring = m.ring()
    assert sorted(ring) == list(range(5)) and m.ring() is ring  # cached
    m.drop(2)
    assert sorted(m.ring()) == [0, 1, 3, 4]
    with pytest.raises(ValueError, match="policy"):
        Master(np.ones((2, 2)), np.zeros((2, 2)), 1.0, "fastest", np.random.default_rng(0))
