"""O-RAN slicing as TRACTOR poses it: move RBGs between three slices every KPM report.

``netsim/OranSlicing-TRACTOR-v0``: the TRACTOR-faithful single-cell preset. **Its decision
problem is nearly degenerate** (issue 13): TRACTOR scores an idle mMTC UE ``1/slice_prb``, so
every good fixed split puts mMTC at 1 RBG, the URLLC/eMBB split barely matters (0.6654-0.6662
over URLLC 3-10 RBGs) and the cell is underloaded; the one-line rule "expert with target
(1, 8, 8)" scored 0.613 against a learned 0.616. Use it to reproduce TRACTOR; use
``netsim/OranSlicing-v0`` (:mod:`envs.oran`) for a contested problem.

## Description
A 10 MHz gNB (50 PRBs in 17 RBGs) serves UEs in three slices with fixed ids: 0 mMTC,
1 URLLC, 2 eMBB, each scheduled per TTI by its own intra-slice scheduler (RR, WF, PF).
Every 250 ms the gNB reports the Colosseum KPMs of each UE and the agent may move one RBG
from one slice to another. Traffic is the TRACTOR phone traces (or the COMMAG parametric
mix). The model is :class:`ran.slicing.gnb.SlicingGnb`; one step computes its 250 TTIs.

## Action Space
``Discrete(7)``: 0 keep; 1 mMTC→URLLC, 2 mMTC→eMBB, 3 URLLC→mMTC, 4 URLLC→eMBB,
5 eMBB→mMTC, 6 eMBB→URLLC (one RBG). A move that would leave its donor with no RBG is
invalid: :meth:`OranSlicingTractorEnv.action_masks` masks it (sb3-contrib ``MaskablePPO``) and,
if taken anyway, it keeps the split.

## Observation Space
``Box(float32)``: ``[n_mMTC, n_URLLC, n_eMBB, rb_mMTC, rb_URLLC, rb_eMBB]`` (users 0..10,
RBGs 1..15). With ``kpm_obs: true``, 12 more entries: per slice (mMTC, URLLC, eMBB) the
mean over its UEs of the last report's downlink bit rate (Mbps, ≤ 40), buffer (kB, ≤ 10⁴),
requested and granted PRBs (per TTI, ≤ 51), each clipped to its bound; all 0 before the
first report.

## Rewards
The mean over all UEs of TRACTOR's per-UE performance score in the report that follows
the action (:func:`ran.slicing.scores.ue_scores`): eMBB ``clip((1.5 + tx/4 - buf·8/1e6)/3,
0, 1)``; URLLC 1 for an empty buffer, 0 if nothing was sent, else
``max(0, 1 - buf·8/1e6/tx)``; mMTC ``1/slice_prb`` if nothing was requested, else
``min(1, granted/requested)``. In [0, 1].

## Starting State
Users per slice from ``users`` (or drawn from ``user_combos`` each episode); the RBG split
``rbgs``, or drawn uniformly among valid splits when ``rbgs`` is null; empty buffers.

## Episode End
Truncated at ``horizon`` simulated seconds (``horizon / 0.25`` steps); never terminated.

## Arguments
``users`` (3 counts 0..10), ``user_combos`` (list of them, or null), ``rbgs`` (split
summing to 17, or null = random), ``schedulers`` (rr/wf/pf per slice), ``traffic``
(trace/commag), ``embb_rate_mbps``, ``distance`` (close/medium/far/mixed), ``mobility``
(static/mobile), ``snr_at_20m_db``, ``pathloss_exponent``, ``kpm_obs``, ``horizon`` (s).

## Baselines
``expert``: towards the fixed (3, 5, 9) split; ``mmtc1``: towards (1, 8, 8) (mMTC at one
RBG); ``best_fixed``: the best target split in hindsight over all 120; ``tractor_random``:
TRACTOR's random policy (one of the 7 actions uniformly); ``keep``: never moves;
``maskable_ppo``: learned, 100k steps. No clairvoyant oracle: the SimPy gNB cannot be cloned
mid-episode; the hindsight split is the upper reference.

## Version History
v0: the TRACTOR setting; was ``netsim/OranSlicing-v0`` until that id became the contested
cell. The CQI->MCS map now follows ns-3 exactly and PF averages per TTI (issue 13).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from pydantic import Field, model_validator

from netsim import SimEnv, Simulation
from netsim.baselines import Baseline
from ran.slicing.fluid import SPLITS
from ran.slicing.gnb import SlicingGnb
from ran.slicing.kpm import REPORT_S
from ran.slicing.phy import N_RBG
from ran.slicing.policies import (
    MOVES,
    N_ACTIONS,
    action_between,
    action_mask,
    apply_action,
    expert_action,
    tractor_random_rbgs,
)
from ran.slicing.scenario import MAX_UES_PER_SLICE, RanConfig, Rbg, UserCount, build_gnb
from ran.slicing.scores import slice_means, ue_scores

__all__ = ["OranSlicingTractorConfig", "OranSlicingTractorEnv", "baselines"]

_KPM_OBS = (
    "tx_brate downlink [Mbps]",
    "dl_buffer [bytes]",
    "sum_requested_prbs",
    "sum_granted_prbs",
)
_KPM_SCALE = np.array([1.0, 1e-3, 1 / 250, 1 / 250])  # Mbps, kB, PRBs per TTI
_KPM_HIGH = np.array([40.0, 1e4, 51.0, 51.0])  # observations are clipped to these


class OranSlicingTractorConfig(RanConfig):
    rbgs: tuple[Rbg, Rbg, Rbg] | None = Field(
        None, description="initial RBGs of (mMTC, URLLC, eMBB) summing to 17; null = random"
    )
    user_combos: list[tuple[UserCount, UserCount, UserCount]] | None = Field(
        None, min_length=1, description="draw the users of each episode from these"
    )
    kpm_obs: bool = Field(False, description="add per-slice KPM aggregates to the observation")
    horizon: float = Field(30.0, gt=0, le=3600, description="episode length (simulated s)")

    @model_validator(mode="after")
    def _combos(self):
        for c in self.user_combos or ():
            if sum(c) < 1:
                raise ValueError("user_combos: every combination needs at least one UE")
        return self


class OranSlicingTractorEnv(SimEnv):
    config_cls = OranSlicingTractorConfig
    decision_interval = REPORT_S

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        n_obs = 6 + (12 if self.config.kpm_obs else 0)
        high = np.concatenate([[MAX_UES_PER_SLICE] * 3, [N_RBG - 2] * 3, np.tile(_KPM_HIGH, 3)])
        high = high[:n_obs].astype(np.float32)
        low = np.zeros(n_obs, dtype=np.float32)
        low[3:6] = 1
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self.gnb: SlicingGnb | None = None
        self.users = tuple(self.config.users)
        self._scored = None
        self._ue_scores = np.zeros(0)
        self._slice_scores = np.full(3, np.nan)

    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        if c.user_combos:
            pick = sim.rng("env.users").integers(len(c.user_combos))
            self.users = tuple(c.user_combos[int(pick)])
        else:
            self.users = tuple(c.users)
        self.gnb = build_gnb(sim, c, users=self.users)

    def action_masks(self) -> np.ndarray:
        """Valid actions in the current split (for sb3-contrib MaskablePPO)."""
        rbgs = self.gnb.rbgs if self.gnb is not None else self.config.rbgs or (1, 1, N_RBG - 2)
        return action_mask(rbgs)

    def _apply(self, action) -> None:
        rbgs = apply_action(self.gnb.split, int(action))
        if rbgs != self.gnb.split:
            self.gnb.set_rbgs(rbgs)

    def _observe(self) -> np.ndarray:
        g = self.gnb
        head = np.array((*g.users_per_slice().tolist(), *g.split), dtype=np.float32)
        if not self.config.kpm_obs:
            return head
        agg = np.zeros((3, len(_KPM_OBS)))
        if g.report is not None:
            cols = np.minimum(np.stack([g.report[k] for k in _KPM_OBS], axis=1) * _KPM_SCALE,
                              _KPM_HIGH)
            for s in range(3):
                members = g.slice_of == s
                if members.any():
                    agg[s] = cols[members].mean(axis=0)
        return np.concatenate([head, agg.ravel().astype(np.float32)])

    def _scores(self) -> np.ndarray:
        """Per-UE scores of the last report and their mean per slice (computed once per
        report)."""
        g = self.gnb
        if self._scored is not g.report:
            self._ue_scores = ue_scores(g.report, g.slice_of)
            self._slice_scores = slice_means(self._ue_scores, g.slice_of)
            self._scored = g.report
        return self._ue_scores

    def _reward(self) -> float:
        s = self._scores()
        return float(s.sum() / s.size)

    def _info(self) -> dict:
        g = self.gnb
        info = {"rbgs": g.split, "users": self.users}
        if g.report is not None:
            self._scores()
            for name, v in zip(("mmtc", "urllc", "embb"), self._slice_scores.tolist(), strict=True):
                info[f"score_{name}"] = v
        return info

    def baseline_policies(self):
        def expert(obs):
            return expert_action(np.asarray(obs[3:6]).astype(int))

        def random(obs):
            rng = self.sim.rng("baseline.random")
            rbgs = tuple(obs[3:6].astype(int).tolist())
            if sum(rbgs) == N_RBG:  # TRACTOR's random move; an invalid one keeps the split
                a = int(rng.integers(N_ACTIONS))
                return a if a == 0 or rbgs[MOVES[a][0]] >= 2 else 0
            users = tuple(int(x) for x in obs[:3])
            return action_between(rbgs, tractor_random_rbgs(users, rbgs, rng))

        return {"expert": expert, "random": random, "keep": lambda obs: 0}


def _towards(target):
    """A policy factory: one move per step towards the split ``target``."""
    target = tuple(int(x) for x in target)
    return lambda _env: (lambda obs: expert_action(np.asarray(obs[3:6]).astype(int), target))


def baselines() -> list[Baseline]:
    """The OranSlicing-TRACTOR-v0 policies scored by ``netsim bench``."""
    return [
        Baseline("expert", "heuristic", policy=_towards((3, 5, 9)),
                 description="towards TRACTOR's expert split (3, 5, 9)"),
        Baseline("mmtc1", "heuristic", policy=_towards((1, 8, 8)),
                 description="towards (1, 8, 8): mMTC at one RBG (the score quirk)"),
        Baseline("tractor_random", "heuristic",
                 policy=lambda env: env.baseline_policies()["random"],
                 description="TRACTOR's random policy"),
        Baseline("best_fixed", "hindsight",
                 candidates={"-".join(map(str, s)): _towards(s) for s in SPLITS.tolist()},
                 description="best target split in hindsight (all 120)"),
        Baseline("maskable_ppo", "learned", algo="MaskablePPO", timesteps=100_000,
                 description="sb3-contrib MaskablePPO"),
    ]
