"""GeoJSON, GeoPackage, GBFS and CSV route sheets, read back as a GIS tool or Excel would."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest

from mobility.export.gbfs import build_feeds, validate, write_gbfs
from mobility.export.geojson import write_geojson
from mobility.export.gpkg import write_gpkg
from mobility.export.layers import LAYER_NAMES, MapLayers
from mobility.export.routesheet import write_route_sheets

N_STATIONS_2025_12 = 2799


def test_geojson_rfc7946(full_layers: MapLayers, tmp_path: Path) -> None:
    written = write_geojson(full_layers, tmp_path)
    names = {p.stem for p in written}
    assert names == {n for n, g in full_layers.layers().items() if len(g)}
    for p in written:
        doc = json.loads(p.read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection"
        assert "crs" not in doc  # RFC 7946: WGS84 implied, no crs member
        gdf = pyogrio.read_dataframe(p)
        assert gdf.crs.to_epsg() == 4326
        assert len(gdf) == len(full_layers.layers()[p.stem])
    doc = json.loads((tmp_path / "existing_stations.geojson").read_text(encoding="utf-8"))
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert 126.7 < lon < 127.3 and 37.4 < lat < 37.8  # lon/lat order
    assert len(str(lon).split(".")[1]) <= 6
    assert "망원역 1번출구 앞" in {f["properties"]["name"] for f in doc["features"]}
    # No temporary files left behind.
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_geopackage_layers(full_layers: MapLayers, plan_layers: MapLayers, tmp_path: Path) -> None:
    path = write_gpkg(plan_layers.with_routes(full_layers), tmp_path / "plan.gpkg")
    info = {name: gtype for name, gtype in pyogrio.list_layers(path)}
    assert set(info) == set(LAYER_NAMES)
    assert info["districts"] == "MultiPolygon" and info["routes"] == "LineString"
    counts = {
        "existing_stations": N_STATIONS_2025_12,
        "new_stations": 40,
        "districts": 25,
        "routes": 3,
        "stops": 24,
    }
    for layer, n in counts.items():
        gdf = pyogrio.read_dataframe(path, layer=layer)
        assert len(gdf) == n, layer
        assert gdf.crs.to_epsg() == 4326
    d = pyogrio.read_dataframe(path, layer="districts")
    for col in ("bikes_per_10k", "coverage_share", "coverage_share_before", "coverage_share_change"):
        assert col in d.columns
    assert "강남구" in set(d["gu_kr"])
    assert [p.name for p in tmp_path.iterdir()] == ["plan.gpkg"]


def test_geopackage_keeps_empty_layers(current_layers: MapLayers, tmp_path: Path) -> None:
    path = write_gpkg(current_layers, tmp_path / "current.gpkg")
    assert {n for n, _ in pyogrio.list_layers(path)} == set(LAYER_NAMES)
    assert len(pyogrio.read_dataframe(path, layer="routes")) == 0


def test_gbfs_validates_against_the_v3_schema(plan_layers: MapLayers, tmp_path: Path) -> None:
    written = write_gbfs(plan_layers, tmp_path, base_url="https://example.org/gbfs")
    assert {p.name for p in written} == {
        "gbfs.json", "system_information.json", "station_information.json", "station_status.json"
    }  # fmt: skip
    for p in written:
        doc = json.loads(p.read_text(encoding="utf-8"))
        assert validate(p.stem, doc) == []
        assert doc["version"] == "3.0"
    info = json.loads((tmp_path / "station_information.json").read_text(encoding="utf-8"))
    status = json.loads((tmp_path / "station_status.json").read_text(encoding="utf-8"))
    stations = info["data"]["stations"]
    assert len(stations) == N_STATIONS_2025_12 + 40
    assert len({s["station_id"] for s in stations}) == len(stations)
    assert {s["station_id"] for s in stations} == {s["station_id"] for s in status["data"]["stations"]}
    by_name = {s["name"][0]["text"]: s for s in stations}
    assert by_name["망원역 1번출구 앞"]["name"][0]["language"] == "ko"
    bikes = sum(s["num_vehicles_available"] for s in status["data"]["stations"])
    assert bikes == plan_layers.existing_stations["bikes"].sum() + plan_layers.new_stations["bikes"].sum()


def test_gbfs_validator_rejects_broken_feeds(current_layers: MapLayers) -> None:
    docs = build_feeds(current_layers, base_url="https://example.org/gbfs")
    broken = copy.deepcopy(docs["station_information"])
    del broken["data"]["stations"][0]["lat"]
    broken["data"]["stations"][1]["name"] = "plain string, not localized"
    broken["last_updated"] = 1700000000  # v3 wants RFC 3339, not POSIX seconds
    errors = validate("station_information", broken)
    assert any("'lat' is a required property" in e for e in errors)
    assert any("data/stations/1/name" in e for e in errors)
    assert any("last_updated" in e for e in errors)
    status = copy.deepcopy(docs["station_status"])
    status["data"]["stations"][0]["num_vehicles_available"] = -1
    assert validate("station_status", status)


def test_route_sheets_open_in_excel(
    full_layers: MapLayers, routes_doc: dict[str, Any], tmp_path: Path
) -> None:
    written = write_route_sheets(full_layers, tmp_path)
    assert {p.name for p in written} == {"routes_all.csv", "route_T1.csv", "route_T2.csv", "route_T3.csv"}
    raw = (tmp_path / "route_T1.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads the Hangul correctly
    t1 = pd.read_csv(tmp_path / "route_T1.csv", encoding="utf-8-sig")
    want = routes_doc["routes"][0]["stops"]
    assert t1["seq"].tolist() == [s["seq"] for s in want]
    assert t1["name"].tolist() == [s["name"] for s in want]
    assert t1["bikes"].tolist() == [abs(s["quantity"]) for s in want]
    expected = ["pick up" if s["quantity"] > 0 else "drop off" for s in want]
    assert [a.startswith(e) for a, e in zip(t1["action"], expected, strict=True)] == [True] * len(want)
    every = pd.read_csv(tmp_path / "routes_all.csv", encoding="utf-8-sig")
    assert len(every) == 24 and every["truck_id"].nunique() == 3


def test_a_truck_not_on_the_road_tonight_has_no_sheet_left_from_last_night(
    full_layers: MapLayers, tmp_path: Path
) -> None:
    """Last night's sheet of truck T9 stood beside tonight's three; other files stay."""
    (tmp_path / "route_T9.csv").write_text("last night", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("the shift's notes", encoding="utf-8")
    written = write_route_sheets(full_layers, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(p.name for p in written), "notes.txt"])
    assert not (tmp_path / "route_T9.csv").exists()


def test_failed_gpkg_write_leaves_nothing_behind(
    current_layers: MapLayers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.gpkg"
    target.write_bytes(b"previous version")
    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_gpkg(current_layers, target)
    assert target.read_bytes() == b"previous version"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["plan.gpkg"]  # no temporary file left
