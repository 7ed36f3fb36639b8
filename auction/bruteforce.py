"""Exhaustive optimum of F on tiny instances and the greedy-ratio experiment (the oracle of
the approximation-bound tests and of the benchmark's ratio report).

Constraint families (greedy.py): ``unconstrained`` with ``|S| ≤ k`` (uniform matroid; greedy
≥ 1 − 1/e, Nemhauser, Wolsey & Fisher 1978), ``exclusive`` one-to-one matching (two partition
matroids; greedy ≥ 1/(p + 1) = 1/3, Fisher, Nemhauser & Wolsey 1978), ``shared`` capacities
(knapsack rows; no constant bound for plain greedy).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .greedy import lazy_greedy, plain_greedy
from .objective import PairObjective

__all__ = ["random_pairs", "pair_objective", "brute_force", "RatioReport", "greedy_ratios"]


def random_pairs(rng: np.random.Generator, n: int, m: int, n_owners: int, p_feasible: float = 0.8):
    """A random candidate block: base utilities in [0, 1) (some infeasible), owners, demands
    in [0.1, 1) and capacities in [0.5, 2)."""
    w = rng.random((n, m))
    w[rng.random((n, m)) > p_feasible] = -np.inf
    owner = rng.integers(0, n_owners, n)
    demand = rng.uniform(0.1, 1.0, n)
    cap = rng.uniform(0.5, 2.0, m)
    return w, owner, demand, cap


def pair_objective(w, owner, delta) -> tuple[list, dict, PairObjective]:
    """The feasible pairs ``(i, j)`` of ``w`` (finite entries), their index and F over them."""
    n, m = w.shape
    pairs = [(i, j) for i in range(n) for j in range(m) if np.isfinite(w[i, j])]
    index = {p: e for e, p in enumerate(pairs)}
    F = PairObjective(
        np.array([w[i, j] for i, j in pairs], float),
        np.asarray(owner)[[i for i, _ in pairs]].astype(np.int64),
        delta,
    )
    return pairs, index, F


def brute_force(w, owner, demand, cap, delta, mode, k=None, mem=None) -> float:
    """max F over every feasible set of pairs (exhaustive; tiny instances only). ``mem =
    (mem_demand, mem_capacity)`` adds a memory row per resource (vector packing)."""
    n, m = w.shape
    pairs, index, F = pair_objective(w, owner, delta)
    best = 0.0
    if mode == "unconstrained":
        for size in range(1, min(k or len(pairs), len(pairs)) + 1):
            for sub in itertools.combinations(range(len(pairs)), size):
                best = max(best, F(sub))
        return best
    for assign in itertools.product(range(-1, m), repeat=n):  # -1: request not served
        sel = [(i, j) for i, j in enumerate(assign) if j >= 0]
        if (k is not None and len(sel) > k) or any((i, j) not in index for i, j in sel):
            continue
        if mode == "exclusive":
            js = [j for _, j in sel]
            if len(set(js)) != len(js) or any(demand[i] > cap[j] for i, j in sel):
                continue
            if mem is not None and any(mem[0][i] > mem[1][j] for i, j in sel):
                continue
        else:
            load = np.zeros(m)
            np.add.at(load, [j for _, j in sel], [demand[i] for i, _ in sel])
            if np.any(load > cap):
                continue
            if mem is not None:
                mload = np.zeros(m)
                np.add.at(mload, [j for _, j in sel], [mem[0][i] for i, _ in sel])
                if np.any(mload > mem[1]):
                    continue
        best = max(best, F([index[p] for p in sel]))
    return best


@dataclass(frozen=True)
class RatioReport:
    mode: str
    trials: int
    worst: float
    mean: float
    bound: float
    lazy_equals_plain: bool
    gains_sum_to_F: bool  # the greedy's reported gains add up to F of its pairs


def greedy_ratios(
    mode: str, trials: int, seed: int = 0, n: int = 6, m: int = 3, k: int = 3, delta: float = 0.3
) -> RatioReport:
    """Lazy greedy against the brute-force optimum on ``trials`` random instances."""
    rng = np.random.default_rng(seed)
    ratios, same, gains_ok = [], True, True
    bound = {"unconstrained": 1 - 1 / np.e, "exclusive": 1 / 3, "shared": 0.0}[mode]
    kk = k if mode == "unconstrained" else None
    for _ in range(trials):
        w, owner, demand, cap = random_pairs(rng, n, m, max(1, n // 2))
        if mode == "exclusive":
            cap = np.maximum(cap, 1.0)
        blocks = [(np.arange(n), np.arange(m), w)]
        li, lj, lg = lazy_greedy(blocks, n, m, demand, owner, cap, delta, mode, kk)
        ii, jj = np.nonzero(np.isfinite(w))
        pi, pj, pg = plain_greedy(ii, jj, w[ii, jj], m, demand, owner, cap, delta, mode, kk)
        same &= np.array_equal(li, pi) and np.array_equal(lj, pj) and np.array_equal(lg, pg)
        opt = brute_force(w, owner, demand, cap, delta, mode, kk)
        _, index, F = pair_objective(w, owner, delta)
        f_greedy = F([index[p] for p in zip(li.tolist(), lj.tolist(), strict=True)])
        gains_ok &= abs(f_greedy - lg.sum()) <= 1e-9
        ratios.append(f_greedy / opt if opt > 0 else 1.0)
    r = np.asarray(ratios)
    return RatioReport(
        mode, trials, float(r.min()), float(r.mean()), bound, bool(same), bool(gains_ok)
    )
