"""Flow-level (fluid) transport on the engine: max-min fair rates between events.

Active subflows share links with max-min fair rates (:func:`~transport.maxmin.max_min_rates`).
Rates are recomputed only when a subflow starts or finishes; in between every subflow drains
at a constant rate, so the next event is the earliest ``remaining·8/rate``. A subflow's last
byte reaches the receiver one route propagation delay after it drains.

Per-event cost. A completion event removes the drained subflows and recomputes the rates in
the same engine callback (no second event). Routes (incidence rows) are interned once, so an
active subflow is a route id plus a few scalars: removing subflows compacts five 1-D arrays,
and the rate cache is keyed by the sequence of route ids (8 bytes per subflow, compared
exactly) instead of the padded incidence rows. Identical active sets (e.g. the same
connections in every step of a ring) reuse the previous solution, and the incidence matrix is
only gathered from the route table when the solver actually runs.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from netsim import Simulation

from .maxmin import max_min_rates_coo
from .network import Network

__all__ = ["FlowTransport", "Done", "Callbacks", "RouteTable"]

#: ``done(owners, delays_s)``: subflows of ``owners`` drained now; their last byte arrives
#: ``delays_s`` later
Done = Callable[[np.ndarray, np.ndarray], None]
#: finish a subflow when within this fraction of its remaining time (float drift)
_TIME_TOL = 1e-9
_CACHE_SIZE = 64  # rate solutions kept
_EXACT_KEY_MAX = 8192  # active subflows up to which the cache key is the route ids' bytes


class Callbacks(list):
    """The ``done`` callbacks a transport serves, numbered in order of first use (bound
    methods compare equal, so the same listener always gets the same number)."""

    def index_of(self, done: Done) -> int:
        for i, cb in enumerate(self):
            if cb == done:
                return i
        self.append(done)
        return len(self) - 1


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (Steele et al., OOPSLA 2014) on uint64 arrays."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class RouteTable:
    """Interned incidence rows: every distinct ``(links, fraction)`` row gets one id.

    Rows are ``-1`` / 0 padded; the table widens when a wider row arrives. Lookup hashes
    each row (multiply-add over its columns, then a 64-bit mix; padding contributes 0, so
    the hash does not depend on the width) and then compares the candidate rows exactly, so
    a hash collision only costs a duplicate entry, never a wrong route.
    """

    def __init__(self, net: Network, width: int):
        self.net = net
        self.links = np.full((0, width), -1, dtype=np.int64)
        self.frac = np.zeros((0, width))
        self.delay = np.zeros(0)  # route propagation delay (s)
        self._tags = np.zeros(0, dtype=np.uint64)  # sorted hashes of the indexed routes
        self._tag_ids = np.zeros(0, dtype=np.int64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def width(self) -> int:
        return int(self.links.shape[1])

    def _widen(self, width: int) -> None:
        pad = width - self.width
        self.links = np.pad(self.links, ((0, 0), (0, pad)), constant_values=-1)
        self.frac = np.pad(self.frac, ((0, 0), (0, pad)))

    @staticmethod
    def _hash(links: np.ndarray, frac: np.ndarray) -> np.ndarray:
        w = links.shape[1]
        col = np.arange(1, 2 * w + 1, dtype=np.uint64)
        mult = _mix64(col * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
        with np.errstate(over="ignore"):
            h = ((links + 1).astype(np.uint64) * mult[:w]).sum(axis=1, dtype=np.uint64)
            h += (frac.view(np.uint64) * mult[w:]).sum(axis=1, dtype=np.uint64)
            return _mix64(h)

    def intern(self, links: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """Route id of every row of ``(links, frac)`` (new rows are added)."""
        links = np.asarray(links, dtype=np.int64)
        frac = np.asarray(frac, dtype=float)
        if links.shape[1] > self.width:
            self._widen(links.shape[1])
        elif links.shape[1] < self.width:
            pad = self.width - links.shape[1]
            links = np.pad(links, ((0, 0), (0, pad)), constant_values=-1)
            frac = np.pad(frac, ((0, 0), (0, pad)))
        frac = np.where(links >= 0, frac, 0.0)  # canonical padding (and -0.0 -> 0.0 there)
        tags = self._hash(links, frac)
        ids = np.full(tags.size, -1, dtype=np.int64)
        if self._tags.size:
            pos = np.minimum(np.searchsorted(self._tags, tags), self._tags.size - 1)
            cand = np.where(self._tags[pos] == tags, self._tag_ids[pos], -1)
            hit = cand >= 0
            c = cand[hit]
            same = (self.links[c] == links[hit]).all(axis=1) & (self.frac[c] == frac[hit]).all(
                axis=1
            )
            ids[np.flatnonzero(hit)[same]] = c[same]
        new = np.flatnonzero(ids < 0)
        if new.size:
            # distinct new rows (by tag, verified exactly; a colliding row gets its own id)
            t_new = tags[new]
            _, first, inv = np.unique(t_new, return_index=True, return_inverse=True)
            rep = new[first[inv]]
            same = (links[rep] == links[new]).all(axis=1) & (frac[rep] == frac[new]).all(axis=1)
            owner = np.where(same, rep, new)  # row that defines each new row's route
            uniq = np.unique(owner)
            base = self._n
            ids[uniq] = base + np.arange(uniq.size)
            ids[new] = ids[owner]
            self.links = np.concatenate([self.links, links[uniq]])
            self.frac = np.concatenate([self.frac, frac[uniq]])
            self.delay = np.concatenate(
                [self.delay, self.net.route_delay_s(links[uniq], frac[uniq])]
            )
            self._n += uniq.size
            # index the first route of every new tag (a colliding one stays unindexed)
            t_idx = tags[uniq]
            keep = ~np.isin(t_idx, self._tags)
            t_all = np.concatenate([self._tags, t_idx[keep]])
            i_all = np.concatenate([self._tag_ids, ids[uniq][keep]])
            t_all, first = np.unique(t_all, return_index=True)
            self._tags, self._tag_ids = t_all, i_all[first]
        return ids


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
        solves, cache_hits, events: rate computations, reused solutions and completion
            events so far.
        routes: the :class:`RouteTable` of interned incidence rows.
    """

    def __init__(self, sim: Simulation, net: Network, solver=None, cache: bool = True):
        self.sim = sim
        self.net = net
        self.solver = solver or max_min_rates_coo
        self._cache: OrderedDict | None = OrderedDict() if cache else None
        self.routes = RouteTable(net, net.tables["width"])
        # active subflows, in start order
        self.route = np.zeros(0, dtype=np.int64)
        self.remaining = np.zeros(0)  # bytes, as of the last advance
        self.size = np.zeros(0)
        self.owner = np.zeros(0, dtype=np.int64)
        self.cb = np.zeros(0, dtype=np.int64)
        self.rate = np.zeros(0)  # bps
        self.t_finish = np.zeros(0)
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
        self._in_complete = False

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
        ids = self.routes.intern(links, frac)
        self._advance()
        n = nbytes.size
        cb = self._callbacks.index_of(done)
        self.route = np.concatenate([self.route, ids])
        self.remaining = np.concatenate([self.remaining, nbytes])
        self.size = np.concatenate([self.size, nbytes])
        self.owner = np.concatenate([self.owner, np.broadcast_to(np.asarray(owner), (n,))])
        self.cb = np.concatenate([self.cb, np.full(n, cb)])
        self.rate = np.concatenate([self.rate, np.zeros(n)])
        self.t_finish = np.concatenate([self.t_finish, np.full(n, np.inf)])
        self._request_resolve()

    def outstanding_bytes(self) -> np.ndarray:
        """Bytes still to cross each link (fraction-weighted remaining bytes)."""
        self._advance()
        links = self.routes.links[self.route]
        mask = links >= 0
        return np.bincount(
            links[mask],
            weights=(self.routes.frac[self.route] * self.remaining[:, None])[mask],
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
            if not self._in_complete:  # a completion event resolves before it returns
                self.sim.schedule(0.0, self._resolve)

    def _key(self):
        """Cache key of the active set: its route ids in order (exact bytes, or a 128-bit
        BLAKE2b digest of them for very large sets)."""
        raw = self.route.tobytes()
        if self.route.size <= _EXACT_KEY_MAX:
            return raw
        return hashlib.blake2b(raw, digest_size=16).digest()

    def _solve(self, n: int):
        links = self.routes.links[self.route]
        mask = links >= 0
        rows = np.nonzero(mask)[0]
        cols = links[mask]
        coef = self.routes.frac[self.route][mask]
        rates = self.solver(rows, cols, coef, n, self.net.capacity_bps)
        self.solves += 1
        link_rate = np.bincount(cols, weights=coef * rates[rows], minlength=self.net.n_links)
        util = float((link_rate / self.net.capacity_bps).max())
        return rates, link_rate, util

    def _resolve(self) -> None:
        self._resolve_pending = False
        self._advance()
        self._token += 1
        n = self.remaining.size
        if n == 0:
            self._link_rate = np.zeros(self.net.n_links)
            return
        hit = key = None
        if self._cache is not None:
            key = self._key()
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
        if hit is None:
            hit = self._solve(n)
            if self._cache is not None:
                self._cache[key] = hit
                if len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        self.rate, self._link_rate, util = hit  # never modified in place
        self.max_utilisation = max(self.max_utilisation, util)
        now = self.sim.now
        self._t_solve = now
        self.t_finish = now + self.remaining * 8.0 / self.rate
        t_next = float(self.t_finish.min())
        self.sim.schedule(max(t_next - now, 0.0), self._complete, self._token)

    def _complete(self, token: int) -> None:
        if token != self._token:
            return  # superseded by a later resolve
        self._advance()
        self.events += 1
        now = self.sim.now
        done = self.t_finish - now <= _TIME_TOL * (self.t_finish - self._t_solve) + 1e-15
        if not done.any():  # float drift: the earliest one is done
            done = self.t_finish <= self.t_finish.min()
        idx = np.flatnonzero(done)
        owners, cbs = self.owner[idx], self.cb[idx]
        delays = self.routes.delay[self.route[idx]]
        self.delivered_bytes += float(self.size[idx].sum())
        keep = np.flatnonzero(~done)
        self.route = self.route[keep]
        self.remaining = self.remaining[keep]
        self.size = self.size[keep]
        self.owner = self.owner[keep]
        self.cb = self.cb[keep]
        self.rate = self.rate[keep]  # stale until the resolve below (no time passes)
        self.t_finish = self.t_finish[keep]
        self._in_complete = True
        self._resolve_pending = True
        try:
            if len(self._callbacks) == 1:
                self._callbacks[0](owners, delays)
            else:
                for c in np.unique(cbs).tolist():
                    sel = cbs == c
                    self._callbacks[c](owners[sel], delays[sel])
        finally:
            self._in_complete = False
        self._resolve()
