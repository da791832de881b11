"""What a planner reads and types on the plan pages: the solver's status, objective, bound and gap
of both solves of a plan, the citywide figures in view beside the map (desktop and phone), and
numbers that are not numbers refused beside their field, with the value and what is expected,
before anything is sent (never silently replaced by the server's default).

The plan document is served by a stub with the figures of a real run of
``scenarios/seoul-2019-30k.yaml`` (2026-12-05: site selection optimal on HiGHS, the fleet's MIP
stopped at its 0.1 % gap tolerance, ``gap_limit``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.test_layout import _stub
from tests.web.web_support import DESKTOP, new_page, sign_in

PLAN = "c" * 32
PHONE = {"width": 390, "height": 844}
EMPTY_FC = {"type": "FeatureCollection", "features": []}


def _est(mean: float, low: float, high: float) -> dict[str, float]:
    return {"mean": mean, "low": low, "high": high}


CITY: dict[str, Any] = {
    "stations": 1540, "docks": 19545, "bikes": None, "population": 9_056_360.0, "bikes_per_10k": None,
    "covered_population": 2_327_155.0, "covered_share": 0.25696,
    "served_share": _est(0.8876975, 0.8829884, 0.8920565),
}  # fmt: skip
FIGURES: dict[str, Any] = {
    "before": {"fleet": 11040, "figures": {"trips_served": _est(57815, 57270, 58215),
               "trips_demanded": _est(65129, 64789, 65462), "lost_empty": _est(7314, 7016, 7640)}},
    "after": {"fleet": 30000, "figures": {"trips_served": _est(64580, 64325, 64889),
              "trips_demanded": _est(65183, 64951, 65502), "lost_empty": _est(604, 544, 666)}},
}  # fmt: skip
PLAN_DOC: dict[str, Any] = {
    "scenario": "seoul-2019-30k", "new_stations": [], "existing_stations": [],
    "districts": [
        {"gu": "노원구", "population": 495_179.0, "stations_before": 68, "stations": 94, "docks": 1300,
         "bikes": 1348, "bikes_per_10k": 27.2, "covered_share_before": 0.252, "covered_share": 0.485,
         "served_share_before": _est(0.815, 0.79, 0.84), "served_share": _est(0.999, 0.998, 1.0)},
    ],
    "city_before": CITY,
    "city_after": {**CITY, "stations": 2140, "docks": 29887, "bikes": 30000, "bikes_per_10k": 33.126,
                   "covered_share": 0.57164, "served_share": _est(0.9907369, 0.9898146, 0.9916539)},
    "simulation": {"day": "2019-06-12", "replications": 10, **FIGURES},
    "siting_stats": {"solver": "mip+lazy-greedy", "status": "optimal", "objective": 2849814.0,
                     "bound": 2849814.0, "seconds": 4.450439906, "seed": 0, "gap": 0.0,
                     "extra": {"engine": "mip", "backend": "HIGHS", "mip_status": "optimal"}},
    "fleet_stats": {"solver": "mip-scip", "status": "gap_limit", "objective": 32237.27772999496,
                    "bound": 32205.0870237457, "seconds": 1.4956630789999963, "seed": 0,
                    "gap": 0.0009985553531807482, "extra": {"stations": 2140}},
}  # fmt: skip


def _plan_page(browser: Any, server: dict[str, Any], viewport: dict[str, int]) -> Any:
    page = new_page(browser, viewport)
    _stub(page, f"/v1/scenarios/{PLAN}/plan", PLAN_DOC)
    _stub(page, f"/v1/scenarios/{PLAN}/layers/districts.geojson", EMPTY_FC)
    _stub(page, f"/v1/scenarios/{PLAN}/layers/coverage.geojson", EMPTY_FC)
    sign_in(page, server["url"], server["keys"]["viewer"], f"#/plan/{PLAN}")
    page.wait_for_selector("#plan-map[data-ready=true]", timeout=60_000)
    return page


def _cells(page: Any, row: str) -> list[str]:
    return [t.strip() for t in page.locator(f"#solver-{row} td").all_inner_texts()]


@pytest.mark.slow
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=lambda v: str(v["width"]))
def test_the_plan_shows_both_solves_and_the_citywide_figures_in_view(
    server: dict[str, Any], browser: Any, shots: Path, viewport: dict[str, int]
) -> None:
    page = _plan_page(browser, server, viewport)
    page.screenshot(path=str(shots / f"plan-figures-{viewport['width']}.png"), full_page=True)
    # Before and After of every citywide figure in view: neither table scrolls inside its box.
    widths = page.evaluate(
        """() => [...document.querySelectorAll('#plan-aside table.kpis')].map((t) => {
             const w = t.closest('.table-wrap');
             return [t.id || t.caption.textContent.trim().split(' ')[0], w.scrollWidth, w.clientWidth]; })"""
    )
    assert [w for w in widths if w[1] > w[2]] == [], widths
    if viewport == DESKTOP:  # and every column of the district table (on a phone it scrolls in its box)
        wrap = page.locator("#district-table").evaluate(
            "(t) => [t.scrollWidth, t.closest('.table-wrap').clientWidth]"
        )
        assert wrap[0] <= wrap[1], wrap
    assert page.locator("#solver-table thead th").all_inner_texts()[1:] == [
        "Site selection",
        "Docks and bikes",
    ]
    assert _cells(page, "method") == ["mip+lazy-greedy · HIGHS", "mip-scip"]
    status = page.locator("#solver-status [data-status]")
    assert [status.nth(i).get_attribute("data-status") for i in range(2)] == ["optimal", "gap_limit"]
    assert "gap tolerance" in _cells(page, "status")[1]
    assert _cells(page, "objective") == ["2,849,814.00", "32,237.28"]  # 2 decimals each
    assert _cells(page, "bound") == ["2,849,814.00", "32,205.09"]
    assert _cells(page, "gap") == ["0 %", "0.10 %"]  # 0.0009986 of the objective
    assert _cells(page, "seconds") == ["4.5 s", "1.5 s"]
    assert len(widths) == 2
    assert "노원구" in page.inner_text("#district-table")
    assert page.errors == []


@pytest.mark.slow
def test_the_gap_reads_as_people_read_it(server: dict[str, Any], browser: Any) -> None:
    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["viewer"], "#/plans")
    got = page.evaluate(
        """async (gaps) => { const m = await import('/web/planner.js');
                             return gaps.map((g) => m.gapText(g)); }""",
        [None, 0, 5e-7, 0.0009985553531807482, 0.0123, 1.0],
    )
    assert got == ["– <small>(no bound)</small>", "0 %", "&lt; 0.01 %", "0.10 %", "1.23 %", "100.00 %"]
    page.goto(f"{server['url']}/#/plans")
    doc = {**PLAN_DOC, "siting_stats": {**PLAN_DOC["siting_stats"], "bound": None, "gap": None}}
    html = page.evaluate("async (p) => (await import('/web/planner.js')).solverTable(p)", doc)
    assert "(no bound)" in html and "–" in html
    assert page.evaluate("async (p) => (await import('/web/planner.js')).solverTable(p)", {}) == ""


BAD_NUMBERS = [
    ("f-fleet-total_bikes", "abc", "a whole number"),
    ("f-fleet-total_bikes", "30,000", "a whole number"),  # as a planner writes it, thousands separated
    ("f-fleet-total_bikes", "1e999", "a whole number"),  # beyond the double range
    ("f-bikes_per_dock-min", "0,5", "a number"),  # a decimal comma
]


@pytest.mark.slow
def test_what_is_not_a_number_is_refused_beside_its_field_and_nothing_is_sent(
    server: dict[str, Any], browser: Any
) -> None:
    """Before, ``<input type=number>`` read "abc", "30,000" or "1e999" as empty, the field was
    left out of the request, and the plan ran with the server's default instead (29,886 bikes)."""
    page = new_page(browser, PHONE)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    sign_in(page, server["url"], server["keys"]["planner"], "#/plans/new?from=seoul-2019-30k.yaml")
    page.wait_for_selector("#submit-scenario")
    for field, typed, expected in BAD_NUMBERS:
        page.click(f"#{field}")
        page.keyboard.press("Control+A")
        page.keyboard.type(typed)  # typed as a person types it
        page.click("#submit-scenario")
        err = page.locator(f"#{field}-err")
        err.wait_for(state="visible", timeout=5000)
        assert err.inner_text() == (
            f'got "{typed}"; expected {expected}'
            f"{' such as 30000' if 'whole' in expected else ' such as 0.5 or 300'}"
            " (digits, no thousands separators)"
        )
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
        assert page.evaluate("() => document.activeElement.id") == field
        assert err.evaluate(
            "(e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
        )
        page.fill(f"#{field}", "30000" if "whole" in expected else "0.5")
    page.fill("#f-areas-forbidden", "[[1,2]")
    page.click("#submit-scenario")
    err = page.locator("#f-areas-forbidden-err")
    err.wait_for(state="visible")
    text = err.inner_text()
    assert text.startswith("got [[1,2]; not valid JSON (") and "position 6" in text
    assert text.endswith("expected a JSON list of objects with coordinates, name? (? optional)")
    assert posted == []
    assert page.errors == []


@pytest.mark.slow
def test_a_curve_s_time_limit_that_is_not_a_number_is_refused(server: dict[str, Any], browser: Any) -> None:
    page = new_page(browser, DESKTOP)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    sign_in(page, server["url"], server["keys"]["planner"], "#/curves")
    page.wait_for_selector("#submit-sweep")
    page.click("#f-sweep-time_limit")
    page.keyboard.press("Control+A")
    page.keyboard.type("1분")
    page.click("#submit-sweep")
    page.wait_for_selector("#f-sweep-time_limit-err:not(:empty)", timeout=5000)
    assert page.inner_text("#f-sweep-time_limit-err").startswith('got "1분"; expected a number')
    assert posted == []
    assert page.errors == []


@pytest.mark.slow
def test_the_comparison_says_how_each_solve_ended(server: dict[str, Any], browser: Any) -> None:
    from tests.web.test_night_views import _job

    other = "b" * 32
    page = new_page(browser, DESKTOP)
    fleet = {**PLAN_DOC["fleet_stats"], "status": "optimal", "gap": 0.0, "bound": 32237.27772999496}
    for id_, doc in [(PLAN, PLAN_DOC), (other, {**PLAN_DOC, "fleet_stats": fleet})]:
        _stub(page, f"/v1/scenarios/{id_}", _job(id_, "succeeded", 1.0, kind="scenario"))
        _stub(page, f"/v1/scenarios/{id_}/plan", doc)
    sign_in(page, server["url"], server["keys"]["viewer"], f"#/compare?a={PLAN}&b={other}")
    page.wait_for_selector(".pair[data-ready=true]", timeout=120_000)  # two software-GL maps, 2 busy cores
    rows = page.locator("#compare-table tr.solver-row")
    assert rows.count() == 2
    fleet_row = [" ".join(c.split()) for c in rows.nth(1).inner_text().split("\t")]
    assert fleet_row[:3] == ["Docks and bikes: solver", "gap_limit gap 0.10 %", "optimal gap 0 %"]
    assert page.errors == []


@pytest.mark.slow
def test_the_list_of_plans_says_the_fleet_and_how_the_solves_ended(
    server: dict[str, Any], browser: Any
) -> None:
    from tests.web.test_layout import _jobs

    jobs = _jobs("scenario")
    kpis = {
        "new_stations": 600,
        "total_bikes": 29886,
        "siting_status": "optimal",
        "fleet_status": "gap_limit",
    }
    jobs["items"][0]["kpis"] = kpis
    page = new_page(browser, DESKTOP)
    _stub(page, "/v1/scenarios", jobs)
    sign_in(page, server["url"], server["keys"]["viewer"], "#/plans")
    page.wait_for_selector("#compare-form table tbody tr")
    heads = page.locator("#compare-form thead th").all_inner_texts()
    row = dict(
        zip(
            heads,
            page.locator("#compare-form tbody tr >> nth=0").locator("td").all_inner_texts(),
            strict=True,
        )
    )
    assert row["Bikes"] == "29,886"
    assert " ".join(row["Solver (sites · fleet)"].split()) == "optimal · gap_limit"
    later = dict(
        zip(
            heads,
            page.locator("#compare-form tbody tr >> nth=3").locator("td").all_inner_texts(),
            strict=True,
        )
    )
    assert later["Solver (sites · fleet)"] == "–"  # still running
    assert page.errors == []
