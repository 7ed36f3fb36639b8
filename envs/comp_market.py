"""Reserve-price controller of the BSs nearest the centre of a small-cell spare-PRB market.

## Description
A Manhattan small-cell city (:mod:`ran.comp`) where UEs in trouble (turning corners, blocked,
handing over) buy spare PRBs of their CoMP cluster (the ``cluster_bs`` BSs of highest RSRP) in
a proportional-share market with price-anticipating bids (linear utilities by default,
``utility="capped"`` gives the demand-capped application utilities; quasi-linear payoffs,
``money_value`` μ > 0, so bids respond to prices; fixed budget per epoch). The agent operates
the ``controlled_bs`` BSs nearest the city centre and sets each one's reserve price (tokens
per PRB) every allocation epoch. A reserve bid ``p_res·C_j`` keeps part of the spare capacity
unsold but makes UEs bid more: revenue has an interior optimum that depends on the bidders'
values and competition (one bidder of value ``w``: reserve ``w/(4μ)``), so the best reserve
changes with who is in trouble where.

The default is a small world (2x2 blocks, 6 BSs, 16 UEs) stepped at the allocation epoch
(``dt_s = fading_step_s = market_interval_s = 0.1`` s: A3 time-to-trigger and T310 are
resolved at 0.1 s): ``python benchmarks/envs.py netsim/CompMarket-v0 --steps 600 --repeat 2``
gives about 1,100 CPU steps/s on a shared 2-core machine at load 10 (916 before the issue-14
speed cuts, same load); ``netsim/CompMarket-City-v0`` is the
42-BS, 200-UE city of the ``comp_market`` study at 10 ms resolution (about 10 steps/s).

## Action Space
``Box(-1, 1, (controlled_bs,))``: reserve price of each controlled BS,
``(a + 1)/2 · max_reserve_price`` tokens per PRB.

## Observation Space
``Box(0, 1, (4·controlled_bs + 1,))``, all from the epoch the reward describes: per
controlled BS its spare PRBs / ``n_prbs``, bidders / ``n_ues``, total bids /
(``budget``·``n_ues``) and price / ``max_reserve_price`` (clipped to 1); then the fraction of
UEs in trouble.

## Rewards
Per step (one allocation epoch): with ``objective="revenue"`` the bids collected by the
controlled BSs (tokens); with ``objective="welfare"`` the value of the PRBs they sold (Mbit/s).

## Starting State
UEs placed uniformly on the streets; shadowing and blockage drawn from their stationary laws.

## Episode End
Truncated at ``horizon`` simulated seconds (20 s = 200 steps); never terminated.

## Arguments
Every key of :class:`ran.comp.scenario.CompConfig` (defaults above, ``money_value`` 1,
``budget`` 50: money, not the budget, limits bids) plus ``objective`` ("revenue" |
"welfare"), ``max_reserve_price`` (tokens per PRB) and ``controlled_bs`` (BSs the agent
prices; not to be confused with ``cluster_bs``, the size of a UE's CoMP cluster).

## Baselines
``envs.comp_market:baselines`` (scored by ``netsim bench``): ``random``; heuristics
``no_reserve`` (0), ``fixed_reserve`` (a quarter of the maximum) and ``track_price`` (reserve
at half of the last price); ``best_fixed`` (hindsight: the best of 11 equal fixed reserves);
``oracle`` (clairvoyant: at every epoch, before the market clears, a coordinate search (two
passes) over 11 reserve levels per controlled BS on the epoch's actual bidders; with per-epoch
budgets and policy-independent channels the epochs decouple, so this is close to the episode
optimum, limited by the grid and the coordinate search); ``ppo`` (PPO, 100k steps).

Contested-gap check (``netsim bench netsim/CompMarket-v0 --seeds 8 --skip-learned``, 20 s
episodes, common random numbers; 0 = random, 1 = oracle): random 8834, ``no_reserve`` 6042
(-1.44), ``track_price`` 9586 (0.39), ``fixed_reserve`` 10390 (0.80), best fixed in
hindsight 10450 (0.83, reserve 0.4 tokens/PRB), oracle 10770. The best heuristic scores 0.80.
Its paired gap to random is +1555 [1343, 1766] and its gap to the oracle 385 [286, 484]; both
lie outside their CIs, so the env is contested. Unpaired CIs of the raw returns overlap,
because seeds differ by about ±900. PPO has not been trained for this version, so whether it
beats the best heuristic is not measured.

## Version History
v0: initial version. v0 (issue 14): observation and reward from the same epoch, small default
world (the city moved to ``CompMarket-City-v0``), ``controlled_bs`` separate from
``cluster_bs``, registered baselines.
"""

from __future__ import annotations

from typing import Literal

import gymnasium as gym
import numpy as np
from pydantic import Field

from netsim import SimEnv, Simulation
from netsim.baselines import Baseline, env_policy, fixed_candidates
from ran.comp.market import MarketInstance, run_market
from ran.comp.model import CompNetwork
from ran.comp.scenario import CompConfig

__all__ = [
    "CompMarketEnvConfig",
    "CompMarketCityConfig",
    "CompMarketEnv",
    "CompMarketCityEnv",
    "baselines",
    "oracle_hook",
]


class _PricingArgs(CompConfig):
    utility: str = Field("linear", description="linear (default here) | capped")
    money_value: float = Field(1.0, ge=0)
    budget: float = Field(50.0, ge=0)
    reserve_price: float = Field(0.0, ge=0)
    policies: list[str] = Field(default_factory=lambda: ["market"], min_length=1)
    objective: Literal["revenue", "welfare"] = "revenue"
    max_reserve_price: float = Field(2.0, gt=0, description="tokens per PRB at action 1")
    controlled_bs: int = Field(3, ge=1, le=16, description="BSs whose reserve the agent sets")


class CompMarketEnvConfig(_PricingArgs):
    blocks_x: int = Field(2, ge=1, le=50)
    blocks_y: int = Field(2, ge=1, le=50)
    n_ues: int = Field(16, ge=1, le=100_000)
    horizon: float = Field(20.0, gt=0)
    dt_s: float = Field(0.1, gt=0, le=0.1)
    fading_step_s: float = Field(0.1, gt=0, le=1.0)


class CompMarketCityConfig(_PricingArgs):
    """The 42-BS, 200-UE city of the ``comp_market`` study (CompConfig's defaults)."""

    horizon: float = Field(20.0, gt=0)


class CompMarketEnv(SimEnv):
    config_cls = CompMarketEnvConfig

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        k = self.config.controlled_bs
        self.decision_interval = self.config.market_interval_s
        self.action_space = gym.spaces.Box(-1.0, 1.0, (k,), dtype=np.float32)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (4 * k + 1,), dtype=np.float32)
        self.net: CompNetwork | None = None
        self.controlled = np.zeros(k, dtype=np.int64)
        self._epochs_seen = 0
        self._stats = self._empty_stats()
        self._last_price = np.zeros(k)

    def _empty_stats(self) -> dict:
        k = self.config.controlled_bs
        return {"revenue": 0.0, "welfare": 0.0, "bidders": np.zeros(k), "bids": np.zeros(k)}

    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        if "market" not in c.policies:
            raise ValueError("policies: the pricing env needs the 'market' policy")
        self.net = CompNetwork(sim, c)
        if c.controlled_bs > self.net.n_bs:
            raise ValueError(
                f"controlled_bs: must be <= the number of BSs ({self.net.n_bs}), "
                f"got {c.controlled_bs}"
            )
        centre = np.array([self.net.grid.width_m, self.net.grid.height_m]) / 2
        d = np.linalg.norm(self.net.bs_xy - centre, axis=1)
        self.controlled = np.argsort(d, kind="stable")[: c.controlled_bs]
        self._epochs_seen = 0
        self._stats = self._empty_stats()
        self._last_price = np.zeros(c.controlled_bs)

    def _apply(self, action) -> None:
        a = np.minimum(np.maximum(np.asarray(action, dtype=float).reshape(-1), -1.0), 1.0)
        self.net.reserve_price[self.controlled] = 0.5 * (a + 1.0) * self.config.max_reserve_price

    def _end_epoch(self) -> None:
        """Close the epoch: the market statistics of the controlled BSs in the allocation
        epoch(s) since the last action; observation and reward both read them."""
        net = self.net
        stats = self._empty_stats()
        ep = net.last_epoch
        inst = ep.get("instance")
        if len(net.epochs) > self._epochs_seen and inst is not None and "market" in ep["outcomes"]:
            m = ep["outcomes"]["market"]
            rev = inst.per_bs(m.bids)[self.controlled]
            val = inst.per_bs(inst.value * m.prbs)[self.controlled]
            stats.update(
                revenue=float(rev.sum()),
                welfare=float(val.sum()),
                bids=rev,
                bidders=inst.per_bs((inst.weights > 0).astype(float))[self.controlled],
            )
            price = m.prices[self.controlled]
            self._last_price = np.where(np.isfinite(price), price, 0.0)
        self._epochs_seen = len(net.epochs)
        self._stats = stats

    def _reward(self) -> float:
        return float(self._stats[self.config.objective])

    def _observe(self) -> np.ndarray:
        net, c, stats = self.net, self.config, self._stats
        obs = np.concatenate(
            [
                net.spare[self.controlled] / c.n_prbs,
                stats["bidders"] / c.n_ues,
                stats["bids"] / max(c.budget * c.n_ues, 1e-12),
                self._last_price / c.max_reserve_price,
                [np.count_nonzero(net.in_trouble()) / net.n_ues],
            ]
        )
        return np.minimum(np.maximum(obs, 0.0), 1.0).astype(np.float32)

    def _info(self) -> dict:
        net = self.net
        return {
            "reserve_price": net.reserve_price[self.controlled].copy(),
            "n_trouble": int(net.in_trouble().sum()),
            "epochs": len(net.epochs),
            "revenue": self._stats["revenue"],
            "welfare": self._stats["welfare"],
        }

    def baseline_policies(self):
        k = self.config.controlled_bs
        return {
            "no_reserve": lambda _obs: np.full(k, -1.0, dtype=np.float32),
            "fixed_reserve": lambda _obs: np.full(k, -0.5, dtype=np.float32),
            "track_price": lambda obs: (obs[3 * k : 4 * k] - 1.0).astype(np.float32),
            **super().baseline_policies(),
        }


class CompMarketCityEnv(CompMarketEnv):
    """The same controller in the 42-BS, 200-UE city (``netsim/CompMarket-City-v0``)."""

    config_cls = CompMarketCityConfig


# -- baselines ----------------------------------------------------------------------------------
def oracle_hook(env: CompMarketEnv, levels: int = 11, sweeps: int = 2):
    """A model hook that, at every allocation epoch, sets the controlled BSs' reserve prices
    to the best found for the epoch's actual instance (coordinate search over ``levels``
    reserve levels, ``sweeps`` passes, each candidate scored by running the market)."""
    c = env.config
    grid = np.linspace(0.0, c.max_reserve_price, levels)

    def score(inst, reserve_price) -> float:
        trial = MarketInstance.trusted(
            inst.cluster, inst.value, inst.spare, inst.budget,
            np.asarray(reserve_price * inst.spare, dtype=float), inst.money_value,
            inst.cap, inst.weight,
        )
        res = run_market(trial, eps=c.market_eps, max_rounds=c.market_max_rounds)
        if c.objective == "revenue":
            return float(trial.per_bs(res.bids)[env.controlled].sum())
        return float(trial.per_bs(trial.value * res.allocation.prbs)[env.controlled].sum())

    def hook(net, idx) -> None:
        if idx.size == 0:
            return
        inst = net.instance(idx)
        price = net.reserve_price.copy()
        r = np.zeros(env.controlled.size)
        for _ in range(sweeps):
            for j in range(r.size):
                vals = []
                for level in grid:
                    r[j] = level
                    price[env.controlled] = r
                    vals.append(score(inst, price))
                r[j] = grid[int(np.argmax(vals))]
        net.reserve_price[env.controlled] = r

    return hook


def _oracle(env: CompMarketEnv):
    def act(_obs):
        if env.net is not None and not any(
            getattr(h, "__name__", "") == "hook" for h in env.net.pre_market_hooks
        ):
            env.net.pre_market_hooks.append(oracle_hook(env))
        return np.zeros(env.config.controlled_bs, dtype=np.float32)  # overridden by the hook

    return act


def baselines() -> list[Baseline]:
    """The CompMarket-v0 policies scored by ``netsim bench``."""
    fixed = {f"reserve_{x:.1f}": np.full(3, 2 * x - 1, np.float32) for x in np.linspace(0, 1, 11)}
    return [
        Baseline("no_reserve", "heuristic", policy=env_policy("no_reserve"),
                 description="reserve 0 at every controlled BS"),
        Baseline("fixed_reserve", "heuristic", policy=env_policy("fixed_reserve"),
                 description="reserve a quarter of the maximum"),
        Baseline("track_price", "heuristic", policy=env_policy("track_price"),
                 description="reserve at half of the last price"),
        Baseline("best_fixed", "hindsight", candidates=fixed_candidates(fixed),
                 description="best of 11 equal fixed reserves, chosen after the fact"),
        Baseline("oracle", "oracle", policy=_oracle,
                 description="per-epoch best reserves on the epoch's actual bidders"),
        Baseline("ppo", "learned", algo="PPO", timesteps=100_000),
    ]
