"""Every page fits the screen's width, on a phone (390 px) and a desktop (1440 px): wide tables
scroll inside their own box, never the page. Documents served by stubs (``page.route``) with long
rows (district names, ranges, dates) like the real ones; the forms are the server's own."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_night_views import ROUTES, _job, _route, _stop
from tests.web.web_support import new_page, sign_in

PLAN = "d" * 32
RUN = "e" * 32
FAILED = "f" * 32
GU = ["노원구", "동작구", "도봉구", "관악구", "은평구", "성북구", "강서구", "중랑구"]
WIDTHS = [{"width": 390, "height": 844}, {"width": 1440, "height": 900}]

CITY = {
    "stations": 1540, "docks": 19545, "bikes": 21000, "bikes_per_10k": 23.2, "population": 9_056_360.0,
    "covered_population": 2e6, "covered_share": 0.257,
    "served_share": {"mean": 0.887, "low": 0.883, "high": 0.89},
}  # fmt: skip
PLAN_DOC = {
    "scenario": "리뷰-마포 300 new stations with a long name", "new_stations": [], "existing_stations": [],
    "districts": [
        {"gu": g, "population": 495_179 - 1000 * i, "stations_before": 68, "stations": 76, "bikes": 1241,
         "bikes_per_10k": 25.1 + i, "covered_share_before": 0.252, "covered_share": 0.346,
         "served_share_before": {"mean": 0.815}, "served_share": {"mean": 0.998}}
        for i, g in enumerate(GU)
    ],
    "city_before": CITY, "city_after": {**CITY, "stations": 2140, "bikes": 30000, "bikes_per_10k": 33.126},
    "simulation": {"day": "2019-06-12", "replications": 2, "before": {"fleet": 21000, "figures": {}},
                   "after": {"fleet": 30000, "figures": {}}},
}  # fmt: skip
EMPTY_FC = {"type": "FeatureCollection", "features": []}


def _stub(page: Any, path: str, body: Any) -> None:
    page.route(re.compile(rf"^[^?]*{re.escape(path)}(\?.*)?$"), lambda route: route.fulfill(json=body))


def _jobs(kind: str) -> dict[str, Any]:
    items = [
        {**_job(c * 32, status, 1.0, kind=kind), "name": f"seoul-2019-30k 두 번째 계획 {c}",
         "kpis": {"new_stations": 600, "bikes_moved": 1234}}
        for c, status in zip("0123", ["succeeded", "failed", "cancelled", "running"], strict=True)
    ]  # fmt: skip
    return {"items": items, "next_cursor": None}


def _routes() -> dict[str, Any]:
    stops = [_stop(i, 5 if i % 2 else -5, 5, 126.9 + 0.01 * i) for i in range(1, 9)]
    for s in stops:
        s["name"] = "서울특별시 마포구 월드컵북로 아주 긴 대여소 이름 앞"
    return {**ROUTES, "routes": [_route("T1", stops, 0), _route("T2", [], 0)]}


def _page_width(page: Any) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")


def _check(page: Any, name: str, shots: Path, viewport: dict[str, int], failures: list[str]) -> None:
    page.wait_for_timeout(300)  # late layout (fonts, map controls)
    scroll, inner = _page_width(page)
    page.screenshot(path=str(shots / f"layout-{name}-{viewport['width']}.png"), full_page=True)
    if scroll > inner:
        failures.append(f"{name} at {viewport['width']} px: the page is {scroll} px wide")


@pytest.mark.slow
@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: str(v["width"]))
def test_no_page_scrolls_sideways(
    server: dict[str, Any], browser: Any, shots: Path, viewport: dict[str, int]
) -> None:
    failures: list[str] = []
    page = new_page(browser, viewport)
    _stub(page, "/v1/scenarios", _jobs("scenario"))
    _stub(page, f"/v1/scenarios/{PLAN}/plan", PLAN_DOC)
    _stub(page, f"/v1/scenarios/{PLAN}/layers/districts.geojson", EMPTY_FC)
    _stub(page, f"/v1/scenarios/{PLAN}/layers/coverage.geojson", EMPTY_FC)
    failed = {
        **_job(FAILED, "failed", 0.3, kind="scenario"), "finished_at": datetime.now(UTC).isoformat(),
        "error": {"type": "InputError", "message": "fleet.total_bikes: too many bikes", "field": None},
    }  # fmt: skip
    _stub(page, f"/v1/scenarios/{FAILED}", failed)
    sign_in(page, server["url"], server["keys"]["planner"], "#/plans")
    night = new_page(browser, viewport)
    _stub(night, "/v1/rebalancing/runs", _jobs("rebalancing"))
    _stub(night, f"/v1/rebalancing/runs/{RUN}", _job(RUN, "succeeded", 1.0))
    _stub(night, f"/v1/rebalancing/runs/{RUN}/routes", _routes())
    sign_in(night, server["url"], server["keys"]["ops"], "#/nights")
    visits = [  # (page, its route, what shows that it is drawn, the screenshot's name)
        (page, "#/plans", "#compare-form table", "plans"),
        (page, f"#/plan/{PLAN}", "#district-table", "plan"),
        (page, "#/plans/new?from=seoul-2019-30k.yaml", "#f-fleet-total_bikes", "scenario-form"),
        (page, f"#/jobs/{FAILED}", "#job-error:not(:empty)", "failed-job"),
        (night, "#/nights", "main table", "nights"),
        (night, "#/nights/new?from=seoul-nightly.yaml", "#f-fleet", "night-form"),
        (night, f"#/runs/{RUN}", "#route-map[data-ready=true]", "run"),
        (night, f"#/runs/{RUN}/sheets", "#view[data-ready=true] article.sheet", "sheets"),
    ]
    for where, route, drawn, name in visits:
        where.goto(f"{server['url']}/{route}")
        where.wait_for_selector(drawn)
        _check(where, name, shots, viewport, failures)
    assert failures == []
    assert page.errors == [] and night.errors == []
