"""ran.comp: market-based short-term CoMP allocation for UEs in handover (small cells).

Setting of Mukherjee & Huberman, "Market-based short-term allocations in small cell wireless
networks": when a UE's link collapses (a corner, a vehicle), it buys extra PRBs from the BSs of
its CoMP cluster, on top of its primary link, before and after handover. The paper's rules
were not available, so the market is the proportional-share trading post of Huberman's
market-based allocation family, with price-anticipating bidders.

* :mod:`~ran.comp.pathloss` - 3GPP TR 38.901 UMi street canyon (Table 7.4.1-1), shadowing;
* :mod:`~ran.comp.geometry` - Manhattan grid, buildings, exact LoS, Manhattan and hex sites;
* :mod:`~ran.comp.mobility` - Manhattan mobility (UMTS 30.03), vehicle-blockage on/off chain;
* :mod:`~ran.comp.handover` - A3 / TTT / execution and T310 RLF (TS 38.331), engine-free;
* :mod:`~ran.comp.cho` - the industry's rival: Rel-16 conditional handover and DAPS, L3
  filtering (TS 38.331 §5.5.3.2) and ping-pongs (TR 36.839);
* :mod:`~ran.comp.radio` - band-split interference, CB nulling, Shannon-with-gap rates;
* :mod:`~ran.comp.market` - trading post, water-filling best response, bidding dynamics
  (Feldman, Lai & Zhang, EC 2005 / TPDS 2009; Zhang, ICALP 2005; Johari & Tsitsiklis 2004);
* :mod:`~ran.comp.baselines` - welfare LP, Eisenberg-Gale / proportional response (Wu & Zhang,
  STOC 2007), equal share, per-BS second-price auction, no CoMP;
* :mod:`~ran.comp.model` - the network on the engine; :mod:`~ran.comp.scenario` - its config.
"""

from .baselines import (
    eisenberg_gale,
    equal_share,
    no_comp,
    proportional_response,
    second_price,
    welfare_optimum,
)
from .cho import cho_step, daps_step, l3_filter, ping_pongs
from .geometry import StreetGrid, line_of_sight
from .handover import HandoverParams, HandoverState, handover_step
from .market import MarketInstance, best_response, run_market, symmetric_equilibrium
from .model import POLICIES, CompNetwork
from .pathloss import pathloss_db
from .scenario import CompConfig, build

__all__ = [
    "POLICIES",
    "CompConfig",
    "CompNetwork",
    "HandoverParams",
    "HandoverState",
    "MarketInstance",
    "StreetGrid",
    "best_response",
    "build",
    "cho_step",
    "daps_step",
    "eisenberg_gale",
    "equal_share",
    "handover_step",
    "l3_filter",
    "line_of_sight",
    "no_comp",
    "pathloss_db",
    "ping_pongs",
    "proportional_response",
    "run_market",
    "second_price",
    "symmetric_equilibrium",
    "welfare_optimum",
]
