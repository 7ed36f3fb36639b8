"""WAN model of transport.pccl: the multi-connection TCP closed forms and matrix validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.topology import great_circle_km
from transport.pccl.wan import (
    FIBRE_SPEED_M_S,
    SITES,
    connection_rate_bps,
    connections_to_fill,
    effective_bandwidth,
    geo_wan,
    mathis_rate_bps,
    matrix_wan,
    measure_bandwidth,
    pair_rate_bps,
)


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(1, 512),
    window=st.floats(1e3, 1e8),
    rtt=st.floats(1e-4, 0.5),
    cap=st.floats(1e6, 1e12),
)
def test_k_connections_closed_form(k, window, rtt, cap):
    """k window-limited connections over one link: min(k·8W/RTT, C) (no loss)."""
    got = pair_rate_bps(k, rtt, cap, window)
    assert got == pytest.approx(min(k * 8 * window / rtt, cap), rel=1e-12)


def test_mathis_cap_and_window_cap():
    """Mathis et al. 1997: 8·MSS/RTT·sqrt(3/2)/sqrt(p); the connection takes the smaller."""
    rtt, mss, p = 0.1, 1460.0, 1e-4
    mathis = 8 * mss / rtt * np.sqrt(1.5) / np.sqrt(p)
    assert mathis_rate_bps(mss, rtt, p) == pytest.approx(mathis)
    assert np.isinf(mathis_rate_bps(mss, rtt, 0.0))
    small_window = 8 * 1000.0 / rtt
    assert connection_rate_bps(rtt, 1000.0, mss, p) == pytest.approx(small_window)
    assert connection_rate_bps(rtt, 1e9, mss, p) == pytest.approx(mathis)


def test_connections_to_fill_is_bdp_over_window():
    cap, rtt, w = 25e9, 0.08, 4 * 2**20
    k = int(connections_to_fill(cap, rtt, w))
    assert pair_rate_bps(k, rtt, cap, w) == cap
    assert pair_rate_bps(k - 1, rtt, cap, w) < cap


def test_geo_wan_rtt_and_capacity():
    """RTT = 2·route·d/v_fibre from the great circle; C = min(access_i, access_j)."""
    wan = geo_wan(["london", "new_york", "frankfurt"], [100, 25, 10], route_factor=1.5)
    d = great_circle_km(*SITES["london"], *SITES["new_york"])
    assert wan.rtt_s[0, 1] == pytest.approx(2 * 1.5 * d * 1e3 / FIBRE_SPEED_M_S)
    assert wan.rtt_s[0, 1] == wan.rtt_s[1, 0]
    assert 0.06 < wan.rtt_s[0, 1] < 0.1  # ~5570 km: a plausible transatlantic RTT
    assert wan.capacity_bps[0, 1] == 25e9 and wan.capacity_bps[2, 0] == 10e9
    assert np.all(np.diag(wan.capacity_bps) == 0)


def test_effective_bandwidth_matrix():
    wan = matrix_wan([[0, 10], [40, 0]], [[0, 50], [50, 0]])
    bw = effective_bandwidth(wan, connections=4, window_bytes=2**20)
    per = 8 * 2**20 / 0.05
    assert bw[0, 1] == pytest.approx(min(4 * per, 10e9))
    assert bw[1, 0] == pytest.approx(min(4 * per, 40e9))
    assert bw[0, 0] == 0


@pytest.mark.parametrize(
    "cap, rtt, match",
    [
        ([[0, 1, 2], [1, 0, 2]], [[0, 1], [1, 0]], "square"),
        ([[0, -1], [1, 0]], [[0, 1], [1, 0]], "> 0"),
        ([[0, np.nan], [1, 0]], [[0, 1], [1, 0]], "finite"),
        ([[0, 1], [1, 0]], [[0, 1, 1], [1, 0, 1], [1, 1, 0]], "must be 2 x 2"),
        ([[0]], [[0]], "at least 2"),
        ("abc", [[0, 1], [1, 0]], "matrix"),
    ],
)
def test_malformed_matrices_rejected(cap, rtt, match):
    with pytest.raises(ValueError, match=match):
        matrix_wan(cap, rtt)


def test_asymmetric_rtt_and_bad_transport_rejected():
    with pytest.raises(ValueError, match="symmetric"):
        matrix_wan([[0, 1], [1, 0]], [[0, 10], [20, 0]])
    wan = matrix_wan([[0, 1], [1, 0]], [[0, 10], [10, 0]])
    for kwargs, match in (
        ({"connections": 0, "window_bytes": 1e6}, "connections"),
        ({"connections": 2, "window_bytes": 0}, "window_bytes"),
        ({"connections": 2, "window_bytes": 1e6, "loss_rate": -0.1}, "loss_rate"),
    ):
        with pytest.raises(ValueError, match=match):
            effective_bandwidth(wan, **kwargs)
    with pytest.raises(ValueError, match="unknown site"):
        geo_wan(["london", "atlantis"], 10)
    with pytest.raises(ValueError, match="access_gbps"):
        geo_wan(["london", "paris"], [10, -1])
    with pytest.raises(ValueError, match="access_gbps"):
        geo_wan(["london", "paris"], [10, 10, 10])


def test_measurement_noise_mean_and_cv():
    """Log-normal benchmark noise has mean 1 and the requested coefficient of variation."""
    rng = np.random.default_rng(0)
    x = measure_bandwidth(np.full(200_000, 1e9), rng, cv=0.2) / 1e9
    assert x.mean() == pytest.approx(1.0, abs=3e-3)
    assert x.std() / x.mean() == pytest.approx(0.2, rel=0.02)
    truth = np.array([1.0, 2.0])
    assert np.array_equal(measure_bandwidth(truth, rng, 0.0), truth)
    with pytest.raises(ValueError, match="cv"):
        measure_bandwidth(truth, rng, -1.0)
