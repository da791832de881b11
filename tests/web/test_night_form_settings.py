"""The night form carries the shipped night's costs, stop times and solver settings (built from
the API's schema), shows the API's 422 beside the setting it names, and the run it submits is
planned with what the form says (``routes.json``'s provenance and its search's end)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.api_support import RUN
from tests.web.web_support import DESKTOP, assert_not_blank, new_page, sign_in


@pytest.mark.slow
def test_the_night_form_carries_and_submits_the_night_s_settings(
    server: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    ops = {"X-API-Key": server["keys"]["ops"]}
    stored = httpx.post(
        f"{server['url']}/v1/rebalancing/snapshots", json=RUN["snapshot"] | {"name": "settings"}, headers=ops
    )
    assert stored.status_code == 201, stored.text
    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new?from=seoul-nightly.yaml")
    page.wait_for_selector("#f-costs")
    # the shipped night's values, as seoul-nightly.yaml says them
    assert page.input_value("#f-costs-drive_cost_per_km") == "0.2"
    assert page.input_value("#f-costs-max_visits_per_station") == "1"
    assert page.input_value("#f-solver-decompose") == "auto"
    assert page.input_value("#f-solver-trucks_per_zone") == "2"
    assert page.input_value("#f-solver-max_iterations") == ""  # none: as many as the time allows
    trucks = json.loads(page.input_value("#f-fleet-trucks"))
    assert len(trucks) == 24 and {(t["stop_seconds"], t["load_seconds_per_bike"]) for t in trucks} == {
        (180, 30)
    }
    assert "Driving cost per km" in page.inner_text("#f-costs")
    page.select_option("#f-snapshot_id", stored.json()["id"])
    page.fill("#f-time_limit", "60")
    # a bad setting: the API's 422, beside the field it names
    page.fill("#f-solver-max_iterations", "0")
    page.click("#submit-night")
    page.locator("#f-solver-max_iterations-err").wait_for(state="visible")
    assert page.inner_text("#f-solver-max_iterations-err") == "got 0; expected greater than or equal to 1"
    assert page.get_attribute("#f-solver-max_iterations", "aria-invalid") == "true"
    page.locator("#f-solver").scroll_into_view_if_needed()
    assert_not_blank(page.screenshot(), tmp_path / "night-settings-refused.png")
    page.fill("#f-solver-max_iterations", "40")
    page.fill("#f-costs-drive_cost_per_km", "0.3")
    page.click("#submit-night")
    page.wait_for_function("() => location.hash.startsWith('#/runs/')")
    run = page.evaluate("() => location.hash").split("/")[2].split("?")[0]
    deadline = time.monotonic() + 240
    while (info := httpx.get(f"{server['url']}/v1/rebalancing/runs/{run}", headers=ops).json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, info
        time.sleep(0.5)
    assert info["status"] == "succeeded", info
    doc = httpx.get(f"{server['url']}/v1/rebalancing/runs/{run}/routes", headers=ops).json()
    asked = doc["provenance"]["scenario"]
    assert asked["costs"]["drive_cost_per_km"] == 0.3 and asked["solver"]["max_iterations"] == 40
    assert asked["fleet"]["trucks"][0]["stop_seconds"] == 180
    assert doc["stats"]["extra"]["stopped_by"] == "iterations"
    assert page.errors == []
