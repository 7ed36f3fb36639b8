"""The CoMP network on the engine: determinism, conservation invariants, bad configs, the
LoS table against the corner closed form, and the ``comp_market`` study end to end."""

import numpy as np
import pandas as pd
import pytest

from netsim import ConfigError, Simulation, validate
from ran.comp.geometry import StreetGrid
from ran.comp.model import los_table
from ran.comp.radio import primary_overlap, serving_sinr
from ran.comp.scenario import CompConfig, build

SMALL = {
    "blocks_x": 3,
    "blocks_y": 3,
    "n_ues": 30,
    "horizon": 3.0,
    "vehicle_fraction": 0.8,
    # the cvxpy Fisher program is tested on its own (test_comp_capped); leave it out here
    "policies": ["market", "bilateral", "optimum", "equal_share", "fair_share",
                 "second_price", "no_comp"],
}


def _run(seed, **over):
    cfg = validate(CompConfig, {**SMALL, **over})
    sim = Simulation(seed)
    net = build(sim, cfg)
    sim.run(until=cfg.horizon)
    return net


def test_same_seed_is_bit_identical_and_seeds_differ():
    fast = {"horizon": 1.5, "policies": ["market", "bilateral", "fair_share", "no_comp"]}
    a, b, c = _run(5, **fast), _run(5, **fast), _run(6, **fast)
    pd.testing.assert_frame_equal(a.summary(), b.summary())
    pd.testing.assert_frame_equal(a.epoch_frame(), b.epoch_frame())
    assert np.array_equal(a.rates, b.rates)
    assert not np.array_equal(a.rates, c.rates)


def test_allocations_respect_spare_prbs_every_epoch():
    cfg = validate(CompConfig, {**SMALL, "horizon": 1.5})
    sim = Simulation(3)
    net = build(sim, cfg)
    checked = 0
    while sim.now < cfg.horizon - 1e-9:
        sim.run(until=sim.now + cfg.market_interval_s)
        ep = net.last_epoch
        inst = ep.get("instance")
        if inst is None:
            continue
        for name, out in ep["outcomes"].items():
            sold = inst.per_bs(out.prbs)
            assert np.all(sold <= inst.spare + 1e-9), name
            assert np.all(out.prbs >= 0)
        assert np.all(ep["outcomes"]["market"].bids.sum(axis=1) <= inst.budget * (1 + 1e-9))
        assert not ep["outcomes"]["no_comp"].prbs.any()
        assert np.all(net.used + net.spare <= cfg.n_prbs + 1e-9)
        assert np.all(net.rates >= 0)
        checked += 1
    assert checked > 5
    # without CoMP a UE has its primary link only, interfered by primary traffic only
    j = net.names.index("no_comp")
    overlap = primary_overlap(net.used, np.zeros(net.n_bs), cfg.n_prbs)
    sinr = serving_sinr(net.rx_w, net.ho.serving, overlap, net.noise_w)
    assert np.allclose(net.rates[:, j] * 1e6, net.prim_prbs * net._rate(sinr))


def test_los_table_switches_at_the_geometric_corner():
    grid = StreetGrid(2, 2, 100.0, 20.0)
    bs = np.array([[100.0, 150.0]])  # on the vertical street x = 100, 50 m above y = 100
    table = los_table(grid, bs, 0.5)
    # horizontal segment (1, 1) runs from (100, 100) to (200, 100): id = j*bx + i = 3
    col = table[3, :, 0]
    s = np.linspace(0.0, 100.0, col.size)
    s_star = 10.0 / (1 - 10.0 / 50.0)  # (w/2)(1/s + 1/D) = 1 -> 12.5 m
    assert np.all(col[s <= s_star]) and not np.any(col[s > s_star])


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"cluster_bs": 0}, "cluster_bs"),
        ({"budget": -1.0}, "budget"),
        ({"pathloss_model": "okumura"}, "unknown path-loss model"),
        ({"handover": {"execution_s": 2.0}}, "handover.execution_s"),
        ({"street_m": 50.0}, "street_m"),
        ({"policies": ["market", "lottery"]}, "unknown policy 'lottery'"),
        ({"n_prbs": 0}, "n_prbs"),
        ({"handover": {"qin_db": -10.0}}, "qin_db"),
        ({"spare": 3}, "unknown key 'spare'"),
    ],
)
def test_bad_config(over, match):
    with pytest.raises(ConfigError, match=match):
        validate(CompConfig, {**SMALL, **over})


def test_cluster_larger_than_network_rejected():
    cfg = validate(CompConfig, {**SMALL, "blocks_x": 1, "blocks_y": 1, "cluster_bs": 9})
    with pytest.raises(ConfigError, match="cluster_bs: must be <= the number of BSs"):
        build(Simulation(0), cfg)


def test_hex_layout_and_free_space_run():
    net = _run(
        2,
        layout="hex",
        isd_m=90.0,
        pathloss_model="free_space",
        shadowing=False,
        blockage=False,
        horizon=1.0,
    )
    assert net.n_bs >= 3 and np.isfinite(net.rates).all()
