"""Manhattan mobility on the street grid and vehicle blockage as an on/off process.

UEs walk or drive along street centre lines; at each intersection they go straight with
probability 1/2 and turn left or right with probability 1/4 each (the Manhattan model of
ETSI TR 101 112 / UMTS 30.03 §B.1.4.2), never leaving the city (the disallowed directions'
probability is spread over the allowed ones; a dead end makes them turn back). All functions
are vectorised over UEs and take their random numbers as arguments, so they are pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .geometry import StreetGrid

__all__ = [
    "HEADINGS",
    "Walkers",
    "place_walkers",
    "manhattan_step",
    "positions",
    "segment_index",
    "blockage_step",
]

#: unit vectors of the headings 0 = +x, 1 = +y, 2 = -x, 3 = -y
HEADINGS = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.int64)
#: offset from a UE's last node to its segment's lower-left end, per heading (0 forward)
_START_OFFSET = np.array([[0, 0], [0, 0], [-1, 0], [0, -1]], dtype=np.int64)
#: probabilities of (straight, left, right) at an intersection (UMTS 30.03)
TURN_PROBS = (0.5, 0.25, 0.25)


@dataclass(frozen=True)
class Walkers:
    """UEs on the grid: each left intersection ``node`` (block indices ``(i, j)``) along
    ``heading`` and has covered ``s_m`` metres of the ``block_m`` street segment."""

    node: np.ndarray  # (N, 2) int64
    heading: np.ndarray  # (N,) int64 in 0..3
    s_m: np.ndarray  # (N,) float, in [0, block_m)
    speed_m_s: np.ndarray  # (N,) float

    @property
    def n(self) -> int:
        return int(self.heading.size)


def _allowed(grid: StreetGrid, node: np.ndarray) -> np.ndarray:
    """(N, 4) mask of headings that stay inside the city from ``node``."""
    nxt = node[:, None, :] + HEADINGS[None, :, :]
    return (
        (nxt[..., 0] >= 0)
        & (nxt[..., 0] <= grid.blocks_x)
        & (nxt[..., 1] >= 0)
        & (nxt[..., 1] <= grid.blocks_y)
    )


def place_walkers(grid: StreetGrid, speeds_m_s, uniforms) -> Walkers:
    """Put ``len(speeds_m_s)`` UEs uniformly on the street network with a random allowed
    heading. ``uniforms`` is an ``(N, 3)`` array of U(0, 1) draws."""
    speeds = np.asarray(speeds_m_s, dtype=float)
    u = np.asarray(uniforms, dtype=float)
    n = speeds.size
    if u.shape != (n, 3):
        raise ValueError(f"uniforms must have shape ({n}, 3), got {u.shape}")
    nh = grid.blocks_x * (grid.blocks_y + 1)  # horizontal segments
    nv = (grid.blocks_x + 1) * grid.blocks_y
    seg = np.minimum((u[:, 0] * (nh + nv)).astype(np.int64), nh + nv - 1)
    horiz = seg < nh
    hs, vs = seg, seg - nh
    node = np.where(
        horiz[:, None],
        np.stack([hs % grid.blocks_x, hs // grid.blocks_x], axis=1),
        np.stack([vs // grid.blocks_y, vs % grid.blocks_y], axis=1),
    )
    forward = u[:, 1] < 0.5
    s = u[:, 2] * grid.block_m
    # backward travel on the same segment: start from the far node
    heading = np.where(horiz, np.where(forward, 0, 2), np.where(forward, 1, 3))
    node = node + np.where(forward[:, None], 0, np.where(horiz[:, None], [1, 0], [0, 1]))
    return Walkers(node.astype(np.int64), heading.astype(np.int64), s, speeds)


def _turn(grid: StreetGrid, node, heading, u):
    """New headings at intersection ``node`` for UEs arriving with ``heading``."""
    straight, left, right, back = heading, (heading + 1) % 4, (heading + 3) % 4, (heading + 2) % 4
    cand = np.stack([straight, left, right], axis=1)
    allowed = np.take_along_axis(_allowed(grid, node), cand, axis=1)
    p = np.asarray(TURN_PROBS)[None, :] * allowed
    total = p.sum(axis=1, keepdims=True)
    cdf = np.cumsum(p / np.where(total > 0, total, 1.0), axis=1)
    pick = np.minimum((u[:, None] >= cdf).sum(axis=1), 2)
    return np.where(total[:, 0] > 0, cand[np.arange(cand.shape[0]), pick], back)


def manhattan_step(grid: StreetGrid, w: Walkers, dt_s: float, uniforms) -> Walkers:
    """Advance every UE by ``speed·dt_s`` along the streets. ``uniforms`` is an ``(N, k)``
    array of U(0, 1) draws, one column per intersection a UE may cross in this step
    (``k >= ceil(max speed·dt / block_m)``)."""
    u = np.asarray(uniforms, dtype=float)
    s = w.s_m + w.speed_m_s * dt_s
    node, heading = w.node.copy(), w.heading.copy()
    col = 0
    while True:
        arrive = np.flatnonzero(s >= grid.block_m)
        if arrive.size == 0:
            break
        if col >= u.shape[1]:
            raise ValueError("not enough uniforms: a UE crossed more intersections than columns")
        node[arrive] += HEADINGS[heading[arrive]]
        heading[arrive] = _turn(grid, node[arrive], heading[arrive], u[arrive, col])
        s[arrive] -= grid.block_m
        col += 1
    return replace(w, node=node, heading=heading, s_m=s)


def positions(grid: StreetGrid, w: Walkers) -> np.ndarray:
    """UE positions ``(N, 2)`` in metres."""
    return w.node * grid.block_m + w.s_m[:, None] * HEADINGS[w.heading]


def segment_index(grid: StreetGrid, w: Walkers) -> tuple[np.ndarray, np.ndarray]:
    """Canonical street segment of each UE and its distance (m) from the segment's lower-left
    end. Horizontal segment ``(i, j)`` (from node ``(i, j)`` to ``(i+1, j)``) has id
    ``j·blocks_x + i``; vertical segment ``(i, j)`` has id ``H + i·blocks_y + j`` with
    ``H = blocks_x·(blocks_y + 1)``."""
    h = w.heading
    start = w.node + _START_OFFSET[h]  # backward: the segment starts at the next node
    along = np.where(h < 2, w.s_m, grid.block_m - w.s_m)
    nh = grid.blocks_x * (grid.blocks_y + 1)
    seg = np.where(
        (h & 1) == 0,  # horizontal
        start[:, 1] * grid.blocks_x + start[:, 0],
        nh + start[:, 0] * grid.blocks_y + start[:, 1],
    )
    return seg.astype(np.int64, copy=False), along


def blockage_step(blocked, dt_s: float, mean_blocked_s: float, mean_clear_s: float, uniforms):
    """One step of the two-state (clear/blocked) continuous-time Markov chain of vehicle
    blockage: a clear link becomes blocked with probability ``1 - exp(-dt/mean_clear)`` and a
    blocked one clears with ``1 - exp(-dt/mean_blocked)``; sojourn times are exponential with
    those means (so the blocked fraction is ``mean_blocked / (mean_blocked + mean_clear)``)."""
    if not (mean_blocked_s > 0 and mean_clear_s > 0):
        raise ValueError("mean blocked and clear durations must be > 0")
    blocked = np.asarray(blocked, dtype=bool)
    p_on = -np.expm1(-dt_s / mean_clear_s)
    p_off = -np.expm1(-dt_s / mean_blocked_s)
    u = np.asarray(uniforms, dtype=float)
    return np.where(blocked, u >= p_off, u < p_on)
