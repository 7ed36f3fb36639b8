"""Entanglement distribution over a repeater chain: when to swap, when to discard.

## Description
A linear chain of ``n_links`` heralded links (``n_links − 1`` repeaters) generates entangled
pairs on the engine (:mod:`quantum.chain`): attempts last ``L/c + local_time_s`` and succeed
with the midpoint or single-click probability; stored pairs decay (depolarising or T1/T2);
swap outcomes travel to the chain ends over the fibre. Every ``decision_interval_s`` the agent
tells each repeater to wait, swap its oldest left and right pairs, or discard its oldest pair
(a learned cutoff). A repeater only swaps halves whose partner it knows (swap outcomes travel
as messages). End-to-end pairs are delivered automatically when the last swap outcome reaches
both ends.

## Action Space
``MultiDiscrete([3] * (n_links − 1))``: per repeater 0 = wait, 1 = swap (every ready left/right
couple, oldest first), 2 = discard the oldest pair held there.

## Observation Space
``Box(0, 1, shape=(8·(n_links − 1),), float32)``: per repeater and side (left, right) of the
oldest pair it may swap now: present (0/1), age / ``age_scale_s`` (clipped to 1), fidelity
mapped from [1/4, 1] to [0, 1], and span (nodes covered / n_links).

## Rewards
End-to-end pairs delivered with fidelity ≥ ``f_min`` during the step, per millisecond of
simulated time (so the mean reward is the useful throughput in pairs/ms).

## Starting State
Empty memories at t = 0; every link starts attempting.

## Episode End
Truncated at ``horizon`` simulated seconds; never terminated.

## Arguments
Every key of :class:`quantum.chain.ChainConfig` (here ``n_links`` = 3 links of 10 km,
``detector_efficiency`` = 0.5, ``link_fidelity`` = 0.97, ``coherence_time_s`` = 10 ms,
``f_min`` = 0.75 by default, so that pairs which waited too long are useless) plus
``horizon`` (s), ``decision_interval_s``
(s), ``age_scale_s`` (s, observation scale) and ``baseline_cutoff_s`` (s, for the cutoff
baseline). ``cutoff_s`` (the model's own automatic cutoff) defaults to off here.

## Baselines
``swap_asap`` (always swap, never discard), ``swap_asap_cutoff`` (swap, but discard pairs
older than ``baseline_cutoff_s``), ``best_cutoff`` (hindsight: the best fixed cutoff among
0.25-8 ms), ``herald_bound`` (oracle, a pathwise upper bound on the same random numbers: no
policy delivers more pairs than the fewest heralds any link could make by the horizon),
``ppo`` (learned, 100k steps), ``random``. See :func:`baselines`.

## Version History
v0: initial version.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from pydantic import Field, model_validator

from netsim import SimEnv, Simulation
from netsim.baselines import Baseline, env_policy
from netsim.rng import stream
from quantum.chain import ChainConfig, build_chain
from quantum.protocols import RepeaterChain

__all__ = ["EntanglementChainConfig", "EntanglementChainEnv"]

_FEATURES = 8


class EntanglementChainConfig(ChainConfig):
    n_links: int = Field(3, ge=2, le=16, description="links N (N − 1 repeaters decide)")
    detector_efficiency: float = Field(0.5, gt=0, le=1, description="midpoint detector η_d")
    link_fidelity: float = Field(0.97, ge=0.25, le=1, description="F0 of a fresh pair")
    coherence_time_s: float = Field(1e-2, gt=0, description="depolarising τ per qubit (s)")
    f_min: float = Field(0.75, ge=0, le=1, description="delivered fidelity that counts")
    horizon: float = Field(0.1, gt=0, description="episode length (simulated s)")
    decision_interval_s: float = Field(2e-4, gt=0, description="time between decisions (s)")
    age_scale_s: float = Field(2e-2, gt=0, description="ages are observed as age/age_scale_s")
    baseline_cutoff_s: float = Field(1e-3, gt=0, description="cutoff of the cutoff baseline")

    @model_validator(mode="after")
    def _epochs(self):
        if self.decision_interval_s > self.horizon:
            raise ValueError("decision_interval_s must be <= horizon")
        if self.baseline_cutoff_s >= self.age_scale_s:
            raise ValueError("baseline_cutoff_s must be < age_scale_s (ages are clipped at 1)")
        return self


class EntanglementChainEnv(SimEnv):
    config_cls = EntanglementChainConfig

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        c = self.config
        self.decision_interval = c.decision_interval_s
        self.n_rep = c.n_links - 1
        self.action_space = gym.spaces.MultiDiscrete([3] * self.n_rep)
        self.observation_space = gym.spaces.Box(
            0.0, 1.0, shape=(_FEATURES * self.n_rep,), dtype=np.float32
        )
        self.chain: RepeaterChain | None = None

    def _setup(self, sim: Simulation, options) -> None:
        self.chain = build_chain(sim, self.config, auto_swap=False)

    def _apply(self, action) -> None:
        act = np.asarray(action, dtype=np.int64).reshape(self.n_rep)
        chain = self.chain
        for m, a in enumerate(act, start=1):
            if a == 1:
                swapped = True
                while swapped:  # swap every pair of links ready at repeater m
                    swapped = chain.swap_at(m)
            elif a == 2:
                chain.discard_at(m)

    def _side(self, pairs, usable, now: float, out: np.ndarray) -> None:
        chain = self.chain
        for p in pairs:
            if usable(p, now):
                out[0] = 1.0
                out[1] = min((now - p.t_born) / self.config.age_scale_s, 1.0)
                out[2] = min(max((chain.fidelity(p) - 0.25) / 0.75, 0.0), 1.0)
                out[3] = (p.b - p.a) / self.config.n_links
                return

    def _observe(self) -> np.ndarray:
        obs = np.zeros((self.n_rep, _FEATURES), dtype=np.float64)
        now = self.sim.now
        for m in range(1, self.n_rep + 1):
            node = self.chain.nodes[m]
            self._side(node.left, self.chain.usable_left, now, obs[m - 1, :4])
            self._side(node.right, self.chain.usable_right, now, obs[m - 1, 4:])
        return obs.reshape(-1).astype(np.float32)

    def _reward_total(self) -> float:
        return self.chain.delivered_ok / (self.decision_interval * 1e3)

    def _info(self) -> dict:
        ch = self.chain
        t = self.sim.now
        return {
            "delivered": ch.delivered,
            "delivered_ok": ch.delivered_ok,
            "discarded": ch.discarded,
            "mean_fidelity": float(np.mean(ch.delivery_fidelities)) if ch.delivered else 0.0,
            "throughput_hz": ch.delivered_ok / t if t > 0 else 0.0,
        }

    def cutoff_policy(self, cutoff_s: float):
        """Swap every ready couple, discard a repeater's oldest pair once older than
        ``cutoff_s`` (seen through the observation's age feature)."""
        n = self.n_rep
        limit = cutoff_s / self.config.age_scale_s

        def act(obs):
            o = np.asarray(obs).reshape(n, _FEATURES)
            stale = ((o[:, 0] > 0) & (o[:, 1] > limit)) | ((o[:, 4] > 0) & (o[:, 5] > limit))
            return np.where(stale, 2, 1).astype(np.int64)

        return act

    def baseline_policies(self):
        n = self.n_rep
        return {
            "swap_asap": lambda obs: np.ones(n, dtype=np.int64),
            "swap_asap_cutoff": self.cutoff_policy(self.config.baseline_cutoff_s),
            **super().baseline_policies(),
        }

    def link_draws(self, index: int, n: int) -> np.ndarray:
        """The first ``n`` attempt counts to success link ``index`` draws this episode
        (replayed from its stream ``quantum.link.<index>``, as :class:`quantum.hardware.Link`
        draws them)."""
        link = self.chain.links[index]
        u = stream(self.sim.seed, f"quantum.link.{index}").random(n)
        if link.p >= 1.0:
            return np.ones(n, dtype=np.int64)
        return 1 + np.floor(np.log1p(-u) / np.log1p(-link.p)).astype(np.int64)

    def herald_bound(self) -> float:
        """Pathwise upper bound on this episode's return (call right after ``reset``).

        A delivered pair uses one herald of every link. A link runs at most
        ``m = max_link_pairs`` attempt sequences at once, each drawing its attempt count K
        from the link's stream at its start, so by the horizon H at most ``B = m·H/t_att``
        attempt slots were spent, at most ``m`` draws are still in flight, and the heralded
        draws are among the first ``c + m`` ones. Hence a link heralds at most the largest c
        whose c smallest draws among its first ``B + m`` fit in B (for m = 1 the heralds
        are a prefix: ``#{j : K_1 + ... + K_j ≤ B}``), and
        ``delivered_ok ≤ min_i heralds_i``."""
        m = self.config.max_link_pairs
        counts = []
        for link in self.chain.links:
            budget = int(np.floor(self.config.horizon / link.attempt_s + 1e-9))
            if m == 1:
                n = 64
                while True:
                    cum = np.cumsum(self.link_draws(link.index, n))
                    if cum[-1] > budget:
                        break
                    n *= 2
                counts.append(int(np.count_nonzero(cum <= budget)))
            else:
                k = np.sort(self.link_draws(link.index, m * budget + m))
                counts.append(int(np.count_nonzero(np.cumsum(k) <= m * budget)))
        return min(counts) / (self.decision_interval * 1e3)


def _herald_bound(env, seed: int) -> float:
    env.reset(seed=seed)
    return env.herald_bound()


def baselines() -> list[Baseline]:
    """The EntanglementChain-v0 policies scored by ``netsim bench``."""
    cutoffs_ms = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
    return [
        Baseline("swap_asap", "heuristic", policy=env_policy("swap_asap"),
                 description="swap every ready couple, never discard"),
        Baseline("swap_asap_cutoff", "heuristic", policy=env_policy("swap_asap_cutoff"),
                 description="swap ASAP, discard pairs older than baseline_cutoff_s"),
        Baseline("best_cutoff", "hindsight",
                 candidates={f"cutoff_{c}ms": (lambda env, c=c: env.cutoff_policy(c * 1e-3))
                             for c in cutoffs_ms},
                 description="swap ASAP with the best fixed cutoff in hindsight"),
        Baseline("herald_bound", "oracle", episode=_herald_bound,
                 description="pathwise bound: min over links of heralds possible by the horizon"),
        Baseline("ppo", "learned", algo="PPO", timesteps=100_000),
    ]
