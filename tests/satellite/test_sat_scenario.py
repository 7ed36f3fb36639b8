"""The satellite_handover study end to end (reduced) and its config validation."""

import pytest

from netsim import ConfigError, validate
from netsim.scenario import load_scenario, resolve
from satellite.scenario import HandoverStudyConfig

TINY = [
    "dataset.flights=6",
    "dataset.min_km=300",
    "dataset.max_km=600",
    "cv_folds=2",
    "horizons=[30]",
    "horizon_folds=2",
    "train_flights=2",
    "test_flights=1",
    "train_stride=20",
    "dataset.world.hours=8",
    "policies=[reactive,predictive]",
]


def test_preset_resolves_and_registers():
    r = resolve("satellite_handover")
    assert r.config.dataset.flights == 500 and r.config.test_flights >= 50
    assert load_scenario("satellite_handover").name == "satellite_handover"


def test_bad_study_config():
    with pytest.raises(ConfigError, match="edges_db"):
        validate(HandoverStudyConfig, {"edges_db": [3.0, 1.0]})
    with pytest.raises(ConfigError, match="policies"):
        validate(HandoverStudyConfig, {"policies": ["psychic"]})


@pytest.mark.slow
def test_study_runs_end_to_end(tmp_path):
    from netsim.runner import run_scenario

    results, summary = run_scenario(
        resolve("satellite_handover", TINY), tmp_path / "out", progress=False
    )
    kinds = set(results["kind"])
    assert {"prediction", "handover", "sample", "dataset", "ablation", "real"} <= kinds
    for f in (
        "f1_vs_horizon.png",
        "handover_policies.png",
        "timeline.png",
        "f1_table.csv",
        "forecaster.pkl",
        "f1_vs_plan_noise.png",
        "tables.md",
    ):
        assert (tmp_path / "out" / f).is_file()
    assert set(summary["part"]) >= {"prediction", "handover", "ablation", "real"}
    text = (tmp_path / "out" / "tables.md").read_text()
    assert "Real ADS-B tracks" in text and "persistence" in text and "max_elevation" not in text


def test_quick_preset_and_noise_levels():
    from pathlib import Path

    quick = Path(__file__).parents[2] / "scenarios" / "satellite_handover.quick.yaml"
    r = resolve(str(quick))
    assert r.config.dataset.flights <= 10 and r.config.noise_levels == []
    with pytest.raises(ConfigError, match="noise_levels"):
        validate(HandoverStudyConfig, {"noise_levels": [0.0, 2.0]})
