"""The discrete-event engine: a thin layer over ``simpy.Environment``.

Time is in seconds (float). ``Simulation`` adds named random streams (:mod:`netsim.rng`), a
metrics recorder bound to the simulation clock (:mod:`netsim.metrics`), plain-callback
scheduling and an optional trace hook. Everything else is SimPy: ``sim.env`` is the
``simpy.Environment`` and models may use it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from .metrics import Recorder
from .rng import Streams

__all__ = ["Simulation", "DecisionPoint", "EventCounter"]

TraceHook = Callable[[float, simpy.Event], None]


class Simulation:
    """One simulation run: a SimPy environment, its random streams and its recorder.

    Args:
        seed: run seed; every stream ``sim.rng(name)`` is derived from it.
        trace: optional ``hook(time_s, event)`` called before each event is processed. It
            costs nothing when absent; use it for debugging or counting events.
        start: initial simulation time in seconds.
    """

    def __init__(self, seed: int = 0, *, trace: TraceHook | None = None, start: float = 0.0):
        self.env = simpy.Environment(initial_time=start)
        self.rng = Streams(seed)
        self.seed = self.rng.seed
        self.metrics = Recorder(clock=lambda: self.env.now, start=start)
        if trace is not None:
            self._install_trace(trace)

    # -- clock and events -------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Current simulation time (s)."""
        return self.env.now

    def process(self, generator: Generator[simpy.Event, Any, Any]) -> simpy.Process:
        """Start a SimPy process."""
        return self.env.process(generator)

    def timeout(self, delay: float, value: Any = None) -> simpy.Timeout:
        """An event that fires ``delay`` seconds from now."""
        return self.env.timeout(delay, value)

    def event(self) -> simpy.Event:
        """A fresh, untriggered event."""
        return self.env.event()

    def any_of(self, events) -> simpy.events.AnyOf:
        return self.env.any_of(events)

    def all_of(self, events) -> simpy.events.AllOf:
        return self.env.all_of(events)

    def schedule(self, delay: float, callback: Callable[..., Any], *args: Any) -> simpy.Event:
        """Call ``callback(*args)`` after ``delay`` seconds, without a process."""
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay}")
        ev = self.env.timeout(delay)
        ev.callbacks.append(lambda _ev: callback(*args))
        return ev

    def at(self, time_s: float, callback: Callable[..., Any], *args: Any) -> simpy.Event:
        """Call ``callback(*args)`` at absolute time ``time_s``.

        A time a few ulps in the past (floating-point rounding of replayed absolute times) is
        treated as now; anything earlier raises ``ValueError``.
        """
        delay = time_s - self.env.now
        if delay < -1e-9 * max(1.0, abs(time_s)):
            raise ValueError(f"time {time_s} is in the past (now {self.env.now})")
        return self.schedule(max(0.0, delay), callback, *args)

    def every(
        self, interval: float, callback: Callable[..., Any], *args: Any, first: float | None = None
    ) -> simpy.Process:
        """Call ``callback(*args)`` every ``interval`` seconds (first call after ``first``,
        default ``interval``). Returns the driving process; ``process.interrupt()`` stops it."""
        if interval <= 0:
            raise ValueError(f"interval must be > 0, got {interval}")

        def loop():
            try:
                yield self.env.timeout(interval if first is None else first)
                while True:
                    callback(*args)
                    yield self.env.timeout(interval)
            except simpy.Interrupt:
                return

        return self.env.process(loop())

    # -- running ------------------------------------------------------------------------------
    def run(self, until: float | simpy.Event | None = None) -> Any:
        """Run until a time (s), an event, or until no events are left.

        Running until the current time is a no-op (SimPy would raise).
        """
        if until is not None and not isinstance(until, simpy.Event):
            until = float(until)
            if until == self.env.now:
                return None
        return self.env.run(until=until)

    def run_until(self, event: simpy.Event) -> Any:
        """Run until ``event`` is processed and return its value."""
        return self.env.run(until=event)

    # -- tracing ------------------------------------------------------------------------------
    def _install_trace(self, hook: TraceHook) -> None:
        env = self.env
        step = env.step
        queue = env._queue  # SimPy's heap of (time, priority, id, event)

        def traced_step() -> None:
            if queue:
                t, _prio, _eid, event = queue[0]
                hook(t, event)
            step()

        env.step = traced_step  # type: ignore[method-assign]


class EventCounter:
    """Trace hook that counts processed events: ``Simulation(trace=EventCounter())``."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _t: float, _event: simpy.Event) -> None:
        self.count += 1


class DecisionPoint:
    """Rendezvous between a model process and an external decision maker (an agent).

    The model calls ``action = yield point.request(state)``; this triggers ``point.pending``
    (which an env runs the engine until) and suspends the model until ``point.respond(action)``.
    A model that will ask for no more decisions calls ``point.finish()``; an env then ends the
    episode as terminated.
    """

    __slots__ = ("_env", "pending", "_reply", "state", "finished")

    def __init__(self, sim: Simulation):
        self._env = sim.env
        self.pending: simpy.Event = self._env.event()
        self._reply: simpy.Event | None = None
        self.state: Any = None
        self.finished = False

    @property
    def waiting(self) -> bool:
        """True while a model process waits for an answer."""
        return self._reply is not None

    def request(self, state: Any = None) -> simpy.Event:
        """Signal a decision epoch; returns the event that will carry the action."""
        if self._reply is not None:
            raise RuntimeError("a decision is already pending")
        if self.finished:
            raise RuntimeError("the decision point is finished")
        self.state = state
        self._reply = self._env.event()
        self.pending.succeed(state)
        return self._reply

    def respond(self, action: Any) -> None:
        """Answer the pending request; the model resumes when the engine next runs."""
        if self._reply is None:
            raise RuntimeError("no decision is pending")
        reply, self._reply = self._reply, None
        self.pending = self._env.event()
        reply.succeed(action)

    def finish(self, state: Any = None) -> None:
        """Signal that no decision will be requested any more (the episode is over)."""
        if self._reply is not None:
            raise RuntimeError("cannot finish while a decision is pending")
        if not self.finished:
            self.finished = True
            self.state = state
            self.pending.succeed(state)
