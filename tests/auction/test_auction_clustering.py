"""Request-to-cluster assignment: the k-d tree shortcut equals brute-force ``argmin`` over
all clusters of the request's type, ties (to the lowest cluster index) included."""

from types import SimpleNamespace

import numpy as np
import pytest

from auction.clustering import assign_requests
from auction.utility import distance_km


def _brute(centroids, cluster_type, req):
    out = np.full(len(req.type), -1)
    for t in np.unique(cluster_type):
        cl = np.flatnonzero(cluster_type == t)
        qi = np.flatnonzero(req.type == t)
        if qi.size:
            d = distance_km(req.location[qi][:, None, :], centroids[cl][None, :, :])
            out[qi] = cl[np.argmin(d, axis=1)]
    return out


class _Req(SimpleNamespace):
    def __len__(self):
        return len(self.type)


@pytest.mark.parametrize("grid", [False, True])
@pytest.mark.parametrize("seed", range(20))
def test_assignment_equals_brute_force(seed, grid):
    rng = np.random.default_rng(seed)
    k, n = int(rng.integers(1, 40)), int(rng.integers(0, 300))
    if grid:  # points on a coarse grid: many exact distance ties and duplicate centroids
        cent = np.round(rng.uniform(0, 4, (k, 2)))
        loc = np.round(rng.uniform(0, 4, (n, 2)) * 2) / 2
    else:
        cent, loc = rng.uniform(0, 200, (k, 2)), rng.uniform(0, 200, (n, 2))
    ctype = rng.integers(0, 3, k)
    req = _Req(type=rng.integers(0, 4, n), location=loc)  # type 3 has no cluster: -1
    np.testing.assert_array_equal(assign_requests(cent, ctype, req), _brute(cent, ctype, req))


# -- k-means (two levels above TWO_LEVEL_K clusters) ------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from auction.clustering import TWO_LEVEL_K, _lloyd, _shares, kmeans  # noqa: E402


@given(st.lists(st.integers(1, 50), min_size=1, max_size=30), st.data())
def test_shares_split_k_in_bounds(sizes, data):
    sizes = np.array(sizes)
    k = data.draw(st.integers(len(sizes), int(sizes.sum())))
    out = _shares(sizes, k)
    assert out.sum() == k and (out >= 1).all() and (out <= sizes).all()


def test_small_k_is_plain_lloyd():
    x = np.random.default_rng(1).uniform(0, 100, (500, 2))
    a, ca = kmeans(x, TWO_LEVEL_K, 3)
    b, cb = _lloyd(x, TWO_LEVEL_K, 3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ca, cb)


@pytest.mark.parametrize("k", [TWO_LEVEL_K + 1, 300])
def test_two_level_kmeans_gives_k_clusters_near_lloyd_quality(k):
    x = np.random.default_rng(2).uniform(0, 1000, (6000, 2))
    labels, cent = kmeans(x, k, 5)
    assert cent.shape == (k, 2)
    assert np.array_equal(np.unique(labels), np.arange(k))  # every cluster non-empty
    # each centroid sits at the mean of its own points (up to Lloyd's stopping tolerance):
    # catches labels and centroids that are misaligned between coarse cells
    means = np.array([x[labels == c].mean(axis=0) for c in range(k)])
    np.testing.assert_allclose(cent, means, atol=5.0)
    inertia = ((x - cent[labels]) ** 2).sum()
    ref, rc = _lloyd(x, k, 5)
    assert inertia <= 1.10 * ((x - rc[ref]) ** 2).sum()  # within 10 % of one-level Lloyd
    again, _ = kmeans(x, k, 5)
    np.testing.assert_array_equal(labels, again)  # deterministic
