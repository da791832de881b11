"""``mobility plan SCENARIO --out DIR``: the expansion planner end to end, and its curves.

``mobility plan SCENARIO`` (short for ``mobility plan run SCENARIO``) writes ``DIR/plan.json``
(schema: :func:`mobility.placement.plan.plan_json_schema`) and ``DIR/plan.geojson`` atomically,
then the review maps ``DIR/map.html`` (offline, interactive) and ``DIR/map.png`` (``--no-maps``
skips them); shows progress on stderr and ends with a summary table. A scenario whose fleet rules
cannot hold on the baseline's docks and the district populations
(:func:`mobility.placement.preflight.check_scenario`) is refused first, exit 2, before the walking
network and the candidate sites are built. A plan that fails the
independent check (:mod:`mobility.placement.validate`) is written all the same, for inspection,
and the command exits 1. Files of an earlier run in ``DIR`` that this run does not write (the maps,
after ``--no-maps``) are removed (:data:`PLAN_FILES`).

``mobility plan sweep SCENARIO --new-stations A:B:STEP`` (or ``--budget A:B:STEP``) plans every
point of a coverage or budget curve (:mod:`mobility.placement.sweep`) and writes
``DIR/sweep.json``, ``DIR/sweep.csv``, ``DIR/sweep.png``, ``DIR/sweep.svg`` and ``DIR/sweep.html``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from typer._click import Command, Context
from typer.core import TyperGroup

from mobility.cli.common import (
    DataDirOption,
    JsonOption,
    MapsOption,
    ScenarioSeedOption,
    check_out_dir,
    console,
    err_console,
    print_error,
    print_json,
    print_written,
    progress_reporter,
    siting_line,
    solve_time_limit,
    with_solver_overrides,
)
from mobility.io import atomic_write_json, staged_files

if TYPE_CHECKING:  # the library is imported by the command, not by ``mobility --help``
    from mobility.placement.validate import PlanValidationReport
    from mobility.scenario.expansion import ExpansionScenario

PLAN_FILES = ("plan.json", "plan.geojson", "map.html", "map.png")
"""What ``mobility plan`` may write into ``--out``; those a run did not write (the maps of
``--no-maps``) are removed as the run's files move in (:func:`mobility.io.staged_files`)."""
SWEEP_FILES = ("sweep.json", "sweep.csv", "sweep.png", "sweep.svg", "sweep.html")
"""What ``mobility plan sweep`` writes into ``--out``."""


def _summary(plan: Any) -> dict[str, Any]:
    b, a = plan.city_before, plan.city_after
    s = plan.siting_stats
    return {
        "scenario": plan.scenario,
        "new_stations": len(plan.new_stations),
        "stations": a.stations,
        "docks": a.docks,
        "bikes": a.bikes,
        "bikes_per_10k": a.bikes_per_10k,
        "covered_share_before": b.covered_share,
        "covered_share_after": a.covered_share,
        **_served(plan),
        "greedy_covered_population": plan.greedy_covered_population,
        "covered_population": a.covered_population,
        "siting_status": s.status,
        "siting_gap": s.gap,
        "fleet_status": plan.fleet_stats.status,
    }


def _served(plan: Any) -> dict[str, Any]:
    """Simulated served share before and after, with 95 % intervals (empty when not simulated)."""
    sim = plan.simulation
    if sim is None:
        return {}
    out: dict[str, Any] = {"simulated_day": sim.day, "simulation_replications": sim.replications}
    for side, net in (("before", sim.before), ("after", sim.after)):
        e = net.figures.served_share
        out |= {
            f"served_share_{side}": round(e.mean, 4),
            f"served_share_{side}_low": round(e.low, 4),
            f"served_share_{side}_high": round(e.high, 4),
        }
    out["simulation_seconds"] = sim.seconds
    return out


def _with_overrides(sc: ExpansionScenario, time_limit: float | None, seed: int | None) -> ExpansionScenario:
    """The scenario with ``--time-limit`` / ``--seed`` applied, as the plan's provenance records it."""
    return with_solver_overrides(sc, {"time_limit": ("--time-limit", time_limit), "seed": ("--seed", seed)})


class _PlanGroup(TyperGroup):
    """``mobility plan SCENARIO`` runs ``mobility plan run SCENARIO`` (the first word is no subcommand)."""

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


def register(app: typer.Typer) -> None:
    """Add ``mobility plan`` (``run``, the default, and ``sweep``)."""
    group = typer.Typer(
        cls=_PlanGroup,
        no_args_is_help=True,
        help="Expansion plans: `mobility plan SCENARIO` (= `plan run`) and `mobility plan sweep`.",
    )
    app.add_typer(group, name="plan")
    _register_sweep(group)

    @group.command("run")
    def plan_cmd(
        scenario: Annotated[Path, typer.Argument(help="Scenario YAML (see scenarios/).")],
        out: Annotated[
            Path, typer.Option("--out", help="Output folder for plan.json and plan.geojson.")
        ] = Path("out/plan"),
        time_limit: Annotated[
            float | None,
            typer.Option("--time-limit", min=0.1, help="Seconds per solver (default: the scenario's)."),
        ] = None,
        seed: ScenarioSeedOption = None,
        maps: MapsOption = True,
        simulate: Annotated[
            bool | None,
            typer.Option(
                "--simulate/--no-simulate",
                help="Simulate trips served before and after the plan (default: the scenario's "
                "simulation.enabled, on).",
                show_default=False,
            ),
        ] = None,
        data_dir: DataDirOption = None,
        json_out: JsonOption = False,
    ) -> None:
        """Place new stations and spread the fleet for SCENARIO; write plan.json, plan.geojson and maps."""
        from mobility.export.plans import plan_feature_collection
        from mobility.placement.pipeline import plan_expansion
        from mobility.placement.preflight import check_scenario
        from mobility.placement.validate import validate_plan
        from mobility.scenario.expansion import load_scenario

        check_out_dir(out)
        sc = _with_overrides(load_scenario(scenario), time_limit, seed)
        check_scenario(sc, data_dir)  # rules that cannot hold: refused in a second, before the long stages
        t0 = time.perf_counter()
        with (
            solve_time_limit(sc.solver.time_limit),
            progress_reporter(f"planning {sc.name}", json_out=json_out) as progress,
        ):
            plan, _res = plan_expansion(
                sc,
                data_dir=data_dir,
                time_limit=time_limit,
                seed=seed,
                progress=progress,
                simulate=simulate,
            )
        check = validate_plan(plan, sc)  # independent of the planner (mobility.placement.validate)
        with staged_files(out, owns=PLAN_FILES) as stage:  # one set: all of them or none
            written = [
                atomic_write_json(stage / "plan.json", plan.to_dict()),
                atomic_write_json(stage / "plan.geojson", plan_feature_collection(plan)),
            ]
            if maps:
                from mobility.export import write_default_maps

                with err_console.status("drawing map.html and map.png ..."):
                    written += write_default_maps(plan, stage, data_dir=data_dir)
        files = [out / p.name for p in written]
        summary = _summary(plan) | {
            "valid": check.ok,
            "violations": check.messages[:20],
            "out": str(out),
            "files": [str(p) for p in files],
            "seconds": round(time.perf_counter() - t0, 1),
        }
        if json_out:
            print_json(summary)
            _exit_if_invalid(check, out)
            return
        table = Table(title=f"{sc.name}: {len(plan.new_stations)} new stations")
        for col in (
            "district",
            "stations",
            "+new",
            "docks",
            "bikes",
            "per 10k",
            "floor",
            "covered before",
            "after",
        ):
            if col == "district":  # Hangul is two cells wide: keep 동대문구 whole on narrow terminals
                table.add_column(col, no_wrap=True, min_width=8)
            else:
                table.add_column(col, justify="right")
        for d in plan.districts:
            table.add_row(
                d.gu,
                str(d.stations),
                str(d.stations - d.stations_before),
                f"{d.docks:,}",
                f"{d.bikes:,}",
                f"{d.bikes_per_10k:.1f}",
                "-" if d.min_bikes_per_10k is None else f"{d.min_bikes_per_10k:g}",
                f"{d.covered_share_before:.0%}",
                f"{d.covered_share:.0%}",
            )
        b, a = plan.city_before, plan.city_after
        table.add_section()
        table.add_row(
            "Seoul",
            f"{a.stations:,}",
            f"{a.stations - b.stations:,}",
            f"{a.docks:,}",
            f"{a.bikes:,}" if a.bikes is not None else "-",
            f"{a.bikes_per_10k:.1f}" if a.bikes_per_10k is not None else "-",
            "",
            f"{b.covered_share:.0%}",
            f"{a.covered_share:.0%}",
        )
        console.print(table)
        s, f = plan.siting_stats, plan.fleet_stats
        fleet_gap = "" if f.gap is None else f", gap {f.gap:.3%}"
        greedy = plan.greedy_covered_population or 0.0
        console.print(
            f"{siting_line(s)}; residents within {plan.radius_m:g} m walk: "
            f"{b.covered_population:,.0f} -> {a.covered_population:,.0f} (greedy {greedy:,.0f}); "
            f"fleet: {f.solver} {f.status}{fleet_gap}."
        )
        if check.ok:
            console.print("independent check (mobility.placement.validate): the plan meets its scenario.")
        else:
            err_console.print(f"independent check: {len(check.violations)} violations of the scenario")
            for message in check.messages[:20]:
                err_console.print(f"  {message}")
        if plan.simulation is not None:
            sim = plan.simulation
            sb, sa = sim.before.figures.served_share, sim.after.figures.served_share
            bf, af = sim.before.figures, sim.after.figures
            lost = (bf.lost_empty.mean, af.lost_empty.mean)
            console.print(
                f"trips served ({sim.day}, {sim.replications} simulated days, 95 % interval): "
                f"{sb.mean:.1%} ({sb.low:.1%}-{sb.high:.1%}) -> {sa.mean:.1%} ({sa.low:.1%}-{sa.high:.1%}); "
                f"lost at empty stations {lost[0]:,.0f} -> {lost[1]:,.0f}, "
                f"full docks {bf.full_arrivals.mean:,.0f} -> {af.full_arrivals.mean:,.0f} "
                f"({sim.seconds:.0f} s)."
            )
        timing = [] if plan.wall_seconds is None else [f"end-to-end {plan.wall_seconds:.1f} s"]
        print_written(files, [*plan.notes, *timing])  # the time: plan.json's wall_seconds, not a note
        _exit_if_invalid(check, out)


def _exit_if_invalid(check: PlanValidationReport, out: Path) -> None:
    """Exit 1 (the work ran but did not pass) when the plan fails the independent check; its
    files are written all the same, for the planner to look at."""
    if not check.ok:
        print_error(
            f"the plan fails the independent check ({len(check.violations)} violations of the "
            f"scenario); its files are written to {out} for inspection"
        )
        raise typer.Exit(1)


def _register_sweep(group: typer.Typer) -> None:
    @group.command("sweep")
    def sweep_cmd(
        scenario: Annotated[Path, typer.Argument(help="Scenario YAML (see scenarios/).")],
        new_stations: Annotated[
            str | None,
            typer.Option(
                "--new-stations",
                help="Station counts FIRST:LAST:STEP, e.g. 300:800:100 (at most that many new).",
            ),
        ] = None,
        budget: Annotated[
            str | None,
            typer.Option("--budget", help="Budget totals FIRST:LAST:STEP (scenarios with a budget section)."),
        ] = None,
        with_500m: Annotated[
            bool, typer.Option("--with-500m", help="Also report coverage within a 500 m walk.")
        ] = False,
        out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/sweep"),
        time_limit: Annotated[
            float | None,
            typer.Option("--time-limit", min=0.1, help="Seconds per point (default: the scenario's)."),
        ] = None,
        seed: ScenarioSeedOption = None,
        data_dir: DataDirOption = None,
        json_out: JsonOption = False,
    ) -> None:
        """Plan SCENARIO at every station count (or budget): a coverage curve as JSON, CSV and charts.

        The data is built once; each point is solved warm-started from the previous one. A point
        where the fleet rules cannot hold is reported with the reason and still sited.
        """
        from mobility.errors import InputError
        from mobility.export.curve import curve_rows, write_curve_chart, write_curve_csv, write_curve_html
        from mobility.placement.sweep import sweep, sweep_axis
        from mobility.scenario.expansion import load_scenario

        axis, values = sweep_axis(new_stations, budget, names=("--new-stations", "--budget"))
        check_out_dir(out)
        sc = _with_overrides(load_scenario(scenario), time_limit, seed)
        if axis == "budget" and sc.budget is None:
            raise InputError("--budget", budget, f"a scenario with a budget section ({scenario} has none)")
        t0 = time.perf_counter()
        with (
            solve_time_limit(sc.solver.time_limit),
            progress_reporter(f"sweeping {sc.name}", json_out=json_out) as progress,
        ):
            result = sweep(
                sc,
                axis,
                values,
                data_dir=data_dir,
                time_limit=time_limit,
                seed=seed,
                radii=(500.0,) if with_500m else (),
                progress=progress,
            )
        doc = result.to_dict()
        with staged_files(out, owns=SWEEP_FILES) as stage:  # one set: all of them or none
            written = [
                atomic_write_json(stage / "sweep.json", doc),
                write_curve_csv(result, stage / "sweep.csv"),
            ]
            written += [write_curve_chart(result, stage / f"sweep.{fmt}") for fmt in ("png", "svg")]
            written.append(write_curve_html(result, stage / "sweep.html"))
        files = [out / p.name for p in written]
        if json_out:
            print_json(
                {
                    "points": curve_rows(result),
                    "scenario": sc.name,
                    "axis": axis,
                    "covered_share_before": result.covered_share_before,
                    "files": [str(p) for p in files],
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
            return
        table = Table(title=f"{sc.name}: coverage curve ({len(result.points)} points)")
        for col in (
            "new",
            "budget",
            "covered",
            "share",
            "500 m",
            "trips/day",
            "per added",
            "gap",
            "status",
            "fleet",
        ):
            table.add_column(col, justify="right")
        for p in result.points:
            table.add_row(
                str(p.sited),
                "-" if p.budget is None else f"{p.budget:,.0f}",
                f"{p.covered_population:,.0f}",
                f"{p.covered_share:.1%}",
                "-" if p.covered_share_500 is None else f"{p.covered_share_500:.1%}",
                "-" if p.predicted_trips is None else f"{p.predicted_trips:,.0f}",
                "-"
                if p.marginal_residents_per_station is None
                else f"{p.marginal_residents_per_station:,.0f}",
                "-" if p.gap is None else f"{p.gap:.3%}",
                p.status,
                "ok" if p.fleet_feasible else "cannot hold",
            )
        console.print(table)
        for p in result.points:
            if p.fleet_reason:
                err_console.print(
                    f"{p.new_stations}: fleet rules cannot hold: {p.fleet_reason}", highlight=False
                )
        print_written(files)
