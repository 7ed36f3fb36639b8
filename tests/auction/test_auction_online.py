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
    last_round = np.floor(sim.now / 5.0) * 5.0  # requests join the queue at rounds
    assert m.arrived.value == np.sum(inst.requests.arrival_s <= last_round)
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


def test_env_replays_the_trace_and_is_contested():
    """Every round the env admits the trace's SUBMITs with arrival <= now; the machines fill
    (default load well above capacity); and pricing matters: the best fixed multiplier in
    hindsight (2.5 on these seeds) beats unit-cost prices, which beat the minimum price."""
    env = gym.make("netsim/AuctionPricing-v0")
    u = env.unwrapped
    out = {}
    for name, pol in {
        "min_price": u.baseline_policies()["min_price"],
        "fixed_price": u.baseline_policies()["fixed_price"],
        "x2.5": lambda _o: u._to_action(np.full(4, 2.5)),
    }.items():
        tot = []
        for seed in (0, 1):
            obs, _ = env.reset(seed=seed)
            total, done, util = 0.0, False, []
            while not done:
                obs, r, term, trunc, info = env.step(pol(obs))
                assert env.observation_space.contains(obs)
                total += r
                util.append(info["utilisation"])
                done = term or trunc
            m = u.model
            assert m.arrived.value == np.sum(m.inst.requests.arrival_s <= u.sim.now)
            tot.append(total)
        out[name] = np.mean(tot)
    assert out["min_price"] < out["fixed_price"] < out["x2.5"]
    assert u.hindsight_bound() > out["x2.5"]  # the LP bound of the last episode
    env.close()


def test_hindsight_bound_is_above_every_policy_on_an_episode():
    """The LP bound (auction.hindsight) exceeds the return of every price path tried."""
    env = gym.make("netsim/AuctionPricing-v0", horizon=60.0, n_resources=8, n_clusters=2)
    u = env.unwrapped
    rng = np.random.default_rng(0)
    for seed in range(3):
        env.reset(seed=seed)
        bound = u.hindsight_bound()
        for level in (-1.0, 0.0, 0.5, 1.0, None):
            env.reset(seed=seed)
            total, done = 0.0, False
            while not done:
                a = rng.uniform(-1, 1, 2) if level is None else np.full(2, level)
                _, r, term, trunc, _ = env.step(a.astype(np.float32))
                total += r
                done = term or trunc
            assert total <= bound + 1e-9


def test_env_rejects_bad_config():
    with pytest.raises(ConfigError, match="n_clusters"):
        gym.make("netsim/AuctionPricing-v0", n_clusters=10, n_resources=5)
    with pytest.raises(ConfigError, match="reward"):
        gym.make("netsim/AuctionPricing-v0", reward="profit")
    with pytest.raises(ConfigError, match="horizon"):
        gym.make("netsim/AuctionPricing-v0", horizon=400.0)


def test_online_params_reject_bad_values():
    with pytest.raises(ValueError, match="mohaf.mode must be 'shared'"):
        OnlineParams(mohaf=MohafParams(mode="exclusive"))
    with pytest.raises(ValueError, match="round_interval_s > 0"):
        OnlineParams(round_interval_s=0.0)
