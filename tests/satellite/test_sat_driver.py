"""One driver (issue 19): the study's ``simulate_handover`` loop and the env's engine process
``FlightSession`` account a flight identically, policy by policy."""

import numpy as np
import pytest
from test_sat_handover import toy

from netsim import DecisionPoint, Simulation
from satellite.handover import POLICIES, Interruptions, simulate_handover
from satellite.model import FlightSession


def _links(seed, n_t=300, n_c=6):
    rng = np.random.default_rng(seed)
    vis = rng.random((n_t, n_c)) < 0.8
    vis = np.repeat(vis[::20], 20, axis=0)[:n_t]  # visibility changes in 20-s blocks
    esn0 = rng.normal(5.0, 4.0, (n_t, n_c)).cumsum(axis=0) * 0.05 + 5.0
    ls = toy(esn0, vis, [0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1], [0, 0, 0, 0, 1, 1], load=3.0)
    ls.esn0_meas_db = ls.esn0_db + rng.normal(0, 0.1, ls.esn0_db.shape)
    pred = esn0 + rng.normal(0, 1, esn0.shape)
    return ls, pred, 1.0 / (1.0 + np.exp(-(pred - 5.5)))


def _engine(ls, policy, cost, interval, pred, pg, agent: bool):
    sim = Simulation(seed=0)
    dp = DecisionPoint(sim) if agent else None
    fs = FlightSession(
        sim, ls, policy=None if agent else policy, decisions=dp, forecast=(pred, pg),
        cost=cost, decision_interval_s=interval,
    )
    if not agent:
        sim.run()
        return fs
    while not dp.finished:
        sim.run(until=dp.pending)
        if dp.waiting:
            dp.respond(policy(dp.state))
    return fs


@pytest.mark.parametrize(
    "agent, interval, mbb, seed", [(False, 1, False, 0), (True, 5, True, 1), (True, 1, False, 2)]
)
def test_engine_process_equals_study_loop(agent, interval, mbb, seed):
    cost = Interruptions(make_before_break=mbb)
    ls, pred, pg = _links(seed, n_t=200)
    for name, factory in POLICIES.items():
        ref = simulate_handover(ls, factory(), cost, interval, pred, pg)
        fs = _engine(ls, factory(), cost, interval, pred, pg, agent)
        got = fs.session.trace
        for field in ("serving", "delivered_bits", "interrupted_s", "outage", "switches"):
            assert np.array_equal(getattr(ref, field), getattr(got, field)), (name, field)
        tot = ref.totals()
        assert fs.delivered.value == pytest.approx(tot["delivered_gb"] * 8e9, rel=1e-12)
        assert fs.handovers.value == tot["handovers"]
        assert fs.interrupted.value == pytest.approx(tot["interruption_s"])
