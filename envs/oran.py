"""O-RAN slicing in a contested cell: choose the RBG split of three slices every 100 ms.

## Description
A 10 MHz LTE cell (50 PRBs in 17 RBGs) serves UEs in three slices, 0 mMTC, 1 URLLC,
2 eMBB, with time-varying traffic: eMBB on/off sessions at 1-6 Mbit/s, URLLC bursts (an MMPP
jumping from 50 to 2,000 packets/s of 300 B, with a 10 ms delay budget), mMTC alarm storms.
Placements (20 or 50 m), shadowing and Rician block fading are drawn per episode; CQI, MCS
and TBS follow ns-3's LteAmc and 36.213; each slice is shared by fluid proportional fair
in 10 ms sub-steps. The model is :class:`ran.slicing.fluid.FluidCell` (its docstring has the
physics and sources); the default load puts the slices in real contention, and the best
split changes within an episode.

The TRACTOR-faithful setting (250 ms reports, one-RBG moves, TRACTOR's scores, phone-trace
traffic) is ``netsim/OranSlicing-TRACTOR-v0`` (:mod:`envs.oran_tractor`); its problem is nearly
degenerate (issue 13), which is why this env replaced it as ``OranSlicing-v0``.

## Action Space
``Discrete(120)``: the index of the split ``(mMTC, URLLC, eMBB)`` in
:data:`ran.slicing.fluid.SPLITS` (every split of 17 RBGs with >= 1 RBG per slice, in
lexicographic order), in force for the next 100 ms. ``action_masks()`` allows all of them.

## Observation Space
``Box(float32, 18)``, per slice (mMTC, URLLC, eMBB) in the last 100 ms period: RBGs in
force (1..15); offered and served load (Mbit/s, <= 100); mean backlog (kbit, <= 10^4);
score (0..1); mean spectral efficiency of its UEs' channels (bits per PRB per TTI, <= 800).
All but the RBGs are 0 before the first period.

## Rewards
The weighted mean (default equal weights) of the three slice scores of the period, each in
[0, 1]: eMBB and mMTC, the share of the slice's pending bits (backlog + arrivals) served;
URLLC, the share of its bits delivered within 10 ms (1 when nothing arrived).

## Starting State
Split ``rbgs`` (default (3, 5, 9)); placements, shadowing, fading and session states drawn
from the episode's stream; empty buffers.

## Episode End
Truncated after ``horizon`` simulated seconds (default 20 s, 200 steps); never terminated.

## Arguments
The :class:`ran.slicing.scenario.CellConfig` keys (``users``, ``placements``,
``snr_at_20m_db``, ``pathloss_exponent``, ``shadowing_db``, ``embb_rate_mbps``, ``embb_on_s``,
``embb_off_s``, ``urllc_rate_pps``, ``urllc_burst_s``, ``urllc_calm_s``, ``mmtc_rate_pps``,
``mmtc_storm_s``, ``mmtc_calm_s``, ``weights``), plus ``rbgs`` and ``horizon`` (s, a whole
number of 100 ms periods).

## Baselines
``expert`` (TRACTOR's fixed (3, 5, 9)), ``mmtc1`` (fixed (1, 8, 8)), ``proportional`` (RBGs
proportional to each slice's last-period PRB need), ``best_fixed`` (hindsight, all 120 fixed
splits), ``oracle`` (one-step clairvoyant: tries every split on a copy of the state with the
period's own random numbers), ``maskable_ppo`` (learned, 200k steps). TRACTOR's tabular Q
is not registered here: its state (user counts, split) does not see the traffic that this
problem turns on. ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")``
returns :class:`envs.oran_vector.OranSlicingVectorEnv`, N copies in one compiled call,
bit-identical to N of these envs.

``netsim bench netsim/OranSlicing-v0 --seeds 10`` (return per 200-step episode, 95 % CI;
normalised 0 = random, 1 = oracle): random 151.0 [145.6, 156.3]; mmtc1 168.7 (0.45); expert
175.5 (0.62); best fixed in hindsight (2, 3, 12) 181.4 (0.78); proportional 185.0
[178.6, 191.4] (0.87, the best heuristic); oracle 190.2 [184.4, 196.0]; maskable_ppo (200k
steps, one training seed) 179.7 [169.7, 189.6] (0.73). **The learned policy does not beat
the best heuristic**: paired, it trails proportional by 5.4 (95 % CI [0.4, 10.3]) and ties
with the best fixed split (-1.7, [-4.3, 0.9]).

## Version History
v0: the contested cell (was the TRACTOR setting, now ``netsim/OranSlicing-TRACTOR-v0``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from pydantic import Field, model_validator

from netsim import SimEnv, Simulation
from netsim.baselines import Baseline, fixed_candidates
from ran.slicing.fluid import DECISION_S, SPLITS, FluidCell, split_index
from ran.slicing.phy import N_RBG
from ran.slicing.scenario import CellConfig, Rbg

__all__ = ["OranSlicingConfig", "OranSlicingEnv", "baselines", "observe", "OBS_HIGH"]

#: observation upper bounds: RBGs, offered and served Mbit/s, backlog kbit, score, bits/PRB/TTI
OBS_HIGH = np.repeat([N_RBG - 2, 100.0, 100.0, 1e4, 1.0, 800.0], 3).astype(np.float32)
OBS_LOW = np.repeat([1.0, 0, 0, 0, 0, 0], 3).astype(np.float32)
_STREAM = "ran.cell"


class OranSlicingConfig(CellConfig):
    rbgs: tuple[Rbg, Rbg, Rbg] = Field(
        (3, 5, 9), description="initial RBGs of (mMTC, URLLC, eMBB), summing to 17"
    )
    horizon: float = Field(20.0, gt=0, le=3600, description="episode length (simulated s)")

    @model_validator(mode="after")
    def _periods(self):
        if sum(self.rbgs) != N_RBG:
            raise ValueError(f"rbgs: the split must sum to {N_RBG} RBGs (got {sum(self.rbgs)})")
        n = self.horizon / DECISION_S
        if abs(n - round(n)) > 1e-9 or round(n) < 1:
            raise ValueError(f"horizon: must be a whole number of {DECISION_S} s periods")
        return self

    @property
    def n_steps(self) -> int:
        return round(self.horizon / DECISION_S)


def observe(cell: FluidCell, out: np.ndarray) -> np.ndarray:
    """Observations of every copy of ``cell`` into ``out`` ``(n, 18)`` (float32)."""
    st = cell.stats
    scale = 1.0 / (DECISION_S * 1e6)
    cols = np.concatenate([cell.splits, st[:, 0] * scale, st[:, 1] * scale, st[:, 3] * 1e-3,
                           st[:, 5], st[:, 6]], axis=1)
    np.clip(cols, OBS_LOW, OBS_HIGH, out=cols)
    out[:] = cols
    return out


class OranSlicingEnv(SimEnv):
    config_cls = OranSlicingConfig
    decision_interval = DECISION_S

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        self.observation_space = gym.spaces.Box(OBS_LOW, OBS_HIGH, dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(SPLITS))
        self.cell = FluidCell(1, self.config.params())
        self._obs = np.zeros((1, OBS_HIGH.size), dtype=np.float32)

    def _setup(self, sim: Simulation, options) -> None:
        self.cell.reset_copy(0, sim.rng(_STREAM), self.config.rbgs)
        sim.every(DECISION_S, self.cell.step, [0], first=0.0)

    def action_masks(self) -> np.ndarray:
        """Every split is valid (for sb3-contrib MaskablePPO)."""
        return np.ones(len(SPLITS), dtype=bool)

    def _apply(self, action) -> None:
        a = int(action)
        if not 0 <= a < len(SPLITS):
            raise ValueError(f"action: must be in 0..{len(SPLITS) - 1} (got {action})")
        self.cell.splits[0] = SPLITS[a]

    def _observe(self) -> np.ndarray:
        return observe(self.cell, self._obs)[0].copy()

    def _reward(self) -> float:
        return float(self.cell.rewards[0])

    def _info(self) -> dict:
        st = self.cell.stats[0]
        info = {"rbgs": tuple(self.cell.splits[0].tolist())}
        for s, name in enumerate(("mmtc", "urllc", "embb")):
            info[f"score_{name}"] = float(st[5, s])
            info[f"lost_kbit_{name}"] = float(st[4, s] * 1e-3)
            if s != 1:  # queueing delay by Little's law: mean backlog / throughput
                thr = st[1, s] / DECISION_S
                info[f"delay_ms_{name}"] = float(1e3 * st[3, s] / thr) if thr > 0 else 0.0
        return info

    def baseline_policies(self):
        return {b.name: b.policy(self) for b in baselines() if b.kind == "heuristic"}


# -- baselines --------------------------------------------------------------------------------
def proportional_split(obs) -> int:
    """RBGs in proportion to each slice's PRB need in the last period, ``(offered + backlog)
    / (bits per PRB per TTI × 100 TTIs)``, at least one each (largest remainders)."""
    o = np.asarray(obs, dtype=float)
    offered_bits = o[3:6] * DECISION_S * 1e6
    backlog_bits = o[9:12] * 1e3
    bpp = np.maximum(o[15:18], 1.0)
    need = (offered_bits + backlog_bits) / (bpp * DECISION_S / 1e-3)
    if need.sum() <= 0:
        return split_index((3, 5, 9))
    x = N_RBG * need / need.sum()
    r = np.maximum(np.floor(x).astype(np.int64), 1)
    while r.sum() > N_RBG:
        r[np.argmax(r)] -= 1
    while r.sum() < N_RBG:
        r[np.argmax(x - r)] += 1
    return split_index(r)


def _oracle(env):
    """One-step clairvoyant: the split with the best reward in the coming period, found by
    running every split on a copy of the state with the period's own random numbers."""
    cell = env.cell
    return lambda _obs: int(np.argmax(cell.peek(0)))


def baselines() -> list[Baseline]:
    """The OranSlicing-v0 policies scored by ``netsim bench``."""
    fixed = {"-".join(map(str, s)): i for i, s in enumerate(SPLITS.tolist())}
    return [
        Baseline("expert", "heuristic", policy=lambda _e: (lambda _o: split_index((3, 5, 9))),
                 description="TRACTOR's expert split (3, 5, 9), fixed"),
        Baseline("mmtc1", "heuristic", policy=lambda _e: (lambda _o: split_index((1, 8, 8))),
                 description="mMTC at one RBG: (1, 8, 8), fixed"),
        Baseline("proportional", "heuristic", policy=lambda _e: proportional_split,
                 description="RBGs proportional to last period's PRB need per slice"),
        Baseline("best_fixed", "hindsight", candidates=fixed_candidates(fixed),
                 description="best fixed split in hindsight (all 120)"),
        Baseline("oracle", "oracle", policy=_oracle,
                 description="one-step clairvoyant on the same random numbers (120 splits)"),
        Baseline("maskable_ppo", "learned", algo="MaskablePPO", timesteps=200_000,
                 description="sb3-contrib MaskablePPO"),
    ]
