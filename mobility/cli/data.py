"""``mobility data``: what is in the data directory, is it sound, the stations, and the online fetch."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from mobility.cli.common import (
    DataDirOption,
    JsonOption,
    check_out_dir,
    console,
    err_console,
    print_error,
    print_json,
)
from mobility.config import DATA_HINT, cache_dir, resolve_data_dir
from mobility.errors import DataNotFoundError, InputError, MobilityError

__all__ = ["register"]


class FetchWhat(StrEnum):
    """What ``mobility data fetch`` downloads."""

    stations = "stations"
    status = "status"
    network = "network"


class NetworkType(StrEnum):
    """osmnx network types offered by ``mobility data fetch --what network``."""

    bike = "bike"
    walk = "walk"
    drive = "drive"
    all = "all"


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn a :class:`MobilityError` into one message on stderr and exit code 2."""
    try:
        yield
    except MobilityError as exc:
        print_error(exc)
        raise typer.Exit(2) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def _fmt_int(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def _fmt_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _reasons(counter: dict[str, int]) -> str:
    return "; ".join(f"{k}: {v:,}" for k, v in counter.items())


def check_families(family: list[str] | None, data_dir: Path | None) -> None:
    """Check ``--family`` values against the families of the known datasets (before any loading).

    Raises
    ------
    InputError
        Naming ``--family`` and listing the families.
    """
    from mobility.sources.catalog import dataset_families

    if not family:
        return
    known = dataset_families(data_dir)
    unknown = [f for f in family if f not in known]
    if unknown:
        raise InputError("--family", unknown[0], f"one of {', '.join(known)}")


def _info_rows(data_dir: Path | None, include_missing: bool, family: list[str] | None) -> list[Any]:
    from mobility.sources.catalog import dataset_info

    with _progress() as bar:
        task = bar.add_task("loading datasets", total=None)

        def step(name: str, i: int, n: int) -> None:
            bar.update(task, total=n, completed=i, description=f"loading {name}")

        return dataset_info(data_dir, include_missing=include_missing, families=family, progress=step)


FamilyOption = Annotated[
    list[str] | None,
    typer.Option("--family", "-f", help="Only this family (stations, trips, usage, network, ...)."),
]


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to ``app``."""
    grp = typer.Typer(
        help="The Seoul data: list datasets, check their quality, preview stations, fetch online data.",
        no_args_is_help=True,
    )
    app.add_typer(grp, name="data")
    grp.command("info")(info_cmd)
    grp.command("check")(check_cmd)
    grp.command("stations")(stations_cmd)
    grp.command("fetch")(fetch_cmd)


def info_cmd(
    data_dir: DataDirOption = None,
    json_out: JsonOption = False,
    family: FamilyOption = None,
    include_missing: Annotated[
        bool, typer.Option("--all", help="Also list known datasets whose file is missing.")
    ] = False,
) -> None:
    """Every dataset found in the data directory: path, rows, period, CRS, checks."""
    with _user_errors():
        root = resolve_data_dir(data_dir)
        check_families(family, root)
        rows = _info_rows(root, include_missing, family)
        if not any(r.exists for r in rows) and not family:
            raise DataNotFoundError("any known dataset", [root], DATA_HINT)
    if json_out:
        print_json({"data_dir": str(root), "datasets": [r.to_dict() for r in rows]})
        return
    table = Table(title=f"Datasets in {root}", show_lines=False)
    for col, kw in (
        ("dataset", {}),
        ("family", {}),
        ("path", {"overflow": "fold"}),
        ("rows", {"justify": "right"}),
        ("expected", {"justify": "right"}),
        ("period", {}),
        ("CRS", {}),
        ("size", {"justify": "right"}),
        ("checks", {"justify": "center"}),
        ("status", {}),
    ):
        table.add_column(col, **kw)  # type: ignore[arg-type]
    colour = {"ok": "green", "failed": "bold red", "missing": "yellow", "present": "dim"}
    for r in rows:
        checks = f"{r.checks_passed}/{r.checks_passed + r.checks_failed}" if r.checks else "—"
        size = _fmt_size(r.size_bytes) + (f" ({r.files} files)" if r.files > 1 else "")
        table.add_row(
            r.name,
            r.family,
            r.relpath,
            _fmt_int(r.rows),
            _fmt_int(r.expected_rows),
            r.period,
            r.crs,
            size if r.exists else "—",
            checks,
            Text(r.status, style=colour.get(r.status, "")),
        )
    console.print(table)
    failed = [r for r in rows if r.status == "failed"]
    loaded = sum(r.rows is not None for r in rows)
    console.print(
        f"{len(rows)} datasets ({loaded} loaded, {len(rows) - loaded} fingerprinted); "
        f"{len(failed)} failed a check" + (": " + ", ".join(r.name for r in failed) if failed else "")
    )


def check_cmd(
    data_dir: DataDirOption = None,
    json_out: JsonOption = False,
    family: FamilyOption = None,
) -> None:
    """The data-quality report; exit code 1 when a dataset fails (missing file, load error, row count)."""
    from mobility.sources.catalog import data_check

    with _user_errors():
        check_families(family, resolve_data_dir(data_dir))
    with _user_errors(), _progress() as bar:
        task = bar.add_task("checking", total=None)

        def step(name: str, i: int, n: int) -> None:
            bar.update(task, total=n, completed=i, description=f"checking {name}")

        results = data_check(data_dir, families=family, progress=step)
        if all(r.missing for r in results) and not family:
            raise DataNotFoundError("any known dataset", [resolve_data_dir(data_dir)], DATA_HINT)
    failed = [r for r in results if not r.passed]
    if json_out:
        print_json(
            {
                "passed": not failed,
                "failed": [r.name for r in failed],
                "datasets": [r.to_dict() for r in results],
            }
        )
    else:
        table = Table(title="Data quality")
        for col in ("dataset", "verdict", "rows read", "rows kept", "dropped (reason: rows)", "flagged"):
            table.add_column(col, overflow="fold")
        for r in results:
            rep = r.report
            problems = "; ".join(f"{c.name}: {c.detail}" for c in r.checks if not c.passed)
            table.add_row(
                r.name,
                Text("pass", style="green")
                if r.passed
                else Text.assemble(("FAIL", "bold red"), " ", problems),
                _fmt_int(rep.rows_read) if rep else "—",
                _fmt_int(rep.rows_kept) if rep else "—",
                _reasons(dict(rep.dropped)) if rep else "",
                _reasons(dict(rep.warnings)) if rep else "",
            )
        console.print(table)
        console.print(
            f"{len(results) - len(failed)}/{len(results)} datasets pass"
            + (f"; failed: {', '.join(r.name for r in failed)}" if failed else "")
        )
    if failed:
        raise typer.Exit(1)


def stations_cmd(
    data_dir: DataDirOption = None,
    json_out: JsonOption = False,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            "-s",
            help="Vintage (2018-11, 2019-12, 2025-12, api-2025-05, master) or a station file path.",
        ),
    ] = "2025-12",
    gu: Annotated[str | None, typer.Option("--gu", help="Only this district, e.g. 마포구.")] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", min=0, help="Rows to show (table default 20; JSON default all)."),
    ] = None,
) -> None:
    """List or preview the stations of one list, in the normalized schema."""
    from mobility.sources.stations import docks_total, docks_total_text, load_station_list

    with _user_errors():
        loaded = load_station_list(source, data_dir, field="--source")
        df = loaded.table
        if gu is not None:
            gu = unicodedata.normalize("NFC", gu.strip())  # the names are NFC; a pasted one may be NFD
            known = sorted(df["gu"].dropna().unique().tolist())
            if gu not in known:
                raise InputError("--gu", gu, f"one of {', '.join(known)}")
            df = df[df["gu"] == gu]
    report = loaded.report
    if json_out:
        shown = df if limit is None else df.head(limit)
        records = shown.astype(object).where(shown.notna(), None).to_dict("records")
        for rec in records:
            if isinstance(rec.get("installed_on"), pd.Timestamp):
                rec["installed_on"] = rec["installed_on"].date().isoformat()
        print_json(
            {
                "source": source,
                "gu": gu,
                "stations": len(df),
                "docks": docks_total(df["docks"])[0],
                "docks_without_count": docks_total(df["docks"])[1],
                "report": report.to_dict(),
                "rows": records,
            }
        )
        return
    n = 20 if limit is None else limit
    table = Table(title=f"Stations {source}" + (f" in {gu}" if gu else "") + f": {len(df):,}")
    for col in ("station_id", "number", "name", "gu", "docks", "dock_type", "lat", "lon", "installed_on"):
        table.add_column(col, justify="right" if col in ("number", "docks", "lat", "lon") else "left")

    def cell(v: Any) -> str:
        return "" if v is None or pd.isna(v) else str(v)

    for row in df.head(n).to_dict("records"):
        installed = row["installed_on"]
        table.add_row(
            *(cell(row[c]) for c in ("station_id", "number", "name", "gu", "docks", "dock_type")),
            f"{row['lat']:.6f}",
            f"{row['lon']:.6f}",
            "" if pd.isna(installed) else f"{installed:%Y-%m-%d}",
        )
    console.print(table)
    if len(df) > n:
        console.print(f"… {len(df) - n:,} more (use --limit or --json)")
    console.print(
        f"{len(df):,} stations, {docks_total_text(df['docks'])}"
        + (f"; dropped (whole list) {_reasons(dict(report.dropped))}" if report.dropped else "")
        + (f"; flagged (whole list) {_reasons(dict(report.warnings))}" if report.warnings else "")
    )


def fetch_cmd(
    what: Annotated[
        FetchWhat,
        typer.Option("--what", "-w", help="stations (tbCycleStationInfo), status (bikeList) or network."),
    ] = FetchWhat.stations,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default: the cache folder's fetch/)."),
    ] = None,
    network_type: Annotated[
        NetworkType, typer.Option("--network-type", help="osmnx network type for --what network.")
    ] = NetworkType.bike,
    json_out: JsonOption = False,
) -> None:
    """Download current data (needs internet): Seoul OpenAPI with SEOUL_OPENAPI_KEY, or OSM via osmnx."""
    target_dir = out if out is not None else cache_dir("fetch")
    stamp = datetime.now().strftime("%Y%m%dT%H%M")
    with _user_errors():
        if out is not None:
            check_out_dir(out)
        if what is FetchWhat.network:
            path = _fetch_network(target_dir, network_type.value, stamp)
            summary: dict[str, Any] = {"what": what.value, "path": str(path)}
        else:
            summary = _fetch_openapi(what, target_dir, stamp)
    if json_out:
        print_json(summary)
    else:
        console.print(
            f"wrote {summary['path']}" + (f" ({summary['rows']:,} rows)" if "rows" in summary else "")
        )


def _fetch_openapi(what: FetchWhat, target_dir: Path, stamp: str) -> dict[str, Any]:
    from mobility.sources.seoul_openapi import SeoulOpenAPI, write_bike_list, write_station_info

    with SeoulOpenAPI() as api, _progress() as bar:
        task = bar.add_task(f"downloading {what.value}", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if what is FetchWhat.stations:
            rows, loaded = api.station_info(progress=step)
            path = write_station_info(
                rows, target_dir / "ttareungi" / f"stations_api_tbCycleStationInfo_{stamp}.csv"
            )
        else:
            rows, loaded = api.bike_list(progress=step)
            path = write_bike_list(rows, target_dir / "ttareungi" / f"bikeList_{stamp}.json")
    return {"what": what.value, "path": str(path), "rows": len(rows), "report": loaded.report.to_dict()}


def _fetch_network(target_dir: Path, network_type: str, stamp: str) -> Path:
    from mobility.io import atomic_path

    target = target_dir / "osm" / f"seoul_{network_type}_{stamp}.graphml"
    err_console.print(f"downloading the {network_type} network of Seoul from OpenStreetMap (several minutes)")
    from mobility.network.graph import fetch_osm_graph

    try:
        with err_console.status("osmnx graph_from_place('Seoul, South Korea')"):
            graph = fetch_osm_graph(network_type=network_type)
    except MobilityError:
        raise
    except Exception as exc:  # no internet, Overpass refusing, geocoder failing
        raise MobilityError(
            f"downloading the Seoul street network failed ({type(exc).__name__}: {exc}); "
            "this needs internet access to OpenStreetMap (Nominatim and Overpass)"
        ) from exc
    import osmnx as ox

    with atomic_path(target) as tmp:
        ox.save_graphml(graph, filepath=tmp)
    return target
