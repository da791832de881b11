"""``POST /v1/scenarios`` refuses a scenario whose fleet rules cannot hold: a 422 naming the field,
checked on the published data before any job is queued (the solver is a fake here)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from tests.api.api_support import SCENARIO, Api

ROOT = Path(__file__).resolve().parents[2]


def _body(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(json.loads(json.dumps(doc, default=str)))


def _jobs(api: Api) -> int:
    return int(api.client.get("/v1/scenarios", headers=api.h("viewer")).json()["total"])


def test_an_infeasible_scenario_is_a_422_naming_the_field(api_lite: Api) -> None:
    paths = [p for p in sorted((ROOT / "scenarios").glob("*.yaml")) if "fleet" in _body(p)]
    assert len(paths) >= 4
    for shipped in [SCENARIO, *map(_body, paths)]:  # these pass
        r = api_lite.client.post("/v1/scenarios", json=shipped, headers=api_lite.h("planner"))
        assert r.status_code == 202, (shipped["name"], r.text)
    body = _body(ROOT / "scenarios" / "seoul-2019-30k.yaml")
    body["new_stations"]["max"] = 150
    r = api_lite.client.post("/v1/scenarios", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "body.new_stations.max" and error["type"] == "infeasible"
    assert error["problem"].startswith(
        "got 150; expected at least 280 new stations: fleet.total_bikes = 30000 needs them"
    )
    assert "body.new_stations.max: got 150" in r.json()["detail"]
    assert _jobs(api_lite) == len(paths) + 1  # none queued for it


def test_stations_sent_as_content_are_checked_too(api_lite: Api) -> None:
    body = copy.deepcopy(SCENARIO)
    body["baseline"] = {
        "station_records": [
            {"station_id": "ST-4", "lat": 37.5556, "lon": 126.9104, "docks": 15},
            {"station_id": "ST-5", "lat": 37.5547, "lon": 126.9107, "docks": 10},
        ]
    }
    body["fleet"] = {"total_bikes": 1000}  # docks hold 22 + 15, a new station 30: 33 needed
    body["new_stations"] = {"max": 5}
    r = api_lite.client.post("/v1/scenarios", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.new_stations.max"
    assert "expected at least 33 new stations" in r.json()["errors"][0]["problem"]
