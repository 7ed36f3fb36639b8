"""Band-split interference, coordinated-beamforming nulling and PRB rates, against loops and
hand-computed overlaps."""

import numpy as np
import pytest

from netsim.radio import shannon_rate_bps
from ran.comp.radio import (
    cluster_sinr,
    comp_overlap,
    prb_rate_bps,
    primary_overlap,
    rx_power_w,
    serving_sinr,
)

N_PRBS = 50.0


def test_overlaps_by_hand():
    used = np.array([10.0, 30.0, 45.0])
    sold = np.array([20.0, 0.0, 5.0])
    a = primary_overlap(used, sold, N_PRBS)
    # BS 0's primary PRBs [0, 10): BS 1 uses [0, 30) -> all hit; BS 2 uses [0, 45) -> all hit
    assert a[0].tolist() == [0.0, 1.0, 1.0]
    # BS 1 [0, 30): BS 0 primary [0, 10) hits 10, BS 0 sells [30, 50) -> none; 10/30
    # BS 2 primary [0, 45) hits 30 -> 1
    assert a[1] == pytest.approx([10 / 30, 0.0, 1.0])
    # BS 2 [0, 45): BS 0 primary 10 + sold [30, 50) overlaps [30, 45) = 15 -> 25/45;
    # BS 1 primary 30 -> 30/45
    assert a[2] == pytest.approx([25 / 45, 30 / 45, 0.0])
    b = comp_overlap(used, sold, N_PRBS)
    # BS 0 sells [30, 50): BS 1 primary [0, 30) -> 0; BS 2 primary [0, 45) -> 15 and its sold
    # [45, 50) -> 5: 20/20
    assert b[0] == pytest.approx([0.0, 0.0, 1.0])
    # BS 1 sells nothing: exposure of its next PRB (index 49): BS 0 sells there, BS 2 too
    assert b[1].tolist() == [1.0, 0.0, 1.0]
    # BS 2 sells [45, 50): BS 0 sold [30, 50) covers it; BS 1 nothing
    assert b[2] == pytest.approx([1.0, 0.0, 0.0])


def _loop_serving(rx, serving, a_mat, noise):
    out = []
    for n in range(rx.shape[0]):
        s = serving[n]
        i = sum(a_mat[s, k] * rx[n, k] for k in range(rx.shape[1]) if k != s)
        out.append(rx[n, s] / (i + noise))
    return np.array(out)


def _loop_cluster(rx, cluster, b_mat, noise):
    out = np.zeros(cluster.shape)
    for n in range(rx.shape[0]):
        for slot, j in enumerate(cluster[n]):
            i = sum(b_mat[j, k] * rx[n, k] for k in range(rx.shape[1]) if k not in cluster[n])
            out[n, slot] = rx[n, j] / (i + noise)
    return out


def test_sinr_vectorised_equals_loops():
    rng = np.random.default_rng(1)
    n, m = 12, 7
    rx = rx_power_w(10.0, rng.uniform(60, 130, (n, m)))
    used, sold = rng.uniform(0, 30, m), rng.uniform(0, 20, m)
    a, b = primary_overlap(used, sold, N_PRBS), comp_overlap(used, sold, N_PRBS)
    serving = rng.integers(0, m, n)
    cluster = np.stack([rng.permutation(m)[:3] for _ in range(n)])
    noise = 1e-14
    assert np.allclose(serving_sinr(rx, serving, a, noise), _loop_serving(rx, serving, a, noise))
    assert np.allclose(cluster_sinr(rx, cluster, b, noise), _loop_cluster(rx, cluster, b, noise))
    # an activity vector is the random-PRB model A[s, k] = a_k
    act = rng.uniform(0, 1, m)
    full = np.tile(act, (m, 1))
    np.fill_diagonal(full, 0.0)
    assert np.allclose(
        serving_sinr(rx, serving, act, noise), serving_sinr(rx, serving, full, noise)
    )


def test_cluster_members_are_nulled():
    rx = np.array([[1e-9, 1e-9, 1e-9, 1e-12]])
    b = np.ones((4, 4)) - np.eye(4)
    sinr = cluster_sinr(rx, np.array([[0, 1, 2]]), b, 1e-15)
    # only BS 3 (outside the cluster) interferes
    assert sinr[0] == pytest.approx(np.full(3, 1e-9 / (1e-12 + 1e-15)))


def test_prb_rate_gap_and_cap():
    sinr = np.array([0.0, 1.0, 10.0, 1e6])
    r = prb_rate_bps(sinr, 360e3, 3.0, 7.4063)
    assert r[0] == 0.0
    assert r[1] == pytest.approx(shannon_rate_bps(360e3, 1.0, 3.0))
    assert r[3] == pytest.approx(360e3 * 7.4063)
    assert rx_power_w(30.0, 30.0) == pytest.approx(1e-3)
