"""Issue 16: ``benchmarks/quantum_vs_sequence.py`` takes the chain's size, link length and
coherence time, uses independent runs for both CIs, and degrades to a clear message when
SeQUeNCe (Python >= 3.12) is absent. ``benchmarks/quantum_network.py`` runs a small network."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def vs_seq():
    return _load("quantum_vs_sequence")


def test_scenario_options_reach_the_netsim_chain(vs_seq):
    p = dict(vs_seq.SCENARIO, routers=4, link_km=5.0, coherence_s=0.5)
    cfg = vs_seq.netsim_config(p)
    assert cfg.n_links == 3 and cfg.link_length_km == 5.0
    assert cfg.cutoff_s == 0.5 and cfg.coherence_time_s == pytest.approx(0.375)
    # SeQUeNCe's attempt is four messages over the link: L/c + 3 L/c
    assert vs_seq.link_physics(cfg).attempt_s == pytest.approx(4 * 5e3 / 2e8)


def test_netsim_side_uses_independent_runs(vs_seq):
    p = dict(vs_seq.SCENARIO, routers=3, link_km=5.0, sim_s=0.05)
    out = vs_seq.run_netsim(p, reps=3)
    assert out["rate"] > 0 and out["rate_ci"] > 0  # runs differ: different seeds
    assert 0.6 <= out["fid"] <= 0.9


def test_missing_sequence_is_a_clear_message_not_a_crash(vs_seq, monkeypatch, capsys):
    monkeypatch.setattr(vs_seq, "SEQUENCE_PYTHON", "/nonexistent/python3.12")
    args = ["--routers", "3", "--link-km", "5", "--coherence-s", "0.5", "--sim-s", "0.05",
            "--reps", "2", "--seq-reps", "2", "--skip-scale"]
    assert vs_seq.main(args) == 0
    out = capsys.readouterr().out
    assert '"routers": 3' in out and '"link_km": 5.0' in out and '"coherence_s": 0.5' in out
    assert "SeQUeNCe comparison skipped" in out and "SEQUENCE_PYTHON" in out


def test_bad_benchmark_options_exit_2(vs_seq):
    with pytest.raises(SystemExit) as err:
        vs_seq.main(["--routers", "1"])
    assert err.value.code == 2


def test_network_benchmark_runs_small():
    mod = _load("quantum_network")
    out = mod.run_network(nodes=20, requests=5, sim_s=0.02)
    assert out["events"] > 0 and out["cpu_s"] > 0


@pytest.fixture(scope="module")
def net_seq():
    return _load("quantum_network_vs_sequence")


def test_star_routes_cross_the_centre_with_sequence_attempt_times(net_seq):
    """Default star: request i joins leaves 2i+1 and 2i+2 through the centre (node 0).
    SeQUeNCe's attempt is 4 L/c when the downstream end has the larger name (it negotiates
    as soon as it accepts the REQUEST), 5 L/c otherwise; with plain names the centre 'c' is
    the smallest, so every request's first hop takes 5 L/c."""
    p = dict(net_seq.SCENARIO)
    g, names, routes = net_seq.star(p)
    assert [[names[x] for x in r] for r in routes] == [["l1", "c", "l2"], ["l3", "c", "l4"]]
    lc = {km: km * 1e3 / 2e8 for km in (5.0, 10.0, 15.0, 20.0)}
    assert g.edges[1, 0]["local_time_s"] == pytest.approx(4 * lc[5.0])
    assert g.edges[0, 2]["local_time_s"] == pytest.approx(3 * lc[10.0])
    ordered = dict(p, names="ordered", hops_per_arm=2)
    g2, names2, routes2 = net_seq.star(ordered)
    for r in routes2:
        assert len(r) == 5 and r[2] == 0
        assert [names2[x] for x in r] == sorted(names2[x] for x in r)
        for u, v in zip(r[:-1], r[1:], strict=True):
            km = g2.edges[u, v]["length_km"]
            assert g2.edges[u, v]["local_time_s"] == pytest.approx(3 * km * 1e3 / 2e8)
    topo = net_seq.sequence_star(p)
    assert topo["memo"] == [4, 2, 2, 2, 2] and topo["requests"] == [[1, 2], [3, 4]]
    assert topo["dist_km"][1][2] == pytest.approx(15.0)


def test_network_benchmark_without_sequence(net_seq, monkeypatch, capsys):
    monkeypatch.setattr(net_seq.vs, "SEQUENCE_PYTHON", "/nonexistent/python3.12")
    assert net_seq.main(["--sim-s", "0.05", "--reps", "2", "--seq-reps", "2"]) == 0
    out = capsys.readouterr().out
    assert "l1→l2" in out and "l3→l4" in out and "zero-latency model" in out
    assert "SeQUeNCe comparison skipped" in out


@pytest.mark.parametrize("args", [["--leaves", "3"], ["--arms-km", "5,x"], ["--reps", "1"],
                                  ["--names", "fancy"], ["--sim-s", "0"]])
def test_network_benchmark_bad_options_exit_2(net_seq, args):
    with pytest.raises(SystemExit) as err:
        net_seq.main(args)
    assert err.value.code == 2
