"""Flow-level (fluid) transport on the engine: max-min fair rates between events.

Active subflows share links with max-min fair rates (:func:`~transport.maxmin.max_min_rates`).
Rates are recomputed only when a subflow starts or finishes; in between every subflow drains
at a constant rate, so the next event is the earliest ``remaining·8/rate``. A subflow's last
byte reaches the receiver one route propagation delay after it drains. Identical active sets
(e.g. the same connections in every step of a ring) reuse the previous solution.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from netsim import Simulation

from .maxmin import max_min_rates_coo
from .network import Network

__all__ = ["FlowTransport", "Done", "Callbacks"]

#: ``done(owners, delays_s)``: subflows of ``owners`` drained now; their last byte arrives
#: ``delays_s`` later
Done = Callable[[np.ndarray, np.ndarray], None]
_TIME_TOL = 1e-9
_COLUMNS = (
    "links",
    "frac",
    "remaining",
    "size",
    "owner",
    "cb",
    "delay",
    "rate",
    "t_finish",
)  # finish a subflow when within this fraction of its remaining time


class Callbacks(list):
    """The ``done`` callbacks a transport serves, numbered in order of first use (bound
    methods compare equal, so the same listener always gets the same number)."""

    def index_of(self, done: Done) -> int:
        for i, cb in enumerate(self):
            if cb == done:
                return i
        self.append(done)
        return len(self) - 1


class FlowTransport:
    """Max-min fair fluid transport of subflows over ``net`` on ``sim``.

    Args:
        sim: the simulation (its clock drives the fluid model).
        net: the network.
        solver: ``(rows, cols, coef, n_flows, capacity_bps) -> rates_bps``.
        cache: reuse rates when the active set is identical to a recent one.

    Attributes:
        link_bytes: bytes carried per link so far.
        max_utilisation: largest ``load/capacity`` over links and solves (≤ 1).
        solves, events: rate computations and completion events so far.
    """

    def __init__(self, sim: Simulation, net: Network, solver=None, cache: bool = True):
        self.sim = sim
        self.net = net
        self.solver = solver or max_min_rates_coo
        self._cache: OrderedDict | None = OrderedDict() if cache else None
        n = 0
        self._w = net.tables["width"]
        self.links = np.zeros((n, self._w), dtype=np.int64)
        self.frac = np.zeros((n, self._w))
        self.remaining = np.zeros(n)  # bytes
        self.size = np.zeros(n)
        self.owner = np.zeros(n, dtype=np.int64)
        self.cb = np.zeros(n, dtype=np.int64)
        self.delay = np.zeros(n)
        self.rate = np.zeros(n)  # bps
        self.t_finish = np.zeros(n)
        self._callbacks = Callbacks()
        self._t_last = sim.now
        self._t_solve = sim.now
        self._link_rate = np.zeros(net.n_links)
        self.link_bytes = np.zeros(net.n_links)
        self.delivered_bytes = 0.0
        self.max_utilisation = 0.0
        self.solves = 0
        self.cache_hits = 0
        self.events = 0
        self._token = 0
        self._resolve_pending = False

    # -- public -----------------------------------------------------------------------------
    @property
    def n_active(self) -> int:
        return int(self.remaining.size)

    def add(self, src, dst, path, nbytes, owner, done: Done, rows=None) -> None:
        """Start subflows ``src→dst`` (host ids) on ``path`` (index or SPRAY) with ``nbytes``;
        ``done(owners, delays)`` is called when they drain. ``rows``: their
        ``net.route_rows`` if already computed."""
        nbytes = np.asarray(nbytes, dtype=float)
        if np.any(nbytes <= 0) or np.any(~np.isfinite(nbytes)):
            raise ValueError("nbytes: every subflow needs a finite size > 0")
        links, frac = self.net.route_rows(src, dst, path) if rows is None else rows
        self._advance()
        if links.shape[1] > self._w:
            pad = links.shape[1] - self._w
            self.links = np.pad(self.links, ((0, 0), (0, pad)), constant_values=-1)
            self.frac = np.pad(self.frac, ((0, 0), (0, pad)))
            self._w = links.shape[1]
        elif links.shape[1] < self._w:
            pad = self._w - links.shape[1]
            links = np.pad(links, ((0, 0), (0, pad)), constant_values=-1)
            frac = np.pad(frac, ((0, 0), (0, pad)))
        cb = self._callbacks.index_of(done)
        n = nbytes.size
        self.links = np.concatenate([self.links, links])
        self.frac = np.concatenate([self.frac, frac])
        self.remaining = np.concatenate([self.remaining, nbytes])
        self.size = np.concatenate([self.size, nbytes])
        self.owner = np.concatenate([self.owner, np.broadcast_to(np.asarray(owner), (n,))])
        self.cb = np.concatenate([self.cb, np.full(n, cb)])
        self.delay = np.concatenate([self.delay, self.net.route_delay_s(links, frac)])
        self.rate = np.concatenate([self.rate, np.zeros(n)])
        self.t_finish = np.concatenate([self.t_finish, np.full(n, np.inf)])
        self._request_resolve()

    def outstanding_bytes(self) -> np.ndarray:
        """Bytes still to cross each link (fraction-weighted remaining bytes)."""
        self._advance()
        mask = self.links >= 0
        return np.bincount(
            self.links[mask],
            weights=(self.frac * self.remaining[:, None])[mask],
            minlength=self.net.n_links,
        )

    def link_rates_bps(self) -> np.ndarray:
        """Current load of each link (bps)."""
        return self._link_rate.copy()

    # -- internals --------------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.sim.now
        dt = now - self._t_last
        if dt > 0:
            self.remaining -= self.rate * dt / 8.0
            self.link_bytes += self._link_rate * dt / 8.0
            self._t_last = now

    def _request_resolve(self) -> None:
        if not self._resolve_pending:
            self._resolve_pending = True
            self.sim.schedule(0.0, self._resolve)

    def _resolve(self) -> None:
        self._resolve_pending = False
        self._advance()
        self._token += 1
        n = self.remaining.size
        if n == 0:
            self._link_rate[:] = 0.0
            return
        hit = key = None
        if self._cache is not None:
            key = hash((self.links.tobytes(), self.frac.tobytes()))
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
        if hit is None:
            mask = self.links >= 0
            rows = np.nonzero(mask)[0]
            cols = self.links[mask]
            coef = self.frac[mask]
            rates = self.solver(rows, cols, coef, n, self.net.capacity_bps)
            self.solves += 1
            link_rate = np.bincount(cols, weights=coef * rates[rows], minlength=self.net.n_links)
            util = float((link_rate / self.net.capacity_bps).max())
            hit = (rates, link_rate, util)
            if self._cache is not None:
                self._cache[key] = hit
                if len(self._cache) > 64:
                    self._cache.popitem(last=False)
        self.rate, self._link_rate, util = hit[0].copy(), hit[1].copy(), hit[2]
        self.max_utilisation = max(self.max_utilisation, util)
        now = self.sim.now
        self._t_solve = now
        self.t_finish = now + self.remaining * 8.0 / self.rate
        t_next = float(self.t_finish.min())
        token = self._token
        self.sim.schedule(max(t_next - now, 0.0), self._complete, token)

    def _complete(self, token: int) -> None:
        if token != self._token:
            return  # superseded by a later resolve
        self._advance()
        self.events += 1
        now = self.sim.now
        done = self.t_finish - now <= _TIME_TOL * (self.t_finish - self._t_solve) + 1e-15
        if not done.any():  # float drift: the earliest one is done
            done = self.t_finish <= self.t_finish.min()
        owners, cbs, delays = self.owner[done], self.cb[done], self.delay[done]
        self.delivered_bytes += float(self.size[done].sum())
        keep = np.flatnonzero(~done)
        for name in _COLUMNS:
            setattr(self, name, getattr(self, name).take(keep, axis=0))
        # the kept subflows' rates are stale: freeze link loads until the resolve below
        self._link_rate = np.zeros(self.net.n_links)
        self._request_resolve()
        if len(self._callbacks) == 1:
            self._callbacks[0](owners, delays)
            return
        for c in np.unique(cbs).tolist():
            sel = cbs == c
            self._callbacks[c](owners[sel], delays[sel])
