"""The ``qos_plan`` routing policy (the QoS scheduler's plan executed live) and the
quantum_routing study's qos_plan and finite-key options."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from netsim import ConfigError, RunContext, validate
from quantum.protocol_search import SearchParams
from quantum.routing import planning_graph, qos_plan, route_requests, shortest_route


def _line(qubits=1):
    g = nx.path_graph(3)
    nx.set_edge_attributes(g, 1.0, "length_km")
    cap = {}
    for u, v in g.edges:
        cap[(u, v)] = cap[(v, u)] = (0.95, 100.0)  # window 1/R = 10 slots of 1 ms
    return g, planning_graph(g, cap, qubits, None)


@pytest.mark.parametrize("rate_hz, both", [(50.0, True), (52.0, True), (60.0, False)])
def test_plan_admits_what_fits_in_the_period(rate_hz, both):
    """Demands (0,1) and (1,2) share node 1's only qubit; each holds it for a 10-slot link
    window, so both fit iff 2·10 ≤ period = ceil(1000/rate) slots (20, 20, 17)."""
    g, h = _line()
    params = SearchParams(slot_s=1e-3, max_distill_rounds=0)
    plan = qos_plan(h, [(0, 1), (1, 2)], 0.9, rate_hz, params)
    assert 2 * 10 <= math.ceil(1000 / rate_hz) if both else 2 * 10 > math.ceil(1000 / rate_hz)
    assert plan == ([[0, 1], [1, 2]] if both else [[0, 1], None])


def test_plan_has_no_route_when_no_protocol_reaches_f_min():
    g, h = _line(qubits=2)
    params = SearchParams(slot_s=1e-3, max_distill_rounds=0)
    assert qos_plan(h, [(0, 2)], 0.9, 10.0, params) == [[0, 1, 2]]
    assert qos_plan(h, [(0, 2)], 0.96, 10.0, params) == [None]  # links give F = 0.95


def test_policy_returns_exactly_the_plans_routes():
    g = nx.cycle_graph(6)
    nx.set_edge_attributes(g, 1.0, "length_km")
    pairs = [(0, 3), (1, 2), (4, 1)]
    plan = [[0, 5, 4, 3], None, [1, 0, 5, 4]]  # a long way round, a gap, a reversed path
    out = route_requests(g, pairs, "qos_plan", plan=plan)
    assert out[0] == plan[0]
    assert out[1] == shortest_route(g, 1, 2)  # unplanned: shortest (the default)
    assert out[2] == plan[2][::-1]  # oriented src → dst, same path
    assert route_requests(g, pairs, "qos_plan", plan=plan, unplanned="reject")[1] is None
    with pytest.raises(ValueError, match="plan"):
        route_requests(g, pairs, "qos_plan")
    with pytest.raises(ValueError, match="missing edge"):
        route_requests(g, [(0, 2)], "qos_plan", plan=[[0, 2]])
    with pytest.raises(ValueError, match="does not join"):
        route_requests(g, [(0, 2)], "qos_plan", plan=[[0, 1]])
    with pytest.raises(ValueError, match="unplanned"):
        route_requests(g, pairs, "qos_plan", plan=plan, unplanned="drop")


def test_study_runs_qos_plan_and_finite_key():
    from scenarios.quantum_routing import RoutingStudy, plan_routes, run, surfnet_core

    cfg = validate(RoutingStudy, {"pairs": 12, "horizon_s": 0.02,
                                  "policies": ["shortest", "qos_plan"],
                                  "finite_key": {"block_bits": 1e5}})
    df = run(cfg, RunContext(seed=3))
    wide = df.pivot_table(index="policy", columns="metric", values="value")
    assert set(wide.index) == {"shortest", "qos_plan"}
    assert wide.loc["shortest", "routed_fraction"] == 1.0
    # reject: the plan's admitted share of pairs is routed, nothing else
    from netsim.rng import stream
    from quantum.network import edge_links
    from scenarios.quantum_routing import draw_pairs

    g = surfnet_core()
    pairs = draw_pairs(sorted(g.nodes), 12, stream(3, "quantum_routing.pairs"))
    plan = plan_routes(g, pairs, cfg, edge_links(g, cfg.network))
    share = sum(p is not None for p in plan) / 12
    assert 0 < share < 1
    assert wide.loc["qos_plan", "routed_fraction"] == pytest.approx(share)
    assert (wide["key_rate_finite_bps"] >= 0).all()
    assert "key_rate_finite_bps_minus_shortest" in wide.columns


def test_study_validation_names_the_field():
    from scenarios.quantum_routing import RoutingStudy

    with pytest.raises(ConfigError, match="eps_sec"):
        validate(RoutingStudy, {"finite_key": {"eps_sec": 0}})
    with pytest.raises(ConfigError, match="block_bits"):
        validate(RoutingStudy, {"finite_key": {"block_bits": 1}})
    with pytest.raises(ConfigError, match="f_min"):
        validate(RoutingStudy, {"policies": ["qos_plan"], "network": {"f_min": 0.2}})
    with pytest.raises(ConfigError, match="policies"):
        validate(RoutingStudy, {"policies": ["plan"]})
    with pytest.raises(ConfigError, match="unplanned"):
        validate(RoutingStudy, {"qos_plan": {"unplanned": "drop"}})
