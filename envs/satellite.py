"""Proactive satellite handover for an aircraft.

## Description
An aircraft flies a generated flight plan over Europe (climb, cruise with airway turns,
optional holding, approach turns) and can be served by the spot beams of GEO satellites and the
satellites of a LEO constellation (default world: KA-SAT 9°E, Inmarsat GX5 and the 2021 OneWeb
shell, see :mod:`satellite.dataset`). The link quality follows a physical link budget: beam
roll-off and co-channel interference, antenna scan loss and airframe blockage in banked
turns, moving rain cells, scintillation, beam congestion. Every ``decision_interval_s``
simulated seconds the agent picks the link to use from the visible candidates. Switching
costs an interruption (beam < satellite < provider; LEO satellites change only at 15-s
reconfiguration boundaries). The model is :class:`satellite.model.FlightSession`.

## Action Space
``Discrete(candidates)``: slot index. Slot 0 is the serving link (0 = stay); slots 1.. are the
best other usable candidates by measured Es/N0 (at most two beams per satellite). Invalid
(empty) slots mean "stay"; ``action_masks()`` marks the valid ones.

## Observation Space
``Box(-3, 5, (candidates·9,), float32)``: per slot ``[valid, Es/N0 now/10, forecast
Es/N0 at t+h/10, elevation/90, beam load/20, is serving, is LEO, switch interruption/30 s,
P(good at t+h)]``; Es/N0 clipped to [-20, 30] dB. The forecast is the flight-plan geometry
forecast (``forecast="planned"``) or a trained gradient-boosting forecaster
(``forecast="ml"``, ``forecaster_path`` from ``netsim run satellite_handover``).

## Rewards
Gigabits delivered during the step (ACM throughput of the serving link, shared with the
beam's other users, zero while blocked, in outage or interrupted) minus
``interruption_penalty`` Gbit per second of interruption the step's handover causes.

## Starting State
A new flight between two random airports ``min_km``-``max_km`` apart, departing at a random
time of the world's day; the terminal starts on the best measured candidate.

## Episode End
Terminated at touchdown (the model calls ``DecisionPoint.finish()``); truncated at ``horizon``
simulated seconds.

## Arguments
``world`` (a :class:`satellite.dataset.WorldConfig`), ``world_seed``, ``providers`` (indices
of the world's providers to offer), ``min_km``, ``max_km``, ``candidates``,
``decision_interval_s``, ``forecast``, ``forecaster_path``, ``forecast_horizon_s``,
``interruptions`` (beam_s, satellite_s, leo_satellite_s, provider_s, leo_slot_s,
make_before_break),
``interruption_penalty``, ``acm_margin_db``, ``horizon``.

## Baselines
``reactive``, ``max_elevation``, ``max_remaining_visibility``, ``best_predicted``,
``predictive`` (the policies of :mod:`satellite.handover` applied to the full candidate set,
mapped to a slot), ``stay`` and ``random``.

## Version History
v0: initial version.
"""

from __future__ import annotations

import pickle
from typing import Literal

import gymnasium as gym
import numpy as np
from pydantic import Field, model_validator

from netsim import Config, SimEnv, Simulation
from satellite.dataset import DatasetConfig, WorldConfig, build_world, make_plans, radar_features
from satellite.handover import POLICIES, Interruptions, LinkView
from satellite.links import KIND_LEO, evaluate_links
from satellite.model import FlightSession, planned_forecast
from satellite.platforms import fly
from satellite.predict import DEFAULT_EDGES_DB, forecast_links, shortlist
from satellite.scenario import InterruptionConfig

__all__ = ["SatelliteHandoverConfig", "SatelliteHandoverEnv"]

N_FEATURES = 9
_WORLDS: dict[tuple[str, int], object] = {}
_FORECASTERS: dict[str, object] = {}


class SatelliteHandoverConfig(Config):
    world: WorldConfig = Field(default_factory=WorldConfig)
    world_seed: int = Field(0, ge=0, description="seed of the shared world (weather, loads)")
    providers: list[int] | None = Field(None, description="world providers offered (default: all)")
    min_km: float = Field(300.0, ge=100)
    max_km: float = Field(900.0, gt=100)
    candidates: int = Field(6, ge=2, le=32)
    decision_interval_s: int = Field(5, ge=1, le=600)
    forecast: Literal["planned", "ml"] = "planned"
    forecaster_path: str | None = None
    forecast_horizon_s: int = Field(30, ge=1, le=600)
    interruptions: InterruptionConfig = Field(default_factory=InterruptionConfig)
    interruption_penalty: float = Field(0.05, ge=0, description="Gbit per second of interruption")
    acm_margin_db: float = Field(0.5, ge=0)
    horizon: float = Field(4 * 3600.0, gt=0, description="episode cap (simulated s)")

    @model_validator(mode="after")
    def _check(self):
        if self.max_km <= self.min_km:
            raise ValueError(f"max_km ({self.max_km}) must exceed min_km ({self.min_km})")
        if self.providers is not None:
            bad = [i for i in self.providers if not 0 <= i < len(self.world.providers)]
            if bad or not self.providers:
                raise ValueError(
                    f"providers: indices must be in 0..{len(self.world.providers) - 1} "
                    f"(got {self.providers})"
                )
        if self.forecast == "ml" and not self.forecaster_path:
            raise ValueError(
                "forecast 'ml' needs forecaster_path "
                "(the forecaster.pkl of a satellite_handover run)"
            )
        return self


def _world(cfg: SatelliteHandoverConfig):
    key = (cfg.world.model_dump_json(), cfg.world_seed)
    if key not in _WORLDS:
        _WORLDS[key] = build_world(cfg.world, cfg.world_seed)
    return _WORLDS[key]


def _forecaster(path: str):
    if path not in _FORECASTERS:
        try:
            with open(path, "rb") as fh:
                _FORECASTERS[path] = pickle.load(fh)
        except OSError as exc:
            raise ValueError(f"forecaster_path: cannot read {path!r} ({exc.strerror})") from None
    return _FORECASTERS[path]


class SatelliteHandoverEnv(SimEnv):
    config_cls = SatelliteHandoverConfig

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        k = self.config.candidates
        self.action_space = gym.spaces.Discrete(k)
        self.observation_space = gym.spaces.Box(-3.0, 5.0, (k * N_FEATURES,), dtype=np.float32)
        self.model: FlightSession | None = None
        self.slots = np.full(k, -1)
        self._delivered_mark = 0.0

    # -- episode -------------------------------------------------------------------------------
    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        world = _world(c)
        rng = sim.rng("flight")
        ds = DatasetConfig(world=c.world, flights=1, min_km=c.min_km, max_km=c.max_km)
        plan = make_plans(ds, int(rng.integers(2**31)), n=1, prefix="E")[0]
        self.traj = fly([plan])[0]
        self.ls = evaluate_links(world, self.traj, c.providers)
        if c.forecast == "ml":
            model = _forecaster(c.forecaster_path)
            radar = radar_features(world, self.traj, c.world_seed)
            pred, pgood = forecast_links(
                model, self.ls, self.traj, radar, shortlist(self.ls), c.world.max_scan_deg
            )
            pred = np.where(
                np.isfinite(pred), pred, planned_forecast(self.ls, self.traj, model.horizon_s)
            )
            pgood = np.where(np.isfinite(pgood), pgood, (pred >= DEFAULT_EDGES_DB[1]).astype(float))
        else:
            pred = planned_forecast(self.ls, self.traj, c.forecast_horizon_s)
            pgood = (pred >= DEFAULT_EDGES_DB[1]).astype(float)
        ic = c.interruptions
        cost = Interruptions(**ic.model_dump())
        self.model = FlightSession(
            sim,
            self.ls,
            decisions=self.decisions,
            forecast=(pred, pgood),
            cost=cost,
            decision_interval_s=c.decision_interval_s,
            acm_margin_db=c.acm_margin_db,
        )
        self._delivered_mark = 0.0
        self._view: LinkView | None = None

    def _slots(self, v: LinkView) -> np.ndarray:
        """Candidate index per slot: the serving link first, then the best usable others by
        measured Es/N0 with at most two beams per satellite."""
        k = self.config.candidates
        out = np.full(k, -1)
        first = v.serving if v.serving >= 0 else -1
        order = np.argsort(-np.where(v.usable, v.esn0_db, -np.inf), kind="stable")
        per_sat: dict[int, int] = {}
        chosen = [first] if first >= 0 else []
        if first >= 0:
            per_sat[int(v.sat_key[first])] = 1
        for c in order:
            if len(chosen) >= k or not v.usable[c]:
                break
            if c == first or per_sat.get(int(v.sat_key[c]), 0) >= 2:
                continue
            per_sat[int(v.sat_key[c])] = per_sat.get(int(v.sat_key[c]), 0) + 1
            chosen.append(int(c))
        out[: len(chosen)] = chosen
        return out

    def _current_view(self) -> LinkView | None:
        if self.decisions is not None and self.decisions.waiting:
            return self.decisions.state
        return None

    def _apply(self, action) -> None:
        v = self._current_view()
        if v is None:
            return
        slot = int(action)
        target = (
            int(self.slots[slot])
            if 0 <= slot < self.slots.size and self.slots[slot] >= 0
            else v.serving
        )
        self.decisions.respond(target)

    def _observe(self) -> np.ndarray:
        k = self.config.candidates
        obs = np.zeros((k, N_FEATURES), dtype=np.float32)
        v = self._current_view()
        if v is None:
            self.slots = np.full(k, -1)
            return obs.ravel()
        self.slots = self._slots(v)
        ls = self.ls
        for i, c in enumerate(self.slots):
            if c < 0:
                continue
            pred = v.pred_esn0_db[c] if np.isfinite(v.pred_esn0_db[c]) else v.esn0_db[c]
            pg = v.p_good[c] if np.isfinite(v.p_good[c]) else 0.0
            obs[i] = (
                1.0,
                np.clip(v.esn0_db[c], -20, 30) / 10.0,
                np.clip(pred, -20, 30) / 10.0,
                np.clip(v.el_deg[c], 0, 90) / 90.0,
                np.clip(ls.load[v.t, c] / 20.0, 0, 5),
                float(c == v.serving),
                float(ls.kind[c] == KIND_LEO),
                np.clip(v.cost_s[c] / 30.0, 0, 2),
                pg,
            )
        return obs.ravel()

    def _reward(self) -> float:
        total = self.model.delivered.value / 1e9
        r = total - self._delivered_mark
        self._delivered_mark = total
        return float(r - self.config.interruption_penalty * self.model.last_switch_cost_s)

    def _terminated(self) -> bool:
        return bool(self.model is not None and self.model.done)

    def _info(self) -> dict:
        m = self.model
        return {
            "delivered_gb": m.delivered.value / 8e9,
            "outage_s": m.outage.value,
            "interruption_s": m.interrupted.value,
            "handovers": int(m.handovers.value),
            "serving": int(m.session.serving),
            "flight": self.traj.name,
        }

    def action_masks(self) -> np.ndarray:
        mask = self.slots >= 0
        if not mask.any():
            mask[0] = True
        return mask

    # -- baselines -----------------------------------------------------------------------------
    def _as_slot(self, policy):
        def act(_obs):
            v = self._current_view()
            if v is None:
                return 0
            target = int(policy(v))
            hit = np.flatnonzero(self.slots == target)
            return int(hit[0]) if hit.size else 0

        return act

    def baseline_policies(self):
        out = {name: self._as_slot(factory()) for name, factory in POLICIES.items()}
        out["stay"] = lambda _obs: 0
        out.update(super().baseline_policies())
        return out

    def _draw(self, fig) -> None:
        ax = fig.add_subplot()
        tr = self.model.session.trace
        n = self.model.t
        rows = np.arange(n)
        s = tr.serving[:n]
        esn0 = np.where(s >= 0, self.ls.esn0_db[rows, np.maximum(s, 0)], np.nan)
        ax.plot(rows / 60.0, esn0, lw=0.7)
        sw = np.flatnonzero(tr.switches[:n] > 0)
        ax.plot(sw / 60.0, np.full(sw.size, 12.0), "rv", ms=4)
        ax.set_xlabel("minutes")
        ax.set_ylabel("serving Es/N0 (dB)")
        ax.set_title(f"{self.traj.name}  {self._render_text()}", fontsize=7)
