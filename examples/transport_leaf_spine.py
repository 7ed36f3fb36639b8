"""A leaf-spine fabric with your own collective: ECMP, spraying and the minimal split.

Builds a leaf-spine (``transport.network``), defines a collective of its own - a
"shift-by-k" exchange in which rank i sends to i+1, i+2, ... in turn, a pattern that is not in
the library - and runs it on the engine's max-min fluid transport with each routing. Prints
the completion time over the step-synchronous spraying lower bound and the worst step's
fabric congestion over the spraying bound (1.000 = as good as ideal spraying).

    python examples/transport_leaf_spine.py            # 8 leaves x 4 spines x 8 hosts, 64 MB
    python examples/transport_leaf_spine.py --quick    # or NETSIM_EXAMPLE_QUICK=1: 4 x 2 x 4
"""

import os
import sys

import numpy as np

from transport.collectives import Collective, Step
from transport.network import leaf_spine_network
from transport.simulate import simulate_collective

quick = "--quick" in sys.argv or os.environ.get("NETSIM_EXAMPLE_QUICK") == "1"
leaves, spines, hosts = (4, 2, 4) if quick else (8, 4, 8)
net = leaf_spine_network(leaves, spines, hosts, host_rate_bps=100e9, oversubscription=1.0)

n = net.n_hosts
size = 4e6 if quick else 64e6  # bytes each rank sends in total
ranks = np.arange(n)
shifts = range(1, 4)  # step k: every rank sends S/3 to rank i + k
steps = tuple(Step(ranks, (ranks + k) % n, np.full(n, size / 3)) for k in shifts)
shift = Collective("shift_exchange", "alltoall", n, size, steps)

print(f"{n} ranks on {leaves} leaves x {spines} spines, {size / 1e6:g} MB per rank")
print(f"{'routing':<14} {'CCT (ms)':>9} {'CCT / bound':>12} {'congestion / bound':>19}")
for routing in ("ecmp", "spray", "minimal_split", "adaptive"):
    res = simulate_collective(net, shift, balancing=routing, placement="random", seed=7)
    print(f"{routing:<14} {res.cct_s * 1e3:9.3f} {res.cct_s / res.lower_bound_s:12.3f} "
          f"{res.congestion_ratio:19.3f}")
