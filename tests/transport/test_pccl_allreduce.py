"""Ring all-reduce on real numbers and its timing over the WAN model."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transport.pccl.allreduce import (
    RingAllReduce,
    ring_allreduce_time,
    ring_schedule,
    ring_step_costs,
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 12), length=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_every_peer_gets_the_exact_sum(n, length, seed):
    """Reduce-scatter + all-gather leaves every peer with the exact sum (integers: no rounding),
    and all peers' results are bit-identical; inputs are not modified."""
    rng = np.random.default_rng(seed)
    bufs = [rng.integers(-(10**6), 10**6, length) for _ in range(n)]
    before = [b.copy() for b in bufs]
    out = RingAllReduce(bufs).run()
    assert out.shape == (n, length)
    assert np.array_equal(out, np.broadcast_to(np.sum(bufs, axis=0), out.shape))
    assert all(np.array_equal(a, b) for a, b in zip(bufs, before, strict=True))


def test_float_results_are_bit_identical_across_peers():
    rng = np.random.default_rng(1)
    bufs = [rng.standard_normal(101) for _ in range(7)]
    out = RingAllReduce(bufs).run()
    assert np.all(out == out[0])  # all-gather copies: bit parity
    assert np.allclose(out[0], np.sum(bufs, axis=0), rtol=1e-12, atol=1e-12)


def test_partial_buffers_are_not_the_sum():
    """Stopped mid-way (a peer died), the working buffers hold partial sums: a retry must
    restart from the original contributions."""
    bufs = [np.full(8, 10**i, dtype=np.int64) for i in range(4)]
    ar = RingAllReduce(bufs)
    ar.apply_steps(2)
    part = ar.buffers()
    assert not np.all(part == np.sum(bufs, axis=0))
    ar.apply_steps(ar.steps)
    assert ar.complete and np.all(ar.buffers() == np.sum(bufs, axis=0))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 64),
    s_bytes=st.floats(1e3, 1e10),
    bw=st.floats(1e6, 1e11),
    alpha=st.floats(0.0, 0.2),
)
def test_uniform_wan_time_matches_closed_form(n, s_bytes, bw, alpha):
    """Over a uniform WAN the simulated schedule ends at 2(n−1)·α + 2(n−1)/n·S/B."""
    lat = np.full((n, n), alpha)
    band = np.full((n, n), bw)
    costs = ring_step_costs(np.arange(n), band, lat, s_bytes)
    t = ring_schedule(costs)
    closed = 2 * (n - 1) * alpha + 2 * (n - 1) / n * 8 * s_bytes / bw
    assert t[-1].max() == pytest.approx(closed, rel=1e-9)
    assert ring_allreduce_time(n, s_bytes, bw, alpha) == pytest.approx(closed, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 16), seed=st.integers(0, 2**32 - 1))
def test_heterogeneous_ring_time_is_bottleneck(n, seed):
    """With edge costs c_e the recurrence gives step k's end (k+1)·max c on the slowest edge,
    and the whole collective 2(n−1)·max c; finish times never decrease along k."""
    c = np.random.default_rng(seed).uniform(0.01, 1.0, n)
    t = ring_schedule(c)
    assert t.shape == (2 * (n - 1), n)
    assert t[-1].max() == pytest.approx(2 * (n - 1) * c.max(), rel=1e-12)
    assert np.all(np.diff(t, axis=0) > 0)
    ar = RingAllReduce([np.zeros(3)] * n, c)
    assert ar.duration == pytest.approx(2 * (n - 1) * c.max(), rel=1e-12)
    assert ar.steps_done_by(ar.duration) == ar.steps
    assert ar.chunks_sent_by(ar.duration) == 2 * (n - 1) * n
    assert ar.steps_done_by(0.0) == 0


def test_bad_input_rejected():
    with pytest.raises(ValueError, match="at least 2 peers"):
        RingAllReduce([np.zeros(3)])
    with pytest.raises(ValueError, match="at least 2 peers"):
        ring_allreduce_time(1, 1e6, 1e9, 0.0)
    with pytest.raises(ValueError, match="message size"):
        ring_allreduce_time(4, 0.0, 1e9, 0.0)
    with pytest.raises(ValueError, match="message size"):
        ring_step_costs([0, 1], np.ones((2, 2)), np.zeros((2, 2)), 0.0)
    with pytest.raises(ValueError, match="bandwidth"):
        ring_allreduce_time(4, 1e6, -1.0, 0.0)
    with pytest.raises(ValueError, match="latency"):
        ring_allreduce_time(4, 1e6, 1e9, -1.0)
    with pytest.raises(ValueError, match="one shape"):
        RingAllReduce([np.zeros(3), np.zeros(4)])
    with pytest.raises(ValueError, match="non-empty"):
        RingAllReduce([np.zeros(0), np.zeros(0)])
    with pytest.raises(ValueError, match="costs"):
        RingAllReduce([np.zeros(3)] * 3, [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="bandwidth > 0"):
        ring_step_costs([0, 1], np.zeros((2, 2)), np.zeros((2, 2)), 1e6)
