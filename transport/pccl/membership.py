"""Churn: when peers leave (die) and join, as a validated script of events.

A pool of candidate peers (one per WAN site) alternates between up and down. In the Poisson
model each up peer fails at rate λ and each down peer comes back at rate μ (an alternating
renewal process with Exp(λ) up-times and Exp(μ) down-times), so departures and arrivals are
Poisson with rates λ·(up peers) and μ·(down peers); the long-run fraction of peers up is
``μ / (λ + μ)``. Scripted churn is the same list of events written by hand. Departures are
abrupt: the peer vanishes mid-whatever and the master only notices after a timeout.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from netsim.rng import Buffered

__all__ = ["ChurnEvent", "poisson_churn", "validate_script", "up_fraction"]

Kind = Literal["leave", "join"]


@dataclass(frozen=True, order=True)
class ChurnEvent:
    """At ``time_s`` peer ``peer`` leaves (dies) or joins (connects to the master)."""

    time_s: float
    peer: int
    kind: Kind


def up_fraction(failure_rate: float, rejoin_rate: float) -> float:
    """Long-run probability that a peer is up: ``μ / (λ + μ)`` (1 without failures)."""
    if failure_rate < 0 or rejoin_rate < 0:
        raise ValueError("failure and rejoin rates must be >= 0")
    if failure_rate == 0:
        return 1.0
    return rejoin_rate / (failure_rate + rejoin_rate)


def validate_script(
    events: Iterable[ChurnEvent], peers: int, initial: Sequence[int]
) -> list[ChurnEvent]:
    """Events sorted by time (stable), checked: finite times ≥ 0, peer ids in ``0..peers−1``,
    and per peer strictly alternating leave/join starting from its initial state."""
    up = np.zeros(peers, dtype=bool)
    for p in initial:
        if not 0 <= p < peers:
            raise ValueError(f"initial peer {p} is not a site index in 0..{peers - 1}")
        up[p] = True
    out = sorted(events, key=lambda e: e.time_s)
    for e in out:
        if not np.isfinite(e.time_s) or e.time_s < 0:
            raise ValueError(f"churn event time must be finite and >= 0, got {e.time_s}")
        if not 0 <= e.peer < peers:
            raise ValueError(f"churn event peer {e.peer} is not a site index in 0..{peers - 1}")
        if e.kind not in ("leave", "join"):
            raise ValueError(f"churn event kind must be 'leave' or 'join', got {e.kind!r}")
        if (e.kind == "leave") != bool(up[e.peer]):
            state = "up" if up[e.peer] else "down"
            raise ValueError(f"peer {e.peer} cannot {e.kind} at t={e.time_s:g} s: it is {state}")
        up[e.peer] = e.kind == "join"
    return out


def poisson_churn(
    rng: np.random.Generator,
    peers: int,
    horizon_s: float,
    failure_rate_per_s: float,
    rejoin_rate_per_s: float,
    initial: Sequence[int] | None = None,
) -> list[ChurnEvent]:
    """Alternating Exp(λ) up / Exp(μ) down periods per peer until ``horizon_s``.

    Unit exponentials are drawn in vectorised blocks and consumed peer by peer, so the script
    is a deterministic function of the generator's state.
    """
    if failure_rate_per_s < 0 or rejoin_rate_per_s < 0:
        raise ValueError("failure and rejoin rates must be >= 0")
    if not horizon_s > 0:
        raise ValueError(f"horizon must be > 0 s, got {horizon_s}")
    initial = list(range(peers)) if initial is None else list(initial)
    unit = Buffered(lambda n: rng.exponential(1.0, n), block=256)
    events: list[ChurnEvent] = []
    for p in range(peers):
        up = p in initial
        t = 0.0
        while True:
            rate = failure_rate_per_s if up else rejoin_rate_per_s
            if rate == 0:
                break
            t += unit() / rate
            if t >= horizon_s:
                break
            events.append(ChurnEvent(t, p, "leave" if up else "join"))
            up = not up
    return validate_script(events, peers, initial)
