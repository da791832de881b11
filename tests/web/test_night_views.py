"""The night's pages and the plan's citywide table on documents served by stubs (``page.route``):
what the morning-after table counts, the route map's stop symbols, legend and depots, the
depot-return row of the route sheets, the progress of a solve, and the plan's fleet before."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.web_support import DESKTOP, axe_serious, new_page, sign_in

RUN = "a" * 32
SOLVING = "b" * 32
PLAN = "c" * 32


def _job(id_: str, status: str, progress: float, kind: str = "rebalancing", **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": id_, "kind": kind, "name": "stub night", "status": status, "progress": progress,
        "message": extra.pop("message", None), "author": "web-ops", "created_at": now.isoformat(),
        "started_at": extra.pop("started_at", now).isoformat(), "finished_at": None, "attempts": 1,
        "time_limit": 600.0, "kpis": None, "error": None, "links": {}, **extra,
    }  # fmt: skip


def _stop(seq: int, quantity: int, load_after: int, lon: float) -> dict[str, Any]:
    return {
        "seq": seq, "station_id": f"ST-{seq}", "name": f"정류소 {seq}", "lon": lon, "lat": 37.56,
        "arrival_s": 79300.0 + 600 * seq, "departure_s": 79400.0 + 600 * seq, "arrival": f"22:{10 * seq:02d}",
        "quantity": quantity, "load_after": load_after, "bikes_before": 10, "bikes_after": 10 - quantity,
    }  # fmt: skip


def _route(truck: str, stops: list[dict[str, Any]], end_load: int) -> dict[str, Any]:
    return {
        "truck_id": truck, "depot_id": "D1", "capacity": 18, "start_s": 79200.0, "end_s": 82000.0,
        "start_load": 0, "end_load": end_load, "stops": stops, "distance_km": 4.2, "path": None,
        "start": "22:00", "end": "22:47", "picked_up": sum(s["quantity"] for s in stops if s["quantity"] > 0),
        "dropped": -sum(s["quantity"] for s in stops if s["quantity"] < 0), "hours": 0.8,
    }  # fmt: skip


# fmt: off
ROUTES = {
    "schema": "mobility/rebalancing-plan/1",
    "totals": {
        "bikes_moved": 5, "km": 4.2, "truck_hours": 0.8, "trucks_used": 1, "stations_visited": 2,
        "dissatisfaction_before": 138.0, "dissatisfaction_after": 12.0, "driving_cost": 0.2,
        "objective": 12.2, "stations_empty_before": 20, "stations_empty_after": 3,
        "stations_full_before": 32, "stations_full_after": 4,
    },
    "routes": [_route("T1", [_stop(1, 5, 5, 126.98), _stop(2, -3, 2, 127.0)], 2), _route("T2", [], 0)],
    "still_empty": ["ST-7"], "still_full": [],
    "stats": {}, "depots": [{"id": "D1", "name": "상암 운영센터", "lon": 126.96, "lat": 37.57}],
    "provenance": None, "meta": {},
}
# fmt: on


def _stub(page: Any, path: str, body: Any) -> None:
    page.route(re.compile(rf"^[^?]*{re.escape(path)}(\?.*)?$"), lambda route: route.fulfill(json=body))


@pytest.mark.slow
def test_the_night_s_figures_map_and_sheets_say_what_they_count(server: dict[str, Any], browser: Any) -> None:
    page = new_page(browser, DESKTOP)
    _stub(page, f"/v1/rebalancing/runs/{RUN}", _job(RUN, "succeeded", 1.0))
    _stub(page, f"/v1/rebalancing/runs/{RUN}/routes", ROUTES)
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}")
    page.wait_for_selector("#route-map[data-ready=true]")
    rows = [r.inner_text().split("\t") for r in page.locator("#morning-after tbody tr").all()]
    assert rows == [
        ["Stations below their target band", "20", "3"],
        ["Stations above their target band", "32", "4"],
        ["Bikes outside the target bands", "138.0", "12.0"],  # fmt(v, 1): one decimal each
    ]
    assert "target band" in page.inner_text("#morning-after caption")
    assert page.inner_text("#moved") == "5 bikes moved by 1 truck over 4.2 km."
    # ST-7 by its number and name in the station list (2025-12: 105. 합정역 5번출구 앞), not its id
    still = page.inner_text("#still-empty")
    assert re.fullmatch(r"Still below their target band: \d+\. \S.*", still) and "ST-7" not in still, still
    # The map: each stop is its number and signed quantity, up (pick-up) or down (drop-off).
    marks = page.locator("#route-map .stop-mark")
    shown = [
        (m.get_attribute("class").split()[1], m.get_attribute("data-seq"), m.locator(".qty").inner_text())
        for m in marks.all()
    ]
    assert shown == [("pick", "1", "+5"), ("drop", "2", "−3")]
    assert "수거 pick up 5" in (marks.first.get_attribute("aria-label") or "")
    assert page.locator("#route-map .depot-mark[data-depot=D1]").count() == 1
    legend = page.locator("#truck-legend")
    assert [t.inner_text() for t in legend.locator(".legend-truck").all()] == ["T1"]  # trucks on the road
    assert "수거 pick up" in legend.inner_text() and "배치 drop off" in legend.inner_text()
    assert "depot" in legend.inner_text()
    assert "T1: 2 stops, 수거 +5 / 배치 −3" in page.inner_text("aside details summary")
    assert "싣기" not in page.inner_text("main") and "내리기" not in page.inner_text("main")
    assert not page.locator("th:empty").count()
    assert axe_serious(page) == []
    assert page.errors == []

    page.goto(f"{server['url']}/#/runs/{RUN}/sheets")
    page.wait_for_selector("#view[data-ready=true] article.sheet")
    sheet = page.locator("article.sheet")
    assert "수거 (pick up) 5 · 배치 (drop off) 3" in sheet.inner_text()
    cells = [c.inner_text() for c in sheet.locator("tbody tr").last.locator("td").all()]
    assert cells[:6] == [
        "3",
        "22:47",
        "차고지 (depot) 상암 운영센터 D1",
        "복귀 return · 하차 unload",
        "2",
        "0",
    ]
    assert [c.inner_text() for c in sheet.locator("tbody tr").first.locator("td").all()][3] == "수거 pick up"
    assert page.errors == []


def _morning_row(method: str, moved: int, lost: float, full: float) -> dict[str, Any]:
    return {
        "method": method, "bikes_moved": moved, "lost_empty": lost, "lost_empty_low": lost - 2,
        "lost_empty_high": lost + 2, "full_arrivals": full, "window_simulated": 0.0,
        "window_predicted": 0.0, "station_mae": 0.0, "station_correlation": None,
    }  # fmt: skip


@pytest.mark.slow
def test_a_run_with_the_morning_after_shows_the_riders_it_buys(
    server: dict[str, Any], browser: Any, tmp_path: Any
) -> None:
    """A run submitted with ``morning_after``: the simulated riders per method (the run's
    ``kpis.morning_after``) beside the target-band table, and the run's notes."""
    kpis = {
        "morning_after": {
            "no rebalancing": _morning_row("no rebalancing", 0, 56.0, 1021.0),
            "greedy dispatcher": _morning_row("greedy dispatcher", 380, 46.0, 700.0),
            "ours": _morning_row("ours", 412, 36.0, 593.0),
        }
    }
    note = "drive times on straight lines: the street network is missing on this server"
    _stub(
        page := new_page(browser, DESKTOP),
        f"/v1/rebalancing/runs/{RUN}",
        _job(RUN, "succeeded", 1.0, kpis=kpis, notes=[note]),
    )
    _stub(page, f"/v1/rebalancing/runs/{RUN}/routes", ROUTES)
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}")
    page.wait_for_selector("#route-map[data-ready=true]")
    rows = [r.inner_text().split("\t") for r in page.locator("#simulated-morning tbody tr").all()]
    assert rows == [
        ["No trucks", "0", "56.0 (54.0–58.0)", "1,021.0"],
        ["Greedy dispatcher", "380", "46.0 (44.0–48.0)", "700.0"],
        ["Tonight's routes", "412", "36.0 (34.0–38.0)", "593.0"],
    ]
    assert "riders until 10:00" in page.inner_text("#simulated-morning caption")
    assert page.inner_text(".run-note") == note
    page.screenshot(path=str(tmp_path / "morning.png"), full_page=True)
    assert axe_serious(page) == []
    assert page.errors == []


@pytest.mark.slow
def test_a_solve_shows_its_share_done_and_the_time(
    server: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    """The solve moves the bar with its time limit (api/runners.py solving_clock); the stage line
    says the share, the stage and the time since the job started."""
    page = new_page(browser, DESKTOP)
    started = datetime.now(UTC) - timedelta(seconds=75)
    _stub(
        page,
        f"/v1/rebalancing/runs/{SOLVING}",
        _job(SOLVING, "running", 0.42, message="solving", started_at=started),
    )
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{SOLVING}")
    # the stage line is drawn once the job's first poll answers: until then there is no element
    page.wait_for_function(
        "() => (document.querySelector('#job-stage')?.textContent ?? '').includes('elapsed')"
    )
    # 75 s before the page was opened; allow up to a minute of sign-in and polling on a slow machine
    match = re.fullmatch(r"42 % · solving · (\d+):(\d\d) elapsed", page.inner_text("#job-stage"))
    assert match is not None, page.inner_text("#job-stage")
    assert 75 <= int(match[1]) * 60 + int(match[2]) <= 135
    assert page.get_attribute("#job-progress", "value") == "0.42"
    page.screenshot(path=str(tmp_path / "solving.png"))
    assert page.errors == []


def _cells(page: Any, row: str) -> list[str]:
    """The cells of a table row as text, each on one line (a figure's note stands on a line of
    its own below it: ``table.kpis`` in app.css)."""
    return [" ".join(c.split()) for c in page.inner_text(row).split("\t")]


@pytest.mark.slow
def test_the_plan_shows_the_fleet_its_before_was_simulated_with(server: dict[str, Any], browser: Any) -> None:
    city = {"stations": 1540, "docks": 19545, "population": 9_056_360.0, "covered_population": 2e6,
            "covered_share": 0.257, "served_share": {"mean": 0.887, "low": 0.883, "high": 0.89}}  # fmt: skip
    plan = {
        "scenario": "stub plan", "new_stations": [], "existing_stations": [], "districts": [],
        "city_before": {**city, "bikes": None, "bikes_per_10k": None},
        "city_after": {**city, "stations": 2140, "bikes": 30000, "bikes_per_10k": 33.126},
        "simulation": {"day": "2019-06-12", "replications": 2, "before": {"fleet": 11040, "figures": {}},
                       "after": {"fleet": 30000, "figures": {}}},
    }  # fmt: skip
    page = new_page(browser, DESKTOP)
    _stub(page, f"/v1/scenarios/{PLAN}/plan", plan)
    sign_in(page, server["url"], server["keys"]["planner"], f"#/plan/{PLAN}")
    page.wait_for_selector("#fleet-bikes")
    assert _cells(page, "#fleet-bikes") == ["Bikes", "11,040 (derived start stock)", "30,000"]
    assert _cells(page, "#fleet-per-10k") == [
        "Bikes / 10k residents",
        "12.2 (derived start stock)",
        "33.1",
    ]
    assert not page.locator("table.kpis th:empty").count()


CROWD = "9" * 32


def _crowded_night() -> dict[str, Any]:
    """A night of 30 trucks and 750 stops spread over central Seoul, like the 739 of the real night."""
    routes = []
    for t in range(30):
        stops = [
            _stop(i, 3 if i % 2 else -3, 3, 126.90 + 0.004 * ((7 * t + 3 * i) % 40)) for i in range(1, 26)
        ]
        for i, s in enumerate(stops):
            s["lat"] = 37.50 + 0.003 * ((11 * t + 5 * i) % 40)
            s["station_id"] = f"ST-{t}-{i}"
        routes.append(_route(f"T{t + 1}", stops, 0))
    return {**ROUTES, "routes": routes}


@pytest.mark.slow
def test_stop_labels_of_a_crowded_night_never_overlap_and_wait_for_a_readable_zoom(
    server: dict[str, Any], browser: Any
) -> None:
    page = new_page(browser, {"width": 1440, "height": 900})
    _stub(page, f"/v1/rebalancing/runs/{CROWD}", _job(CROWD, "succeeded", 1.0))
    _stub(page, f"/v1/rebalancing/runs/{CROWD}/routes", _crowded_night())
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{CROWD}")
    page.wait_for_selector("#route-map[data-ready=true]")
    # every stop is a dot in its truck's colour at every zoom
    layer = page.evaluate(
        "() => { const l = window.__maps.routes.getLayer('stops'); return [l.type, l.minzoom || 0]; }"
    )
    assert layer == ["circle", 0]
    shown = """() => [...document.querySelectorAll('#route-map .stop-mark')]
        .filter((e) => !e.closest('.maplibregl-marker').hidden && e.getClientRects().length)
        .map((e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"""

    def zoom(z: float) -> list[list[float]]:
        page.evaluate(f"() => window.__maps.routes.jumpTo({{center: [126.98, 37.56], zoom: {z}}})")
        page.wait_for_timeout(200)
        return list(page.evaluate(shown))

    assert page.locator("#route-map .stop-mark").count() == 750
    assert zoom(12) == []  # city zoom: the routes and dots, no labels
    boxes = zoom(14)
    assert 5 < len(boxes) < 750
    overlaps = [
        (a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]  # fmt: skip
    assert overlaps == []
    assert page.errors == []


FAILED = "8" * 32


@pytest.mark.slow
def test_a_failed_job_says_why_once_and_offers_no_cancel(server: dict[str, Any], browser: Any) -> None:
    why = "fleet.total_bikes = 99999 needs at least 4166 new stations, but new_stations allows at most 600"
    failed = _job(FAILED, "failed", 0.7, kind="scenario", message=why)
    failed["error"] = {"type": "InputError", "message": why, "field": None}
    page = new_page(browser, DESKTOP)
    _stub(page, f"/v1/scenarios/{FAILED}", failed)
    sign_in(page, server["url"], server["keys"]["planner"], f"#/jobs/{FAILED}")
    page.wait_for_selector("#job-error:not(:empty)")
    assert page.inner_text("main").count(why) == 1
    assert page.inner_text("#job-stage") == "stopped at 70 %"
    assert page.locator("#cancel-job").is_hidden()
    assert page.errors == []
