"""The engine: scheduling, run semantics, tracing, decision points."""

import pytest

from netsim import DecisionPoint, EventCounter, Simulation


def test_schedule_calls_in_time_order():
    sim = Simulation()
    seen = []
    sim.schedule(2.0, seen.append, "b")
    sim.schedule(1.0, seen.append, "a")
    sim.schedule(3.0, lambda: seen.append(sim.now))
    sim.run()
    assert seen == ["a", "b", 3.0]


def test_at_absolute_times_tolerates_rounding():
    sim = Simulation()
    seen = []
    sim.run(until=0.3)
    sim.at(0.1 + 0.2, seen.append, "now")  # 0.30000000000000004 vs 0.3
    sim.at(1.0, seen.append, "later")
    sim.run()
    assert seen == ["now", "later"] and sim.now == 1.0
    with pytest.raises(ValueError, match="past"):
        sim.at(0.5, print)


def test_schedule_rejects_negative_delay():
    with pytest.raises(ValueError):
        Simulation().schedule(-1, print)


def test_run_until_time_and_noop_at_now():
    sim = Simulation()
    sim.schedule(5.0, lambda: None)
    sim.run(until=2.5)
    assert sim.now == 2.5
    sim.run(until=2.5)  # no error
    assert sim.now == 2.5


def test_run_until_event_returns_value():
    sim = Simulation()

    def proc():
        yield sim.timeout(4.0)
        return "done"

    p = sim.process(proc())
    assert sim.run_until(p) == "done"
    assert sim.now == 4.0


def test_every_is_periodic_and_stoppable():
    sim = Simulation()
    ticks = []
    p = sim.every(1.5, lambda: ticks.append(sim.now))
    sim.run(until=5.0)
    assert ticks == [1.5, 3.0, 4.5]
    p.interrupt()
    sim.run(until=10.0)
    assert ticks == [1.5, 3.0, 4.5]


def test_trace_hook_counts_every_event():
    counter = EventCounter()
    sim = Simulation(trace=counter)
    for d in (1, 2, 3):
        sim.schedule(d, lambda: None)
    sim.run()
    assert counter.count == 3


def test_decision_point_round_trip():
    sim = Simulation()
    point = DecisionPoint(sim)
    got = []

    def model():
        for k in range(3):
            yield sim.timeout(1.0)
            action = yield point.request(state=k)
            got.append((sim.now, action))

    sim.process(model())
    for k in range(3):
        sim.run(until=point.pending)
        assert point.waiting and point.state == k
        point.respond(10 * k)
    sim.run()
    assert got == [(1.0, 0), (2.0, 10), (3.0, 20)]


def test_decision_point_misuse():
    point = DecisionPoint(Simulation())
    with pytest.raises(RuntimeError):
        point.respond(1)
    point.request()
    with pytest.raises(RuntimeError):
        point.request()


def test_decision_point_finish():
    sim = Simulation()
    point = DecisionPoint(sim)

    def model():
        action = yield point.request("only")
        yield sim.timeout(float(action))
        point.finish("done")

    sim.process(model())
    sim.run(until=point.pending)
    point.respond(2)
    sim.run(until=point.pending)
    assert point.finished and not point.waiting and sim.now == 2.0 and point.state == "done"
    with pytest.raises(RuntimeError, match="finished"):
        point.request()
