"""Map and data exports of plans, routes and the current network.

Every writer takes a :class:`~mobility.export.layers.MapLayers` (built once by
:func:`~mobility.export.layers.load_layers`, :func:`~mobility.export.layers.layers_from_plan`,
:func:`~mobility.export.layers.layers_from_routes` or
:func:`~mobility.export.layers.layers_from_network`), so formats stay independent of the result
classes. :func:`export_layers` dispatches on a format name; :func:`write_default_maps` is what
``mobility plan`` / ``mobility rebalance`` call to put ``map.html`` and ``map.png`` next to their
JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mobility.export.layers import MapLayers, MapSource, load_layers

if TYPE_CHECKING:
    from mobility.rebalancing.problem import RebalancingProblem

FORMATS = ("geojson", "gpkg", "gbfs", "csv", "html", "png", "svg")
"""Formats of ``mobility export --format``. geojson, gbfs and csv write a folder of files."""

DIRECTORY_FORMATS = ("geojson", "gbfs", "csv")


def export_layers(
    layers: MapLayers,
    fmt: str,
    out: Path | str,
    *,
    choropleth: str | None = None,
    base_url: str | None = None,
    tiles: str | None = None,
) -> list[Path]:
    """Write ``layers`` in format ``fmt`` to ``out`` (a folder for geojson/gbfs/csv, else a file).

    ``base_url`` is for GBFS feed URLs; ``tiles`` (html only, opt-in) puts the map on an online
    basemap. Returns the paths written.
    """
    from mobility.errors import InputError

    out = Path(out)
    if fmt == "geojson":
        from mobility.export.geojson import write_geojson

        return write_geojson(layers, out)
    if fmt == "gpkg":
        from mobility.export.gpkg import write_gpkg

        return [write_gpkg(layers, out)]
    if fmt == "gbfs":
        from mobility.export.gbfs import write_gbfs

        return write_gbfs(layers, out, base_url=base_url)
    if fmt == "csv":
        from mobility.export.routesheet import write_route_sheets

        return write_route_sheets(layers, out)
    if fmt == "html":
        from mobility.export.html_map import write_html_map

        return [write_html_map(layers, out, choropleth=choropleth, tiles=tiles)]
    if fmt in ("png", "svg"):
        from mobility.export.static_map import write_static_map

        if out.suffix.lower() != f".{fmt}":
            raise InputError("--out", str(out), f"a file name ending in .{fmt} for --format {fmt}")
        return [write_static_map(layers, out, choropleth=choropleth)]
    raise InputError("--format", fmt, " | ".join(FORMATS))


def write_default_maps(
    plan_or_routes: MapSource,
    out_dir: Path | str,
    *,
    data_dir: Path | None = None,
    problem: RebalancingProblem | None = None,
) -> list[Path]:
    """Write ``map.html`` and ``map.png`` for a Plan or RebalancingPlan into ``out_dir``.

    Parameters
    ----------
    plan_or_routes
        A ``Plan`` / ``RebalancingPlan``, its JSON dict, the path of plan.json / routes.json, or
        ``"current"``.
    out_dir
        Folder next to the result's JSON.
    data_dir
        Seoul data directory (default: resolved from the settings).
    problem
        For routes: the night they were solved over, whose snapshot stations, bikes and docks the
        map shows (routes.json does not carry them).
    """
    from mobility.config import resolve_data_dir

    layers = load_layers(plan_or_routes, resolve_data_dir(data_dir), problem=problem)
    out = Path(out_dir)
    return export_layers(layers, "html", out / "map.html") + export_layers(layers, "png", out / "map.png")


NIGHT_MAPS = ("map.html", "map.png", "map.svg")
"""The night maps :func:`night_map_files` draws."""


def night_map_files(
    routes: MapSource, problem: RebalancingProblem, *, data_dir: Path | None = None
) -> dict[str, bytes]:
    """:data:`NIGHT_MAPS` of a night's routes over the snapshot ``problem``, by file name (bytes).

    What a job keeps with its ``routes.json`` so that its maps show its own snapshot.
    """
    import tempfile

    from mobility.config import resolve_data_dir

    layers = load_layers(routes, resolve_data_dir(data_dir), problem=problem)
    with tempfile.TemporaryDirectory(prefix="mobility-night-maps-") as tmp:
        return {
            name: export_layers(layers, name.rsplit(".", 1)[1], Path(tmp) / name)[0].read_bytes()
            for name in NIGHT_MAPS
        }


__all__ = [
    "DIRECTORY_FORMATS",
    "FORMATS",
    "NIGHT_MAPS",
    "MapLayers",
    "export_layers",
    "load_layers",
    "night_map_files",
    "write_default_maps",
]
