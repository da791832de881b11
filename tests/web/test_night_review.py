"""What a reviewer walking the night shift's pages found: the route sheets name a station of the
list without an ST id (route plans call it ``N<number>``) by its number and address like any
other; the night's map opens on the basemap (never below the tiles' lowest zoom) and reaches all
of Seoul by panning, at 390 and 1280 px; at 390 px the simulated morning's caption wraps inside
the page and the map's scale bar is not under the attribution. Documents served by stubs
(``page.route``), stations from the server's own list (2025-12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.test_layout import EMPTY_FC, PLAN_DOC
from tests.web.test_night_views import ROUTES, _job, _morning_row, _route, _stop, _stub
from tests.web.web_support import DESKTOP, new_page, sign_in

RUN = "9" * 32
PLAN = "8" * 32
PHONE = {"width": 390, "height": 844}
BASE = "/v1/rebalancing/runs"


def _stations(server: dict[str, Any]) -> list[dict[str, Any]]:
    """The server's station list (``GET /v1/stations``), each with its lon and lat."""
    fc = httpx.get(f"{server['url']}/v1/stations", headers={"X-API-Key": server["keys"]["ops"]}).json()
    return [
        {**f["properties"], "lon": f["geometry"]["coordinates"][0], "lat": f["geometry"]["coordinates"][1]}
        for f in fc["features"]
    ]


def _stop_at(seq: int, quantity: int, station: dict[str, Any], key: str) -> dict[str, Any]:
    """A stop at a listed station, named by the route plan's id ``key`` (its ST id or ``N<number>``)."""
    return {**_stop(seq, quantity, max(quantity, 0), station["lon"]), "lat": station["lat"],
            "station_id": key, "name": station["name"]}  # fmt: skip


def _idle(page: Any, move: str = "") -> None:
    """Run ``move`` on the night's map, then wait until it has drawn every tile it asked for."""
    page.evaluate(
        """(move) => new Promise((done) => {
             const map = window.__maps.routes;
             if (move) new Function('map', move)(map);
             if (!move && map.loaded() && map.areTilesLoaded()) { done(); return; }
             map.once('idle', () => done());
             map.triggerRepaint();
           })""",
        move,
    )


BASEMAP_DRAWN = """() => { const map = window.__maps.routes;
  return map.queryRenderedFeatures().filter((f) => f.source === 'osm').length; }"""
"""How many basemap features (roads, water, parks of the server's tiles) the night's map draws."""


@pytest.mark.slow
def test_a_station_without_an_st_id_has_its_number_and_address_on_the_sheet(
    server: dict[str, Any], browser: Any, shots: Path
) -> None:
    stations = _stations(server)
    numberless = [s for s in stations if s["station_id"] is None]
    assert numberless, "the 2025-12 list has stations without an ST id"
    plain = next(s for s in stations if s["station_id"] and s["number"])
    far = numberless[:3]  # several of them: none takes another's row (all were the key "null")
    stops = [_stop_at(1, 4, plain, plain["station_id"])] + [
        _stop_at(i + 2, -1, s, f"N{s['number']}") for i, s in enumerate(far)
    ]
    page = new_page(browser, DESKTOP)
    _stub(page, f"{BASE}/{RUN}", _job(RUN, "succeeded", 1.0))
    _stub(page, f"{BASE}/{RUN}/routes", {**ROUTES, "routes": [_route("T1", stops, 1)]})
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}/sheets")
    page.wait_for_selector("#view[data-ready=true] article.sheet")
    rows = page.locator("article.sheet tbody tr:not(.depot-return)")
    assert rows.count() == len(stops)
    for row, s in zip(rows.all(), [plain, *far], strict=True):
        cell = row.locator("td").nth(2)
        assert cell.locator("strong").inner_text() == f"{s['number']}. {s['name']}"
        assert cell.locator(".addr").inner_text() == s["address"] and s["address"]
    page.screenshot(path=str(shots / "route-sheets-numberless-1280.png"), full_page=True)
    assert page.errors == []


def _citywide_night(stations: list[dict[str, Any]]) -> dict[str, Any]:
    """A night with a truck at each edge of the city: stops at the westmost, eastmost,
    northmost and southmost stations of the list, so the fit takes in all of Seoul."""
    listed = [s for s in stations if s["station_id"]]
    edges = [
        min(listed, key=lambda s: s["lon"]),
        max(listed, key=lambda s: s["lon"]),
        max(listed, key=lambda s: s["lat"]),
        min(listed, key=lambda s: s["lat"]),
    ]
    routes = [_route(f"T{i + 1}", [_stop_at(1, 3, s, s["station_id"])], 3) for i, s in enumerate(edges)]
    return {**ROUTES, "routes": routes}


@pytest.mark.slow
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=lambda v: str(v["width"]))
def test_the_night_s_map_opens_on_the_basemap_and_reaches_all_of_seoul(
    server: dict[str, Any], browser: Any, shots: Path, viewport: dict[str, int]
) -> None:
    stations = _stations(server)
    style = httpx.get(f"{server['url']}/web/style.json").json()
    lowest = style["sources"]["osm"]["minzoom"]  # the tiles' lowest zoom: no basemap below it
    assert httpx.get(f"{server['url']}/tiles/{lowest}/873/396.pbf").status_code in (200, 204)
    page = new_page(browser, viewport)
    _stub(page, f"{BASE}/{RUN}", _job(RUN, "succeeded", 1.0))
    _stub(page, f"{BASE}/{RUN}/routes", _citywide_night(stations))
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}")
    page.wait_for_selector("#route-map[data-ready=true]")
    _idle(page)
    zoom, least = page.evaluate("() => [window.__maps.routes.getZoom(), window.__maps.routes.getMinZoom()]")
    # the city does not fit at 390 px (nor quite at 1280): the map stops at the tiles' zoom
    assert least == lowest and zoom >= lowest, (zoom, least)
    assert page.evaluate(BASEMAP_DRAWN) > 0, f"no basemap at zoom {zoom}"
    page.locator("#route-map").screenshot(path=str(shots / f"night-map-citywide-{viewport['width']}.png"))
    # no zooming out past the basemap either
    _idle(page, "map.zoomTo(5, {duration: 0})")
    assert page.evaluate("() => window.__maps.routes.getZoom()") == lowest
    assert page.evaluate(BASEMAP_DRAWN) > 0
    # every station of the list, at each edge of the city, is reached by panning, on the basemap
    for s in _citywide_night(stations)["routes"]:
        lon, lat = s["stops"][0]["lon"], s["stops"][0]["lat"]
        _idle(page, f"map.jumpTo({{center: [{lon}, {lat}]}})")
        shown = page.evaluate(f"() => window.__maps.routes.getBounds().contains([{lon}, {lat}])")
        assert shown and page.evaluate(BASEMAP_DRAWN) > 0, (lon, lat)
    assert page.errors == []


@pytest.mark.slow
def test_a_plan_s_map_stops_at_the_tiles_lowest_zoom_too(server: dict[str, Any], browser: Any) -> None:
    """The plan page's map comes from the same createMap as the drawing and compare maps."""
    lowest = httpx.get(f"{server['url']}/web/style.json").json()["sources"]["osm"]["minzoom"]
    page = new_page(browser, PHONE)
    _stub(page, f"/v1/scenarios/{PLAN}/plan", PLAN_DOC)
    _stub(page, f"/v1/scenarios/{PLAN}/layers/districts.geojson", EMPTY_FC)
    _stub(page, f"/v1/scenarios/{PLAN}/layers/coverage.geojson", EMPTY_FC)
    sign_in(page, server["url"], server["keys"]["planner"], f"#/plan/{PLAN}")
    page.wait_for_selector("#plan-map[data-ready=true]")
    drawn = page.evaluate(
        """() => new Promise((done) => { const map = window.__maps.plan;
             map.zoomTo(5, {duration: 0});
             map.once('idle', () => done([map.getMinZoom(), map.getZoom(),
               map.queryRenderedFeatures().filter((f) => f.source === 'osm').length]));
             map.triggerRepaint(); })"""
    )
    assert drawn[:2] == [lowest, lowest] and drawn[2] > 0, drawn
    assert page.errors == []


BOXES = """() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const table = document.querySelector('#simulated-morning');
  const map = document.querySelector('#route-map');
  return {caption: box(table.querySelector('caption')), wrap: box(table.parentElement), table: box(table),
    scale: box(map.querySelector('.maplibregl-ctrl-scale')),
    attrib: box(map.querySelector('.maplibregl-ctrl-attrib')), map: box(map), inner: innerWidth};
}"""
"""Screen boxes ([left, top, right, bottom]) of the simulated morning's caption, table and its
scrolling box, and of the night's map, its scale bar and its attribution."""


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1024])
def test_at_narrow_widths_the_caption_wraps_in_view_and_the_scale_bar_shows(
    server: dict[str, Any], browser: Any, shots: Path, width: int
) -> None:
    """At 390 px (and at 1024 px, where the map column beside the aside is 330 px wide) the
    simulated morning's caption stays inside the table's box, also with the table scrolled
    sideways, and the scale bar is clear of the expanded attribution."""
    methods = ("no rebalancing", "greedy dispatcher", "ours")
    lost = (1021.5, 30.3, 29.8)
    rows = {m: _morning_row(m, 1337, x, 12_345.0) for m, x in zip(methods, lost, strict=True)}
    page = new_page(browser, {"width": width, "height": 844})
    _stub(page, f"{BASE}/{RUN}", _job(RUN, "succeeded", 1.0, kpis={"morning_after": rows}))
    _stub(page, f"{BASE}/{RUN}/routes", ROUTES)
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}")
    page.wait_for_selector("#route-map[data-ready=true]")
    b = page.evaluate(BOXES)
    if width == 390:
        assert b["table"][2] > b["wrap"][2], b  # the table is wider than its box: it scrolls
    assert b["wrap"][0] <= b["caption"][0] and b["caption"][2] <= min(b["wrap"][2], b["inner"]), b
    page.evaluate("() => { document.querySelector('#simulated-morning').parentElement.scrollLeft = 1e4; }")
    b = page.evaluate(BOXES)
    assert b["wrap"][0] <= b["caption"][0] and b["caption"][2] <= min(b["wrap"][2], b["inner"]), b
    s, a, m = b["scale"], b["attrib"], b["map"]
    overlap = s[0] < a[2] and a[0] < s[2] and s[1] < a[3] and a[1] < s[3]
    assert not overlap, (s, a)
    assert m[0] <= s[0] and s[2] <= m[2] and m[1] <= s[1] and s[3] <= m[3], (s, m)  # inside the map
    page.locator("#route-map").screenshot(path=str(shots / f"night-map-scale-{width}.png"))
    page.locator("#simulated-morning").scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the sticky caption is drawn a frame after the scroll
    page.screenshot(path=str(shots / f"night-morning-caption-{width}.png"))
    assert page.errors == []
