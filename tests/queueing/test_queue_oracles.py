"""The engine against queueing theory (M/M/1 and M/M/c: Erlang C, Kleinrock Vol. 1 §3.2 and
§3.5; M/D/1: Pollaczek-Khinchine with SCV 0; tandem: Jackson, Oper. Res. 5(4), 1957).

Seed-robust criterion. Each test runs ``REPS`` = 30 independent replications and, for every
simulated mean (wait, sojourn, queue length, number in system, utilisation, per station),
computes the Student-t statistic ``t = (mean - theory) / (s / √REPS)`` across replications.
The test fails when ``|t| > t_{1-α/2, REPS-1}`` with ``α = 1e-4`` per comparison (critical
value 4.51). With 36 comparisons in this file, the Bonferroni bound puts the probability of a
false alarm below 36 · 1e-4 = 0.36 % per full run for any seed base (the real rate is lower:
the metrics of one station are strongly correlated). Every test also asserts that its
acceptance band ``t_crit · s/√REPS`` stays narrow relative to the closed form (the widest is
the mean wait: about 10 % at ρ = 0.5 and 15-24 % at ρ = 0.9; utilisation is within 2 %; the
limits are 1.5 times the widest band seen over the seed bases), and
``test_criterion_catches_a_wrong_closed_form`` shows that a 10 % error fails.
``NETSIM_ORACLE_SEED`` changes the seed base (default 2024); ``queueing/README.md`` lists the
largest ``|t|`` seen over the seed bases of ``seed_robustness.py``.
"""

import os

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from netsim import ConfigError, validate
from netsim.rng import derive_seed
from netsim.scenario import run_replication
from queueing.scenario import QueueConfig
from scenarios.queues import MM1

METRICS = ["wait", "sojourn", "queue_length", "number_in_system", "utilisation"]
REPS = 30
ALPHA = 1e-4
T_CRIT = float(stats.t.ppf(1 - ALPHA / 2, REPS - 1))
SEED_BASE = int(os.environ.get("NETSIM_ORACLE_SEED", "2024"))


def simulate(test: str, **cfg) -> pd.DataFrame:
    """Per (station, metric): REPS, mean, s, theory, t statistic and acceptance band."""
    config = validate(QueueConfig, cfg)
    frames = [
        run_replication(MM1, config, derive_seed(SEED_BASE, test, r), r) for r in range(REPS)
    ]
    df = pd.concat(frames, ignore_index=True)
    df = df[df["kind"] == "mean"]
    g = df.groupby(["station", "metric"], sort=True)
    out = g.agg(n=("value", "size"), mean=("value", "mean"), s=("value", "std"),
                theory=("theory", "first")).reset_index()
    se = out["s"] / np.sqrt(out["n"])
    out["t"] = (out["mean"] - out["theory"]) / se
    out["band"] = T_CRIT * se / out["theory"].abs()  # relative acceptance half-width
    return out


def assert_matches_theory(s: pd.DataFrame, band: float) -> None:
    assert (s["n"] == REPS).all()
    bad = s[s["t"].abs() > T_CRIT]
    assert bad.empty, f"|t| > {T_CRIT:.2f}:\n{bad.to_string()}"
    assert s["band"].max() < band, f"uninformative: band {s['band'].max():.3f} >= {band}"


@pytest.mark.parametrize(("rho", "horizon", "band"), [(0.5, 6_000, 0.20), (0.8, 8_000, 0.28),
                                                      (0.9, 14_000, 0.35)])
def test_mm1_matches_closed_form(rho, horizon, band):
    s = simulate(f"mm1-{rho}", arrival_rate=rho, horizon=horizon, warmup=2_000)
    assert set(s["metric"]) == set(METRICS)
    assert_matches_theory(s, band)


def test_mmc_erlang_c_at_rho_09():
    s = simulate("mmc", arrival_rate=2.7, stations=[{"servers": 3, "service_rate": 1.0}],
                 horizon=7_000, warmup=1_000)
    assert_matches_theory(s, 0.32)


def test_md1_pollaczek_khinchine():
    s = simulate("md1", arrival_rate=0.8, service="deterministic", horizon=7_000, warmup=1_000)
    assert_matches_theory(s, 0.18)


def test_tandem_jackson():
    s = simulate(
        "tandem", arrival_rate=0.8,
        stations=[{"servers": 1, "service_rate": 1.0}, {"servers": 2, "service_rate": 0.6}],
        horizon=7_000, warmup=1_000,
    )
    assert len(s) == 2 * len(METRICS) + 1
    assert_matches_theory(s, 0.20)


def test_criterion_catches_a_wrong_closed_form():
    """The criterion has power: a closed form off by 10 % at ρ = 0.5 fails."""
    s = simulate("mm1-0.5", arrival_rate=0.5, horizon=6_000, warmup=2_000)
    s["theory"] *= 1.10
    se = s["s"] / np.sqrt(s["n"])
    assert ((s["mean"] - s["theory"]).abs() / se > T_CRIT).any()


def test_bad_configs():
    with pytest.raises(ConfigError, match="rho=1"):
        validate(QueueConfig, {"arrival_rate": 1.0})
    with pytest.raises(ConfigError, match="warmup"):
        validate(QueueConfig, {"warmup": 10, "horizon": 5})
    with pytest.raises(ConfigError, match="deterministic"):
        validate(QueueConfig, {"service": "deterministic", "stations": [{"servers": 2}]})
