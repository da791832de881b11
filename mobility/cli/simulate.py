"""``mobility simulate``: trips demanded, served and lost for a plan, a night or a fleet size.

``mobility simulate SOURCE --day YYYY-MM-DD [--status S] [--routes R] [--replications N]
[--seed S] [--out DIR] [--json]`` writes into ``--out`` (default ``out/simulation``), as one set
(:func:`mobility.io.staged_files`): ``simulation.json`` (the
:class:`~mobility.simulation.result.SimulationResult`), ``stations.parquet`` (one row per station),
``station_hours.parquet`` (one row per station and hour) and ``stations_lost.geojson`` (the map
layer: stations with their lost trips).

``mobility simulate sweep SOURCE --day ... --fleet 20000:60000:5000 --out DIR`` writes
``sweep.parquet`` / ``sweep.csv`` / ``sweep.json``: served share against fleet size, citywide
and by district.

Rows of the station file left out (and status rows matched on their number only) are counted in
the documents' ``notes`` and said on stderr; the phases and the simulated days done show on stderr
as timed lines (:func:`~mobility.cli.common.progress_reporter`), under a spinner on a terminal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.table import Table

from mobility.cli.common import (
    STATUS_FILES,
    DataDirOption,
    JsonOption,
    SeedOption,
    check_out_dir,
    console,
    print_json,
    print_styled,
    print_written,
    progress_reporter,
    status_file_errors,
)
from mobility.errors import InputError
from mobility.io import atomic_path, atomic_write_json, staged_files
from mobility.simulation.fleets import parse_fleet

if TYPE_CHECKING:
    from mobility.rebalancing.plan import RebalancingPlan
    from mobility.simulation.engine import SimulationRun
    from mobility.simulation.estimate import Estimate
    from mobility.simulation.pipeline import Prepared
    from mobility.simulation.result import SimulationResult


def register(app: typer.Typer) -> None:
    """Add ``mobility simulate``."""
    app.command("simulate")(simulate_cmd)


def _read_routes(path: Path) -> RebalancingPlan:
    """The night's routes of ``path``, validated before any work; errors name ``--routes`` and
    the file as given (not a generic ``routes.json``)."""
    from mobility.rebalancing.plan import RebalancingPlan
    from mobility.simulation.data import read_document

    if not path.exists():
        raise InputError("--routes", str(path), "an existing routes.json")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError("--routes", str(path), f"a JSON routes document ({exc})") from exc
    if not isinstance(doc, dict):
        raise InputError("--routes", str(path), "a routes.json object")
    return read_document(RebalancingPlan, doc, "--routes", str(path))


DEFAULT_OUT = Path("out/simulation")
"""Where ``mobility simulate`` writes without ``--out``."""


def days_progress(progress: Callable[[str], None], what: str, steps: int = 10) -> Callable[[int, int], None]:
    """A ``(done, total)`` callback of the engine that reports ``what: n/N days simulated``
    through ``progress`` for the first day and at every ``1/steps`` of the days, not at every day
    (``steps=1``: the first and the last day, as each point of a sweep reports)."""
    last = [-1]

    def report(done: int, total: int) -> None:
        step = done * steps // max(total, 1)
        if step != last[0] or done == total:
            last[0] = step
            progress(f"{what}: {done}/{total} days simulated")

    return report


def interval_text(low: float, high: float, fmt: str, replications: int) -> str:
    """The 95 % interval of the replications as ``low–high``; ``n/a (1 replication)`` for a
    single day (its low and high are that day's value: no interval)."""
    if replications < 2:
        return "n/a (1 replication)"
    return f"{fmt.format(low)}–{fmt.format(high)}"


def interval_of(e: Estimate, fmt: str, replications: int) -> str:
    """:func:`interval_text` of an estimate."""
    return interval_text(e.low, e.high, fmt, replications)


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
    day: Annotated[
        str,
        typer.Option("--day", help="The simulated day, YYYY-MM-DD (2019..2025; 2026..2027 as a forecast)."),
    ],
    sweep_source: Annotated[
        str | None, typer.Argument(help="After 'sweep': the SOURCE to sweep.", show_default=False)
    ] = None,
    status: Annotated[
        Path | None,
        typer.Option("--status", help=f"Start inventory: a status snapshot, {STATUS_FILES}."),
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
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = DEFAULT_OUT,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Simulate riders for a day: trips demanded, served, lost at empty stations, detours, full docks.

    Start inventory without --status: the plan's allocation for a plan.json, else the derived
    evening snapshot of the day before carried through the night. `mobility simulate sweep SOURCE
    --fleet 20000:60000:5000` gives the served share against fleet size.
    """
    from mobility.rebalancing.snapshot import read_status
    from mobility.simulation.data import parse_day
    from mobility.simulation.engine import RebalanceRule
    from mobility.simulation.model import RiderParams
    from mobility.simulation.pipeline import prepare, simulate, sweep
    from mobility.simulation.sweep import fleet_for_95pct_text, sweep_document, write_sweep

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
    parse_day(day)  # a day that is not YYYY-MM-DD fails before any work
    check_out_dir(out)
    fleets = parse_fleet(fleet) if fleet is not None else []
    t0 = time.perf_counter()
    with status_file_errors(status, reading=True):  # a bad file names --status, the file and every bad value
        status_table = read_status(status) if status is not None else None
    routes_doc = _read_routes(routes) if routes is not None else None
    label = f"simulating {source} on {day}" if not is_sweep else f"fleet sweep of {source} on {day}"
    params = RiderParams(
        walk_radius_m=walk_radius,
        rebalance=RebalanceRule(
            every_s=rebalance_every * 60, low=rebalance_low, high=rebalance_high, cap=rebalance_cap
        ),
    )
    with progress_reporter(label, json_out=as_json) as progress:
        with status_file_errors(status):  # rows that fit no station of the set: the file named too
            prep = prepare(
                source,
                day,
                status=status_table,
                routes=routes_doc,
                data_dir=data_dir,
                params=params,
                progress=progress,
            )
        prep.add_inputs({"status": status, "routes": routes})
        print_written([], prep.input_notes)  # rows left out are said, not only recorded
        if is_sweep:
            rows: list[pd.DataFrame] = []
            for i, f in enumerate(fleets):
                what = f"fleet {f:,} ({i + 1}/{len(fleets)})"
                rows.append(sweep(prep, [f], replications, seed, progress=days_progress(progress, what, 1)))
            table = pd.concat(rows, ignore_index=True)
            doc = sweep_document(prep, table, replications, seed, time.perf_counter() - t0)
            progress("writing outputs")
            with staged_files(out) as stage:  # the sweep's files as one set
                write_sweep(stage, table, doc)
        else:
            what = f"{len(prep.stations):,} stations"
            run_, result = simulate(prep, replications, seed, progress=days_progress(progress, what))
            seconds_total = round(time.perf_counter() - t0, 2)  # simulation.json's: up to writing
            result = result.model_copy(update={"seconds_total": seconds_total})
            progress("writing outputs")
            t_write = time.perf_counter()
            with staged_files(out) as stage:  # all of them or none
                write_outputs(stage, result, run_, prep)
            seconds_writing = round(time.perf_counter() - t_write, 2)
    if is_sweep:
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
                interval_text(r.served_share_low, r.served_share_high, "{:.1%}", doc.replications),
                f"{r.lost_empty:,.0f}",
            )
        console.print(tab)
        console.print(f"fleet for 95 % served: {fleet_for_95pct_text(doc)}; written to {out}")
        return
    summary = result.summary()
    # the document's figures as they are; writing its files, which they cannot count, beside them
    summary |= {"seconds_total": seconds_total, "seconds_writing": seconds_writing}
    if as_json:
        print_json(summary)
        return
    _print_run(result, prep.model.notes, out, seconds_total, seconds_writing)


def _print_run(
    result: SimulationResult, model_notes: list[str], out: Path, seconds_total: float, seconds_writing: float
) -> None:
    """The table of one simulated day, the model's notes (a forecast day above all; rows left out
    were said before the run), the lowest districts and where the files went."""
    from mobility.simulation.result import FIGURES

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
        tab.add_row(name, fmt.format(e.mean), interval_of(e, fmt, result.replications))
    console.print(tab)
    for note in model_notes:  # a forecast day above all (rows left out were said before the run)
        print_styled("note:", "yellow", note)
    worst = sorted(result.districts, key=lambda d: d.figures.served_share.mean)[:5]
    console.print(
        "lowest served share: " + ", ".join(f"{d.gu} {d.figures.served_share.mean:.1%}" for d in worst)
    )
    console.print(
        f"written to {out} ({seconds_total:.1f} s, then {seconds_writing:.1f} s writing; "
        f"engine {result.seconds:.1f} s)"
    )


__all__ = ["DEFAULT_OUT", "days_progress", "interval_text", "register", "simulate_cmd", "write_outputs"]
