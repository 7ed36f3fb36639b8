"""Regression tests of the defects of issue 14: the NaN outage statistic of blockage events,
the Newton Jacobian of budget-bound UEs, the Eisenberg-Gale tolerance (in
test_comp_baselines), and one name per meaning (``cluster_bs`` vs the env's
``controlled_bs``)."""

import math

import numpy as np
import pytest

from netsim import ConfigError, Simulation, validate
from ran.comp.events import EventProbe, below_floor_share
from ran.comp.market import (
    MarketInstance,
    nash_gap,
    respond_to_totals,
    response_slope,
    run_market,
)
from ran.comp.scenario import CompConfig, build


def test_below_floor_share_never_counts_nan():
    assert below_floor_share([0.0, np.nan, 2.0], 1.0) == 0.5
    assert math.isnan(below_floor_share([np.nan], 1.0))


@pytest.mark.slow
def test_event_minimum_covers_the_whole_gap_when_trigger_precedes_onset():
    """Issue 14 reproduction: horizon 8 s, seed 11. An event whose A3 trigger precedes the
    blockage onset used to store min_rate_handover = NaN (and then count as not in
    outage); now its execution minimum is the minimum over the whole gap."""
    cfg = validate(CompConfig, {"horizon": 8.0, "policies": ["no_comp"]})
    sim = Simulation(11)
    net = build(sim, cfg)
    probe = EventProbe(net)
    sim.run(until=8.0)
    ep = probe.episode_frame()
    ho = ep[ep["handover"]]
    assert not ho["min_rate_handover"].isna().any()
    early = ho[ho["trigger_s"] == 0.0]
    assert len(early) > 0  # events whose handover was already executing at the onset
    assert np.allclose(early["min_rate_handover"], early["min_rate_gap"])
    # and the share below the floor counts each of them
    nc = ho[ho["policy"] == "no_comp"]
    want = float((nc["min_rate_handover"] < cfg.rate_floor_mbps).sum()) / len(nc)
    assert below_floor_share(nc["min_rate_handover"], cfg.rate_floor_mbps) == want


def test_newton_converges_at_an_exact_equilibrium_with_a_budget_bound_ue():
    """Issue 14 reproduction: UE 0 spends its whole budget at the equilibrium."""
    inst = MarketInstance(
        np.zeros((2, 1), np.int64),
        np.array([[750.0], [0.005]]),
        np.array([5.8]),
        np.array([0.052, 2.0]),
        np.array([7.7e-5]),
        1.0,
    )
    res = run_market(inst, eps=1e-9, max_rounds=3000)
    assert res.converged
    assert nash_gap(inst, res.bids) < 1e-9
    assert res.bids[0, 0] == pytest.approx(0.052)


@pytest.mark.parametrize("mu", [0.0, 0.05])
def test_response_slope_matches_finite_differences(mu):
    rng = np.random.default_rng(3)
    n, k = 40, 3
    w = rng.uniform(0.5, 5.0, (n, k))
    t = rng.uniform(0.2, 2.0, (n, k))
    budget = rng.uniform(0.1, 2.0, n)
    b, bound = respond_to_totals(w, t, budget, mu, with_bound=True)
    assert bound.any()
    slope = response_slope(w, t, b, bound)
    h = 1e-7
    for j in range(k):
        tp = t.copy()
        tp[:, j] += h
        bp = respond_to_totals(w, tp, budget, mu)
        fd = (bp[:, j] - b[:, j]) / h
        # skip rows where the active set changes within h
        same = ((bp > 0) == (b > 0)).all(axis=1)
        assert np.allclose(slope[same, j], fd[same], atol=1e-4)


def test_cluster_bs_is_the_only_name_of_k():
    with pytest.raises(ConfigError, match="cluster_size"):
        validate(CompConfig, {"cluster_size": 3})
    assert validate(CompConfig, {"cluster_bs": 2}).cluster_bs == 2
