"""Re-run the queue oracle tests' simulations over many seed bases and report, per test and
base, the largest |t| (against the critical value) and the widest acceptance band.

    python tests/queueing/seed_robustness.py --bases 20 > seed_robustness.csv

Not collected by pytest (the file name has no ``test_`` prefix); the figures are quoted in
``queueing/README.md``.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import test_queue_oracles as t  # noqa: E402

CASES = {
    "mm1-0.5": dict(arrival_rate=0.5, horizon=6_000, warmup=2_000),
    "mm1-0.8": dict(arrival_rate=0.8, horizon=8_000, warmup=2_000),
    "mm1-0.9": dict(arrival_rate=0.9, horizon=14_000, warmup=2_000),
    "mmc": dict(arrival_rate=2.7, stations=[{"servers": 3, "service_rate": 1.0}],
                horizon=7_000, warmup=1_000),
    "md1": dict(arrival_rate=0.8, service="deterministic", horizon=7_000, warmup=1_000),
    "tandem": dict(arrival_rate=0.8, stations=[{"servers": 1, "service_rate": 1.0},
                                               {"servers": 2, "service_rate": 0.6}],
                   horizon=7_000, warmup=1_000),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bases", type=int, default=20)
    ap.add_argument("--first", type=int, default=0)
    args = ap.parse_args()
    print("base,test,max_abs_t,t_crit,max_band,passed", flush=True)
    for base in range(args.first, args.first + args.bases):
        t.SEED_BASE = base
        for name, cfg in CASES.items():
            s = t.simulate(name, **cfg)
            worst = float(s["t"].abs().max())
            print(f"{base},{name},{worst:.3f},{t.T_CRIT:.3f},{s['band'].max():.4f},"
                  f"{worst <= t.T_CRIT}", flush=True)


if __name__ == "__main__":
    main()
