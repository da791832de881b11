"""Sweep endpoints through the test client (the sweep engine replaced by a fake job kind)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from api import jobs
from api.jobs import JobContext, JobOutput
from tests.api.api_support import SCENARIO, Api

POINT = {
    "new_stations": 300,
    "budget": None,
    "sited": 300,
    "covered_population": 4029219.0,
    "covered_share": 0.4449,
    "covered_population_500": None,
    "covered_share_500": None,
    "predicted_trips": 21623.5,
    "marginal_residents_per_station": 5673.5,
    "status": "optimal",
    "objective": 1.0,
    "bound": 1.0,
    "gap": 0.0,
    "seconds": 1.0,
    "fleet_feasible": False,
    "fleet_reason": 'fleet.total_bikes = 30000 needs at least 280, new stations, "quoted"',
    "sites": [1, 2],
}
SEEN: list[dict[str, Any]] = []


def fake_sweep(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
    SEEN.append(inputs)
    doc = {"scenario": inputs["name"], "axis": "new_stations", "points": [POINT]}
    return JobOutput(
        result={"kpis": {"axis": "new_stations", "points": [POINT]}, "links": {"sweep": "sweep"}},
        artifacts={"sweep": ("application/json", json.dumps(doc).encode())},
    )


@pytest.fixture
def sweeps(api_lite: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setitem(jobs._KINDS, "sweep", fake_sweep)
    return api_lite


def test_submit_poll_and_fetch_json_and_csv(sweeps: Api) -> None:
    body = {"scenario": SCENARIO, "new_stations": "300:800:100", "with_500m": True}
    r = sweeps.client.post("/v1/sweeps", json=body, headers=sweeps.h("planner"))
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    done = sweeps.wait(loc)
    assert done["status"] == "succeeded" and done["kind"] == "sweep"
    assert done["kpis"]["points"][0]["covered_share"] == 0.4449
    assert SEEN[-1]["new_stations"] == "300:800:100" and SEEN[-1]["with_500m"] is True
    doc = sweeps.client.get(f"{loc}/sweep", headers=sweeps.h("viewer"))
    assert doc.status_code == 200 and doc.json()["points"][0]["sited"] == 300
    raw = sweeps.client.get(f"{loc}/sweep?format=csv", headers=sweeps.h("viewer")).content
    assert raw.startswith("\ufeff".encode())  # as `mobility plan sweep` writes it (csv_bytes)
    header, row = raw.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("new_stations,budget,sited,covered_population,covered_share")
    assert '"fleet.total_bikes = 30000 needs at least 280, new stations, ""quoted"""' in row
    listed = sweeps.client.get("/v1/sweeps?status=succeeded", headers=sweeps.h("viewer")).json()
    assert done["id"] in [j["id"] for j in listed["items"]]
    assert all(j["kind"] == "sweep" for j in listed["items"])


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"new_stations": "800:300:100"}, "new_stations"),
        ({"new_stations": "300:800:100", "budget": "1:2:1"}, "exactly one"),
        ({}, "exactly one"),
        ({"budget": "1e9:2e9:5e8"}, "budget"),  # the scenario has no budget section
        ({"new_stations": "300:800:100", "data_dir": "/etc"}, "data_dir"),
    ],
)
def test_bad_requests_get_422_naming_the_field(sweeps: Api, extra: dict[str, Any], needle: str) -> None:
    body = {"scenario": copy.deepcopy(SCENARIO), **extra}
    r = sweeps.client.post("/v1/sweeps", json=body, headers=sweeps.h("planner"))
    assert r.status_code == 422, r.text
    assert needle in r.text


def test_viewers_cannot_submit(sweeps: Api) -> None:
    body = {"scenario": SCENARIO, "new_stations": "300"}
    assert sweeps.client.post("/v1/sweeps", json=body, headers=sweeps.h("viewer")).status_code == 403
