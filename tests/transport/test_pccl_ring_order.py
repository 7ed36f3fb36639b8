"""Ring-order optimisation: Held-Karp against brute force, 2-opt against Held-Karp."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transport.pccl.allreduce import ring_schedule, ring_step_costs
from transport.pccl.ring_order import (
    better,
    brute_force_ring,
    canonical,
    edge_costs,
    exact_ring,
    optimise_ring,
    ring_cost,
    two_opt_ring,
)


def _random_cost(rng, n, integer=False):
    c = rng.integers(1, 20, (n, n)).astype(float) if integer else rng.uniform(0.1, 10.0, (n, n))
    np.fill_diagonal(c, 0.0)
    return c


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 8), seed=st.integers(0, 2**32 - 1), integer=st.booleans())
def test_exact_matches_brute_force(n, seed, integer):
    """Held-Karp (two-phase, lexicographic (bottleneck, total)) = enumeration of all rings;
    integer costs exercise ties."""
    c = _random_cost(np.random.default_rng(seed), n, integer)
    order, value = exact_ring(c)
    _, brute = brute_force_ring(c)
    assert value[0] == brute[0]
    assert value[1] == pytest.approx(brute[1], rel=1e-12)
    assert sorted(order) == list(range(n))
    assert ring_cost(np.where(np.eye(n, dtype=bool), np.inf, c), order) == value


def test_heuristic_never_better_and_often_equal():
    """2-opt is never better than the exact optimum, and on small random instances it
    usually finds it."""
    rng = np.random.default_rng(7)
    equal = 0
    trials = 60
    for t in range(trials):
        n = int(rng.integers(5, 11))
        c = _random_cost(rng, n)
        _, ex = exact_ring(c)
        _, heur = two_opt_ring(c, seed=t)
        assert not better(heur, ex)
        assert heur[0] >= ex[0]
        equal += heur[0] == ex[0] and heur[1] == pytest.approx(ex[1], rel=1e-9)
    assert equal >= 0.7 * trials


def test_optimise_switches_at_exact_max():
    rng = np.random.default_rng(3)
    c = _random_cost(rng, 12)
    o_exact, v_exact = optimise_ring(c, exact_max=12)
    o_heur, v_heur = optimise_ring(c, exact_max=10, seed=1)
    assert v_exact == exact_ring(c)[1]
    assert v_heur == two_opt_ring(c, seed=1)[1]
    assert not better(v_heur, v_exact)
    assert sorted(o_heur) == list(range(12)) and o_heur[0] == 0


def test_bottleneck_is_the_allreduce_time():
    """The optimiser's objective equals the simulated ring time / 2(n−1): the dependency
    recurrence of the ring schedule ends at 2(n−1)·max edge cost."""
    rng = np.random.default_rng(11)
    n = 7
    bw = rng.uniform(1e8, 1e10, (n, n))
    lat = rng.uniform(1e-3, 5e-2, (n, n))
    lat = (lat + lat.T) / 2
    s_bytes = 5e7
    cost = edge_costs(bw, lat, 8 * s_bytes / n)
    order, (bott, _) = exact_ring(cost)
    t = ring_schedule(ring_step_costs(order, bw, lat, s_bytes))
    assert t[-1].max() == pytest.approx(2 * (n - 1) * bott, rel=1e-12)
    # and no other ring is faster
    for _ in range(50):
        other = rng.permutation(n)
        t_other = ring_schedule(ring_step_costs(other, bw, lat, s_bytes))[-1].max()
        assert t_other >= t[-1].max() * (1 - 1e-12)


def test_edge_costs_formula():
    bw = np.array([[0, 2e9], [1e9, 0]])
    lat = np.array([[0, 0.01], [0.01, 0]])
    c = edge_costs(bw, lat, chunk_bits=1e9)
    assert c[0, 1] == pytest.approx(0.01 + 0.5)
    assert c[1, 0] == pytest.approx(0.01 + 1.0)
    assert np.isinf(c[0, 0])


def test_two_and_three_peers():
    c = np.array([[0, 1.0], [5.0, 0]])
    assert exact_ring(c) == ((0, 1), (5.0, 6.0))
    c3 = np.array([[0, 1.0, 9.0], [9.0, 0, 1.0], [1.0, 9.0, 0]])
    assert exact_ring(c3)[0] == (0, 1, 2)  # the direction matters on asymmetric costs
    assert two_opt_ring(c3)[0] == (0, 1, 2)


def test_canonical_rotation():
    assert canonical([3, 1, 2, 0]) == (0, 3, 1, 2)


@pytest.mark.parametrize(
    "cost, match",
    [
        ([[0.0]], "at least 2"),
        ([[0, 1, 2], [1, 0, 2]], "square"),
        ([[0, -1], [1, 0]], ">= 0"),
        ([[0, np.nan], [1, 0]], ">= 0"),
    ],
)
def test_bad_cost_rejected(cost, match):
    with pytest.raises(ValueError, match=match):
        exact_ring(cost)
    with pytest.raises(ValueError, match=match):
        two_opt_ring(cost)


def test_bad_edge_inputs_rejected():
    with pytest.raises(ValueError, match="bandwidth"):
        edge_costs([[0, 0], [1, 0]], [[0, 1], [1, 0]], 1.0)
    with pytest.raises(ValueError, match="chunk_bits"):
        edge_costs([[0, 1], [1, 0]], [[0, 1], [1, 0]], -1.0)
    with pytest.raises(ValueError, match="one shape"):
        edge_costs([[0, 1], [1, 0]], [[0]], 1.0)
    with pytest.raises(ValueError, match="brute force"):
        brute_force_ring(np.ones((11, 11)))
    with pytest.raises(ValueError, match="no ring"):
        exact_ring(np.array([[0, np.inf, 1], [np.inf, 0, np.inf], [1, np.inf, 0]]))
