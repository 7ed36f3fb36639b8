"""MOHAF's hierarchy: resources are split by type, then by k-means on location; each request
joins the nearest cluster of its type and bids only on the resources of that cluster and of
its ``neighbours`` nearest clusters (Agrawal et al. 2025, §IV-A).

The number of clusters per type is set by one rule:

* ``n_clusters``: a total, shared among types in proportion to their resources;
* ``resources_per_cluster``: about that many resources per cluster (k = ⌈M_t/size⌉); with a constant
  size the candidate pairs grow linearly in N (the scalable choice);
* neither: the √M_t rule, which makes candidate pairs grow like N·√M.

``flat=True`` puts every resource of a type in one cluster (all type-matching pairs).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial import cKDTree
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from .model import Instance
from .utility import distance_km

__all__ = ["Hierarchy", "build_hierarchy", "assign_requests", "clusters_per_type", "kmeans"]


@dataclass(frozen=True)
class Hierarchy:
    """Clusters of resources and the candidate resources of each request cluster."""

    centroids: np.ndarray  # (K, 2) km
    cluster_type: np.ndarray  # (K,)
    res_cluster: np.ndarray  # (M,) cluster of each resource
    req_cluster: np.ndarray  # (N,) cluster of each request; -1 if no resource has its type
    near: tuple[np.ndarray, ...]  # near[c]: clusters whose resources requests of c may bid on
    members: tuple[np.ndarray, ...]  # members[c]: resource indices of cluster c

    @property
    def n_clusters(self) -> int:
        return int(self.centroids.shape[0])

    def with_requests(self, requests) -> Hierarchy:
        """The same resource clusters with ``requests`` assigned to them."""
        return replace(
            self, req_cluster=assign_requests(self.centroids, self.cluster_type, requests)
        )

    def candidates(self, c: int) -> np.ndarray:
        """Resources that requests of cluster ``c`` bid on (sorted)."""
        return np.sort(np.concatenate([self.members[k] for k in self.near[c]]))

    def blocks(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(cluster, requests, candidate resources)`` for every cluster with requests."""
        order = np.argsort(self.req_cluster, kind="stable")
        bounds = np.searchsorted(self.req_cluster[order], np.arange(self.n_clusters + 1))
        for c in range(self.n_clusters):
            req = order[bounds[c] : bounds[c + 1]]
            if req.size:
                yield c, req, self.candidates(c)

    def n_candidate_pairs(self) -> int:
        """Pairs the requests may bid on (before price and QoS feasibility)."""
        sizes = np.array([m.size for m in self.members])
        cand = np.array([sizes[n].sum() for n in self.near], dtype=np.int64)
        counts = np.bincount(self.req_cluster[self.req_cluster >= 0], minlength=self.n_clusters)
        return int(np.dot(counts, cand))


def clusters_per_type(
    sizes: dict[int, int], n_clusters: int | None, resources_per_cluster: int | None
) -> dict[int, int]:
    """Clusters for each type given the resources per type (see the module docstring)."""
    if n_clusters is not None and n_clusters < 1:
        raise ValueError(f"n_clusters must be >= 1, got {n_clusters}")
    if resources_per_cluster is not None and resources_per_cluster < 1:
        raise ValueError(f"resources_per_cluster must be >= 1, got {resources_per_cluster}")
    total = sum(sizes.values())
    out = {}
    for t, m in sizes.items():
        if resources_per_cluster is not None:
            k = math.ceil(m / resources_per_cluster)
        elif n_clusters is not None:
            k = round(n_clusters * m / total)
        else:
            k = round(math.sqrt(m))
        out[t] = int(min(max(k, 1), m))
    return out


def build_hierarchy(
    inst: Instance,
    n_clusters: int | None = None,
    resources_per_cluster: int | None = None,
    neighbours: int = 2,
    seed: int = 0,
    flat: bool = False,
) -> Hierarchy:
    """Cluster ``inst``'s resources (type, then k-means on location) and assign requests.

    Clustering is :func:`kmeans` (deterministic for a given ``seed``).
    """
    if neighbours < 0:
        raise ValueError(f"neighbours must be >= 0, got {neighbours}")
    R, Q = inst.resources, inst.requests
    types, type_sizes = np.unique(R.type, return_counts=True)
    ks = clusters_per_type(
        dict(zip(types.tolist(), type_sizes.tolist(), strict=True)),
        n_clusters,
        resources_per_cluster,
    )
    res_cluster = np.empty(len(R), dtype=np.int64)
    cents, ctype = [], []
    for t in types.tolist():
        idx = np.flatnonzero(R.type == t)
        k = 1 if flat else ks[t]
        if k == 1:
            labels, cent = (
                np.zeros(idx.size, dtype=np.int64),
                R.location[idx].mean(axis=0, keepdims=True),
            )
        else:
            labels, cent = kmeans(R.location[idx], k, seed)
        res_cluster[idx] = labels + len(ctype)
        cents.append(cent)
        ctype.extend([t] * k)
    centroids = np.vstack(cents)
    cluster_type = np.asarray(ctype, dtype=np.int64)
    by_cluster = np.argsort(res_cluster, kind="stable")
    cuts = np.searchsorted(res_cluster[by_cluster], np.arange(1, centroids.shape[0]))
    members = tuple(np.split(by_cluster, cuts))
    near = []
    for t in types.tolist():
        cl = np.flatnonzero(cluster_type == t)
        dc = distance_km(centroids[cl][:, None, :], centroids[cl][None, :, :])
        order = np.argsort(dc, axis=1, kind="stable")[:, : neighbours + 1]
        # clusters are numbered type by type, so this appends them in cluster order
        near.extend(np.union1d(c, cl[o]) for c, o in zip(cl.tolist(), order, strict=True))
    return Hierarchy(
        centroids,
        cluster_type,
        res_cluster,
        assign_requests(centroids, cluster_type, Q),
        tuple(near),
        members,
    )


#: above this many clusters k-means runs in two levels (see :func:`kmeans`)
TWO_LEVEL_K = 64


#: up to this many points, k-means runs in plain numpy (scikit-learn's fixed cost is ~10 ms)
SMALL_KMEANS = 64


def _lloyd_small(x: np.ndarray, k: int, seed: int, iters: int = 100):
    """Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007) in numpy, for a
    few points; deterministic for a given ``seed``."""
    rng = np.random.default_rng(seed % (2**31))
    cent = [x[rng.integers(x.shape[0])]]
    for _ in range(1, k):
        d2 = np.min(((x[:, None, :] - np.asarray(cent)[None]) ** 2).sum(-1), axis=1)
        p = d2 / d2.sum() if d2.sum() > 0 else np.full(x.shape[0], 1.0 / x.shape[0])
        cent.append(x[rng.choice(x.shape[0], p=p)])
    cent = np.asarray(cent, float)
    labels = np.full(x.shape[0], -1, np.int64)
    for _ in range(iters):
        new = np.argmin(((x[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(k):
            members = x[labels == c]
            if members.size:
                cent[c] = members.mean(axis=0)
    return labels, cent


def _lloyd(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if x.shape[0] <= SMALL_KMEANS:
        return _lloyd_small(x, k, seed)
    km = KMeans(n_clusters=k, n_init=1, max_iter=100, random_state=seed % (2**31))
    with threadpool_limits(1):  # one core; OpenMP threads only contend on small inputs
        labels = km.fit_predict(x).astype(np.int64)
    return labels, km.cluster_centers_


def _shares(sizes: np.ndarray, k: int) -> np.ndarray:
    """``k`` split over groups in proportion to ``sizes`` (largest remainder), each share in
    ``[1, size]``; requires ``len(sizes) <= k <= sizes.sum()``."""
    raw = k * sizes / sizes.sum()
    out = np.clip(np.floor(raw).astype(np.int64), 1, sizes)
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    while out.sum() != k:
        step = 1 if out.sum() < k else -1
        for g in order:
            if out.sum() == k:
                break
            if 1 <= out[g] + step <= sizes[g]:
                out[g] += step
    return out


def kmeans(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` clusters of the points ``x``: ``(labels, centroids)``.

    scikit-learn's Lloyd k-means (k-means++ seeding, one initialisation, ``random_state`` from
    ``seed``: deterministic). Lloyd costs O(M·k) per iteration, quadratic in M when k ∝ M, so
    above :data:`TWO_LEVEL_K` clusters it runs in two levels (hierarchical k-means, Nistér &
    Stewénius 2006): ⌈√k⌉ coarse clusters, then each coarse cluster is split into its share
    of the k clusters (in proportion to its points), O(M·√k) per iteration."""
    if k <= TWO_LEVEL_K:
        return _lloyd(x, k, seed)
    coarse, _ = _lloyd(x, math.ceil(math.sqrt(k)), seed)
    sizes = np.bincount(coarse)
    present = np.flatnonzero(sizes)
    shares = _shares(sizes[present], k)
    labels = np.empty(x.shape[0], dtype=np.int64)
    cents, base = [], 0
    for g, kg in zip(present.tolist(), shares.tolist(), strict=True):
        idx = np.flatnonzero(coarse == g)
        sub, cent = _lloyd(x[idx], kg, seed + 1 + g) if kg > 1 else (
            np.zeros(idx.size, dtype=np.int64), x[idx].mean(axis=0, keepdims=True))
        labels[idx] = sub + base
        cents.append(cent)
        base += kg
    return labels, np.vstack(cents)


def assign_requests(centroids: np.ndarray, cluster_type: np.ndarray, requests) -> np.ndarray:
    """Nearest cluster of the request's type for every request (-1: no cluster of its type);
    ties go to the lowest cluster index (``argmin`` over all clusters of the type).

    With at most 4 centroids of a type every distance is compared; otherwise a k-d tree
    proposes the 4 nearest centroids (O(N log K) rather than all N·K distances),
    re-ranked with :func:`distance_km`. Where the 4th is within rounding of the nearest (exact
    ties, e.g. duplicate points), the request is compared with every centroid instead.
    """
    out = np.full(len(requests), -1, dtype=np.int64)
    for t in np.unique(cluster_type).tolist():
        cl = np.flatnonzero(cluster_type == t)
        qi = np.flatnonzero(requests.type == t)
        if qi.size == 0:
            continue
        loc, cent = requests.location[qi], centroids[cl]
        if cl.size <= 4:  # few centroids: every distance, argmin picks the lowest on ties
            out[qi] = cl[np.argmin(distance_km(loc[:, None, :], cent[None]), axis=1)]
            continue
        k = min(4, cl.size)
        _, near = cKDTree(cent).query(loc, k=k)
        near = np.reshape(near, (qi.size, k))
        cand = np.sort(near, axis=1)
        d = distance_km(loc[:, None, :], cent[cand])
        best = np.argmin(d, axis=1)
        pick = cand[np.arange(qi.size), best]
        if k < cl.size:
            tied = distance_km(loc, cent[near[:, -1]]) <= d.min(axis=1) * (1 + 1e-9)
            for s in np.flatnonzero(tied):
                pick[s] = np.argmin(distance_km(loc[s], cent))
        out[qi] = cl[pick]
    return out
