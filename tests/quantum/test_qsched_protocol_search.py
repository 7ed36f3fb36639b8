"""Protocol search (ESSS-like), the task DAG's mapping onto qubits and its fidelity model.

Oracles: Werner algebra (swapping multiplies Werner parameters; BBPSSW of Bennett et al.
1996), the depolarising decay F(t) = 1/4 + (F0 − 1/4)·exp(−t/τ) per stored qubit, a brute
force over the link capability table for single links, and structural checks of every
mapping (no qubit used twice at once, inputs before consumers).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantum.capabilities import attach_capabilities, nv_link_capabilities
from quantum.physics import bbpssw, swap_fidelity
from quantum.protocol_search import (
    DISTILL,
    LINK,
    SWAP,
    SearchParams,
    describe,
    distilled_fidelity,
    evaluate,
    expand,
    map_protocol,
    required_input_fidelity,
    search_protocol,
    success_probability,
    unswap_fidelity,
    window_slots,
)
from quantum.topologies import build_topology, equip

P = SearchParams()


def network(name="H", repeater=(2, 3), tau=1.5, link="nv"):
    return equip(
        attach_capabilities(build_topology(name), link), repeater=repeater, coherence_s=tau
    )


def check_mapping(shape, g):
    """Structural validity of one mapped instance."""
    busy = {}
    for q, a, b in shape.raw_intervals():
        assert a < b
        busy.setdefault(q, []).append((a, b))
    for q, ivs in busy.items():
        ivs.sort()
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(ivs, ivs[1:], strict=False)), (
            f"qubit {q} double-booked"
        )
        node, kind, idx = q
        cap = g.nodes[node]["comm_qubits"] if kind == "c" else g.nodes[node]["storage_qubits"]
        assert 0 <= idx < cap
    for k, op in enumerate(shape.ops):
        for i in op.inputs:
            assert shape.start[k] >= shape.start[i] + shape.ops[i].duration
        if op.kind == LINK:
            (nu, ku, _), (nv, kv, _) = shape.gen_qubits[k]
            assert (nu, nv) == op.ends and ku == kv == "c"
        if shape.consumer[k] >= 0:
            assert tuple(q[0] for q in shape.hold_qubits[k]) == op.ends
    assert shape.makespan == max(
        s + op.duration for s, op in zip(shape.start, shape.ops, strict=True)
    )


def test_inverse_fidelity_maps():
    for f in (0.5, 0.7, 0.93, 0.999):
        x = unswap_fidelity(f)
        assert float(swap_fidelity(x, x)) == pytest.approx(f, abs=1e-12)
    for scheme in ("pump", "nest"):
        for rounds, target in ((1, 0.9), (2, 0.95), (1, 0.6)):
            x = required_input_fidelity(target, rounds, scheme)
            assert distilled_fidelity(x, rounds, scheme) >= target - 1e-12
            assert distilled_fidelity(x - 2e-6, rounds, scheme) < target  # minimal on the grid
    assert required_input_fidelity(1.5, 1, "pump") is None
    # one pumping round from F = 0.9 pairs is BBPSSW(0.9, 0.9)
    assert distilled_fidelity(0.9, 1, "pump") == pytest.approx(float(bbpssw(0.9, 0.9)[1]))


def test_single_link_choice_matches_brute_force_over_the_table():
    """Without decoherence (τ huge) the fastest option with F >= F_min wins."""
    g = network("star", tau=1e12)
    opts = nv_link_capabilities(5.0)
    for f_min in (0.5, 0.62, 0.7, 0.8, 0.86):
        plan = search_protocol(g, (1, 0), f_min, P)
        direct = [(window_slots(r, P), -f) for f, r in opts if f >= f_min]
        best = min(direct)
        assert plan.shape.makespan == best[0]
        assert plan.fidelity == pytest.approx(-best[1])
    # above every option, distillation is needed and used
    plan = search_protocol(g, (1, 0), 0.9, P)
    assert plan is not None and any(op.kind == DISTILL for op in plan.shape.ops)
    assert plan.fidelity >= 0.9


def test_two_hop_fidelity_is_werner_algebra_with_depolarising_decay():
    g = network("star", repeater=(1, 3), tau=1.5)
    for creation in ("start", "end"):
        plan = search_protocol(g, (1, 0, 2), 0.55, SearchParams(plan_creation=creation))
        shape = plan.shape
        assert [op.kind for op in shape.ops] == [LINK, LINK, SWAP]
        slot = P.slot_s
        s_end = (shape.start[2] + shape.ops[2].duration) * slot
        fs = []
        for k in (0, 1):
            op = shape.ops[k]
            born = (
                shape.start[k] * slot
                if creation == "start"
                else (shape.start[k] + op.duration) * slot
            )
            # both halves wait (two qubits): the Werner parameter decays as exp(-2 t / tau)
            fs.append(0.25 + (op.fidelity - 0.25) * math.exp(-2 * (s_end - born) / 1.5))
        expected = fs[0] * fs[1] + (1 - fs[0]) * (1 - fs[1]) / 3
        assert float(evaluate(shape, slot)[1][0]) == pytest.approx(expected, rel=1e-12)
        assert plan.fidelity >= 0.55


def test_single_link_decays_within_its_window_when_planned_for_the_worst_case():
    g = network("star", tau=2.0)
    plan = search_protocol(g, (1, 0), 0.7, P)
    (op,) = plan.shape.ops
    expected = 0.25 + (op.fidelity - 0.25) * math.exp(-2 * op.duration * P.slot_s / 2.0)
    assert plan.fidelity == pytest.approx(expected)
    assert success_probability(plan.shape, P) == pytest.approx(
        1 - math.exp(-op.rate_hz * op.duration * P.slot_s)
    )


def test_one_communication_qubit_serialises_generation_at_the_repeater():
    g1, g2 = network("star", repeater=(1, 3), tau=1e12), network("star", repeater=(2, 3), tau=1e12)
    tree = search_protocol(g1, (1, 0, 2), 0.55, P).tree
    s1 = map_protocol(expand(tree, P), g1)
    s2 = map_protocol(expand(tree, P), g2)
    w = s1.ops[0].duration
    assert s1.makespan == 2 * w + P.swap_slots  # the repeater generates one link after the other
    assert s2.makespan == w + P.swap_slots  # two communication qubits: in parallel
    check_mapping(s1, g1)
    check_mapping(s2, g2)


def test_memory_too_small_to_swap_gives_no_protocol():
    g = network("star", repeater=(1, 0))  # one qubit at the repeater cannot hold two halves
    assert search_protocol(g, (1, 0, 2), 0.55, P) is None
    g.nodes[0]["comm_qubits"] = 0
    with pytest.raises(ValueError, match="communication qubits"):
        search_protocol(g, (1, 0, 2), 0.55, P)


def test_search_bad_input():
    g = network("star")
    with pytest.raises(ValueError, match="f_min"):
        search_protocol(g, (1, 0), 1.2, P)
    with pytest.raises(ValueError, match="not an edge"):
        search_protocol(g, (1, 2), 0.6, P)
    with pytest.raises(ValueError, match="at least two"):
        search_protocol(g, (1,), 0.6, P)
    with pytest.raises(ValueError, match="swap_slots"):
        SearchParams(swap_slots=0)
    with pytest.raises(ValueError, match="plan_creation"):
        SearchParams(plan_creation="middle")


def test_search_is_deterministic():
    g = network("symm")
    a = search_protocol(g, (4, 0, 3, 7), 0.55, P)
    b = search_protocol(network("symm"), (4, 0, 3, 7), 0.55, P)
    assert describe(a.tree) == describe(b.tree) and a.shape.start == b.shape.start
    assert a.fidelity == b.fidelity


PATHS = {
    "line": [(0, 1), (0, 1, 2), (1, 2, 3)],
    "H": [(0, 1, 2), (0, 1, 4, 5), (3, 4, 1, 2)],
    "symm": [(4, 0, 3, 7), (5, 1, 2, 6)],
}


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from([(t, p) for t, ps in PATHS.items() for p in ps]),
    st.floats(0.5, 0.8),
    st.sampled_from(["start", "end"]),
    st.sampled_from([(1, 3), (2, 3), (1, 1)]),
)
def test_every_found_protocol_is_a_valid_mapping_meeting_f_min(tp, f_min, creation, rep):
    topo, path = tp
    g = network(topo, repeater=rep)
    params = SearchParams(plan_creation=creation)
    plan = search_protocol(g, path, f_min, params)
    if plan is None:
        return
    check_mapping(plan.shape, g)
    assert plan.shape.ends == (path[0], path[-1])
    assert plan.fidelity >= f_min and 0.25 <= plan.fidelity <= 1.0
    assert 0.0 < plan.p_success <= 1.0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 40), st.integers(0, 2**31 - 1))
def test_fidelity_stays_in_range_and_delays_only_lower_it(extra, seed):
    g = network("H", tau=0.5)
    shape = search_protocol(g, (0, 1, 4, 5), 0.52, SearchParams(plan_creation="end")).shape
    rng = np.random.default_rng(seed)
    # delay the final swap(s) by `extra` slots: pairs wait longer, fidelity can only drop
    late = np.array(shape.start) + np.where(
        np.arange(len(shape.ops)) == len(shape.ops) - 1, extra, 0
    )
    base = float(evaluate(shape, 0.01)[1][0])
    f = float(evaluate(shape, 0.01, start=[late])[1][0])
    assert 0.25 <= f <= base + 1e-15
    created = (np.array(shape.start) + rng.random(len(shape.ops)) * shape.durations) * 0.01
    ok, fr = evaluate(shape, 0.01, created_s=[created])
    assert ok[0] and 0.25 <= fr[0] <= 1.0
