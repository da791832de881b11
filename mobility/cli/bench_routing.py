"""``mobility bench brp DIR`` and ``mobility bench pdtsp DIR``: published rebalancing instances.

BRP (Dell'Amico et al. 2014: any number of vehicles, every station once, free start load) and
1-PDTSP (Hernández-Pérez & Salazar-González 2004: one vehicle) are solved by the nightly
rebalancing engine (:mod:`mobility.rebalancing.benchmark` maps them onto it; small instances
also get the exact CP-SAT model of :mod:`mobility.rebalancing.exact` as proof / improvement
step); the ``engine`` column says which produced the row. In the same run a plain OR-Tools
routing model (:func:`mobility.rebalancing.baselines.ortools_baseline`) gets the same time
limit, and the table prints the ratio. Where that model finds no solution (its path heuristic
dead-ends at tight capacity), it runs once more, again with the same limit, with every visit
optional at a penalty above any complete solution's cost, and the row says so
(``ortools_model``). Every solution is re-checked by
:meth:`BenchmarkInstance.check_routes` (independent of both solvers) and compared with
``DIR/bks.csv`` (blank ``best_known`` = unknown).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

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
from mobility.errors import DataFileError, DataNotFoundError
from mobility.machine import describe
from mobility.machine import machine as _machine

__all__ = ["register", "run_routing_bench"]


class SingleRoute(StrEnum):
    """``--single-route``: :attr:`BenchmarkParams.single_route`."""

    ILS = "ils"
    MEMETIC = "memetic"
    MIXED = "mixed"


def _order(p: Path) -> tuple[int, str]:
    m = re.match(r"(\d+)", p.stem)
    return (int(m.group(1)) if m else 10**9, p.stem)


_PATTERNS = {"brp": "*.txt", "pdtsp": "*.tsp"}
"""The instance files of each routing benchmark in ``DIR/instances``."""

_FAMILIES = {
    "brp": "BRP (Dell'Amico et al. 2014)",
    "pdtsp": "1-PDTSP (Hernández-Pérez & Salazar-González 2004)",
}
"""The published family of each routing benchmark, as its table's title names it."""


_NO_SOLUTION = "no solution"
"""A row's only ``violations`` entry when the engine returned no routes at all."""


def _no_instances(kind: str, inst_dir: Path) -> str:
    """Why ``inst_dir`` holds no instance of ``kind``, and which command its files are for."""
    problem = f"no {_PATTERNS[kind]} files; expected {_FAMILIES[kind]} instances"
    for other, pattern in _PATTERNS.items():
        if other != kind and any(inst_dir.glob(pattern)):
            problem += f" (it holds {pattern} files: `mobility bench {other}` instances?)"
    return problem


def run_routing_bench(
    kind: str,
    directory: Path,
    *,
    time_limit: float = 60.0,
    seed: int = 0,
    workers: int = 2,
    baseline: bool = True,
    single_route: Literal["ils", "memetic", "mixed"] = "ils",
    progress: Callable[[str], object] | None = None,
) -> dict[str, Any]:
    """Solve every instance of ``DIR/instances`` (``kind`` = ``"brp"`` or ``"pdtsp"``).

    Returns a JSON-ready dict: one row per instance (engine, cost, gap to the best known, the
    solver's own status, ``bound`` and ``solver_gap``, why the solve stopped (``stopped_by``:
    ``"proof"``, ``"clock"`` or ``"iterations"``, :data:`~mobility.rebalancing.benchmark.STOPPED_BY`;
    a bound of a solve stopped by the clock is only as far as the proof got) with the solver's own
    figures (``solver_extra``: each engine run, CP-SAT's status, bound and time limit), plain
    OR-Tools cost and the ratio), the mean gap, the mean ratio, the engine's total time
    (``total_seconds``) and the OR-Tools baseline's (``baseline_seconds``), how many solves the
    clock stopped (``stopped_by_clock``), with the settings (directory, time limit, seed,
    ``workers``, ``single_route``, ``baseline``), the inputs (``datasets``: name, bytes and SHA-256
    of ``bks.csv`` and of every instance file, :func:`~mobility.provenance.dataset_version`), the
    ``code_version`` and the ``libraries`` (:func:`~mobility.provenance.library_versions`) that
    produced them.
    """
    # The solvers are imported here, not with the module: ``mobility --help`` and every other
    # command would otherwise load OR-Tools, numba and scikit-learn first (about 2 s).
    from mobility.provenance import code_version, dataset_version, library_versions
    from mobility.rebalancing.baselines import ortools_baseline
    from mobility.rebalancing.benchmark import BenchmarkParams, solve_instance, vehicles_for
    from mobility.rebalancing.formats import read_brp, read_pdtsp
    from mobility.rebalancing.solve import warmup

    inst_dir = directory / "instances"
    bks_path = directory / "bks.csv"
    if not inst_dir.is_dir():
        raise DataNotFoundError(f"{kind} benchmark", [inst_dir], "expected DIR/instances/ (and DIR/bks.csv)")
    bks = read_bks(bks_path) if bks_path.is_file() else {}
    reader = read_brp if kind == "brp" else read_pdtsp
    pattern = _PATTERNS[kind]
    files = sorted(inst_dir.glob(pattern), key=_order)
    if not files:
        raise DataFileError(inst_dir, _no_instances(kind, inst_dir))
    rows: list[dict[str, Any]] = []
    if progress is not None:
        progress("compiling the search kernels (or loading them from numba's cache)")
    warmup()  # once, before any instance's clock: a cold compile is not an instance's time
    for f in files:
        inst = reader(f)
        if progress is not None:
            progress(f"{inst.name}: {inst.n - 1} stations")
        t0 = time.perf_counter()
        params = BenchmarkParams(
            time_limit=time_limit,
            seed=seed,
            workers=workers,
            single_route=single_route,
        )
        sol = solve_instance(inst, params)
        secs = time.perf_counter() - t0
        problems = inst.check_routes(sol.routes) if sol.routes else [_NO_SOLUTION]
        best = bks.get(inst.name)
        cost = sol.cost if not problems else None
        gap = None if best is None or cost is None else 100.0 * (cost - best) / best
        base_cost: float | None = None
        base_secs: float | None = None
        base_model: str | None = None
        if baseline:
            b_routes, b_stats = ortools_baseline(
                inst, time_limit=time_limit, vehicles=vehicles_for(inst), seed=seed
            )
            base_secs = b_stats.seconds
            if b_routes:
                base_cost, base_model = float(inst.route_cost(b_routes)), str(b_stats.extra["model"])
        rows.append(
            {
                "engine": sol.stats.solver,
                "instance": inst.name,
                "stations": inst.n - 1,
                "Q": inst.capacity,
                "cost": cost,
                "best_known": best,
                "gap_pct": gap,
                "reached": best is not None and cost is not None and cost <= best + 1e-9,
                "status": sol.stats.status,
                "bound": sol.stats.bound,
                "solver_gap": sol.stats.gap,
                "stopped_by": sol.stats.extra["stopped_by"],
                "solver_extra": sol.stats.extra,
                "vehicles": len(sol.routes),
                "valid": not problems,
                "violations": problems,
                "seconds": round(secs, 3),
                "ortools_cost": base_cost,
                "ortools_seconds": base_secs,
                "ortools_model": base_model,
                "ratio_to_ortools": None if cost is None or base_cost is None else round(cost / base_cost, 4),
            }
        )
    datasets = {"bks.csv": dataset_version(bks_path)} if bks_path.is_file() else {}
    datasets |= {f"instances/{f.name}": dataset_version(f) for f in files}
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    ratios = [r["ratio_to_ortools"] for r in rows if r["ratio_to_ortools"] is not None]
    return {
        "benchmark": kind,
        "directory": str(directory),
        "instances": rows,
        "solved": sum(r["valid"] for r in rows),
        "reached_best_known": sum(r["reached"] for r in rows),
        "with_best_known": sum(r["best_known"] is not None for r in rows),
        "mean_gap_pct": round(sum(gaps) / len(gaps), 4) if gaps else None,
        "total_seconds": round(sum(r["seconds"] for r in rows), 3),
        "baseline_seconds": round(sum(r["ortools_seconds"] or 0.0 for r in rows), 3),
        "mean_ratio_to_ortools": round(sum(ratios) / len(ratios), 4) if ratios else None,
        "worse_than_ortools": sum(r > 1.0 + 1e-9 for r in ratios),
        "ortools_no_solution": sum(baseline and r["ortools_cost"] is None for r in rows),
        "stopped_by_clock": sum(r["stopped_by"] == "clock" for r in rows),
        "baseline": baseline,
        "time_limit": time_limit,
        "seed": seed,
        "workers": workers,
        "single_route": single_route,
        "datasets": datasets,
        "code_version": code_version(),
        "libraries": library_versions(),
        "machine": _machine(),
    }


def _ortools_cell(row: dict[str, Any], *, baseline: bool) -> str:
    """The OR-Tools column: its cost (``†``: with drop penalties), ``none`` when it found no tour,
    ``not run`` with ``--no-baseline``."""
    if not baseline:
        return "not run"
    if row["ortools_cost"] is None:
        return "none"
    return f"{row['ortools_cost']:,.0f}" + ("†" if row["ortools_model"] == "drop-penalties" else "")


def _cost_cell(row: dict[str, Any]) -> str:
    """The engine's cost (``*``: proven optimal); ``no tour`` when it had none when the time was up
    (a short ``--time-limit`` on a large instance), ``INVALID`` when the independent check refused it."""
    if row["valid"]:
        return f"{row['cost']:,}" + ("*" if row["status"] == "optimal" else "")
    return "no tour" if row["violations"] == [_NO_SOLUTION] else "INVALID"


def _print(out: dict[str, Any], title: str) -> None:
    table = Table(
        title=title,
        caption="* proven optimal (else the clock stopped the search: stopped_by in --json); "
        "no tour: not found within the limit; "
        "ratio = cost / plain OR-Tools cost, same limit; "
        "† OR-Tools with drop penalties (the plain model found no tour)",
    )
    width = max([len("instance"), *(len(r["instance"]) for r in out["instances"])])
    table.add_column("instance", no_wrap=True, min_width=width)
    table.add_column("engine", no_wrap=True)
    for col in ("stations", "Q", "cost", "best known", "gap %", "OR-Tools", "ratio", "seconds"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in out["instances"]:
        table.add_row(
            r["instance"],
            r["engine"],
            str(r["stations"]),
            str(r["Q"]),
            _cost_cell(r),
            "—" if r["best_known"] is None else f"{r['best_known']:,.0f}",
            "—" if r["gap_pct"] is None else f"{r['gap_pct']:.2f}",
            _ortools_cell(r, baseline=out["baseline"]),
            "—" if r["ratio_to_ortools"] is None else f"{r['ratio_to_ortools']:.3f}",
            f"{r['seconds']:.1f}",
        )
    console.print(table)
    m = out["machine"]
    versus = (
        f"mean ratio to plain OR-Tools {out['mean_ratio_to_ortools']} "
        f"({out['worse_than_ortools']} worse, {out['ortools_no_solution']} without an OR-Tools solution)"
        if out["baseline"]
        else "plain OR-Tools not run (--no-baseline)"
    )
    console.print(
        f"reached {out['reached_best_known']}/{out['with_best_known']} best-known values; "
        f"{out['stopped_by_clock']} of {len(out['instances'])} stopped by the clock; {versus}; "
        f"machine: {describe(m)}"
    )
    keys = (
        "benchmark",
        "solved",
        "reached_best_known",
        "mean_gap_pct",
        "total_seconds",
        "mean_ratio_to_ortools",
        "worse_than_ortools",
        "ortools_no_solution",
        "stopped_by_clock",
        "time_limit",
        "seed",
        "baseline_seconds",
        "directory",
        "workers",
        "single_route",
        "baseline",
        "datasets",
        "code_version",
        "libraries",
        "machine",
    )
    print_summary_line({k: out[k] for k in keys})


def register(bench_app: typer.Typer) -> None:
    """Add ``brp`` and ``pdtsp`` to the ``bench`` group."""

    def _cmd(kind: str, title: str) -> None:
        @bench_app.command(kind)
        def command(
            directory: BenchDirArgument,
            time_limit: InstanceTimeLimitOption = 60.0,
            seed: SeedOption = 0,
            workers: Annotated[
                int, typer.Option("--workers", min=1, help="Parallel engine runs (one per core).")
            ] = 2,
            baseline: Annotated[
                bool, typer.Option("--baseline/--no-baseline", help="Also run plain OR-Tools routing.")
            ] = True,
            single_route: Annotated[
                SingleRoute,
                typer.Option(
                    "--single-route",
                    help="One-vehicle (1-PDTSP) search: iterated local search, memetic, or one run of each.",
                ),
            ] = SingleRoute.ILS,
            json_out: JsonOption = False,
        ) -> None:
            with err_console.status(f"solving {kind} instances ...") as status:
                out = run_routing_bench(
                    kind,
                    directory,
                    time_limit=time_limit,
                    seed=seed,
                    workers=workers,
                    baseline=baseline,
                    single_route=single_route.value,
                    progress=lambda msg: status.update(f"solving {kind}: {msg}"),
                )
            if json_out:
                print_json(out)
            else:
                _print(out, f"{title} — {directory}")
            if out["solved"] < len(out["instances"]):
                raise typer.Exit(1)

        command.__doc__ = f"Solve every {title} instance in DIR and compare with DIR/bks.csv."

    for kind, family in _FAMILIES.items():
        _cmd(kind, family)
