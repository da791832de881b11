"""What a GIS reviewer checks in the exports: field types that do not depend on whether a layer has
features, counts written as whole numbers (GeoPackage, GeoJSON, CSV), and print maps whose legend
stays readable over the data and accounts for every stop drawn."""

from __future__ import annotations

import copy
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
import shapely
from matplotlib.legend import Legend

from mobility.export.compare import compare_table, write_compare_table
from mobility.export.geojson import write_geojson
from mobility.export.gpkg import write_gpkg
from mobility.export.html_map import build_figure
from mobility.export.layers import LAYER_NAMES, MapLayers, layers_from_routes
from mobility.export.routes import route_sheet, route_sheet_csv
from mobility.export.static_map import draw
from mobility.rebalancing.plan import RebalancingPlan


def _field_types(path: Path) -> dict[str, dict[str, str]]:
    """Declared SQLite type of every attribute column, per GeoPackage layer (as QGIS reads them)."""
    with sqlite3.connect(path) as con:
        return {
            layer: {
                str(c[1]): str(c[2])
                for c in con.execute(f'pragma table_info("{layer}")')
                if c[1] not in ("fid", "geom")
            }
            for layer in LAYER_NAMES
        }


def test_empty_layers_declare_the_same_field_types_as_full_ones(
    plan_layers: MapLayers, full_layers: MapLayers, tmp_path: Path
) -> None:
    """A plan's GeoPackage has empty routes/stops, a night's an empty new_stations layer: their
    fields must be INTEGER/REAL/BOOLEAN as when the layer has features, not TEXT."""
    full = write_gpkg(plan_layers.with_routes(full_layers), tmp_path / "full.gpkg")
    empty = write_gpkg(MapLayers(), tmp_path / "empty.gpkg")
    with_features, without = _field_types(full), _field_types(empty)
    for layer in LAYER_NAMES:
        for column, declared in without[layer].items():
            assert declared == with_features[layer][column], (layer, column)
    assert without["stops"]["quantity"] == "INTEGER"
    assert without["routes"]["distance_km"] == "REAL"
    assert without["existing_stations"]["bikes_estimated"] == "BOOLEAN"


def test_plan_station_counts_are_integers(plan_layers: MapLayers, tmp_path: Path) -> None:
    """stations_before / stations_change of a plan's districts are counts, as stations is."""
    d = plan_layers.districts
    assert pd.api.types.is_integer_dtype(d["stations_before"])
    assert pd.api.types.is_integer_dtype(d["stations_change"])
    path = write_gpkg(plan_layers, tmp_path / "plan.gpkg")
    types = _field_types(path)["districts"]
    assert types["stations_before"] == types["stations_change"] == "INTEGER"
    with sqlite3.connect(path) as con:
        stored = {t for (t,) in con.execute("select typeof(stations_before) from districts")}
    assert stored == {"integer"}
    write_geojson(plan_layers, tmp_path / "gj")
    doc = json.loads((tmp_path / "gj" / "districts.geojson").read_text(encoding="utf-8"))
    for f in doc["features"]:
        p = f["properties"]
        assert type(p["stations_before"]) is int and type(p["stations_change"]) is int
        assert p["stations_change"] == p["stations"] - p["stations_before"]


def test_route_sheet_bike_counts_are_whole_numbers(routes_doc: dict[str, Any]) -> None:
    """The depot rows leave bikes_before/after blank; the stop rows still read ``3``, not ``3.0``."""
    depot = {"id": "D1", "name": "상암 운영센터 (마포구)", "lon": 126.8895, "lat": 37.5792}
    plan = RebalancingPlan.model_validate({**routes_doc, "depots": [depot]})
    sheet = route_sheet(plan)
    stops = sheet[~sheet["action"].str.startswith(("start", "end"))]
    assert sheet[["bikes_before", "bikes_after"]].isna().sum().tolist() == [6, 6]  # 3 trucks x 2
    text = route_sheet_csv(plan).decode("utf-8-sig")
    rows = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    cells = rows.loc[stops.index, ["bikes_before", "bikes_after"]].to_numpy().ravel().tolist()
    assert cells and all(c.isdigit() for c in cells), cells[:5]
    want = [str(s["bikes_before"]) for r in routes_doc["routes"] for s in r["stops"]]
    assert rows.loc[stops.index, "bikes_before"].tolist() == want


def test_compare_table_counts_are_whole_numbers(
    current_layers: MapLayers, plan_layers: MapLayers, tmp_path: Path
) -> None:
    """Stations, docks and bikes before/after/change are written as ``99``, not ``99.0``."""
    table = compare_table(current_layers, plan_layers)
    path = write_compare_table(table, tmp_path / "cmp.csv")
    raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    for k in ("stations", "docks", "bikes"):
        for part in ("before", "after", "change"):
            col = f"{k}_{part}"
            assert pd.api.types.is_integer_dtype(table[col]), col
            assert all(c.lstrip("-").isdigit() for c in raw[col]), (col, raw[col].tolist()[:3])
    seoul = raw.iloc[-1]
    assert int(seoul["stations_after"]) == len(plan_layers.existing_stations) + len(plan_layers.new_stations)


@pytest.fixture(scope="module")
def visit_layers(routes_doc: dict[str, Any]) -> MapLayers:
    """Routes whose first stop moves no bike (the Seoul night at 20 s had one such stop)."""
    layers = layers_from_routes(RebalancingPlan.model_validate(routes_doc))
    layers.stops.loc[layers.stops.index[0], "quantity"] = 0
    return layers


def test_static_map_legend_is_above_the_data_and_counts_every_stop(visit_layers: MapLayers) -> None:
    fig = draw(visit_layers)
    try:
        ax = fig.axes[0]
        legend = ax.get_legend()
        assert isinstance(legend, Legend)
        north = [t for t in ax.texts if t.get_text() in ("", "N 북")]  # the arrow and its letter
        labels_drawn = [t for t in ax.texts if t not in north]  # stop numbers, district names
        data = [*ax.collections, *ax.lines, *ax.patches, *labels_drawn]
        highest_data = max(a.get_zorder() for a in data)
        assert len(north) == 2 and len(ax.artists) == 1  # the scale bar
        assert legend.get_zorder() > highest_data  # above stops (7) and their numbers (8)
        assert all(a.get_zorder() > highest_data for a in [*north, *ax.artists])
        labels = [t.get_text() for t in legend.get_texts()]
        symbols = [t for t in labels if t.startswith(("수거", "배치", "방문"))]
        counts = [int(t.rsplit("(", 1)[1].rstrip(")")) for t in symbols]
        assert sum(counts) == len(visit_layers.stops)
        assert any(t.startswith("방문 visit") and t.endswith("(1)") for t in labels)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_html_stop_legend_counts_every_stop(visit_layers: MapLayers) -> None:
    fig = build_figure(visit_layers)
    names = [t.name for t in fig.data if t.meta == "stop_symbols"]
    counts = [int(n.rsplit("(", 1)[1].rstrip(")")) for n in names]
    assert sum(counts) == len(visit_layers.stops)
    assert any(n.startswith("방문 visit") for n in names)


def test_a_route_without_length_has_a_null_geometry_not_an_invalid_line(
    routes_doc: dict[str, Any], tmp_path: Path
) -> None:
    """A route list from another tool (no depots, no street path) with a one-stop truck: the
    GeoPackage holds no invalid LineString (two equal points), and every map still draws."""
    doc = copy.deepcopy(routes_doc)
    doc["depots"] = []
    one = doc["routes"][0]
    one["stops"], one["path"] = one["stops"][:1], None
    layers = layers_from_routes(RebalancingPlan.model_validate(doc))
    path = write_gpkg(layers, tmp_path / "night.gpkg")
    lines = pyogrio.read_dataframe(path, layer="routes").set_index("truck_id").geometry
    assert len(lines) == 3 and lines["T1"] is None  # the route's figures stay, without a line
    assert shapely.is_valid(lines.drop("T1").to_numpy()).all()
    assert len(pyogrio.read_dataframe(path, layer="stops")) == 1 + 8 + 8
    fig = draw(layers)
    import matplotlib.pyplot as plt

    plt.close(fig)
    assert len(build_figure(layers).data)


def test_the_geojson_of_routes_keeps_a_truck_whose_route_has_no_length(routes_doc: dict[str, Any]) -> None:
    """A truck that serves one station where its depot is (a real night had one 60 m away, 0 km):
    ``routes.geojson`` dropped its route feature while the map layers kept it with a null
    geometry. Both now have one route feature per used truck, the same ones without a line."""
    from mobility.export.routes import routes_feature_collection

    doc = copy.deepcopy(routes_doc)
    one = doc["routes"][0]
    one["stops"], one["path"] = one["stops"][:1], None
    at = {"lon": one["stops"][0]["lon"], "lat": one["stops"][0]["lat"]}
    doc["depots"] = [{"id": d, "name": "센터"} | at for d in sorted({r["depot_id"] for r in doc["routes"]})]
    plan = RebalancingPlan.model_validate(doc)
    routes = [f for f in routes_feature_collection(plan)["features"] if f["properties"]["kind"] == "route"]
    lines = layers_from_routes(plan).routes.set_index("truck_id").geometry
    assert [f["properties"]["truck_id"] for f in routes] == list(lines.index) == ["T1", "T2", "T3"]
    assert routes[0]["geometry"] is None and lines["T1"] is None
    assert all(f["geometry"]["type"] == "LineString" for f in routes[1:])
