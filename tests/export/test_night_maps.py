"""The night's maps show the night: its snapshot's stations, bikes and docks, its totals, framed on
its stations and routes (not the nominal 2,799-station network with an estimated 45,000 bikes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mobility.export.html_map import build_figure
from mobility.export.layers import MapLayers, layers_from_routes
from mobility.export.static_map import MAX_ROUTE_LEGEND, draw, write_static_map
from mobility.export.synthetic import synthetic_routes
from mobility.rebalancing.problem import Depot, RebalancingProblem, Truck

TWO_GU = ("마포구", "서대문구")


@pytest.fixture(scope="module")
def night(current_layers: MapLayers) -> tuple[RebalancingProblem, dict[str, Any]]:
    """A two-district snapshot (observed bikes != the fleet estimate) and routes over it."""
    ex = current_layers.existing_stations
    st = ex[ex["gu"].isin(TWO_GU)].reset_index(drop=True).copy()
    rng = np.random.default_rng(3)
    st["bikes"] = rng.integers(0, 12, len(st))
    n = len(st)
    depot = Depot("D1", "상암 센터", 126.89, 37.57)
    problem = RebalancingProblem(
        station_ids=tuple(st["station_id"].astype(str)),
        names=tuple(st["name"].astype(str)),
        lon=st.geometry.x.to_numpy(float),
        lat=st.geometry.y.to_numpy(float),
        docks=st["docks"].to_numpy(int),
        bikes=st["bikes"].to_numpy(int),
        curves=tuple(np.zeros(int(d) + 30) for d in st["docks"]),
        depots=(depot,),
        trucks=(Truck("T1", "D1", 20, 79_200.0, 108_000.0),),
        travel_s=np.zeros((n + 1, n + 1)),
        distance_m=np.zeros((n + 1, n + 1)),
        meta={"snapshot": "two-gu"},
    )
    doc = synthetic_routes(st, trucks=3, stops=8, seed=1)
    return problem, doc


@pytest.fixture(scope="module")
def night_layers(night: tuple[RebalancingProblem, dict[str, Any]], data_dir: Path) -> MapLayers:
    problem, doc = night
    return layers_from_routes(doc, data_dir, with_water=False, problem=problem)


def test_station_layer_is_the_snapshot(
    night: tuple[RebalancingProblem, dict[str, Any]], night_layers: MapLayers
) -> None:
    problem, _ = night
    st = night_layers.existing_stations
    assert len(st) == len(problem.station_ids) < 400
    assert list(st["station_id"]) == list(problem.station_ids)
    assert st["bikes"].tolist() == problem.bikes.tolist()
    assert st["docks"].tolist() == problem.docks.tolist()
    assert not st["bikes_estimated"].any()
    assert set(st["gu"]) == set(TWO_GU)


def test_subtitle_and_legend_give_the_nights_numbers(
    night: tuple[RebalancingProblem, dict[str, Any]], night_layers: MapLayers
) -> None:
    problem, doc = night
    tot = doc["totals"]
    n, bikes = len(problem.station_ids), int(problem.bikes.sum())
    fig = draw(night_layers)
    try:
        ax = fig.axes[0]
        title = ax.get_title(loc="left")
        drawn_legend = ax.get_legend()
        assert drawn_legend is not None
        legend = [t.get_text() for t in drawn_legend.get_texts()]
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    expected = (
        f"대여소 {n:,} · 자전거 {bikes:,} · 트럭 trucks {tot['trucks_used']} · "
        f"이동 moved {tot['bikes_moved']:,}대 · 주행 driven {tot['km']:,.1f} km"
    )
    assert expected in title
    assert "도보권" not in title and "45,000" not in title
    assert f"기존 대여소 existing ({n:,})" in legend
    for r in doc["routes"]:
        assert f"트럭 {r['truck_id']} ({len(r['stops'])} stops)" in legend
    q = [s["quantity"] for r in doc["routes"] for s in r["stops"]]
    assert f"수거 pick-up ({sum(x > 0 for x in q)})" in legend
    assert f"배치 drop-off ({sum(x < 0 for x in q)})" in legend
    html_title = build_figure(night_layers).layout.title.text
    assert expected in html_title and "도보권" not in html_title


def test_map_is_framed_on_the_snapshot(night_layers: MapLayers, current_layers: MapLayers) -> None:
    minx, miny, maxx, maxy = night_layers.meta["extent"]
    sx0, sy0, sx1, sy1 = night_layers.existing_stations.total_bounds
    assert minx <= sx0 and miny <= sy0 and maxx >= sx1 and maxy >= sy1  # every station inside
    cx0, cy0, cx1, cy1 = current_layers.districts.total_bounds
    assert (maxx - minx) < 0.5 * (cx1 - cx0) and (maxy - miny) < 0.6 * (cy1 - cy0)  # not all Seoul
    fig = build_figure(night_layers)
    assert tuple(fig.layout.xaxis.range) == pytest.approx((minx, maxx))
    assert tuple(fig.layout.yaxis.range) == pytest.approx((miny, maxy))
    f = draw(night_layers)
    try:
        x0, x1 = f.axes[0].get_xlim()
        assert 3_000 < x1 - x0 < 20_000  # metres: two districts, not the city's ~37 km
    finally:
        import matplotlib.pyplot as plt

        plt.close(f)


def test_stop_symbols_and_per_truck_legend_for_many_trucks(
    night: tuple[RebalancingProblem, dict[str, Any]], data_dir: Path, tmp_path: Path
) -> None:
    problem, _ = night
    from mobility.export.layers import night_stations

    st = night_stations(problem)
    st["gu"] = np.where(np.arange(len(st)) % 2 == 0, "a", "b")
    doc = synthetic_routes(st, trucks=20, stops=4, seed=5)
    layers = layers_from_routes(doc, data_dir, with_water=False, problem=problem)
    fig = build_figure(layers)
    symbols = {tuple(t.marker.symbol) for t in fig.data if t.meta == "stops"}
    assert {"triangle-up", "triangle-down"} <= {s for tup in symbols for s in tup}
    assert MAX_ROUTE_LEGEND >= 20
    path = write_static_map(layers, tmp_path / "map.svg")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text(encoding="utf-8"))
    assert sum(t.startswith("트럭 ") for t in texts) == 20  # one legend entry per truck


def test_depots_are_drawn_and_exported(
    night: tuple[RebalancingProblem, dict[str, Any]], data_dir: Path, tmp_path: Path
) -> None:
    """Where the trucks start and end was in routes.json and the route sheet but on no map and in
    no GIS layer: a reviewer could not see which centre a route belongs to."""
    import pyogrio

    from mobility.export.gpkg import write_gpkg

    problem, doc = night
    two = {
        **doc,
        "depots": [
            {"id": "D1", "name": "상암 센터", "lon": 126.89, "lat": 37.57},
            {"id": "D2", "name": "신촌 센터", "lon": 126.94, "lat": 37.555},  # no truck of its own
        ],
    }
    layers = layers_from_routes(two, data_dir, with_water=False, problem=problem)
    dep = layers.depots
    assert dep["depot_id"].tolist() == ["D1", "D2"] and dep["name"].tolist() == ["상암 센터", "신촌 센터"]
    assert dep["trucks"].tolist() == [doc["totals"]["trucks_used"], 0]
    assert dep.geometry.x.tolist() == pytest.approx([126.89, 126.94])
    x0, y0, x1, y1 = layers.meta["extent"]
    assert x0 < 126.89 < x1 and y0 < 37.57 < y1  # the frame takes the depots in
    (trace,) = [t for t in build_figure(layers).data if t.meta == "depots"]
    assert list(trace.x) == pytest.approx([126.89, 126.94]) and trace.name == "차고지 depot (2)"
    assert [c[1] for c in trace.customdata] == ["상암 센터", "신촌 센터"]
    svg = write_static_map(layers, tmp_path / "night.svg").read_text(encoding="utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "차고지 depot (2)" in texts and "상암 센터" in texts and "신촌 센터" in texts
    gpkg = write_gpkg(layers, tmp_path / "night.gpkg")
    got = pyogrio.read_dataframe(gpkg, layer="depots")
    assert got["name"].tolist() == ["상암 센터", "신촌 센터"]
    assert got["trucks"].tolist() == dep["trucks"].tolist()


def test_no_two_trucks_of_a_listed_legend_share_a_colour() -> None:
    """The print map lists up to MAX_ROUTE_LEGEND trucks one by one; with 24 colours, trucks 25-30
    of such a legend took the colours of trucks 1-6, so two entries could not be told apart."""
    from mobility.export.layers import TRUCK_COLORS

    assert len({c.lower() for c in TRUCK_COLORS}) == len(TRUCK_COLORS) >= MAX_ROUTE_LEGEND
