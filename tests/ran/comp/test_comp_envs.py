"""``netsim/CompMarket-v0`` (Gymnasium) and the PettingZoo bidding env: API checks,
observations inside their spaces, same-seed multi-step determinism, baselines."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401 - registers the ids
from envs.comp_market import CompMarketEnv
from envs.comp_market_parallel import baseline_actions, parallel_env
from netsim import ConfigError

SMALL = {"horizon": 2.0, "n_ues": 20, "blocks_x": 3, "blocks_y": 3}


def test_gymnasium_and_sb3_checks():
    env = gym.make("netsim/CompMarket-v0", **SMALL)
    check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)


def _rollout(env, seed, steps, policy):
    obs, _ = env.reset(seed=seed)
    traj = [obs]
    rewards = []
    for _ in range(steps):
        obs, r, term, trunc, info = env.step(policy(obs))
        assert env.observation_space.contains(obs)
        traj.append(obs)
        rewards.append(r)
        if term or trunc:
            break
    return np.array(traj), np.array(rewards)


def test_same_seed_same_trajectory_and_spaces():
    env = gym.make("netsim/CompMarket-v0", **SMALL)
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, (30, 3)).astype(np.float32)
    it1, it2 = iter(acts), iter(acts)
    a = _rollout(env, 7, 30, lambda _o: next(it1))
    b = _rollout(env, 7, 30, lambda _o: next(it2))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[1].sum() > 0  # revenue was collected
    c = _rollout(env, 8, 30, lambda _o: np.zeros(3, np.float32))
    assert not np.array_equal(a[0][: len(c[0])], c[0])


def test_reserve_changes_revenue_and_baselines_run():
    env = CompMarketEnv(**SMALL)
    totals = {}
    for name, pol in env.baseline_policies().items():
        _, r = _rollout(env, 3, 100, pol)
        totals[name] = r.sum()
        assert len(r) == 20  # 2 s / 0.1 s epochs, then truncation
    assert totals["no_reserve"] != totals["fixed_reserve"]
    env.reset(seed=1)
    env.step(np.ones(3, np.float32))
    assert np.allclose(env.net.reserve_price[env.controlled], env.config.max_reserve_price)


def test_make_vec_and_welfare_objective():
    vec = gym.make_vec("netsim/CompMarket-v0", num_envs=2, vectorization_mode="sync", **SMALL)
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (2, 13)
    obs, r, term, trunc, _ = vec.step(np.zeros((2, 3), np.float32))
    assert r.shape == (2,)
    vec.close()
    env = CompMarketEnv(objective="welfare", **SMALL)
    _, r = _rollout(env, 2, 20, lambda _o: -np.ones(3, np.float32))
    assert r.sum() > 0


def test_env_bad_config():
    with pytest.raises(ConfigError, match="objective"):
        CompMarketEnv(objective="profit")
    with pytest.raises(ConfigError, match="controlled_bs"):
        CompMarketEnv(controlled_bs=0)
    with pytest.raises(ConfigError, match="cluster_size"):
        CompMarketEnv(cluster_size=3)  # one name, one meaning: cluster_bs / controlled_bs


def test_observation_and_reward_describe_the_same_epoch():
    """Issue 12: the observation used to be one epoch stale. The total bids in the
    observation times their normaliser equal the step's revenue, at every step."""
    env = CompMarketEnv(**SMALL)
    k, c = env.config.controlled_bs, env.config
    env.reset(seed=7)
    rng = np.random.default_rng(1)
    nonzero = 0
    for _ in range(20):
        obs, r, *_ = env.step(rng.uniform(-1, 1, k).astype(np.float32))
        bids = obs[2 * k : 3 * k].astype(float) * c.budget * c.n_ues
        assert bids.sum() == pytest.approx(r, rel=1e-5, abs=1e-4)
        nonzero += r > 0
    assert nonzero > 3


def test_oracle_beats_fixed_reserves_on_the_same_seeds():
    from envs.comp_market import baselines
    from netsim.evaluate import evaluate_policies

    bl = {b.name: b for b in baselines()}
    pols = {"oracle": bl["oracle"].policy, "no_reserve": bl["no_reserve"].policy}
    pols.update({n: bl["best_fixed"].candidates[n] for n in ("reserve_0.2", "reserve_0.4")})
    df = evaluate_policies(lambda: CompMarketEnv(horizon=1.0), pols, 2, 0)
    piv = df.pivot(index="episode", columns="policy", values="return")
    assert (piv["oracle"] >= piv.drop(columns="oracle").max(axis=1) - 1e-9).all()


def test_city_id_is_the_study_city():
    env = gym.make("netsim/CompMarket-City-v0", horizon=0.2).unwrapped
    env.reset(seed=0)
    assert env.net.n_bs == 42 and env.config.n_ues == 200


# -- PettingZoo ------------------------------------------------------------------------------------
def test_parallel_api():
    parallel_api_test(parallel_env(horizon=1.5), num_cycles=30)


def _play(seed, name, steps=15):
    env = parallel_env(horizon=1.5, n_ues=8)
    obs, _ = env.reset(seed=seed)
    out = [np.stack([obs[a] for a in env.possible_agents])]
    rew = []
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        if not env.agents:
            break
        if name == "fixed":
            acts = {a: rng.uniform(0, 1, 3).astype(np.float32) for a in env.agents}
        else:
            acts = baseline_actions(env, name)
        for a, o in obs.items():
            assert env.observation_space(a).contains(o)
        obs, r, term, trunc, info = env.step(acts)
        if obs:
            out.append(np.stack([obs[a] for a in env.possible_agents]))
        rew.append([r[a] for a in sorted(r)])
    return np.array(out), np.array(rew), env


def test_parallel_same_seed_same_trajectory():
    a_obs, a_rew, _ = _play(4, "fixed")
    b_obs, b_rew, env = _play(4, "fixed")
    assert np.array_equal(a_obs, b_obs) and np.array_equal(a_rew, b_rew)
    assert env.agents == []  # truncated at the horizon


def test_parallel_baselines_and_inactive_agents_get_nothing():
    _, rew, _ = _play(5, "best_response")
    assert np.isfinite(rew).all()
    env = parallel_env(horizon=2.0, n_ues=8)
    env.reset(seed=5)
    seen_market = 0
    while env.agents:
        obs, r, term, trunc, info = env.step(baseline_actions(env, "uniform"))
        for a in r:
            if info[a]["in_market"]:
                seen_market += 1
            else:
                assert r[a] == 0.0  # bids of agents outside the epoch's market are ignored
    assert seen_market > 0
    with pytest.raises(ValueError, match="unknown"):
        baseline_actions(env, "greedy")


def test_parallel_wallets_carry_over_and_spending_costs_later_bids():
    def wallets(frac):
        env = parallel_env(horizon=2.0, n_ues=8)
        env.reset(seed=3)
        spent_any = False
        while env.agents:
            before = env.net.wallet.copy()
            _, _, _, _, info = env.step({a: np.full(3, frac, np.float32) for a in env.agents})
            spent_any |= bool(np.any(env.net.wallet < before))
        return env.net.wallet.copy(), spent_any, env.config

    hoard, spent_h, c = wallets(0.0)
    spend, spent_s, _ = wallets(1.0 / 3.0)
    assert not spent_h and spent_s
    assert np.all(hoard <= c.budget_cap * c.budget + 1e-12)
    assert np.all(hoard >= 15 * c.budget)  # income piles up while nobody spends
    assert np.all(spend <= hoard) and np.any(spend < hoard)
