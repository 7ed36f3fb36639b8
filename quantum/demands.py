"""Demands for entanglement, ``(source, destination, F_min, rate)``, and their routes.

A demand asks for Bell pairs between two end nodes at a fidelity of at least ``F_min`` and
at least ``rate`` pairs per second. It is routed over the shortest path weighted by fibre
length (paper (a): demands follow weighted shortest paths) and served by a periodic task of
period ``ceil(1 / (rate · slot))`` slots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import networkx as nx

__all__ = ["Demand", "route", "period_slots", "path_length_km"]


@dataclass(frozen=True)
class Demand:
    """A request for ``rate_hz`` pairs/s of fidelity >= ``f_min`` between ``src`` and ``dst``.

    Raises:
        ValueError: ``f_min`` outside (0.25, 1], a rate that is not a positive finite number,
            or ``src == dst``.
    """

    src: Any
    dst: Any
    f_min: float
    rate_hz: float

    def __post_init__(self) -> None:
        f = self.f_min
        if not (isinstance(f, int | float) and math.isfinite(f) and 0.25 < f <= 1.0):
            raise ValueError(f"f_min: must be in (0.25, 1] (got {f!r})")
        r = self.rate_hz
        if not (isinstance(r, int | float) and math.isfinite(r) and r > 0):
            raise ValueError(f"rate_hz: must be a positive number of pairs/s (got {r!r})")
        if self.src == self.dst:
            raise ValueError(f"src and dst must differ (both {self.src!r})")


def route(g: nx.Graph, demand: Demand, weight: str = "length_km") -> list:
    """The shortest ``src``→``dst`` path weighted by ``weight`` (ties broken by networkx's
    deterministic Dijkstra order).

    Raises:
        ValueError: an endpoint is not in the graph, or src and dst are disconnected.
    """
    for end in (demand.src, demand.dst):
        if end not in g:
            raise ValueError(f"demand endpoint {end!r} is not a node of the network")
    try:
        return nx.shortest_path(g, demand.src, demand.dst, weight=weight)
    except nx.NetworkXNoPath:
        raise ValueError(f"src {demand.src!r} and dst {demand.dst!r} are disconnected") from None


def period_slots(rate_hz: float, slot_s: float) -> int:
    """``ceil(1 / (rate · slot))`` slots (a relative tolerance of 1e-9 absorbs float error,
    so a rate of exactly ``1/(p·slot)`` gives ``p``)."""
    if not (rate_hz > 0 and math.isfinite(rate_hz)):
        raise ValueError(f"rate_hz: must be a positive number (got {rate_hz!r})")
    if not (slot_s > 0 and math.isfinite(slot_s)):
        raise ValueError(f"slot_s: must be a positive number (got {slot_s!r})")
    x = 1.0 / (rate_hz * slot_s)
    return max(1, math.ceil(x * (1.0 - 1e-9)))


def path_length_km(g: nx.Graph, path: list) -> float:
    """Total fibre length of ``path`` (km)."""
    return float(sum(g.edges[u, v]["length_km"] for u, v in zip(path, path[1:], strict=False)))
