"""Max-min fairness oracles (Bertsekas & Gallager, Data Networks, §6.5.2) and properties."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from transport.maxmin import link_loads, max_min_rates, max_min_rates_coo, max_min_rates_reference


@pytest.mark.parametrize("n", [1, 2, 3, 7, 50])
def test_n_flows_one_link_get_c_over_n(n):
    rates = max_min_rates(np.ones((n, 1)), [10.0])
    assert np.allclose(rates, 10.0 / n)


@pytest.mark.parametrize("hops", [1, 2, 5, 20])
def test_parking_lot_everyone_gets_half(hops):
    """One long flow over L links of capacity C, one short flow per link: all get C/2."""
    a = np.zeros((hops + 1, hops))
    a[0, :] = 1.0
    a[np.arange(1, hops + 1), np.arange(hops)] = 1.0
    assert np.allclose(max_min_rates(a, np.full(hops, 4.0)), 2.0)


def test_two_links_capacity_one_and_two():
    """A crosses links 1 and 2 (capacities 1, 2), B uses link 1, C link 2: A=B=0.5, C=1.5."""
    a = np.array([[1, 1], [1, 0], [0, 1]], dtype=float)
    assert np.allclose(max_min_rates(a, [1.0, 2.0]), [0.5, 0.5, 1.5])
    assert np.allclose(max_min_rates_reference(a, [1.0, 2.0]), [0.5, 0.5, 1.5])


def test_weights_demands_and_fractions():
    # weighted shares 1:2 on one link
    assert np.allclose(max_min_rates(np.ones((2, 1)), [3.0], weights=[1, 2]), [1.0, 2.0])
    # a capped flow leaves its unused share to the other
    assert np.allclose(max_min_rates(np.ones((2, 1)), [10.0], demand_bps=[1.0, np.inf]), [1, 9])
    # a flow sprayed half/half over two unit links next to a single-path flow on link 0
    a = np.array([[0.5, 0.5], [1.0, 0.0]])
    r = max_min_rates(a, [1.0, 1.0])
    assert np.allclose(r, [2 / 3, 2 / 3])
    # no link, no cap: unbounded; no link with a cap: the cap
    assert np.isinf(max_min_rates(np.zeros((1, 1)), [1.0])[0])
    assert max_min_rates(np.zeros((1, 1)), [1.0], demand_bps=[3.0])[0] == 3.0


def test_sparse_and_dense_agree_and_coo_sums_duplicates():
    rng = np.random.default_rng(0)
    a = (rng.random((40, 12)) < 0.3).astype(float)
    cap = rng.uniform(1, 3, 12)
    assert np.allclose(max_min_rates(a, cap), max_min_rates(sp.csr_matrix(a), cap))
    # duplicate (flow, link) entries add up: two 0.5 entries == one 1.0 entry
    r1 = max_min_rates_coo([0, 0, 1], [0, 0, 0], [0.5, 0.5, 1.0], 2, [2.0])
    assert np.allclose(r1, [1.0, 1.0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"incidence": np.ones((1, 1)), "capacity_bps": [-1.0]},
        {"incidence": np.ones((1, 2)), "capacity_bps": [1.0]},
        {"incidence": -np.ones((1, 1)), "capacity_bps": [1.0]},
        {"incidence": np.ones((1, 1)), "capacity_bps": [1.0], "weights": [0.0]},
        {"incidence": np.ones((1, 1)), "capacity_bps": [1.0], "demand_bps": [-1.0]},
    ],
)
def test_bad_input_is_rejected(kwargs):
    with pytest.raises(ValueError):
        max_min_rates(**kwargs)


@st.composite
def instances(draw):
    n = draw(st.integers(1, 25))
    links = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    a = (rng.random((n, links)) < 0.35) * rng.choice([1.0, 0.5, 0.25], (n, links))
    cap = rng.choice([1.0, 2.0, 5.0], links) if seed % 2 else rng.uniform(0.5, 5.0, links)
    demand = np.where(rng.random(n) < 0.3, rng.uniform(0.1, 3.0, n), np.inf)
    weights = rng.uniform(0.5, 2.0, n) if seed % 3 == 0 else None
    return a, cap, demand, weights


@settings(max_examples=150, deadline=None)
@given(instances())
def test_matches_textbook_progressive_filling_and_is_max_min(inst):
    a, cap, demand, w = inst
    r = max_min_rates(a, cap, demand_bps=demand, weights=w)
    ref = max_min_rates_reference(a, cap, demand_bps=demand, weights=w)
    assert np.allclose(r, ref, rtol=1e-7, atol=1e-12)
    finite = np.where(np.isfinite(r), r, 0.0)
    rows, cols = np.nonzero(a)
    load = link_loads(rows, cols, a[rows, cols], finite, cap.size)
    assert np.all(load <= cap * (1 + 1e-9))  # feasible
    # max-min: every flow is capped by its demand or crosses a saturated link on which no
    # flow has a larger (weighted) rate
    ww = np.ones(a.shape[0]) if w is None else w
    for f in range(a.shape[0]):
        on = np.flatnonzero(a[f] > 0)
        if not on.size or r[f] >= demand[f] * (1 - 1e-9):
            continue
        ok = False
        for link in on:
            users = np.flatnonzero(a[:, link] > 0)
            if load[link] >= cap[link] * (1 - 1e-9) and np.all(
                r[users] / ww[users] <= r[f] / ww[f] * (1 + 1e-7)
            ):
                ok = True
        assert ok, f"flow {f} has no bottleneck link"
