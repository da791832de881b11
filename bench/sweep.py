"""Benchmark: a coverage curve warm-started point to point vs every point solved cold.

Run:  .venv/bin/python bench/sweep.py [--scenario scenarios/seoul-2019-30k.yaml] [--new-stations 300:800:100]

Builds the inputs once, then runs :func:`mobility.placement.sweep.sweep` (each point warm-started
from the previous one's sites) and, as the baseline in the same process, the same points each
solved from scratch (no warm start). Before the timed runs one point (the first) is solved once,
untimed, as a warm-up, so that neither side pays the first solve's one-off costs (imports, solver
start-up, cold caches): without it the side run first was the slower one. Prints per point the
residents covered, gap and seconds of both, the ratio of the total siting times and whether the
warm curve covers at least as many residents at every point (gap ``—``: no proven gap, e.g. a
point stopped before any bound). Progress lines and the solver's own log go to stderr. Machine
(cores, memory, load average) noted; the last line is JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from mobility.benchcli import ProgressLines, existing_file, integer_range, positive_float, run_main

ROOT = Path(__file__).resolve().parents[1]


def gap_text(gap: float | None) -> str:
    """A point's proven relative gap, or ``—`` when none was proven (never 0 for unknown)."""
    return "—" if gap is None else f"{gap:.4f}"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=existing_file, default=ROOT / "scenarios" / "seoul-2019-30k.yaml")
    ap.add_argument(
        "--new-stations", type=integer_range, default="300:800:100", help="A:B:STEP station counts"
    )
    ap.add_argument("--time-limit", type=positive_float, default=120.0, help="seconds per point")
    args = ap.parse_args(argv)
    step = ProgressLines()

    from mobility.io import native_stdout_to_stderr
    from mobility.machine import describe, machine
    from mobility.placement.pipeline import build_inputs
    from mobility.placement.sweep import sweep
    from mobility.scenario.expansion import load_scenario

    step("loading the scenario")
    sc = load_scenario(args.scenario)
    values = [float(v) for v in args.new_stations]
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    with native_stdout_to_stderr():  # the solvers' banners and logs: stdout keeps the figures
        inp = build_inputs(sc, progress=step)
        t_inputs = time.perf_counter() - t0
        step(f"warm-up: point {values[0]:.0f} solved once, untimed")
        t_warm_up = time.perf_counter()
        sweep(sc, "new_stations", values[:1], inputs=inp, time_limit=args.time_limit)
        t_warm_up = time.perf_counter() - t_warm_up
        step(f"warm curve: {len(values)} points, each warm-started from the previous one")
        t1 = time.perf_counter()
        warm = sweep(sc, "new_stations", values, inputs=inp, time_limit=args.time_limit, progress=step)
        t_warm = time.perf_counter() - t1
        cold = []
        t2 = time.perf_counter()
        for v in values:
            step(f"cold point {v:.0f} (no warm start)")
            cold.append(sweep(sc, "new_stations", [v], inputs=inp, time_limit=args.time_limit).points[0])
        t_cold = time.perf_counter() - t2
    load_after = os.getloadavg()
    rows = []
    print(f"{'new':>5} {'warm covered':>14} {'gap':>7} {'s':>6} | {'cold covered':>14} {'gap':>7} {'s':>6}")
    for w, c in zip(warm.points, cold, strict=True):
        print(
            f"{w.sited:>5} {w.covered_population:>14,.0f} {gap_text(w.gap):>7} {w.seconds:>6.1f} | "
            f"{c.covered_population:>14,.0f} {gap_text(c.gap):>7} {c.seconds:>6.1f}"
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
    m = machine()
    result = {
        "bench": "sweep",
        "scenario": sc.name,
        "machine": m,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "inputs_seconds": round(t_inputs, 1),
        "warm_up_seconds": round(t_warm_up, 1),
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
    if any(pt.gap is None for pt in [*warm.points, *cold]):
        print("gap —: not proven (the solver stopped before proving a bound)")
    print(f"machine: {describe(m)}")
    print(
        f"inputs {t_inputs:.1f} s; untimed warm-up solve {t_warm_up:.1f} s, then warm curve "
        f"{t_warm:.1f} s vs cold points {t_cold:.1f} s "
        f"(ratio {result['time_ratio_warm_over_cold']}); load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    run_main(main)
