"""A CoMP spare-PRB market instance with demand-capped utilities: the trading post, the
bilateral posted-price protocol, the fair share and the welfare optimum side by side.

Run: python examples/ran_comp_market.py   (NETSIM_EXAMPLE_QUICK=1 for a smaller instance)
"""

import os

import numpy as np
import pandas as pd

from netsim.rng import stream
from netsim.tables import markdown_table
from ran.comp.apps import draw_apps
from ran.comp.baselines import equal_share
from ran.comp.bilateral import posted_prices
from ran.comp.capped import capped_welfare_optimum, fair_share, run_capped_market
from ran.comp.market import MarketInstance, utilities

quick = os.environ.get("NETSIM_EXAMPLE_QUICK") == "1"
n_ues, n_bs, k = (12, 4, 2) if quick else (60, 12, 3)
rng = stream(7, "example.comp")
# each UE: an application (desired rate, urgency) and its K strongest BSs
_, desired, urgency = draw_apps(rng, n_ues, {"video": 0.4, "voice": 0.3, "bulk": 0.3})
cluster = np.array([rng.choice(n_bs, k, replace=False) for _ in range(n_ues)])
value = rng.uniform(0.3, 2.5, (n_ues, k))  # Mbit/s per PRB of each cluster BS
inst = MarketInstance(
    cluster, value, spare=rng.uniform(5, 25, n_bs), budget=np.ones(n_ues),
    reserve=np.full(n_bs, 0.01), money_value=0.0, cap=desired, weight=urgency,
)
opt = utilities(inst, capped_welfare_optimum(inst).prbs).sum()
market = run_capped_market(inst, eps=1e-4, max_rounds=2000)
posted = posted_prices(inst, max_rounds=200)
rows = []
for name, prbs, time_s in [
    ("trading post", market.allocation.prbs, market.time_s),
    ("posted prices", posted.prbs, posted.time_s),
    ("fair share", fair_share(inst).prbs, 0.0),
    ("equal share", equal_share(inst).prbs, 0.0),
]:
    met = np.minimum(np.sum(inst.value * prbs, axis=1), desired) / desired
    rows.append((name, utilities(inst, prbs).sum() / opt, met.mean(), time_s * 1e3))
df = pd.DataFrame(rows, columns=["mechanism", "efficiency", "satisfied demand", "time (ms)"])
print(markdown_table(df, floatfmt=".3f"))
