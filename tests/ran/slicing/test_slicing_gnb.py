"""The sliced gNB on the engine: oracles for throughput, conservation, determinism."""

import numpy as np
import pytest

from netsim import Simulation
from ran.slicing.channel import DISTANCE_M, ChannelParams, mean_snr_db
from ran.slicing.gnb import SlicingGnb, UeSpec, check_rbgs, make_ues
from ran.slicing.kpm import to_frame
from ran.slicing.phy import tbs_bits
from ran.slicing.scenario import RanConfig, build_gnb, random_rbgs
from ran.slicing.traffic import UeTraffic


def run(gnb: SlicingGnb, seconds: float):
    gnb.sim.run(until=seconds)
    return to_frame(gnb.reports)


def test_saturated_ue_gets_the_tbs_of_its_slice():
    """Oracle: one eMBB UE with far more traffic than capacity and a static 60 dB channel
    (always CQI 15 -> MCS 28 -> I_TBS 26) is served TBS(26, slice PRBs) every TTI; its
    slice of 15 RBGs holds 44 PRBs (the 2-PRB RBG is eMBB's)."""
    sim = Simulation(0)
    ue = UeSpec("embb", 20.0, 0.0, UeTraffic("embb", dl="cbr", dl_rate=50.0, dl_packet_bytes=1250))
    gnb = SlicingGnb(sim, [ue], rbgs=(1, 1, 15), channel=ChannelParams(snr_ref_db=60.0),
                     keep_reports=True)
    df = run(gnb, 5.0).iloc[2:]  # after the buffer has filled
    rate = tbs_bits(26, 44) * 1000 / 1e6
    np.testing.assert_allclose(df["tx_brate downlink [Mbps]"], rate)
    assert (df["dl_mcs"] == 28).all() and (df["dl_n_samples"] == 250).all()
    assert (df["sum_granted_prbs"] == 250 * 44).all() and (df["slice_prb"] == 44).all()


def test_unsaturated_cbr_ue_gets_its_offered_rate():
    """Oracle: a CBR source well below capacity is carried at its rate, buffers stay small."""
    sim = Simulation(1)
    gnb = SlicingGnb(sim, make_ues((0, 0, 2)), traffic="commag", embb_rate_mbps=2.0,
                     keep_reports=True)
    df = run(gnb, 20.0)
    per_ue = df.groupby("IMSI")["tx_brate downlink [Mbps]"].mean()
    np.testing.assert_allclose(per_ue, 2.0, rtol=0.02)
    assert df["dl_buffer [bytes]"].max() < 20_000


def test_bits_are_conserved():
    """Everything that arrived is served or still queued (HARQ losses stay queued)."""
    sim = Simulation(5)
    gnb = SlicingGnb(sim, make_ues((2, 2, 3), distance="mixed", rng=np.random.default_rng(0)),
                     rbgs=(1, 2, 14), traffic="trace", keep_reports=True)
    arrived = np.zeros(gnb.n)
    orig = gnb.traffic.packets

    def spy(n):
        pk = orig(n)
        arrived[:] += np.bincount(pk.dl_cell % gnb.n, weights=pk.dl_bytes, minlength=gnb.n) * 8
        return pk

    gnb.traffic.packets = spy
    df = run(gnb, 4.0)  # exactly one 16-period chunk of traffic
    served = df.groupby("IMSI", sort=True)["tx_brate downlink [Mbps]"].sum().to_numpy() * 0.25e6
    np.testing.assert_allclose(served + gnb.dl_buffer, arrived)
    assert (df["sum_granted_prbs"] <= df["sum_requested_prbs"] + 1e-9).all()


def test_slices_never_exceed_their_prbs():
    sim = Simulation(2)
    gnb = SlicingGnb(sim, make_ues((3, 3, 4)), rbgs=(2, 3, 12), traffic="commag",
                     embb_rate_mbps=8.0, keep_reports=True)
    df = run(gnb, 3.0)
    granted = df.groupby(["Timestamp", "slice_id"])["sum_granted_prbs"].sum()
    limit = {0: 6 * 250, 1: 9 * 250, 2: 35 * 250}
    for (_, s), v in granted.items():
        assert v <= limit[int(s)]


def test_same_seed_same_reports():
    def reports(seed):
        sim = Simulation(seed)
        ues = make_ues((1, 2, 2), distance="mixed", speed_mps=3.0, rng=np.random.default_rng(4))
        gnb = SlicingGnb(sim, ues, traffic="trace", keep_reports=True)
        return run(gnb, 5.0)

    a, b, c = reports(11), reports(11), reports(12)
    assert a.equals(b)
    assert not a.equals(c)


def test_controls():
    sim = Simulation(0)
    gnb = SlicingGnb(sim, make_ues((1, 1, 1)), traffic="commag", keep_reports=True)
    sim.run(until=0.5)
    gnb.set_rbgs((1, 1, 15))
    gnb.move_ue(0, 2)
    sim.run(until=1.0)
    last = gnb.reports[-1]
    assert last["slice_id"].tolist() == [2, 1, 2] and last["slice_prb"].tolist() == [44, 3, 44]
    assert gnb.users_per_slice().tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="rbgs"):
        gnb.set_rbgs((5, 5, 5))
    with pytest.raises(ValueError, match="slice_id"):
        gnb.move_ue(0, 3)
    with pytest.raises(ValueError, match="rbgs"):
        check_rbgs((0, 8, 9))
    with pytest.raises(ValueError, match="unknown policy"):
        SlicingGnb(Simulation(0), make_ues((1, 1, 1)), policies=("rr", "rr", "fifo"))
    with pytest.raises(ValueError, match="distance"):
        UeSpec("embb", "near").distance_m()


def test_channel_placements():
    """Log-distance mean SNR: 25 dB at 20 m, 30 dB per decade beyond."""
    p = ChannelParams()
    snr = mean_snr_db([DISTANCE_M["close"], DISTANCE_M["medium"], DISTANCE_M["far"]], p)
    np.testing.assert_allclose(snr, [25.0, 25 - 30 * np.log10(2.5), 25 - 30 * np.log10(5)])


def test_config_factory_and_random_splits():
    rng = np.random.default_rng(0)
    splits = {random_rbgs(rng) for _ in range(3000)}
    assert all(sum(s) == 17 and min(s) >= 1 for s in splits)
    assert len(splits) == 120  # every split with >= 1 RBG per slice: C(16, 2)
    sim = Simulation(0)
    gnb = build_gnb(sim, RanConfig(users=(1, 0, 2), rbgs=None, mobility="mobile"))
    assert gnb.n == 3 and gnb.rbgs.sum() == 17 and (gnb.channel.speed == 3.0).all()
