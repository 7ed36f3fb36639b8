"""netsim core: the shared discrete-event engine and everything the modules build on.

* :class:`Simulation` - SimPy environment + named RNG streams + metrics recorder;
* :class:`SimEnv` - Gymnasium base class for envs that run on a Simulation;
* :class:`Config`, :func:`validate`, :class:`ConfigError` - strict pydantic configs;
* :class:`Scenario`, :class:`RunContext` - scenarios registered by entry point;
* :mod:`netsim.sweep`, :mod:`netsim.train`, :mod:`netsim.cli` - studies at scale;
* :mod:`netsim.topology`, :mod:`netsim.radio`, :mod:`netsim.stats` - shared helpers.

netsim imports no model module; modules import netsim.
"""

from .config import Config, validate
from .engine import DecisionPoint, EventCounter, Simulation
from .env import SimEnv
from .errors import ConfigError
from .metrics import Recorder
from .rng import Streams, derive_seed, stream
from .scenario import RunContext, Scenario

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
