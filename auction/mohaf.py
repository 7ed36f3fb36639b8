"""MOHAF as the paper describes it (Agrawal et al. 2025, arXiv:2508.14830, Alg. 1):

1. cluster resources (type, then k-means on location) and let each request bid only within
   its cluster and its nearest clusters (clustering.py);
2. allocate by lazy greedy maximisation of the monotone submodular F (greedy.py, objective.py)
   under the capacity, single-assignment, budget and QoS constraints;
3. update prices with utilisation (pricing.py) and repeat 2-3 until prices move by less than
   ε; winners pay ``π_ij = min(ρ_j d_i (0.8 + 0.4 U_ij), B_i)``.

Unlike the authors' notebook, the clusters really restrict the candidate pairs and the prices
really iterate (and feed back into the cost term and budget feasibility of the next round).

With memory (``inst.memory``: vector packing) a pair must fit the resource's CPU and memory,
and the price rules read the scarcer dimension: utilisation ``max(CPU, memory)`` and excess
demand ``max(z_CPU, z_memory)`` per resource.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .clustering import Hierarchy, build_hierarchy
from .greedy import Block, Mode, lazy_greedy
from .model import Allocation, Instance, UtilityParams, Weights
from .pricing import (
    PriceRule,
    excess_demand,
    tatonnement_prices,
    update_prices,
    utilisation,
)
from .utility import base_from_static, payment, static_terms, value_per_unit

__all__ = [
    "MohafParams",
    "MohafResult",
    "Candidates",
    "initial_prices",
    "price_floor",
    "greedy_allocate",
    "run_mohaf",
]


@dataclass(frozen=True)
class MohafParams:
    """Everything MOHAF needs besides the instance."""

    weights: Weights = field(default_factory=Weights)
    utility: UtilityParams = field(default_factory=UtilityParams)
    pricing: PriceRule = field(default_factory=PriceRule)
    mode: Mode = "shared"
    n_clusters: int | None = None
    resources_per_cluster: int | None = 32
    neighbours: int = 1
    flat: bool = False  # no clustering: every type-matching pair is a candidate
    #: "utilisation" (the paper's rule, pricing.update_prices) or "excess" (tâtonnement on
    #: excess demand, pricing.tatonnement_prices)
    price_update: str = "utilisation"
    cost_floor: bool = False  # never price a resource below its unit cost (the reserve)

    def __post_init__(self):
        if self.price_update not in ("utilisation", "excess"):
            raise ValueError(
                f"price_update must be 'utilisation' or 'excess', got {self.price_update!r}"
            )


@dataclass
class MohafResult:
    allocation: Allocation
    prices: np.ndarray  # prices of the final round (the ones winners paid at)
    price_history: np.ndarray  # (rounds + 1, M): initial prices, then after each update
    max_price_move: np.ndarray  # (rounds,) max_j |Δρ_j| of each update
    objective_history: np.ndarray  # (rounds,) F of each round's allocation
    converged: bool
    n_candidate_pairs: int
    n_type_pairs: int
    runtime_s: float
    cluster_s: float
    hierarchy: Hierarchy

    @property
    def rounds(self) -> int:
        return int(self.max_price_move.size)


def initial_prices(inst: Instance, rule: PriceRule) -> np.ndarray:
    """Start every price at the resource's unit cost (its reserve), clipped to the bounds."""
    return rule.clip(inst.resources.unit_cost.astype(float))


def price_floor(inst: Instance, rule: PriceRule) -> np.ndarray:
    """The lowest price the rounds can post on each resource (ρ_min): budgets checked at it
    admit every pair MOHAF can win, so the optimum over them bounds MOHAF (baselines.py)."""
    return np.full(len(inst.resources), float(rule.rho_min))


def type_pairs(inst: Instance) -> int:
    """Number of type-matching pairs (what a flat auction must consider)."""
    tr = np.bincount(inst.resources.type, minlength=1)
    tq = np.bincount(inst.requests.type, minlength=tr.size)
    n = min(tr.size, tq.size)
    return int(np.dot(tr[:n], tq[:n]))


class Candidates:
    """The candidate blocks of a hierarchy with their price-free utility parts cached, so a
    pricing round only recomputes the cost term and budget feasibility."""

    def __init__(
        self, inst: Instance, hierarchy: Hierarchy, weights: Weights, params: UtilityParams
    ):
        self.weights = weights
        Q = inst.requests
        self.value = value_per_unit(Q.demand, Q.budget)
        self._static = []
        for _c, req, res in hierarchy.blocks():
            s, ok = static_terms(inst, req[:, None], res[None, :], weights, params)
            self._static.append((req, res, s, ok))

    def at(self, prices: np.ndarray) -> list[Block]:
        """Blocks ``(req, res, w)`` with base utilities at ``prices``."""
        out = []
        for req, res, s, ok in self._static:
            w, _ = base_from_static(
                s, ok, prices[res][None, :], self.value[req][:, None], self.weights
            )
            out.append((req, res, w))
        return out


def greedy_allocate(
    inst: Instance,
    blocks: list[Block],
    prices: np.ndarray,
    params: MohafParams,
    capacity: np.ndarray | None = None,
    held0: np.ndarray | None = None,
    max_allocations: int | None = None,
) -> Allocation:
    """One greedy round at fixed ``prices`` (residual ``capacity`` defaults to the full one;
    with ``inst.memory`` a pair must also fit the full memory capacity left by the round)."""
    Q = inst.requests
    cap = inst.resources.capacity if capacity is None else capacity
    i, j, g = lazy_greedy(
        blocks,
        len(Q),
        len(inst.resources),
        Q.demand,
        Q.requester,
        cap,
        params.weights.normalised()[3],
        params.mode,
        max_allocations,
        held0,
        Q.mem_demand if inst.memory else None,
        inst.resources.mem_capacity if inst.memory else None,
    )
    pay = payment(prices[j], Q.demand[i], g, Q.budget[i])
    return Allocation(i, j, g, pay)


def unserved_demand(blocks: list[Block], alloc: Allocation, demand, n_resources: int):
    """Per resource, the demand of the unserved requests whose best candidate (largest w at
    the round's prices, budget allowing) it is: the demand the round turned away."""
    served = np.zeros(demand.size, bool)
    served[alloc.request] = True
    out = np.zeros(n_resources)
    for req, res, w in blocks:
        keep = ~served[req] & np.isfinite(w).any(axis=1)
        if keep.any():
            best = res[np.argmax(w[keep], axis=1)]
            out += np.bincount(best, weights=demand[req[keep]], minlength=n_resources)
    return out


def run_mohaf(
    inst: Instance,
    params: MohafParams | None = None,
    seed: int = 0,
    prices: np.ndarray | None = None,
    hierarchy: Hierarchy | None = None,
) -> MohafResult:
    """Run MOHAF (clustering, then greedy allocation and price updates until convergence)."""
    params = params or MohafParams()
    rule = params.pricing
    t0 = time.perf_counter()
    if hierarchy is None:
        hierarchy = build_hierarchy(
            inst,
            params.n_clusters,
            params.resources_per_cluster,
            params.neighbours,
            seed,
            params.flat,
        )
    t_cluster = time.perf_counter() - t0
    cands = Candidates(inst, hierarchy, params.weights, params.utility)
    rho = initial_prices(inst, rule) if prices is None else np.asarray(prices, float).copy()
    floor = inst.resources.unit_cost if params.cost_floor else None
    if floor is not None:
        rho = np.maximum(rho, floor)
    history, moves, values = [rho.copy()], [], []
    converged = False
    cap = inst.resources.capacity
    for t in range(1, rule.max_rounds + 1):
        blocks = cands.at(rho)
        alloc, alloc_rho = greedy_allocate(inst, blocks, rho, params), rho
        values.append(float(alloc.utility.sum()))
        d = inst.requests.demand
        used = np.bincount(alloc.resource, weights=d[alloc.request], minlength=len(cap))
        if params.price_update == "excess":
            wanted = used + unserved_demand(blocks, alloc, d, len(cap))
            z = excess_demand(wanted, cap)
            if inst.memory:  # the scarcer dimension drives the price
                md, mc = inst.requests.mem_demand, inst.resources.mem_capacity
                mw = np.bincount(alloc.resource, weights=md[alloc.request], minlength=len(cap))
                mw += unserved_demand(blocks, alloc, md, len(cap))
                z = np.maximum(z, excess_demand(mw, mc))
            new = tatonnement_prices(rho, z, t, rule)
        else:
            util = utilisation(used, cap)
            if inst.memory:
                md, mc = inst.requests.mem_demand, inst.resources.mem_capacity
                mu = np.bincount(alloc.resource, weights=md[alloc.request], minlength=len(cap))
                util = np.maximum(util, utilisation(mu, mc))
            new = update_prices(rho, util, t, rule)
        if floor is not None:
            new = np.maximum(new, floor)
        move = float(np.max(np.abs(new - rho))) if new.size else 0.0
        moves.append(move)
        history.append(new.copy())
        if move < rule.epsilon:
            converged = True
            break
        rho = new
    return MohafResult(
        allocation=alloc,
        prices=alloc_rho,
        price_history=np.asarray(history),
        max_price_move=np.asarray(moves),
        objective_history=np.asarray(values),
        converged=converged,
        n_candidate_pairs=hierarchy.n_candidate_pairs(),
        n_type_pairs=type_pairs(inst),
        runtime_s=time.perf_counter() - t0,
        cluster_s=t_cluster,
        hierarchy=hierarchy,
    )
