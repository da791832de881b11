"""The maps as a person looks at them: PNG/SVG read back, and the HTML opened in a real headless
Chromium with every non-file request blocked."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mobility.export.html_map import DIV_ID, write_html_map
from mobility.export.layers import MapLayers
from mobility.export.static_map import write_static_map

CHROMIUM = Path("/usr/bin/chromium")
N_STATIONS_2025_12 = 2799


def ink_share(png: Path) -> float:
    """Share of pixels that are not (near) white: 0 for a blank image."""
    with Image.open(png) as img:
        a = np.asarray(img.convert("RGB")).astype(int)
    return float((a.min(axis=2) < 235).mean())


@pytest.mark.slow
def test_png_has_content_and_no_missing_glyphs(full_layers: MapLayers, tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = write_static_map(full_layers, tmp_path / "map.png", dpi=100)
    missing = [
        str(w.message) for w in caught if "Glyph" in str(w.message) or "missing from" in str(w.message)
    ]
    assert missing == []  # an empty box for Hangul shows up as this warning
    with Image.open(path) as img:
        assert img.size == (1150, 950)
        rgb = np.asarray(img.convert("RGB"))
    assert ink_share(path) > 0.15
    # District fill colours, water blue, route reds: many distinct colours, not a flat image.
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 500


def test_svg_keeps_korean_text(plan_layers: MapLayers, tmp_path: Path) -> None:
    path = write_static_map(plan_layers, tmp_path / "map.svg")
    svg = path.read_text(encoding="utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for gu in plan_layers.districts["gu_kr"]:
        assert gu in texts  # every district name as searchable text, not outlines
    assert any("확충 계획" in t for t in texts)
    assert "font-family: 'NanumGothic'" in svg
    assert "10 km" in texts  # the scale bar
    assert "N 북" in texts  # the north arrow


def test_static_map_rejects_other_suffix(current_layers: MapLayers, tmp_path: Path) -> None:
    from mobility.errors import InputError

    with pytest.raises(InputError, match=r"png or \.svg"):
        write_static_map(current_layers, tmp_path / "map.jpg")


def test_html_is_one_offline_file(full_layers: MapLayers, tmp_path: Path) -> None:
    path = write_html_map(full_layers, tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
    assert not re.search(r"<script[^>]*\bsrc=", text)  # plotly.js inline, no CDN
    assert not re.search(r"<link[^>]*\bhref=", text)
    assert f'id="{DIV_ID}"' in text
    assert '<meta charset="utf-8"' in text
    assert 1e6 < len(text.encode()) < 15e6


JS_SUMMARY = """() => {
  const gd = document.getElementById('DIV');
  const traces = Array.from(document.querySelectorAll('.scatterlayer g.trace'));
  const out = {};
  let drawn = 0;  // hidden (legendonly) traces have no element
  gd._fullData.forEach((t) => {
    const m = t.meta || 'none';
    const el = t.visible === true ? traces[drawn++] : null;
    const pts = el ? el.querySelectorAll('path.point').length : 0;
    const lines = el ? el.querySelectorAll('path.js-line').length : 0;
    const o = out[m] || (out[m] = {traces: 0, points: 0, lines: 0, visible: 0});
    o.traces += 1; o.points += pts; o.lines += lines; o.visible += t.visible === true ? 1 : 0;
  });
  out.legend = Array.from(document.querySelectorAll('.legendtext')).map(e => e.textContent);
  out.stopLabels = Array.from(document.querySelectorAll('.scatterlayer .textpoint text'))
    .map(e => e.textContent);
  return out;
}""".replace("DIV", DIV_ID)


def open_offline(browser, path: Path, shot: Path):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    failed: list[str] = []
    blocked: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))

    def route(r):  # type: ignore[no-untyped-def]
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri())
    page.wait_for_function(
        f"document.getElementById('{DIV_ID}') && document.getElementById('{DIV_ID}')._fullLayout"
    )
    page.wait_for_timeout(300)
    summary = page.evaluate(JS_SUMMARY)
    page.screenshot(path=str(shot))
    return page, summary, errors, failed, blocked


@pytest.mark.slow
def test_html_map_in_headless_chromium_offline(browser, full_layers: MapLayers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_html_map(full_layers, tmp_path / "map.html")
    page, summary, errors, failed, blocked = open_offline(browser, path, tmp_path / "shot.png")
    try:
        assert errors == []
        assert failed == [] and blocked == []  # nothing was even attempted over the network
        assert summary["existing_stations"]["points"] == N_STATIONS_2025_12
        assert summary["route"]["traces"] == 3 and summary["route"]["lines"] == 3
        assert summary["stops"]["points"] == 24
        assert sorted(summary["stopLabels"], key=int) == sorted([str(i) for i in range(1, 9)] * 3, key=int)
        assert summary["districts"]["traces"] == 25
        legend = " ".join(summary["legend"])
        assert "기존 대여소 existing stations (2,799)" in legend
        assert "트럭 T1" in legend and "한강·수계 water" in legend
        assert ink_share(tmp_path / "shot.png") > 0.25
        # Hover a station: the popup shows its Korean name and figures.
        gd = full_layers.existing_stations
        one = gd[gd["name"] == "망원역 1번출구 앞"].iloc[0]
        page.evaluate(
            f"""() => {{ const gd = document.getElementById('{DIV_ID}');
            const i = gd._fullData.findIndex(t => t.meta === 'existing_stations');
            const k = gd._fullData[i].customdata.findIndex(c => c[1] === '{one.station_id}');
            Plotly.Fx.hover(gd, [{{curveNumber: i, pointNumber: k}}]); }}"""
        )
        hover = page.evaluate(
            "() => Array.from(document.querySelectorAll('.hovertext')).map(e => e.textContent)"
        )
        assert any("망원역 1번출구 앞" in h and "docks" in h for h in hover), hover
        # Layer toggle: clicking the stations' legend entry hides them.
        entry = page.locator("g.traces", has=page.locator(".legendtext", has_text="기존 대여소"))
        entry.locator("rect.legendtoggle").click(timeout=5000)
        # plotly waits out its double-click delay before toggling.
        page.wait_for_function(
            f"() => document.getElementById('{DIV_ID}')._fullData"
            ".find(t => t.meta === 'existing_stations').visible === 'legendonly'",
            timeout=5000,
        )
    finally:
        page.close()


@pytest.mark.slow
def test_plan_map_in_headless_chromium(browser, plan_layers: MapLayers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_html_map(plan_layers, tmp_path / "plan.html")
    page, summary, errors, failed, blocked = open_offline(browser, path, tmp_path / "shot.png")
    page.close()
    assert errors == [] and failed == [] and blocked == []
    assert summary["new_stations"]["points"] == 40
    assert summary["existing_stations"]["points"] == N_STATIONS_2025_12
    assert summary["coverage_new"]["visible"] == 1
    assert ink_share(tmp_path / "shot.png") > 0.25


def test_chromium_is_installed_or_skip_reason_is_clear() -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (CI installs it with .ci/browser.sh)")
    assert shutil.which("chromium") or CHROMIUM.exists()


def test_online_tiles_are_opt_in(full_layers: MapLayers, tmp_path: Path) -> None:
    from mobility.errors import InputError
    from mobility.export.html_map import build_figure, to_tiled_figure

    offline = build_figure(full_layers)
    assert {t.type for t in offline.data} == {"scatter"}  # the default uses no tile server
    tiled = to_tiled_figure(offline, "open-street-map")
    assert {t.type for t in tiled.data} == {"scattermap"}
    assert tiled.layout.map.style == "open-street-map"
    assert len(tiled.data) == len(offline.data)
    with pytest.raises(InputError, match="tiles"):
        to_tiled_figure(offline, "google")


@pytest.mark.slow
def test_a_route_at_its_depot_keeps_its_legend_entry_in_chromium(  # type: ignore[no-untyped-def]
    browser, current_layers: MapLayers, tmp_path: Path
) -> None:
    """A truck whose one stop is at its depot drives 0 km (a null route geometry). The PNG listed
    it, but plotly.js lists no trace without points, so the HTML legend lost it: the real Seoul
    night's map.html listed 13 of its 14 trucks. The depots are drawn and listed too."""
    from mobility.export.layers import layers_from_routes
    from mobility.export.synthetic import synthetic_routes
    from mobility.rebalancing.plan import RebalancingPlan

    doc = synthetic_routes(current_layers.existing_stations, trucks=2, stops=3, seed=4)
    short = doc["routes"][1]
    short["stops"] = short["stops"][:1]
    short["path"] = [[short["stops"][0]["lon"], short["stops"][0]["lat"]]]
    short["distance_km"] = 0.0
    at = short["stops"][0]
    doc["depots"] = [{"id": "D1", "name": "성수 운영센터", "lon": at["lon"], "lat": at["lat"]}]
    night = layers_from_routes(RebalancingPlan.model_validate(doc))
    assert night.routes.geometry.isna().tolist() == [False, True]
    path = write_html_map(current_layers.with_routes(night), tmp_path / "night.html")
    page, summary, errors, _, _ = open_offline(browser, path, tmp_path / "night.png")
    page.close()
    assert errors == []
    legend = " ".join(summary["legend"])
    assert "트럭 T1 (3 stops" in legend and "트럭 T2 (1 stop, 0.0 km)" in legend
    assert "차고지 depot (1)" in legend and summary["depots"]["points"] == 1
    assert summary["stops"]["points"] == 4
    svg = write_static_map(current_layers.with_routes(night), tmp_path / "night.svg").read_text(
        encoding="utf-8"
    )
    assert "트럭 T2 (1 stop)" in re.findall(r"<text[^>]*>([^<]*)</text>", svg)
