"""Traffic generators: COMMAG parametric rates and TRACTOR trace replay."""

import numpy as np
import pytest

from ran.slicing.traffic import (
    CBR_PACKET_BYTES,
    SMALL_PACKET_BYTES,
    TRACE_SPAN_S,
    TRACES,
    TrafficMix,
    UeTraffic,
    air_bytes,
    cbr_arrivals,
    load_trace,
    make_ue_traffic,
)


def test_air_bytes_follows_tractor_traffic_gen():
    """traffic_gen.py sends Length - 70 bytes of UDP payload; +28 B of IP/UDP headers."""
    np.testing.assert_array_equal(air_bytes([1324, 70, 60]), [1282, 28, 28])


def test_every_trace_loads_with_both_directions():
    for cls, names in TRACES.items():
        for name in names:
            tr = load_trace(name)
            assert tr.traffic_class == cls and tr.duration_s > 30
            assert tr.dl_time_s.size > 100 and tr.ul_time_s.size > 100
            assert (np.diff(tr.dl_time_s) >= 0).all() and tr.dl_time_s.max() < tr.duration_s
    meet = load_trace("urllc_meet_04_10_first200s")
    lo, hi = TRACE_SPAN_S["urllc_meet_04_10_first200s"]
    assert meet.duration_s == pytest.approx(hi - lo, abs=0.5)  # only the call is replayed


def test_unknown_trace_is_rejected():
    with pytest.raises(ValueError, match="unknown trace"):
        load_trace("tiktok")


def test_cbr_arrivals_are_exactly_periodic():
    tti, src = cbr_arrivals(0, 1000, [10_000, 2_500], [3_000, 0])  # 100 and 400 pkt/s
    assert (src == 0).sum() == 100 and (src == 1).sum() == 400
    np.testing.assert_array_equal(tti[src == 0][:3], [3, 13, 23])
    # a block boundary neither loses nor repeats a packet
    a, _ = cbr_arrivals(0, 495, [10_000], [3_000])
    b, _ = cbr_arrivals(495_000, 505, [10_000], [3_000])
    assert a.size + b.size == 100


def test_commag_rates():
    """eMBB CBR 1 Mbps; MTC 30 and URLLC 10 Poisson packets/s of 125 B (COMMAG README)."""
    rng = np.random.default_rng(0)
    ues = [make_ue_traffic(c, "commag", rng, embb_rate_mbps=1.0) for c in ("embb", "mmtc", "urllc")]
    mix = TrafficMix(ues, np.random.default_rng(1))
    blocks = [mix.block(250) for _ in range(400)]  # 100 s
    dl_bytes = sum(b.dl_bytes.sum(axis=0) for b in blocks)
    dl_pkts = sum(b.dl_pkts.sum(axis=0) for b in blocks)
    assert dl_bytes[0] * 8 / 100 == pytest.approx(1e6, rel=0.002)
    assert dl_pkts[0] == pytest.approx(100 * 1e6 / 8 / CBR_PACKET_BYTES, abs=1)
    # Poisson counts over 100 s: mean 3000 and 1000, sd ~55 and ~32
    assert abs(dl_pkts[1] - 3000) < 5 * np.sqrt(3000) and abs(dl_pkts[2] - 1000) < 5 * np.sqrt(1000)
    assert dl_bytes[1] == dl_pkts[1] * SMALL_PACKET_BYTES


def test_trace_replay_loops_the_capture():
    tr = load_trace("urllc_messenger_05_18_first90s")
    ue = UeTraffic("urllc", kind="trace", trace=tr.name, offset_s=0.0)
    mix = TrafficMix([ue], np.random.default_rng(0))
    n_blocks = int(np.ceil(2 * tr.duration_s / 0.25))
    dl = np.concatenate([mix.block(250).dl_bytes[:, 0] for _ in range(n_blocks)])
    first_loop = dl[: int(tr.duration_s * 1000)]
    assert first_loop.sum() == tr.dl_bytes.sum()  # every packet once per loop
    assert dl.sum() > 1.9 * tr.dl_bytes.sum()  # and again on the next loop


def test_trace_windows_hold_the_captured_packets():
    """Three trace UEs from different offsets: each window holds exactly the captured packets
    in [offset, offset + 250 ms) of the looped capture, in the TTI of their time."""
    names = ["embb_youtube_04_10", "urllc_meet_04_10_first200s", "mmtc_idle_04_10"]
    ues = [UeTraffic(load_trace(nm).traffic_class, kind="trace", trace=nm, offset_s=off)
           for nm, off in zip(names, (3.0, 99.9, 12.5), strict=True)]
    mix = TrafficMix(ues, np.random.default_rng(0))
    pos = mix.trace_pos.copy()
    pk = mix.packets(250)
    for u, nm in enumerate(names):
        tr = load_trace(nm)
        t = np.concatenate([tr.dl_time_s, tr.dl_time_s + tr.duration_s])
        b = np.concatenate([tr.dl_bytes, tr.dl_bytes])
        sel = (t >= pos[u]) & (t < pos[u] + 0.25)
        mine = pk.dl_cell % 3 == u
        np.testing.assert_array_equal(pk.dl_bytes[mine], b[sel])
        tti = pk.dl_cell[mine] // 3
        assert np.abs(tti - np.floor((t[sel] - pos[u]) / 1e-3)).max(initial=0) <= 1
    blk = TrafficMix(ues, np.random.default_rng(0)).block(250)
    np.testing.assert_array_equal(blk.dl_bytes.reshape(-1), np.bincount(
        pk.dl_cell, weights=pk.dl_bytes, minlength=750).astype(int))


def test_bad_traffic_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="embb_rate_mbps"):
        make_ue_traffic("embb", "commag", rng, embb_rate_mbps=-1.0)
    with pytest.raises(ValueError, match="unknown class"):
        make_ue_traffic("voip", "commag", rng)
    with pytest.raises(ValueError, match="unknown mode"):
        make_ue_traffic("embb", "pcap", rng)
