"""Trace loaders: the real clusterdata-2011-2 sample (counts from SOURCES.md §3), a 2019
fixture written here against the documented v3 schema (no real 2019 sample exists in this
repo), bad inputs, and the synthetic generator's marginals (two-sample KS test)."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from auction.traces import Marginals, load_2011, load_sample, load_trace, synthetic_trace
from auction.workload import trace_instance


def test_real_sample_parses_with_empty_optional_fields():
    tr = load_sample()
    # 3,827 SUBMIT events in the 5-minute window, 287 of them resubmissions of a task seen before
    assert len(tr.requests) == 3540 and tr.dropped == 0 and tr.resubmitted == 287
    assert not tr.requests.duplicated(["collection_id", "instance_index"]).any()
    assert len(tr.machines) == 12476  # 12 477 ADDs, one machine REMOVEd
    assert tr.requests["time_s"].between(600, 900).all()
    assert tr.requests["user"].nunique() == 45
    assert tr.requests["cpu"].between(0, 1).all() and tr.requests["priority"].between(0, 11).all()
    caps = tr.machines.groupby(["cpus", "memory"]).size()
    assert caps[(0.5, 0.4995)] == 6672 and caps[(1.0, 1.0)] == 788  # most common classes (§3)
    assert tr.machines["platform"].nunique() == 3


def _write_2011(tmp_path, task_rows, machine_rows):
    t, m = tmp_path / "task.csv", tmp_path / "machine.csv"
    t.write_text("\n".join(task_rows) + "\n")
    m.write_text("\n".join(machine_rows) + "\n")
    return t, m


def test_2011_machine_updates_removals_and_missing_cpu(tmp_path):
    t, m = _write_2011(
        tmp_path,
        [
            "600000000,,1,0,,0,u1,2,9,0.1,0.2,0.0,0",  # SUBMIT, empty missing-info and machine
            "600000001,,1,1,,0,u1,2,9,,0.2,0.0,0",  # SUBMIT without CPU request: dropped
            "600000002,,1,0,7,1,u1,2,9,0.1,0.2,0.0,0",
        ],  # SCHEDULE: not a request
        ["0,7,0,p1,0.5,0.5", "0,8,0,p1,0.5,0.5", "5,7,2,,1.0,", "9,8,1,,,"],
    )
    tr = load_2011(t, m)
    assert len(tr.requests) == 1 and tr.dropped == 1 and tr.resubmitted == 0
    assert tr.machines.to_dict("records") == [
        {"machine_id": "7", "platform": "p1", "cpus": 1.0, "memory": 0.5}
    ]


def _fixture_2019(tmp_path, as_json: bool):
    inst = [
        {
            "time": 0,
            "type": 0,
            "collection_id": 11,
            "instance_index": 0,
            "priority": 200,
            "scheduling_class": 2,
            "resource_request": {"cpus": 0.02, "memory": 0.01},
            "machine_id": None,
        },
        {
            "time": 5,
            "type": 3,
            "collection_id": 11,
            "instance_index": 0,
            "priority": 200,
            "scheduling_class": 2,
            "resource_request": {"cpus": 0.02, "memory": 0.01},
            "machine_id": 4,
        },
        {
            "time": 7,
            "type": 0,
            "collection_id": 12,
            "instance_index": 3,
            "priority": 0,
            "scheduling_class": 0,
            "resource_request": {"cpus": None, "memory": 0.3},
            "machine_id": None,
        },
    ]
    mach = [
        {
            "time": 0,
            "machine_id": 4,
            "type": 1,
            "switch_id": "s",
            "capacity": {"cpus": 0.5, "memory": 0.25},
            "platform_id": "A",
        },
        {
            "time": 0,
            "machine_id": 5,
            "type": 1,
            "switch_id": "s",
            "capacity": {"cpus": 1.0, "memory": 1.0},
            "platform_id": "B",
        },
        {
            "time": 9,
            "machine_id": 5,
            "type": 2,
            "switch_id": "s",
            "capacity": None,
            "platform_id": None,
        },
    ]
    ie, me = tmp_path / "instance_events", tmp_path / "machine_events"
    if as_json:
        ie, me = ie.with_suffix(".json"), me.with_suffix(".json")
        ie.write_text("\n".join(json.dumps(r) for r in inst))
        me.write_text("\n".join(json.dumps(r) for r in mach))
    else:
        ie, me = ie.with_suffix(".csv"), me.with_suffix(".csv")
        pd.json_normalize(inst).to_csv(ie, index=False)  # flattened resource_request.cpus
        pd.DataFrame(mach).assign(capacity=lambda d: d["capacity"].map(str)).to_csv(me, index=False)
    return ie, me


@pytest.mark.parametrize("as_json", [False, True])
def test_2019_fixture_csv_and_json(tmp_path, as_json):
    ie, me = _fixture_2019(tmp_path, as_json)
    tr = load_trace("2019", ie, me)
    assert tr.requests[["collection_id", "cpu"]].to_dict("records") == [
        {"collection_id": "11", "cpu": 0.02}
    ]
    assert tr.dropped == 1  # the SUBMIT without a CPU request
    assert tr.requests["user"].tolist() == ["11"]  # no user column: the collection is the requester
    assert tr.machines["machine_id"].tolist() == ["4"]  # machine 5 was REMOVEd (type 2 in 2019)
    assert tr.machines["cpus"].tolist() == [0.5]


def test_bad_trace_inputs(tmp_path):
    with pytest.raises(ValueError, match="trace format must be one of 2011, 2019"):
        load_trace("2015", "a", "b")
    ie, me = _fixture_2019(tmp_path, False)
    df = pd.read_csv(ie).drop(columns=["priority"])
    df.to_csv(ie, index=False)
    with pytest.raises(ValueError, match="instance_events: missing column 'priority'"):
        load_trace("2019", ie, me)
    ie, me = _fixture_2019(tmp_path, False)
    pd.read_csv(me).assign(capacity="{'cpus': 0.5,").to_csv(me, index=False)  # truncated
    with pytest.raises(ValueError, match="resources: cannot parse"):
        load_trace("2019", ie, me)
    t, m = _write_2011(tmp_path, ["1,2,3"], ["0,7,0,p1,0.5,0.5"])
    with pytest.raises(ValueError, match="task_events: expected 13 columns"):
        load_2011(t, m)


def test_synthetic_generator_matches_the_sample_marginals():
    mg = Marginals.fit(load_sample())
    tr = synthetic_trace(20_000, 5_000, np.random.default_rng(0), mg)
    for col in ("cpu", "memory", "priority"):
        ks = stats.ks_2samp(tr.requests[col], mg.request_rows[col])
        assert ks.statistic < 0.02, col
    assert stats.ks_2samp(tr.machines["cpus"], mg.machine_rows["cpus"]).statistic < 0.02
    sizes = tr.requests["user"].value_counts().to_numpy()
    assert sizes.max() <= mg.tasks_per_user.max()
    gaps = np.diff(tr.requests["time_s"].to_numpy())
    assert 1 / gaps.mean() == pytest.approx(mg.submit_rate, rel=0.05)


def test_trace_instance_rejects_oversized_draws():
    with pytest.raises(ValueError, match="trace has 3540 requests"):
        trace_instance(load_sample(), 5000, 10, np.random.default_rng(0))


def test_resubmitted_tasks_count_once(tmp_path):
    """Regression (issue 15): a task SUBMITted again after an eviction is one request, kept at
    its first SUBMIT; a new task index of the same job is a new request."""
    t, m = _write_2011(
        tmp_path,
        [
            "600000000,,1,0,,0,u1,2,9,0.1,0.2,0.0,0",  # job 1 task 0
            "600000005,,1,0,3,2,u1,2,9,0.1,0.2,0.0,0",  # EVICT
            "600000009,,1,0,,0,u1,2,9,0.1,0.2,0.0,0",  # SUBMIT again: the same request
            "600000010,,1,1,,0,u1,2,9,0.3,0.2,0.0,0",  # job 1 task 1: a new request
            "600000011,,2,0,,0,u2,2,9,0.1,0.2,0.0,0",  # job 2 task 0: a new request
        ],
        ["0,7,0,p1,0.5,0.5"],
    )
    tr = load_2011(t, m)
    assert tr.resubmitted == 1
    assert tr.requests[["time_s", "collection_id", "instance_index"]].values.tolist() == [
        [600.0, "1", 0],
        [600.00001, "1", 1],
        [600.000011, "2", 0],
    ]
