"""auction: hierarchical multi-objective auctions for IoT and cluster resources (MOHAF) and
baselines evaluated on the same objective.

* :mod:`auction.model` - resources, requests, weights, allocations (struct of arrays);
* :mod:`auction.utility` - the per-pair utility terms (cost, QoS, energy, fairness), vectorised;
* :mod:`auction.objective` - the set function F (monotone submodular);
* :mod:`auction.clustering` - type + k-means hierarchy that cuts the candidate pairs;
* :mod:`auction.greedy` - lazy greedy (two-level priority queue) and the plain greedy;
* :mod:`auction.pricing` - the utilisation-driven price rule;
* :mod:`auction.mohaf` - the mechanism (clustering, greedy, pricing rounds);
* :mod:`auction.baselines` - greedy-by-priority, first-price, Vickrey, random, MILP optimum;
* :mod:`auction.metrics` - efficiency, satisfaction, Jain over requesters, cost, energy, revenue;
* :mod:`auction.traces`, :mod:`auction.workload` - Google cluster trace loaders (2011, 2019),
  synthetic traces with the sample's marginals, and instances with IoT attributes;
* :mod:`auction.online` - the online auction on the engine; :mod:`auction.scenario` - the study.

Reference: K. Agrawal et al., "MOHAF: A Multi-Objective Hierarchical Auction Framework for
Scalable and Fair Resource Allocation in IoT Ecosystems", arXiv:2508.14830 (2025).
"""

from .baselines import BASELINES, optimum, upper_bound
from .metrics import evaluate, score
from .model import Allocation, Instance, Requests, Resources, UtilityParams, Weights
from .mohaf import MohafParams, MohafResult, run_mohaf
from .pricing import PriceRule

__all__ = [
    "Allocation",
    "BASELINES",
    "Instance",
    "MohafParams",
    "MohafResult",
    "PriceRule",
    "Requests",
    "Resources",
    "UtilityParams",
    "Weights",
    "evaluate",
    "optimum",
    "run_mohaf",
    "score",
    "upper_bound",
]
