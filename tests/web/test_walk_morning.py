"""The night shift's morning after, as a walk-through on the real Seoul night showed it: the tick
box heads the Morning after section it switches on, the simulated table says which morning it
simulated (``morning.json``), and a failed run's error names its field once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.test_night_views import ROUTES, _job, _morning_row, _stub
from tests.web.web_support import DESKTOP, new_page, sign_in

RUN = "d" * 32
FAILED = "e" * 32
BASE = "/v1/rebalancing/runs"


def _run_page(server: dict[str, Any], browser: Any, morning: dict[str, Any], lost: tuple[float, ...]) -> Any:
    """The run page of a stubbed succeeded run with ``morning.json`` = ``morning`` (the
    ``morning_after`` KPIs: riders lost per method, ``lost``), its map drawn."""
    methods = zip(("no rebalancing", "greedy dispatcher", "ours"), (0, 1298, 1337), lost, strict=True)
    kpis = {"morning_after": {m: _morning_row(m, n, x, 900.0) for m, n, x in methods}}
    base = {"schema_version": "mobility/morning-after/1", "window": "07:00-10:00", "seed": 0, "outcomes": []}
    page = new_page(browser, DESKTOP)
    _stub(page, f"{BASE}/{RUN}", _job(RUN, "succeeded", 1.0, kpis=kpis))
    _stub(page, f"{BASE}/{RUN}/routes", ROUTES)
    _stub(page, f"{BASE}/{RUN}/morning", base | morning)
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{RUN}")
    page.wait_for_selector("#route-map[data-ready=true]")
    return page


@pytest.mark.slow
def test_the_simulated_morning_says_which_morning(server: dict[str, Any], browser: Any) -> None:
    """The night of 2022-01-01 is simulated on the morning of Sunday 2022-01-02 (weekend rates):
    the run page says so under the table, from the run's ``morning.json``."""
    morning = {"day": "2022-01-02", "day_type": "weekend", "replications": 10, "notes": []}
    page = _run_page(server, browser, morning, (56.5, 30.3, 29.8))
    said = page.inner_text("#simulated-day")
    assert "Sunday 2022-01-02" in said and "weekend" in said and "10 mornings per method" in said, said
    assert "forecast" not in said  # a morning in the demand data
    assert page.locator("#simulated-morning tbody tr").count() == 3
    assert page.errors == []


@pytest.mark.slow
def test_a_forecast_morning_says_it_is_a_forecast(server: dict[str, Any], browser: Any, shots: Path) -> None:
    """Tonight (2026-12-06) is past the demand data: ``morning.json`` has ``forecast_from`` and the
    line under the table says the rates are a forecast; a morning in the data says nothing of it."""
    morning = {"day": "2026-12-07", "day_type": "weekday", "replications": 3, "forecast_from": "2026-01"}
    page = _run_page(server, browser, morning, (225.0, 107.0, 120.0))
    said = " ".join(page.inner_text("#simulated-day").split())
    assert "Monday 2026-12-07" in said and "A forecast: the demand data stops before 2026-01" in said, said
    page.locator("#simulated-day").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "night-morning-forecast-1280.png"))
    assert page.errors == []


@pytest.mark.slow
def test_the_tick_box_heads_the_morning_after_section(server: dict[str, Any], browser: Any) -> None:
    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new")
    page.wait_for_selector("#f-morning_after")
    order = page.eval_on_selector_all("#f-morning_after input", "(xs) => xs.map((x) => x.id)")
    assert order[:3] == ["simulate-morning", "f-morning_after-replications", "f-morning_after-night"], order
    assert "above" not in page.inner_text("label[for=simulate-morning]")
    assert page.errors == []


@pytest.mark.slow
def test_a_failed_run_names_its_field_once(server: dict[str, Any], browser: Any) -> None:
    """A job's InputError carries its field and a message that already starts with it."""
    why = "--day: got '2026-12-07'; expected a day in 2019..2025 (the demand model's range)"
    failed = _job(FAILED, "failed", 0.98, error={"type": "InputError", "message": why, "field": "--day"})
    page = new_page(browser, DESKTOP)
    _stub(page, f"{BASE}/{FAILED}", failed)
    sign_in(page, server["url"], server["keys"]["ops"], f"#/runs/{FAILED}")
    page.wait_for_selector("#job-error:not(:empty)")
    assert page.inner_text("#job-error") == why
    assert page.errors == []


@pytest.mark.slow
def test_tonight_s_form_names_tonight_s_date_in_seoul(
    server: dict[str, Any], browser: Any, shots: Path
) -> None:
    """A live status CSV has no date of its own: without the night the run aimed at 25-75 % of the
    docks instead of the demand model's morning. The form fills in tonight, Seoul's date."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new?from=seoul-nightly.yaml")
    field = page.locator("#f-night")
    field.wait_for()
    before = datetime.now(ZoneInfo("Asia/Seoul")).date().isoformat()
    shown = field.input_value()
    after = datetime.now(ZoneInfo("Asia/Seoul")).date().isoformat()
    assert shown in {before, after}, shown  # (a run at Seoul's midnight may see either)
    field.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "night-form-tonight-1280.png"))
    assert page.errors == []
