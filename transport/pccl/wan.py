"""The WAN between peers: sites with pairwise link capacity and RTT, and multi-connection TCP.

Pure functions. Units: bits per second (``*_bps``), seconds (``*_s``), bytes (``*_bytes``).

* A :class:`Wan` holds the directed link capacity ``C[i, j]`` (bps) from site i to site j and
  the symmetric round-trip time ``RTT[i, j]`` (s). It is given as matrices
  (:func:`matrix_wan`) or built from city coordinates (:func:`geo_wan`): RTT from the
  great-circle distance over fibre, capacity ``min(access_i, access_j)``, i.e. the public
  internet core is assumed not to be the bottleneck, only each site's access link.
* One TCP connection over RTT carries at most ``8·W/RTT`` (window-limited: the sender has at
  most one receive window W in flight per round trip) and, with random loss p, at most the
  Mathis et al. rate ``8·MSS/RTT · sqrt(3/2)/sqrt(p)`` ("The macroscopic behavior of the TCP
  congestion avoidance algorithm", CCR 27(3), 1997). PCCL dispatches a transfer over ``k``
  parallel connections per peer pair, so the pair gets ``min(k · per_connection, C)``: the
  aggregate is capped by the link (PCCL technical report, arXiv:2505.14065: dispatching to
  multiple connections is how PCCL fills long-fat-pipe WAN links).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from netsim.topology import great_circle_km

__all__ = [
    "SITES",
    "FIBRE_SPEED_M_S",
    "Wan",
    "check_square",
    "matrix_wan",
    "geo_wan",
    "window_rate_bps",
    "mathis_rate_bps",
    "connection_rate_bps",
    "pair_rate_bps",
    "connections_to_fill",
    "effective_bandwidth",
    "measure_bandwidth",
]

#: Light in silica fibre, c / n with group index n ≈ 1.5 (m/s).
FIBRE_SPEED_M_S = 2.0e8

#: Approximate city-centre coordinates (latitude, longitude in degrees) of datacenter metros.
SITES: dict[str, tuple[float, float]] = {
    "london": (51.507, -0.128),
    "amsterdam": (52.370, 4.895),
    "frankfurt": (50.110, 8.682),
    "paris": (48.857, 2.352),
    "stockholm": (59.329, 18.069),
    "warsaw": (52.230, 21.012),
    "madrid": (40.417, -3.704),
    "new_york": (40.713, -74.006),
    "ashburn": (39.044, -77.487),
    "chicago": (41.878, -87.630),
    "dallas": (32.777, -96.797),
    "los_angeles": (34.052, -118.244),
    "seattle": (47.606, -122.332),
    "toronto": (43.653, -79.383),
    "sao_paulo": (-23.551, -46.633),
    "tokyo": (35.676, 139.650),
    "singapore": (1.352, 103.820),
    "sydney": (-33.869, 151.209),
}


def check_square(matrix, name: str, n: int | None = None) -> np.ndarray:
    """``matrix`` as a float (n, n) array with finite, positive off-diagonal entries.

    The diagonal is ignored and returned as 0. Raises ValueError naming ``name`` otherwise.
    """
    try:
        m = np.array(matrix, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a square matrix of numbers") from None
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{name}: must be a square n x n matrix, got shape {m.shape}")
    if n is not None and m.shape[0] != n:
        raise ValueError(f"{name}: must be {n} x {n} (one row per site), got {m.shape[0]}")
    if m.shape[0] < 2:
        raise ValueError(f"{name}: needs at least 2 sites, got {m.shape[0]}")
    off = ~np.eye(m.shape[0], dtype=bool)
    if not np.all(np.isfinite(m[off])) or np.any(m[off] <= 0):
        raise ValueError(f"{name}: off-diagonal entries must be finite and > 0")
    np.fill_diagonal(m, 0.0)
    return m


@dataclass(frozen=True)
class Wan:
    """Sites with directed link capacity ``capacity_bps[i, j]`` and symmetric ``rtt_s``."""

    names: tuple[str, ...]
    capacity_bps: np.ndarray
    rtt_s: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.names)
        cap = check_square(self.capacity_bps, "capacity matrix", n)
        rtt = check_square(self.rtt_s, "rtt matrix", n)
        if not np.allclose(rtt, rtt.T, rtol=1e-12, atol=0.0):
            raise ValueError("rtt matrix: must be symmetric (a round trip has one length)")
        if len(set(self.names)) != n:
            raise ValueError("site names must be unique")
        cap.setflags(write=False)
        rtt.setflags(write=False)
        object.__setattr__(self, "capacity_bps", cap)
        object.__setattr__(self, "rtt_s", rtt)

    @property
    def n(self) -> int:
        return len(self.names)

    def latency_s(self) -> np.ndarray:
        """One-way propagation latency RTT/2 (s)."""
        return self.rtt_s / 2.0


def matrix_wan(capacity_gbps, rtt_ms, names: Sequence[str] | None = None) -> Wan:
    """A WAN from explicit matrices: capacity in Gbit/s (directed), RTT in ms (symmetric)."""
    cap = check_square(capacity_gbps, "capacity_gbps")
    n = cap.shape[0]
    rtt = check_square(rtt_ms, "rtt_ms", n)
    names = tuple(names) if names is not None else tuple(f"site{i}" for i in range(n))
    return Wan(names, cap * 1e9, rtt * 1e-3)


def geo_wan(
    sites: Sequence[str],
    access_gbps: float | Sequence[float],
    route_factor: float = 1.5,
    min_rtt_ms: float = 1.0,
) -> Wan:
    """A WAN of named metros (keys of :data:`SITES`).

    ``RTT = max(min_rtt, 2 · route_factor · d / v_fibre)`` with d the great-circle distance
    and v_fibre = 2e8 m/s; ``route_factor`` ≥ 1 is the fibre-route inflation over the
    geodesic (an assumption: terrestrial and submarine routes are longer than great circles).
    Capacity ``C[i, j] = min(access_i, access_j)``: each site's access link is the only
    bottleneck (the core is over-provisioned). Gbit/s in, bps out.
    """
    sites = list(sites)
    unknown = [s for s in sites if s not in SITES]
    if unknown:
        raise ValueError(f"unknown site '{unknown[0]}' (known: {', '.join(SITES)})")
    if len(sites) < 2:
        raise ValueError(f"a WAN needs at least 2 sites, got {len(sites)}")
    if route_factor < 1.0:
        raise ValueError(f"route_factor must be >= 1, got {route_factor}")
    if min_rtt_ms <= 0:
        raise ValueError(f"min_rtt_ms must be > 0, got {min_rtt_ms}")
    access = np.asarray(access_gbps, dtype=float)
    if access.ndim == 0:
        access = np.full(len(sites), float(access))
    if access.shape != (len(sites),) or np.any(~np.isfinite(access)) or np.any(access <= 0):
        raise ValueError("access_gbps must be > 0, one value or one per site")
    lat, lon = np.array([SITES[s] for s in sites]).T
    d_km = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    rtt_s = np.maximum(2.0 * route_factor * d_km * 1e3 / FIBRE_SPEED_M_S, min_rtt_ms * 1e-3)
    cap = np.minimum(access[:, None], access[None, :]) * 1e9
    return Wan(tuple(sites), cap, rtt_s)


def window_rate_bps(window_bytes, rtt_s):
    """Window-limited TCP throughput ``8·W/RTT`` (bps): one window in flight per round trip."""
    return 8.0 * np.asarray(window_bytes, dtype=float) / np.asarray(rtt_s, dtype=float)


def mathis_rate_bps(mss_bytes, rtt_s, loss_rate):
    """Mathis et al. (1997) loss-limited TCP throughput ``8·MSS/RTT · sqrt(3/2)/sqrt(p)``
    (bps); infinite for p = 0."""
    p = np.asarray(loss_rate, dtype=float)
    with np.errstate(divide="ignore"):
        return 8.0 * mss_bytes / np.asarray(rtt_s, dtype=float) * np.sqrt(1.5) / np.sqrt(p)


def connection_rate_bps(rtt_s, window_bytes, mss_bytes: float = 1460.0, loss_rate=0.0):
    """One connection: ``min(8·W/RTT, Mathis)`` (bps)."""
    return np.minimum(
        window_rate_bps(window_bytes, rtt_s), mathis_rate_bps(mss_bytes, rtt_s, loss_rate)
    )


def pair_rate_bps(
    connections, rtt_s, capacity_bps, window_bytes, mss_bytes: float = 1460.0, loss_rate=0.0
):
    """``k`` parallel connections over one link: ``min(k · per_connection, C)`` (bps)."""
    per = connection_rate_bps(rtt_s, window_bytes, mss_bytes, loss_rate)
    return np.minimum(np.asarray(connections, dtype=float) * per, capacity_bps)


def connections_to_fill(capacity_bps, rtt_s, window_bytes) -> np.ndarray:
    """Fewest window-limited connections that fill the link: ``ceil(C·RTT / 8W)`` (the
    bandwidth-delay product over the window)."""
    bdp_bits = np.asarray(capacity_bps, dtype=float) * np.asarray(rtt_s, dtype=float)
    return np.ceil(bdp_bits / (8.0 * window_bytes) - 1e-9).astype(int)


def _check_transport(connections: int, window_bytes: float, mss_bytes: float, loss_rate: float):
    if int(connections) != connections or connections < 1:
        raise ValueError(f"connections must be an integer >= 1, got {connections}")
    if not window_bytes > 0:
        raise ValueError(f"window_bytes must be > 0, got {window_bytes}")
    if not mss_bytes > 0:
        raise ValueError(f"mss_bytes must be > 0, got {mss_bytes}")
    if not 0.0 <= loss_rate < 1.0:
        raise ValueError(f"loss_rate must be in [0, 1), got {loss_rate}")


def effective_bandwidth(
    wan: Wan,
    connections: int,
    window_bytes: float,
    mss_bytes: float = 1460.0,
    loss_rate: float = 0.0,
) -> np.ndarray:
    """Achievable rate (bps) of every directed pair with ``connections`` TCP connections:
    :func:`pair_rate_bps` over the WAN's matrices; the diagonal is 0."""
    _check_transport(connections, window_bytes, mss_bytes, loss_rate)
    rtt = wan.rtt_s.copy()
    np.fill_diagonal(rtt, 1.0)  # placeholder, the diagonal is zeroed below
    bw = pair_rate_bps(connections, rtt, wan.capacity_bps, window_bytes, mss_bytes, loss_rate)
    np.fill_diagonal(bw, 0.0)
    return bw


def measure_bandwidth(true_bps: np.ndarray, rng: np.random.Generator, cv: float) -> np.ndarray:
    """A bandwidth benchmark's reading: ``true · X`` with X log-normal, mean 1 and coefficient
    of variation ``cv`` (σ² = ln(1 + cv²), μ = −σ²/2). ``cv = 0`` returns the truth."""
    if cv < 0:
        raise ValueError(f"measurement cv must be >= 0, got {cv}")
    true_bps = np.asarray(true_bps, dtype=float)
    if cv == 0:
        return true_bps.copy()
    s2 = np.log1p(cv * cv)
    return true_bps * rng.lognormal(-s2 / 2.0, np.sqrt(s2), size=true_bps.shape)
