"""``mobility rebalance``: the nightly truck routes, from a scenario and a status snapshot.

Writes into ``--out``, as one set (staged, then moved in: :func:`mobility.io.staged_files`):
``routes.json`` (the :class:`RebalancingPlan`, schema ``mobility/rebalancing-plan/1``, see
:func:`mobility.rebalancing.plan.routes_json_schema`),
``routes.csv`` (one row per stop, grouped per truck with a depot row before and after: a
printable route sheet), ``routes.geojson`` (a LineString per truck along the streets, a Point
per stop), ``morning.json`` (the simulated next morning with its provenance, schema
:func:`mobility.simulation.morning.morning_json_schema`; ``--no-simulate`` skips it) and the review
maps ``map.html`` / ``map.png`` (``--no-maps`` skips them). Files of an earlier run in ``--out``
that this run does not write (``morning.json`` after ``--no-simulate``, the maps after
``--no-maps``) are removed (:data:`NIGHT_FILES`). Routes that fail the independent check
(:mod:`mobility.rebalancing.validate`) are written all the same, for inspection, and the command
exits 1.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mobility.cli.common import (
    STATUS_FILES,
    DataDirOption,
    JsonOption,
    MapsOption,
    ScenarioSeedOption,
    check_out_dir,
    console,
    err_console,
    print_error,
    print_json,
    print_styled,
    print_written,
    progress_reporter,
    with_solver_overrides,
)
from mobility.errors import InputError
from mobility.io import atomic_write_bytes, atomic_write_json, atomic_write_text, staged_files

if TYPE_CHECKING:  # the library is imported by the command, not by ``mobility --help``
    from mobility.progress import Progress
    from mobility.rebalancing.night import NightInputs
    from mobility.rebalancing.plan import RebalancingPlan
    from mobility.scenario.nightly import NightlyScenario
    from mobility.simulation.morning import MorningAfter

__all__ = ["NIGHT_FILES", "morning_table", "register", "write_outputs"]

NIGHT_FILES = ("routes.json", "routes.csv", "routes.geojson", "morning.json", "map.html", "map.png")
"""What ``mobility rebalance`` may write into ``--out``."""


def register(app: typer.Typer) -> None:
    """Add ``mobility rebalance``."""
    app.command("rebalance")(rebalance_cmd)


def write_outputs(plan: RebalancingPlan, out: Path) -> list[Path]:
    """``routes.json``, ``routes.csv``, ``routes.geojson`` in ``out`` (each written atomically)."""
    from mobility.export.routes import route_sheet_csv, routes_feature_collection

    out.mkdir(parents=True, exist_ok=True)
    geojson = json.dumps(routes_feature_collection(plan), ensure_ascii=False) + "\n"
    return [
        atomic_write_json(out / "routes.json", plan.to_dict()),
        atomic_write_bytes(out / "routes.csv", route_sheet_csv(plan)),
        atomic_write_text(out / "routes.geojson", geojson),
    ]


def morning_table(morning: MorningAfter) -> Table:
    """The simulated next morning per method, next to the dissatisfaction model's expectation."""
    forecast = (
        "" if morning.forecast_from is None else f", a forecast from the data before {morning.forecast_from}"
    )
    tab = Table(
        title=f"the morning after, {morning.day} ({morning.replications} simulated mornings{forecast}): "
        f"riders lost at empty stations and finding full docks until {morning.window[-5:]}; stockouts in "
        f"{morning.window}, simulated and expected by the dissatisfaction model"
    )
    for col in ("method", "moved", "lost", "full docks", "sim.", "model"):
        tab.add_column(col, justify="left" if col == "method" else "right")
    for r in morning.table():
        tab.add_row(
            r["method"],
            f"{r['bikes_moved']:,}",
            f"{r['lost_empty']:,.0f}",
            f"{r['full_arrivals']:,.0f}",
            f"{r['window_simulated']:,.0f}",
            f"{r['window_predicted']:,.0f}",
        )
    return tab


def rebalance_cmd(
    scenario: Annotated[
        Path, typer.Argument(help="Nightly scenario YAML (e.g. scenarios/seoul-nightly.yaml).")
    ],
    status: Annotated[
        Path,
        typer.Option("--status", help=f"The night's status snapshot: {STATUS_FILES}."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder for routes.json/.csv/.geojson.")],
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.1, help="Solver seconds (default: the scenario's).")
    ] = None,
    seed: ScenarioSeedOption = None,
    max_iterations: Annotated[
        int | None,
        typer.Option(
            "--max-iterations",
            min=1,
            help="Search iterations per zone and for the repair (default: the scenario's; none: "
            "as many as --time-limit allows, and the routes then depend on timing). With a budget "
            "the same --seed gives the same routes unless --time-limit ends the search first.",
        ),
    ] = None,
    paths: Annotated[bool, typer.Option("--paths/--no-paths", help="Draw routes along the streets.")] = True,
    maps: MapsOption = True,
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate/--no-simulate",
            help="Simulate the next morning (lost trips) with no rebalancing, the greedy dispatcher "
            "and these routes; write morning.json.",
        ),
    ] = True,
    replications: Annotated[
        int, typer.Option("--replications", min=1, max=1000, help="Simulated mornings per method.")
    ] = 10,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Plan tonight's truck routes: which stations, in which order, how many bikes, when."""
    check_out_dir(out)  # before the solver modules load (seconds) and before any work
    from mobility.rebalancing.night import load_night_problem, night_provenance
    from mobility.rebalancing.snapshot import every_problem
    from mobility.rebalancing.solve import SolveParams, solve
    from mobility.rebalancing.travel import with_street_paths
    from mobility.rebalancing.validate import validate_plan
    from mobility.scenario.nightly import load_nightly

    t0 = time.perf_counter()
    scn = with_solver_overrides(
        load_nightly(scenario),
        {
            "time_limit": ("--time-limit", time_limit),
            "seed": ("--seed", seed),
            "max_iterations": ("--max-iterations", max_iterations),
        },
    )
    if simulate:  # a night whose morning cannot be simulated stops here, not after the solve
        from mobility.simulation.days import MORNING_NIGHTS, morning_night_problem

        if morning_night_problem(scn.night.date) is not None:
            raise InputError("night.date", str(scn.night.date), f"{MORNING_NIGHTS} (or --no-simulate)")
    t_read = time.perf_counter()  # wall_seconds of routes.json: from reading the snapshot to writing
    with progress_reporter(f"night {scn.night.date}", json_out=as_json) as say:
        say("reading the status snapshot and the demand model")
        with every_problem():  # a bad status file: every bad value of it, as the API's 422 lists them
            night = load_night_problem(scn, status, data_dir, progress=say)
        if night.travel.note:
            err_console.print(night.travel.note, style="yellow", highlight=False)
        for note in night.notes:  # status rows left out: said here, and in routes.json's status_report
            print_styled("note:", "yellow", note)
        problem, report = night.problem, night.report
        network_name, day = problem.meta["network"], problem.meta["day_type"]
        params = SolveParams(
            time_limit=scn.solver.time_limit,
            seed=scn.solver.seed,
            workers=scn.solver.workers,
            decompose=scn.solver.decompose,
            trucks_per_zone=scn.solver.trucks_per_zone,
            classic=scn.solver.classic,
            max_iterations=scn.solver.max_iterations,
        )
        trucks, limit = len(problem.trucks), params.time_limit
        say(f"routing {trucks} trucks, {problem.n_stations} stations ({limit:.0f} s)")
        plan = solve(problem, params, progress=say)
        if paths and night.travel.network is not None:
            say("drawing routes on the street network")
            plan = with_street_paths(plan, night.travel, problem)
        check = validate_plan(problem, plan)
        prov = night_provenance(scn, night, seed=params.seed)
        meta = {
            **plan.meta,
            "scenario": scn.name,
            "night": scn.night.date,
            "network": network_name,
            "targets": f"{scn.targets.source} ({day} morning, {night.level:.2f} × the profiles' level)",
            "status_report": report.to_dict(),
            "valid": check.ok,
        }
        plan = plan.with_provenance(prov).model_copy(
            update={"meta": meta, "wall_seconds": round(time.perf_counter() - t_read, 3)}
        )
        with staged_files(out, owns=NIGHT_FILES) as stage:  # all of the night's files, or none of them
            written, morning = _write_night(
                plan,
                night,
                scn,
                stage,
                simulate=simulate,
                maps=maps,
                replications=replications,
                data_dir=data_dir,
                progress=say,
            )
    files = [out / p.name for p in written]
    tot = plan.totals
    summary = {
        "out": [str(p) for p in files],
        "valid": check.ok,
        "violations": check.violations[:20],
        "totals": tot.__dict__,
        "stats": plan.stats.to_dict(),
        "morning_after": None if morning is None else morning.table(),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if as_json:
        print_json(summary)
    else:
        tab = Table(title=f"{scn.name}: {problem.n_stations} stations, {len(problem.trucks)} trucks")
        tab.add_column("figure")
        tab.add_column("value", justify="right")
        rows = [
            ("trucks used", f"{tot.trucks_used}"),
            ("stations visited", f"{tot.stations_visited}"),
            ("bikes moved", f"{tot.bikes_moved}"),
            ("km driven", f"{tot.km:,.1f}"),
            ("truck-hours", f"{tot.truck_hours:,.1f}"),
            (
                "dissatisfaction before → after",
                f"{tot.dissatisfaction_before:,.1f} → {tot.dissatisfaction_after:,.1f}",
            ),
            (
                "stations expected empty before → after",
                f"{tot.stations_empty_before} → {tot.stations_empty_after}",
            ),
            (
                "stations expected full before → after",
                f"{tot.stations_full_before} → {tot.stations_full_after}",
            ),
            ("objective", f"{tot.objective:,.2f}"),
            (
                "solver",
                f"{plan.stats.solver} ({plan.stats.seconds:.0f} s, stopped by "
                f"{plan.stats.extra.get('stopped_by', 'clock')})",
            ),
            ("valid (independent check)", "yes" if check.ok else f"NO: {len(check.violations)} violations"),
        ]
        for a, b in rows:
            tab.add_row(a, b)
        console.print(tab)
        if morning is not None:
            console.print(morning_table(morning))
        print_written(files)
    if not check.ok:
        for v in check.violations[:10]:
            print_styled("violation:", "red", v)
        print_error(
            f"the routes fail the independent check ({len(check.violations)} violations); "
            f"their files are written to {out} for inspection"
        )
        raise typer.Exit(1)


def _write_night(
    plan: RebalancingPlan,
    night: NightInputs,
    scn: NightlyScenario,
    out: Path,
    *,
    simulate: bool,
    maps: bool,
    replications: int,
    data_dir: Path | None,
    progress: Progress,
) -> tuple[list[Path], MorningAfter | None]:
    """Write the night's files into ``out``: the routes (:func:`write_outputs`), the simulated
    morning after (``simulate``) and the review maps (``maps``), each step told to ``progress``.
    Returns the files in the order written, and the morning after when simulated."""
    from mobility.rebalancing.night import night_provenance

    problem, seed = night.problem, scn.solver.seed
    files = write_outputs(plan, out)
    morning = None
    if simulate:
        import pandas as pd

        from mobility.rebalancing.baselines import greedy_dispatch
        from mobility.simulation.morning import morning_after

        progress("simulating the next morning (none, greedy, these routes)")
        greedy = greedy_dispatch(problem, seed=seed)
        morning = morning_after(
            night.stations if night.stations is not None else pd.DataFrame(),
            problem.bikes,
            {"no rebalancing": None, "greedy dispatcher": greedy.to_dict(), "ours": plan.to_dict()},
            night=scn.night.date,
            profiles=night.profiles,
            replications=replications,
            seed=seed,
            data_dir=data_dir,
            provenance=night_provenance(scn, night, seed=seed, routes=plan),
            level=night.level if scn.targets.source == "demand" else None,  # the curves' level
            progress=progress,
        )
        files.append(atomic_write_json(out / "morning.json", morning.model_dump(mode="json")))
    if maps:
        from mobility.export import write_default_maps

        progress("drawing map.html and map.png")
        files += write_default_maps(plan, out, data_dir=data_dir, problem=problem)
    return files, morning
