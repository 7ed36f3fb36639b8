"""The engine against queueing theory: every simulated mean must fall inside its 95%
Student-t CI across replications around the closed form (M/M/1 and M/M/c: Erlang C /
Pollaczek-Khinchine; M/D/1: Pollaczek-Khinchine with SCV 0; tandem: Jackson 1957)."""

import pytest

from netsim import validate
from netsim.runner import rep_seed
from netsim.scenario import run_replication
from queueing.scenario import MM1, QueueConfig, summarize

METRICS = ["wait", "sojourn", "queue_length", "number_in_system", "utilisation"]


def simulate(reps, **cfg):
    import pandas as pd

    config = validate(QueueConfig, cfg)
    frames = [run_replication(MM1, config, rep_seed(2024, r), r) for r in range(reps)]
    return summarize(pd.concat(frames, ignore_index=True))


def assert_in_ci(summary):
    bad = summary[~summary["theory_in_ci"]]
    assert bad.empty, bad[["station", "metric", "mean", "ci_low", "ci_high", "theory"]].to_string()


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.9])
def test_mm1_matches_closed_form(rho):
    s = simulate(12, arrival_rate=rho, horizon=20_000 if rho < 0.9 else 40_000, warmup=2_000)
    assert set(s["metric"]) == set(METRICS)
    assert_in_ci(s)
    # and the CI is informative: within 8% of the closed form at rho = 0.9
    assert (s["ci_high"] - s["ci_low"]).max() / s["theory"].max() < 0.16


def test_mmc_erlang_c_at_rho_09():
    s = simulate(10, arrival_rate=2.7, stations=[{"servers": 3, "service_rate": 1.0}],
                 horizon=20_000, warmup=2_000)  # fmt: skip
    assert_in_ci(s)


def test_md1_pollaczek_khinchine():
    s = simulate(10, arrival_rate=0.8, service="deterministic", horizon=20_000, warmup=2_000)
    assert_in_ci(s)


def test_tandem_jackson():
    s = simulate(
        10, arrival_rate=0.8,
        stations=[{"servers": 1, "service_rate": 1.0}, {"servers": 2, "service_rate": 0.6}],
        horizon=20_000, warmup=2_000,
    )  # fmt: skip
    assert len(s) == 2 * len(METRICS) + 1
    assert_in_ci(s)


def test_bad_configs():
    from netsim import ConfigError

    with pytest.raises(ConfigError, match="rho=1"):
        validate(QueueConfig, {"arrival_rate": 1.0})
    with pytest.raises(ConfigError, match="warmup"):
        validate(QueueConfig, {"warmup": 10, "horizon": 5})
    with pytest.raises(ConfigError, match="deterministic"):
        validate(QueueConfig, {"service": "deterministic", "stations": [{"servers": 2}]})
