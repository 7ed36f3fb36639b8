"""F is monotone submodular (checked with hypothesis on random sets), its marginal gain is the
per-pair utility, and the sum of marginal gains telescopes to F. Definition of submodularity:
F(A ∪ {e}) − F(A) ≥ F(B ∪ {e}) − F(B) for A ⊆ B, e ∉ B (Nemhauser, Wolsey & Fisher 1978)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.metrics import marginal_utilities
from auction.objective import PairObjective, fairness_value, harmonic


@st.composite
def ground_sets(draw):
    n = draw(st.integers(2, 12))
    w = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    group = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    delta = draw(st.floats(0, 2))
    b = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    a = [x and draw(st.booleans()) for x in b]
    e = draw(st.integers(0, n - 1))
    return PairObjective(w, group, delta), set(np.flatnonzero(a)), set(np.flatnonzero(b)), e


@settings(max_examples=150, deadline=None)
@given(ground_sets())
def test_monotone_submodular(case):
    F, A, B, e = case
    assert A <= B
    assert F(B) >= F(A) - 1e-12  # monotone
    if e not in B:
        gain_a = F(A | {e}) - F(A)
        gain_b = F(B | {e}) - F(B)
        assert gain_a >= gain_b - 1e-12  # diminishing returns
        assert gain_a == np_approx(F.gain(A, e))  # closed-form marginal gain


def np_approx(x):
    import pytest

    return pytest.approx(x, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(ground_sets())
def test_marginal_utilities_telescope_to_F(case):
    F, _, B, _ = case
    order = sorted(B)
    U = marginal_utilities(F.w[order], F.group[order], F.delta, 4)
    assert U.sum() == np_approx(F(B))
    assert np.all(U <= 1 + F.delta + 1e-12)


def test_harmonic_and_fairness_value():
    assert harmonic([0, 1, 2, 4]).tolist() == [0.0, 1.0, 1.5, 1 + 1 / 2 + 1 / 3 + 1 / 4]
    # holding 2 already, 2 more: H(4) - H(2) = 1/3 + 1/4
    assert fairness_value([2], [2]) == np_approx(1 / 3 + 1 / 4)
