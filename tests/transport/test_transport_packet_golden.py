"""Packet and RoCE transports reproduce recorded runs exactly (regression for the event loop).

The packet models keep their own event calendar and loop (``transport.packetsim``, section
"calendar") instead of one engine event per packet event, with a tie rule that reproduces the
engine's order. The values below were recorded with the earlier model, in which every packet
event was an engine timeout (commit 3c27966): completion times, event and packet counts,
per-link bytes, reordering, queue statistics and RoCE counters must match bit for bit. The
cases mix the things that could break the order: ties between packet events (uniform links),
other engine events (background traffic, transfer latency ``alpha_s``), ``run(until=)`` with
subflows added between runs, random spraying, fair queues, windows, PFC, ECN draws, DCQCN
timers, go-back-N and Swift.
"""

import numpy as np
import pytest

from netsim import Simulation
from transport.collectives import alltoall, rabenseifner_allreduce, ring_allreduce
from transport.network import SPRAY, leaf_spine_network
from transport.packetsim import PacketTransport
from transport.roce import RoceOptions, RoceTransport
from transport.simulate import Background, PacketOptions, simulate_collective

_COUNTERS = ("events", "packets", "reordered", "max_reorder_pkts")
_ROCE = ("drops", "retransmitted", "timeouts", "naks", "ecn_marked", "cnps", "pauses")


def _stats(tr) -> dict:
    out = {k: getattr(tr, k) for k in _COUNTERS}
    out["queue_delay_s"] = tr.queue_delay_s
    out["delivered_bytes"] = tr.delivered_bytes
    out["link_bytes"] = tr.link_bytes.tolist()
    out["max_queue_pkts"] = int(tr.max_queue_pkts.max())
    if isinstance(tr, RoceTransport):
        out.update({k: getattr(tr, k) for k in _ROCE})
        out["pause_time_s"] = float(tr.pause_time_s.sum())
        out["max_ingress_bytes"] = float(tr.max_ingress_bytes.max())
        out["max_queue_bytes"] = float(tr.max_queue_bytes.max())
    return out


def _collective(case: str) -> dict:
    net = leaf_spine_network(4, 2, 2, host_rate_bps=100e9, link_delay_s=1e-6)
    kw = {"placement": "random", "seed": 2, "alpha_s": 1e-6, "mode": "packet"}
    if case == "ring_spray":
        r = simulate_collective(net, ring_allreduce(8, 2e6), balancing="spray", **kw)
    elif case == "rab_spray_random_fair":
        opts = PacketOptions(spray="random", queue="fair")
        r = simulate_collective(net, rabenseifner_allreduce(8, 2e6), balancing="spray",
                                packet=opts, **kw)
    elif case == "a2a_ecmp_window8":
        r = simulate_collective(net, alltoall(8, 1e6), balancing="ecmp",
                                packet=PacketOptions(window_pkts=8), **kw)
    elif case == "ring_ecmp_background":
        r = simulate_collective(net, ring_allreduce(8, 2e6), balancing="ecmp",
                                background=Background(load=0.4), **kw)
    elif case == "ring_roce_background":
        opts = PacketOptions(roce=RoceOptions(buffer_bytes=150e3))
        r = simulate_collective(net, ring_allreduce(8, 2e6), balancing="spray",
                                background=Background(load=0.4), packet=opts, **kw)
    else:
        raise KeyError(case)
    out = {"cct_s": r.cct_s, "events": r.events, "link_bytes": r.link_bytes.tolist()}
    out.update({k: v for k, v in r.extra.items() if k != "batches"})
    return out


def _incast(case: str) -> dict:
    net = leaf_spine_network(2, 1, 4, host_rate_bps=100e9, link_delay_s=1e-6)
    opts = {
        "pfc_dcqcn": {"cc": "dcqcn", "buffer_bytes": 300e3},
        "lossy_dcqcn": {"pfc": False, "cc": "dcqcn", "buffer_bytes": 200e3},
        "lossy_swift": {"pfc": False, "cc": "swift", "buffer_bytes": 200e3, "ecn": False},
    }[case]
    sim = Simulation(0)
    tr = RoceTransport(sim, net, window_pkts=64, options=RoceOptions(**opts))
    done = {}
    tr.add([0, 1, 2, 3], [4, 4, 4, 5], [0] * 4, [1e6] * 4, np.arange(4),
           lambda o, _d: done.update(dict.fromkeys(o.tolist(), sim.now)))
    sim.run()
    return {"done": done, "end_s": sim.now, **_stats(tr)}


def _until(case: str) -> dict:
    """Run to fixed times and add subflows between runs (the calendar's wake-up path)."""
    spines = 1 if case == "dumbbell_dcqcn" else 2
    net = leaf_spine_network(2, spines, 3, host_rate_bps=100e9, uplink_rate_bps=100e9)
    sim = Simulation(1)
    if case == "dumbbell_dcqcn":
        opts = RoceOptions(cc="dcqcn", rai_bps=0.5e9)
        tr = RoceTransport(sim, net, window_pkts=10**6, options=opts)
    else:
        tr = PacketTransport(sim, net, window_pkts=32, spray="random")
    done = {}

    def cb(o, _d):
        done.update(dict.fromkeys(o.tolist(), sim.now))

    tr.add([0, 1], [3, 4], [0, 0], [2e6, 2e6], [0, 1], cb)
    sim.run(until=60e-6)
    mid = tr.events
    tr.add([2], [5], [SPRAY if case == "plain_spray" else 0], [1e6], [2], cb)
    sim.run()
    return {"done": done, "mid_events": mid, "end_s": sim.now, **_stats(tr)}


def _ties(case: str) -> dict:
    """Packet events and an engine process's timeouts on one dyadic time grid (2^-20 s
    serialisation and propagation, ticks every 2^-20 s): exact ties everywhere, so the
    snapshots the process takes (and a subflow it adds) pin the tie rule."""
    tick = 2.0**-20
    net = leaf_spine_network(2, 1, 2, host_rate_bps=1024 * 8 / tick,
                             uplink_rate_bps=1024 * 8 / tick, link_delay_s=tick)
    sim = Simulation(0)
    if case == "ties_roce":
        opts = RoceOptions(buffer_bytes=40e3, cc="dcqcn", kmin_bytes=2e3, kmax_bytes=8e3)
        tr = RoceTransport(sim, net, mtu_bytes=1024, window_pkts=16, options=opts)
    else:
        tr = PacketTransport(sim, net, mtu_bytes=1024, window_pkts=16)
    log = []

    def ticker():
        for k in range(60):
            ev = sim.timeout(tick)  # created before the packets it ties with
            if k == 0:
                tr.add([0, 3], [2, 1], [0, 0], [30e3, 30e3], [0, 1],
                       lambda o, _d: log.append(("done", o.tolist())))
            if k == 7:
                tr.add([1], [2], [0], [20e3], [9], lambda o, _d: log.append(("done", 9)))
            yield ev
            log.append((tr.events, tr.packets, len(log)))

    sim.process(ticker())
    sim.run()
    return {"log": log, "end_s": sim.now, **_stats(tr)}


CASES = {
    "ties_plain": _ties,
    "ties_roce": _ties,
    "ring_spray": _collective,
    "rab_spray_random_fair": _collective,
    "a2a_ecmp_window8": _collective,
    "ring_ecmp_background": _collective,
    "ring_roce_background": _collective,
    "pfc_dcqcn": _incast,
    "lossy_dcqcn": _incast,
    "lossy_swift": _incast,
    "dumbbell_dcqcn": _until,
    "plain_spray": _until,
}

# recorded with commit 3c27966 (every packet event an engine timeout); see the module docstring
EXPECTED: dict = {'a2a_ecmp_window8': {'cct_s': 0.00011713568000000079,
                      'events': 14618,
                      'link_bytes': [875000.0, 875000.0, 875000.0, 875000.0, 875000.0, 875000.0,
                                     875000.0, 875000.0, 875000.0, 875000.0, 875000.0, 875000.0,
                                     875000.0, 875000.0, 875000.0, 875000.0, 500000.0,
                                     1000000.0, 1000000.0, 500000.0, 625000.0, 625000.0,
                                     875000.0, 875000.0, 500000.0, 875000.0, 1000000.0,
                                     625000.0, 1000000.0, 125000.0, 500000.0, 1375000.0],
                      'max_queue_pkts': 61,
                      'max_reorder_pkts': 0,
                      'mean_queue_delay_s': 5.270328847926313e-06,
                      'packets': 1736,
                      'reordered': 0},
 'dumbbell_dcqcn': {'cnps': 13,
                    'delivered_bytes': 5000000.0,
                    'done': {0: 0.00117772301555597,
                             1: 0.0012087742059706244,
                             2: 0.00025111679999999795},
                    'drops': 0,
                    'ecn_marked': 598,
                    'end_s': 0.0012342572799999981,
                    'events': 11883,
                    'link_bytes': [2000000.0, 0.0, 2000000.0, 0.0, 1000000.0, 0.0, 0.0,
                                   2000000.0, 0.0, 2000000.0, 0.0, 1000000.0, 5000000.0, 0.0,
                                   0.0, 5000000.0],
                    'max_ingress_bytes': 577536.0,
                    'max_queue_bytes': 1032192.0,
                    'max_queue_pkts': 252,
                    'max_reorder_pkts': 0,
                    'mid_events': 1866,
                    'naks': 0,
                    'packets': 1223,
                    'pause_time_s': 0.0,
                    'pauses': 0,
                    'queue_delay_s': 0.03988755757275129,
                    'reordered': 0,
                    'retransmitted': 0,
                    'timeouts': 0},
 'lossy_dcqcn': {'cnps': 9,
                 'delivered_bytes': 4000000.0,
                 'done': {0: 0.0002620940799999976,
                          1: 0.00029661646535748994,
                          2: 0.0003136616214280921,
                          3: 8.473728000000053e-05},
                 'drops': 202,
                 'ecn_marked': 35,
                 'end_s': 0.001,
                 'events': 12020,
                 'link_bytes': [1262144.0, 0.0, 1389120.0, 0.0, 1794624.0, 0.0, 1000000.0, 0.0,
                                0.0, 3618496.0, 0.0, 1000000.0, 0.0, 0.0, 0.0, 0.0, 5445888.0,
                                0.0, 0.0, 5445888.0],
                 'max_ingress_bytes': 0.0,
                 'max_queue_bytes': 196608.0,
                 'max_queue_pkts': 48,
                 'max_reorder_pkts': 0,
                 'naks': 7,
                 'packets': 1333,
                 'pause_time_s': 0.0,
                 'pauses': 0,
                 'queue_delay_s': 0.009471157430121682,
                 'reordered': 298,
                 'retransmitted': 353,
                 'timeouts': 0},
 'lossy_swift': {'cnps': 0,
                 'delivered_bytes': 4000000.0,
                 'done': {0: 0.00022473855999999846,
                          1: 0.00023425919999999842,
                          2: 0.001108711679999986,
                          3: 8.473728000000052e-05},
                 'drops': 236,
                 'ecn_marked': 0,
                 'end_s': 0.00203208448,
                 'events': 11745,
                 'link_bytes': [1569344.0, 0.0, 1655360.0, 0.0, 1507904.0, 0.0, 1000000.0, 0.0,
                                0.0, 3765952.0, 0.0, 1000000.0, 0.0, 0.0, 0.0, 0.0, 5732608.0,
                                0.0, 0.0, 5732608.0],
                 'max_ingress_bytes': 0.0,
                 'max_queue_bytes': 196608.0,
                 'max_queue_pkts': 48,
                 'max_reorder_pkts': 0,
                 'naks': 7,
                 'packets': 1403,
                 'pause_time_s': 0.0,
                 'pauses': 0,
                 'queue_delay_s': 0.00849688831999997,
                 'reordered': 338,
                 'retransmitted': 423,
                 'timeouts': 1},
 'pfc_dcqcn': {'cnps': 15,
               'delivered_bytes': 4000000.0,
               'done': {0: 0.00034449974857142843,
                        1: 0.00031074182769827554,
                        2: 0.0002853312,
                        3: 0.0002152888440485143},
               'drops': 0,
               'ecn_marked': 368,
               'end_s': 0.0003563369599999993,
               'events': 9373,
               'link_bytes': [1000000.0, 0.0, 1000000.0, 0.0, 1000000.0, 0.0, 1000000.0, 0.0,
                              0.0, 3000000.0, 0.0, 1000000.0, 0.0, 0.0, 0.0, 0.0, 4000000.0,
                              0.0, 0.0, 4000000.0],
               'max_ingress_bytes': 294912.0,
               'max_queue_bytes': 540672.0,
               'max_queue_pkts': 132,
               'max_reorder_pkts': 0,
               'naks': 0,
               'packets': 980,
               'pause_time_s': 0.00022432447999999779,
               'pauses': 37,
               'queue_delay_s': 0.030521319949230307,
               'reordered': 0,
               'retransmitted': 0,
               'timeouts': 0},
 'plain_spray': {'delivered_bytes': 5000000.0,
                 'done': {0: 0.0003656614399999952,
                          1: 0.0003658969599999952,
                          2: 0.00022265471999999853},
                 'end_s': 0.00036989695999999517,
                 'events': 11007,
                 'link_bytes': [2000000.0, 0.0, 2000000.0, 0.0, 1000000.0, 0.0, 0.0, 2000000.0,
                                0.0, 2000000.0, 0.0, 1000000.0, 4512576.0, 0.0, 487424.0, 0.0,
                                0.0, 4512576.0, 0.0, 487424.0],
                 'max_queue_pkts': 66,
                 'max_reorder_pkts': 25,
                 'mid_events': 1626,
                 'packets': 1223,
                 'queue_delay_s': 0.016000496639999508,
                 'reordered': 125},
 'rab_spray_random_fair': {'cct_s': 0.00034967231999999605,
                           'events': 59921,
                           'link_bytes': [3500000.0, 3500000.0, 3500000.0, 3500000.0, 3500000.0,
                                          3500000.0, 3500000.0, 3500000.0, 3500000.0, 3500000.0,
                                          3500000.0, 3500000.0, 3500000.0, 3500000.0, 3500000.0,
                                          3500000.0, 3393648.0, 3425408.0, 3606352.0, 3574592.0,
                                          3515808.0, 3542544.0, 3484192.0, 3457456.0, 3029248.0,
                                          2827680.0, 2970752.0, 3172320.0, 2938272.0, 3081344.0,
                                          3061728.0, 2918656.0],
                           'max_queue_pkts': 29,
                           'max_reorder_pkts': 21,
                           'mean_queue_delay_s': 2.4542187906978128e-06,
                           'packets': 6880,
                           'reordered': 2979},
 'ring_ecmp_background': {'bg_finished': 49,
                          'bg_mean_slowdown': 7.611365623039789,
                          'bg_started': 67,
                          'cct_s': 0.0014909700808676686,
                          'events': 173467,
                          'link_bytes': [12985331.026424803, 9817775.458171556,
                                         12466638.86329269, 8541318.16414777, 7055487.919130167,
                                         5959656.178517945, 9196459.46605103, 8139529.520695694,
                                         10894321.394117463, 13151281.637131795,
                                         9590724.454055948, 14917731.14918093,
                                         9687962.016127827, 8514668.294474568,
                                         13138623.581524918, 12817485.6930461,
                                         12933803.830245174, 6848509.844356971,
                                         12041742.35277239, 11460144.071262427,
                                         3951309.85119355, 8835071.99576327, 12010621.502800906,
                                         4990481.672263629, 2524595.0655889395,
                                         7056416.965247757, 12526416.101157164,
                                         17012161.13963766, 10216485.028503923,
                                         6181682.9701635875, 7218856.551468105,
                                         9779706.999676364],
                          'max_queue_pkts': 385,
                          'max_reorder_pkts': 0,
                          'mean_queue_delay_s': 2.8905048852646638e-05,
                          'packets': 20888,
                          'reordered': 0},
 'ring_roce_background': {'bg_finished': 32,
                          'bg_mean_slowdown': 4.8184948430593995,
                          'bg_started': 48,
                          'cct_s': 0.0011322634477806742,
                          'cnps': 103,
                          'drops': 0,
                          'ecn_marked': 368,
                          'events': 127870,
                          'link_bytes': [7590899.026424803, 8638134.327159785,
                                         9201441.793964144, 6266357.218917496,
                                         5310177.997837007, 3897312.0, 7661541.752698636,
                                         6041018.9817667715, 7354052.3314673025,
                                         9108205.679298807, 7616547.791060294,
                                         10390561.53328776, 6530899.526074629,
                                         6454380.294474569, 9479569.105329556,
                                         8982503.289951181, 8735403.830245174,
                                         6836653.844356971, 7854945.283443845,
                                         8009205.995020384, 6629309.85119355, 5172237.738926275,
                                         6342409.899342093, 4790669.242840497,
                                         2946594.6363363913, 5058516.316636844,
                                         7168270.979019962, 9871236.388778482,
                                         4905590.552308561, 5883250.9701635875,
                                         6610501.443795785, 5165751.978962323],
                          'max_ingress_bytes': 147600.0,
                          'max_queue_bytes': 372736.0,
                          'max_queue_pkts': 91,
                          'max_reorder_pkts': 31,
                          'mean_queue_delay_s': 1.1206606957357557e-05,
                          'packets': 14955,
                          'pause_time_s': 0.0014416157994861926,
                          'pauses': 220,
                          'reordered': 1679,
                          'retransmitted': 0,
                          'timeouts': 0},
 'ring_spray': {'cct_s': 0.0003697183999999965,
                'events': 55495,
                'link_bytes': [3500000.0, 3500000.0, 3500000.0, 3500000.0, 3500000.0, 3500000.0,
                               3500000.0, 3500000.0, 3500000.0, 3500000.0, 3500000.0, 3500000.0,
                               3500000.0, 3500000.0, 3500000.0, 3500000.0, 3500000.0, 3488144.0,
                               3500000.0, 3511856.0, 3464432.0, 3500000.0, 3535568.0, 3500000.0,
                               1761856.0, 1730240.0, 1738144.0, 1769760.0, 1753952.0, 1761856.0,
                               1746048.0, 1738144.0],
                'max_queue_pkts': 2,
                'max_reorder_pkts': 1,
                'mean_queue_delay_s': 8.651815668202557e-08,
                'packets': 6944,
                'reordered': 49},
 'ties_plain': {'delivered_bytes': 80000.0,
                'end_s': 5.7220458984375e-05,
                'events': 720,
                'link_bytes': [30000.0, 0.0, 20000.0, 30000.0, 0.0, 50000.0, 30000.0, 0.0,
                               50000.0, 30000.0, 30000.0, 50000.0],
                'log': [(0, 2, 0), (2, 4, 1), (6, 6, 2), (12, 8, 3), (20, 10, 4), (30, 12, 5),
                        (42, 14, 6), (56, 17, 7), (73, 20, 8), (91, 23, 9), (109, 26, 10),
                        (129, 29, 11), (149, 32, 12), (169, 35, 13), (189, 38, 14),
                        (209, 41, 15), (229, 44, 16), (249, 47, 17), (269, 50, 18),
                        (289, 53, 19), (309, 56, 20), (329, 59, 21), (349, 62, 22),
                        (369, 65, 23), (389, 68, 24), (409, 71, 25), (430, 74, 26),
                        (450, 76, 27), (468, 77, 28), (486, 79, 29), (503, 79, 30),
                        (519, 80, 31), (534, 80, 32), (548, 80, 33), (560, 80, 34),
                        (571, 80, 35), ('done', [1]), (581, 80, 37), (589, 80, 38),
                        (597, 80, 39), (605, 80, 40), (613, 80, 41), (620, 80, 42),
                        (627, 80, 43), (634, 80, 44), (641, 80, 45), (648, 80, 46),
                        (655, 80, 47), (663, 80, 48), (671, 80, 49), (679, 80, 50),
                        (688, 80, 51), (696, 80, 52), ('done', 9), (703, 80, 54), (708, 80, 55),
                        (712, 80, 56), ('done', [0]), (715, 80, 58), (716, 80, 59),
                        (717, 80, 60), (718, 80, 61), (720, 80, 62)],
                'max_queue_pkts': 20,
                'max_reorder_pkts': 0,
                'packets': 80,
                'queue_delay_s': 0.00043654441833496094,
                'reordered': 0},
 'ties_roce': {'cnps': 2,
               'delivered_bytes': 80000.0,
               'drops': 0,
               'ecn_marked': 28,
               'end_s': 8.837860107421876e-05,
               'events': 724,
               'link_bytes': [30000.0, 0.0, 20000.0, 30000.0, 0.0, 50000.0, 30000.0, 0.0,
                              50000.0, 30000.0, 30000.0, 50000.0],
               'log': [(0, 2, 0), (2, 4, 1), (6, 6, 2), (12, 8, 3), (20, 10, 4), (30, 12, 5),
                       (42, 14, 6), (56, 17, 7), (73, 20, 8), (91, 23, 9), (109, 26, 10),
                       (129, 29, 11), (149, 32, 12), (169, 35, 13), (189, 38, 14),
                       (209, 41, 15), (229, 44, 16), (249, 47, 17), (269, 50, 18),
                       (289, 53, 19), (309, 56, 20), (329, 59, 21), (349, 62, 22),
                       (369, 65, 23), (389, 68, 24), (409, 71, 25), (430, 74, 26),
                       (450, 76, 27), (468, 77, 28), (486, 79, 29), (503, 79, 30),
                       (520, 80, 31), (535, 80, 32), (549, 80, 33), (562, 80, 34),
                       (573, 80, 35), ('done', [1]), (583, 80, 37), (591, 80, 38),
                       (599, 80, 39), (607, 80, 40), (615, 80, 41), (622, 80, 42),
                       (629, 80, 43), (636, 80, 44), (643, 80, 45), (650, 80, 46),
                       (657, 80, 47), (665, 80, 48), (673, 80, 49), (681, 80, 50),
                       (690, 80, 51), (698, 80, 52), ('done', 9), (705, 80, 54), (710, 80, 55),
                       (714, 80, 56), ('done', [0]), (717, 80, 58), (718, 80, 59),
                       (719, 80, 60), (720, 80, 61), (722, 80, 62)],
               'max_ingress_bytes': 11264.0,
               'max_queue_bytes': 20000.0,
               'max_queue_pkts': 20,
               'max_reorder_pkts': 0,
               'naks': 0,
               'packets': 80,
               'pause_time_s': 0.0,
               'pauses': 0,
               'queue_delay_s': 0.00043654441833496094,
               'reordered': 0,
               'retransmitted': 0,
               'timeouts': 0}}


@pytest.mark.parametrize("case", sorted(CASES))
def test_packet_runs_match_the_recorded_engine_runs(case):
    got = CASES[case](case)
    # the recorded quantities (results added since, e.g. bg_p99_slowdown, are not recorded)
    assert {k: got.get(k) for k in EXPECTED[case]} == EXPECTED[case]


def _alone(net, src, dst, window):
    sim = Simulation(0)
    out = []
    PacketTransport(sim, net, window_pkts=window).add(
        [src], [dst], [0], [50e3], [0], lambda o, _d: out.append(sim.now))
    sim.run()
    return out[0]


def test_transports_and_engine_processes_interleave_in_time_order():
    """Two transports on one engine, plus an engine process: each transport's loop yields to
    the engine's earlier events (the other transport's wake-ups, the process's timeouts),
    nothing runs out of time order, and on disjoint paths each subflow finishes exactly when
    it does alone."""
    net = leaf_spine_network(2, 1, 2, host_rate_bps=100e9, link_delay_s=1e-6)
    sim = Simulation(0)
    a, b = PacketTransport(sim, net), PacketTransport(sim, net, window_pkts=4)
    log = []

    def ticker():
        while True:
            yield sim.timeout(0.5e-6)
            log.append(("tick", sim.now))

    sim.process(ticker())
    a.add([0], [2], [0], [50e3], ["a"], lambda o, _d: log.append(("a", sim.now)))
    b.add([1], [3], [0], [50e3], ["b"], lambda o, _d: log.append(("b", sim.now)))
    sim.run(until=40e-6)
    times = [t for _, t in log]
    assert times == sorted(times)
    done = {k: t for k, t in log if k != "tick"}
    assert done == {"a": _alone(net, 0, 2, 64), "b": _alone(net, 1, 3, 4)}
    assert done["b"] > done["a"]  # the 4-packet window waits for ACKs


@pytest.mark.parametrize(
    "kw",
    [{}, {"queue": "fair", "window_pkts": 8}, {"spray": "random", "mtu_bytes": 1000}],
    ids=["fifo", "fair_window8", "random_mtu1000"],
)
def test_inlined_loop_equals_the_method_steps(kw):
    """``PacketTransport._run`` inlines ``_tx_done``, ``_arrive`` and ``_ack``; the general
    loop ``_run_dispatch`` calls them. Both must give the same run (a change to one of the
    methods must be made in the loop too)."""
    net = leaf_spine_network(4, 2, 2, host_rate_bps=100e9, link_delay_s=1e-6)
    src, dst = [0, 1, 2, 3, 4, 5, 0], [6, 7, 4, 5, 2, 3, 7]

    def run(inline):
        sim = Simulation(5)
        tr = PacketTransport(sim, net, **kw)
        if not inline:
            tr._loop = tr._run_dispatch
        done = {}
        tr.add(src, dst, [SPRAY, 0, 1, SPRAY, 0, SPRAY, 1], [3e5, 2e5, 1e5, 4e5, 2e5, 3e5, 5e4],
               np.arange(7), lambda o, _d: done.update(dict.fromkeys(o.tolist(), sim.now)))
        sim.run()
        return done, sim.now, _stats(tr)

    runs = [run(True), run(False)]
    assert runs[0] == runs[1]
    assert runs[0][2]["events"] > 0
