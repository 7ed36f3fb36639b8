"""DVB-S2 MODCOD table (ETSI EN 302 307-1 Table 13) and ACM."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satellite.dvbs2 import modcod_table, outage, select_modcod, throughput_bps

# spectral efficiencies printed in Table 13 (normal FECFRAME, no pilots)
PRINTED = {
    "QPSK 1/4": 0.490243,
    "QPSK 1/2": 0.988858,
    "QPSK 3/4": 1.487473,
    "8PSK 3/4": 2.228124,
    "16APSK 4/5": 3.165623,
    "32APSK 9/10": 4.453027,
}


def test_table_is_complete_and_monotone():
    t = modcod_table()
    assert len(t) == 28 and len({m.name for m in t}) == 28
    assert t[0].name == "QPSK 1/4" and t[0].threshold_db == -2.35
    assert t[-1].name == "32APSK 9/10" and t[-1].threshold_db == 16.05
    for mod in ("QPSK", "8PSK", "16APSK", "32APSK"):
        group = [m for m in t if m.name.startswith(mod + " ")]
        assert all(a.rate < b.rate for a, b in zip(group, group[1:], strict=False))
        assert all(a.threshold_db < b.threshold_db for a, b in zip(group, group[1:], strict=False))
        assert all(a.efficiency < b.efficiency for a, b in zip(group, group[1:], strict=False))


def test_efficiencies_from_frame_structure_match_the_printed_table():
    """η = (K_bch - 80) / (90·(S+1)) reproduces the Table 13 values to 1e-6."""
    t = {m.name: m.efficiency for m in modcod_table()}
    for name, eff in PRINTED.items():
        assert t[name] == pytest.approx(eff, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(a=st.floats(-10.0, 25.0), b=st.floats(-10.0, 25.0))
def test_acm_throughput_never_decreases_with_esn0(a, b):
    lo, hi = min(a, b), max(a, b)
    assert throughput_bps(lo, 1e6) <= throughput_bps(hi, 1e6)


def test_outage_and_margin():
    assert outage(-2.36) and not outage(-2.35)
    assert select_modcod(-3.0) == -1 and throughput_bps(-3.0, 1e6) == 0.0
    # a 0.5 dB margin pushes 4.5 dB from QPSK 3/4 down to QPSK 2/3
    assert modcod_table()[int(select_modcod(4.5, margin_db=0.5))].name == "QPSK 2/3"
    assert np.all(select_modcod([np.nan, 100.0]) == [-1, 27])


def test_unknown_modcod_table_is_rejected():
    with pytest.raises(ValueError, match="unknown MODCOD table 'dvbs2x'"):
        modcod_table("dvbs2x")
    with pytest.raises(ValueError, match="allowed: dvbs2"):
        throughput_bps(5.0, 1e6, table="bogus")
