"""``SimEnv``: the Gymnasium base class whose dynamics run on a :class:`Simulation`.

``reset(seed=...)`` seeds ``self.np_random`` and builds a fresh :class:`Simulation` whose seed
is drawn from it, so one reset seed fixes every random stream of the episode. ``step(action)``
applies the action and advances the engine to the next decision epoch, which is either

* every ``decision_interval`` simulated seconds (fixed epochs), or
* the next ``DecisionPoint.request`` made by the model (event-driven epochs),

whichever mode the subclass chooses, but never past the horizon (simulated seconds). The
episode is ``terminated`` when ``_terminated()`` says so or the model calls
``DecisionPoint.finish()``, else ``truncated`` at the horizon.

One step is: ``_apply(action)``, advance the engine, ``_end_epoch()`` (the model closes the
epoch's statistics), then ``_observe()`` and ``_reward()``, so the observation and the reward
always describe the same epoch.

Subclasses set ``config_cls`` (a :class:`netsim.Config` schema of the env's arguments) and the
spaces, and implement ``_setup``, ``_apply``, ``_observe`` and either ``_reward`` or
``_reward_total`` (a running total whose change is the step's reward). ``_info``,
``_end_epoch``, ``_terminated``, ``_draw``, ``baseline_policies`` and ``action_masks`` are
optional. An episode with no decision epoch before the horizon is over at ``reset``; its one
``step`` ignores the action and returns ``truncated=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from pydantic import BaseModel

from .config import Config, deep_merge, validate
from .engine import DecisionPoint, Simulation
from .errors import ConfigError
from .plotting import figure_to_rgb, new_figure

__all__ = ["SimEnv"]

Policy = Callable[[Any], Any]


class SimEnv(gym.Env):
    """Base class of every netsim environment.

    Args:
        config: a mapping or a ``config_cls`` instance with the env's arguments.
        render_mode: ``None``, ``"ansi"`` or ``"rgb_array"``.
        preset: name of an entry of the class's ``presets`` (named argument sets, e.g. an
            earlier default kept for comparison); ``config`` and ``kwargs`` go over it, so
            ``gym.make(id, preset="light", horizon=50)`` works.
        **kwargs: more arguments, merged over ``config`` (so ``gym.make(id, horizon=10)``
            works).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    config_cls: ClassVar[type[Config]] = Config
    #: named argument sets: preset name -> config overrides (``netsim show ID`` lists them)
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    #: fixed decision epoch in simulated seconds; ``None`` means the model requests decisions
    decision_interval: float | None = None

    def __init__(
        self,
        config: Any = None,
        render_mode: str | None = None,
        preset: str | None = None,
        **kwargs: Any,
    ):
        if preset is not None:
            if preset not in self.presets:
                known = ", ".join(self.presets) or "none"
                raise ConfigError(f"preset: unknown preset {preset!r} (presets: {known})")
            if isinstance(config, BaseModel):
                config = config.model_dump()
            config = deep_merge(self.presets[preset], dict(config or {}))
        self.config = validate(self.config_cls, config, **kwargs)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            allowed = ", ".join(self.metadata["render_modes"])
            raise ConfigError(f"render_mode: unknown mode {render_mode!r} (allowed: {allowed})")
        self.render_mode = render_mode
        self.sim: Simulation | None = None
        self.decisions: DecisionPoint | None = None
        self._horizon_event = None
        self._last_reward = 0.0
        self._last_info: dict[str, Any] = {}
        self._reward_trace: list[float] = []
        self._total_mark = 0.0
        self._empty_episode = False

    # -- to implement ---------------------------------------------------------------------------
    @property
    def horizon(self) -> float:
        """Episode length in simulated seconds (default: ``config.horizon``)."""
        return float(self.config.horizon)

    def _setup(self, sim: Simulation, options: dict[str, Any] | None) -> None:
        """Build the model on the fresh ``sim`` (``self.decisions`` is ready to hand over)."""
        raise NotImplementedError

    def _apply(self, action: Any) -> None:
        """Apply ``action``; event-driven envs usually end with ``self.decisions.respond``."""
        raise NotImplementedError

    def _observe(self) -> Any:
        raise NotImplementedError

    def _reward(self) -> float:
        """The step's reward; by default the change of ``_reward_total()`` since the last step."""
        total = float(self._reward_total())
        reward, self._total_mark = total - self._total_mark, total
        return reward

    def _reward_total(self) -> float:
        """Running total of the episode's reward so far (used by the default ``_reward``)."""
        raise NotImplementedError

    def _end_epoch(self) -> None:
        """Called after the engine reached the decision epoch and before ``_observe`` and
        ``_reward``: let the model close the epoch's statistics here."""
        return None

    def _info(self) -> dict[str, Any]:
        """KPIs of the last step."""
        return {}

    def _terminated(self) -> bool:
        return False

    def baseline_policies(self) -> dict[str, Policy]:
        """Named reference policies ``obs -> action`` bound to this env instance."""
        return {"random": lambda _obs: self.action_space.sample()}

    # -- Gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.action_space.seed(int(self.np_random.integers(2**31 - 1)))
        sim = self.sim = Simulation(seed=int(self.np_random.integers(2**63 - 1)))
        self.decisions = DecisionPoint(sim)
        self._horizon_event = sim.timeout(self.horizon)
        self._last_reward = 0.0
        self._reward_trace = []
        self._total_mark = 0.0
        self._setup(sim, options)
        if self.decision_interval is None:
            self._advance()
        self._empty_episode = self._episode_over()
        self._end_epoch()
        self._last_info = self._info()
        return self._observe(), dict(self._last_info)

    def _episode_over(self) -> bool:
        return self.sim.now >= self.horizon or self.decisions.finished

    def _empty_step(self):
        """The one step of an episode that ended before its first decision epoch."""
        self._empty_episode = False
        obs, reward = self._observe(), float(self._reward())
        terminated = bool(self._terminated()) or self.decisions.finished
        self._last_reward = reward
        self._reward_trace.append(reward)
        self._last_info = self._info()
        return obs, reward, terminated, not terminated, dict(self._last_info)

    def step(self, action: Any):
        if self.sim is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self._empty_episode:
            return self._empty_step()
        if self._episode_over():
            raise gym.error.ResetNeeded("the episode is over; call reset()")
        self._apply(action)
        self._advance()
        self._end_epoch()
        obs = self._observe()
        reward = float(self._reward())
        terminated = bool(self._terminated()) or self.decisions.finished
        truncated = (not terminated) and self.sim.now >= self.horizon
        self._last_reward = reward
        self._reward_trace.append(reward)
        self._last_info = self._info()
        return obs, reward, terminated, truncated, dict(self._last_info)

    def _next_epoch(self) -> float:
        """Time (s) of the next fixed decision epoch: ``now + decision_interval``, capped at
        the horizon.

        Epochs are accumulated exactly as ``sim.every`` and SimPy timeouts accumulate them,
        so a model process ticking at the same interval stays in step with the agent. An
        epoch within a rounding error of the horizon is the horizon: 0.1 s epochs over a 1 s
        horizon make exactly 10 steps (the sum of ten 0.1 s is 0.9999999999999999 s), not 10
        plus a 1e-16 s sliver."""
        interval = float(self.decision_interval)
        t = self.sim.now + interval
        if t >= self.horizon - 1e-9 * interval:
            t = self.horizon
        return t

    def _advance(self) -> None:
        sim = self.sim
        if self.decision_interval is not None:
            sim.run(until=max(self._next_epoch(), sim.now))
            return
        if self.decisions.waiting or self.decisions.finished:
            return
        sim.run(until=sim.any_of([self.decisions.pending, self._horizon_event]))
        if not (self.decisions.waiting or self.decisions.finished):
            # horizon reached: put the clock exactly on it
            sim.run(until=self.horizon)

    # -- rendering ----------------------------------------------------------------------------
    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode")
            return None
        if self.render_mode == "ansi":
            return self._render_text()
        fig = new_figure(6.4, 3.6, dpi=80)
        self._draw(fig)
        return figure_to_rgb(fig)

    def _render_text(self) -> str:
        now = self.sim.now if self.sim is not None else 0.0
        kpis = " ".join(
            f"{k}={v:.4g}" if isinstance(v, float | int | np.floating | np.integer) else f"{k}={v}"
            for k, v in self._last_info.items()
            if np.ndim(v) == 0
        )
        return f"t={now:.3f}s reward={self._last_reward:.4g} {kpis}".rstrip()

    def _draw(self, fig) -> None:
        """Draw the current state on ``fig`` (default: the episode's reward trace)."""
        ax = fig.add_subplot()
        ax.plot(self._reward_trace, lw=1)
        ax.set_xlabel("step")
        ax.set_ylabel("reward")
        ax.set_title(f"{type(self).__name__}  {self._render_text()}", fontsize=8)

    def close(self) -> None:
        self.sim = None
        self.decisions = None
