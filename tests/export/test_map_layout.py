"""The maps as a reviewer walked them: the offline HTML map, and its opt-in basemap variant
(``--tiles``), at a phone's width (390x844) and at a laptop's (1366x900) in headless Debian
Chromium, the SVG's font chain, and the before figures of a comparison's hover and subtitle."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mobility.export.compare import comparison_layers
from mobility.export.html_map import DIV_ID, build_figure, district_hover, write_html_map
from mobility.export.layers import MapLayers, layers_from_plan
from mobility.export.static_map import draw, write_static_map
from mobility.export.style import ATTRIBUTION, choropleth_for

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}

JS_BOXES = """([title, attribution]) => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height}; };
  const gd = document.getElementById('DIV');
  // The title and the attribution by their text: a layout title or an annotation, either way.
  const texts = Array.from(gd.querySelectorAll('.gtitle, .annotation'));
  const find = (start) => texts.find(e => e.textContent.startsWith(start));
  return {
    title: box(find(title)), attribution: box(find(attribution)),
    legend: box(gd.querySelector('g.legend')),
    plot: box(gd.querySelector('.nsewdrag') || gd.querySelector('.maplibregl-map')),  // a plane or a basemap
    colorbars: Array.from(gd.querySelectorAll('g.colorbar')).map(box),
    pageHeight: document.documentElement.scrollHeight,
  };
}""".replace("DIV", DIV_ID)


JS_BASEMAP = """() => {
  const gd = document.getElementById('DIV');
  const map = gd._fullLayout.map._subplot.map, b = map.getBounds(), spec = gd.layout.meta.narrow;
  return {zoom: map.getZoom(), shown: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
          extent: [spec.xrange[0], spec.yrange[0], spec.xrange[1], spec.yrange[1]],
          pageWidth: document.documentElement.scrollWidth};
}""".replace("DIV", DIV_ID)
"""The basemap's zoom, the lon/lat box it shows, the map's extent and the page's width."""

TILE_SERVER = "https://tile.openstreetmap.org/"
"""Where the ``open-street-map`` basemap asks for its tiles (its style is inline in plotly.js)."""


def _open_offline(browser: Any, path: Path, viewport: dict[str, int]) -> tuple[Any, list[str], list[str]]:
    """``path`` in a new page of ``viewport``'s size, every request but the file's own blocked:
    the page, the errors it logs and the addresses it tried. A phone's width opens it as a phone
    does (a mobile browser lays out a page without a viewport tag 980 px wide, then shrinks it)."""
    phone = viewport["width"] < LAPTOP["width"]
    page = browser.new_page(viewport=viewport, is_mobile=phone, has_touch=phone)
    errors: list[str] = []
    attempted: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):  # type: ignore[no-untyped-def]
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri())
    return page, errors, attempted


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"] - 1
        and b["left"] < a["right"] - 1
        and a["top"] < b["bottom"] - 1
        and (b["top"] < a["bottom"] - 1)
    )


def _boxes(page: Any, layers: MapLayers) -> dict[str, Any]:
    # settled: the figure drawn and, where the page has one, its window-fitted layout
    page.wait_for_function(
        f"document.getElementById('{DIV_ID}') && document.getElementById('{DIV_ID}')._fullLayout"
    )
    page.evaluate(f"() => Promise.resolve(document.getElementById('{DIV_ID}').mobilityLayout)")
    page.wait_for_timeout(200)
    return page.evaluate(JS_BOXES, [layers.title[:12], ATTRIBUTION[:20]])


def _assert_clean(boxes: dict[str, Any], width: int) -> None:
    title, attribution, legend, plot = (boxes[k] for k in ("title", "attribution", "legend", "plot"))
    assert title and attribution and legend and plot, boxes
    for name, b in (("title", title), ("attribution", attribution)):
        assert b["left"] >= 0 and b["right"] <= width and b["top"] >= 0, (name, b)
        assert b["bottom"] <= boxes["pageHeight"], (name, b)
    assert not _overlap(legend, plot), (legend, plot)
    assert not _overlap(title, plot), (title, plot)
    for cb in boxes["colorbars"]:
        assert not _overlap(cb, plot), (cb, plot)


@pytest.fixture(scope="module")
def compare_layers(current_layers: MapLayers, plan_layers: MapLayers) -> MapLayers:
    """The plan compared with today's network: the longest title and subtitle of the maps."""
    return comparison_layers(current_layers, plan_layers)


@pytest.mark.slow
def test_html_map_fits_a_phone_and_a_laptop(browser: Any, compare_layers: MapLayers, tmp_path: Path) -> None:
    """At 390 px the title ran off the right, the attribution started at x = -219, the map got
    262 px with the legend over it and 92 px of colour bars beside it; at 1366 px the legend
    covered the map's left edge. Offline all the while: nothing is fetched."""
    path = write_html_map(compare_layers, tmp_path / "cmp.html")
    page, errors, attempted = _open_offline(browser, path, PHONE)
    try:
        phone = _boxes(page, compare_layers)
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        _assert_clean(phone, PHONE["width"])
        assert phone["plot"]["width"] >= 0.9 * PHONE["width"]  # the map as wide as the screen
        # Wider again (a rotated tablet, a window dragged wide): the laptop layout comes back.
        page.set_viewport_size(LAPTOP)
        page.wait_for_function(f"document.getElementById('{DIV_ID}')._fullLayout.legend.orientation === 'v'")
        laptop = _boxes(page, compare_layers)
        _assert_clean(laptop, LAPTOP["width"])
        assert all(cb["left"] >= laptop["plot"]["right"] for cb in laptop["colorbars"])  # beside the map
        assert laptop["legend"]["right"] <= laptop["plot"]["left"]
        # ... and the same straight from a laptop.
        fresh = browser.new_page(viewport=LAPTOP)
        fresh.goto(path.resolve().as_uri())
        _assert_clean(_boxes(fresh, compare_layers), LAPTOP["width"])
        fresh.close()
        assert errors == []
        assert attempted == []
    finally:
        page.close()


@pytest.mark.slow
def test_tiled_html_map_fits_a_phone_and_a_laptop(
    browser: Any, compare_layers: MapLayers, tmp_path: Path
) -> None:
    """``--tiles`` kept the laptop layout on a phone: at 390 px the map got 64 px between the
    legend and 92 px of vertical colour bars, the title ran 480 px off the right and the
    attribution started left of the screen. Now the plane's narrow layout, the basemap zoomed out
    to the whole city; at 1366 px the layout as written (zoom 10.2). The tiles are blocked (no
    internet here): the layout is checked, not the basemap."""
    path = write_html_map(compare_layers, tmp_path / "tiled.html", tiles="open-street-map")
    page, errors, attempted = _open_offline(browser, path, PHONE)
    try:
        phone = _boxes(page, compare_layers)
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        _assert_clean(phone, PHONE["width"])
        plot = phone["plot"]
        assert plot["width"] >= 0.9 * PHONE["width"] and plot["right"] <= PHONE["width"], plot
        assert phone["title"]["bottom"] <= plot["top"] + 1, (phone["title"], plot)
        for cb in phone["colorbars"]:  # under the map, lying down
            assert cb["top"] >= plot["bottom"] - 1 and cb["width"] > 3 * cb["height"], (cb, plot)
        assert phone["legend"]["top"] >= plot["bottom"] - 1, (phone["legend"], plot)
        assert phone["attribution"]["top"] >= phone["legend"]["bottom"] - 1, phone
        view = page.evaluate(JS_BASEMAP)
        assert view["pageWidth"] <= PHONE["width"]
        (w, s, e, n), (x0, y0, x1, y1) = view["shown"], view["extent"]
        tol = 1e-4  # degrees, ~10 m: the extent fills the map's width exactly
        assert w <= x0 + tol and s <= y0 + tol and e >= x1 - tol and n >= y1 - tol, view
        assert view["zoom"] < 10.2
        # Wider again: the laptop layout as written comes back.
        page.set_viewport_size(LAPTOP)
        page.wait_for_function(f"document.getElementById('{DIV_ID}')._fullLayout.legend.orientation === 'v'")
        laptop = _boxes(page, compare_layers)
        page.screenshot(path=str(tmp_path / "laptop.png"), full_page=True)
        _assert_clean(laptop, LAPTOP["width"])
        assert all(cb["left"] >= laptop["plot"]["right"] - 1 for cb in laptop["colorbars"])
        assert laptop["legend"]["right"] <= laptop["plot"]["left"]
        assert page.evaluate(JS_BASEMAP)["zoom"] == pytest.approx(10.2)
    finally:
        page.close()
    # What failed is the basemap only: its tiles, and plotly.js's "Map error." that they failed.
    assert attempted and all(url.startswith(TILE_SERVER) for url in attempted), attempted[:5]
    others = [e for e in errors if e != "Map error." and not e.startswith("Failed to load resource")]
    assert all(TILE_SERVER in e for e in others), others[:5]


def _row(**kw: Any) -> SimpleNamespace:
    base = {"gu_kr": "종로구", "gu_en": "Jongno-gu", "population": 140000, "stations": 90, "docks": 1200,
            "bikes": 800, "bikes_per_10k": 57.1, "coverage_share": 0.8}  # fmt: skip
    return SimpleNamespace(**{**base, **kw})


def test_district_hover_gives_the_served_share_before_only_when_known(current_layers: MapLayers) -> None:
    chor = choropleth_for(current_layers.districts)
    unknown = district_hover(_row(served_share=0.989, served_share_before=math.nan), chor)
    assert "이용 성공 trips served: 98.9%" in unknown
    assert "이전 before" not in unknown and "–%" not in unknown
    assert "이전 before" not in district_hover(_row(served_share=0.989), chor)
    known = district_hover(_row(served_share=0.989, served_share_before=0.884), chor)
    assert "이용 성공 trips served: 98.9% (이전 before 88.4%)" in known


def test_a_comparisons_hover_skips_the_unknown_served_share_before(
    plan_doc: dict[str, Any], data_dir: Path, current_layers: MapLayers
) -> None:
    """A simulated plan compared with today's network: today's side has no served share."""
    from mobility.placement.plan import Plan

    doc = copy.deepcopy(plan_doc)
    for row in doc["districts"]:
        row["served_share"] = {"mean": 0.989, "low": 0.98, "high": 0.99}
    layers = comparison_layers(current_layers, layers_from_plan(Plan.from_dict(doc), data_dir))
    hovers = [t.text for t in build_figure(layers).data if t.meta == "districts"]
    assert len(hovers) == len(layers.districts)
    assert all("이용 성공 trips served: 98.9%" in h for h in hovers)
    assert not any("이전 before –" in h for h in hovers), hovers[0]


def test_subtitles_give_bikes_per_10k_and_coverage_before_and_after(
    compare_layers: MapLayers, current_layers: MapLayers
) -> None:
    import matplotlib.pyplot as plt

    before, after = compare_layers.meta["citywide_before"], compare_layers.meta["citywide"]
    per_10k = f"인구 1만 명당 {before['bikes_per_10k']:.1f} → {after['bikes_per_10k']:.1f}대"
    coverage = f"{100 * before['coverage_share']:.1f} → {100 * after['coverage_share']:.1f}%"
    assert before["bikes_per_10k"] != after["bikes_per_10k"]
    html_title = build_figure(compare_layers).layout.title.text
    assert per_10k in html_title and f"도보권 {coverage}" in html_title
    fig = draw(compare_layers)
    try:
        assert per_10k in fig.axes[0].get_title(loc="left")
        assert f"도보권 인구 {coverage}" in fig.axes[0].get_title(loc="left")
    finally:
        plt.close(fig)
    # one side only (today's network): one figure each, no arrow
    assert "→" not in build_figure(current_layers).layout.title.text


def test_svg_text_falls_back_to_a_generic_family(plan_layers: MapLayers, tmp_path: Path) -> None:
    """Every <text> names NanumGothic first, other Hangul fonts next and ends in sans-serif: a
    viewer without NanumGothic picks a font it has, not whatever it likes (tofu)."""
    svg = write_static_map(plan_layers, tmp_path / "map.svg").read_text(encoding="utf-8")
    families = re.findall(r"font-family: ([^;\"]+)", svg)
    assert families and len(families) == len(re.findall(r"<text\b", svg))
    for family in set(families):
        names = [n.strip() for n in family.split(",")]
        assert names[0] == "'NanumGothic'" and names[-1] == "sans-serif", family
        assert "'Noto Sans CJK KR'" in names and "'Malgun Gothic'" in names, family
    assert "종로구" in svg  # the Hangul is still text
