"""Per-pair utility ``U_ij = α·u_cost + β·u_qos + γ·u_energy + δ·u_fair`` (MOHAF, Agrawal et
al. 2025, arXiv:2508.14830, §III), every term in [0, 1], vectorised over blocks of pairs.

With weights normalised to sum 1 (:class:`~auction.model.Weights`), U_ij is in [0, 1]:

* ``u_cost = 1 − p_ij/B_i`` with the posted price ``p_ij = ρ_j·d_i``: the share of the budget
  left after paying the posted price (budget headroom); feasible pairs have ``p_ij ≤ B_i``.
* ``u_qos = (rel_j + avail_j + exp(−lat_ij/lat_ref))/3`` with
  ``lat_ij = lat_0 + k·‖ℓ_i − ℓ_j‖`` (ms; distance in km).
* ``u_energy = η_j``, the resource's energy efficiency.
* ``u_fair = 1/(1 + h_k)``, ``h_k`` = requests requester k already holds: the marginal gain of
  the harmonic number H(h) = Σ_{m≤h} 1/m, a concave (proportional-fairness-like, H ≈ ln h)
  function of the requester's holdings, so F(S) is monotone submodular (objective.py).

The price-free part ``s_ij = β·u_qos + γ·u_energy`` is computed once; with it the base utility
is ``w_ij = α·(1 − ρ_j/v_i) + s_ij`` where ``v_i = B_i/d_i`` is the budget per unit demand.
"""

from __future__ import annotations

import numpy as np

from .model import Instance, UtilityParams, Weights

__all__ = [
    "distance_km",
    "latency_ms",
    "cost_term",
    "latency_factor",
    "qos_term",
    "energy_term",
    "fairness_term",
    "value_per_unit",
    "static_terms",
    "base_from_static",
    "base_utility",
    "utility_matrix",
    "reference_utility",
    "reference_matrix",
    "payment",
]


def distance_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance (km) between broadcastable point arrays ``(..., 2)``."""
    d = np.asarray(a, float) - np.asarray(b, float)
    return np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1])


def latency_ms(dist_km: np.ndarray, params: UtilityParams) -> np.ndarray:
    """``lat = lat_0 + k·dist`` (ms): fixed processing delay plus fibre round trip per km."""
    return params.latency_base_ms + params.latency_ms_per_km * dist_km


def cost_term(price: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Budget headroom ``clip(1 − price/budget, 0, 1)``; a zero budget gives 1 for a free
    resource and 0 otherwise."""
    price = np.asarray(price, float)
    budget = np.asarray(budget, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = 1.0 - price / budget
    u = np.where(budget > 0, u, np.where(price <= 0, 1.0, 0.0))
    return np.clip(u, 0.0, 1.0)


def latency_factor(lat_ms: np.ndarray, ref_ms: float) -> np.ndarray:
    """``exp(−lat/ref)`` in (0, 1]: 1 at zero latency, 1/e at ``ref`` ms."""
    return np.exp(-np.asarray(lat_ms, float) / ref_ms)


def qos_term(reliability, availability, lat_factor) -> np.ndarray:
    """``(rel + avail + latency factor)/3`` in [0, 1]."""
    return (np.asarray(reliability) + np.asarray(availability) + np.asarray(lat_factor)) / 3.0


def energy_term(efficiency) -> np.ndarray:
    """The resource's energy efficiency η_j in [0, 1]."""
    return np.asarray(efficiency, float)


def fairness_term(held) -> np.ndarray:
    """``1/(1 + h)``: marginal gain of H(h) = Σ_{m ≤ h} 1/m for a requester holding h requests."""
    return 1.0 / (1.0 + np.asarray(held, float))


def value_per_unit(demand: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """``v_i = B_i/d_i`` (money per unit demand; inf for zero demand)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.asarray(budget, float) / np.asarray(demand, float)
    return np.where(np.asarray(demand) > 0, v, np.inf)


def static_terms(
    inst: Instance, qi: np.ndarray, rj: np.ndarray, weights: Weights, params: UtilityParams
) -> tuple[np.ndarray, np.ndarray]:
    """Price-free part ``s = β·u_qos + γ·u_energy`` and price-free feasibility (type match,
    capacity ≥ demand, memory too when ``inst.memory``, reliability and latency floors) of
    the pairs ``(qi, rj)``.

    ``qi`` and ``rj`` are broadcastable index arrays: aligned 1-D arrays give one value per
    pair, ``req[:, None]`` with ``res[None, :]`` gives the block ``req × res``.
    """
    R, Q = inst.resources, inst.requests
    qi, rj = np.asarray(qi), np.asarray(rj)
    _, b, g, _ = weights.normalised()
    lat = latency_ms(distance_km(Q.location[qi], R.location[rj]), params)
    s = b * qos_term(
        R.reliability[rj], R.availability[rj], latency_factor(lat, params.latency_ref_ms)
    )
    s += g * energy_term(R.energy_efficiency[rj])
    ok = Q.type[qi] == R.type[rj]
    ok &= R.capacity[rj] >= Q.demand[qi]
    if inst.memory:
        ok &= R.mem_capacity[rj] >= Q.mem_demand[qi]
    ok &= R.reliability[rj] >= Q.min_reliability[qi]
    ok &= lat <= Q.max_latency_ms[qi]
    return s, ok


def static_matrix(
    inst: Instance, weights: Weights, params: UtilityParams
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`static_terms` of every (request, resource) pair: two ``n × m`` arrays."""
    n, m = inst.shape
    return static_terms(inst, np.arange(n)[:, None], np.arange(m)[None, :], weights, params)


def base_from_static(
    s: np.ndarray, ok: np.ndarray, prices: np.ndarray, value: np.ndarray, weights: Weights
) -> tuple[np.ndarray, np.ndarray]:
    """Base utility ``w = α(1 − ρ_j/v_i) + s`` and feasibility including ``ρ_j·d_i ≤ B_i``
    (equivalently ``ρ_j ≤ v_i``); ``prices`` and ``value`` broadcast against ``s``.
    Infeasible entries of ``w`` are ``-inf``."""
    a = weights.normalised()[0]
    ratio = prices / value
    feas = ok & (ratio <= 1.0)
    w = np.where(feas, a * (1.0 - ratio) + s, -np.inf)
    return w, feas


def base_utility(
    inst: Instance,
    qi: np.ndarray,
    rj: np.ndarray,
    prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Base utility ``w_ij`` (all terms but fairness) and feasibility of the pairs
    ``(qi, rj)`` (broadcastable, see :func:`static_terms`) at resource ``prices`` (length M).
    Infeasible entries of ``w`` are ``-inf``."""
    qi, rj = np.asarray(qi), np.asarray(rj)
    s, ok = static_terms(inst, qi, rj, weights, params)
    Q = inst.requests
    v = value_per_unit(Q.demand[qi], Q.budget[qi])
    return base_from_static(s, ok, np.asarray(prices, float)[rj], v, weights)


def utility_matrix(
    inst: Instance, prices: np.ndarray, weights: Weights, params: UtilityParams
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``N × M`` base utilities and feasibility (small instances: oracles, baselines)."""
    n, m = inst.shape
    return base_utility(inst, np.arange(n)[:, None], np.arange(m)[None, :], prices, weights, params)


def reference_utility(
    inst: Instance,
    qi: np.ndarray,
    rj: np.ndarray,
    ref_prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    floor_prices: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Base utility of the common objective every mechanism is scored on, and feasibility.

    ``w_ij = α·clip(1 − ρ⁰_j d_i/B_i, 0, 1) + s_ij`` with the cost term at the reference
    prices ρ⁰ whatever prices the mechanism itself posted. Feasibility: type, capacity and QoS
    floors, and the budget at ``floor_prices`` (default ρ⁰): with the lowest price a mechanism
    may post there (MOHAF's ρ_min), the feasible set holds every allocation any mechanism can
    make, so its optimum bounds them all. ``qi``/``rj`` broadcast as in :func:`static_terms`.
    ``w`` is returned for every pair, feasible or not (see :func:`reference_matrix`).
    """
    qi, rj = np.asarray(qi), np.asarray(rj)
    s, ok = static_terms(inst, qi, rj, weights, params)
    Q = inst.requests
    ref = np.asarray(ref_prices, float)
    floor = ref if floor_prices is None else np.asarray(floor_prices, float)
    d, b = Q.demand[qi], Q.budget[qi]
    with np.errstate(divide="ignore", invalid="ignore"):
        feas = ok & (floor[rj] / value_per_unit(d, b) <= 1.0)  # ρ_j d_i ≤ B_i (base_from_static)
    return weights.normalised()[0] * cost_term(ref[rj] * d, b) + s, feas


def reference_matrix(
    inst: Instance,
    ref_prices: np.ndarray,
    weights: Weights,
    params: UtilityParams,
    floor_prices: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``N × M`` form of :func:`reference_utility` (optimum, upper bound); infeasible
    entries of ``w`` are ``-inf``."""
    qi, rj = np.arange(inst.shape[0])[:, None], np.arange(inst.shape[1])[None, :]
    w, feas = reference_utility(inst, qi, rj, ref_prices, weights, params, floor_prices)
    return np.where(feas, w, -np.inf), feas


def payment(price_per_unit, demand, utility, budget) -> np.ndarray:
    """MOHAF payment ``π_ij = min(ρ_j·d_i·(0.8 + 0.4·U_ij), B_i)`` (Agrawal et al. 2025)."""
    return np.minimum(
        np.asarray(price_per_unit) * np.asarray(demand) * (0.8 + 0.4 * np.asarray(utility)),
        np.asarray(budget),
    )
