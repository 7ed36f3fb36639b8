"""Chakra trace replay: in-order lanes with data dependencies (hand-computed makespans), the
loader on the shared trace, and the chakra_replay study end to end on a synthetic trace."""

import json
from pathlib import Path

import pytest

from netsim import ConfigError, validate
from netsim.runner import run_scenario
from netsim.scenario import Resolved
from scenarios.chakra_replay import SCENARIO, ChakraReplayConfig
from transport.chakra import (
    BUNDLED_TRACE,
    ChakraNode,
    collective_bytes,
    load_workload_graph,
    replay,
)

TRACE = BUNDLED_TRACE


def _graph(comm_s):
    # cpu A(1) -> gpu B(2) -> comm C(comm_s); gpu D(4) after B on the gpu lane
    nodes = [
        ChakraNode(1, "A", "cpu", 1.0, ()),
        ChakraNode(2, "B", "gpu", 2.0, (1,)),
        ChakraNode(3, "C", "comm", 9.0, (2,), "ring_allreduce"),
        ChakraNode(4, "D", "gpu", 4.0, ()),
    ]
    return replay(nodes, lambda n: comm_s)


def test_replay_hand_computed():
    """A 0-1, B 1-3, D 3-7 (in order after B), C 3-3+c: makespan max(7, 3+c); the comm lane
    is exposed only past t = 7."""
    r = _graph(3.0)
    assert (r.iteration_s, r.comm_s, r.exposed_comm_s) == (7.0, 3.0, 0.0)
    assert r.start_s[4] == 3.0 and r.finish_s[3] == 6.0
    r = _graph(5.0)
    assert (r.iteration_s, r.exposed_comm_s) == (8.0, pytest.approx(1.0))
    assert r.compute_s == 6.0


def test_replay_detects_a_cycle():
    nodes = [ChakraNode(1, "a", "gpu", 1.0, (2,)), ChakraNode(2, "b", "gpu", 1.0, (1,))]
    with pytest.raises(ValueError, match="data_deps"):
        replay(nodes, lambda n: 0.0)


def test_loader_bad_input(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"workload_graph": [{"Id": 1, "NodeType": 4, "data_deps": [7],
                                                 "Name": "x", "runtime": 1}]}))
    with pytest.raises(ValueError, match="data_deps"):
        load_workload_graph(p)
    p.write_text(json.dumps({"nodes": []}))
    with pytest.raises(ValueError, match="workload_graph"):
        load_workload_graph(p)
    with pytest.raises(ValueError, match="reference_algbw_Bps"):
        collective_bytes(ChakraNode(1, "c", "comm", 1.0, (), "ring_allreduce"), 0.0)


def test_shared_trace_loads_and_replays():
    nodes = load_workload_graph(TRACE)
    colls = [n for n in nodes if n.collective]
    assert len(nodes) == 3664
    assert [n.collective for n in colls].count("ring_allreduce") == 5 and len(colls) == 7
    r = replay(nodes, lambda n: n.runtime_s)
    lane_sums = {lane: sum(n.runtime_s for n in nodes if n.lane == lane) for lane in ("cpu", "gpu")}
    assert r.iteration_s >= max(lane_sums.values())
    assert r.comm_s == pytest.approx(sum(n.runtime_s for n in colls))
    slow = replay(nodes, lambda n: n.runtime_s * 100)  # comm can no longer hide
    assert slow.iteration_s > r.iteration_s and slow.exposed_comm_s > 0


def _synthetic(path: Path) -> Path:
    """Forward (gpu), two bucketed all-reduces overlapping the backward, an optimiser step."""
    g = [
        {"Id": 1, "Name": "fwd", "NodeType": 4, "runtime": 2000, "data_deps": []},
        {"Id": 2, "Name": "bwd1", "NodeType": 4, "runtime": 1000, "data_deps": [1]},
        {"Id": 3, "Name": "ncclKernel_AllReduce_RING", "NodeType": 7, "runtime": 400,
         "data_deps": [2]},
        {"Id": 4, "Name": "bwd2", "NodeType": 4, "runtime": 1000, "data_deps": [2]},
        {"Id": 5, "Name": "ncclKernel_AllReduce_RING", "NodeType": 7, "runtime": 400,
         "data_deps": [4]},
        {"Id": 6, "Name": "optim", "NodeType": 4, "runtime": 300, "data_deps": [3, 5]},
    ]
    for n in g:
        n["is_cpu_op"] = False
    path.write_text(json.dumps({"workload_graph": g}))
    return path


def test_study_end_to_end(tmp_path):
    cfg = validate(
        ChakraReplayConfig,
        {"trace": str(_synthetic(tmp_path / "g.json")), "leaves": 2, "spines": 2,
         "hosts_per_leaf": 2, "policies": ["ecmp", "minimal_split"], "size_scales": [1.0, 32.0]},
    )
    res, summary = run_scenario(Resolved(SCENARIO, cfg, 3, 2, "test"), tmp_path / "o",
                                progress=False)
    for name in ("table_iteration.md", "table_iteration_over_lb.csv", "iteration.png"):
        assert (tmp_path / "o" / name).is_file()
    ratio = res[res["metric"] == "iteration_over_lb"]
    assert (ratio["value"] >= 1 - 1e-9).all()
    it = res[res["metric"] == "iteration_ms"].set_index(["rep", "policy", "size_scale"])["value"]
    # 4.3 ms of compute; the last all-reduce and the optimiser step are exposed, so the
    # iteration exceeds it and grows with the bytes
    assert (it.xs(1.0, level="size_scale") > 4.3).all()
    assert (it.xs(32.0, level="size_scale").values > it.xs(1.0, level="size_scale").values).all()
    again, _ = run_scenario(Resolved(SCENARIO, cfg, 3, 2, "test"), tmp_path / "p", progress=False)
    assert again["value"].tolist() == res["value"].tolist()


@pytest.mark.parametrize(
    ("override", "match"),
    [({"size_scales": [0.0]}, "size_scales"), ({"policies": ["flowlet"]}, "policies"),
     ({"reference_algbw_GBps": -1}, "reference_algbw_GBps"), ({"trace": "/nope.json"}, "trace")],
)
def test_bad_config(override, match):
    with pytest.raises(ConfigError, match=match):
        validate(ChakraReplayConfig, override)
