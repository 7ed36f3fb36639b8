"""Real ADS-B tracks as held-out flights (issue 17 §3): replayed in the world at their UTC
time of day, cropped to the world's region; train-on-generated / test-on-real scoring."""

import numpy as np
import pandas as pd
import pytest
from test_sat_no_leak import _frame

from satellite.dataset import WorldConfig, adsb_flights
from satellite.predict import classify, future, scores, train_test_scores


def test_tracks_keep_their_clock_time_and_stay_in_the_region():
    w = WorldConfig()
    fl = adsb_flights(w, ["elal747", "switzerland"], min_s=600)
    la0, la1, lo0, lo1 = w.region
    for tr in fl:
        assert np.all((tr.lat_deg >= la0) & (tr.lat_deg <= la1))
        assert np.all((tr.lon_deg >= lo0) & (tr.lon_deg <= lo1))
        assert len(tr) >= 600 and np.all(np.diff(tr.t_s) == 1.0)
        assert np.isnan(tr.time_to_turn_s).all()  # no flight plan for a real track
    el = [tr for tr in fl if tr.name.startswith("elal747")]
    sw = [tr for tr in fl if tr.name.startswith("switzerland")]
    assert len(el) == 1 and len(sw) > 20
    # El Al 1747 left Rome at 09:28:10 UTC; the Swiss window is 12:00-12:30 UTC
    assert 9 * 3600 + 28 * 60 <= el[0].t_s[0] < 10 * 3600
    assert all(12 * 3600 <= tr.t_s[0] and tr.t_s[-1] <= 12.6 * 3600 for tr in sw)
    # the El Al track leaves the default region (lon > 28°E) before Tel Aviv
    assert el[0].lon_deg.max() <= lo1


def test_short_world_moves_tracks_earlier_and_qantas_needs_its_region():
    short = adsb_flights(WorldConfig(hours=8), ["switzerland"])
    assert short and all(tr.t_s[-1] <= 8 * 3600 for tr in short)
    assert adsb_flights(WorldConfig(), ["qantas747"]) == []  # Sydney is not in Europe
    sydney = WorldConfig(region=(-40.0, -25.0, 140.0, 160.0))
    assert adsb_flights(sydney, ["qantas747"], min_s=300)
    with pytest.raises(ValueError, match="real_flights"):
        adsb_flights(WorldConfig(), ["concorde"])
    with pytest.raises(ValueError, match="real_flights: no switzerland"):
        adsb_flights(WorldConfig(region=(0.0, 10.0, 0.0, 10.0)), ["switzerland"])


def test_train_test_scores_persistence_rows_and_groups():
    a = _frame(seed=1)
    b = _frame(seed=2).assign(flight="F0002")
    train = pd.concat([a, b.assign(flight="F0003")], ignore_index=True)
    t = train_test_scores(train, b, 30, train_stride=2, seed=0)
    assert list(t["model"]) == ["gradient_boosting", "persistence"]
    fut = future(b, 30)
    ok = np.isfinite(fut)
    assert (t["rows"] == ok.sum()).all() and (t["flights"] == 1).all()
    now = classify(b["esn0_db"].to_numpy())
    ref = scores(classify(fut[ok]), now[ok], (now[ok] == 0).astype(float))
    got = t[t["model"] == "persistence"].iloc[0]
    assert all(got[k] == pytest.approx(v, nan_ok=True) for k, v in ref.items())
    shares = np.bincount(classify(fut[ok]), minlength=3) / ok.sum()
    assert np.allclose(
        got[["share_outage", "share_degraded", "share_good"]].to_numpy(float), shares
    )
    # per group: the same fitted model, scored on each group's rows
    half = b.assign(half=np.where(np.arange(len(b)) < 100, "early", "late"))
    g = train_test_scores(train, half, 30, train_stride=2, seed=0, by="half")
    assert list(dict.fromkeys(g["group"])) == ["all", "early", "late"]
    rows = g[g["model"] == "persistence"].set_index("group")["rows"]
    assert rows["early"] + rows["late"] == rows["all"] == ok.sum()
    gb = g[(g["model"] == "gradient_boosting") & (g["group"] == "all")].iloc[0]
    assert gb["macro_f1"] == pytest.approx(t.iloc[0]["macro_f1"])
