"""Engine overhead: the same model on bare SimPy and on ``netsim.Simulation``.

The model: ``N_TIMERS`` processes that each wait exponential timeouts and count their
wake-ups, plus an M/M/1 queue (``simpy.Resource``) recording waiting times, queue length
(time-weighted) and utilisation. The bare version draws from plain numpy generators and
keeps its statistics in hand-written accumulators; the netsim version uses named RNG streams
and the metrics recorder. Both produce the same event sequence; the script prints events per
second for each and the ratio (target: netsim/bare wall time <= 1.15).

    python benchmarks/engine.py [--horizon 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse

import numpy as np
import simpy

from netsim import EventCounter, Simulation
from netsim.rng import stream
from netsim.timing import timed

N_TIMERS = 200
TIMER_MEAN_S = 20.0
LAM, MU = 0.9, 1.0


# -- bare SimPy ---------------------------------------------------------------------------------
def bare(horizon: float, seed: int = 1) -> dict:
    env = simpy.Environment()
    wakeups = [0]
    waits: list[float] = []
    q = {"n": 0, "area": 0.0, "t": 0.0}
    busy = {"n": 0, "area": 0.0, "t": 0.0}

    def level(acc, delta):
        now = env.now
        acc["area"] += acc["n"] * (now - acc["t"])
        acc["t"] = now
        acc["n"] += delta

    def timer(rng):
        while True:
            yield env.timeout(rng.exponential(TIMER_MEAN_S))
            wakeups[0] += 1

    server = simpy.Resource(env, capacity=1)
    svc = stream(seed, "service")

    def customer():
        t0 = env.now
        level(q, 1)
        with server.request() as req:
            yield req
            level(q, -1)
            level(busy, 1)
            waits.append(env.now - t0)
            yield env.timeout(svc.exponential(1.0 / MU))
            level(busy, -1)

    def source(rng):
        while True:
            yield env.timeout(rng.exponential(1.0 / LAM))
            env.process(customer())

    for i in range(N_TIMERS):
        env.process(timer(stream(seed, f"timer.{i}")))
    env.process(source(stream(seed, "arrivals")))
    env.run(until=horizon)
    level(q, 0)
    level(busy, 0)
    return {
        "wakeups": wakeups[0],
        "wait": float(np.mean(waits)),
        "queue_length": q["area"] / horizon,
        "utilisation": busy["area"] / horizon,
    }


# -- netsim --------------------------------------------------------------------------------------
def with_netsim(horizon: float, seed: int = 1, trace=None) -> dict:
    sim = Simulation(seed=seed, trace=trace)
    env = sim.env
    m = sim.metrics
    wakeups = m.counter("wakeups")
    waits = m.timeseries("wait")
    qlen = m.level("queue_length")
    busy = m.level("busy")

    def timer(rng):
        while True:
            yield env.timeout(rng.exponential(TIMER_MEAN_S))
            wakeups.add()

    server = simpy.Resource(env, capacity=1)
    svc = sim.rng("service")

    def customer():
        t0 = env.now
        qlen.add(1)
        with server.request() as req:
            yield req
            qlen.add(-1)
            busy.add(1)
            waits.record(env.now - t0)
            yield env.timeout(svc.exponential(1.0 / MU))
            busy.add(-1)

    def source(rng):
        while True:
            yield env.timeout(rng.exponential(1.0 / LAM))
            env.process(customer())

    for i in range(N_TIMERS):
        sim.process(timer(sim.rng(f"timer.{i}")))
    sim.process(source(sim.rng("arrivals")))
    sim.run(until=horizon)
    return {
        "wakeups": int(wakeups.value),
        "wait": float(waits.values.mean()),
        "queue_length": qlen.time_average(),
        "utilisation": busy.time_average(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--horizon", type=float, default=20_000.0, help="simulated seconds")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs each (best is kept)")
    args = ap.parse_args()

    a, b = bare(args.horizon), with_netsim(args.horizon)
    assert a["wakeups"] == b["wakeups"] and np.isclose(a["wait"], b["wait"]), (a, b)
    counter = EventCounter()
    with_netsim(args.horizon, trace=counter)
    events = counter.count

    # interleave to share machine noise fairly
    t_bare, t_net = [], []
    for _ in range(args.repeat):
        t_bare.append(timed(lambda: bare(args.horizon))[1])
        t_net.append(timed(lambda: with_netsim(args.horizon))[1])
    tb, tn = min(t_bare), min(t_net)
    print(
        f"model: {N_TIMERS} timer processes + M/M/1 (rho={LAM / MU}), {args.horizon:g} s simulated"
    )
    print(f"events processed: {events:,}  (identical statistics: wait={a['wait']:.4f} s)")
    print(f"bare SimPy : {events / tb:12,.0f} events/s  ({tb:.3f} s, best of {args.repeat})")
    print(f"netsim     : {events / tn:12,.0f} events/s  ({tn:.3f} s, best of {args.repeat})")
    print(f"ratio netsim/bare wall time: {tn / tb:.3f}  (target <= 1.15)")


if __name__ == "__main__":
    main()
