"""The print map stays legible on the shipped night (review walk): no name covers another, the
depots' names first ('성수 운영센터 (성동구)' lay under '광진구', '영등포 운영센터 (영등포구)' on
'영등포구'); the legend covers no district (it hid 금천구); the routes' colours stand apart from the
stations' yellow-to-brown scale (orange, brown and dark red routes were lost among the stations)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
import shapely
import yaml
from colorspacious import cspace_convert  # type: ignore[import-untyped]
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text

from mobility.export.html_map import build_figure
from mobility.export.layers import MapLayers, layers_from_routes
from mobility.export.static_map import EXISTING_COLOR, MAX_ROUTE_LEGEND, draw, font_rc
from mobility.export.style import DEPOT_COLOR, ROUTE_COLORS, STATION_CMAP
from mobility.export.synthetic import synthetic_routes
from mobility.sources.base import CRS_METRIC

NIGHTLY = Path(__file__).resolve().parents[2] / "scenarios" / "seoul-nightly.yaml"
MIN_FROM_STATIONS = 30.0
"""Least CAM02-UCS difference of a route colour from any colour of the station scale (the old
palette's orange was 2.5 from it, its brown 14.8, its dark red 9.9)."""


def _delta_e(a: Any, b: Any) -> np.ndarray:
    """CAM02-UCS colour differences, ``len(a)`` x ``len(b)``."""
    ua = cspace_convert(np.array([to_rgb(c) for c in a]), "sRGB1", "CAM02-UCS")
    ub = cspace_convert(np.array([to_rgb(c) for c in b]), "sRGB1", "CAM02-UCS")
    return np.asarray(np.sqrt(((ua[:, None, :] - ub[None, :, :]) ** 2).sum(axis=-1)))


def _station_scale() -> list[tuple[float, ...]]:
    return [tuple(c) for c in colormaps[STATION_CMAP](np.linspace(0.0, 1.0, 256))]


@pytest.fixture(scope="module")
def shipped_night(current_layers: MapLayers, data_dir: Path) -> MapLayers:
    """The shipped night's depots and fleet (4 depots x 6 trucks), each truck a synthetic route
    in one district, framed on the city as the night's map is."""
    sc = yaml.safe_load(NIGHTLY.read_text(encoding="utf-8"))
    fleet = [t["depot"] for t in sc["trucks"] for _ in range(t["count"])]
    assert len(fleet) == 24
    doc = synthetic_routes(current_layers.existing_stations, trucks=len(fleet), stops=6, seed=7)
    for route, depot in zip(doc["routes"], fleet, strict=True):
        route["depot_id"] = depot
    doc["depots"] = [{k: d[k] for k in ("id", "name", "lon", "lat")} for d in sc["depots"]]
    return layers_from_routes(doc, data_dir, with_water=False)


@pytest.fixture(scope="module", params=["shipped_night", "current_layers"])
def drawn(request: pytest.FixtureRequest) -> Iterator[tuple[MapLayers, Figure]]:
    """The night's map and the current network's (framed on its own data), drawn."""
    layers: MapLayers = request.getfixturevalue(request.param)
    with plt.rc_context(font_rc()):  # as write_static_map saves it: the names' sizes in its font
        fig = draw(layers)
        fig.canvas.draw()
        yield layers, fig
    plt.close(fig)


DEPOT_SQUARE_PT = 150**0.5
"""A depot's square on the print map (side, points: ``s=150`` points²)."""


def _names(fig: Figure, names: Any) -> list[Text]:
    """The map's texts that are shown and read one of ``names``."""
    wanted = set(map(str, names))
    return [t for t in fig.axes[0].texts if t.get_text() in wanted and t.get_visible()]


def test_no_name_covers_another_or_a_depot(drawn: tuple[MapLayers, Figure]) -> None:
    layers, fig = drawn
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    depots, districts = _names(fig, layers.depots["name"]), _names(fig, layers.districts["gu_kr"])
    assert sorted(t.get_text() for t in depots) == sorted(layers.depots["name"])
    patches = [(t.get_text(), t.get_bbox_patch()) for t in depots + districts]
    boxes = [(name, patch.get_window_extent(renderer)) for name, patch in patches if patch is not None]
    assert len(boxes) == len(patches)  # every name on its light box
    for (a, box_a), (b, box_b) in combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    half = DEPOT_SQUARE_PT / 2 * fig.dpi / 72.0
    for x, y in ax.transData.transform([t.xy for t in depots]).reshape(-1, 2):  # type: ignore[attr-defined]
        for name, box in boxes:
            assert not box.overlaps(box.from_extents(x - half, y - half, x + half, y + half)), name
    for t in depots:  # whole on the map, none cut at its edge
        assert ax.bbox.contains(*t.get_window_extent(renderer).min)
        assert ax.bbox.contains(*t.get_window_extent(renderer).max)
    shown = {t.get_text() for t in districts}
    assert {"광진구", "영등포구", "금천구", "성동구"} <= shown  # moved clear of the depots, not left out


def test_legend_covers_no_district(drawn: tuple[MapLayers, Figure]) -> None:
    layers, fig = drawn
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend = ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent(renderer)
    assert fig.bbox.contains(*box.min) and fig.bbox.contains(*box.max)  # whole on the page
    (x0, y0), (x1, y1) = ax.transData.inverted().transform(box.get_points())
    (vx0, vx1), (vy0, vy1) = ax.get_xlim(), ax.get_ylim()
    shown = shapely.box(vx0, vy0, vx1, vy1)
    city = shapely.intersection(layers.districts.to_crs(CRS_METRIC).union_all(), shown)
    assert not city.is_empty
    assert not city.intersects(shapely.box(x0, y0, x1, y1))


def test_route_palette_stands_apart_from_the_stations_and_within_itself() -> None:
    assert len({c.lower() for c in ROUTE_COLORS}) == len(ROUTE_COLORS) >= MAX_ROUTE_LEGEND
    assert _delta_e(ROUTE_COLORS, _station_scale()).min() >= MIN_FROM_STATIONS
    assert _delta_e(ROUTE_COLORS, [EXISTING_COLOR, DEPOT_COLOR]).min() >= 15.0
    pairs = _delta_e(ROUTE_COLORS, ROUTE_COLORS) + np.diag(np.full(len(ROUTE_COLORS), np.inf))
    assert pairs[:24, :24].min() >= 16.0  # the shipped night's 24 trucks
    assert pairs.min() >= 14.0


def test_both_maps_draw_the_nights_routes_in_the_shared_palette(shipped_night: MapLayers) -> None:
    """Every truck of the shipped night, on the print map and on the HTML map."""
    from mobility.export.layers import TRUCK_COLORS
    from mobility.export.map_style import basemap_style

    assert tuple(TRUCK_COLORS) == ROUTE_COLORS
    assert basemap_style("t/{z}/{x}/{y}.pbf")["metadata"]["mobility:colors"]["trucks"] == list(ROUTE_COLORS)
    fig = draw(shipped_night)
    try:
        lines = fig.axes[0].get_lines()
        drawn = {to_hex(line.get_color()) for line in lines if np.size(line.get_xdata()) > 1}
    finally:
        plt.close(fig)
    html = {t.line.color for t in build_figure(shipped_night).data if t.meta == "route"}
    assert drawn == html == set(ROUTE_COLORS[:24])
    assert _delta_e(sorted(drawn | html), _station_scale()).min() >= MIN_FROM_STATIONS
