"""Routing entanglement requests on a network with shared memories.

## Description
Requests for entanglement between two random nodes of a grid network arrive as a Poisson
process; each stays for ``holding_s`` and is served live on the engine
(:mod:`quantum.network`): heralded generation on every hop of its route, swap-ASAP,
depolarising memories, node memories and fibre channels shared with the other requests.
At each arrival the agent picks one of the ``k`` shortest candidate routes. Crowded routes
make requests wait for qubits; long routes are slower and noisier.

## Action Space
``Discrete(k)``: the index of the candidate route (sorted by fibre length). Indices beyond
the request's candidates fall back to the shortest route; ``action_masks()`` marks the
valid ones.

## Observation Space
``Box(0, 1, (5·k + 1,), float32)``: per candidate route: present, hops / max hops, slowest
hop's rate / fastest fibre's rate, busiest node's memory in use, share of its fibres busy;
plus the active requests / ``arrivals``.

## Rewards
End-to-end pairs delivered with fidelity ≥ ``f_min`` (all requests) since the last step.

## Starting State
Empty memories; fibre lengths are drawn once per env from ``link_km`` (a fixed network);
arrival times and end nodes from the episode's seed.

## Episode End
Terminated once the last request's session has ended (``arrivals`` decisions per episode);
truncated at ``horizon`` as a safeguard.

## Arguments
``rows``, ``cols`` (grid), ``link_km`` (min, max), ``network`` (a
:class:`quantum.network.NetworkConfig`: memories, channels, link physics, coherence, cutoff,
f_min), ``arrivals``, ``arrival_rate_hz``, ``holding_s``, ``k``, ``horizon``.

## Baselines
``shortest`` (always the shortest route), ``highest_rate`` (fastest slowest hop),
``least_loaded`` (least busy memory, then fewest hops), ``offline_optimum`` (oracle: every
sequence of route choices replayed on the episode's seed, the best return; exact, as the
env is deterministic given the seed and the actions), ``maskable_ppo`` (learned),
``random``. See :func:`baselines`.

## Version History
v0: initial version.
"""

from __future__ import annotations

from itertools import islice, product

import gymnasium as gym
import networkx as nx
import numpy as np
from pydantic import Field, model_validator

from netsim import Config, SimEnv, Simulation
from netsim.baselines import Baseline, env_policy
from netsim.rng import stream
from quantum.network import EntanglementNetwork, NetworkConfig, edge_links

__all__ = ["EntanglementRoutingConfig", "EntanglementRoutingEnv", "baselines"]

F = 5


def _default_network() -> NetworkConfig:
    return NetworkConfig(memories=2, channels=1, coherence_time_s=0.01, cutoff_s=None,
                         link_fidelity=0.97, f_min=0.8)


class EntanglementRoutingConfig(Config):
    rows: int = Field(3, ge=1, le=20)
    cols: int = Field(3, ge=2, le=20)
    link_km: tuple[float, float] = Field((5.0, 25.0), description="fibre lengths (min, max) km")
    network: NetworkConfig = Field(default_factory=_default_network)
    arrivals: int = Field(6, ge=1, le=10_000, description="requests (decisions) per episode")
    arrival_rate_hz: float = Field(2000.0, gt=0, description="Poisson arrival rate (1/s)")
    holding_s: float = Field(1e-3, gt=0, description="session length of a request (s)")
    k: int = Field(2, ge=1, le=8, description="candidate routes per request")
    horizon: float = Field(1.0, gt=0, description="safeguard on the episode length (s)")

    @model_validator(mode="after")
    def _check(self):
        lo, hi = self.link_km
        if not 0 < lo <= hi:
            raise ValueError(f"link_km must be (min, max) with 0 < min <= max, got {self.link_km}")
        return self


class EntanglementRoutingEnv(SimEnv):
    config_cls = EntanglementRoutingConfig

    def __init__(self, config=None, render_mode=None, **kwargs):
        super().__init__(config, render_mode, **kwargs)
        c = self.config
        g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(c.rows, c.cols))
        u = stream(0, "env.entanglement_routing.lengths").uniform(*c.link_km, g.number_of_edges())
        for (a, b), x in zip(g.edges, u, strict=True):
            g.edges[a, b]["length_km"] = float(x)
        self.graph = g
        links = edge_links(g, c.network)
        self.rate = {e: links[e].rate_hz for e in links}
        top = max(self.rate.values())
        self.candidates: dict[tuple, list[list]] = {}
        for s in g.nodes:
            for d in g.nodes:
                if s < d:
                    paths = nx.shortest_simple_paths(g, s, d, weight="length_km")
                    self.candidates[(s, d)] = [list(p) for p in islice(paths, c.k)]
        self._bottleneck = {
            key: [min(self.rate[(a, b)] for a, b in zip(p[:-1], p[1:], strict=True)) / top
                  for p in ps]
            for key, ps in self.candidates.items()
        }
        self.max_hops = max(len(p) - 1 for ps in self.candidates.values() for p in ps)
        self.action_space = gym.spaces.Discrete(c.k)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (F * c.k + 1,), np.float32)
        self.net: EntanglementNetwork | None = None
        self.current: tuple | None = None
        self.n_active = 0

    def _setup(self, sim: Simulation, options) -> None:
        c = self.config
        self.net = EntanglementNetwork(sim, self.graph, [], c.network)
        rng = sim.rng("env.requests")
        n = self.graph.number_of_nodes()
        self._gaps = rng.exponential(1.0 / c.arrival_rate_hz, c.arrivals)
        self._ends = [tuple(sorted(int(x) for x in rng.choice(n, 2, replace=False)))
                      for _ in range(c.arrivals)]
        self.current = self._ends[0]
        self.n_active = 0
        sim.process(self._arrivals(sim))

    def _arrivals(self, sim: Simulation):
        c = self.config
        for i in range(c.arrivals):
            yield sim.timeout(float(self._gaps[i]))
            self.current = self._ends[i]
            action = yield self.decisions.request(self.current)
            cands = self.candidates[self.current]
            route = cands[action] if 0 <= action < len(cands) else cands[0]
            r = self.net.add_request(route)
            self.n_active += 1
            sim.schedule(c.holding_s, self._end, r)
        yield sim.timeout(c.holding_s)
        self.decisions.finish()

    def _end(self, r: int) -> None:
        self.net.end_request(r)
        self.n_active -= 1

    def _apply(self, action) -> None:
        self.decisions.respond(int(action))

    def _observe(self) -> np.ndarray:
        c = self.config
        obs = np.zeros((c.k, F), dtype=np.float32)
        net = self.net
        mem = c.network.memories
        for j, path in enumerate(self.candidates[self.current]):
            idx = [net.node_index[x] for x in path]
            busy_mem = max(1.0 - net.free[i] / mem for i in idx)
            edges = [net.edge_index[(min(a, b), max(a, b))] for a, b in zip(idx[:-1], idx[1:],
                                                                             strict=True)]
            busy_ch = sum(net.edge_free[e] == 0 for e in edges) / len(edges)
            obs[j] = (1.0, (len(path) - 1) / self.max_hops, self._bottleneck[self.current][j],
                      busy_mem, busy_ch)
        extra = min(self.n_active / c.arrivals, 1.0)
        return np.concatenate([obs.reshape(-1), np.float32([extra])])

    def _reward_total(self) -> float:
        return float(sum(self.net.good))

    def _info(self) -> dict:
        net = self.net
        return {"delivered": int(sum(net.delivered)), "good": int(sum(net.good)),
                "active": self.n_active, "requests": len(net.routes)}

    def action_masks(self) -> np.ndarray:
        mask = np.zeros(self.config.k, dtype=bool)
        mask[: len(self.candidates[self.current])] = True
        return mask

    def baseline_policies(self):
        k = self.config.k

        def pick(obs, key):
            o = np.asarray(obs[: F * k], dtype=float).reshape(k, F)
            present = np.flatnonzero(o[:, 0] > 0.5)
            return int(present[np.lexsort(key(o[present]))[0]])

        return {
            "shortest": lambda obs: 0,
            "highest_rate": lambda obs: pick(obs, lambda o: (o[:, 1], -o[:, 2])),
            "least_loaded": lambda obs: pick(obs, lambda o: (o[:, 1], o[:, 3])),
            **super().baseline_policies(),
        }

    def offline_optimum(self, seed: int, max_sequences: int = 4096) -> float:
        """Best return over every sequence of route choices on episode ``seed`` (replayed
        from the seed: arrivals and end nodes do not depend on the actions)."""
        self.reset(seed=seed)
        counts = [len(self.candidates[e]) for e in self._ends]
        total = int(np.prod(counts))
        if total > max_sequences:
            raise ValueError(f"{total} action sequences > max_sequences={max_sequences}; "
                             "use fewer arrivals or a smaller k")
        best = -np.inf
        for seq in product(*(range(n) for n in counts)):
            self.reset(seed=seed)
            ret, i = 0.0, 0
            while True:
                _, r, term, trunc, _ = self.step(seq[min(i, len(seq) - 1)])
                ret += r
                i += 1
                if term or trunc:
                    break
            best = max(best, ret)
        return float(best)


def _optimum(env, seed: int) -> float:
    return env.offline_optimum(seed)


def baselines() -> list[Baseline]:
    """The EntanglementRouting-v0 policies scored by ``netsim bench``."""
    return [
        Baseline("shortest", "heuristic", policy=env_policy("shortest"),
                 description="shortest fibre route"),
        Baseline("highest_rate", "heuristic", policy=env_policy("highest_rate"),
                 description="route whose slowest hop is fastest"),
        Baseline("least_loaded", "heuristic", policy=env_policy("least_loaded"),
                 description="route whose busiest node has most free memory"),
        Baseline("offline_optimum", "oracle", episode=_optimum,
                 description="best route sequence in hindsight, replayed on the same seed"),
        Baseline("maskable_ppo", "learned", algo="MaskablePPO", timesteps=50_000),
    ]
