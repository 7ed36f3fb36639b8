"""The online auction on the engine (conservation of capacity, drops, releases) and the
AuctionPricing-v0 env's own behaviour (the generic Gymnasium contract lives in tests/envs)."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from auction.mohaf import MohafParams
from auction.online import OnlineAuction, OnlineParams, RoundState, fixed_rule, mohaf_rule
from auction.traces import synthetic_trace
from auction.workload import WorkloadSpec, make_instance
from netsim import ConfigError, Simulation


def _online(policy, seed=0, n=400, m=40, until=120.0):
    sim = Simulation(seed)
    spec = WorkloadSpec(types="single", mean_duration_s=20.0)
    inst = make_instance(synthetic_trace(n, m, sim.rng("trace")), sim.rng("attrs"), spec)
    model = OnlineAuction(sim, inst, OnlineParams(patience_s=15.0), policy=policy)
    sim.run(until=until)
    return sim, inst, model


def test_capacity_is_conserved_and_requests_accounted():
    sim, inst, m = _online(fixed_rule)
    R = inst.resources
    assert np.all(m.residual >= -1e-9) and np.all(m.residual <= R.capacity + 1e-9)
    assert m.arrived.value == np.sum(inst.requests.arrival_s <= sim.now)
    assert m.served.value + m.dropped.value + len(m.queue) == m.arrived.value
    assert m.held.sum() >= 0
    sim.run(until=10_000)  # every hold ends and every queue entry expires or wins
    np.testing.assert_allclose(m.residual, R.capacity, atol=1e-9)
    assert m.held.sum() == 0 and len(m.queue) == 0


def test_mohaf_rule_moves_prices_with_utilisation():
    st = RoundState(np.array([1.0, 0.0]), np.zeros(2), np.array([1.0, 1.0]))
    np.testing.assert_allclose(mohaf_rule(st, eta=0.5, tau=0.8), [1.1, 0.6])
    np.testing.assert_allclose(
        mohaf_rule(RoundState(np.zeros(1), np.zeros(1), np.array([0.3])), 1.0, 0.8, 4.0), [0.25]
    )


def test_online_is_deterministic():
    a, b = _online(lambda s: mohaf_rule(s), seed=3)[2], _online(lambda s: mohaf_rule(s), seed=3)[2]
    assert (a.served.value, a.dropped.value, a.revenue.value) == (
        b.served.value,
        b.dropped.value,
        b.revenue.value,
    )


def test_env_baselines_and_rewards():
    env = gym.make("netsim/AuctionPricing-v0", n_requests=300, n_resources=30, horizon=60.0)
    out = {}
    for name in ("fixed_price", "mohaf_rule"):
        obs, _ = env.reset(seed=2)
        pol = env.unwrapped.baseline_policies()[name]
        total, steps = 0.0, 0
        while True:
            obs, r, term, trunc, info = env.step(pol(obs))
            assert env.observation_space.contains(obs)
            total += r
            steps += 1
            if term or trunc:
                break
        out[name] = (total, info["served"], steps)
    assert out["fixed_price"][2] == out["mohaf_rule"][2] == 11  # rounds at 5, 10, ..., 55 s
    assert out["mohaf_rule"][1] >= out["fixed_price"][1]  # under-used clusters get cheaper
    env.close()


def test_env_rejects_bad_config():
    with pytest.raises(ConfigError, match="n_clusters"):
        gym.make("netsim/AuctionPricing-v0", n_clusters=10, n_resources=5)
    with pytest.raises(ConfigError, match="reward"):
        gym.make("netsim/AuctionPricing-v0", reward="profit")


def test_online_params_reject_bad_values():
    with pytest.raises(ValueError, match="mohaf.mode must be 'shared'"):
        OnlineParams(mohaf=MohafParams(mode="exclusive"))
    with pytest.raises(ValueError, match="round_interval_s > 0"):
        OnlineParams(round_interval_s=0.0)
