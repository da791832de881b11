"""``mobility simulate``: trips demanded, served and lost for a plan, a night or a fleet size.

``mobility simulate SOURCE --day YYYY-MM-DD [--status S] [--routes R] [--replications N]
[--seed S] --out DIR [--json]`` writes into ``--out``, as one set (:func:`mobility.io.staged_files`):
``simulation.json`` (the :class:`~mobility.simulation.result.SimulationResult`),
``stations.parquet`` (one row per station), ``station_hours.parquet`` (one row per station and hour) and
``stations_lost.geojson`` (the map layer: stations with their lost trips).

``mobility simulate sweep SOURCE --day ... --fleet 20000:60000:5000 --out DIR`` writes
``sweep.parquet`` / ``sweep.csv`` / ``sweep.json``: served share against fleet size, citywide
and by district.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from mobility.cli.common import (
    DataDirOption,
    JsonOption,
    SeedOption,
    check_out_dir,
    console,
    err_console,
    print_json,
)
from mobility.errors import InputError
from mobility.io import atomic_path, atomic_write_json, staged_files
from mobility.simulation.fleets import parse_fleet

if TYPE_CHECKING:
    from mobility.simulation.engine import SimulationRun
    from mobility.simulation.pipeline import Prepared
    from mobility.simulation.result import SimulationResult


def register(app: typer.Typer) -> None:
    """Add ``mobility simulate``."""
    app.command("simulate")(simulate_cmd)


def _read_routes(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError("--routes", str(path), "an existing routes.json")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError("--routes", str(path), f"a JSON routes document ({exc})") from exc
    if not isinstance(doc, dict):
        raise InputError("--routes", str(path), "a routes.json object")
    return doc


def write_outputs(out: Path, result: SimulationResult, run: SimulationRun, prep: Prepared) -> list[Path]:
    """Write the result document, the Parquet tables and the map layer into ``out``."""
    import geopandas as gpd

    from mobility.export.geojson import write_layer_geojson
    from mobility.simulation.result import station_hour_table, station_table

    out.mkdir(parents=True, exist_ok=True)
    paths = [
        out / "simulation.json",
        out / "stations.parquet",
        out / "station_hours.parquet",
        out / "stations_lost.geojson",
    ]
    atomic_write_json(paths[0], result.model_dump(mode="json"))
    st = station_table(run, prep.stations, prep.bikes)
    st["rate_source"] = prep.model.rate_source
    with atomic_path(paths[1]) as tmp:
        st.to_parquet(tmp, index=False)
    with atomic_path(paths[2]) as tmp:
        station_hour_table(run, prep.stations).to_parquet(tmp, index=False)
    keep = [
        "station_id",
        "name",
        "gu",
        "docks",
        "start_bikes",
        "demanded_mean",
        "served_mean",
        "lost_empty_mean",
        "lost_empty_low",
        "lost_empty_high",
        "detoured_mean",
        "full_arrivals_mean",
        "extra_minutes_mean",
        "served_share_mean",
    ]
    gdf = gpd.GeoDataFrame(
        st[keep].copy(), geometry=gpd.points_from_xy(st["lon"], st["lat"]), crs="EPSG:4326"
    )
    gdf = gdf.sort_values("lost_empty_mean", ascending=False, kind="stable")
    write_layer_geojson(gdf, paths[3], layer="stations_lost")
    return paths


def simulate_cmd(
    source: Annotated[
        str,
        typer.Argument(help="plan.json, a station vintage (2025-12, 2019-12) or a station file; or 'sweep'."),
    ],
    day: Annotated[str, typer.Option("--day", help="The simulated day, YYYY-MM-DD (2019..2025).")],
    sweep_source: Annotated[
        str | None, typer.Argument(help="After 'sweep': the SOURCE to sweep.", show_default=False)
    ] = None,
    status: Annotated[
        Path | None,
        typer.Option("--status", help="Start inventory: a status snapshot (CSV/Parquet/bikeList JSON)."),
    ] = None,
    routes: Annotated[
        Path | None, typer.Option("--routes", help="A night's routes.json applied to the start inventory.")
    ] = None,
    replications: Annotated[
        int, typer.Option("--replications", min=1, max=10_000, help="Simulated days.")
    ] = 100,
    seed: SeedOption = 0,
    fleet: Annotated[
        str | None,
        typer.Option(
            "--fleet",
            help="sweep only: fleet sizes FROM:TO:STEP (TO included), e.g. 20000:60000:5000, or a list.",
        ),
    ] = None,
    walk_radius: Annotated[
        float,
        typer.Option(
            "--walk-radius", min=0, max=5000, help="Metres a rider walks to another station for a bike."
        ),
    ] = 500.0,
    rebalance_every: Annotated[
        int,
        typer.Option(
            "--rebalance-every",
            min=0,
            max=1440,
            help="Daytime rebalancing by rules every N minutes, 07-22 h (0: none): stations below "
            "--rebalance-low of their docks are filled to half from stations above --rebalance-high.",
        ),
    ] = 0,
    rebalance_low: Annotated[
        float, typer.Option("--rebalance-low", min=0.0, max=0.5, help="Fill ratio that calls a truck.")
    ] = 0.2,
    rebalance_high: Annotated[
        float, typer.Option("--rebalance-high", min=0.5, max=1.0, help="Fill ratio that gives bikes.")
    ] = 0.8,
    rebalance_cap: Annotated[
        int,
        typer.Option("--rebalance-cap", min=0, help="At most this many bikes moved a round (0: no limit)."),
    ] = 0,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Simulate riders for a day: trips demanded, served, lost at empty stations, detours, full docks.

    Start inventory without --status: the plan's allocation for a plan.json, else the derived
    evening snapshot of the day before carried through the night. `mobility simulate sweep SOURCE
    --fleet 20000:60000:5000` gives the served share against fleet size.
    """
    from mobility.rebalancing.snapshot import read_status
    from mobility.simulation.engine import RebalanceRule
    from mobility.simulation.model import RiderParams
    from mobility.simulation.pipeline import prepare, simulate, sweep
    from mobility.simulation.result import FIGURES
    from mobility.simulation.sweep import sweep_document, write_sweep

    is_sweep = source == "sweep"
    if is_sweep:
        if sweep_source is None:
            raise InputError("SOURCE", None, "mobility simulate sweep SOURCE --fleet A:B:STEP")
        if fleet is None:
            raise InputError("--fleet", None, "fleet sizes A:B:STEP for a sweep")
        source = sweep_source
    elif sweep_source is not None:
        raise InputError("SOURCE", f"{source} {sweep_source}", "one SOURCE (or 'sweep SOURCE')")
    elif fleet is not None:
        raise InputError("--fleet", fleet, "only with 'mobility simulate sweep SOURCE'")
    if out is None:
        raise InputError("--out", None, "an output folder")
    check_out_dir(out)
    fleets = parse_fleet(fleet) if fleet is not None else []
    t0 = time.perf_counter()
    status_table = read_status(status) if status is not None else None
    routes_doc = _read_routes(routes) if routes is not None else None
    with err_console.status("loading stations, demand model and street network…"):
        prep = prepare(
            source,
            day,
            status=status_table,
            routes=routes_doc,
            data_dir=data_dir,
            params=RiderParams(
                walk_radius_m=walk_radius,
                rebalance=RebalanceRule(
                    every_s=rebalance_every * 60, low=rebalance_low, high=rebalance_high, cap=rebalance_cap
                ),
            ),
        )
        prep.add_inputs({"status": status, "routes": routes})
    if is_sweep:
        rows: list[pd.DataFrame] = []
        for i, f in enumerate(fleets):
            with err_console.status(f"fleet {f:,} ({i + 1}/{len(fleets)}), {replications} days…"):
                rows.append(sweep(prep, [f], replications, seed))
        table = pd.concat(rows, ignore_index=True)
        doc = sweep_document(prep, table, replications, seed, time.perf_counter() - t0)
        with staged_files(out) as stage:  # the sweep's files as one set
            write_sweep(stage, table, doc)
        if as_json:
            print_json(doc.summary())
            return
        tab = Table(title=f"served share against fleet size: {prep.source}, {doc.day}")
        for head in ("fleet", "served share", "95% interval", "lost at empty"):
            tab.add_column(head, justify="right")
        for r in doc.citywide:
            tab.add_row(
                f"{r.fleet:,}",
                f"{r.served_share:.1%}",
                f"{r.served_share_low:.1%}–{r.served_share_high:.1%}",
                f"{r.lost_empty:,.0f}",
            )
        console.print(tab)
        console.print(f"fleet for 95 % served: {doc.fleet_for_95pct or 'not reached'}; written to {out}")
        return
    with err_console.status(f"simulating {replications} days of {len(prep.stations):,} stations…"):
        run_, result = simulate(prep, replications, seed)
    result = result.model_copy(update={"seconds_total": round(time.perf_counter() - t0, 2)})
    with err_console.status("writing outputs…"), staged_files(out) as stage:  # all of them or none
        write_outputs(stage, result, run_, prep)
    summary = result.summary()
    summary["seconds_total"] = round(time.perf_counter() - t0, 2)
    if as_json:
        print_json(summary)
        return
    c = result.citywide
    tab = Table(
        title=f"{result.source}, {result.day} ({result.day_type}); {result.replications} days; "
        f"start: {result.start_inventory}"
    )
    for col in ("figure", "mean", "95% interval"):
        tab.add_column(col, justify="right" if col != "figure" else "left")
    for name in FIGURES:
        e = getattr(c, name)
        fmt = "{:.1%}" if name == "served_share" else "{:,.0f}"
        tab.add_row(name, fmt.format(e.mean), f"{fmt.format(e.low)}–{fmt.format(e.high)}")
    console.print(tab)
    worst = sorted(result.districts, key=lambda d: d.figures.served_share.mean)[:5]
    console.print(
        "lowest served share: " + ", ".join(f"{d.gu} {d.figures.served_share.mean:.1%}" for d in worst)
    )
    console.print(f"written to {out} ({summary['seconds_total']:.1f} s; engine {result.seconds:.1f} s)")


__all__ = ["register", "simulate_cmd", "write_outputs"]
