"""Link failures under RoCE (transport.pathselect on transport.roce.RoceTransport): with PFC the
lost packets release the ingress bytes they held (no pause left standing, no deadlock) and are
resent once through their NIC; without PFC go-back-N recovers them. Every byte is delivered
exactly once, nothing crosses the dead link after it fails, and the completion time respects
the capacity left after the failure."""

from collections import Counter

import numpy as np
import pytest

from netsim import Simulation
from transport.network import SPRAY, leaf_spine_network
from transport.pathselect import LinkFailure, PathOptions, PathSelector
from transport.roce import RoceOptions, RoceTransport

C_BPS, T_FAIL, DETECT = 100e9, 40e-6, 5e-6
SIZE = 4e6
BUF = 150_000.0  # per ingress port: Xoff ≈ 117 KB, below two windows (512 KB)


class _Deliveries(RoceTransport):
    """Records every packet handed to its receiver (the inlined RoCE loop still runs)."""

    def _deliver(self, f, seq):
        self.got.append((f.owner, seq))
        super()._deliver(f, seq)


class _Arrivals(_Deliveries):
    """Also records every (time, link) arrival at the far end of a link and, without PFC, the
    packets the go-back-N receiver accepts (the method-per-event loop runs, since ``_arrive``
    is overridden)."""

    def _arrive(self, pkt, _=None):
        self.spied.append((self.env.now, pkt[2][pkt[3]]))
        if not self._lossless and pkt[3] + 1 == len(pkt[2]):  # go-back-N takes it in order
            f = self._flows.get(pkt[0])
            if f is not None and pkt[1] == f.expected:
                self.got.append((f.owner, pkt[1]))
        super()._arrive(pkt, _)


def _run(path, opts: RoceOptions, spy: bool, detect_s: float = DETECT, t_fail: float = T_FAIL):
    """Hosts 0, 1 (leaf 0) send 4 MB each to hosts 2, 3 (leaf 1) over 2 spines at 100 Gb/s;
    uplink leaf 0 → spine 0 fails at ``t_fail`` (40 µs), detected ``detect_s`` (5 µs) later."""
    net = leaf_spine_network(2, 2, 2, uplink_rate_bps=C_BPS)
    up = int(net.uplinks()[0, 0])
    sim = Simulation(0)
    tr = (_Arrivals if spy else _Deliveries)(sim, net, options=opts)
    tr.got, tr.spied = [], []
    sel = PathSelector(tr, PathOptions(failures=(LinkFailure(up, t_fail),), detect_s=detect_s),
                       seed=7)
    out = {}
    tr.add([0, 1], [2, 3], path, [SIZE, SIZE], np.arange(2),
           lambda o, _d: out.update(dict.fromkeys(o.tolist(), sim.now)))
    sim.run()
    return net, up, tr, sel, out


def _remaining_capacity_bound(up, sel, t_fail=T_FAIL) -> float:
    """Leaf 0 must push 8 MB out: what the failed uplink carried before it failed (lost bytes
    included, so a lower bound) plus at most C·t_fail on the other, the rest at C after."""
    return t_fail + (2 * SIZE - sel.bytes_at_failure[up] - C_BPS * t_fail / 8) * 8 / C_BPS


def _exactly_once(tr):
    n_pkts = -(-int(SIZE) // tr.mtu)
    want = Counter((o, s) for o in range(2) for s in range(n_pkts))
    assert Counter(tr.got) == want


@pytest.mark.parametrize(
    ("cc", "pinned", "t_fail"),
    [("none", False, T_FAIL), ("none", True, T_FAIL), ("dcqcn", False, T_FAIL),
     ("dcqcn", True, T_FAIL), ("swift", True, T_FAIL),
     ("none", True, 620e-6)],  # in the last window: every new packet sent, the lost ones left
)
def test_pfc_failure_mid_transfer(cc, pinned, t_fail):
    """PFC on, half the leaf's uplink capacity gone: 200 Gb/s of hosts into 100 Gb/s pauses
    the hosts; the lost packets release their ingress bytes and are resent once; every byte
    arrives once, none over the dead link; at the end no port holds bytes or is paused; both
    loops agree."""
    opts = RoceOptions(buffer_bytes=BUF, cc=cc)
    path = [0, 0] if pinned else SPRAY
    net, up, tr, sel, out = _run(path, opts, spy=True, t_fail=t_fail)
    assert len(out) == 2 and tr.delivered_bytes == 2 * SIZE
    _exactly_once(tr)
    assert not [a for a in tr.spied if a[1] == up and a[0] > t_fail]
    assert sel.lost > 0 and sel.resent == sel.lost == tr.retransmitted
    assert tr.link_bytes[up] == sel.bytes_at_failure[up]
    assert tr.drops == 0
    # PFC state is consistent once the run is over
    assert tr.pauses > 0 and not any(tr._pause_sent) and not any(tr._paused)
    assert np.allclose(tr._ingress, 0.0, atol=1e-6)
    assert np.all(np.isfinite(tr.pause_time_s)) and tr.pause_time_s.sum() > 0
    assert np.all(tr.max_ingress_bytes <= opts.buffer_bytes + 1e-9)
    t_end = max(out.values())
    assert t_end >= _remaining_capacity_bound(up, sel, t_fail) * (1 - 1e-9)
    assert t_end > t_fail + DETECT  # the lost packets are resent only once it is detected
    # the inlined loop gives the same run
    _, _, tr2, sel2, out2 = _run(path, opts, spy=False, t_fail=t_fail)
    assert out2 == out and np.array_equal(tr2.link_bytes, tr.link_bytes)
    assert (sel2.lost, tr2.pauses, tr2.got) == (sel.lost, tr.pauses, tr.got)


def test_pfc_failure_without_congestion_control_stays_near_the_bound():
    """Sprayed, no congestion control: the one uplink left is kept busy, so the finish is
    within 10 % (plus detection) of the remaining-capacity bound."""
    net, up, tr, sel, out = _run(SPRAY, RoceOptions(buffer_bytes=BUF, cc="none"), spy=False)
    bound = _remaining_capacity_bound(up, sel)
    assert bound <= max(out.values()) <= 1.1 * bound + DETECT


def test_lossy_failure_is_recovered_by_go_back_n():
    """PFC off: the packets lost on the dead link are left to go-back-N (NAKs from the gaps
    the other spine's packets expose, or the retransmission timeout); the selector resends
    nothing, the receiver still takes every packet exactly once, in order."""
    opts = RoceOptions(pfc=False, cc="none", rto_s=100e-6)
    net, up, tr, sel, out = _run(SPRAY, opts, spy=True)
    assert len(out) == 2 and tr.delivered_bytes == 2 * SIZE
    _exactly_once(tr)
    assert not [a for a in tr.spied if a[1] == up and a[0] > T_FAIL]
    assert sel.lost > 0 and sel.resent == 0
    assert tr.naks + tr.timeouts > 0 and tr.retransmitted >= sel.lost
    assert max(out.values()) >= _remaining_capacity_bound(up, sel)


def test_pinned_lossy_failure_with_slow_detection_times_out_until_rerouted():
    """PFC off, both subflows pinned to the failed spine, detection after 250 µs: everything
    sent meanwhile is lost, no packet exposes the gap (no NAK), each 100 µs timeout resends
    into the dead link again, and only the first timeout after detection gets through."""
    opts = RoceOptions(pfc=False, cc="none", rto_s=100e-6)
    net, up, tr, sel, out = _run([0, 0], opts, spy=True, detect_s=250e-6)
    assert len(out) == 2 and tr.delivered_bytes == 2 * SIZE
    _exactly_once(tr)
    assert not [a for a in tr.spied if a[1] == up and a[0] > T_FAIL]
    # per subflow: timeouts at ~140 and ~240 µs resend into the dead link, ~340 µs gets through
    assert tr.naks == 0 and tr.timeouts == 2 * 3
    # a full window (64 packets) is lost at the failure and at each of the 2 blind go-backs
    assert sel.lost == 2 * 3 * tr.window and tr.retransmitted == sel.lost and sel.resent == 0
    assert min(out.values()) >= T_FAIL + 250e-6
