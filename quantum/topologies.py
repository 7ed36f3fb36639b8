"""The quantum networks of Skrzypczyk & Wehner (2021): four small ones and SURFnet.

Every builder returns an undirected ``networkx.Graph`` whose nodes carry ``role`` (``"end"``:
may be the source or destination of a demand; ``"repeater"``: only relays) and whose edges
carry the fibre length ``length_km``. :func:`equip` then puts the qubits on the nodes
(``comm_qubits``, ``storage_qubits``, memory ``coherence_s``); link capabilities are attached
by :func:`quantum.capabilities.attach_capabilities`.

* ``line``: 6 nodes in a row; every node is an end node (and may also swap);
* ``H``: end nodes 0, 2, 3, 5, repeaters 1 and 4, edges 0-1, 1-2, 1-4, 3-4, 4-5;
* ``star``: 3 end nodes (1, 2, 3) around repeater 0;
* ``symm``: 4 fully connected repeaters 0..3, end node ``4 + i`` attached to repeater ``i``;
* ``surfnet``: the 54 sites of the SURF core fibre network (repeaters, fibre lengths from
  ``data/SurfnetCore_fiber.gml``), each with one end node ``"<site>.e"`` attached by an
  access fibre of ``access_km``.

All links of the small networks are 5 km long (paper (a), section on evaluation).
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import networkx as nx

from netsim.errors import ConfigError
from netsim.topology import load_graph

__all__ = [
    "END",
    "REPEATER",
    "SURFNET_SITES",
    "SURFNET_EDGES",
    "TOPOLOGIES",
    "line",
    "h_network",
    "star",
    "symm",
    "surfnet",
    "build_topology",
    "end_nodes",
    "equip",
]

END = "end"
REPEATER = "repeater"
#: sites and core fibre edges of ``SurfnetCore_fiber.gml``
SURFNET_SITES = 54
SURFNET_EDGES = 64


def _check_length(length_km: float, name: str = "length_km", allow_zero: bool = False) -> float:
    ok = isinstance(length_km, int | float) and math.isfinite(length_km)
    if not ok or length_km < 0 or (length_km == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name}: must be a finite number {bound} km (got {length_km!r})")
    return float(length_km)


def _graph(name: str, roles: dict, edges: list[tuple], length_km: float) -> nx.Graph:
    length_km = _check_length(length_km)
    g = nx.Graph(name=name)
    for n, role in roles.items():
        g.add_node(n, role=role)
    for u, v in edges:
        g.add_edge(u, v, length_km=length_km)
    return g


def line(n: int = 6, length_km: float = 5.0) -> nx.Graph:
    """Chain 0-1-...-(n-1); all nodes are end nodes."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ConfigError(f"n: must be an integer >= 2 (got {n!r})")
    return _graph(
        "line", dict.fromkeys(range(n), END), [(i, i + 1) for i in range(n - 1)], length_km
    )


def h_network(length_km: float = 5.0) -> nx.Graph:
    """The H: end nodes 0, 2, 3, 5; repeaters 1, 4; edges 0-1, 1-2, 1-4, 3-4, 4-5."""
    roles = {0: END, 1: REPEATER, 2: END, 3: END, 4: REPEATER, 5: END}
    return _graph("H", roles, [(0, 1), (1, 2), (1, 4), (3, 4), (4, 5)], length_km)


def star(end_nodes: int = 3, length_km: float = 5.0) -> nx.Graph:
    """Repeater 0 with end nodes 1..end_nodes."""
    if isinstance(end_nodes, bool) or not isinstance(end_nodes, int) or end_nodes < 2:
        raise ConfigError(f"end_nodes: must be an integer >= 2 (got {end_nodes!r})")
    roles = {0: REPEATER, **dict.fromkeys(range(1, end_nodes + 1), END)}
    return _graph("star", roles, [(0, i) for i in range(1, end_nodes + 1)], length_km)


def symm(length_km: float = 5.0) -> nx.Graph:
    """Four fully connected repeaters 0..3, each with one end node 4..7."""
    roles = {**dict.fromkeys(range(4), REPEATER), **dict.fromkeys(range(4, 8), END)}
    core = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    return _graph("symm", roles, core + [(i, i + 4) for i in range(4)], length_km)


def _surfnet_file() -> Path:
    return Path(str(resources.files("quantum").joinpath("data/SurfnetCore_fiber.gml")))


def surfnet(access_km: float = 1.0, path: str | Path | None = None) -> nx.Graph:
    """SURFnet core (54 sites, 64 fibres with lengths in km) plus one end node per site.

    Repeater nodes are named by SURF site code (``old_label``, e.g. ``"Asd001b"``); the end
    node of site ``s`` is ``"s.e"``, attached by an access fibre of ``access_km`` km.
    Source: RepAlloc's ``SurfnetCore.gml`` (see ``quantum/data/README.md``).

    Raises:
        ConfigError: the file is missing, unreadable, not connected, or has a missing or
            negative fibre length.
    """
    access_km = _check_length(access_km, "access_km", allow_zero=True)
    src = Path(path) if path is not None else _surfnet_file()
    raw = load_graph(src)
    names = {}
    for n, data in raw.nodes(data=True):
        site = data.get("old_label")
        if not isinstance(site, str) or not site:
            raise ConfigError(f"topology {src}: node {n} has no 'old_label' site code")
        names[n] = site
    if len(set(names.values())) != len(names):
        raise ConfigError(f"topology {src}: site codes ('old_label') are not unique")
    g = nx.Graph(name="surfnet")
    for n, site in names.items():
        data = raw.nodes[n]
        g.add_node(site, role=REPEATER, label=data.get("label", site), locid=data.get("locid"))
    for u, v, data in raw.edges(data=True):
        length = data.get("length")
        if not isinstance(length, int | float) or not math.isfinite(length) or length < 0:
            raise ConfigError(
                f"topology {src}: edge {names[u]}-{names[v]} has no valid 'length' in km "
                f"(got {length!r})"
            )
        g.add_edge(names[u], names[v], length_km=float(length))
    if g.number_of_nodes() == 0 or not nx.is_connected(g):
        raise ConfigError(f"topology {src}: the fibre network is not connected")
    for site in names.values():
        g.add_node(f"{site}.e", role=END, site=site)
        g.add_edge(site, f"{site}.e", length_km=access_km)
    return g


TOPOLOGIES = {"line": line, "H": h_network, "star": star, "symm": symm, "surfnet": surfnet}


def build_topology(name: str, **kwargs) -> nx.Graph:
    """One of :data:`TOPOLOGIES` by name."""
    try:
        builder = TOPOLOGIES[name]
    except KeyError:
        raise ConfigError(
            f"topology: unknown {name!r} (allowed: {', '.join(TOPOLOGIES)})"
        ) from None
    return builder(**kwargs)


def end_nodes(g: nx.Graph) -> list:
    """End nodes of ``g`` in a deterministic (sorted) order."""
    return sorted(n for n, r in g.nodes(data="role") if r == END)


def equip(
    g: nx.Graph,
    end: tuple[int, int] = (1, 3),
    repeater: tuple[int, int] = (1, 3),
    coherence_s: float | tuple[float, float] = 1.0,
) -> nx.Graph:
    """Put qubits on every node: ``(communication, storage)`` counts for end nodes and for
    repeaters (NV default 1 + 3) and the memory coherence time τ (s) of the depolarising decay
    ``F(t) = 1/4 + (F0 - 1/4)·exp(-t/τ)`` per stored qubit; a pair ``(τ_end, τ_repeater)``
    gives the two roles different memories. Returns ``g`` (modified in place).

    Raises:
        ValueError: a node would have no communication qubit (zero memories), a negative
            count, or a non-positive coherence time.
    """
    taus = coherence_s if isinstance(coherence_s, tuple) else (coherence_s, coherence_s)
    for role, (comm, storage), tau in ((END, end, taus[0]), (REPEATER, repeater, taus[1])):
        if comm < 1:
            raise ValueError(
                f"{role} nodes: need at least 1 communication qubit to generate links "
                f"(got {comm}); zero memories at a {role} cannot hold entanglement"
            )
        if storage < 0:
            raise ValueError(f"{role} nodes: storage qubits must be >= 0 (got {storage})")
        if not (isinstance(tau, int | float) and tau > 0 and math.isfinite(tau)):
            raise ValueError(f"{role} nodes: coherence_s must be a positive number (got {tau!r})")
    for _n, data in g.nodes(data=True):
        comm, storage = end if data["role"] == END else repeater
        data.update(
            comm_qubits=int(comm),
            storage_qubits=int(storage),
            coherence_s=float(taus[0] if data["role"] == END else taus[1]),
        )
    return g
