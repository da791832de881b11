"""Benchmark: exporting a large plan (the whole city with all the night's routes) in every format.

The plan: the current network (2,799 stations) plus ``--new`` synthetic new stations, and either
a real night from ``--routes routes.json`` (``mobility rebalance``, with street paths) or
``--trucks`` synthetic routes of ``--stops`` stops each whose paths are densified every
``--step-m`` metres to stand in for street polylines. For each format the project's writer is
timed and its output measured against a naive baseline run in the same process on the same
layers:

* geojson / gpkg: ``GeoDataFrame.to_file`` with GDAL defaults (full coordinate precision);
* gbfs: ``json.dumps(indent=2)`` of the same documents;
* csv: ``DataFrame.to_csv`` of the stops table (no BOM);
* html: the same plotly map without polygon simplification;
* png / svg: a plain ``GeoDataFrame.plot`` of every layer (no legend, labels, scale bar).

Prints the machine, a table (seconds and MB, ours vs baseline, ratios) and a last line of JSON.
The outputs are written to a temporary folder removed at the end, or kept in ``--out``.
Usage: ``.venv/bin/python bench/export.py [--new 500 --trucks 30 --stops 25]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mobility.benchcli import (
    ProgressLines,
    existing_file,
    non_negative_int,
    output_dir,
    positive_float,
    positive_int,
    run_main,
    scratch_dir,
)
from mobility.machine import describe, machine


def size(paths: list[Path]) -> int:
    """Total bytes of the files (folders: every file inside)."""
    total = 0
    for p in paths:
        total += (
            sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size
        )
    return total


def timed(fn: Callable[[], list[Path]]) -> tuple[float, int]:
    t = time.perf_counter()
    paths = fn()
    return time.perf_counter() - t, size(paths)


def densify(doc: dict[str, Any], step_m: float) -> None:
    """Replace each route's path by points every ``step_m`` metres (street-polyline density)."""
    from pyproj import Transformer

    fwd = Transformer.from_crs(4326, 5179, always_xy=True)
    inv = Transformer.from_crs(5179, 4326, always_xy=True)
    for r in doc["routes"]:
        xy = np.array([fwd.transform(lon, lat) for lon, lat in r["path"]])
        pts = [xy[0]]
        for a, b in itertools.pairwise(xy):
            n = max(int(np.hypot(*(b - a)) / step_m), 1)
            pts.extend(a + (b - a) * (k / n) for k in range(1, n + 1))
        r["path"] = [list(inv.transform(x, y)) for x, y in pts]


def _run_formats(layers: Any, tmp: Path, step: ProgressLines) -> list[dict[str, Any]]:
    """Time every format, ours into ``tmp/ours`` and the naive baseline into ``tmp/baseline``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mobility.export import export_layers
    from mobility.export import html_map as hm
    from mobility.export.gbfs import build_feeds

    ours, base = tmp / "ours", tmp / "baseline"
    ours.mkdir(parents=True, exist_ok=True)
    base.mkdir(parents=True, exist_ok=True)

    def naive_files(driver: str, ext: str) -> list[Path]:
        out = []
        for name, gdf in layers.layers().items():
            if len(gdf):
                p = base / f"{name}.{ext}" if driver == "GeoJSON" else base / "naive.gpkg"
                gdf.to_file(p, driver=driver, layer=name)
                out.append(p)
        return sorted(set(out))

    def naive_gbfs() -> list[Path]:
        docs = build_feeds(layers, base_url="https://example.org/gbfs")
        paths = []
        for name, doc in docs.items():
            p = base / "gbfs" / f"{name}.json"
            p.parent.mkdir(exist_ok=True)
            p.write_text(json.dumps(doc, indent=2), encoding="utf-8")
            paths.append(p)
        return paths

    def naive_csv() -> list[Path]:
        p = base / "stops.csv"
        layers.stops.drop(columns=layers.stops.geometry.name).to_csv(p, index=False)  # the layer as is
        return [p]

    def naive_html() -> list[Path]:
        saved = hm.HTML_SIMPLIFY_DEG
        hm.HTML_SIMPLIFY_DEG = 0.0
        try:
            return [hm.write_html_map(layers, base / "map.html")]
        finally:
            hm.HTML_SIMPLIFY_DEG = saved

    def naive_plot(ext: str) -> list[Path]:
        fig, ax = plt.subplots(figsize=(11.5, 9.5))
        for gdf in [layers.water, *layers.layers().values()]:
            if len(gdf):
                gdf.plot(ax=ax)
        p = base / f"map.{ext}"
        fig.savefig(p, dpi=200)
        plt.close(fig)
        return [p]

    cases: list[tuple[str, Callable[[], list[Path]], Callable[[], list[Path]]]] = [
        ("geojson", lambda: export_layers(layers, "geojson", ours / "geojson"),
         lambda: naive_files("GeoJSON", "geojson")),
        ("gpkg", lambda: export_layers(layers, "gpkg", ours / "plan.gpkg"),
         lambda: naive_files("GPKG", "gpkg")),
        ("gbfs", lambda: export_layers(layers, "gbfs", ours / "gbfs"), naive_gbfs),
        ("csv", lambda: export_layers(layers, "csv", ours / "csv"), naive_csv),
        ("html", lambda: export_layers(layers, "html", ours / "map.html"), naive_html),
        ("png", lambda: export_layers(layers, "png", ours / "map.png"), lambda: naive_plot("png")),
        ("svg", lambda: export_layers(layers, "svg", ours / "map.svg"), lambda: naive_plot("svg")),
    ]  # fmt: skip
    rows = []
    for name, mine, naive in cases:
        step(f"{name}: ours, then the baseline")
        s_ours, b_ours = timed(mine)
        s_base, b_base = timed(naive)
        rows.append(
            {
                "format": name,
                "seconds": round(s_ours, 3),
                "mb": round(b_ours / 1e6, 3),
                "baseline_seconds": round(s_base, 3),
                "baseline_mb": round(b_base / 1e6, 3),
                "size_ratio": round(b_ours / b_base, 3) if b_base else None,
                "time_ratio": round(s_ours / s_base, 3) if s_base else None,
            }
        )

    return rows


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--new", type=non_negative_int, default=500, help="synthetic new stations")
    ap.add_argument("--trucks", type=positive_int, default=30)
    ap.add_argument("--stops", type=positive_int, default=25)
    ap.add_argument("--step-m", type=positive_float, default=15.0, help="route path point spacing (m)")
    ap.add_argument(
        "--out", type=output_dir, default=None, help="keep the outputs here (default: a temp dir, removed)"
    )
    ap.add_argument(
        "--routes", type=existing_file, default=None, help="a real routes.json instead of synthetic routes"
    )
    args = ap.parse_args(argv)
    step = ProgressLines()

    import geopandas as gpd

    from mobility.config import resolve_data_dir
    from mobility.export.layers import layers_from_plan, layers_from_routes
    from mobility.export.synthetic import synthetic_plan, synthetic_routes
    from mobility.placement.plan import Plan

    data_dir = resolve_data_dir()
    step(f"building the plan's layers ({args.new} new stations, routes)")
    t0 = time.perf_counter()
    plan = synthetic_plan(data_dir, new=args.new, seed=7, scenario="bench-large")
    layers = layers_from_plan(Plan.from_dict(plan), data_dir)
    if args.routes is not None:
        routes = json.loads(args.routes.read_text(encoding="utf-8"))
        routes["routes"] = [r for r in routes["routes"] if r["stops"]]
        for r in routes["routes"]:
            r["path"] = r.get("path") or [[s["lon"], s["lat"]] for s in r["stops"]]
    else:
        routes = synthetic_routes(layers.existing_stations, trucks=args.trucks, stops=args.stops, seed=7)
        densify(routes, args.step_m)
    layers = layers.with_routes(layers_from_routes(routes))
    build_s = time.perf_counter() - t0
    counts = layers.counts()
    path_points = sum(len(r["path"]) for r in routes["routes"])

    with scratch_dir("bench-export-", out=args.out) as tmp:
        rows = _run_formats(layers, tmp, step)

    m = machine()
    print(f"machine: {describe(m)}")
    print(f"plan: {counts} route path points {path_points:,}; layers built in {build_s:.1f} s")
    print(f"outputs in {tmp}" if args.out is not None else "outputs removed (keep them with --out DIR)")
    print(f"{'format':8} {'s':>7} {'MB':>8} | {'base s':>7} {'base MB':>8} | {'size x':>7} {'time x':>7}")
    for r in rows:
        print(
            f"{r['format']:8} {r['seconds']:7.2f} {r['mb']:8.2f} | {r['baseline_seconds']:7.2f} "
            f"{r['baseline_mb']:8.2f} | {r['size_ratio'] or 0:7.2f} {r['time_ratio'] or 0:7.2f}"
        )
    print(
        json.dumps(
            {
                "bench": "export",
                "machine": m,
                "layers": counts,
                "routes_source": str(args.routes) if args.routes else "synthetic",
                "route_path_points": path_points,
                "build_seconds": round(build_s, 2),
                "formats": rows,
            },
            ensure_ascii=False,
        )
    )
    _ = gpd  # geopandas is the baseline writer (GeoDataFrame.to_file / .plot)


if __name__ == "__main__":
    run_main(main)
