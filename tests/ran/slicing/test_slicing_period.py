"""The gNB's compiled period kernels against plain references: the per-TTI scheduler
(itself held to the TTI-by-TTI oracle in test_slicing_scheduler.py) with numpy aggregation,
a Python loop for the uplink, scipy's filter for the fading and the CQI formula."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from ran.slicing.channel import FADING_BLOCK_TTI, gauss_markov
from ran.slicing.kpm import KPM_COLUMNS, KpmReport, period_sums
from ran.slicing.period import (
    _ITBS_OF_MCS,
    _MCS_OF_CQI,
    _REQ_SINR,
    CQI_DELAY_TTI,
    chunk_arrivals,
    packet_sizes,
    report_period,
    uplink_chunk,
)
from ran.slicing.phy import (
    CQI_SINR_DB,
    NS3_CQI_EFFICIENCY,
    RBG_SIZE,
    cqi_from_sinr_db,
    efficiency_from_sinr_db,
    tbs_table,
)
from ran.slicing.schedulers import POLICIES, schedule_block, slice_members
from ran.slicing.traffic import dense_arrivals

N_T = 50  # TTIs per period in these tests


def link_adaptation(t, cqi_ext, sinr_db):
    """Per TTI (rows ``t``): CQI in use, MCS, TBS index and decoded flag, from blocks."""
    own = t // FADING_BLOCK_TTI
    src = (t - CQI_DELAY_TTI) // FADING_BLOCK_TTI + 1
    cqi = cqi_ext[src]
    mcs = _MCS_OF_CQI[cqi]
    return cqi, mcs, _ITBS_OF_MCS[mcs], sinr_db[own] >= _REQ_SINR[mcs]


def random_chunk(rng, n, periods, load):
    blocks = periods * N_T // FADING_BLOCK_TTI
    sinr = rng.normal(12.0, 9.0, (blocks, n))
    cqi_ext = np.concatenate([cqi_from_sinr_db(sinr[:1] - 3.0), cqi_from_sinr_db(sinr)])
    arrivals = rng.poisson(0.2, (periods * N_T, n)) * rng.integers(1, load, (periods * N_T, n))
    return arrivals.astype(np.int64), cqi_ext, sinr


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.sampled_from([300, 3000, 20_000]))
def test_report_period_matches_the_per_tti_scheduler(seed, n, load):
    rng = np.random.default_rng(seed)
    dl_bytes, cqi_ext, sinr = random_chunk(rng, n, 3, load)
    slice_of = rng.integers(0, 3, n)
    a, b = sorted(rng.choice(np.arange(1, 17), 2, replace=False))
    rbgs = np.array([a, b - a, 17 - b])
    codes = rng.integers(0, 3, 3)
    b0 = (rng.integers(0, 40_000, n) * (rng.random(n) < 0.5)).astype(np.int64)
    avg = rng.uniform(1, 2000, n)
    slice_prb = rng.uniform(1, 50, 3)
    size = rng.uniform(0, 1500, n)
    first, t0 = N_T, 12_345
    members, counts = slice_members(slice_of)
    out = np.zeros((len(KPM_COLUMNS), n))
    buffer, new_avg = b0.copy(), avg.copy()
    report_period(first, N_T, dl_bytes, cqi_ext, sinr, members, counts, rbgs, codes, slice_of,
                  slice_prb, buffer, new_avg, t0, size, 0.2, 0.05, out)
    # reference: per-TTI arrays, the TTI-by-TTI-checked block scheduler, numpy sums
    t = np.arange(first, first + N_T)
    cqi, mcs, itbs, dec = link_adaptation(t, cqi_ext, sinr)
    res = schedule_block(8 * dl_bytes[t], itbs, dec, slice_of, rbgs,
                         [POLICIES[c] for c in codes], b0, avg, t0, 0.2)
    on = res.prbs > 0
    rep = KpmReport(out)
    n_on = on.sum(0)
    per = 1.0 / np.maximum(n_on, 1)
    bits = res.served.sum(0)
    np.testing.assert_array_equal(buffer, res.buffer[-1])
    np.testing.assert_array_equal(rep["dl_n_samples"], n_on)
    np.testing.assert_array_equal(rep["dl_mcs"], (on * mcs).sum(0) * per)
    np.testing.assert_array_equal(rep["tx_errors downlink (%)"], 100.0 * (on & ~dec).sum(0) * per)
    np.testing.assert_array_equal(rep["tx_brate downlink [Mbps]"], bits / 0.05 / 1e6)
    np.testing.assert_array_equal(rep["tx_pkts downlink"], np.round(bits / 8 / np.maximum(size, 1)))
    np.testing.assert_array_equal(rep["sum_requested_prbs"], RBG_SIZE * res.need.sum(0))
    np.testing.assert_array_equal(rep["sum_granted_prbs"], res.prbs.sum(0))
    np.testing.assert_array_equal(rep["dl_buffer [bytes]"], res.buffer[-1] / 8)
    np.testing.assert_array_equal(rep["dl_cqi"], cqi.mean(0))
    np.testing.assert_array_equal(rep["slice_prb"], slice_prb[slice_of])
    np.testing.assert_array_equal(rep["scheduling_policy"], codes[slice_of])
    np.testing.assert_array_equal(rep["Timestamp"], round((t0 + N_T) * 1e-3 * 1000))
    np.testing.assert_array_equal(new_avg, res.avg)


def uplink_reference(ul_bytes, cqi_ext, sinr, iters_db, share, b0):
    """The uplink TTI by TTI in Python: Lindley per UE with a fixed PRB share."""
    total, n = ul_bytes.shape
    t = np.arange(total)
    _, mcs, itbs, dec = link_adaptation(t, cqi_ext, sinr)
    variant = (t - CQI_DELAY_TTI) // FADING_BLOCK_TTI + 1 - t // FADING_BLOCK_TTI
    b = b0.astype(np.int64).copy()
    on = np.zeros((total, n), dtype=bool)
    served = np.zeros((total, n), dtype=np.int64)
    buffers = np.zeros((total, n), dtype=np.int64)
    for k in range(total):
        demand = b + 8 * ul_bytes[k]
        on[k] = demand > 0
        served[k] = np.where(dec[k], np.minimum(demand, tbs_table()[itbs[k], share]), 0)
        b = demand - served[k]
        buffers[k] = b
    iters = iters_db[variant, t // FADING_BLOCK_TTI]
    return on, mcs, dec, served, buffers, on * sinr[t // FADING_BLOCK_TTI], on * iters


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.sampled_from([100, 2000]))
def test_uplink_chunk_matches_a_python_loop(seed, n, load):
    rng = np.random.default_rng(seed)
    periods = 3
    ul_bytes, cqi_ext, sinr = random_chunk(rng, n, periods, load)
    iters_db = rng.uniform(1, 10, (2,) + sinr.shape)
    share, b0 = int(rng.integers(1, 46)), rng.integers(0, 5000, n)
    ref = uplink_reference(ul_bytes, cqi_ext, sinr, iters_db, share, b0)
    on, mcs, dec, served, buf, sinr_on, iters_on = ref
    sums = np.zeros((periods, 4, n), dtype=np.int64)
    real, buffers = np.zeros((periods, 2, n)), np.zeros((periods, n), dtype=np.int64)
    terms = np.zeros((2, periods * N_T, n))
    buffer = b0.copy()
    uplink_chunk(N_T, np.ascontiguousarray(ul_bytes.T), cqi_ext, sinr, iters_db, share, buffer,
                 sums, real, buffers, terms)
    shape = (periods, N_T, n)
    for j, x in enumerate((on, on * mcs, on & dec, served)):
        np.testing.assert_array_equal(sums[:, [0, 2, 1, 3][j]], x.reshape(shape).sum(1))
    np.testing.assert_array_equal(buffers, buf[N_T - 1 :: N_T])
    np.testing.assert_array_equal(buffer, buf[-1])
    np.testing.assert_array_equal(terms[0], sinr_on)
    np.testing.assert_array_equal(terms[1], iters_on)
    for j, x in enumerate((sinr_on, iters_on)):
        np.testing.assert_allclose(real[:, j], x.reshape(shape).sum(1), rtol=1e-12, atol=1e-9)
        if n > 1:  # time order: numpy's einsum adds in the same order for 2+ UEs
            np.testing.assert_array_equal(real[:, j], period_sums(x.reshape(shape)))


def test_chunk_arrivals_and_packet_sizes():
    rng = np.random.default_rng(1)
    n, periods = 4, 3
    cells = [rng.integers(0, periods * N_T * n, 300) for _ in range(2)]
    sizes = [rng.integers(28, 1500, 300) for _ in range(2)]
    dl, ul = np.zeros((periods * N_T, n), np.int64), np.zeros((n, periods * N_T), np.int64)
    totals = np.zeros((periods, 4, n), np.int64)
    chunk_arrivals(cells[0], sizes[0], cells[1], sizes[1], N_T, dl, ul, totals)
    for d, dense in enumerate((dl, ul.T)):
        ref_b, ref_p = dense_arrivals(cells[d], sizes[d], periods * N_T, n)
        np.testing.assert_array_equal(dense, ref_b)
        np.testing.assert_array_equal(totals[:, 2 * d], ref_b.reshape(periods, N_T, n).sum(1))
        np.testing.assert_array_equal(totals[:, 2 * d + 1], ref_p.reshape(periods, N_T, n).sum(1))
    so_far = np.array([[1000.0] * n, [4.0] * n, [0.0] * n, [0.0] * n])
    out = np.zeros((2, periods, n))
    packet_sizes(totals, so_far, out)
    cum_b = 1000.0 + np.cumsum(totals[:, 0], axis=0)
    np.testing.assert_array_equal(out[0], cum_b / np.maximum(4 + np.cumsum(totals[:, 1], 0), 1))
    np.testing.assert_array_equal(so_far[2], totals[:, 2].sum(0))


def test_gauss_markov_is_the_ar1_recursion():
    """Bit for bit the same as scipy's lfilter([sqrt(1 - ρ²)], [1, -ρ]) from ρ·state."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((400, 8)).view(complex) / np.sqrt(2.0)
    rho = np.array([0.999, 0.9, 0.5, 0.0])
    state = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    out = np.empty_like(w)
    st0 = state.copy()
    gauss_markov(w, rho, state, out)
    for u in range(4):
        ref, _ = lfilter([np.sqrt(1 - rho[u] ** 2)], [1.0, -rho[u]], w[:, u], zi=[rho[u] * st0[u]])
        np.testing.assert_array_equal(out[:, u], ref)
    np.testing.assert_array_equal(state, out[-1])
    # stationary: unit power whatever ρ
    long = rng.standard_normal((200_000, 2)).view(complex) / np.sqrt(2.0)
    h = np.empty_like(long)
    gauss_markov(long, np.array([0.95]), np.zeros(1, complex), h)
    assert abs(np.mean(np.abs(h) ** 2) - 1.0) < 0.05


def cqi_formula(sinr_db):
    return np.searchsorted(NS3_CQI_EFFICIENCY[1:], efficiency_from_sinr_db(sinr_db), side="left")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 14), st.floats(-1e-6, 1e-6), st.integers(-3, 3))
def test_cqi_thresholds_agree_with_the_formula(k, offset, ulps):
    s = CQI_SINR_DB[k] + offset
    s = s + ulps * np.spacing(s)
    # numpy's scalar and SIMD power differ by one ulp exactly at a threshold, so there the
    # formula itself has two answers; the result must be one of them
    allowed = {int(cqi_formula(s)), int(cqi_formula(np.array([s]))[0])}
    assert int(cqi_from_sinr_db(s)) in allowed


def test_cqi_on_arrays_and_edges():
    x = np.random.default_rng(3).uniform(-40, 60, (500, 7))
    np.testing.assert_array_equal(cqi_from_sinr_db(x), cqi_formula(x))
    edges = np.array([np.nan, np.inf, -np.inf, -120.0, *CQI_SINR_DB])
    np.testing.assert_array_equal(cqi_from_sinr_db(edges), cqi_formula(edges))
