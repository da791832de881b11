"""``mobility export``: plans, routes or the current network as GeoJSON, GeoPackage, GBFS, CSV,
an offline HTML map or a PNG/SVG map; ``--compare`` for a before/after map and table."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mobility.cli.common import DataDirOption, JsonOption, console, err_console, print_json


class ExportFormat(StrEnum):
    """Output formats."""

    geojson = "geojson"
    gpkg = "gpkg"
    gbfs = "gbfs"
    csv = "csv"
    html = "html"
    png = "png"
    svg = "svg"


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
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export a plan, a night's routes or the current network as maps and GIS files."""
    from mobility.config import resolve_data_dir
    from mobility.export import export_layers
    from mobility.export.compare import write_comparison
    from mobility.export.layers import load_layers

    t0 = time.perf_counter()
    root = resolve_data_dir(data_dir)
    layers = load_layers(source, root, with_water=not no_water)
    if routes is not None:
        layers = layers.with_routes(load_layers(routes, root, with_water=False))
    if compare is not None:
        before = load_layers(compare, root, with_water=False)
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
            }
        )
        return
    for f in files:
        console.print(f"wrote {f['path']} ({int(f['bytes']) / 1e6:.2f} MB)", highlight=False)
    counts = ", ".join(f"{k} {v:,}" for k, v in layers.counts().items() if v)
    err_console.print(f"{counts}; {seconds:.1f} s", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``mobility export``."""
    app.command("export")(export_command)
