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
