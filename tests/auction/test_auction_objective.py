"""F is monotone submodular (checked with hypothesis on random sets, both the explicit set
function and the ``score`` every mechanism is ranked by), its marginal gain is the per-pair
utility, and a greedy's reported gains add up to F. Definition of submodularity:
F(A ∪ {e}) − F(A) ≥ F(B ∪ {e}) − F(B) for A ⊆ B, e ∉ B (Nemhauser, Wolsey & Fisher 1978)."""

import numpy as np
import pytest
from auction_oracles import tiny_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.clustering import build_hierarchy
from auction.metrics import score
from auction.model import Allocation, UtilityParams, Weights
from auction.mohaf import Candidates, MohafParams, greedy_allocate, initial_prices, price_floor
from auction.objective import PairObjective, fairness_value, harmonic
from auction.utility import reference_matrix


@st.composite
def nested_sets(draw, n):
    """``A ⊆ B ⊆ {0..n-1}`` and ``e ∉ B``: the diminishing-returns check runs every time."""
    e = draw(st.integers(0, n - 1))
    b = [x != e and draw(st.booleans()) for x in range(n)]
    a = [x and draw(st.booleans()) for x in b]
    return set(np.flatnonzero(a).tolist()), set(np.flatnonzero(b).tolist()), e


@st.composite
def ground_sets(draw):
    n = draw(st.integers(2, 12))
    w = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    group = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    delta = draw(st.floats(0, 2))
    return (PairObjective(w, group, delta), *draw(nested_sets(n)))


@settings(max_examples=150, deadline=None)
@given(ground_sets())
def test_monotone_submodular(case):
    F, A, B, e = case
    assert A <= B and e not in B
    assert F(B) >= F(A) - 1e-12  # monotone
    gain_a = F(A | {e}) - F(A)
    gain_b = F(B | {e}) - F(B)
    assert gain_b >= -1e-12
    assert gain_a >= gain_b - 1e-12  # diminishing returns
    assert gain_a == pytest.approx(F.gain(A, e), abs=1e-12)  # closed-form marginal gain
    assert gain_b == pytest.approx(F.gain(B, e), abs=1e-12)


@st.composite
def scored_sets(draw):
    """Random sets of pairs of a random instance: every pair some price ≥ ρ_min allows."""
    inst = tiny_instance(np.random.default_rng(draw(st.integers(0, 10**6))), 6, 4, n_owners=2)
    rule = MohafParams().pricing
    _, feas = reference_matrix(
        inst, initial_prices(inst, rule), Weights(), UtilityParams(), price_floor(inst, rule)
    )
    pi, pj = np.nonzero(feas)
    if pi.size == 0:
        pi, pj = np.zeros(1, np.int64), np.zeros(1, np.int64)  # a lone pair still scores
    return (inst, pi, pj, *draw(nested_sets(pi.size)))


@settings(max_examples=60, deadline=None)
@given(scored_sets())
def test_score_is_monotone_submodular_on_instances(case):
    """The objective mechanisms are ranked by (cost term at the reserve prices, clipped at 0
    for pairs won below it) keeps both properties on real instances."""
    inst, pi, pj, A, B, e = case
    ref = initial_prices(inst, MohafParams().pricing)
    wts, par = Weights(), UtilityParams()

    def F(s):
        idx = np.asarray(sorted(s), dtype=np.int64)
        a = Allocation(pi[idx], pj[idx], np.zeros(idx.size), np.zeros(idx.size))
        return score(inst, a, wts, par, ref)

    gain_a, gain_b = F(A | {e}) - F(A), F(B | {e}) - F(B)
    assert F(B) >= F(A) - 1e-12
    assert gain_a >= gain_b - 1e-12 and gain_b >= -1e-12


def test_greedy_gains_add_up_to_F_with_holdings():
    """The gains a greedy round reports (the U_ij winners are charged on) are its F at the
    round's prices: Σ w + δ Σ_k [H(h⁰_k + n_k) − H(h⁰_k)] with the requesters' holdings h⁰."""
    inst = tiny_instance(np.random.default_rng(3), n=8, m=4, n_owners=3)
    p = MohafParams(flat=True)
    rho = initial_prices(inst, p.pricing)
    held0 = np.array([0, 2, 5])
    blocks = Candidates(inst, build_hierarchy(inst, flat=True), p.weights, p.utility).at(rho)
    a = greedy_allocate(inst, blocks, rho, p, held0=held0)
    assert len(a) > 0
    w, _ = reference_matrix(inst, rho, p.weights, p.utility)
    counts = np.bincount(inst.requests.requester[a.request], minlength=3)
    delta = p.weights.normalised()[3]
    expect = w[a.request, a.resource].sum() + delta * fairness_value(counts, held0)
    assert a.utility.sum() == pytest.approx(expect, abs=1e-12)
    # without holdings this is the score at these prices
    b = greedy_allocate(inst, blocks, rho, p)
    assert b.utility.sum() == pytest.approx(score(inst, b, p.weights, p.utility, rho), abs=1e-12)


def test_harmonic_and_fairness_value():
    assert harmonic([0, 1, 2, 4]).tolist() == [0.0, 1.0, 1.5, 1 + 1 / 2 + 1 / 3 + 1 / 4]
    # holding 2 already, 2 more: H(4) - H(2) = 1/3 + 1/4
    assert fairness_value([2], [2]) == pytest.approx(1 / 3 + 1 / 4, abs=1e-12)
