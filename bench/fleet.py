"""Benchmark: fleet allocation under a dock budget, Lagrangian method vs the plain MIP.

Run:  .venv/bin/python bench/fleet.py [--scenario scenarios/seoul-2019-budget.yaml] [--time-limit 60]

Builds the scenario's inputs, sites its new stations as the planner does (the scenario's own
site selection and time limit), and allocates docks
and bikes twice on that same problem: with :func:`mobility.placement.fleet.allocate_fleet` as
the planner calls it (the Lagrangian relaxation of the budget, the MIP only if its gap is large)
and with the plain MIP alone (SCIP through OR-Tools, ``method="mip"``) given the time limit.
Prints objective, bound, gap and seconds of each, the objective ratio, and checks every rule of
both allocations. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from mobility.benchcli import ProgressLines, existing_file, positive_float, run_main
from mobility.machine import describe, machine

ROOT = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=existing_file, default=ROOT / "scenarios" / "seoul-2019-budget.yaml")
    ap.add_argument("--time-limit", type=positive_float, default=60.0, help="seconds for the plain MIP")
    args = ap.parse_args(argv)
    step = ProgressLines()

    from rich.console import Console
    from rich.table import Table

    from mobility.io import native_stdout_to_stderr
    from mobility.placement.fleet import allocate_fleet
    from mobility.placement.pipeline import (
        build_expansion_data,
        build_inputs,
        fleet_problem,
        model_params,
        solve_siting,
    )
    from mobility.scenario.expansion import load_scenario

    console = Console(width=120)
    step("loading the scenario")
    sc = load_scenario(args.scenario)
    params = model_params(sc)
    with native_stdout_to_stderr():  # the solvers' banners and logs: stdout keeps the figures
        inputs = build_inputs(sc, progress=step)
        step("expansion model data")
        data, _ = build_expansion_data(sc, inputs)
        step("site selection (the scenario's own solver and time limit)")
        siting = solve_siting(sc, inputs, data, params)
        problem, _rates = fleet_problem(sc, inputs, siting)
        fleet_params = replace(params, backend="SCIP", time_limit=args.time_limit)
        step("fleet allocation: allocate_fleet (Lagrangian)")
        ours = allocate_fleet(problem, fleet_params)
        step(f"fleet allocation: plain MIP (SCIP, {args.time_limit:g} s)")
        mip = allocate_fleet(problem, fleet_params, method="mip")

    table = Table(
        title=f"fleet allocation — {sc.name}: {len(problem.docks)} stations, {int(problem.is_new.sum())} new"
    )
    for col in ("method", "status", "objective", "bound", "gap", "seconds", "rules broken"):
        table.add_column(col, justify="left" if col in ("method", "status") else "right")
    rows = []
    for label, r in (("allocate_fleet (Lagrangian)", ours), ("plain MIP (SCIP)", mip)):
        broken = problem.violations(r.bikes, r.docks)
        s = r.stats
        table.add_row(
            f"{label}: {s.solver}",
            s.status,
            f"{s.objective:,.1f}",
            "-" if s.bound is None else f"{s.bound:,.1f}",
            "-" if s.gap is None else f"{s.gap:.3%}",
            f"{s.seconds:.2f}",
            ", ".join(broken) or "none",
        )
        rows.append(
            {
                "method": s.solver,
                "status": s.status,
                "objective": s.objective,
                "bound": s.bound,
                "gap": s.gap,
                "seconds": round(s.seconds, 3),
                "violations": broken,
            }
        )
    console.print(table)
    ratio = ours.stats.objective / mip.stats.objective
    console.print(f"objective ratio ours / plain MIP: {ratio:.4f}; machine: {describe(machine())}")
    print(
        json.dumps(
            {
                "benchmark": "fleet",
                "scenario": sc.name,
                "time_limit": args.time_limit,
                "runs": rows,
                "ratio_to_mip": round(ratio, 4),
                "machine": machine(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    run_main(main)
