"""Benchmark: a coverage curve warm-started point to point vs every point solved cold.

Run:  .venv/bin/python bench/sweep.py [--scenario scenarios/seoul-2019-30k.yaml] [--new-stations 300:800:100]

Builds the inputs once, then runs :func:`mobility.placement.sweep.sweep` (each point warm-started
from the previous one's sites) and, as the baseline in the same process, the same points each
solved from scratch (no warm start). Prints per point the residents covered, gap and seconds of
both, the ratio of the total siting times and whether the warm curve covers at least as many
residents at every point. Machine (cores, memory, load average) noted; the last line is JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "seoul-2019-30k.yaml"))
    ap.add_argument("--new-stations", default="300:800:100")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per point")
    args = ap.parse_args()

    from mobility.machine import machine
    from mobility.placement.pipeline import build_inputs
    from mobility.placement.sweep import parse_range, sweep
    from mobility.scenario.expansion import load_scenario

    sc = load_scenario(args.scenario)
    values = parse_range(args.new_stations, "--new-stations")
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    inp = build_inputs(sc)
    t_inputs = time.perf_counter() - t0
    t1 = time.perf_counter()
    warm = sweep(sc, "new_stations", values, inputs=inp, time_limit=args.time_limit)
    t_warm = time.perf_counter() - t1
    t2 = time.perf_counter()
    cold = [sweep(sc, "new_stations", [v], inputs=inp, time_limit=args.time_limit).points[0] for v in values]
    t_cold = time.perf_counter() - t2
    load_after = os.getloadavg()
    rows = []
    print(f"{'new':>5} {'warm covered':>14} {'gap':>7} {'s':>6} | {'cold covered':>14} {'gap':>7} {'s':>6}")
    for w, c in zip(warm.points, cold, strict=True):
        print(
            f"{w.sited:>5} {w.covered_population:>14,.0f} {w.gap or 0:>7.4f} {w.seconds:>6.1f} | "
            f"{c.covered_population:>14,.0f} {c.gap or 0:>7.4f} {c.seconds:>6.1f}"
        )
        rows.append(
            {
                "new_stations": w.new_stations,
                "warm_covered": w.covered_population,
                "cold_covered": c.covered_population,
                "warm_gap": w.gap,
                "cold_gap": c.gap,
                "warm_seconds": w.seconds,
                "cold_seconds": c.seconds,
            }
        )
    cov = [w.covered_population for w in warm.points]
    result = {
        "bench": "sweep",
        "scenario": sc.name,
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "inputs_seconds": round(t_inputs, 1),
        "warm_seconds": round(t_warm, 1),
        "cold_seconds": round(t_cold, 1),
        "time_ratio_warm_over_cold": round(t_warm / t_cold, 3) if t_cold else None,
        "monotone": all(b >= a for a, b in itertools.pairwise(cov)),
        "warm_never_worse": all(
            w.covered_population >= c.covered_population - 1e-6
            for w, c in zip(warm.points, cold, strict=True)
        ),
        "points": rows,
    }
    print(
        f"inputs {t_inputs:.1f} s; warm curve {t_warm:.1f} s vs cold points {t_cold:.1f} s "
        f"(ratio {result['time_ratio_warm_over_cold']}); load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
