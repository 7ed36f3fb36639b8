"""The baseline registry: the reference policies ``netsim bench`` scores for each env.

Each env declares, next to its adapter, a function returning a list of :class:`Baseline`;
``envs/__init__.py`` (or any package, through the ``netsim.baselines`` entry-point group)
registers it lazily with :func:`register_baselines` as a ``"module:function"`` string, the way
Gymnasium registers entry points. The bench, the studies and the tests then score the same
policies.

A baseline is one of five kinds:

* ``random`` - uniform random actions (added for every env);
* ``heuristic`` - a rule that sees only the observation and what the env knows now;
* ``hindsight`` - the best of a set of fixed candidates, chosen after seeing every evaluation
  episode (e.g. the best fixed split in hindsight);
* ``oracle`` - a clairvoyant policy on the same random numbers, or an upper bound computed per
  episode (LP, MILP); it may read the env's future;
* ``learned`` - an SB3 agent trained for ``timesteps`` steps.

A policy-type baseline gives ``policy(env) -> (obs -> action)``, bound to the *unwrapped* env
(so it may read model state; an oracle may read the future). An episode-type baseline gives
``episode(env, seed) -> return`` for bounds that are not policies.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal

from .errors import ConfigError

__all__ = [
    "KINDS",
    "Baseline",
    "BASELINE_GROUP",
    "register_baselines",
    "baselines_for",
    "random_baseline",
    "fixed_candidates",
    "env_policy",
]

Kind = Literal["random", "heuristic", "hindsight", "oracle", "learned"]
KINDS: tuple[str, ...] = ("random", "heuristic", "hindsight", "oracle", "learned")
BASELINE_GROUP = "netsim.baselines"

Policy = Callable[[Any], Any]
PolicyFactory = Callable[[Any], Policy]
EpisodeFn = Callable[[Any, int], float]


@dataclass(frozen=True)
class Baseline:
    """One reference policy of an env.

    Args:
        name: short id, unique per env (``expert``, ``best_fixed``, ``oracle``, ``ppo``).
        kind: one of :data:`KINDS`.
        policy: ``env -> (obs -> action)`` factory (random, heuristic, oracle).
        episode: ``(env, seed) -> return`` for per-episode bounds (oracle).
        candidates: name -> policy factory, for ``hindsight`` (the best single candidate over
            all evaluation seeds is reported).
        algo: SB3 algorithm for ``learned`` (``PPO``, ``MaskablePPO``, ``DQN``, ...).
        timesteps: training budget of ``learned`` (env steps).
        algo_kwargs: extra keyword arguments of the algorithm.
        description: one line for the leaderboard.
    """

    name: str
    kind: Kind
    policy: PolicyFactory | None = None
    episode: EpisodeFn | None = None
    candidates: Mapping[str, PolicyFactory] | None = None
    algo: str | None = None
    timesteps: int = 0
    algo_kwargs: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"baseline {self.name}: kind {self.kind!r} (allowed: {KINDS})")
        shape = {
            "random": self.policy is not None,
            "heuristic": self.policy is not None,
            "oracle": (self.policy is None) != (self.episode is None),
            "hindsight": bool(self.candidates),
            "learned": bool(self.algo) and self.timesteps > 0,
        }[self.kind]
        if not shape:
            need = {
                "random": "policy",
                "heuristic": "policy",
                "oracle": "exactly one of policy, episode",
                "hindsight": "candidates",
                "learned": "algo and timesteps > 0",
            }[self.kind]
            raise ConfigError(f"baseline {self.name}: a {self.kind} baseline needs {need}")


def random_baseline() -> Baseline:
    """Uniform random actions from the env's (seeded) action space; masked envs sample a
    legal action."""

    def factory(env):
        masks = getattr(env, "action_masks", None)
        if callable(masks):
            import numpy as np

            def act(_obs):
                legal = np.flatnonzero(masks())
                return int(env.np_random.choice(legal)) if legal.size else env.action_space.sample()

            return act
        return lambda _obs: env.action_space.sample()

    return Baseline("random", "random", policy=factory, description="uniform random actions")


def fixed_candidates(actions: Mapping[str, Any]) -> dict[str, PolicyFactory]:
    """Candidates that always play the same action, for a ``hindsight`` baseline."""
    return {name: (lambda _env, a=a: (lambda _obs: a)) for name, a in actions.items()}


def env_policy(name: str) -> PolicyFactory:
    """The policy factory ``env -> env.baseline_policies()[name]`` (the env's own heuristic
    ``name``, bound to the unwrapped env)."""
    return lambda env: env.baseline_policies()[name]


_REGISTRY: dict[str, str | Callable[[], list[Baseline]]] = {}


def register_baselines(env_id: str, source: str | Callable[[], list[Baseline]]) -> None:
    """Register the baselines of ``env_id``: a ``"module:function"`` string (imported lazily)
    or a zero-argument function returning a list of :class:`Baseline`. Idempotent."""
    _REGISTRY[env_id] = source


def _load_plugins() -> None:
    """Env plugins register their baselines along with their ids (``envs.register_all``);
    packages may also register baselines alone through the ``netsim.baselines`` group."""
    from .registry import load_env_plugins

    load_env_plugins()
    for ep in entry_points(group=BASELINE_GROUP):
        ep.load()()


def _resolve(source: str | Callable[[], list[Baseline]]) -> list[Baseline]:
    if isinstance(source, str):
        module, _, attr = source.partition(":")
        source = getattr(importlib.import_module(module), attr)
    return list(source())


def baselines_for(env_id: str, env: Any | None = None) -> dict[str, Baseline]:
    """Every baseline of ``env_id``, by name: ``random`` first, then the registered ones.

    Envs with no registration fall back to their ``baseline_policies()`` (each non-random
    entry becomes a heuristic); ``env`` (an unwrapped instance) is needed for that."""
    _load_plugins()
    out: dict[str, Baseline] = {"random": random_baseline()}
    source = _REGISTRY.get(env_id.split(":", 1)[-1])
    if source is not None:
        listed = _resolve(source)
    elif env is not None:
        names = [n for n in env.baseline_policies() if n != "random"]
        listed = [Baseline(n, "heuristic", policy=env_policy(n)) for n in names]
    else:
        listed = []
    for b in listed:
        if b.name in out and b.name != "random":
            raise ConfigError(f"baselines of {env_id}: duplicate name {b.name!r}")
        out[b.name] = b
    return out
