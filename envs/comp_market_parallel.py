"""PettingZoo ``ParallelEnv``: UEs bid for spare CoMP PRBs while they are in trouble.

## Description
A small Manhattan small-cell city (:mod:`ran.comp`). Every UE is an agent; in each
allocation epoch (``market_interval_s``) the UEs in trouble (A3 pending, handover executing,
T310 running, or primary rate below the floor) are *active*: their actions are bids on the
K BSs of their CoMP cluster, and each BS splits its spare PRBs in proportion to the bids
(trading post with reserve). The bilateral-market dynamics of ``ran.comp.market`` are
replaced by the agents' own bids; the built-in price-anticipating equilibrium is the
``best_response`` baseline.

## Action Space
Per agent ``Box(0, 1, (K,))``: fractions of the agent's wallet bid on each cluster BS
(strongest RSRP first); if they sum above 1 they are scaled down to spend exactly the
wallet. Ignored while the agent is not active.

## Observation Space
Per agent ``Box(0, 1, (3 + 4·K,))``: active flag, primary rate / (10·demand), wallet /
(``budget_cap``·``budget``), then per
cluster BS the value of one PRB / (PRB bandwidth·max spectral efficiency), spare PRBs /
``n_prbs``, the last price / ``price_scale`` and the agent's last share of that BS's spare
PRBs (all clipped to [0, 1]).

## Rewards
Per agent and epoch, normalised by ``demand_mbps``: the utility of the PRBs it obtained
(``a_i·min(Σ_j v_ij·x_ij, D_i)``, its application's capped utility,
:mod:`ran.comp.apps`) minus ``money_value`` times what it spent; 0 while inactive.
Money matters: budgets carry over (``budget_carry``, default on), so a UE earns ``budget``
tokens every epoch, idle or not, keeps what it does not spend (up to ``budget_cap`` epochs of
income) and a token spent now is missing at the next corner. ``info[agent]`` holds ``active`` (in
trouble now) and ``in_market`` (its bids counted in this step's epoch).

## Starting State
UEs placed uniformly on the streets; shadowing and blockage drawn from their stationary laws.

## Episode End
All agents are truncated at ``horizon`` simulated seconds; no termination.

## Arguments
Every key of :class:`ran.comp.scenario.CompConfig` (defaults: 3x3 blocks, 6 UEs, all
driving, 10 s, ``money_value`` 0.1, ``budget`` 1, ``budget_carry`` on) plus ``price_scale``
(tokens per PRB).

## Baselines
``best_response`` (bids of the price-anticipating Nash equilibrium computed by
``run_market`` on the same instance, per agent), ``uniform`` (budget split evenly),
``random``; see :func:`baseline_actions`.

## Version History
v0: initial version. v0 (issue 14): rewards normalised by the demand, wallets carried over
between epochs (and observed), clusters by RSRP.
"""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv
from pydantic import Field

from netsim import Simulation, validate
from netsim.rng import derive_seed
from ran.comp.capped import run_capped_market
from ran.comp.market import MarketInstance, allocate, run_market, utilities
from ran.comp.model import CompNetwork, PolicyOutcome
from ran.comp.scenario import CompConfig

__all__ = ["CompMarketParallelConfig", "CompMarketParallelEnv", "parallel_env", "baseline_actions"]


class CompMarketParallelConfig(CompConfig):
    blocks_x: int = Field(3, ge=1, le=50)
    blocks_y: int = Field(3, ge=1, le=50)
    n_ues: int = Field(6, ge=1, le=1000)
    vehicle_fraction: float = Field(1.0, ge=0, le=1)
    horizon: float = Field(10.0, gt=0)
    money_value: float = Field(0.1, ge=0)
    budget_carry: bool = Field(True, description="UEs keep unspent tokens across epochs")
    policies: list[str] = Field(default_factory=lambda: ["no_comp"], min_length=1)
    price_scale: float = Field(0.2, gt=0, description="tokens per PRB mapped to observation 1")


class CompMarketParallelEnv(ParallelEnv):
    metadata = {
        "name": "comp_market_parallel_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": True,
    }

    def __init__(self, config=None, render_mode: str | None = None, **kwargs):
        self.config = validate(CompMarketParallelConfig, config, **kwargs)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode: unknown mode {render_mode!r} (allowed: ansi)")
        self.render_mode = render_mode
        self.possible_agents = [f"ue_{i}" for i in range(self.config.n_ues)]
        self.agents: list[str] = []
        k = self.config.cluster_bs
        self._obs_space = gym.spaces.Box(0.0, 1.0, (3 + 4 * k,), dtype=np.float32)
        self._act_space = gym.spaces.Box(0.0, 1.0, (k,), dtype=np.float32)
        self.net: CompNetwork | None = None
        self.sim: Simulation | None = None
        self._actions = np.zeros((self.config.n_ues, k))
        self._rewards = np.zeros(self.config.n_ues)
        self._last_share = np.zeros((self.config.n_ues, k))
        self._seed_rng = np.random.default_rng()

    @functools.cache  # noqa: B019 - one space object per agent, as the API wants
    def observation_space(self, agent):
        return self._obs_space

    @functools.cache  # noqa: B019
    def action_space(self, agent):
        return self._act_space

    # -- the agents' market, plugged into the model as an allocation policy -------------------
    def _agents_policy(self, inst: MarketInstance, idx: np.ndarray) -> PolicyOutcome:
        frac = np.clip(self._actions[idx], 0.0, 1.0)
        total = frac.sum(axis=1, keepdims=True)
        frac = np.where(total > 1.0, frac / np.where(total > 0, total, 1.0), frac)
        bids = frac * inst.budget[:, None]
        alloc = allocate(inst, bids)
        payoff = utilities(inst, alloc.prbs) - inst.money_value * bids.sum(axis=1)
        self._rewards[idx] += payoff / self.config.demand_mbps
        spare = inst.spare[inst.cluster]
        self._last_share[:] = 0.0
        self._last_share[idx] = np.where(spare > 0, alloc.prbs / np.where(spare > 0, spare, 1), 0)
        return PolicyOutcome(alloc.prbs, float(alloc.revenue.sum()), bids=bids, prices=alloc.prices)

    # -- PettingZoo API ---------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options=None):
        if seed is not None:
            self._seed_rng = np.random.default_rng(seed)
        run_seed = derive_seed(int(self._seed_rng.integers(2**62)), "comp_market_parallel")
        self.sim = Simulation(run_seed)
        self.net = CompNetwork(
            self.sim,
            self.config,
            extra_policies={"agents": self._agents_policy},
        )
        self.net.wallet_policy = "agents"
        self.agents = list(self.possible_agents)
        self._actions[:] = 0.0
        self._last_share[:] = 0.0
        obs = self._observations()
        return obs, {a: {} for a in self.agents}

    def step(self, actions):
        if not self.agents:
            raise RuntimeError("step() called after the episode ended; call reset()")
        for i, agent in enumerate(self.possible_agents):
            if agent in actions:
                self._actions[i] = np.asarray(actions[agent], dtype=float).reshape(-1)
        self._rewards[:] = 0.0
        c = self.config
        epochs = len(self.net.epochs)
        self.sim.run(until=min(self.sim.now + c.market_interval_s, c.horizon))
        in_market = np.zeros(c.n_ues, dtype=bool)
        if len(self.net.epochs) > epochs:
            in_market[self.net.last_epoch["ues"]] = True
        done = self.sim.now >= c.horizon - 1e-9
        obs = self._observations()
        rew = {
            a: float(self._rewards[i])
            for i, a in enumerate(self.possible_agents)
            if a in self.agents
        }
        term = {a: False for a in self.agents}
        trunc = {a: done for a in self.agents}
        active = self._active()
        infos = {
            a: {"active": bool(active[i]), "in_market": bool(in_market[i])}
            for i, a in enumerate(self.possible_agents)
            if a in self.agents
        }
        if done:
            self.agents = []
        return obs, rew, term, trunc, infos

    def _active(self) -> np.ndarray:
        return self.net.in_trouble() & self.net.has_primary

    def _observations(self) -> dict:
        net, c = self.net, self.config
        every = np.arange(c.n_ues)
        cl = net.clusters(every)
        value = net.comp_values(every, cl)
        vmax = c.prb_bandwidth_hz * c.max_spectral_eff / 1e6
        ep = net.last_epoch.get("outcomes", {}).get("agents")
        prices = ep.prices if ep is not None and ep.prices is not None else np.zeros(net.n_bs)
        prices = np.nan_to_num(prices)
        feats = np.concatenate(
            [
                self._active()[:, None].astype(float),
                (net.prim_rate0 / (10.0 * c.demand_mbps))[:, None],
                (net.wallet / (c.budget_cap * max(c.budget, 1e-12)))[:, None],
                value / vmax,
                net.spare[cl] / c.n_prbs,
                prices[cl] / c.price_scale,
                self._last_share,
            ],
            axis=1,
        )
        feats = np.clip(feats, 0.0, 1.0).astype(np.float32)
        return {a: feats[i] for i, a in enumerate(self.possible_agents) if a in self.agents}

    def render(self):
        if self.render_mode != "ansi" or self.net is None:
            return None
        act = self._active()
        return f"t={self.sim.now:.2f}s active={int(act.sum())}/{act.size}"

    def close(self):
        self.net = None
        self.sim = None

    def state(self) -> np.ndarray:
        """Global state: all agents' observations stacked."""
        obs = self._observations()
        return np.stack(
            [obs.get(a, np.zeros(self._obs_space.shape, np.float32)) for a in self.possible_agents]
        )


def baseline_actions(env: CompMarketParallelEnv, name: str) -> dict:
    """Actions of a named baseline for the current state: ``best_response`` (each UE's bids
    at the price-anticipating Nash equilibrium of the current instance), ``uniform``,
    ``random``."""
    c, k = env.config, env.config.cluster_bs
    if name == "uniform":
        return {a: np.full(k, 1.0 / k, np.float32) for a in env.agents}
    if name == "random":
        return {a: env.action_space(a).sample() for a in env.agents}
    if name != "best_response":
        raise ValueError(f"baseline: unknown {name!r} (allowed: best_response, uniform, random)")
    net = env.net
    idx = np.flatnonzero(env._active())
    out = {a: np.zeros(k, np.float32) for a in env.agents}
    if idx.size == 0:
        return out
    inst = net.instance(idx)
    if inst.capped:
        res = run_capped_market(inst, eps=c.market_eps, max_rounds=c.market_max_rounds)
    else:
        res = run_market(
            inst, eps=c.market_eps, max_rounds=c.market_max_rounds, dynamics=c.dynamics
        )
    frac = res.bids / np.maximum(inst.budget[:, None], 1e-12)
    for row, i in enumerate(idx.tolist()):
        agent = env.possible_agents[i]
        if agent in out:
            out[agent] = np.clip(frac[row], 0, 1).astype(np.float32)
    return out


def parallel_env(**kwargs) -> CompMarketParallelEnv:
    """Factory in PettingZoo style: ``parallel_env(n_ues=8, horizon=5.0)``."""
    return CompMarketParallelEnv(**kwargs)
