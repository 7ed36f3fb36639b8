"""The ``mohaf`` study (issue 5): MOHAF against greedy, first-price, Vickrey, random and the
optimum on the Google cluster trace sample, all scored on the same objective; weight ablation,
price convergence and runtime scaling. ``netsim run mohaf``."""

from auction.scenario import MohafStudyConfig, plot, run, summarize
from netsim import Scenario

SCENARIO = Scenario(
    name="mohaf",
    schema=MohafStudyConfig,
    run=run,
    preset="scenarios:mohaf.yaml",
    plot=plot,
    summarize=summarize,
    description="MOHAF hierarchical multi-objective auction vs baselines on the Google trace",
)
