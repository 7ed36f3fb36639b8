"""Manhattan street grid: buildings, base-station layouts and line of sight by street geometry.

The city is ``blocks_x × blocks_y`` square blocks. Street centre lines run along
``x = i·block_m`` and ``y = j·block_m``; each street is ``street_m`` wide, and the building of
block ``(i, j)`` fills ``(i·B + w/2, (i+1)·B - w/2) × (j·B + w/2, (j+1)·B - w/2)`` (B = block,
w = street width). A link is line of sight (LoS) exactly when the straight segment between its
ends stays out of every building's interior, so it is LoS while UE and BS share a street and
turns NLoS once a building corner intervenes (the Manhattan / street-canyon picture of
3GPP TR 38.901 UMi and METIS D1.4 §4.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from netsim.topology import hex_grid

__all__ = ["LAYOUTS", "StreetGrid", "line_of_sight", "manhattan_sites", "hex_sites", "sites"]

#: base-station layouts accepted by :func:`sites`
LAYOUTS = ("manhattan", "hex")


@dataclass(frozen=True)
class StreetGrid:
    """A Manhattan grid of ``blocks_x × blocks_y`` blocks of side ``block_m`` (centre line to
    centre line) with streets ``street_m`` wide; requires ``0 < street_m < block_m / 2``."""

    blocks_x: int
    blocks_y: int
    block_m: float
    street_m: float

    def __post_init__(self):
        for name in ("blocks_x", "blocks_y"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1 (got {v!r})")
        if not (math.isfinite(self.block_m) and self.block_m > 0):
            raise ValueError(f"block_m: must be a positive number (got {self.block_m!r})")
        if not (0 < self.street_m < self.block_m / 2):
            raise ValueError(
                f"street_m: must be in (0, block_m/2) = (0, {self.block_m / 2:g}) "
                f"(got {self.street_m!r})"
            )

    @property
    def width_m(self) -> float:
        return self.blocks_x * self.block_m

    @property
    def height_m(self) -> float:
        return self.blocks_y * self.block_m

    def in_building(self, xy) -> np.ndarray:
        """True where a point lies strictly inside a building."""
        xy = np.asarray(xy, dtype=float)
        x, y = xy[..., 0], xy[..., 1]
        return _inside(x, self.block_m, self.street_m, self.blocks_x) & _inside(
            y, self.block_m, self.street_m, self.blocks_y
        )

    def snap(self, xy) -> np.ndarray:
        """The nearest point on a street centre line inside the city, for each point."""
        xy = np.asarray(xy, dtype=float)
        b = self.block_m
        x = np.clip(xy[..., 0], 0.0, self.width_m)
        y = np.clip(xy[..., 1], 0.0, self.height_m)
        vx = np.round(x / b) * b  # nearest vertical street
        hy = np.round(y / b) * b  # nearest horizontal street
        to_vertical = np.abs(x - vx) <= np.abs(y - hy)
        return np.stack([np.where(to_vertical, vx, x), np.where(to_vertical, y, hy)], axis=-1)


def _inside(c, block, street, n_blocks):
    """Coordinate strictly inside a building span (i·B + w/2, (i+1)·B - w/2), 0 <= i < n."""
    frac = c - np.floor(c / block) * block
    half = street / 2.0
    return (c > 0) & (c < n_blocks * block) & (frac > half) & (frac < block - half)


def _same_strip(a, b, block, street):
    """Both coordinates within half a street width of the same street centre line."""
    k = np.round(a / block)
    line = k * block
    half = street / 2.0
    return (np.abs(a - line) <= half) & (np.abs(b - line) <= half)


def _free_span(lo, hi, block, street, n_blocks, tol):
    """True where the coordinate interval ``[lo, hi]`` avoids every building span: it lies in
    one street strip ``[k·B - w/2, k·B + w/2]`` or wholly outside the built-up range."""
    half = street / 2.0
    k = np.round(0.5 * (lo + hi) / block)
    in_strip = (lo >= k * block - half - tol) & (hi <= k * block + half + tol)
    outside = (hi <= half + tol) | (lo >= n_blocks * block - half - tol)
    return in_strip | outside


def line_of_sight(grid: StreetGrid, p, q, tol: float = 1e-9) -> np.ndarray:
    """Exact LoS test of the segments ``p -> q`` (arrays ``(..., 2)`` in metres, broadcast).

    Take the axis along which the segment moves least (the short axis). The segment is NLoS
    exactly when, while its short coordinate is inside some building span, its long coordinate
    enters a building span too (it leaves the street strip). Segments inside one street strip
    are LoS at once; with ``street_m < block_m/2`` a segment moving more than
    ``block_m + street_m`` along both axes always crosses a building, so the short coordinate
    meets at most three building spans.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    shape = np.broadcast_shapes(p.shape, q.shape)[:-1]
    p = np.broadcast_to(p, (*shape, 2)).reshape(-1, 2)
    q = np.broadcast_to(q, (*shape, 2)).reshape(-1, 2)
    b, w = grid.block_m, grid.street_m
    los = _same_strip(p[:, 0], q[:, 0], b, w) | _same_strip(p[:, 1], q[:, 1], b, w)
    d = q - p
    short = np.minimum(np.abs(d[:, 0]), np.abs(d[:, 1])) <= b + w
    check = np.flatnonzero(~los & short)
    if check.size:
        pc, dc = p[check], d[check]
        ax = (np.abs(dc[:, 1]) < np.abs(dc[:, 0])).astype(np.int64)  # short axis
        rows = np.arange(check.size)
        ps, ds = pc[rows, ax], dc[rows, ax]
        pl, dl = pc[rows, 1 - ax], dc[rows, 1 - ax]
        n_short = np.where(ax == 0, grid.blocks_x, grid.blocks_y)
        n_long = np.where(ax == 0, grid.blocks_y, grid.blocks_x)
        first = np.floor(np.minimum(ps, ps + ds) / b).astype(np.int64)
        idx = first[:, None] + np.arange(3)[None, :]
        e0, e1 = idx * b + w / 2.0, (idx + 1) * b - w / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            ta, tb = (e0 - ps[:, None]) / ds[:, None], (e1 - ps[:, None]) / ds[:, None]
        moving = ds[:, None] != 0
        still_in = (ps[:, None] > e0) & (ps[:, None] < e1)
        t0 = np.where(moving, np.minimum(ta, tb), np.where(still_in, 0.0, 2.0))
        t1 = np.where(moving, np.maximum(ta, tb), np.where(still_in, 1.0, -1.0))
        t0, t1 = np.clip(t0, 0.0, 1.0), np.clip(t1, 0.0, 1.0)
        real = (idx >= 0) & (idx < n_short[:, None]) & (t1 - t0 > tol)
        c0, c1 = pl[:, None] + t0 * dl[:, None], pl[:, None] + t1 * dl[:, None]
        free = _free_span(np.minimum(c0, c1), np.maximum(c0, c1), b, w, n_long[:, None], tol)
        los[check] = ~(real & ~free).any(axis=1)
    return los.reshape(shape)


def manhattan_sites(grid: StreetGrid) -> np.ndarray:
    """Small cells at the middle of street segments in a checkerboard: horizontal segments
    ``(i, j)`` with ``i + j`` even and vertical ones with ``i + j`` odd. Returns ``(M, 2)`` m."""
    b = grid.block_m
    pts = [
        ((i + 0.5) * b, j * b)
        for j in range(grid.blocks_y + 1)
        for i in range(grid.blocks_x)
        if (i + j) % 2 == 0
    ]
    pts += [
        (i * b, (j + 0.5) * b)
        for i in range(grid.blocks_x + 1)
        for j in range(grid.blocks_y)
        if (i + j) % 2 == 1
    ]
    return np.asarray(pts, dtype=float)


def hex_sites(grid: StreetGrid, isd_m: float) -> np.ndarray:
    """A hexagonal layout with inter-site distance ``isd_m`` (``netsim.topology.hex_grid``)
    centred on the city, each site snapped to the nearest street centre line; sites falling
    outside the city and duplicates after snapping are dropped."""
    if not isd_m > 0:
        raise ValueError(f"isd_m: must be > 0 (got {isd_m!r})")
    rings = int(math.ceil(max(grid.width_m, grid.height_m) / isd_m)) + 1
    pts = hex_grid(rings, float(isd_m)) + np.array([grid.width_m / 2, grid.height_m / 2])
    keep = (
        (pts[:, 0] >= 0)
        & (pts[:, 0] <= grid.width_m)
        & (pts[:, 1] >= 0)
        & (pts[:, 1] <= grid.height_m)
    )
    snapped = np.round(grid.snap(pts[keep]), 6)
    _, first = np.unique(snapped, axis=0, return_index=True)
    return snapped[np.sort(first)]


def sites(grid: StreetGrid, layout: str, isd_m: float | None = None) -> np.ndarray:
    """Base-station positions ``(M, 2)`` for ``layout`` in :data:`LAYOUTS`."""
    if layout == "manhattan":
        return manhattan_sites(grid)
    if layout == "hex":
        if isd_m is None:
            raise ValueError("isd_m: required for the hex layout")
        return hex_sites(grid, isd_m)
    raise ValueError(f"layout: unknown layout {layout!r} (allowed: {', '.join(LAYOUTS)})")
