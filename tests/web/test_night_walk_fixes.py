"""What a reviewer walking the night shift found, at 1366 x 900 and 390 x 844: the morning-after
table names what the run aimed at (the demand model's curves or the target bands, routes.json's
``meta.targets``); the Night field follows the chosen status's own date and says when a typed
night differs; Submit after a refused status CSV brings the file field and its message into view;
the sticky Submit bar never covers the field being typed in; a truck that drops nothing says 0;
the stations still at risk are named by number and name; on a phone the runs list links each run
by its name (told apart by its id) and the route sheet fits the screen's width. Run documents are
served by stubs (``page.route``); snapshots are stored on the server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.api_support import RUN as RUN_BODY
from tests.web.test_night_views import ROUTES, _job, _route, _stop, _stub
from tests.web.web_support import new_page, sign_in

RUN = "7" * 32
OTHER = "6" * 32
BASE = "/v1/rebalancing/runs"
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=lambda v: str(v["width"]))
OUT = Path("/tmp/webfix")


def _shot(page: Any, name: str, viewport: dict[str, int], *, full: bool = False) -> None:
    """A screenshot for people to look at, in /tmp/webfix/ (``name``-``width``.png)."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}-{viewport['width']}.png"), full_page=full)


def _listed(server: dict[str, Any]) -> list[dict[str, Any]]:
    """Stations of the server's list (``GET /v1/stations``) that have an ST id and a number."""
    fc = httpx.get(f"{server['url']}/v1/stations", headers={"X-API-Key": server["keys"]["ops"]}).json()
    return [
        f["properties"] for f in fc["features"] if f["properties"]["station_id"] and f["properties"]["number"]
    ]


def _result_page(
    server: dict[str, Any], browser: Any, viewport: dict[str, int], routes: dict[str, Any]
) -> Any:
    page = new_page(browser, viewport)
    _stub(page, f"{BASE}/{RUN}", _job(RUN, "succeeded", 1.0))
    _stub(page, f"{BASE}/{RUN}/routes", routes)
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}")
    page.wait_for_selector("#route-map[data-ready=true]")
    return page


def _rows(page: Any) -> list[list[str]]:
    return [
        [" ".join(c.split()) for c in r.inner_text().split("\t")]
        for r in page.locator("#morning-after tbody tr").all()
    ]


@pytest.mark.slow
@VIEWPORTS
def test_the_morning_after_table_says_what_the_run_aimed_at(
    server: dict[str, Any], browser: Any, viewport: dict[str, int]
) -> None:
    """A run aimed at the demand model's curves (``meta.targets: demand``) counts expected unhappy
    riders, not bikes outside the bands; a run on the target bands says bikes. The stations still
    at risk are named by their number and name (the station list), not by their ST id; a truck
    that drops nothing says 배치 0, not −0."""
    listed = _listed(server)
    empty, full = listed[0], listed[1]
    routes = {
        **ROUTES,
        "routes": [_route("T1", [_stop(1, 5, 5, 126.98)], 5)],
        "still_empty": [empty["station_id"]],
        "still_full": [full["station_id"]],
        "meta": {"targets": "demand", "day_type": "weekday", "demand_level": 0.41, "demand_curves": 2799},
    }
    page = _result_page(server, browser, viewport, routes)
    caption = " ".join(page.inner_text("#morning-after caption").split())
    assert "demand model" in caption and "25–75 %" not in caption, caption
    assert [r[0] for r in _rows(page)][2].startswith("Expected unhappy riders"), _rows(page)
    assert "Bikes outside" not in page.inner_text("#morning-after")
    assert _rows(page)[2][1:] == ["138.0", "12.0"]
    still = " ".join(page.inner_text("#still-empty").split())
    assert f"{empty['number']}. {empty['name']}" in still and empty["station_id"] not in still, still
    assert f"{full['number']}. {full['name']}" in page.inner_text("#still-full")
    assert page.inner_text("aside details summary") == "T1: 1 stop, 수거 +5 / 배치 0"
    _shot(page, "result-demand", viewport, full=True)
    page.close()

    page = _result_page(server, browser, viewport, {**routes, "meta": {"targets": "snapshot"}})
    caption = " ".join(page.inner_text("#morning-after caption").split())
    assert "25–75 %" in caption and "demand model" not in caption, caption
    assert _rows(page)[2][0] == "Bikes outside the target bands"
    assert page.errors == []


def _stored(server: dict[str, Any], name: str, **extra: Any) -> str:
    ops = {"X-API-Key": server["keys"]["ops"]}
    body = RUN_BODY["snapshot"] | {"name": name, **extra}
    answer = httpx.post(f"{server['url']}/v1/rebalancing/snapshots", json=body, headers=ops)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _capture_submit(page: Any) -> list[dict[str, Any]]:
    """Answer the form's POST of a run with a stub (no solve) and keep the bodies it sent."""
    sent: list[dict[str, Any]] = []

    def answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        sent.append(route.request.post_data_json)
        route.fulfill(status=202, json={"id": OTHER, "status": "queued", "links": {}})

    page.route(re.compile(rf"^[^?]*{BASE}$"), answer)
    _stub(page, f"{BASE}/{OTHER}", _job(OTHER, "cancelled", 0.0))
    return sent


@pytest.mark.slow
@VIEWPORTS
def test_the_night_is_the_status_s_own_date_unless_typed(
    server: dict[str, Any], browser: Any, tmp_path: Path, viewport: dict[str, int]
) -> None:
    """A status file counted on 2022-01-01 was planned as tonight's night (a forecast): the Night
    field now takes the chosen snapshot's (or uploaded CSV's) date, the run leaves ``night`` to the
    API (the snapshot's date) when it was not typed, and a typed night that differs is said beside
    the field."""
    dated = _stored(server, "dated 2022-01-01", date="2022-01-01")
    undated = _stored(server, "undated")
    page = new_page(browser, viewport)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new?from=seoul-nightly.yaml")
    night = page.locator("#f-night")
    night.wait_for()
    tonight = night.input_value()
    page.select_option("#f-snapshot_id", dated)
    page.wait_for_function("() => document.querySelector('#f-night').value === '2022-01-01'")
    assert "2022-01-01" in page.inner_text("#night-note") and "differs" not in page.inner_text("#night-note")
    page.select_option("#f-snapshot_id", undated)  # a live status has no date: tonight
    page.wait_for_function(f"() => document.querySelector('#f-night').value === '{tonight}'")
    assert "no date" in page.inner_text("#night-note")
    page.select_option("#f-snapshot_id", dated)
    page.wait_for_function("() => document.querySelector('#f-night').value === '2022-01-01'")
    page.fill("#f-time_limit", "5")
    sent = _capture_submit(page)
    page.click("#submit-night")
    page.wait_for_function("() => location.hash.startsWith('#/runs/')")
    assert len(sent) == 1 and sent[0]["snapshot_id"] == dated and "night" not in sent[0], sent

    # typed: said to differ from the status's date (in view, above the field and the Submit bar),
    # kept when another status is chosen, and sent
    page.goto(f"{server['url']}/#/nights/new")
    night.wait_for()
    page.select_option("#f-snapshot_id", dated)
    page.wait_for_function("() => document.querySelector('#f-night').value === '2022-01-01'")
    night.fill("2023-06-13")
    note = page.locator("#night-note")
    note.filter(has_text="differs").wait_for()
    said = " ".join(note.inner_text().split())
    assert "2023-06-13" in said and "2022-01-01" in said and note.is_visible(), said
    bar = page.locator("#night-form .actions").bounding_box()
    for shown in (note.bounding_box(), night.bounding_box()):
        assert shown and bar and shown["y"] >= 0 and shown["y"] + shown["height"] <= bar["y"], (shown, bar)
    _shot(page, "night-differs", viewport)
    page.select_option("#f-snapshot_id", undated)
    page.select_option("#f-snapshot_id", dated)
    note.filter(has_text="differs").wait_for()
    assert night.input_value() == "2023-06-13"
    sent = _capture_submit(page)
    page.click("#submit-night")
    page.wait_for_function("() => location.hash.startsWith('#/runs/')")
    assert sent[-1]["night"] == "2023-06-13", sent

    # an uploaded CSV with a date column: its date
    csv = tmp_path / "dated-status.csv"
    csv.write_text(
        "station_id,bikes,date,at\nST-4,11,2022-03-04,22:00\nST-5,0,2022-03-04,22:00\n", encoding="utf-8"
    )
    page.goto(f"{server['url']}/#/nights/new")
    night.wait_for()
    assert "number" in page.inner_text("label[for=status-csv]")  # accepted in place of station_id
    page.set_input_files("#status-csv", str(csv))
    page.wait_for_function("() => document.querySelector('#f-night').value === '2022-03-04'")
    assert "2022-03-04" in page.inner_text("#night-note")
    assert page.errors == []


COVERED = """() => {
  const bar = document.querySelector('#night-form .actions').getBoundingClientRect();
  const f = document.activeElement;
  if (!f || f.closest('.actions') || !f.closest('#night-form')) return null;
  const r = f.getBoundingClientRect();
  return [f.id, r.bottom > bar.top + 1 && r.top < bar.bottom - 1];
}"""
"""The focused field of the night form and whether the sticky Submit bar covers part of it."""


@pytest.mark.slow
@VIEWPORTS
def test_the_submit_bar_never_covers_the_field_being_typed_in(
    server: dict[str, Any], browser: Any, viewport: dict[str, int]
) -> None:
    page = new_page(browser, viewport)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new?from=seoul-nightly.yaml")
    page.wait_for_selector("#f-fleet")
    page.focus("#status-csv")
    walked, covered = [], []
    for _ in range(80):
        page.keyboard.press("Tab")
        seen = page.evaluate(COVERED)
        if seen is None:
            if page.evaluate("() => document.activeElement.id") == "submit-night":
                break
            continue
        walked.append(seen[0])
        if seen[1]:
            covered.append(seen[0])
            if len(covered) == 1:
                _shot(page, "tab-covered", viewport)
    assert len(walked) > 20 and "f-night" in walked, walked
    assert covered == [], covered
    assert page.errors == []


@pytest.mark.slow
@VIEWPORTS
def test_submit_after_a_refused_status_csv_shows_the_file_field(
    server: dict[str, Any], browser: Any, viewport: dict[str, int], tmp_path: Path
) -> None:
    bad = tmp_path / "refused.csv"
    bad.write_text("station_id,bikes\nST-99999,3\n", encoding="utf-8")
    page = new_page(browser, viewport)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new?from=seoul-nightly.yaml")
    page.wait_for_selector("#f-fleet")
    page.set_input_files("#status-csv", str(bad))
    page.locator("#f-snapshot-err").wait_for(state="visible")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.click("#submit-night")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'status-csv'")
    page.wait_for_timeout(300)
    boxes = page.evaluate(
        """() => [...['#status-csv', '#f-snapshot-err']].map((s) => {
             const r = document.querySelector(s).getBoundingClientRect(); return [r.top, r.bottom]; })"""
    )
    height = viewport["height"]
    assert all(top >= 0 and bottom <= height for top, bottom in boxes), boxes
    assert "refused.csv" in page.inner_text("#f-snapshot-err")
    _shot(page, "refused-csv-submit", viewport)
    assert page.errors == []


@pytest.mark.slow
def test_on_a_phone_each_run_is_linked_by_its_name_and_told_apart(
    server: dict[str, Any], browser: Any
) -> None:
    runs = [
        _job(RUN, "succeeded", 1.0, name="night 2026-12-06", kpis={"bikes_moved": 2414}),
        _job(OTHER, "succeeded", 1.0, name="night 2026-12-06", kpis={"bikes_moved": 2395}),
    ]
    page = new_page(browser, PHONE)
    _stub(page, BASE, {"items": runs, "total": 2, "limit": 50, "offset": 0})
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights")
    page.wait_for_selector("table.data tbody tr")
    names = page.locator("table.data tbody tr td:first-child")
    assert names.count() == 2
    texts = [" ".join(n.inner_text().split()) for n in names.all()]
    assert texts[0] != texts[1], texts
    for cell, id_ in zip(names.all(), (RUN, OTHER), strict=True):
        link = cell.locator("a").first
        assert link.get_attribute("href") == f"#/runs/{id_}"
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    _shot(page, "runs-list", PHONE)
    assert page.errors == []


SHEET_FIT = """() => {
  const wrap = document.querySelector('article.sheet .table-wrap');
  const table = wrap.querySelector('table');
  const cells = [...table.querySelector('tbody tr').children].map((c) => c.getBoundingClientRect());
  const spill = [...table.querySelectorAll('th, td')].filter((c) => c.scrollWidth > c.clientWidth + 1)
    .map((c) => c.textContent.trim());
  return {scroll: wrap.scrollWidth, client: wrap.clientWidth, right: Math.max(...cells.map((c) => c.right)),
          wrapRight: wrap.getBoundingClientRect().right, station: cells[2].width, inner: innerWidth, spill};
}"""


@pytest.mark.slow
@VIEWPORTS
def test_the_route_sheet_fits_the_screen(
    server: dict[str, Any], browser: Any, viewport: dict[str, int]
) -> None:
    """On a phone every column of a truck's sheet is in view (load after, the tick column) and
    the station's name has room: it wrapped every 4-5 characters."""
    listed = _listed(server)[:6]
    stops = [
        {**_stop(i + 1, 18 if i % 2 else -17, 18, 126.9), "station_id": s["station_id"], "name": s["name"]}
        for i, s in enumerate(listed)
    ]
    page = new_page(browser, viewport)
    _stub(page, f"{BASE}/{RUN}", _job(RUN, "succeeded", 1.0))
    _stub(page, f"{BASE}/{RUN}/routes", {**ROUTES, "routes": [_route("NW-01", stops, 1)]})
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}/sheets")
    page.wait_for_selector("#view[data-ready=true] article.sheet")
    fit = page.evaluate(SHEET_FIT)
    assert fit["scroll"] <= fit["client"] + 1 and fit["right"] <= min(fit["wrapRight"], fit["inner"]) + 1, fit
    # about 9 Hangul characters a line on a phone (it wrapped every 4-5); a desktop's is wider
    assert fit["station"] >= min(0.36 * fit["client"], 300), fit
    assert fit["spill"] == [], fit  # no cell's text runs past its edge (a time, a gloss)
    _shot(page, "route-sheet", viewport)
    assert page.errors == []


@pytest.mark.slow
def test_an_uploaded_status_csv_shows_the_servers_notes(
    server: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    """The upload's answer notes more bikes than a station can hold; the page said only the counts."""
    csv = tmp_path / "overfull.csv"
    csv.write_text("station_id,bikes\nST-4,300\nST-5,3\n", encoding="utf-8")
    page = new_page(browser, WIDE)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new")
    page.wait_for_selector("#status-csv")
    page.set_input_files("#status-csv", str(csv))
    page.wait_for_function("() => /bikes/.test(document.querySelector('#status-summary').textContent)")
    lines = page.inner_text("#status-summary").splitlines()
    assert lines[0] == "overfull.csv: 2 stations, 303 bikes", lines
    assert len(lines) == 2 and lines[1].startswith("note: ") and "ST-4" in lines[1], lines
    assert page.errors == []


@pytest.mark.slow
def test_the_printed_sheet_takes_the_stops_own_number_and_address(
    server: dict[str, Any], browser: Any
) -> None:
    """A stop the station list does not know by its id (a new station, named N4280) printed no
    number and no address, though routes.json now carries both for every stop."""
    stop = {**_stop(1, -5, 13, 126.9), "station_id": "N4280", "name": "새 대여소"}
    stop |= {"number": 4280, "address": "서울특별시 마포구 월드컵로 1"}
    page = new_page(browser, WIDE)
    _stub(page, f"{BASE}/{RUN}", _job(RUN, "succeeded", 1.0))
    _stub(page, f"{BASE}/{RUN}/routes", {**ROUTES, "routes": [_route("NW-01", [stop], 13)]})
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}/sheets")
    page.wait_for_selector("#view[data-ready=true] article.sheet")
    cell = page.locator("article.sheet tbody tr").first.locator("td").nth(2).inner_text()
    assert cell.splitlines() == ["4280. 새 대여소", "서울특별시 마포구 월드컵로 1"], cell
    assert page.errors == []
