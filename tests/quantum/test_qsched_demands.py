"""Demands, routing and periods."""

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantum.demands import Demand, path_length_km, period_slots, route


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"f_min": 1.01}, "f_min"),
        ({"f_min": 0.25}, "f_min"),
        ({"f_min": float("nan")}, "f_min"),
        ({"rate_hz": 0.0}, "rate_hz"),
        ({"rate_hz": -2.0}, "rate_hz"),
        ({"rate_hz": math.inf}, "rate_hz"),
        ({"dst": 0}, "differ"),
    ],
)
def test_demand_bad_input(kwargs, match):
    args = {"src": 0, "dst": 1, "f_min": 0.8, "rate_hz": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        Demand(**args)


def test_route_is_weighted_shortest_path_and_rejects_disconnected_pairs():
    g = nx.Graph()
    g.add_edge("a", "b", length_km=50.0)  # one hop but long
    g.add_edge("a", "c", length_km=5.0)
    g.add_edge("c", "b", length_km=5.0)
    g.add_node("z")
    assert route(g, Demand("a", "b", 0.7, 1.0)) == ["a", "c", "b"]
    assert path_length_km(g, ["a", "c", "b"]) == 10.0
    with pytest.raises(ValueError, match="disconnected"):
        route(g, Demand("a", "z", 0.7, 1.0))
    with pytest.raises(ValueError, match="not a node"):
        route(g, Demand("a", "q", 0.7, 1.0))


def test_period_formula():
    assert period_slots(1.0, 0.01) == 100
    assert period_slots(1.0 / (32 * 0.01), 0.01) == 32  # exact rates map back to their period
    assert period_slots(3.0, 0.01) == 34  # ceil(33.33)
    with pytest.raises(ValueError, match="rate_hz"):
        period_slots(0.0, 0.01)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 500.0), st.sampled_from([0.001, 0.01, 0.02]))
def test_period_is_the_smallest_whole_number_of_slots_covering_one_interval(rate, slot):
    p = period_slots(rate, slot)
    assert p * slot * rate >= 1 - 1e-8
    assert p == 1 or (p - 1) * slot * rate < 1
