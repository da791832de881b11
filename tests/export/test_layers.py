"""MapLayers builders: the current network, the Plan / RebalancingPlan adapters, input errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobility.errors import DataFileError, InputError
from mobility.export.layers import (
    DEFAULT_FLEET,
    LAYER_NAMES,
    MapLayers,
    estimate_bikes,
    layers_from_routes,
    load_layers,
)

N_STATIONS_2025_12 = 2799
N_GU = 25


def test_current_network_layers(current_layers: MapLayers) -> None:
    c = current_layers.counts()
    assert c["existing_stations"] == N_STATIONS_2025_12
    assert c["districts"] == N_GU
    assert c["new_stations"] == 0
    assert list(current_layers.layers()) == list(LAYER_NAMES)
    for gdf in current_layers.layers().values():
        assert gdf.crs.to_epsg() == 4326
    d = current_layers.districts
    assert d["stations"].sum() == N_STATIONS_2025_12
    assert d["bikes"].sum() == DEFAULT_FLEET
    assert d["coverage_share"].between(0, 1).all()
    # Bikes per 10k follows from its parts.
    np.testing.assert_allclose(d["bikes_per_10k"], d["bikes"] / d["population"] * 1e4, atol=0.01)
    # Korean names as in the source, not mojibake.
    names = set(current_layers.existing_stations["name"])
    assert "망원역 1번출구 앞" in names
    assert set(d["gu_kr"]) >= {"종로구", "강남구", "송파구"}
    assert len(current_layers.water) == 1 and current_layers.water.geometry.iloc[0].area > 0


def test_water_covers_the_han_river(current_layers: MapLayers) -> None:
    from shapely.geometry import Point

    water = current_layers.water.geometry.iloc[0]
    # Mid-river between Yeouido and Noryangjin, and under Banpo bridge.
    assert water.contains(Point(126.9470, 37.5230))
    assert water.contains(Point(126.9960, 37.5150))
    # City Hall is dry land.
    assert not water.contains(Point(126.9780, 37.5665))


@given(st.lists(st.integers(0, 60), min_size=1, max_size=50), st.integers(0, 5000))
def test_estimate_bikes_sums_exactly(docks: list[int], fleet: int) -> None:
    s = estimate_bikes(pd.Series(docks), fleet)
    assert (s >= 0).all()
    if sum(docks) > 0:
        assert int(s.sum()) == fleet
        # Never more than one bike away from the exact proportional share.
        exact = np.array(docks) / sum(docks) * fleet
        assert np.all(np.abs(s.to_numpy() - exact) < 1.0 + 1e-9)
    else:
        assert int(s.sum()) == 0


def test_plan_adapter(plan_layers: MapLayers, plan_doc: dict[str, Any]) -> None:
    assert len(plan_layers.new_stations) == len(plan_doc["new_stations"]) == 40
    assert len(plan_layers.existing_stations) == N_STATIONS_2025_12
    assert not plan_layers.existing_stations["bikes_estimated"].any()  # the plan's own bikes
    d = plan_layers.districts.set_index("gu_kr")
    for row in plan_doc["districts"]:
        assert d.at[row["gu"], "bikes_per_10k"] == pytest.approx(row["bikes_per_10k"])
        assert d.at[row["gu"], "coverage_share_before"] == pytest.approx(row["covered_share_before"])
    assert plan_layers.meta["citywide"]["stations"] == N_STATIONS_2025_12 + 40
    assert set(plan_layers.coverage["kind"]) == {"existing", "new"}


def test_routes_adapter(full_layers: MapLayers, routes_doc: dict[str, Any]) -> None:
    assert len(full_layers.routes) == 3
    assert len(full_layers.stops) == 24
    assert full_layers.routes["color"].nunique() == 3
    for r in routes_doc["routes"]:
        s = full_layers.stops[full_layers.stops["truck_id"] == r["truck_id"]].sort_values("seq")
        assert s["seq"].tolist() == list(range(1, 9))
        assert s["quantity"].tolist() == [x["quantity"] for x in r["stops"]]


def test_routes_without_coordinates_are_placed_from_the_station_list(
    routes_doc: dict[str, Any], data_dir: Path, current_layers: MapLayers
) -> None:
    doc = json.loads(json.dumps(routes_doc))
    for r in doc["routes"]:
        for s in r["stops"]:
            del s["lat"], s["lon"]
        r["path"] = None
    layers = layers_from_routes(doc, data_dir, with_water=False)
    ex = current_layers.existing_stations.set_index("station_id")
    first = doc["routes"][0]["stops"][0]["station_id"]
    got = layers.stops[layers.stops["station_id"] == first].geometry.iloc[0]
    assert got.distance(ex.loc[first].geometry) < 1e-9


def test_unknown_station_in_routes_is_an_input_error(routes_doc: dict[str, Any], data_dir: Path) -> None:
    doc = json.loads(json.dumps(routes_doc))
    s = doc["routes"][0]["stops"][0]
    del s["lat"], s["lon"]
    s["station_id"] = "ST-NOPE"
    with pytest.raises(InputError, match=r"routes\[0\]\.stops\[0\]\.station_id"):
        layers_from_routes(doc, data_dir, with_water=False)


def test_load_layers_errors(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(InputError, match="PLAN_OR_ROUTES"):
        load_layers(tmp_path / "missing.json", data_dir)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe not json")
    with pytest.raises(DataFileError):
        load_layers(bad, data_dir)
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(InputError, match="new_stations"):
        load_layers(other, data_dir)


def test_plan_served_share_reaches_the_map_summary(plan_doc: dict[str, Any], data_dir: Path) -> None:
    """A simulated plan's served share (mobility.simulation.plans) is in the maps' city summary."""
    from mobility.export.layers import layers_from_plan, served_summary
    from mobility.placement.plan import Plan

    doc = json.loads(json.dumps(plan_doc))
    doc["city_before"]["served_share"] = {"mean": 0.884, "low": 0.881, "high": 0.887}
    doc["city_after"]["served_share"] = {"mean": 0.99, "low": 0.989, "high": 0.991}
    for row in doc["districts"]:
        row["served_share_before"] = {"mean": 0.8, "low": 0.7, "high": 0.9}
        row["served_share"] = {"mean": 0.95, "low": 0.9, "high": 0.99}
    layers = layers_from_plan(Plan.from_dict(doc), data_dir)
    assert layers.meta["citywide"]["served_share_low"] == pytest.approx(0.989)
    assert layers.meta["citywide_before"]["served_share"] == pytest.approx(0.884)
    assert (layers.districts["served_share"] == 0.95).all()
    assert "99.0%" in served_summary(layers.meta) and "88.4%" in served_summary(layers.meta)
