"""Env registration through the ``netsim.envs`` entry-point group.

A package that provides envs declares ``[project.entry-points."netsim.envs"]`` pointing at a
zero-argument function that registers its ids with Gymnasium (idempotently). netsim calls
these functions before it looks up an env id; it never imports env modules by name.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import gymnasium as gym

from .errors import ConfigError

__all__ = ["ENV_GROUP", "load_env_plugins", "env_ids", "require_env_id"]

ENV_GROUP = "netsim.envs"
NAMESPACE = "netsim"


#: ids registered by plugins outside the ``netsim`` namespace (``booth/Booth-v0``)
_PLUGIN_IDS: set[str] = set()


def load_env_plugins() -> None:
    """Run every registered env-registration function."""
    for ep in entry_points(group=ENV_GROUP):
        before = set(gym.registry)
        ep.load()()
        _PLUGIN_IDS.update(set(gym.registry) - before)


def env_ids() -> list[str]:
    """Every registered ``netsim/...`` env id, and the ids that plugins registered."""
    load_env_plugins()
    return sorted(
        i for i, spec in gym.registry.items() if spec.namespace == NAMESPACE or i in _PLUGIN_IDS
    )


def require_env_id(env_id: str) -> str:
    """``env_id`` itself if registered (``envs:`` prefixes allowed), else a ConfigError."""
    ids = env_ids()
    plain = env_id.split(":", 1)[-1]
    if plain not in ids:
        raise ConfigError(f"unknown env id '{env_id}' (known: {', '.join(ids) or 'none'})")
    return plain
