"""What a planner walk on the real data found in the planner views (2026-12-06).

- The plan map opened at a fixed centre and zoom: at 1280 × 800, 62 of a plan's 1,840 stations
  (8 of them new) were outside the first view, and a phone could not show the whole city (the
  basemap began at zoom 10). It now opens on the plan's stations, and the basemap has zoom 9.
- Figures of one column or one before → after pair had mixed decimals ("24 → 27.1 %", "79 → 97 %",
  "34" above "33.9"): trailing zeros were dropped.
- The scenario form's labels were the fields' raw names ("Min M", "Radius M").
- The budget's "Total" was marked required although the budget section is optional.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_layout import _stub
from tests.web.test_plan_figures import EMPTY_FC, PHONE, PLAN, PLAN_DOC
from tests.web.web_support import DESKTOP, new_page, sign_in

# new stations where the 2019 network is thin, out to the city's edge (north, east, south, west)
WIDE = {"width": 1366, "height": 900}
AT_TWO_WIDTHS = pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=lambda v: str(v["width"]))
EDGES = [(127.047, 37.688), (127.091, 37.676), (127.176, 37.552), (127.158, 37.536),
         (127.046, 37.446), (126.992, 37.451), (126.801, 37.571), (126.822, 37.492)]  # fmt: skip


def _real_size_plan(data_dir: Path) -> dict[str, Any]:
    """The 1,540 stations of the 2019-12 list and 300 new ones (8 of them at the city's edge)."""
    from mobility.sources.stations import load_station_list

    table = load_station_list("2019-12", data_dir=data_dir).table
    existing: list[dict[str, Any]] = [
        {**{k: str(r[k]) for k in ("station_id", "number", "name", "gu")}, "lon": float(r["lon"]),
         "lat": float(r["lat"]), "docks": 15, "bikes": 10}
        for r in table.to_dict("records")
    ]  # fmt: skip
    inner = [(s["lon"] + 0.002, s["lat"] + 0.002) for s in existing[:: len(existing) // 292][:292]]
    new = [
        {"id": f"NEW-{i:04d}", "lon": lon, "lat": lat, "gu": "중구", "docks": 15, "bikes": 18,
         "population_newly_covered": 1000.0, "predicted_trips": 12.5, "rank": i + 1}
        for i, (lon, lat) in enumerate(EDGES + inner)
    ]  # fmt: skip
    assert len(existing) + len(new) == 1840
    return {**PLAN_DOC, "existing_stations": existing, "new_stations": new}


def _open_plan(browser: Any, server: dict[str, Any], viewport: dict[str, int], doc: dict[str, Any]) -> Any:
    """The plan page of ``doc`` (its layers empty), once its stations are drawn."""
    page = new_page(browser, viewport)
    for part, body in (
        ("plan", doc),
        ("layers/districts.geojson", EMPTY_FC),
        ("layers/coverage.geojson", EMPTY_FC),
    ):
        _stub(page, f"/v1/scenarios/{PLAN}/{part}", body)
    sign_in(page, server["url"], server["keys"]["viewer"], f"#/plan/{PLAN}")
    page.wait_for_selector("#plan-map[data-usable=true]", timeout=60_000)
    return page


def _scenario_form(browser: Any, server: dict[str, Any], viewport: dict[str, int]) -> Any:
    """The scenario form, filled from the shipped 2019 scenario (no budget)."""
    page = new_page(browser, viewport)
    sign_in(page, server["url"], server["keys"]["planner"], "#/plans/new?from=seoul-2019-30k.yaml")
    page.wait_for_selector("#f-budget-total")
    return page


def _first_view(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const m = window.__maps.plan; const b = m.getBounds();
        const out = window.__maps.plan_doc.existing_stations.map((s) => ['existing', s.lon, s.lat])
          .concat(window.__maps.plan_doc.new_stations.map((s) => ['new', s.lon, s.lat]))
          .filter(([, lon, lat]) => !b.contains([lon, lat]));
        return { zoom: m.getZoom(), minZoom: m.getMinZoom(), center: m.getCenter().toArray(), out }; }"""
    )


@pytest.mark.slow
def test_the_plan_map_opens_on_all_of_the_plans_stations(
    server: dict[str, Any], browser: Any, shots: Path, data_dir: Path
) -> None:
    doc = _real_size_plan(data_dir)
    for viewport in (DESKTOP, WIDE, PHONE):  # a phone too: the basemap reaches zoom 9, the whole city
        page = _open_plan(browser, server, viewport, doc)
        page.wait_for_selector("#plan-map[data-ready=true]", timeout=60_000)
        page.screenshot(path=str(shots / f"plan-first-view-{viewport['width']}.png"))
        view = _first_view(page)
        out = view["out"]
        assert out == [], f"{len(out)} stations outside the first view at {viewport}: {out[:5]}"
        assert view["zoom"] >= view["minZoom"] == 9
        assert page.errors == []
        page.context.close()


def _cell_texts(page: Any, selector: str) -> list[list[str]]:
    rows = page.locator(selector).locator("tbody tr").all()
    return [[" ".join(c.split()) for c in r.inner_text().split("\t")] for r in rows]


def _decimals(text: str) -> set[int]:
    """The numbers of decimals of the figures in a cell (a figure's interval included)."""
    return {len(m.group(1) or "") for m in re.finditer(r"\d+(?:,\d{3})*(?:\.(\d+))?", text)}


@pytest.mark.slow
@AT_TWO_WIDTHS
def test_figures_of_a_column_and_of_a_before_after_pair_keep_their_decimals(
    server: dict[str, Any], browser: Any, shots: Path, viewport: dict[str, int]
) -> None:
    est = {"mean": 0.79, "low": 0.78, "high": 0.8}
    districts = [
        {**PLAN_DOC["districts"][0], "gu": "노원구", "bikes_per_10k": 34.0, "covered_share_before": 0.24,
         "covered_share": 0.271, "served_share_before": est,
         "served_share": {"mean": 0.97, "low": 0.96, "high": 0.98}},
        {**PLAN_DOC["districts"][0], "gu": "동작구", "bikes_per_10k": 33.9, "covered_share_before": 0.3,
         "covered_share": 0.45},
    ]  # fmt: skip
    city_after = {**PLAN_DOC["city_after"], "covered_share": 0.57}
    page = _open_plan(
        browser, server, viewport, {**PLAN_DOC, "districts": districts, "city_after": city_after}
    )
    page.locator("#district-table").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"plan-decimals-{viewport['width']}.png"))
    rows = {r[0]: r for r in _cell_texts(page, "#district-table")}
    assert rows["노원구"][5] == "24.0 → 27.1 %"
    assert rows["노원구"][6] == "79.0 → 97.0 %"
    assert rows["동작구"][5] == "30.0 → 45.0 %"
    assert [rows["동작구"][4], rows["노원구"][4]] == ["33.9", "34.0"]
    assert rows["노원구"][1] == "495,179"  # counts: whole numbers, thousands separated
    walk = page.inner_text("table.kpis tbody tr:nth-child(4)").split("\t")
    assert [" ".join(c.split()) for c in walk[1:]] == ["25.7 %", "57.0 %"]
    for row in _cell_texts(page, "table.kpis >> nth=0"):
        assert len(set().union(*(_decimals(c) for c in row[1:] if c != "–"))) <= 1, row
    assert page.errors == []


@pytest.mark.slow
@AT_TWO_WIDTHS
def test_the_scenario_form_labels_read_as_words_with_their_units(
    server: dict[str, Any], browser: Any, shots: Path, viewport: dict[str, int]
) -> None:
    page = _scenario_form(browser, server, viewport)
    labels = [
        " ".join(t.replace("*", "").split()) for t in page.locator("#scenario-form label").all_inner_texts()
    ]
    for part in ("fleet", "budget", "coverage"):
        page.locator(f"#f-{part}").screenshot(
            path=str(shots / f"scenario-form-{part}-{viewport['width']}.png")
        )
    assert labels, "no labels"
    raw = [t for t in labels if t.endswith(" M") or re.search(r"[a-z]_[a-z]|\b10K\b| [A-Z][a-z]+ [A-Z]", t)]
    assert raw == [], f"raw field names as labels: {raw}"
    assert page.inner_text("label[for=f-spacing-min_m]") == "Minimum spacing (m)"
    assert page.inner_text("label[for=f-coverage-radius_m]") == "Walking radius (m)"
    assert page.inner_text("label[for=f-fleet-bikes_per_10k]") == "Bikes per 10,000 residents"
    assert page.errors == []


@pytest.mark.slow
def test_a_field_of_an_optional_section_is_not_marked_required(server: dict[str, Any], browser: Any) -> None:
    page = _scenario_form(browser, server, DESKTOP)
    assert "*" in page.inner_text("label[for=f-name]")  # a required field of the request itself
    total = page.inner_text("label[for=f-budget-total]")
    assert "*" not in total, f"budget total marked required: {total!r}"
    hint = page.inner_text("#f-budget-total-hint")
    assert hint.startswith("Required when budget is given."), hint
    assert page.errors == []
