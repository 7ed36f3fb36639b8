"""TRACTOR's inter-slice policies: moves, masks, expert, random, tabular Q-learning."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from netsim.evaluate import evaluate_policies
from ran.slicing.policies import (
    EXPERT_RBGS,
    MOVES,
    TabularQ,
    action_between,
    action_mask,
    apply_action,
    expert_action,
    tractor_random_rbgs,
)


def test_moves_match_tractor_action_list():
    """run_xapp_rb_only.py: 1 mMTC->URLLC, 2 mMTC->eMBB, 3 URLLC->mMTC, 4 URLLC->eMBB,
    5 eMBB->mMTC, 6 eMBB->URLLC."""
    assert MOVES == {1: (0, 1), 2: (0, 2), 3: (1, 0), 4: (1, 2), 5: (2, 0), 6: (2, 1)}
    assert apply_action((3, 5, 9), 0) == (3, 5, 9)
    assert apply_action((3, 5, 9), 2) == (2, 5, 10)
    assert apply_action((3, 5, 9), 6) == (3, 6, 8)
    assert apply_action((1, 5, 11), 1) == (1, 5, 11)  # invalid: keeps the split
    with pytest.raises(ValueError, match="action"):
        apply_action((3, 5, 9), 7)


def test_masks_and_inverse():
    assert action_mask((1, 1, 15)).tolist() == [True, False, False, False, False, True, True]
    assert action_mask((2, 2, 13)).all()
    for a in range(7):
        assert action_between((4, 4, 9), apply_action((4, 4, 9), a)) == a
    with pytest.raises(ValueError):
        action_between((4, 4, 9), (1, 1, 15))


def test_expert_walks_to_its_split():
    rbgs = (15, 1, 1)
    for _ in range(12):
        rbgs = apply_action(rbgs, expert_action(rbgs))
    assert rbgs == EXPERT_RBGS and expert_action(rbgs) == 0


def test_tractor_random_tops_up_then_moves():
    rng = np.random.default_rng(0)
    # slices with users get one RBG each, URLLC first, while the total is below 17
    assert tractor_random_rbgs((2, 1, 3), (3, 5, 7), rng) == (3, 6, 8)
    assert tractor_random_rbgs((2, 1, 3), (3, 5, 6), rng) == (4, 6, 7)
    assert tractor_random_rbgs((0, 1, 3), (3, 4, 7), rng) == (3, 5, 8)  # one step tops up once
    # an empty slice gets 1 RBG; the split is then full, so a random move follows
    assert tractor_random_rbgs((1, 1, 1), (0, 8, 8), rng) in {
        apply_action((1, 8, 8), a) for a in range(7)
    }
    seen = {action_between((5, 6, 6), tractor_random_rbgs((1, 1, 1), (5, 6, 6), rng))
            for _ in range(200)}
    assert seen == set(range(7))  # uniform over the 7 actions at a full split


def test_q_update_is_tractors_rule():
    agent = TabularQ()
    obs = np.array([1, 2, 3, 3, 5, 9])
    nxt = np.array([1, 2, 3, 2, 5, 10])
    agent.q[1, 2, 3, 1, 4, 0] = 2.0  # best next action value
    agent.update(obs, 2, 0.5, nxt, np.ones(7, bool), False)
    assert agent.q[1, 2, 3, 2, 4, 2] == pytest.approx(0.1 * (0.5 + 0.99 * 2.0))
    agent.update(obs, 2, 0.5, nxt, np.ones(7, bool), True)  # terminal: no bootstrap
    q = 0.1 * (0.5 + 0.99 * 2.0)
    assert agent.q[1, 2, 3, 2, 4, 2] == pytest.approx(q + 0.1 * (0.5 - q))
    mask = np.array([True, False, True, True, True, True, True])
    assert agent.greedy(obs, mask) == 2


def test_short_tabular_training_beats_random():
    """A few minutes of simulated experience on one user mix, fixed seeds (common random
    numbers for the evaluation)."""
    cfg = {"users": [1, 1, 2], "traffic": "commag", "horizon": 5.0}
    agent = TabularQ()
    agent.train(lambda: gym.make("netsim/OranSlicing-TRACTOR-v0", config=cfg), episodes=40, seed=0)

    def make_env():
        return gym.make("netsim/OranSlicing-TRACTOR-v0", config=cfg)

    ev = evaluate_policies(
        make_env,
        {"tabular": lambda e: (lambda o: agent.greedy(o, e.unwrapped.action_masks())),
         "random": lambda e: e.unwrapped.baseline_policies()["random"]},
        episodes=6, seed=1,
    )
    means = ev.groupby("policy")["return"].mean()
    assert means["tabular"] > means["random"]
