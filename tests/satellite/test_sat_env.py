"""netsim/SatelliteHandover-v0: Gymnasium and SB3 contracts, determinism, bad input."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from netsim import ConfigError

WORLD = {
    "providers": [
        {},
        {
            "name": "WALKER",
            "kind": "leo",
            "tle_set": "walker",
            "satellites": [],
            "walker": [120, 12, 1, 53.0, 550.0],
            "pattern": "bessel",
            "theta3db_deg": 3.0,
            "eirp_dbw": 33.0,
            "gt_dbk": 10.0,
            "freq_ghz": 11.7,
            "symbol_rate_msps": 150.0,
            "mask_deg": 25.0,
            "mean_users": 5.0,
        },
    ],
    "hours": 6.0,
}
# a pool of 3 flights: the resets of check_env reuse cached flights (the fast default suite)
KW = {"world": WORLD, "min_km": 150.0, "max_km": 320.0, "decision_interval_s": 60, "flight_pool": 3}


def make(**extra):
    return gym.make("netsim/SatelliteHandover-v0", **(KW | extra))


def test_check_env_gymnasium_and_sb3():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = make()
    check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)


def _rollout(env, seed, steps=12):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        mask = env.unwrapped.action_masks()
        action = int(rng.choice(np.flatnonzero(mask)))
        obs, r, term, trunc, _ = env.step(action)
        assert env.observation_space.contains(obs)
        out.append(np.append(obs, r))
        if term or trunc:
            break
    return out


def test_same_seed_same_trajectory():
    a, b = _rollout(make(), 5), _rollout(make(), 5)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    c = _rollout(make(), 6)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=False))


def test_episode_runs_to_touchdown_with_baselines():
    env = make(decision_interval_s=120)
    for name, policy in env.unwrapped.baseline_policies().items():
        obs, _ = env.reset(seed=2)
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, info = env.step(policy(obs))
            total += r
            done = term or trunc
        assert term and info["delivered_gb"] >= 0.0, name
        assert np.isfinite(total)


def test_vector_env():
    venv = gym.make_vec("netsim/SatelliteHandover-v0", num_envs=2, vectorization_mode="sync", **KW)
    obs, _ = venv.reset(seed=1)
    obs, r, term, trunc, _ = venv.step(np.zeros(2, dtype=int))
    assert obs.shape == (2, 6 * 9) and r.shape == (2,)
    venv.close()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"forecast": "ml"}, "forecaster_path"),
        ({"providers": [5]}, "providers"),
        ({"max_km": 100.0}, "max_km"),
        ({"candidates": 1}, "candidates"),
    ],
)
def test_bad_config(bad, message):
    with pytest.raises(ConfigError, match=message):
        make(**bad)


def test_ml_forecast_from_a_pickled_forecaster(tmp_path):
    import pickle

    from envs.satellite import _world
    from satellite.dataset import radar_features
    from satellite.predict import Forecaster, candidate_rows, shortlist

    env = make()
    env.reset(seed=8)
    u = env.unwrapped
    mask = shortlist(u.ls)
    mask[np.arange(mask.shape[0]) % 10 != 0] = False
    radar = radar_features(_world(u.config), u.traj, 0)
    X, _, _, target = candidate_rows(u.ls, u.traj, radar, mask, 30)
    path = tmp_path / "forecaster.pkl"
    path.write_bytes(pickle.dumps(Forecaster(30).fit(X, target)))
    ml = make(forecast="ml", forecaster_path=str(path))
    obs, _ = ml.reset(seed=8)
    obs, r, *_ = ml.step(0)
    assert ml.observation_space.contains(obs) and np.isfinite(r)


def test_render_modes():
    env = make(render_mode="rgb_array")
    env.reset(seed=1)
    env.step(0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    text = make(render_mode="ansi")
    text.reset(seed=1)
    text.step(0)
    assert "delivered_gb=" in text.render()


def test_issue17_preset_keeps_the_old_penalty_and_default_return_is_delivered_volume():
    old = make(preset="issue17")
    assert old.unwrapped.config.interruption_penalty == 0.05
    env = make(decision_interval_s=120)
    env.reset(seed=3)
    total, done = 0.0, False
    while not done:
        _, r, term, trunc, info = env.step(0)
        total += r
        done = term or trunc
    assert total == pytest.approx(info["delivered_gb"] * 8.0, rel=1e-9)


def _leo_world(starlink_max: int | None):
    from envs.satellite import _leo_world

    w = _leo_world().model_dump()
    w["providers"][0]["max_satellites"] = starlink_max
    return w | {"hours": 6.0}


@pytest.mark.parametrize(
    "starlink_max",
    [400, pytest.param(None, marks=pytest.mark.slow)],  # fast: 400 of the shell's satellites
)
def test_leo_env_offers_many_leo_candidates_and_runs_its_baselines(starlink_max):
    """netsim/SatelliteHandover-LEO-v0: only LEO providers (Starlink 53° shell, OneWeb),
    12 slots; every registered baseline runs an episode to touchdown."""
    from netsim.baselines import baselines_for

    kw = {"min_km": 150.0, "max_km": 320.0, "flight_pool": 1, "decision_interval_s": 60}
    env = gym.make("netsim/SatelliteHandover-LEO-v0", world=_leo_world(starlink_max), **kw)
    u = env.unwrapped
    obs, _ = env.reset(seed=0)
    assert obs.shape == (12 * 9,) and env.observation_space.contains(obs)
    assert np.all(u.ls.kind == 1) and len(np.unique(u.ls.sat)) > 20  # KIND_LEO
    usable = (u.ls.visible & ~u.ls.blocked).sum(axis=1)
    assert usable.max() >= 8  # many candidates in view at once
    for name, b in baselines_for("netsim/SatelliteHandover-LEO-v0", u).items():
        act = b.policy(u)
        obs, _ = env.reset(seed=0)
        done = False
        while not done:
            obs, r, term, trunc, info = env.step(act(obs))
            done = term or trunc
        assert term and info["delivered_gb"] >= 0.0, name


def test_leo_env_passes_both_checkers_on_400_satellites():
    """The contract test checks the full LEO shells under ``-m slow``; this is its fast twin."""
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make("netsim/SatelliteHandover-LEO-v0", world=_leo_world(400))
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)
