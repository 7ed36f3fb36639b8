"""ran.slicing: O-RAN slicing with traffic classification and RBG allocation (TRACTOR).

Reproduces the setting of Groen et al., "From Classification to Optimization: Slicing and
Resource Management with TRACTOR" on a simulated 10 MHz LTE gNB (Colosseum/SCOPE style):

* :mod:`.phy` - 3GPP TS 36.213 CQI, MCS and TBS tables, RBGs, ns-3 style link adaptation;
* :mod:`.nr` - NR numerology, PRBs per carrier and 38.214 RBG sizes (not used by the envs yet);
* :mod:`.olla` - outer-loop link adaptation to a BLER target (not used by the envs yet);
* :mod:`.channel` - distance, mobility, shadowing and fading per UE;
* :mod:`.traffic` - COMMAG parametric traffic and replay of the TRACTOR phone captures;
* :mod:`.schedulers` - RR / WF / PF intra-slice schedulers, exact and vectorised over TTIs;
* :mod:`.gnb` - the sliced gNB on the engine, a KPM report every 250 ms;
* :mod:`.kpm` - the Colosseum per-UE metrics format (loader, writer, aggregation);
* :mod:`.scores` - TRACTOR's per-UE performance scores and trial statistics;
* :mod:`.fluid` - the contested cell of ``netsim/OranSlicing-v0``, batched;
* :mod:`.classify`, :mod:`.classify_torch` - traffic classification (forest, Transformer);
* :mod:`.classify_real` - a classifier trained and judged on the real logs (grouped CV);
* :mod:`.policies` - the 7 RBG moves, expert, random and tabular Q-learning;
* :mod:`.scenario` - the model's config schema and factory.

Data (``data/``): TRACTOR phone traces and KPM logs (MIT, genesys-neu/TRACTOR), a Colosseum
COMMAG excerpt (wineslab/colosseum-oran-commag-dataset), the 36.213 TBS table; see
``data/README.md``.
"""

from .gnb import SLICES, SlicingGnb, UeSpec, make_ues
from .kpm import FEATURES, KPM_COLUMNS, load_colosseum_csv, write_colosseum_csv
from .policies import TabularQ, action_mask, apply_action, expert_action
from .scenario import RanConfig, build_gnb
from .schedulers import schedule_block
from .scores import trial_statistics, ue_scores

__all__ = [
    "FEATURES",
    "KPM_COLUMNS",
    "SLICES",
    "RanConfig",
    "SlicingGnb",
    "TabularQ",
    "UeSpec",
    "action_mask",
    "apply_action",
    "build_gnb",
    "expert_action",
    "load_colosseum_csv",
    "make_ues",
    "schedule_block",
    "trial_statistics",
    "ue_scores",
    "write_colosseum_csv",
]
