"""Inter-slice RBG policies of TRACTOR: the 7 moves, masks, expert, random, tabular Q.

Actions (``run_xapp_rb_only.py`` of genesys-neu/oran-resource-opt): 0 keep; then one RBG
moved 1 mMTC->URLLC, 2 mMTC->eMBB, 3 URLLC->mMTC, 4 URLLC->eMBB, 5 eMBB->mMTC,
6 eMBB->URLLC. A move that would leave its donor below 1 RBG is invalid (masked; it keeps
the split, as TRACTOR's policy does).

* expert: the fixed (3, 5, 9) split, approached one move per step;
* random (TRACTOR's "Original" policy): while the split sums to less than 17, add one RBG
  to the URLLC, eMBB and mMTC slices that have users; otherwise one of the 7 actions uniformly;
* tabular Q-learning over ``(n_mMTC, n_URLLC, n_eMBB, rb_mMTC, rb_URLLC)`` with TRACTOR's
  learning rate 0.1 and discount 0.99 (``policy_tabular_q.py``), ε-greedy over valid moves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .phy import N_RBG

__all__ = [
    "N_ACTIONS",
    "MOVES",
    "EXPERT_RBGS",
    "apply_action",
    "action_mask",
    "action_between",
    "expert_action",
    "tractor_random_rbgs",
    "TabularQ",
]

N_ACTIONS = 7
#: action -> (donor slice, receiver slice); slices 0 mMTC, 1 URLLC, 2 eMBB
MOVES = {1: (0, 1), 2: (0, 2), 3: (1, 0), 4: (1, 2), 5: (2, 0), 6: (2, 1)}
EXPERT_RBGS = (3, 5, 9)


def action_mask(rbgs: Sequence[int]) -> np.ndarray:
    """Valid actions for a split: keep, and every move whose donor has >= 2 RBGs."""
    mask = np.ones(N_ACTIONS, dtype=bool)
    for a, (donor, _) in MOVES.items():
        mask[a] = rbgs[donor] >= 2
    return mask


def apply_action(rbgs: Sequence[int], action: int) -> tuple[int, int, int]:
    """The split after ``action``; an invalid move leaves it unchanged."""
    a = int(action)
    if not 0 <= a < N_ACTIONS:
        raise ValueError(f"action: must be in 0..{N_ACTIONS - 1} (got {action})")
    out = [int(x) for x in rbgs]
    if a in MOVES and out[MOVES[a][0]] >= 2:
        donor, receiver = MOVES[a]
        out[donor] -= 1
        out[receiver] += 1
    return tuple(out)


def action_between(old: Sequence[int], new: Sequence[int]) -> int:
    """The action that turns split ``old`` into ``new`` (they differ by at most one move)."""
    for a in range(N_ACTIONS):
        if apply_action(old, a) == tuple(int(x) for x in new):
            return a
    raise ValueError(f"no single action turns {tuple(old)} into {tuple(new)}")


def expert_action(rbgs: Sequence[int], target: Sequence[int] = EXPERT_RBGS) -> int:
    """One move towards ``target``: from the slice with the largest surplus to the one with
    the largest deficit (0 at the target)."""
    diff = np.asarray(rbgs) - np.asarray(target)
    if not diff.any():
        return 0
    move = (int(np.argmax(diff)), int(np.argmin(diff)))
    return next(a for a, m in MOVES.items() if m == move)


def tractor_random_rbgs(
    users: Sequence[int], rbgs: Sequence[int], rng: np.random.Generator
) -> tuple[int, int, int]:
    """TRACTOR's random policy: empty slices get 1 RBG, a split below 17 is topped up one
    RBG per slice with users (URLLC, eMBB, then mMTC); otherwise a uniform random action."""
    r = [max(int(x), 1) for x in rbgs]
    missing = N_RBG - sum(r)
    if missing <= 0:
        return apply_action(r, int(rng.integers(N_ACTIONS)))
    for s in (1, 2, 0):
        if users[s] > 0 and missing > 0:
            r[s] += 1
            missing -= 1
    return tuple(r)


class TabularQ:
    """Tabular Q-learning over TRACTOR's state ``(n_mMTC, n_URLLC, n_eMBB, rb_mMTC,
    rb_URLLC)``: ``Q ← (1-α)Q + α(r + γ max_a' Q(s', a'))`` with α = 0.1, γ = 0.99."""

    def __init__(self, max_users: int = 10, alpha: float = 0.1, gamma: float = 0.99):
        self.q = np.zeros((max_users + 1,) * 3 + (N_RBG, N_RBG, N_ACTIONS))
        self.visits = np.zeros(self.q.shape, dtype=np.int64)
        self.alpha = alpha
        self.gamma = gamma

    @staticmethod
    def state(obs) -> tuple[int, int, int, int, int]:
        """State index from an observation ``[n_mMTC, n_URLLC, n_eMBB, rb_mMTC, rb_URLLC, ...]``."""
        o = np.asarray(obs)
        return (int(o[0]), int(o[1]), int(o[2]), int(o[3]) - 1, int(o[4]) - 1)

    def greedy(self, obs, mask: np.ndarray) -> int:
        """The best valid action (ties: lowest index)."""
        q = np.where(mask, self.q[self.state(obs)], -np.inf)
        return int(np.argmax(q))

    def update(self, obs, action: int, reward: float, next_obs, next_mask, done: bool) -> None:
        s, s2 = self.state(obs), self.state(next_obs)
        target = reward
        if not done:
            target += self.gamma * float(np.max(np.where(next_mask, self.q[s2], -np.inf)))
        self.q[s + (action,)] += self.alpha * (target - self.q[s + (action,)])
        self.visits[s + (action,)] += 1

    def train(
        self,
        make_env: Callable[[], object],
        episodes: int,
        seed: int,
        eps_start: float = 1.0,
        eps_end: float = 0.05,
        progress: Callable[[float], None] | None = None,
    ) -> list[float]:
        """ε-greedy Q-learning (ε decays linearly over the episodes) on envs exposing
        ``action_masks()``; returns the return of every episode."""
        env = make_env()
        rng = np.random.default_rng(seed)
        returns = []
        for ep in range(episodes):
            eps = eps_start + (eps_end - eps_start) * ep / max(episodes - 1, 1)
            obs, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
            mask = env.unwrapped.action_masks()
            total, done = 0.0, False
            while not done:
                if rng.random() < eps:
                    action = int(rng.choice(np.flatnonzero(mask)))
                else:
                    action = self.greedy(obs, mask)
                nxt, reward, term, trunc, _ = env.step(action)
                nmask = env.unwrapped.action_masks()
                done = term or trunc
                self.update(obs, action, reward, nxt, nmask, term)
                obs, mask, total = nxt, nmask, total + reward
            returns.append(total)
            if progress is not None:
                progress((ep + 1) / episodes)
        env.close()
        return returns
