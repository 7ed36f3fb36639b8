"""``netsim run collective_transport``: ECMP vs packet spraying vs minimal-split single-path
routing of collectives on leaf-spine fabrics (model and figures in :mod:`transport.scenario`)."""

from netsim import Scenario
from transport.scenario import CollectiveTransportConfig, plot, run, summarize

SCENARIO = Scenario(
    name="collective_transport",
    schema=CollectiveTransportConfig,
    run=run,
    preset="scenarios:collective_transport.yaml",
    plot=plot,
    summarize=summarize,
    description="collectives on leaf-spine: ECMP vs spraying vs minimal-split single path",
)
