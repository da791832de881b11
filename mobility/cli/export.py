"""``mobility export``: plans, routes or the current network as GeoJSON, GeoPackage, GBFS, CSV,
an offline HTML map or a PNG/SVG map; ``--compare`` for a before/after map and table."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mobility.cli.common import (
    STATUS_FILES,
    DataDirOption,
    JsonOption,
    check_out_dir,
    check_out_file,
    console,
    err_console,
    print_json,
    status_file_errors,
)
from mobility.errors import DataFileError, InputError

if TYPE_CHECKING:  # the library is imported by the command, not by ``mobility --help``
    from mobility.export.layers import MapLayers, NightStations

SOURCE_ARG = "PLAN_OR_ROUTES"
DOCUMENTS = "a plan.json (from `mobility plan`), a routes.json (from `mobility rebalance`) or 'current'"
"""What PLAN_OR_ROUTES and --compare take."""
DIRECTORY_FORMATS = ("geojson", "gbfs", "csv")
"""Formats that write a folder (``mobility.export.DIRECTORY_FORMATS``, not imported at start)."""


class ExportFormat(StrEnum):
    """Output formats."""

    geojson = "geojson"
    gpkg = "gpkg"
    gbfs = "gbfs"
    csv = "csv"
    html = "html"
    png = "png"
    svg = "svg"


ROUTES_ONLY = (ExportFormat.csv,)
"""Formats that need a night's routes (a routes.json source or ``--routes``): csv, the route sheets."""
FOR_A_PLAN = tuple(f.value for f in ExportFormat if f not in ROUTES_ONLY)
"""Formats that export a plan or 'current' alone: every other :class:`ExportFormat`."""


def _check_document(option: str, value: str, expected: str) -> None:
    if value != "current" and not Path(value).is_file():
        raise InputError(option, value, expected)


def _check_inputs(
    source: str,
    fmt: ExportFormat,
    out: Path,
    compare: str | None,
    routes: Path | None,
    base_url: str | None,
    tiles: str | None,
) -> None:
    """Everything that can be checked before loading: the documents exist, ``--base-url`` is an
    http(s) URL given with gbfs, ``--tiles`` is a basemap we know, ``--out`` can be written."""
    documents = "an existing plan.json, routes.json or 'current'"
    _check_document(SOURCE_ARG, source, documents)
    if compare is not None:
        _check_document("--compare", compare, documents)
    if routes is not None and not routes.is_file():
        raise InputError("--routes", str(routes), "an existing routes.json (from mobility rebalance)")
    if base_url is not None:
        from pydantic import HttpUrl, TypeAdapter, ValidationError

        if fmt is not ExportFormat.gbfs:
            raise InputError("--base-url", base_url, "only with --format gbfs")
        try:
            TypeAdapter(HttpUrl).validate_python(base_url)
        except ValidationError as exc:
            raise InputError("--base-url", base_url, "an http(s) URL, e.g. https://example.org/gbfs") from exc
    if tiles is not None:
        from mobility.export.html_map import TILE_STYLES

        if tiles not in TILE_STYLES:
            raise InputError("--tiles", tiles, f"one of {', '.join(TILE_STYLES)} (html only)")
        if fmt is not ExportFormat.html:
            raise InputError("--tiles", tiles, "only with --format html (the other formats draw no basemap)")
    if fmt.value in DIRECTORY_FORMATS:
        check_out_dir(out)
    else:
        check_out_file(out)


@contextlib.contextmanager
def _document_errors(option: str, value: str | Path) -> Iterator[None]:
    """A document ``value`` that is not a JSON object becomes an error naming ``option``, the
    value and what is expected."""
    try:
        yield
    except DataFileError as exc:
        if exc.path != Path(value):  # another file (of the data folder): its own message
            raise
        expected = "a routes.json (from `mobility rebalance`)" if option == "--routes" else DOCUMENTS
        raise InputError(option, str(value), f"{expected}; {exc.path.name}: {exc.problem}") from exc


def _load(
    option: str, value: str | Path, root: Path, *, with_water: bool, night: NightStations | None = None
) -> MapLayers:
    """:func:`~mobility.export.layers.load_layers`, its errors naming ``option``."""
    from mobility.export.layers import load_layers

    try:
        with _document_errors(option, value):
            return load_layers(value, root, with_water=with_water, problem=night)
    except InputError as exc:
        if exc.field != SOURCE_ARG or option == SOURCE_ARG:
            raise
        raise InputError(option, exc.value, exc.expected) from exc


def _is_routes(option: str, value: str | Path) -> bool:
    """Whether a plan.json / routes.json / 'current' is a night's routes (read, not drawn)."""
    from mobility.export.layers import is_routes_dict, read_json

    if str(value) == "current":
        return False
    with _document_errors(option, value):
        return is_routes_dict(read_json(Path(value)))


def _check_documents(source: str, fmt: ExportFormat, routes: Path | None, status: Path | None) -> None:
    """``--routes`` is a routes document; csv (route sheets) has routes to write; ``--status``
    comes with a routes.json source."""
    if routes is not None and not _is_routes("--routes", routes):
        raise InputError("--routes", str(routes), "a routes.json (from mobility rebalance), not a plan")
    if status is not None:
        if not status.is_file():
            raise InputError("--status", str(status), "an existing status snapshot file (CSV/Parquet/JSON)")
        if routes is not None or not _is_routes(SOURCE_ARG, source):
            raise InputError(
                "--status",
                str(status),
                "only with a routes.json as PLAN_OR_ROUTES (the night it was planned on)",
            )
    if fmt in ROUTES_ONLY and routes is None and not _is_routes(SOURCE_ARG, source):
        raise InputError(
            "--format",
            fmt.value,
            f"a routes.json source or --routes for {fmt.value} (the trucks' route sheets); "
            f"for a plan or 'current' one of {', '.join(FOR_A_PLAN)}",
        )


def _night_stations(source: str, status: Path, root: Path) -> NightStations:
    """The stations of the snapshot ``--status`` (those the routes were planned on), with a note
    per reason rows were left out; an error naming ``--status`` when a route stops elsewhere."""
    from mobility.export.layers import NightStations, read_json, routes_document
    from mobility.rebalancing.night import snapshot_stations, status_notes
    from mobility.rebalancing.snapshot import read_snapshot

    with status_file_errors(status, reading=True):  # a bad file names --status and the file
        read = read_snapshot(status)
    with status_file_errors(status):
        snapshot, table, report = snapshot_stations(read, root)
    for line in status_notes(report):
        err_console.print(f"note: {line}", highlight=False)
    night = NightStations.of_table(table, snapshot.name or status.name)
    night.check_routes(routes_document(read_json(Path(source)), root), field="--status", value=str(status))
    return night


def export_command(
    source: Annotated[
        str,
        typer.Argument(
            metavar="PLAN_OR_ROUTES",
            help="plan.json (from `mobility plan`), routes.json (from `mobility rebalance`) or 'current' "
            "for the current network from the data folder.",
        ),
    ],
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", help="geojson, gbfs and csv write a folder; the others one file."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file or folder.")],
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            help="Baseline (plan.json, routes.json or 'current'): write a before/after map in --format "
            "and its district table as <out>_table.csv. SOURCE is the 'after'.",
        ),
    ] = None,
    routes: Annotated[
        Path | None,
        typer.Option(
            "--routes", help="Also draw this routes.json on a plan's map (plan + its night's routes)."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="GBFS only: URL the feed files will be served from (default: file URI)."
        ),
    ] = None,
    tiles: Annotated[
        str | None,
        typer.Option(
            "--tiles",
            help="HTML only, opt-in: draw on an online basemap (open-street-map, carto-positron, "
            "carto-voyager); the file then needs the internet. Default: fully offline.",
        ),
    ] = None,
    no_water: Annotated[
        bool, typer.Option("--no-water", help="Leave out the Han river basemap layer.")
    ] = False,
    status: Annotated[
        Path | None,
        typer.Option(
            "--status",
            help="routes.json only: the status snapshot the routes were planned on (the file given "
            f"to `mobility rebalance --status`: {STATUS_FILES}); its stations, bikes and docks are "
            "then drawn and counted per district instead of the current network's estimated bikes.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export a plan, a night's routes or the current network as maps and GIS files."""
    from mobility.config import resolve_data_dir
    from mobility.export import export_layers
    from mobility.export.compare import network_note, write_comparison

    _check_inputs(source, fmt, out, compare, routes, base_url, tiles)
    _check_documents(source, fmt, routes, status)
    t0 = time.perf_counter()
    root = resolve_data_dir(data_dir)
    night = _night_stations(source, status, root) if status is not None else None
    layers = _load(SOURCE_ARG, source, root, with_water=not no_water, night=night)
    if routes is not None:
        layers = layers.with_routes(_load("--routes", routes, root, with_water=False))
    notes: list[str] = []
    if compare is not None:
        before = _load("--compare", compare, root, with_water=False)
        notes += [n for n in (network_note(before, layers),) if n]
        written = write_comparison(before, layers, out, fmt.value)
    else:
        written = export_layers(layers, fmt.value, out, base_url=base_url, tiles=tiles)
    seconds = time.perf_counter() - t0
    files: list[dict[str, str | int]] = [{"path": str(p), "bytes": p.stat().st_size} for p in written]
    if as_json:
        print_json(
            {
                "format": fmt.value,
                "source": source,
                "layers": layers.counts(),
                "files": files,
                "seconds": seconds,
                **({"notes": notes} if notes else {}),
            }
        )
        return
    for note in notes:
        err_console.print(f"note: {note}", highlight=False)
    for f in files:
        console.print(f"wrote {f['path']} ({int(f['bytes']) / 1e6:.2f} MB)", highlight=False)
    counts = ", ".join(f"{k} {v:,}" for k, v in layers.counts().items() if v)
    err_console.print(f"{counts}; {seconds:.1f} s", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``mobility export``."""
    app.command("export")(export_command)
