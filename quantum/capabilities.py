"""Link capability tables: the (fidelity, rate) options a heralded link offers per distance.

A link is described, as in Skrzypczyk & Wehner (2021), by a list of ``(F, R)`` pairs: it
can deliver Werner pairs of fidelity ``F`` at an average rate of ``R`` pairs per second, one
option per setting of the hardware (for NV single-click generation, the bright-state
parameter α trades fidelity ``F ≈ 1 − α`` against rate ``R ∝ α``).

* NV: ``data/nv_link_capabilities.json`` (LinkScheduling, NetSquid-simulated, 5-50 km in
  5 km steps, 10 options each). A distance between table rows uses the next longer row
  (a conservative choice: rates fall with distance, fidelities do not depend on it).
* Futuristic: one option, F = 0.999 at R = 1400 pairs/s on every link, whatever its length
  (the SURFnet parameters of the paper).
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from pathlib import Path

import networkx as nx

from netsim.errors import ConfigError

__all__ = [
    "Capability",
    "FUTURISTIC_LINK",
    "LINK_MODELS",
    "load_capability_table",
    "nv_link_capabilities",
    "futuristic_link_capabilities",
    "check_capabilities",
    "attach_capabilities",
]

#: (fidelity, rate in pairs/s)
Capability = tuple[float, float]
#: the futuristic SURFnet link of paper (a): F = 0.999 at 1400 pairs/s
FUTURISTIC_LINK: Capability = (0.999, 1400.0)


def check_capabilities(options, where: str = "capabilities") -> tuple[Capability, ...]:
    """Validate a list of ``(F, R)`` options: 0.25 <= F <= 1 and 0 < R < inf."""
    out = []
    for item in options:
        try:
            f, r = (float(x) for x in item)
        except (TypeError, ValueError):
            raise ValueError(
                f"{where}: each option must be a (fidelity, rate) pair (got {item!r})"
            ) from None
        if not 0.25 <= f <= 1.0:
            raise ValueError(f"{where}: fidelity must be in [0.25, 1] (got {f})")
        if not (r > 0 and math.isfinite(r)):
            raise ValueError(f"{where}: rate must be a positive number of pairs/s (got {r})")
        out.append((f, r))
    if not out:
        raise ValueError(f"{where}: at least one (fidelity, rate) option is needed")
    return tuple(out)


def load_capability_table(path: str | Path | None = None) -> dict[float, tuple[Capability, ...]]:
    """Distance (km) -> options, from a LinkScheduling-style JSON file (``fidelities`` and
    ``rates`` keyed by distance, lists paired by index). Default: the bundled NV table."""
    return dict(_load_table(str(path) if path is not None else None))


@cache
def _load_table(path: str | None) -> tuple[tuple[float, tuple[Capability, ...]], ...]:
    p = (
        Path(path)
        if path is not None
        else Path(str(resources.files("quantum").joinpath("data/nv_link_capabilities.json")))
    )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        fids, rates = data["fidelities"], data["rates"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"capability table {p}: cannot read fidelities/rates ({type(exc).__name__})"
        ) from None
    rows = []
    for key in fids:
        if key not in rates or len(fids[key]) != len(rates[key]):
            raise ConfigError(
                f"capability table {p}: distance {key!r} has mismatched fidelities/rates"
            )
        rows.append(
            (float(key), check_capabilities(zip(fids[key], rates[key], strict=True), f"{p}[{key}]"))
        )
    return tuple(sorted(rows))


def nv_link_capabilities(distance_km: float, table: dict | None = None) -> tuple[Capability, ...]:
    """NV options for a link of ``distance_km``: the table row of the smallest tabulated
    distance >= ``distance_km``.

    Raises:
        ValueError: the distance is negative or beyond the longest tabulated distance.
    """
    rows = sorted((table or load_capability_table()).items())
    if not (
        isinstance(distance_km, int | float) and math.isfinite(distance_km) and distance_km >= 0
    ):
        raise ValueError(f"distance_km: must be a finite number >= 0 (got {distance_km!r})")
    for d, options in rows:
        if distance_km <= d + 1e-9:
            return options
    raise ValueError(
        f"distance_km: {distance_km:g} km is beyond the NV capability table "
        f"(max {rows[-1][0]:g} km)"
    )


def futuristic_link_capabilities(distance_km: float | None = None) -> tuple[Capability, ...]:
    """The futuristic SURFnet link: F = 0.999 at 1400 pairs/s, independent of distance."""
    return (FUTURISTIC_LINK,)


LINK_MODELS = {"nv": nv_link_capabilities, "futuristic": futuristic_link_capabilities}


def attach_capabilities(g: nx.Graph, model: str = "nv") -> nx.Graph:
    """Set edge attribute ``capabilities`` (tuple of (F, R)) from ``length_km`` for every
    edge of ``g`` using a model of :data:`LINK_MODELS`. Returns ``g`` (modified in place)."""
    if model not in LINK_MODELS:
        raise ConfigError(f"link: unknown model {model!r} (allowed: {', '.join(LINK_MODELS)})")
    fn = LINK_MODELS[model]
    for u, v, data in g.edges(data=True):
        if "length_km" not in data:
            raise ValueError(f"edge {u}-{v}: missing 'length_km'")
        data["capabilities"] = fn(data["length_km"])
    return g
