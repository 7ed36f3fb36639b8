"""Named RNG streams: independence from creation order, stability across processes."""

import subprocess
import sys

import numpy as np
import pytest

from netsim import Simulation
from netsim.rng import Buffered, Streams, derive_seed, name_key, stream


def test_same_seed_and_name_same_draws():
    assert np.array_equal(stream(7, "a").random(5), stream(7, "a").random(5))


def test_different_names_and_seeds_differ():
    assert not np.array_equal(stream(7, "a").random(5), stream(7, "b").random(5))
    assert not np.array_equal(stream(7, "a").random(5), stream(8, "a").random(5))


def test_adding_a_stream_does_not_change_existing_ones():
    s1 = Streams(42)
    a_only = s1("traffic.ue1").random(10)
    s2 = Streams(42)
    s2("new.component").random(100)  # created first and drawn from
    s2("another").normal(size=7)
    assert np.array_equal(s2("traffic.ue1").random(10), a_only)


def test_simulation_streams_are_cached_and_seeded():
    sim = Simulation(seed=3)
    assert sim.rng("x") is sim.rng("x")
    assert np.array_equal(sim.rng("y").random(3), stream(3, "y").random(3))


def test_stream_draws_identical_in_a_fresh_process():
    code = "from netsim.rng import stream, derive_seed; print(stream(11,'q').integers(0,2**62,3).tolist(), derive_seed(11,'rep',2))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = f"{stream(11, 'q').integers(0, 2**62, 3).tolist()} {derive_seed(11, 'rep', 2)}"
    assert out.stdout.strip() == here


def test_derive_seed_distinct_and_in_range():
    seeds = {derive_seed(5, "rep", r) for r in range(1000)}
    assert len(seeds) == 1000
    assert all(0 <= s < 2**63 for s in seeds)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_seed_rejected(bad):
    with pytest.raises(ValueError, match="seed"):
        stream(bad, "a")


def test_bad_name_rejected():
    with pytest.raises(ValueError, match="name"):
        name_key("")


def test_buffered_matches_vectorised_draws():
    g1, g2 = stream(1, "b"), stream(1, "b")
    buf = Buffered(lambda n: g1.exponential(2.0, n), block=16)
    got = [buf() for _ in range(40)]
    want = np.concatenate([g2.exponential(2.0, 16) for _ in range(3)])[:40]
    assert np.allclose(got, want)
