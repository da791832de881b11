"""``mobility demand``: station demand profiles, morning targets, snapshots, demand potential."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from mobility.cli.common import (
    DataDirOption,
    JsonOption,
    check_out_file,
    console,
    err_console,
    print_json,
    print_written,
    summary_cell,
)
from mobility.errors import InputError
from mobility.io import atomic_path, atomic_write_csv

demand_app = typer.Typer(
    help="Station demand: hourly profiles, morning target inventories, evening snapshots, "
    "and the demand a new station would attract.",
    no_args_is_help=True,
)

_SPARK = "▁▂▃▄▅▆▇█"


class DayTypeChoice(StrEnum):
    """The day types of the demand profiles (``mobility.demand.holidays.DAY_TYPES``)."""

    weekday = "weekday"
    weekend = "weekend"


DayTypeOption = Annotated[
    DayTypeChoice,
    typer.Option("--day-type", help="weekday or weekend (weekends and Korean holidays)."),
]
"""``--day-type`` of ``demand profile`` and ``demand targets``: which day type's profiles."""


def register(app: typer.Typer) -> None:
    """Add the ``demand`` group."""
    app.add_typer(demand_app, name="demand")


def parse_clock(text: str) -> float:
    """``"07:00"`` / ``"7"`` / ``"7:30"`` -> hours after midnight."""
    m = re.fullmatch(r"\s*(\d{1,2})(?::(\d{2}))?\s*", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2) or 0) > 59:
        raise InputError("--at", text, "a clock time HH:MM between 00:00 and 23:59")
    return int(m.group(1)) + int(m.group(2) or 0) / 60.0


def parse_duration(text: str) -> float:
    """``"3h"``, ``"90min"``, ``"2.5"`` (hours) -> hours."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(h|hours?|m|min|minutes?)?\s*", text)
    if not m:
        raise InputError("--horizon", text, "a duration such as 3h or 90min")
    value = float(m.group(1))
    hours = value / 60.0 if (m.group(2) or "h").startswith("m") else value
    if not 0 < hours <= 24:
        raise InputError("--horizon", text, "a duration in (0, 24h]")
    return hours


def check_out(out: Path) -> str:
    """The output format from the file's extension (checked before any work is done)."""
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InputError("--out", str(out), "a file name ending in .parquet or .csv")
    return suffix


def write_table(df: pd.DataFrame, out: Path) -> None:
    """Write Parquet or CSV (by the file's extension) atomically; CSV through the one writer."""
    if check_out(out) == ".parquet":
        with atomic_path(out) as tmp:
            df.to_parquet(tmp, index=False)
        return
    flat = df.copy()
    for col in flat.columns:
        if flat[col].map(lambda v: isinstance(v, list)).any():
            flat[col] = flat[col].map(lambda v: " ".join(f"{x:g}" for x in v))
    atomic_write_csv(out, flat)  # UTF-8 with a BOM, as every CSV of the project


def sparkline(values: list[float]) -> str:
    """A one-line bar chart of ``values``."""
    top = max(values) if values else 0.0
    if top <= 0:
        return _SPARK[0] * len(values)
    return "".join(_SPARK[min(int(v / top * (len(_SPARK) - 1) + 0.5), len(_SPARK) - 1)] for v in values)


@demand_app.command("build")
def build_cmd(
    data_dir: DataDirOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Ignore the cached table.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the station demand table (hourly rates per station and day type) into the cache."""
    from mobility.demand.data import load_profiles

    prof = load_profiles(data_dir, rebuild=rebuild)
    st = prof.stations
    summary: dict[str, Any] = {
        "stations": len(st),
        "with_2023_usage": int((st["level_source"] != "district median").sum()),
        "with_trips": int((st["trip_rows"] > 0).sum()),
        "rentals_per_weekday": float(prof.rent[:, 0].sum()),
        "rentals_per_weekend_day": float(prof.rent[:, 1].sum()),
        "returns_per_weekday": float(prof.ret[:, 0].sum()),
        "od_rows": len(prof.od),
        "shrinkage_alpha": prof.alpha,
        "quality": prof.report.to_dict() if prof.report.rows_read else None,
    }
    if as_json:
        print_json(summary)
        return
    t = Table(title="Station demand profiles", show_header=False)
    for k, v in summary.items():
        if k != "quality":
            t.add_row(k.replace("_", " "), summary_cell(v))
    console.print(t)


@demand_app.command("profile")
def profile_cmd(
    station: Annotated[str, typer.Argument(help="Station number (e.g. 2301) or name (e.g. 현대고등학교).")],
    day_type: DayTypeOption = DayTypeChoice.weekday,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw the profile to this PNG.")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print one station's 24-hour rental and return profile."""
    from mobility.demand.data import load_profiles
    from mobility.demand.profiles import profile_summary

    if plot is not None:
        if plot.suffix.lower() != ".png":  # the figure is always a PNG: never one under another name
            raise InputError("--plot", str(plot), "a file name ending in .png")
        check_out_file(plot, "--plot")
    prof = load_profiles(data_dir)
    info = profile_summary(prof, station, day_type.value)
    if plot is not None:
        _plot_profile(info, plot)
        info["plot"] = str(plot)
    if as_json:
        print_json(info)
        return
    rent = [h["rent_rate"] for h in info["hours"]]
    ret = [h["return_rate"] for h in info["hours"]]
    console.print(
        Text.assemble(
            (f"{info['number']} {info['name']}", "bold"),
            f" ({info['gu']}, {info['docks']} docks) — {info['day_type']}: "
            f"{info['rentals_per_day']:.1f} rentals, {info['returns_per_day']:.1f} returns per day  ",
            (f"(level: {info['level_source']}, {info['trip_rows']} trip rows)", "dim"),
        ),
        highlight=False,
    )
    console.print(f"rentals  {sparkline(rent)}")
    console.print(f"returns  {sparkline(ret)}")
    console.print("         0     6     12    18   23")
    t = Table("hour", "rentals/h", "returns/h", "net/h")
    for h in info["hours"]:
        t.add_row(
            f"{h['hour']:02d}",
            f"{h['rent_rate']:.2f}",
            f"{h['return_rate']:.2f}",
            f"{h['return_rate'] - h['rent_rate']:+.2f}",
        )
    console.print(t)
    if plot is not None:
        print_written([plot])


def _plot_profile(info: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    korean = [f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name or "Nanum" in f.name]
    if korean:
        plt.rcParams["font.family"] = [korean[0], "DejaVu Sans"]
    hours = [h["hour"] for h in info["hours"]]
    fig, ax = plt.subplots(figsize=(8, 3.5), dpi=120)
    ax.bar([h - 0.2 for h in hours], [h["rent_rate"] for h in info["hours"]], width=0.4, label="rentals")
    ax.bar([h + 0.2 for h in hours], [h["return_rate"] for h in info["hours"]], width=0.4, label="returns")
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("hour of day")
    ax.set_ylabel("trips per hour")
    ax.set_title(f"{info['number']} {info['name']} ({info['gu']}) — {info['day_type']}")
    ax.legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


@demand_app.command("targets")
def targets_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output file (.parquet or .csv).")],
    at: Annotated[str, typer.Option("--at", help="Start of the morning horizon (HH:MM).")] = "07:00",
    horizon: Annotated[str, typer.Option("--horizon", help="Length of the horizon, e.g. 3h.")] = "3h",
    step: Annotated[float, typer.Option("--step", min=1, max=60, help="Step length in minutes.")] = 15.0,
    day_type: DayTypeOption = DayTypeChoice.weekday,
    max_overflow: Annotated[
        int, typer.Option("--max-overflow", min=0, help="Bikes a station holds beyond its docks.")
    ] = 10,
    overflow_penalty: Annotated[
        float, typer.Option("--overflow-penalty", min=0, help="Cost of a return beyond the docks.")
    ] = 0.2,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Morning target inventory of every station, its interval and dissatisfaction curve."""
    from mobility.demand.data import load_profiles
    from mobility.demand.inventory import InventoryParams, curves_from_profiles, targets_table

    check_out(out)
    check_out_file(out)
    params = InventoryParams(
        start_hour=parse_clock(at),
        horizon_hours=parse_duration(horizon),
        step_minutes=step,
        max_overflow=max_overflow,
        overflow_penalty=overflow_penalty,
    )
    prof = load_profiles(data_dir)
    curves = curves_from_profiles(prof, day_type=day_type.value, params=params)
    table = targets_table(curves)
    names = prof.stations[["number", "name", "gu"]].rename(columns={"number": "station"})
    table = names.merge(table, on="station", how="right")
    write_table(table, out)
    summary = {
        "out": str(out),
        "stations": len(table),
        "day_type": day_type.value,
        "at": at,
        "horizon_hours": params.horizon_hours,
        "bikes_at_targets": int(table["target"].sum()),
        "docks": int(table["docks"].sum()),
        "expected_dissatisfied_at_targets": float(table["cost_at_target"].sum()),
    }
    if as_json:
        print_json(summary)
    else:
        for k, v in summary.items():
            console.print(f"{k:34s} {v}", highlight=False)
        err_console.print(f"wrote {out}")


@demand_app.command("snapshot")
def snapshot_cmd(
    out: Annotated[
        Path, typer.Option("--out", help="Output file: .csv or .parquet (the status table) or .json.")
    ],
    date: Annotated[
        str, typer.Option("--date", help="Day whose net flows are applied, YYYY-MM-DD (2019..2025).")
    ],
    at: Annotated[
        str, typer.Option("--at", help="Clock time of the snapshot (HH:MM), after 07:00.")
    ] = "22:00",
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Derive an evening station inventory (clearly labelled as derived) for nightly runs."""
    from mobility.demand.data import load_profiles
    from mobility.demand.snapshot import derive_snapshot_from_data
    from mobility.export.snapshot import snapshot_format, write_snapshot
    from mobility.rebalancing.snapshot import StatusSnapshot, snapshot_from_table
    from mobility.simulation.days import check_day_in_data, parse_date

    snapshot_format(out)
    check_out_file(out)
    clock = parse_clock(at)
    day = parse_date(date, "--date")  # YYYY-MM-DD only, in the demand data's years (as simulate's)
    check_day_in_data(day, data_dir, "--date")
    date = day.strftime("%Y-%m-%d")
    prof = load_profiles(data_dir)
    try:
        table = derive_snapshot_from_data(prof, date, at=clock, data_dir=data_dir)
    except InputError as exc:  # the library checks the hour it was given; quote the caller's --at
        if exc.field != "at":
            raise
        raise InputError("--at", at, exc.expected) from exc
    doc: StatusSnapshot = snapshot_from_table(table, name=f"derived {date} {at}", label="snapshot")
    write_snapshot(doc, out)
    summary = {
        "out": str(out),
        "stations": len(doc.stations),
        "bikes": sum(s.bikes for s in doc.stations),
        "method": doc.source or "",
        "derived": doc.derived,
        "empty": sum(s.bikes == 0 for s in doc.stations),
        "above_docks": sum(s.bikes > (s.docks or 0) for s in doc.stations),
    }
    if as_json:
        print_json(summary)
    else:
        for k, v in summary.items():
            console.print(f"{k:12s} {v}", highlight=False)


class TargetChoice(StrEnum):
    """What the demand-potential model learns."""

    trips = "trips_per_day"
    imbalance = "imbalance_per_day"


@demand_app.command("potential")
def potential_cmd(
    cv: Annotated[bool, typer.Option("--cv", help="Report spatial cross-validation (hold out gu).")] = False,
    straight_line: Annotated[
        bool,
        typer.Option("--straight-line", help="Population within a straight-line radius (no walk network)."),
    ] = False,
    target: Annotated[
        TargetChoice,
        typer.Option(
            "--target",
            help="What to predict: trips per day (rentals + returns) or |rentals - returns| per day.",
        ),
    ] = TargetChoice.trips,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit the demand-potential model on 2023 usage; with --cv compare it with baselines."""
    from mobility.demand.potential import fit_from_data

    model, report = fit_from_data(
        data_dir, cross_validate=cv, use_network=not straight_line, target=target.value
    )
    payload: dict[str, Any] = {"model": model.describe()}
    if report is not None:
        payload["cv"] = report.to_dict()
    if as_json:
        print_json(payload)
        return
    console.print(f"fitted on {payload['model']['n_stations']} stations: {payload['model']['features']}")
    if report is not None:
        t = Table(title=f"Spatial CV ({report.folds} folds, whole districts held out)")
        for col in ("model", "MAE", "RMSE", "R2", "MAE_log"):
            t.add_column(col)
        for row in report.rows():
            t.add_row(
                row["model"],
                f"{row['mae']:.1f}",
                f"{row['rmse']:.1f}",
                f"{row['r2']:.3f}",
                f"{row['mae_log']:.3f}",
            )
        console.print(t)
        what = "|rentals - returns| per day"
        if target is TargetChoice.trips:
            what = "trips per day: rentals + returns"
        console.print(f"({what}; 2023 mean {report.mean_target:,.1f})", style="dim")
