"""Benchmark: the 2019 expansion scenario at city scale, exact model vs the lazy-greedy baseline.

Run:  .venv/bin/python bench/placement.py [--scenario scenarios/seoul-2019-30k.yaml] [--time-limit 60]

Builds the inputs (stations, 100 m grid, walking network coverage), solves the site selection
(SCIP through OR-Tools, hinted with the lazy greedy computed in the same run) and the fleet
allocation, and prints a table: time per phase, objective, proven bound and gap, and the
residents covered by the exact solution against the greedy baseline. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from mobility.benchcli import ProgressLines, existing_file, non_negative_int, positive_float, run_main
from mobility.machine import describe, machine

ROOT = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=existing_file, default=ROOT / "scenarios" / "seoul-2019-30k.yaml")
    ap.add_argument("--time-limit", type=positive_float, default=60.0, help="seconds per solver")
    ap.add_argument("--seed", type=non_negative_int, default=0, help="random seed (same seed, same result)")
    args = ap.parse_args(argv)
    step = ProgressLines()

    from rich.console import Console
    from rich.table import Table

    from mobility.io import native_stdout_to_stderr
    from mobility.placement.pipeline import build_inputs, plan_expansion
    from mobility.scenario.expansion import load_scenario

    console = Console(stderr=False)
    step("loading the scenario")
    sc = load_scenario(args.scenario)
    t0 = time.perf_counter()
    with native_stdout_to_stderr():  # HiGHS's banner and the solvers' logs: stdout keeps the figures
        inputs = build_inputs(sc, progress=step)
        t_inputs = time.perf_counter() - t0
        plan, _res = plan_expansion(
            sc, inputs=inputs, time_limit=args.time_limit, seed=args.seed, progress=step
        )
    t_total = time.perf_counter() - t0
    s = plan.siting_stats
    greedy_pop = plan.greedy_covered_population or 0.0
    exact_pop = plan.city_after.covered_population
    before_pop = plan.city_before.covered_population
    gain = exact_pop - greedy_pop
    new_by_greedy = greedy_pop - before_pop
    new_by_exact = exact_pop - before_pop

    table = Table(title=f"placement benchmark — {sc.name}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("candidates / demand groups", f"{s.extra.get('sites')} / {s.extra.get('groups')}"),
        ("new stations", f"{len(plan.new_stations)}"),
        ("inputs (data, network, coverage) s", f"{t_inputs:.1f}"),
        ("site selection s (greedy + exact)", f"{s.seconds:.1f}"),
        ("fleet allocation s", f"{plan.fleet_stats.seconds:.1f}"),
        ("end to end s", f"{t_total:.1f}"),
        ("exact status", s.status),
        ("objective (weighted residents)", f"{s.objective:,.0f}"),
        ("proven bound", "-" if s.bound is None else f"{s.bound:,.0f}"),
        ("gap", "-" if s.gap is None else f"{s.gap:.4%}"),
        ("residents covered before", f"{before_pop:,.0f} ({plan.city_before.covered_share:.1%})"),
        ("greedy baseline covers", f"{greedy_pop:,.0f}"),
        ("exact covers", f"{exact_pop:,.0f} ({plan.city_after.covered_share:.1%})"),
        ("gain over greedy (residents)", f"{gain:+,.0f}"),
        ("newly covered: exact / greedy", f"{new_by_exact / max(new_by_greedy, 1):.4f}x"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    m = machine()
    console.print(f"machine: {describe(m)}")
    out = {
        "benchmark": "placement",
        "scenario": sc.name,
        "seconds_total": round(t_total, 2),
        "seconds_inputs": round(t_inputs, 2),
        "seconds_siting": round(s.seconds, 2),
        "seconds_fleet": round(plan.fleet_stats.seconds, 2),
        "within_2_minutes": t_total <= 120.0,
        "status": s.status,
        "objective": s.objective,
        "bound": s.bound,
        "gap": s.gap,
        "gap_at_most_1pct": s.gap is not None and s.gap <= 0.01,
        "new_stations": len(plan.new_stations),
        "covered_before": before_pop,
        "covered_greedy": greedy_pop,
        "covered_exact": exact_pop,
        "gain_over_greedy": gain,
        "ratio_newly_covered_vs_greedy": round(new_by_exact / max(new_by_greedy, 1.0), 6),
        "machine": m,
        "time_limit": args.time_limit,
        "seed": args.seed,
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    run_main(main)
