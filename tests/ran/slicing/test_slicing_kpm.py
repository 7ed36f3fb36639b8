"""KPM reports: the Colosseum CSV loader on the real samples, the writer, the aggregation."""

import importlib.resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netsim import Simulation
from ran.slicing.gnb import SlicingGnb, make_ues
from ran.slicing.kpm import (
    COLOSSEUM_HEADER,
    FEATURES,
    KPM_COLUMNS,
    KpmReport,
    downlink_columns,
    load_colosseum_csv,
    to_frame,
    turbo_iterations,
    uplink_columns,
    write_colosseum_csv,
)

DATA = Path(str(importlib.resources.files("ran.slicing").joinpath("data")))


def test_loader_reads_the_real_colosseum_sample():
    """COMMAG tr4/exp1/bs1 UE1 (URLLC, slice 2, 2 PRBs): 122 rows, blank ``,,`` columns."""
    df = load_colosseum_csv(DATA / "colosseum_commag" / "1010123456002_metrics.csv")
    assert list(df.columns) == list(KPM_COLUMNS) and len(df) == 122
    assert len(COLOSSEUM_HEADER) == 36 and len(KPM_COLUMNS) == 31
    assert (df["IMSI"] == 1010123456002).all() and (df["slice_id"] == 2).all()
    assert (df["slice_prb"] == 2).all() and (df["num_ues"] == 10).all()
    assert (np.diff(df["Timestamp"]) == 250).all()  # one report per 250 ms
    first = df.iloc[0]  # 1602623420932,10,...,,1,2,2,1,1,,0,2,0,0.003616,1,0,11,,13,...
    assert first["Timestamp"] == 1602623420932
    assert (first["dl_n_samples"], first["tx_brate downlink [Mbps]"], first["dl_cqi"]) == (
        2,
        0.003616,
        11,
    )
    assert (first["ul_mcs"], first["sum_requested_prbs"], first["sum_granted_prbs"]) == (13, 3, 4)
    assert first["ul_turbo_iters"] == pytest.approx(7.35294)


def test_loader_reads_the_gzipped_tractor_logs():
    df = load_colosseum_csv(DATA / "tractor_kpi" / "embb_04_10.csv.gz")
    assert len(df) == 1253 and (df["slice_prb"] == 50).all()
    assert df[list(FEATURES)].notna().all().all()


def test_loader_rejects_other_csvs(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("time,nof_ue,dl_brate,ul_brate\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"x.csv: not a Colosseum metrics CSV \(column 0"):
        load_colosseum_csv(bad)
    shifted = tmp_path / "y.csv"  # blank separator dropped: everything after it moves
    shifted.write_text(",".join(c for c in COLOSSEUM_HEADER if c) + "\n")
    with pytest.raises(ValueError, match="column 4: got 'slicing_enabled'"):
        load_colosseum_csv(shifted)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_simulated_reports_round_trip_through_the_colosseum_format(tmp_path, suffix):
    sim = Simulation(3)
    gnb = SlicingGnb(sim, make_ues((1, 1, 1)), traffic="commag", keep_reports=True)
    sim.run(until=2.0)
    df = to_frame(gnb.reports)
    path = write_colosseum_csv(df, tmp_path / f"sim{suffix}")
    back = load_colosseum_csv(path)
    pd.testing.assert_frame_equal(
        back.astype(float), df.astype(float), check_exact=False, rtol=1e-12
    )
    assert len(df) == 3 * 8 and (np.diff(df["Timestamp"].to_numpy()[::3]) == 250).all()


def test_downlink_aggregation_by_hand():
    """Two UEs over a 4 ms period: UE 0 scheduled twice (MCS 10 and 20, one block lost, 3 and
    6 PRBs granted of 3 + 3 + 6 requested, 2000 bits served), UE 1 never; CQI 9 and 5."""
    sums = np.array([[2, 0], [1, 0], [30, 0], [2000, 0], [12, 0], [9, 0], [36, 20]])
    out = np.zeros((len(KPM_COLUMNS), 2))
    downlink_columns(sums, np.array([80, 0]), np.array([125.0, 1.0]), 4, 0.004, out)
    got = KpmReport(out)
    np.testing.assert_allclose(got["dl_mcs"], [15.0, 0.0])
    np.testing.assert_allclose(got["dl_n_samples"], [2, 0])
    np.testing.assert_allclose(got["dl_buffer [bytes]"], [10, 0])
    np.testing.assert_allclose(got["tx_brate downlink [Mbps]"], [0.5, 0.0])  # 2000 bit / 4 ms
    np.testing.assert_allclose(got["tx_pkts downlink"], [2, 0])  # 250 B of 125 B packets
    np.testing.assert_allclose(got["tx_errors downlink (%)"], [50.0, 0.0])
    np.testing.assert_allclose(got["sum_requested_prbs"], [12, 0])
    np.testing.assert_allclose(got["sum_granted_prbs"], [9, 0])
    np.testing.assert_allclose(got["dl_cqi"], [9.0, 5.0])
    assert not got["ul_mcs"].any()  # the uplink columns are left alone


def test_uplink_aggregation_by_hand():
    """One period, one UE: granted twice (SINR 10 and 6 dB, MCS 8), one failure (10
    iterations) and one block decoded with a 0 dB margin (1 + 2^0), 800 bits in 3 ms."""
    sums = np.array([[[2], [1], [16], [800]]])
    iters = turbo_iterations([0.0, -1.0])
    np.testing.assert_allclose(iters, [2.0, 10.0])
    real = np.array([[[10.0 + 6.0], [iters.sum()]]])
    out = np.zeros((1, len(KPM_COLUMNS), 1))
    uplink_columns(sums, np.array([[16]]), real, np.array([[31.0]]), np.array([[100.0]]), 0.003,
                   out)
    got = KpmReport(out[0])
    np.testing.assert_allclose(got["ul_n_samples"], [2])
    np.testing.assert_allclose(got["ul_mcs"], [8.0])
    np.testing.assert_allclose(got["ul_sinr"], [8.0])
    np.testing.assert_allclose(got["rx_errors uplink (%)"], [50.0])
    np.testing.assert_allclose(got["ul_turbo_iters"], [(2.0 + 10.0) / 2])
    np.testing.assert_allclose(got["rx_brate uplink [Mbps]"], [800 / 0.003 / 1e6])
    np.testing.assert_allclose(got["rx_pkts uplink"], [1])
    np.testing.assert_allclose(got["ul_buffer [bytes]"], [2])
    np.testing.assert_allclose(got["phr"], [31.0])
    idle = np.zeros((1, len(KPM_COLUMNS), 1))
    uplink_columns(np.zeros((1, 4, 1), dtype=np.int64), np.zeros((1, 1)), np.zeros((1, 2, 1)),
                   np.array([[31.0]]), np.array([[100.0]]), 0.003, idle)
    assert KpmReport(idle[0])["phr"][0] == 0.0  # no grant: srsLTE reports 0


def test_report_mapping_and_frame():
    data = np.arange(len(KPM_COLUMNS) * 2, dtype=float).reshape(-1, 2)
    rep = KpmReport(data)
    assert list(rep) == list(KPM_COLUMNS) and len(rep) == 31
    np.testing.assert_array_equal(rep["dl_cqi"], data[KPM_COLUMNS.index("dl_cqi")])
    assert rep.get("nope") is None
    as_dict = {k: v.copy() for k, v in rep.items()}
    pd.testing.assert_frame_equal(to_frame([rep, rep]), to_frame([as_dict, as_dict]))
