"""The flight dataset generator: determinism, content, labels and bad input."""

import numpy as np
import pandas as pd
import pytest

from netsim import ConfigError, validate
from satellite.dataset import DatasetConfig, ProviderConfig, WorldConfig, generate_dataset
from satellite.links import BLOCKED_DB
from satellite.predict import classify, future

SMALL = DatasetConfig(
    world=WorldConfig(providers=[ProviderConfig()], hours=8.0),
    flights=3,
    min_km=300.0,
    max_km=700.0,
)


@pytest.fixture(scope="module")
def data():
    return generate_dataset(SMALL, 11)


def test_same_seed_gives_an_identical_dataset(data):
    again = generate_dataset(SMALL, 11)
    pd.testing.assert_frame_equal(data, again)
    other = generate_dataset(SMALL, 12)
    assert not data["esn0_db"].equals(other["esn0_db"])


def test_dataset_content(data):
    need = {
        "flight",
        "t_s",
        "lat_deg",
        "lon_deg",
        "alt_m",
        "speed_mps",
        "heading_deg",
        "el_deg",
        "az_deg",
        "beam",
        "off_axis_deg",
        "cn0_dbhz",
        "esn0_db",
        "modcod",
        "beam_load",
        "throughput_bps",
        "roll_deg",
    }
    assert need <= set(data.columns)
    assert data["flight"].nunique() == 3
    for _, g in data.groupby("flight"):
        assert np.all(np.diff(g["t_s"]) == 1.0)
    ok = data["esn0_db"] > BLOCKED_DB
    assert np.allclose(data.loc[ok, "cn0_dbhz"] - data.loc[ok, "esn0_db"], 80.0)  # 100 Msym/s
    assert data["el_deg"].between(10.0, 90.0).all()  # above the mask
    assert (data["esn0_db"] > 3.0).mean() > 0.8


def test_label_is_the_class_h_seconds_ahead_within_each_flight(data):
    h = 30
    fut = future(data, h)
    for _, g in data.groupby("flight"):
        idx = g.index.to_numpy()
        assert np.allclose(fut[idx[:-h]], g["esn0_db"].to_numpy()[h:])
        assert np.all(np.isnan(fut[idx[-h:]]))
    assert np.array_equal(classify([-3.0, 0.0, 6.0, np.nan]), [0, 1, 2, 0])
    with pytest.raises(ValueError, match="increasing"):
        classify([1.0], edges=(3.0, 1.0))


def test_bad_dataset_config():
    with pytest.raises(ConfigError, match="providers"):
        validate(DatasetConfig, {"providers": [7]})
    with pytest.raises(ConfigError, match="max_km"):
        validate(DatasetConfig, {"min_km": 900, "max_km": 500})
    with pytest.raises(ConfigError, match="leo provider"):
        validate(ProviderConfig, {"kind": "leo", "tle_set": "geo"})


def test_real_log_csv_round_trip(data, tmp_path):
    """A log in the documented CSV format (time, position, altitude, speed, heading, Es/N0)
    loads back with the same Es/N0 and, given the GEO satellite, the same look angles."""
    from datetime import UTC, datetime, timedelta

    from satellite.dataset import load_link_log
    from satellite.predict import dataset_features

    one = data[data["flight"] == data["flight"].iloc[0]]
    cols = ["flight", "lat_deg", "lon_deg", "alt_m", "speed_mps", "heading_deg", "esn0_db"]
    log = one[cols].assign(time_s=one["t_s"])
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    epoch = SMALL.world.epoch + timedelta(seconds=float(one["t_s"].iloc[0]))
    back = load_link_log(path, satellite="EUTELSAT KA-SAT 9A", epoch=epoch)
    assert len(back) == len(one)
    assert np.allclose(back["esn0_db"], one["esn0_db"])
    assert np.allclose(back["el_deg"], one["el_deg"], atol=0.01)
    assert len(dataset_features(back)) == len(back)
    with pytest.raises(ValueError, match="esn0_db"):
        log.drop(columns="esn0_db").to_csv(tmp_path / "bad.csv", index=False)
        load_link_log(tmp_path / "bad.csv", epoch=datetime(2021, 8, 5, tzinfo=UTC))
