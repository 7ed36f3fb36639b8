"""netsim core: the shared discrete-event engine and everything the modules build on.

* :class:`Simulation` - SimPy environment + named RNG streams + metrics recorder;
* :class:`SimEnv` - Gymnasium base class for envs that run on a Simulation;
* :class:`Config`, :func:`validate`, :class:`ConfigError` - strict pydantic configs;
* :class:`Scenario`, :class:`RunContext` - scenarios registered by entry point;
* :mod:`netsim.sweep`, :mod:`netsim.train`, :mod:`netsim.cli` - studies at scale;
* :mod:`netsim.topology`, :mod:`netsim.radio`, :mod:`netsim.stats` - shared helpers.

netsim imports no model module; modules import netsim.

The names below are imported on first use (PEP 562), so ``import netsim.lifeline`` or
``netsim --help`` does not pay for SciPy, pandas and Matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> submodule that defines it
_EXPORTS = {
    "Config": "config",
    "validate": "config",
    "DecisionPoint": "engine",
    "EventCounter": "engine",
    "Simulation": "engine",
    "SimEnv": "env",
    "ConfigError": "errors",
    "Recorder": "metrics",
    "Streams": "rng",
    "derive_seed": "rng",
    "stream": "rng",
    "RunContext": "scenario",
    "Scenario": "scenario",
}

__all__ = [
    "Config",
    "ConfigError",
    "DecisionPoint",
    "EventCounter",
    "Recorder",
    "RunContext",
    "Scenario",
    "SimEnv",
    "Simulation",
    "Streams",
    "derive_seed",
    "stream",
    "validate",
]

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .config import Config, validate
    from .engine import DecisionPoint, EventCounter, Simulation
    from .env import SimEnv
    from .errors import ConfigError
    from .metrics import Recorder
    from .rng import Streams, derive_seed, stream
    from .scenario import RunContext, Scenario


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'netsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
