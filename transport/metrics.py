"""Collective metrics: congestion, lower bounds, algbw/busbw, link utilisation.

* Congestion of a link in a step = the bytes the step places on it × 8 / capacity (s): the
  time the link needs to drain the step. The maximum over links bounds the step from below.
* Spraying lower bound of a step: the maximum congestion under ideal spraying. On a
  leaf-spine fabric its fabric part is ``max over leaves of cross-leaf bytes (out or in) ·
  8 / (S · uplink rate)``; no routing can beat it because a leaf's S uplinks (downlinks) must
  carry all its cross-leaf bytes.
* nccl-tests (PERFORMANCE.md): ``algbw = S / t``, ``busbw = algbw · factor`` with factor
  ``2(n−1)/n`` for all-reduce and ``(n−1)/n`` for all-gather, reduce-scatter, all-to-all.
"""

from __future__ import annotations

import numpy as np

from .collectives import Collective
from .network import SPRAY, Network

__all__ = [
    "link_bytes",
    "spray_bound_s",
    "leaf_spine_spray_bound_s",
    "lower_bound_cct_s",
    "pipelined_bound_s",
    "step_bounds",
    "algbw_Bps",
    "busbw_Bps",
    "utilisation",
]


def link_bytes(net: Network, src_hosts, dst_hosts, path, nbytes) -> np.ndarray:
    """Bytes each link carries when flows ``src→dst`` of ``nbytes`` use ``path`` (an index or
    SPRAY)."""
    links, frac = net.route_rows(src_hosts, dst_hosts, path)
    mask = links >= 0
    w = (frac * np.asarray(nbytes, dtype=float)[:, None])[mask]
    return np.bincount(links[mask], weights=w, minlength=net.n_links)


def spray_bound_s(net: Network, src_hosts, dst_hosts, nbytes, fabric_only: bool = False) -> float:
    """Largest link drain time (s) of one step under ideal spraying."""
    src_hosts = np.asarray(src_hosts, dtype=np.int64)
    drain = link_bytes(net, src_hosts, dst_hosts, np.full(src_hosts.size, SPRAY), nbytes)
    drain = drain * 8.0 / net.capacity_bps
    return float(drain[net.fabric].max(initial=0.0) if fabric_only else drain.max(initial=0.0))


def leaf_spine_spray_bound_s(net: Network, src_hosts, dst_hosts, nbytes) -> float:
    """Closed form of the fabric spraying bound on a leaf-spine: the largest cross-leaf
    bytes of a leaf (sent or received) · 8 / (S · uplink rate) (uniform uplinks)."""
    if net.kind != "leaf_spine":
        raise ValueError("leaf_spine_spray_bound_s: needs a leaf-spine network")
    ls = net.tor[np.asarray(src_hosts, dtype=np.int64)]
    ld = net.tor[np.asarray(dst_hosts, dtype=np.int64)]
    nbytes = np.asarray(nbytes, dtype=float)
    cross = ls != ld
    out = np.bincount(ls[cross], weights=nbytes[cross], minlength=net.n_tors)
    inn = np.bincount(ld[cross], weights=nbytes[cross], minlength=net.n_tors)
    rate = float(net.capacity_bps[net.uplinks()[0, 0]])
    return float(max(out.max(initial=0.0), inn.max(initial=0.0)) * 8.0 / (net.spines * rate))


def step_bounds(net: Network, coll: Collective, hosts, chunks: int = 1) -> np.ndarray:
    """Per step of ``coll`` (bytes divided by ``chunks``), in s, shape ``(K, 3)``:

    0. spraying bound on fabric links: ``max_l bytes_l·8/c_l`` under even spraying;
    1. the same over all links;
    2. step lower bound without α: ``max( max_l (D_l + min_{f∋l} prop_f),
       max_f (prop_f + 8·bytes_f·max_l a_fl/c_l) )`` with ``D_l`` the spraying drain time
       of link ``l``. The first term: whatever the routing, one of the equal links of a
       leaf (hop) must drain at least the sprayed share, and its last byte still travels
       one route delay; the second: a lone flow cannot beat its min-cut rate.

    Identical steps (same host pairs and sizes, as in a ring) are computed once."""
    hosts = np.asarray(hosts, dtype=np.int64)
    out = np.zeros((len(coll.steps), 3))
    memo: dict[bytes, tuple[float, float, float]] = {}
    for k, st in enumerate(coll.steps):
        s, d = hosts[st.src], hosts[st.dst]
        key = s.tobytes() + d.tobytes() + st.nbytes.tobytes()
        if key not in memo:
            nbytes = st.nbytes / chunks
            links, frac = net.route_rows(s, d, np.full(s.size, SPRAY))
            mask = links >= 0
            w = (frac * nbytes[:, None])[mask]
            drain = np.bincount(links[mask], weights=w, minlength=net.n_links)
            drain *= 8.0 / net.capacity_bps
            prop = net.route_delay_s(links, frac)
            min_prop = np.full(net.n_links, np.inf)
            np.minimum.at(min_prop, links[mask], np.broadcast_to(prop[:, None], links.shape)[mask])
            used = np.isfinite(min_prop)
            per_link = float((drain[used] + min_prop[used]).max(initial=0.0))
            inv = np.where(mask, frac / net.capacity_bps[np.maximum(links, 0)], 0.0)
            per_flow = float((prop + 8.0 * nbytes * inv.max(axis=1)).max(initial=0.0))
            fab = float(drain[net.fabric].max(initial=0.0))
            memo[key] = (fab, float(drain.max()), max(per_link, per_flow))
        out[k] = memo[key]
    return out


def lower_bound_cct_s(
    net: Network, coll: Collective, hosts, alpha_s: float = 0.0, chunks: int = 1, bounds=None
) -> float:
    """Step-synchronous lower bound on the completion time (s): the sum over the
    ``chunks × K`` (chunk, step) rounds of the step bound of :func:`step_bounds` plus α.
    Valid for ``sync="step"`` runs of the fluid model, whatever the routing."""
    b = step_bounds(net, coll, hosts, chunks) if bounds is None else bounds
    return float(chunks * (b[:, 2] + alpha_s).sum())


def pipelined_bound_s(net: Network, coll: Collective, hosts) -> float:
    """Lower bound on the completion time (s) of any schedule of ``coll`` (pipelined or not)
    on a fabric with equal parallel links: every link's share of the whole collective's bytes
    under ideal spraying, ``max_l Σ_steps bytes_l·8/c_l``. A leaf's equal uplinks (downlinks)
    together carry all its cross-leaf bytes whatever the routing, so one of them drains at
    least the sprayed share; host links carry fixed bytes."""
    hosts = np.asarray(hosts, dtype=np.int64)
    total = np.zeros(net.n_links)
    for st in coll.steps:
        s, d = hosts[st.src], hosts[st.dst]
        total += link_bytes(net, s, d, np.full(s.size, SPRAY), st.nbytes)
    return float((total * 8.0 / net.capacity_bps).max(initial=0.0))


def algbw_Bps(coll: Collective, cct_s: float) -> float:
    """nccl-tests algorithm bandwidth ``S / t`` (bytes/s)."""
    return coll.message_bytes / cct_s


def busbw_Bps(coll: Collective, cct_s: float) -> float:
    """nccl-tests bus bandwidth ``algbw · factor(n)`` (bytes/s)."""
    return algbw_Bps(coll, cct_s) * coll.busbw_factor


def utilisation(link_bytes_total: np.ndarray, capacity_bps: np.ndarray, duration_s: float):
    """Mean utilisation of each link over ``duration_s``: ``bytes·8 / (capacity·t)``."""
    if duration_s <= 0:
        raise ValueError("duration_s must be > 0")
    return np.asarray(link_bytes_total) * 8.0 / (np.asarray(capacity_bps) * duration_s)
