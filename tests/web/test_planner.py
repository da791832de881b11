"""A planner in a real browser: sign in, open the 2019 scenario, see the API's message beside a
bad field, submit, watch the progress, open the map, click a new station, download; compare two
plans. Real data and the real solver, with short time limits."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mobility.config import PROJECT_ROOT
from tests.web.web_support import (
    DESKTOP,
    TABLET,
    assert_not_blank,
    axe_serious,
    new_page,
    popup_overlaps_controls,
    sign_in,
)

STATE: dict[str, str] = {}
"""Job ids shared by the tests of this module (the plan made in the browser, the second plan)."""

SCENARIO = PROJECT_ROOT / "scenarios" / "seoul-2019-30k.yaml"


@pytest.fixture(scope="module")
def second_plan(server: dict[str, Any]) -> str:
    """A second plan (the same scenario with at most 300 new stations), submitted over HTTP at once
    so that it runs while the browser submits the first."""
    body = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    body["name"] = "seoul-2019-300-new"
    body["new_stations"]["max"] = 300
    body["solver"]["time_limit"] = 5
    body["simulation"] = {"enabled": False}  # trips served are shown (and checked) for the first plan
    r = httpx.post(
        f"{server['url']}/v1/scenarios", json=body, headers={"X-API-Key": server["keys"]["planner"]}
    )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _wait_succeeded(server: dict[str, Any], job_id: str, timeout: float = 420) -> None:
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.get(
            f"{server['url']}/v1/scenarios/{job_id}", headers={"X-API-Key": server["keys"]["viewer"]}
        )
        status = r.json()["status"]
        if status == "succeeded":
            return
        assert status in ("queued", "running") and time.monotonic() < deadline, r.text
        time.sleep(1)


@pytest.mark.slow
def test_plan_from_sign_in_to_a_clicked_new_station(
    server: dict[str, Any], browser: Any, shots: Path, second_plan: str
) -> None:
    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["planner"])
    page.get_by_role("link", name="Open seoul-2019-30k").click()
    page.wait_for_selector("#f-fleet-total_bikes")
    assert page.input_value("#f-fleet-total_bikes") == "30000"  # the shipped scenario's value
    assert page.input_value("#f-baseline-stations") == "2019-12"
    # a stored station list is chosen from GET /v1/station-lists, not typed as an id; none chosen here
    assert page.eval_on_selector("#f-baseline-station_list_id", "e => e.tagName") == "SELECT"
    assert page.input_value("#f-baseline-station_list_id") == ""
    hint = page.inner_text("#f-baseline .hint >> nth=0")
    assert "station_records" in hint and "`" not in hint and ":class:" not in hint  # docstring markup removed
    assert axe_serious(page) == []

    # A bad value: the API's own 422 message appears beside the field.
    page.fill("#f-fleet-total_bikes", "-5")
    page.click("#submit-scenario")
    err = page.locator("#f-fleet-total_bikes-err")
    err.wait_for(state="visible")
    assert "greater than" in err.inner_text()
    assert page.get_attribute("#f-fleet-total_bikes", "aria-invalid") == "true"

    # Fix it and submit with the keyboard (Enter in a field submits the form).
    page.fill("#f-fleet-total_bikes", "30000")
    page.fill("#f-solver-time_limit", "5")
    page.focus("#f-solver-time_limit")
    page.keyboard.press("Enter")
    page.wait_for_selector("#job-progress")
    job_id = page.url.rsplit("/", 1)[1]
    stages: set[str] = set()
    bars: list[float] = []  # the bar's values as polled: the job's share done never goes back
    deadline = time.monotonic() + 420
    while not page.locator("#open-result").count():
        stages.add(page.inner_text("#job-stage"))
        bars.append(float(page.get_attribute("#job-progress", "value") or 0))
        assert time.monotonic() < deadline, f"still running; stages seen: {stages}"
        assert not page.inner_text("#job-error"), page.inner_text("#job-error")
        page.wait_for_timeout(500)
    assert len(stages) >= 2, stages  # the stage names change as the job goes
    assert bars == sorted(bars), bars
    assert float(page.get_attribute("#job-progress", "value") or 0) == 1.0
    STATE["plan"] = job_id

    page.click("#open-result")
    page.wait_for_selector("#plan-map[data-ready=true]", timeout=60_000)
    assert_not_blank(page.locator("#plan-map").screenshot(), shots / "plan-map-1280.png")
    assert page.locator("#district-table tbody tr").count() == 25
    # Trips served (the simulator) beside the map when the plan carries them, else said so.
    served = (page.evaluate("() => window.__maps.plan_doc.city_after") or {}).get("served_share")
    if served:
        shown = f"{100 * served['mean']:.1f}".rstrip("0").rstrip(".")
        assert shown in page.inner_text("#served-share")
    else:
        assert page.locator("#served-share").count() == 0
        assert "not simulated" in page.inner_text("table.kpis")

    # Both solves of the real plan, as the plan records them (status, and the gap when proven).
    for i, key in enumerate(["siting_stats", "fleet_stats"]):
        st = page.evaluate(f"() => window.__maps.plan_doc.{key}")
        cell = page.locator(f"#solver-status td >> nth={i}")
        assert cell.locator("[data-status]").get_attribute("data-status") == st["status"]
        if st["gap"] is not None and st["gap"] >= 1e-4:
            assert page.locator(f"#solver-gap td >> nth={i}").inner_text() == f"{100 * st['gap']:.2f} %"

    # Click the first new station where the map draws it.
    xy = page.evaluate(
        """() => { const s = window.__maps.plan_doc.new_stations[0];
                   window.__maps.plan.jumpTo({center: [s.lon, s.lat], zoom: 15});
                   return {id: s.id, lon: s.lon, lat: s.lat}; }"""
    )
    page.wait_for_timeout(300)
    pt = page.evaluate(f"() => window.__maps.plan.project([{xy['lon']}, {xy['lat']}])")
    box = page.locator("#plan-map").bounding_box()
    page.mouse.click(box["x"] + pt["x"], box["y"] + pt["y"])
    popup = page.locator(".maplibregl-popup .popup")
    popup.wait_for()
    assert popup.get_attribute("data-station") == xy["id"]
    assert "Why:" in popup.inner_text() and "docks" in popup.inner_text()
    # At the middle of the map there is not room for the whole popup above the station, so it
    # opens below it: it has to end above the attribution and the scale, inside the map.
    assert popup_overlaps_controls(page, "#plan-map") == []
    assert_not_blank(page.screenshot(), shots / "plan-page-popup-1280.png")

    with page.expect_download() as dl:
        page.get_by_role("button", name="Stations (CSV)").click()
    csv_text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("kind") or "station_id" in csv_text.splitlines()[0]
    with page.expect_download() as dl:
        page.get_by_role("button", name="GBFS station information").click()
    assert b'"stations"' in Path(dl.value.path()).read_bytes()
    assert page.errors == []


@pytest.mark.slow
def test_compare_two_plans(server: dict[str, Any], browser: Any, shots: Path, second_plan: str) -> None:
    first = STATE.get("plan")
    if first is None:
        pytest.fail("the plan made in the browser is missing (the test before failed)")
    _wait_succeeded(server, second_plan)
    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["planner"])
    page.wait_for_selector("input[name=cmp]")
    page.check(f"input[name=cmp][value='{first}']")
    page.check(f"input[name=cmp][value='{second_plan}']")
    page.click("#compare-btn")
    page.wait_for_selector(".pair[data-ready=true]", timeout=120_000)  # two software-GL maps, 2 busy cores
    rows = {
        r.locator("th").inner_text(): [c.inner_text() for c in r.locator("td").all()]
        for r in page.locator("#compare-table tbody tr").all()
    }
    a_new, b_new, diff = rows["New stations"]
    assert int(a_new.replace(",", "")) - int(b_new.replace(",", "")) == -int(
        diff.replace(",", "").replace("+", "")
    )
    assert int(b_new.replace(",", "")) <= 300
    # The maps move together.
    page.evaluate("() => window.__maps.a.jumpTo({center: [126.95, 37.55], zoom: 13})")
    page.wait_for_timeout(200)
    b = page.evaluate(
        "() => { const c = window.__maps.b.getCenter(); return [c.lng, c.lat, window.__maps.b.getZoom()]; }"
    )
    assert b == pytest.approx([126.95, 37.55, 13], abs=1e-6)
    page.wait_for_timeout(800)
    assert_not_blank(page.locator("#map-a").screenshot(), shots / "compare-a-1280.png")
    assert_not_blank(page.locator("#map-b").screenshot(), shots / "compare-b-1280.png")
    assert axe_serious(page) == []
    assert page.errors == []

    # Submit another scenario and cancel it from its progress page (the 2019 one: its data are
    # cached by now, so the cancelled job builds nothing new while it runs).
    page.goto(f"{server['url']}/#/plans/new?from=seoul-2019-30k.yaml")
    page.click("#submit-scenario")
    page.wait_for_selector("#cancel-job:enabled")
    page.click("#cancel-job")
    page.wait_for_selector(".badge-cancelled", timeout=180_000)
    assert page.locator("#open-result").count() == 0


@pytest.mark.slow
def test_plan_pages_at_tablet_width(
    server: dict[str, Any], browser: Any, shots: Path, second_plan: str
) -> None:
    _wait_succeeded(server, second_plan)
    page = new_page(browser, TABLET)
    sign_in(page, server["url"], server["keys"]["viewer"], f"#/plan/{second_plan}")
    page.wait_for_selector("#plan-map[data-ready=true]", timeout=60_000)
    assert_not_blank(page.screenshot(full_page=False), shots / "plan-page-768.png")
    assert page.locator("#plan-map").bounding_box()["width"] > 600  # the map takes the width, table below
    assert axe_serious(page) == []
    # A new station's popup at the middle of the map fits in it, clear of its controls.
    page.evaluate(
        """() => { const s = window.__maps.plan_doc.new_stations[0];
                   window.__maps.plan.jumpTo({center: [s.lon, s.lat], zoom: 15}); }"""
    )
    page.wait_for_timeout(300)
    box = page.locator("#plan-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator(".maplibregl-popup .popup").wait_for()
    assert popup_overlaps_controls(page, "#plan-map") == []
    assert_not_blank(page.screenshot(full_page=False), shots / "plan-page-popup-768.png")
    page.goto(f"{server['url']}/#/plans")
    page.wait_for_selector("input[name=cmp]")
    assert_not_blank(page.screenshot(), shots / "plans-768.png", min_share=0.01)

    # Keyboard: Tab from the first field of the form visits every field in order, then Submit.
    page.goto(f"{server['url']}/#/plans/new?from=seoul-2019-30k.yaml")
    page.wait_for_selector("#f-name")
    fields = page.evaluate(
        "() => [...document.querySelectorAll('#scenario-form [data-path]')].map((e) => e.id)"
    )
    page.focus("#f-name")
    visited = ["f-name"]
    for _ in range(len(fields) + 5):
        page.keyboard.press("Tab")
        visited.append(page.evaluate("() => document.activeElement.id"))
        if visited[-1] == "submit-scenario":
            break
    assert visited == [*fields, "submit-scenario"]

    # Draw a forbidden area on the map: it is added to areas.forbidden as a closed ring.
    page.locator("#area-map canvas").scroll_into_view_if_needed()
    page.get_by_role("button", name="Draw a forbidden area").click()
    box = page.locator("#area-map").bounding_box()
    for dx, dy in ((0.4, 0.4), (0.6, 0.4), (0.5, 0.6)):
        page.mouse.click(box["x"] + dx * box["width"], box["y"] + dy * box["height"])
    page.get_by_role("button", name="Finish").click()
    areas = json.loads(page.input_value("#f-areas-forbidden"))
    assert len(areas) == 2 and areas[0]["name"].startswith("Yeouido")  # the shipped one is kept
    ring = areas[1]["coordinates"][0]
    assert len(ring) == 4 and ring[0] == ring[-1]
    assert all(126.7 < lon < 127.3 and 37.4 < lat < 37.75 for lon, lat in ring)
    assert page.errors == []


@pytest.mark.slow
def test_coverage_curve_from_a_sweep(server: dict[str, Any], browser: Any, shots: Path) -> None:
    """Submit a two-point curve of the 2019 scenario from the form, follow it, see the chart. Last
    in this module: on 2 cores, a sweep running beside the plans only queues them."""
    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["planner"], "#/curves")
    page.wait_for_selector("#sweep-form")
    page.select_option("#f-sweep-scenario", "seoul-2019-30k.yaml")
    # A bad range: the API's message beside the field, no job.
    page.fill("#f-new_stations", "300-800")
    page.click("#submit-sweep")
    page.locator("#f-new_stations-err").wait_for(state="visible")
    assert page.inner_text("#f-new_stations-err")
    assert "#/curves" in page.url
    page.fill("#f-new_stations", "100:200:100")
    page.fill("#f-sweep-time_limit", "2")
    page.click("#submit-sweep")
    page.wait_for_selector("#job-progress")
    page.wait_for_selector("#curve[data-ready=true]", timeout=420_000)  # shown when the job succeeds
    rows = [
        [c.inner_text() for c in r.locator("th, td").all()]
        for r in page.locator("#curve-table tbody tr").all()
    ]
    assert [r[0] for r in rows] == ["100", "200"]
    shares = [float(r[2].rstrip(" %")) for r in rows]
    assert 0 < shares[0] <= shares[1] < 100  # more stations never cover fewer residents
    # The chart: one point per row, drawn where the share says (higher share, higher on the chart).
    ys = page.evaluate(
        "() => [...document.querySelectorAll('circle.pt.main')].map((c) => +c.getAttribute('cy'))"
    )
    assert len(ys) == 2 and ys[1] <= ys[0]
    assert_not_blank(page.locator("#curve").screenshot(), shots / "curve-1280.png", min_share=0.01)
    assert axe_serious(page) == []
    with page.expect_download() as dl:
        page.get_by_role("button", name="Points (CSV)").click()
    # the API's CSV, as the CLI's: UTF-8 with a BOM so that Excel shows Hangul
    assert Path(dl.value.path()).read_text(encoding="utf-8").startswith("\ufeffnew_stations,budget,sited")
    page.goto(f"{server['url']}/#/curves")
    page.wait_for_selector("#sweep-list tbody tr")
    assert "succeeded" in page.inner_text("#sweep-list tbody tr:first-child")
    assert page.errors == []
