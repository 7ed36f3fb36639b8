"""Background traffic sharing the fabric with a collective.

Every host in ``hosts`` starts flows as a Poisson process of rate
``λ = load · host_rate / (8 · mean_bytes)`` per second, so it offers ``load`` of its link on
average; destinations are uniform over the other hosts, sizes fixed or exponential, and each
flow is routed by ECMP on a fresh connection (the usual model of datacenter background load,
e.g. Alizadeh et al., pFabric, SIGCOMM 2013, with a simpler size law).
"""

from __future__ import annotations

import numpy as np

from netsim import Simulation
from netsim.rng import Buffered

from .balancing import ECMP
from .network import Network

__all__ = ["BackgroundTraffic"]


class BackgroundTraffic:
    """Poisson background flows on ``transport`` until :meth:`stop`.

    Attributes:
        started, finished: flow counts; fct_s: completion times of finished flows (s);
        slowdown: FCT over the flow's size / host rate (1 = line rate, unloaded).
    """

    def __init__(
        self,
        sim: Simulation,
        net: Network,
        transport,
        load: float,
        mean_bytes: float,
        sizes: str = "fixed",
        hosts=None,
    ):
        if not 0 < load < 1:
            raise ValueError(f"background load: must be in (0, 1) (got {load})")
        if not mean_bytes > 0:
            raise ValueError(f"background mean_bytes: must be > 0 (got {mean_bytes})")
        if sizes not in ("fixed", "exponential"):
            raise ValueError(f"background sizes: unknown {sizes!r} (allowed: fixed, exponential)")
        self.sim, self.net, self.transport = sim, net, transport
        self.hosts = np.arange(net.n_hosts) if hosts is None else np.asarray(hosts)
        if self.hosts.size < 2:
            raise ValueError("background traffic needs at least 2 hosts")
        rate_bps = float(net.capacity_bps[net.host_up[self.hosts]].mean())
        self.mean_bytes, self.sizes = float(mean_bytes), sizes
        total_rate = load * rate_bps / (8.0 * mean_bytes) * self.hosts.size
        g = sim.rng("transport.background")
        self._gap = Buffered(lambda n: g.exponential(1.0 / total_rate, n))
        self._pick = Buffered(lambda n: g.random(n))
        self._size = Buffered(lambda n: g.exponential(mean_bytes, n))
        self._ecmp = ECMP(sim.rng("transport.background.ecmp"))
        self._line_Bps = rate_bps / 8.0
        self._t0: dict[int, float] = {}
        self._bytes: dict[int, float] = {}
        self.started = self.finished = 0
        self.fct_s: list[float] = []
        self.slowdown: list[float] = []
        self._stopped = False
        sim.process(self._arrivals())

    def stop(self) -> None:
        """No new flows after now (flows in flight finish)."""
        self._stopped = True

    def _arrivals(self):
        h = self.hosts
        while True:
            yield self.sim.timeout(self._gap())
            if self._stopped:
                return
            i = int(self._pick() * h.size)
            j = int(self._pick() * (h.size - 1))
            src, dst = int(h[i]), int(h[j + (j >= i)])
            size = self.mean_bytes if self.sizes == "fixed" else max(self._size(), 1.0)
            fid = self.started
            self.started += 1
            self._t0[fid], self._bytes[fid] = self.sim.now, size
            path = self._ecmp.paths(self.net, [src], [dst], [10_000_000 + fid])
            self.transport.add([src], [dst], path, [size], [fid], self._done)

    def _done(self, owners: np.ndarray, delays: np.ndarray) -> None:
        for fid, d in zip(owners.tolist(), delays.tolist(), strict=True):
            fct = self.sim.now + d - self._t0.pop(fid)
            self.fct_s.append(fct)
            self.slowdown.append(fct / (self._bytes.pop(fid) / self._line_Bps))
            self.finished += 1
