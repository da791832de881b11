"""Dates over HTTP are read as the scenarios read them (``YYYY-MM-DD`` and real), and a simulation
given both ``source`` and ``stations`` is refused in the project's words, not pydantic's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.api.api_support import RUN, Api


def _problem(api: Api, path: str, body: dict[str, Any], role: str) -> tuple[str, str]:
    r = api.client.post(path, json=body, headers=api.h(role))
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    return err["field"], err["problem"]


@pytest.mark.parametrize("day", ["20230614", "2023-02-30"])
def test_a_simulated_day_is_a_real_calendar_date(api_lite: Api, day: str) -> None:
    """``20230614`` was read as a Unix timestamp (1970-08-23) and refused as out of range."""
    field, problem = _problem(api_lite, "/v1/simulations", {"day": day}, "planner")
    assert (
        field == "body.day"
        and problem == f"got {day!r}; expected a real calendar date YYYY-MM-DD, e.g. '2022-01-01'"
    )


@pytest.mark.parametrize(("day", "ok"), [("2018-12-31", False), ("2027-12-31", True), ("2028-01-01", False)])
def test_a_simulated_day_reaches_two_years_past_the_data(
    api_lite: Api, every_kind_faked: None, day: str, ok: bool
) -> None:
    """A day after 2025 is simulated as a forecast, as ``mobility simulate --day`` does; it was a
    422 ("less than or equal to 2025-12-31"). The job is a fake, waited for: a real one left
    running would simulate Seoul after the app and its cluster were gone."""
    body = {"day": day, "source": {"kind": "vintage", "stations": "2025-12"}}
    r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
    if ok:
        assert r.status_code == 202, r.text
        assert api_lite.wait(r.headers["Location"])["status"] == "succeeded"
        return
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body.day", err
    expected = "a day from 2019-01-01 to 2027-12-31 (after 2025-12-31: a forecast from the demand data)"
    assert err["problem"] == f"got '{day}'; expected {expected}"


def test_a_morning_after_night_is_a_real_calendar_date(api_lite: Api) -> None:
    body = copy.deepcopy(RUN) | {"morning_after": {"night": "2023-02-30"}}
    field, problem = _problem(api_lite, "/v1/rebalancing/runs", body, "ops")
    assert field == "body.morning_after.night" and "real calendar date" in problem


def test_source_beside_stations_is_refused_in_plain_words(api_lite: Api) -> None:
    body = {"day": "2023-06-14", "source": {"kind": "vintage", "stations": "2025-12"}, "stations": "2025-12"}
    field, problem = _problem(api_lite, "/v1/simulations", body, "planner")
    assert field == "body" and "Value error" not in problem and "not both" in problem
