"""CoMP-market speed benchmark (issue 4). ``python benchmarks/comp_market.py [--quick]``

Measures, on one core (BLAS/OpenMP threads pinned to 1):

1. market convergence for 1,000 UEs and 100 BSs (K = 3 nearest BSs, random positions on a
   1 km square, values U(0.1, 1) Mbit/s per PRB, spare U(5, 50) PRBs, budgets U(0.5, 2)), cold
   start, both dynamics, eps = 1e-3 and 1e-4: wall time (target <= 1 s), rounds, messages,
   allocation time at 0.5 ms per message, Nash gap, efficiency against the welfare LP and the
   gap to the Eisenberg-Gale equilibrium;
2. efficiency of the equilibrium against the optimum on random dense balanced games (equal
   budgets, normalised linear utilities) as the number of UEs and BSs grows (reported, not
   asserted: the worst case of Zhang 2005 is Theta(1/sqrt(m)));
3. a 100-BS, 1,000-UE city (9x10 blocks of 80 m, Manhattan layout, all six policies) on the
   engine: simulated seconds per wall second.

Baseline run in the same process: the same Newton dynamics with the UE responses computed in
a Python loop over UEs (one row at a time) instead of vectorised; the ratio (loop / vectorised
wall time) is printed last.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from netsim import Simulation, validate  # noqa: E402
from netsim.rng import stream  # noqa: E402
from netsim.timing import timed  # noqa: E402
from ran.comp import market  # noqa: E402
from ran.comp.baselines import eisenberg_gale, welfare_optimum  # noqa: E402
from ran.comp.market import (  # noqa: E402
    MarketInstance,
    nash_gap,
    run_market,
    utilities,
    welfare,
)
from ran.comp.model import PolicyOutcome, eg_distance  # noqa: E402
from ran.comp.scenario import CompConfig, build  # noqa: E402


def city_instance(n: int = 1000, m: int = 100, k: int = 3, seed: int = 0) -> MarketInstance:
    rng = stream(seed, "bench.comp")
    bs, ue = rng.uniform(0, 1000, (m, 2)), rng.uniform(0, 1000, (n, 2))
    d = np.linalg.norm(ue[:, None] - bs[None], axis=2)
    cluster = np.argsort(d, axis=1)[:, :k]
    return MarketInstance(
        cluster,
        rng.uniform(0.1, 1, (n, k)),
        rng.uniform(5, 50, m),
        rng.uniform(0.5, 2, n),
        np.full(m, 1e-3),
        0.0,
    )


def loop_newton(inst: MarketInstance, eps: float) -> tuple[int, np.ndarray]:
    """The default dynamics with the UE responses computed one UE at a time (the baseline):
    ``run_market`` with its response function swapped for a Python loop over rows."""
    vectorised = market.respond_to_totals

    def per_ue(w, totals, budget, money_value=0.0):
        rows = [
            vectorised(w[i : i + 1], totals[i : i + 1], budget[i : i + 1], money_value)
            for i in range(w.shape[0])
        ]
        return np.concatenate(rows)

    market.respond_to_totals = per_ue
    try:
        res = run_market(inst, eps=eps, max_rounds=10_000, compiled=False)
    finally:
        market.respond_to_totals = vectorised
    return res.rounds, res.bids


def bench_market(repeat: int) -> float:
    inst = city_instance()
    opt = welfare(inst, welfare_optimum(inst, "lp").prbs)
    eg = eisenberg_gale(inst)
    print("1. market convergence, 1,000 UEs x 100 BSs, K = 3 (cold start)")
    best_vec = None
    for dyn in ("newton", "best_response"):
        for eps in (1e-3, 1e-4):
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                res = run_market(inst, eps=eps, max_rounds=5000, dynamics=dyn)
                times.append(time.perf_counter() - t0)
            t = min(times)
            if dyn == "newton" and eps == 1e-3:
                best_vec = t
            out = PolicyOutcome(res.allocation.prbs, prices=res.allocation.prices)
            fisher = PolicyOutcome(eg.prbs, prices=eg.prices)
            dist = eg_distance(inst, out, fisher)
            print(
                f"   {dyn:13s} eps={eps:.0e}: {t * 1e3:7.1f} ms wall, {res.rounds:4d} rounds, "
                f"{res.messages:7d} messages, {res.time_s * 1e3:6.1f} ms to allocate (0.5 ms/msg), "
                f"converged={res.converged}, Nash gap {nash_gap(inst, res.bids):.1e}, "
                f"efficiency {welfare(inst, res.allocation.prbs) / opt:.3f}, "
                f"EG utility gap {dist['eg_utility_gap']:.3f}, "
                f"EG Nash-welfare ratio {dist['eg_nash_ratio']:.3f}"
            )
    u_eg = utilities(inst, eg.prbs)
    print(
        f"   Eisenberg-Gale (cvxpy) efficiency {welfare(inst, eg.prbs) / opt:.3f}; "
        f"UEs with positive EG utility {np.mean(u_eg > 0):.3f}"
    )
    return best_vec


def bench_efficiency(trials: int) -> None:
    print("2. equilibrium efficiency on random balanced games (normalised linear utilities)")
    for n, m in ((2, 2), (2, 8), (4, 4), (8, 8), (16, 16), (32, 32), (64, 64)):
        rng = stream(0, f"bench.eff.{n}.{m}")
        effs = []
        for _ in range(trials):
            w = rng.random((n, m)) ** 3 + 1e-3
            w /= w.sum(axis=1, keepdims=True)
            inst = MarketInstance(
                np.tile(np.arange(m), (n, 1)), w, np.ones(m), np.ones(n), np.full(m, 1e-9)
            )
            res = run_market(inst, eps=1e-9, max_rounds=20_000)
            effs.append(welfare(inst, res.allocation.prbs) / w.max(axis=0).sum())
        print(
            f"   n = {n:2d} UEs, m = {m:2d} BSs: efficiency min {min(effs):.3f}, "
            f"mean {np.mean(effs):.3f} over {trials} games (1/sqrt(m) = {1 / np.sqrt(m):.3f})"
        )


def bench_city(horizon: float, policies: list[str]) -> None:
    cfg = validate(
        CompConfig,
        {
            "blocks_x": 9,
            "blocks_y": 10,
            "n_ues": 1000,
            "horizon": horizon,
            "policies": policies,
            "utility": "linear",
        },
    )
    sim = Simulation(1)
    net, t_build, _ = timed(lambda: build(sim, cfg))
    _, wall, cpu = timed(lambda: sim.run(until=cfg.horizon))
    ep = net.epoch_frame()
    extra = f", efficiency {ep['efficiency'].mean():.3f}" if "efficiency" in ep else ""
    print(
        f"3. city: {net.n_bs} BSs, {cfg.n_ues} UEs, policies {'+'.join(policies)}, dt = "
        f"{cfg.dt_s * 1e3:.0f} ms: {horizon:g} s simulated in {wall:.1f} s wall / {cpu:.1f} s CPU "
        f"(+{t_build:.1f} s build): {horizon / wall:.2f} simulated s per wall s "
        f"({horizon / cpu:.2f} per CPU s); {len(ep)} epochs, {ep['n_trouble'].mean():.0f} UEs "
        f"in trouble per epoch, market rounds {ep['rounds'].mean():.1f} (warm start){extra}"
    )


def bench_env(seconds: float) -> None:
    """Steps/s of CompMarket-v0 with random actions, against QueueAdmission-v0 measured in
    the same process (the ratio survives machine load)."""
    import gymnasium as gym

    import envs  # noqa: F401 - registers the ids

    def sps(env_id: str) -> float:
        env = gym.make(env_id)
        env.reset(seed=0)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            n += 1
            if term or trunc:
                env.reset()
        return n / (time.perf_counter() - t0)

    sps("netsim/CompMarket-v0")  # warm up numba and caches
    comp, queue = sps("netsim/CompMarket-v0"), sps("netsim/QueueAdmission-v0")
    print(
        f"4. CompMarket-v0: {comp:.0f} steps/s with random actions; QueueAdmission-v0 "
        f"{queue:.0f} steps/s in the same process; ratio {comp / queue:.4f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, shorter city run")
    args = ap.parse_args()
    vec = bench_market(repeat=1 if args.quick else 3)
    bench_efficiency(trials=5 if args.quick else 20)
    horizon = 2.0 if args.quick else 10.0
    bench_city(horizon, ["market", "optimum", "fisher", "equal_share", "second_price", "no_comp"])
    bench_city(horizon, ["market", "no_comp"])
    bench_env(2.0 if args.quick else 5.0)
    inst = city_instance()
    t0 = time.perf_counter()
    rounds, bids = loop_newton(inst, eps=1e-3)
    loop = time.perf_counter() - t0
    same = np.allclose(bids, run_market(inst, eps=1e-3).bids, rtol=1e-9, atol=1e-12)
    print(
        f"baseline: per-UE Python loop, same dynamics, eps=1e-3: {loop * 1e3:.1f} ms, "
        f"{rounds} rounds, same bids as vectorised: {same}"
    )
    print(f"ratio (loop / vectorised): {loop / vec:.1f}x")


if __name__ == "__main__":
    main()
