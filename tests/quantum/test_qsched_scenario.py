"""The QoS config, the model factory and the quantum_qos study end to end (tiny config)."""

import numpy as np
import pandas as pd
import pytest

from netsim import ConfigError, RunContext, validate
from netsim.rng import stream
from netsim.scenario import load_scenario, resolve
from quantum.scenario import QoSConfig, build_network, make_workload, run_point


@pytest.mark.parametrize(
    "data, match",
    [
        ({"f_min": 1.2}, "f_min"),
        ({"repeater": {"comm": 0}}, "repeater.comm"),
        ({"end_node": {"storage": -1}}, "end_node.storage"),
        ({"topology": "ring"}, "topology"),
        ({"periods": [0, 16]}, "periods"),
        ({"schedulers": ["PTS-NP-EDF", "PTS-NP-EDF"]}, "schedulers"),
        ({"schedulers": ["FIFO"]}, "schedulers"),
        ({"slot_s": 0}, "slot_s"),
    ],
)
def test_bad_config_is_one_clear_line(data, match):
    with pytest.raises(ConfigError, match=match) as err:
        validate(QoSConfig, data)
    assert "\n" not in str(err.value)


def test_network_factory_defaults():
    g = build_network(validate(QoSConfig, {"topology": "symm"}))
    assert g.nodes[0]["comm_qubits"] == 1 and g.nodes[0]["storage_qubits"] == 3
    assert g.nodes[0]["coherence_s"] == 1.5
    s = build_network(validate(QoSConfig, {"topology": "surfnet"}))
    assert s.nodes["Asd001b"]["coherence_s"] == 60.0
    assert s.edges["Asd001b", "Asd002a"]["capabilities"] == ((0.999, 1400.0),)


def test_workloads_nest_across_loads_and_rates_follow_the_period():
    cfg8 = validate(QoSConfig, {"topology": "H", "demands": 8, "repeater": {"comm": 2}})
    cfg4 = validate(QoSConfig, {"topology": "H", "demands": 4, "repeater": {"comm": 2}})
    g = build_network(cfg8)
    w8 = make_workload(g, cfg8, stream(3, "w"))
    w4 = make_workload(g, cfg4, stream(3, "w"))
    assert [(o.demand.src, o.demand.dst, o.period) for o in w4] == [
        (o.demand.src, o.demand.dst, o.period) for o in w8[:4]
    ]
    for o in w8:
        assert o.demand.rate_hz == pytest.approx(1 / (o.period * cfg8.slot_s))
        if not o.reason:
            assert o.period >= o.plan.makespan and o.period in cfg8.periods


def test_run_point_is_deterministic_and_consistent():
    cfg = validate(
        QoSConfig,
        {
            "topology": "star",
            "demands": 5,
            "f_min": 0.55,
            "hyperperiods": 4,
            "repeater": {"comm": 2},
        },
    )
    a, b = run_point(cfg, 11), run_point(cfg, 11)
    pd.testing.assert_frame_equal(a, b)
    wide = a.pivot(index="scheduler", columns="metric", values="value")
    assert set(wide.index) == {"PTS-NP-EDF", "RCPSP-NP-EDF", "RCPSP-NP-FPR", "RCPSP-PB-EDF"}
    assert (wide["admitted"] <= wide["servable"]).all()
    assert (wide["throughput_hz"] <= wide["scheduled_rate_hz"] + 1e-9).all()
    assert ((wide["fidelity"] >= 0.55) | wide["fidelity"].isna()).all()  # worst-case planning


def _study_end_to_end(tmp_path, topologies):
    sc = load_scenario("quantum_qos")
    res = resolve(
        "quantum_qos",
        [
            f"topologies=[{', '.join(topologies)}]",
            "f_min_nv=[0.55]",
            "f_min_surfnet=[0.98]",
            "loads_nv=[2, 4]",
            "loads_surfnet=[3]",
            "gap_instances=1",
            "base.hyperperiods=2",
        ],
    )
    df = sc.run(res.config, RunContext(seed=0, workdir=tmp_path))
    assert {"topology", "f_min", "load", "scheduler", "metric", "value"} <= set(df.columns)
    assert set(df["topology"]) == set(topologies)
    gaps = df[df["metric"] == "gap_optimum"]
    heur = df[df["metric"] == "gap_heuristic"]
    assert len(gaps) and (gaps["value"].to_numpy() >= heur["value"].to_numpy()).all()
    df.insert(0, "rep", 0)
    summary = sc.summarize(df)
    assert "gap" in set(summary["metric"])
    sc.plot(df, res.config, tmp_path)
    assert (tmp_path / "qos_star.png").stat().st_size > 0 and (tmp_path / "qos_gap.png").exists()
    assert np.isfinite(df[df["metric"] == "admitted"]["value"]).all()


def test_study_runs_end_to_end_on_the_star(tmp_path):
    """Fast variant of the end-to-end check (the star only, about 2 s)."""
    _study_end_to_end(tmp_path, ["star"])


@pytest.mark.slow
def test_study_runs_end_to_end(tmp_path):
    """Star and SURFnet (about 10 s: SURFnet's protocol searches dominate)."""
    _study_end_to_end(tmp_path, ["star", "surfnet"])


@pytest.mark.parametrize(
    "data, match",
    [
        ({"f_min_nv": [0.6, 1.5]}, "f_min_nv"),
        ({"f_min_surfnet": [0.2]}, "f_min_surfnet"),
        ({"loads_nv": [0]}, "loads_nv"),
        ({"periods_surfnet": [0, 8]}, "periods_surfnet"),
        ({"topologies": ["ring"]}, "topologies"),
    ],
)
def test_bad_study_config_is_rejected_up_front(data, match):
    from scenarios.quantum_qos import QoSStudyConfig

    with pytest.raises(ConfigError, match=match) as err:
        validate(QoSStudyConfig, data)
    assert "\n" not in str(err.value)
