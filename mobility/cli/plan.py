"""``mobility plan SCENARIO --out DIR``: the expansion planner end to end.

Writes ``DIR/plan.json`` (schema: :func:`mobility.placement.plan.plan_json_schema`) and
``DIR/plan.geojson`` atomically, then the review maps ``DIR/map.html`` (offline, interactive) and
``DIR/map.png`` (``--no-maps`` skips them); shows progress on stderr and ends with a summary table.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mobility.cli.common import DataDirOption, JsonOption, console, err_console, print_json
from mobility.io import atomic_write_json


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
        "greedy_covered_population": plan.greedy_covered_population,
        "covered_population": a.covered_population,
        "siting_status": s.status,
        "siting_gap": s.gap,
        "fleet_status": plan.fleet_stats.status,
    }


def register(app: typer.Typer) -> None:
    """Add ``mobility plan``."""

    @app.command("plan")
    def plan_cmd(
        scenario: Annotated[Path, typer.Argument(help="Scenario YAML (see scenarios/).")],
        out: Annotated[
            Path, typer.Option("--out", help="Output folder for plan.json and plan.geojson.")
        ] = Path("out/plan"),
        time_limit: Annotated[
            float | None,
            typer.Option("--time-limit", min=0.1, help="Seconds per solver (default: the scenario's)."),
        ] = None,
        seed: Annotated[
            int | None, typer.Option("--seed", min=0, help="Random seed (default: the scenario's).")
        ] = None,
        maps: Annotated[
            bool, typer.Option("--maps/--no-maps", help="Also write DIR/map.html and DIR/map.png.")
        ] = True,
        data_dir: DataDirOption = None,
        json_out: JsonOption = False,
    ) -> None:
        """Place new stations and spread the fleet for SCENARIO; write plan.json, plan.geojson and maps."""
        from mobility.placement.pipeline import plan_expansion
        from mobility.placement.plan import plan_to_geojson
        from mobility.scenario.expansion import load_scenario

        sc = load_scenario(scenario)
        t0 = time.perf_counter()
        with err_console.status(f"planning {sc.name} ...") as status:

            def progress(msg: str) -> None:
                err_console.log(f"[{time.perf_counter() - t0:6.1f} s] {msg}", highlight=False)
                status.update(f"{sc.name}: {msg} ...")

            plan, _res = plan_expansion(
                sc, data_dir=data_dir, time_limit=time_limit, seed=seed, progress=progress
            )
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "plan.json", plan.to_dict())
        atomic_write_json(out / "plan.geojson", plan_to_geojson(plan))
        files = [out / "plan.json", out / "plan.geojson"]
        if maps:
            from mobility.export import write_default_maps

            with err_console.status("drawing map.html and map.png ..."):
                files += write_default_maps(plan, out, data_dir=data_dir)
        summary = _summary(plan) | {
            "out": str(out),
            "files": [str(p) for p in files],
            "seconds": round(time.perf_counter() - t0, 1),
        }
        if json_out:
            print_json(summary)
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
            str(a.stations),
            str(a.stations - b.stations),
            f"{a.docks:,}",
            f"{a.bikes:,}" if a.bikes is not None else "-",
            f"{a.bikes_per_10k:.1f}" if a.bikes_per_10k is not None else "-",
            "",
            f"{b.covered_share:.0%}",
            f"{a.covered_share:.0%}",
        )
        console.print(table)
        s = plan.siting_stats
        gap = "-" if s.gap is None else f"{s.gap:.3%}"
        greedy = plan.greedy_covered_population or 0.0
        console.print(
            f"siting: {s.solver} {s.status}, gap {gap}; residents within {plan.radius_m:g} m walk: "
            f"{b.covered_population:,.0f} -> {a.covered_population:,.0f} (greedy {greedy:,.0f}); "
            f"fleet: {plan.fleet_stats.status}."
        )
        for p in files:
            console.print(f"wrote {p}")
        for note in plan.notes:
            err_console.print(f"note: {note}", highlight=False)
