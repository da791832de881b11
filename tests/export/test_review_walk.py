"""What a reviewer found walking through the README's map exports of a real plan: a new station's
hover said "trips/day: null" for a plan without trip predictions, the current network's maps gave
its estimated fleet as a count, and a plan's GIS districts rounded its coverage shares."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mobility.export.html_map import build_figure
from mobility.export.layers import MapLayers, layers_from_plan
from mobility.export.static_map import draw


def _new_station_trace(layers: MapLayers) -> dict[str, Any]:
    """The new-station trace as the browser receives it (the figure's JSON)."""
    data = json.loads(build_figure(layers).to_json())["data"]
    return next(t for t in data if t.get("meta") == "new_stations")


def test_new_station_hover_without_predicted_trips_shows_no_null(plan_layers: MapLayers) -> None:
    """A plan without a demand model (the README's seoul-2019-30k) has no predicted trips: the
    hover must not read "예상 이용 trips/day: null"."""
    new = plan_layers.new_stations.copy()
    new["predicted_trips"] = np.nan
    trace = _new_station_trace(replace(plan_layers, new_stations=new))
    assert "trips/day" not in trace["hovertemplate"]
    assert all(v is not None for row in trace["customdata"] for v in row)


def test_new_station_hover_with_some_predicted_trips(plan_layers: MapLayers) -> None:
    """With predictions the line stays; a station without one shows a dash, not null or nan."""
    new = plan_layers.new_stations.copy()
    new.loc[new.index[0], "predicted_trips"] = np.nan
    trace = _new_station_trace(replace(plan_layers, new_stations=new))
    assert "예상 이용 trips/day: %{customdata[6]}" in trace["hovertemplate"]
    trips = [row[6] for row in trace["customdata"]]
    assert trips[0] == "–"
    assert trips[1] == f"{float(new['predicted_trips'].iloc[1]):,.1f}"
    assert not {None, "nan", "None"} & set(trips)


def test_current_network_subtitles_say_the_bikes_are_estimated(current_layers: MapLayers) -> None:
    """No per-station bike counts exist for the current network: the fleet is spread by docks.
    The citywide line of the HTML and print maps must say so, not give 45,000 as a count."""
    import matplotlib.pyplot as plt

    html_title = build_figure(current_layers).layout.title.text
    assert "자전거 45,000 (추정 estimated)" in html_title
    fig = draw(current_layers)
    try:
        assert "자전거 45,000 (추정 estimated)" in fig.axes[0].get_title(loc="left")
    finally:
        plt.close(fig)


def test_plan_subtitles_do_not_mark_the_plans_own_bikes(plan_layers: MapLayers) -> None:
    import matplotlib.pyplot as plt

    assert "추정" not in build_figure(plan_layers).layout.title.text
    fig = draw(plan_layers)
    try:
        assert "추정" not in fig.axes[0].get_title(loc="left")
    finally:
        plt.close(fig)


def test_plan_district_coverage_shares_equal_the_plans(plan_doc: dict[str, Any], data_dir: Path) -> None:
    """A plan gives its shares to 5 decimals; the GIS districts (GeoPackage/GeoJSON) carried
    ``coverage_share`` rounded to 4 beside ``coverage_share_before`` to 5 (0.4046 for 0.40464)."""
    from mobility.placement.plan import Plan

    doc = copy.deepcopy(plan_doc)
    for i, d in enumerate(doc["districts"]):
        d["covered_share"] = round(min(float(d["covered_share"]), 0.9) + 0.00004 + i * 1e-5, 5)
        d["covered_share_before"] = round(min(float(d["covered_share_before"]), 0.5) + 0.00003, 5)
    layers = layers_from_plan(Plan.from_dict(doc), data_dir, with_water=False)
    dk = layers.districts.set_index("gu_kr")
    for d in doc["districts"]:
        assert dk.at[d["gu"], "coverage_share"] == pytest.approx(d["covered_share"], abs=1e-9)
        assert dk.at[d["gu"], "coverage_share_before"] == pytest.approx(d["covered_share_before"], abs=1e-9)
        change = d["covered_share"] - d["covered_share_before"]
        assert dk.at[d["gu"], "coverage_share_change"] == pytest.approx(change, abs=1e-9)


def test_new_station_gis_layer_keeps_the_plans_fields(
    plan_doc: dict[str, Any], plan_layers: MapLayers
) -> None:
    """The GIS layer of new stations carried ``population_covered`` (read as all residents a site
    covers; it is those it covers first) and dropped the plan's rank, dong and reason."""
    new = plan_layers.new_stations
    assert "population_covered" not in new.columns
    first = plan_doc["new_stations"][0]
    row = new.set_index("station_id").loc[first["id"]]
    assert row["population_newly_covered"] == pytest.approx(first["population_newly_covered"])
    assert (row["rank"], row["dong"], row["reason"]) == (first["rank"], first["dong"], first["reason"])
    assert str(new["rank"].dtype) == "int64"


def test_a_baseline_without_bike_counts_is_not_a_city_of_zero_bikes(
    plan_doc: dict[str, Any], data_dir: Path
) -> None:
    """The 2019 plan's baseline has no bike counts (``city_before.bikes_per_10k`` null): its maps
    read "인구 1만 명당 0.0 → 33.1대" before, as if Seoul had had no bikes."""
    import matplotlib.pyplot as plt

    from mobility.placement.plan import Plan

    doc = copy.deepcopy(plan_doc)
    doc["city_before"] |= {"bikes": None, "bikes_per_10k": None}
    layers = layers_from_plan(Plan.from_dict(doc), data_dir)
    after = f"{doc['city_after']['bikes_per_10k']:.1f}대"
    title = build_figure(layers).layout.title.text
    assert f"인구 1만 명당 {after}" in title and "명당 0.0 →" not in title
    fig = draw(layers)
    try:
        assert f"인구 1만 명당 {after}" in fig.axes[0].get_title(loc="left")
    finally:
        plt.close(fig)
