"""Rail-optimised multi-NIC GPU clusters: servers of G GPUs, one NIC per GPU, NVLink inside.

A cluster of ``N`` servers with ``G`` GPUs each (GPU ``g`` of server ``s`` is host
``j = s·G + g``). Every GPU has two ways out:

* **NVLink** to its server's NVSwitch (one switch node per server, ``nv{s}``), for traffic to
  the other GPUs of the same server;
* **its own NIC** to a leaf switch of a two-tier leaf-spine fabric (``S`` spines, every leaf
  wired to every spine), for traffic to other servers.

``wiring="rail"`` is the rail-optimised design (NVIDIA DGX SuperPOD reference architecture;
Wang et al., "Rail-only", HOTI 2024): the NIC of GPU ``g`` goes to *rail leaf* ``g`` of its
group of ``hosts_per_leaf`` servers, so traffic between GPUs of the same index ("rail-aligned")
stays on one leaf and never touches a spine. ``wiring="tor"`` is the rail-unaware baseline at
equal GPU count, switch count and radix: a leaf takes every NIC of ``hosts_per_leaf / G``
whole servers (a top-of-rack switch). Traffic between different GPU indices of different
servers crosses the spines in both wirings (no PXN relay through a peer GPU), over ``S``
equal-cost paths, so ECMP, spraying, minimal split and adaptive routing all apply there.

Links (full duplex, one directed link per direction; the study's ``fabric`` mask is the
leaf-spine links only):

* ``h{j}–p{j}``: the GPU's port, at NVLink + NIC rate and zero delay. In the fluid model it
  never binds (its capacity is the sum of the two links behind it); it is where the packet
  mode's NIC arbitration sits (``Network.host_up`` / ``host_down``), serialising a 4 kB
  packet in about 8 ns;
* ``p{j}–nv{s}``: NVLink, ``nvlink_rate_bps`` per direction. Default 3.6 Tb/s = 450 GB/s per
  direction, the NVLink4 aggregate of an H100 (18 links, "900 GB/s" bidirectional, NVIDIA
  H100 Tensor Core GPU datasheet); NCCL's own planning figure is 20.6 GB/s per link and
  direction (``SM90_NVLINK_BW``, NVIDIA/nccl ``src/graph/topo.h``), i.e. 371 GB/s for 18;
* ``p{j}–l{i}``: the NIC, ``nic_rate_bps`` (default 400 Gb/s, ConnectX-7);
* ``l{i}–s{k}``: uplinks at ``hosts_per_leaf · nic_rate / (S · oversubscription)``.

Paths from ``a`` to ``b``: same server ``a→p→nv→p→b`` (1 path); different server, same leaf
``a→p→leaf→p→b`` (1 path); otherwise ``a→p→leaf→spine_k→leaf→p→b``, one path per spine.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from .network import Network, _directed, _spine_tables

__all__ = ["RailNetwork", "rail_network", "rail_ring_order"]

#: NVLink4 aggregate of one H100 per direction (bps): 450 GB/s
NVLINK4_BPS = 3.6e12


class RailNetwork(Network):
    """A :class:`~transport.network.Network` of ``kind="rail"`` (see the module docstring).

    Extra tables: ``servers``, ``gpus``, ``wiring``, ``server`` and ``gpu`` per host, and the
    link ids ``nic_up``/``nic_down`` (port→leaf, leaf→port) and ``nvl_up``/``nvl_down``
    (port→NVSwitch, NVSwitch→port) per host."""

    @property
    def servers(self) -> int:
        return int(self.tables["servers"])

    @property
    def gpus_per_server(self) -> int:
        return int(self.tables["gpus"])

    def via_spine(self, src_hosts, dst_hosts) -> np.ndarray:
        s, d = self._pairs(src_hosts, dst_hosts)
        t = self.tables
        return (t["server"][s] != t["server"][d]) & (self.tor[s] != self.tor[d])

    def n_paths(self, src_hosts, dst_hosts) -> np.ndarray:
        return np.where(self.via_spine(src_hosts, dst_hosts), self.tables["spines"], 1)

    def paths(self, src_hosts, dst_hosts, path) -> np.ndarray:
        s, d = self._pairs(src_hosts, dst_hosts)
        p = np.broadcast_to(np.asarray(path, dtype=np.int64), s.shape)
        t = self.tables
        same_srv = t["server"][s] == t["server"][d]
        spine = ~same_srv & (self.tor[s] != self.tor[d])
        if np.any(p < 0) or np.any(p >= np.where(spine, t["spines"], 1)):
            raise ValueError("path index out of range [0, n_paths) for some flow")
        out = np.full((s.size, 6), -1, dtype=np.int64)
        out[:, 0] = self.host_up[s]
        out[:, 1] = np.where(same_srv, t["nvl_up"][s], t["nic_up"][s])
        pc = np.where(spine, p, 0)
        out[:, 2] = np.where(spine, t["up"][self.tor[s], pc], -1)
        out[:, 3] = np.where(spine, t["down"][pc, self.tor[d]], -1)
        last_in = np.where(same_srv, t["nvl_down"][d], t["nic_down"][d])
        out[:, 4] = last_in
        out[:, 5] = self.host_down[d]
        # compact: local rows are host_up, first hop, last hop, host_down
        local = ~spine
        out[local, 2] = out[local, 4]
        out[local, 3] = out[local, 5]
        out[local, 4:] = -1
        return out

    def spray_incidence(self, src_hosts, dst_hosts) -> tuple[np.ndarray, np.ndarray]:
        """Closed form: host, port and NIC links carry 1; each of the ``S`` uplinks and
        downlinks of a spine-crossing pair ``1/S``; a local pair has its 4 links only."""
        s, d = self._pairs(src_hosts, dst_hosts)
        t = self.tables
        S = t["spines"]
        spine = self.via_spine(s, d)
        one = self.paths(s, d, np.zeros(s.size, dtype=np.int64))
        links = np.full((s.size, 4 + 2 * S), -1, dtype=np.int64)
        frac = np.zeros((s.size, 4 + 2 * S))
        links[:, 0], links[:, 1] = one[:, 0], one[:, 1]
        links[:, 2] = np.where(spine, one[:, 4], one[:, 2])
        links[:, 3] = np.where(spine, one[:, 5], one[:, 3])
        frac[:, :4] = 1.0
        links[spine, 4 : 4 + S] = t["up"][self.tor[s[spine]]]
        links[spine, 4 + S :] = t["down"][:, self.tor[d[spine]]].T
        frac[spine, 4:] = 1.0 / S
        return links, frac


def _check_int(name: str, v, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
        raise ValueError(f"{name}: must be an integer >= {lo} (got {v!r})")
    return int(v)


def rail_network(
    servers: int,
    gpus_per_server: int,
    spines: int,
    hosts_per_leaf: int | None = None,
    wiring: str = "rail",
    nic_rate_bps: float = 400e9,
    nvlink_rate_bps: float = NVLINK4_BPS,
    oversubscription: float = 1.0,
    link_delay_s: float = 1e-6,
    nvlink_delay_s: float = 0.0,
) -> RailNetwork:
    """The cluster of the module docstring.

    Args:
        servers, gpus_per_server: ``N`` and ``G`` (hosts = ``N·G`` GPUs).
        spines: spine switches ``S``.
        hosts_per_leaf: NIC ports per leaf (default ``N``: with rail wiring, one leaf per
            rail). Rail wiring needs ``N`` divisible by it; ToR wiring needs it divisible by
            ``G`` and ``N·G`` divisible by it.
        wiring: ``rail`` (GPU ``g``'s NIC to rail leaf ``g`` of its group) or ``tor`` (all of
            a server's NICs to one leaf).
        nic_rate_bps, nvlink_rate_bps: per direction.
        oversubscription: leaf downlink over uplink capacity.
        link_delay_s: propagation delay of NIC and leaf-spine links; ``nvlink_delay_s`` of
            NVLink (the GPU port has none).
    """
    N = _check_int("servers", servers)
    G = _check_int("gpus_per_server", gpus_per_server)
    S = _check_int("spines", spines)
    H = N if hosts_per_leaf is None else _check_int("hosts_per_leaf", hosts_per_leaf)
    for name, v in (
        ("nic_rate_bps", nic_rate_bps),
        ("nvlink_rate_bps", nvlink_rate_bps),
        ("oversubscription", oversubscription),
    ):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name}: must be a finite number > 0 (got {v!r})")
    if link_delay_s < 0 or nvlink_delay_s < 0:
        raise ValueError("link_delay_s, nvlink_delay_s: must be >= 0")
    n = N * G
    j = np.arange(n)
    server, gpu = j // G, j % G
    if wiring == "rail":
        if N % H:
            raise ValueError(f"hosts_per_leaf: must divide servers={N} for rail wiring (got {H})")
        tor = (server // H) * G + gpu
    elif wiring == "tor":
        if H % G or n % H:
            raise ValueError(
                f"hosts_per_leaf: must be a multiple of gpus_per_server={G} dividing {n} "
                f"for tor wiring (got {H})"
            )
        tor = j // H
    else:
        raise ValueError(f"wiring: unknown {wiring!r} (allowed: rail, tor)")
    L = n // H
    up_rate = H * nic_rate_bps / (S * oversubscription)
    g = nx.Graph(kind="rail", servers=N, gpus=G, spines=S, leaves=L, wiring=wiring)
    for s in range(N):
        g.add_node(f"nv{s}", role="nvswitch")
    for i in range(L):
        g.add_node(f"l{i}", role="leaf")
    for k in range(S):
        g.add_node(f"s{k}", role="spine")
    order = []
    for h in range(n):
        g.add_node(f"h{h}", role="host", server=int(server[h]), gpu=int(gpu[h]))
        g.add_node(f"p{h}", role="port")
        edges = [
            (f"h{h}", f"p{h}", nvlink_rate_bps + nic_rate_bps, 0.0),
            (f"p{h}", f"nv{server[h]}", nvlink_rate_bps, nvlink_delay_s),
            (f"p{h}", f"l{tor[h]}", nic_rate_bps, link_delay_s),
        ]
        for a, b, c, dl in edges:
            g.add_edge(a, b, capacity_bps=float(c), delay_s=float(dl))
            order.append((a, b))
    for i in range(L):
        for k in range(S):
            g.add_edge(f"l{i}", f"s{k}", capacity_bps=float(up_rate), delay_s=float(link_delay_s))
            order.append((f"l{i}", f"s{k}"))
    index, src, dst, cap, delay = _directed(g, order)

    def ids(pairs):
        return np.array([index[p] for p in pairs], dtype=np.int64)

    fabric, tables = _spine_tables(index, cap.size, L, S, H)
    tables.update({
        "width": 6,
        "servers": N,
        "gpus": G,
        "wiring": wiring,
        "server": server,
        "gpu": gpu,
        "nic_up": ids([(f"p{h}", f"l{tor[h]}") for h in range(n)]),
        "nic_down": ids([(f"l{tor[h]}", f"p{h}") for h in range(n)]),
        "nvl_up": ids([(f"p{h}", f"nv{server[h]}") for h in range(n)]),
        "nvl_down": ids([(f"nv{server[h]}", f"p{h}") for h in range(n)]),
    })
    h_up = ids([(f"h{h}", f"p{h}") for h in range(n)])
    h_down = ids([(f"p{h}", f"h{h}") for h in range(n)])
    return RailNetwork("rail", src, dst, cap, delay, fabric, n, h_up, h_down, tor, tables, g)


def rail_ring_order(servers: int, gpus_per_server: int) -> np.ndarray:
    """Host of each rank of a ring whose every server-to-server hop is rail-aligned: server
    ``s`` is walked GPU ``0..G−1`` for even ``s`` and ``G−1..0`` for odd ``s`` (a snake), so
    the hop out of a server joins the same GPU index of the next one; ``N`` must be even (or
    1) for the wrap-around hop to be rail-aligned too. Intra-server hops ride NVLink."""
    N = _check_int("servers", servers)
    G = _check_int("gpus_per_server", gpus_per_server)
    if N > 1 and N % 2:
        raise ValueError(f"servers: a rail-aligned snake ring needs an even count (got {N})")
    rows = [np.arange(G) if s % 2 == 0 else np.arange(G)[::-1] for s in range(N)]
    return (np.arange(N)[:, None] * G + np.stack(rows)).ravel().astype(np.int64)
