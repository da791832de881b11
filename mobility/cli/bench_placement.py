"""``mobility bench pmedian DIR``: OR-Library p-median instances against their published optima."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from mobility.best_known import read_bks
from mobility.cli.common import (
    BenchDirArgument,
    InstanceTimeLimitOption,
    JsonOption,
    SeedOption,
    console,
    err_console,
    print_json,
    print_summary_line,
)
from mobility.errors import DataNotFoundError
from mobility.machine import describe
from mobility.machine import machine as _machine


def _ratio(ours: float, baseline: float) -> float | None:
    """``ours / baseline`` to four decimals, or ``None`` when the baseline is 0 (no ratio)."""
    return round(ours / baseline, 4) if baseline else None


def run_pmedian_bench(directory: Path, *, time_limit: float = 60.0, seed: int = 0) -> dict[str, Any]:
    """Solve every ``DIR/instances/*.txt`` and compare with ``DIR/bks.csv``.

    Returns a JSON-ready dict with one row per instance (with the solver's own status, bound and
    relative gap ``solver_gap``, and ``ratio_to_heuristic``: the objective over that of the greedy +
    swap heuristic run in the same solve, the baseline) and the totals (``mean_ratio_to_heuristic``),
    with the settings (``time_limit``, ``seed``), the ``code_version`` that produced them and the
    machine.
    """
    # Imported here so that the rest of the command line does not load the MIP solvers.
    from mobility.placement.classic import PMedian
    from mobility.placement.models import ModelParams
    from mobility.placement.orlib import read_pmed
    from mobility.provenance import code_version
    from mobility.stats import SolverStats

    inst_dir = directory / "instances"
    bks_path = directory / "bks.csv"
    if not inst_dir.is_dir() or not bks_path.is_file():
        raise DataNotFoundError(
            "p-median benchmark", [inst_dir, bks_path], "expected DIR/instances/*.txt and DIR/bks.csv"
        )
    bks = read_bks(bks_path)
    rows: list[dict[str, Any]] = []
    files = sorted(inst_dir.glob("*.txt"), key=lambda p: (len(p.stem), p.stem))
    for f in files:
        inst = read_pmed(f)
        t0 = time.perf_counter()
        res = PMedian.from_cost_matrix(inst.distances, None, inst.p, name=inst.name).solve(
            ModelParams(time_limit=time_limit, seed=seed)
        )
        best = bks.get(inst.name)
        rows.append(
            {
                "instance": inst.name,
                "n": inst.n,
                "p": inst.p,
                "best_known": best,
                "objective": res.objective,
                "heuristic": res.heuristic_objective,
                "bound": res.stats.bound,
                "status": res.stats.status,
                "solver_gap": SolverStats.relative_gap(res.objective, res.stats.bound),
                "gap_to_bks": None if best is None else (res.objective - best) / best,
                "ratio_to_heuristic": _ratio(res.objective, res.heuristic_objective),
                "matches": best is not None and abs(res.objective - best) < 1e-6,
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
    ratios = [r["ratio_to_heuristic"] for r in rows if r["ratio_to_heuristic"] is not None]
    return {
        "benchmark": "pmedian",
        "directory": str(directory),
        "instances": rows,
        "solved": len(rows),
        "matched": sum(r["matches"] for r in rows),
        "all_match": bool(rows) and all(r["matches"] for r in rows),
        "seconds": round(sum(r["seconds"] for r in rows), 3),
        "mean_ratio_to_heuristic": round(sum(ratios) / len(ratios), 4) if ratios else None,
        "time_limit": time_limit,
        "seed": seed,
        "code_version": code_version(),
        "machine": _machine(),
    }


def register(bench_app: typer.Typer) -> None:
    """Add ``pmedian`` to the ``bench`` group."""

    @bench_app.command("pmedian")
    def pmedian(
        directory: BenchDirArgument,
        time_limit: InstanceTimeLimitOption = 60.0,
        seed: SeedOption = 0,
        json_out: JsonOption = False,
    ) -> None:
        """Solve every OR-Library p-median instance in DIR and compare with DIR/bks.csv."""
        with err_console.status("solving p-median instances ..."):
            out = run_pmedian_bench(directory, time_limit=time_limit, seed=seed)
        if json_out:
            print_json(out)
        else:
            table = Table(title=f"p-median (OR-Library) — {directory}")
            for col in (
                "instance",
                "n",
                "p",
                "best known",
                "ours",
                "greedy+swap",
                "ratio",
                "bound",
                "status",
                "s",
                "ok",
            ):
                table.add_column(col, justify="right" if col not in ("instance", "status") else "left")
            for r in out["instances"]:
                table.add_row(
                    r["instance"],
                    str(r["n"]),
                    str(r["p"]),
                    "-" if r["best_known"] is None else f"{r['best_known']:.0f}",
                    f"{r['objective']:.0f}",
                    f"{r['heuristic']:.0f}",
                    "—" if r["ratio_to_heuristic"] is None else f"{r['ratio_to_heuristic']:.4f}",
                    "-" if r["bound"] is None else f"{r['bound']:.0f}",
                    r["status"],
                    f"{r['seconds']:.2f}",
                    Text("yes", style="green") if r["matches"] else Text("no", style="red"),
                )
            console.print(table)
            m = out["machine"]
            console.print(
                f"{out['matched']}/{out['solved']} optima reproduced in {out['seconds']:.1f} s; "
                f"mean ratio to greedy+swap (same run) {out['mean_ratio_to_heuristic']}; "
                f"machine: {describe(m)}"
            )
            keys = (
                "benchmark",
                "solved",
                "matched",
                "all_match",
                "seconds",
                "mean_ratio_to_heuristic",
                "time_limit",
                "seed",
                "code_version",
                "machine",
            )
            summary = {k: out[k] for k in keys}
            print_summary_line(summary)
        if not out["all_match"]:
            raise typer.Exit(1)
