"""Bad values are refused at the API boundary: a 422 naming the field (``body.…``, ``query.…``)
before any job is created, never a 202 and a job that fails in the worker, nor a 200 with nothing.

Each case is one a reviewer found by running ``mobility serve``: duplicate truck and depot ids,
unknown district names, polygons outside Seoul, stored ids checked unlike the others, simulations
above the server's time limit, object-level errors that named ``body``, station-list CSV uploads
that refused or silently changed dock counts, and filters that matched nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.db import session_factory
from api.db.models import Job
from mobility.sources.stations import DEFAULT_DOCKS, STATION_VINTAGES, load_station_list
from tests.api.api_support import RUN, SCENARIO, Api, keys_for, make_settings

MAX_TIME = 120.0


@pytest.fixture
def api_max(sqlite_url: str) -> Iterator[Api]:
    """An app that records jobs without running them, with a 120 s maximum time limit."""
    keys = keys_for(sqlite_url)
    settings = make_settings(sqlite_url, run_jobs=False, max_time_limit=MAX_TIME, max_body_bytes=1_000_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, keys)


def _jobs(api: Api) -> int:
    url = str(api.client.app.state.settings.database_url)  # type: ignore[attr-defined]
    with session_factory(url)() as s:
        return int(s.scalar(select(func.count()).select_from(Job)) or 0)


def _refused(api: Api, path: str, body: dict[str, Any], field: str, role: str = "admin") -> dict[str, Any]:
    """POST ``body``: a 422 whose first error names ``field``, and no job created."""
    before = _jobs(api)
    r = api.client.post(path, json=body, headers=api.h(role))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field, r.text
    assert _jobs(api) == before
    return r.json()


# --- A. values that used to get a 202, then fail in the worker ------------------------------------


def test_duplicate_truck_and_depot_ids_are_refused(api_max: Api) -> None:
    trucks = copy.deepcopy(RUN)
    trucks["fleet"]["trucks"].append(dict(trucks["fleet"]["trucks"][0]))
    out = _refused(api_max, "/v1/rebalancing/runs", trucks, "body.fleet.trucks.1.id")
    assert "'T01'" in out["detail"] and "unique truck ids" in out["detail"]
    depots = copy.deepcopy(RUN)
    depots["fleet"]["depots"].append(dict(depots["fleet"]["depots"][0]))
    _refused(api_max, "/v1/rebalancing/runs", depots, "body.fleet.depots.1.id")


@pytest.mark.parametrize("rule", ["per_district", "min_new_stations"])
@pytest.mark.parametrize("name", ["/etc/passwd", "없는구", "Mapo-gu"])
def test_unknown_district_names_are_refused(api_max: Api, rule: str, name: str) -> None:
    body = SCENARIO | {"districts": {rule: {"마포구": 1, name: 10}}}
    out = _refused(api_max, "/v1/scenarios", body, f"body.districts.{rule}")
    assert "마포구" in out["errors"][0]["problem"] and "강동구" in out["errors"][0]["problem"]  # the names


def test_a_negative_district_minimum_of_new_stations_is_refused(api_max: Api) -> None:
    body = SCENARIO | {"districts": {"min_new_stations": {"마포구": -2}}}
    out = _refused(api_max, "/v1/scenarios", body, "body.districts.min_new_stations.마포구")
    assert (
        out["errors"][0]["problem"].startswith("got -2;")
        and "greater than or equal to 0" in out["errors"][0]["problem"]
    )


def test_known_district_names_are_accepted(api_max: Api) -> None:
    body = SCENARIO | {"districts": {"per_district": {"마포구": 30}, "min_new_stations": {"강동구": 2}}}
    assert api_max.client.post("/v1/scenarios", json=body, headers=api_max.h("admin")).status_code == 202


@pytest.mark.parametrize("kind", ["required", "forbidden"])
def test_polygons_outside_seoul_are_refused(api_max: Api, kind: str) -> None:
    inside = [[126.91, 37.55], [126.92, 37.55], [126.92, 37.56], [126.91, 37.55]]
    outside = [[126.0, 37.0], [126.01, 37.0], [126.01, 37.01], [126.0, 37.0]]  # Korea, not Seoul
    body = SCENARIO | {"areas": {kind: [{"coordinates": [inside]}, {"coordinates": [outside]}]}}
    out = _refused(api_max, "/v1/scenarios", body, f"body.areas.{kind}.1.coordinates.0.0")
    assert "[126.0, 37.0]" in out["detail"] and "Seoul" in out["detail"]
    ok = SCENARIO | {"areas": {kind: [{"coordinates": [inside]}]}}
    assert api_max.client.post("/v1/scenarios", json=ok, headers=api_max.h("admin")).status_code == 202


# --- B. a run's snapshot_id is a stored id like every other ---------------------------------------


@pytest.mark.parametrize("sid", ["/etc/passwd", "0" * 32, "nope"])
def test_run_snapshot_id_is_checked_like_other_stored_ids(api_max: Api, sid: str) -> None:
    body = {k: v for k, v in RUN.items() if k != "snapshot"} | {"snapshot_id": sid}
    out = _refused(api_max, "/v1/rebalancing/runs", body, "body.snapshot_id", role="ops")
    assert "passwd" not in out["detail"] or "a 32-character hex id" in out["detail"]  # refused as an id


def test_run_on_a_stored_snapshot_is_accepted(api_max: Api) -> None:
    stored = api_max.client.post("/v1/rebalancing/snapshots", json=RUN["snapshot"], headers=api_max.h("ops"))
    body = {k: v for k, v in RUN.items() if k != "snapshot"} | {"snapshot_id": stored.json()["id"]}
    assert api_max.client.post("/v1/rebalancing/runs", json=body, headers=api_max.h("ops")).status_code == 202


# --- C. simulations within the server's maximum time ------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"replications": 1000, "fleet": "20000:60000:2000"}, "body.replications"),
        ({"replications": 1000}, "body.replications"),
        ({"replications": 100, "fleet": "20000:60000:5000"}, "body.fleet"),  # 100 days fit, 900 do not
    ],
)
def test_simulations_above_the_maximum_time_are_refused(
    api_max: Api, extra: dict[str, Any], field: str
) -> None:
    body = {"day": "2023-06-14"} | extra
    out = _refused(api_max, "/v1/simulations", body, field, role="planner")
    problem = out["errors"][0]["problem"]
    assert "simulated days" in problem and f"maximum of {MAX_TIME:g} s" in problem  # the estimate, explained


def test_simulations_within_the_maximum_time_are_accepted(api_max: Api) -> None:
    body = {"day": "2023-06-14", "replications": 20, "fleet": "20000:60000:10000"}  # 100 s
    assert api_max.client.post("/v1/simulations", json=body, headers=api_max.h("planner")).status_code == 202


# --- D. errors about one field name that field, not the body ---------------------------------------


def test_object_level_errors_name_the_field(api_max: Api) -> None:
    _refused(api_max, "/v1/simulations", {"day": "2023-06-14", "fleet": "1:100:1"}, "body.fleet")
    _refused(api_max, "/v1/simulations", {"day": "2023-06-14", "fleet": "5:1:1"}, "body.fleet")
    _refused(api_max, "/v1/simulations", {"day": "2023-06-14", "fleet": "0:9999999999:1"}, "body.fleet")
    _refused(api_max, "/v1/sweeps", {"scenario": SCENARIO, "new_stations": "5:1:1"}, "body.new_stations")
    _refused(api_max, "/v1/sweeps", {"scenario": SCENARIO, "budget": "1:2:1"}, "body.budget")
    dup = copy.deepcopy(RUN)
    dup["snapshot"]["stations"][1]["station_id"] = "ST-4"
    _refused(api_max, "/v1/rebalancing/snapshots", dup["snapshot"], "body.stations.1.station_id")
    _refused(api_max, "/v1/rebalancing/runs", dup, "body.snapshot.stations.1.station_id")
    depot = copy.deepcopy(RUN)
    depot["fleet"]["trucks"][0]["depot"] = "D9"
    _refused(api_max, "/v1/rebalancing/runs", depot, "body.fleet.trucks.0.depot")
    shift = copy.deepcopy(RUN)
    shift["fleet"]["trucks"][0] |= {"shift_start": 100, "shift_end": 50}
    _refused(api_max, "/v1/rebalancing/runs", shift, "body.fleet.trucks.0.shift_end")
    past_morning = copy.deepcopy(RUN)  # 22:00 to 21:00 of the next day: not a night
    past_morning["fleet"]["trucks"][0] |= {"shift_start": 79200, "shift_end": 162000}
    said = _refused(api_max, "/v1/rebalancing/runs", past_morning, "body.fleet.trucks.0.shift_end")
    assert "from 0 to 111600 (07:00 of the morning after" in said["detail"]
    late_start = copy.deepcopy(RUN)  # a shift starting after the morning has begun
    late_start["fleet"]["trucks"][0] |= {"shift_start": 115200, "shift_end": 118800}
    said = _refused(api_max, "/v1/rebalancing/runs", late_start, "body.fleet.trucks.0.shift_start")
    assert "got 115200; expected seconds since midnight of the evening, from 0 to 111600" in said["detail"]
    station = {"station_id": "ST-10", "lat": 37.5556, "lon": 126.9105, "docks": 15}
    _refused(api_max, "/v1/station-lists", {"stations": [station, station]}, "body.stations.1.station_id")
    records = SCENARIO | {"baseline": {"station_records": [station, station]}}
    _refused(api_max, "/v1/scenarios", records, "body.baseline.station_records.1.station_id")


# --- E. station-list CSV uploads: dock counts handled as the CLI reads them, and counted ---------


def _upload(api: Api, raw: bytes) -> Any:
    return api.client.post(
        "/v1/station-lists/csv", content=raw, headers=api.h("planner", **{"Content-Type": "text/csv"})
    )


def test_csv_upload_of_the_api_vintage_counts_its_zero_dock_stations(api_max: Api, data_dir: Path) -> None:
    r = _upload(api_max, (data_dir / STATION_VINTAGES["api-2025-05"]).read_bytes())
    assert r.status_code == 201, r.text
    info = r.json()
    cli = load_station_list("api-2025-05", data_dir=data_dir).table
    zero, missing = int((cli["docks"] == 0).sum()), int(cli["docks"].isna().sum())
    assert zero > 0 and missing > 0
    assert info["dropped"]["docks = 0 (a station without docks; a stored list needs at least 1)"] == zero
    median = int(cli["docks"].median())  # as `mobility plan` fills a missing count
    assert info["assumed"] == {f"docks = {median} (the median) where the count was missing": missing}
    assert info["stations"] + sum(info["dropped"].values()) == len(cli) + 3  # + its 3 zero-coordinate rows


def test_csv_upload_says_which_dock_counts_were_replaced_and_why(api_max: Api) -> None:
    rows = ["station_id,name,lat,lon,docks", "ST-1,a,37.55,126.91,-5", "ST-2,b,37.56,126.92,12"]
    rows += ["ST-3,c,37.56,126.93,", "ST-4,d,37.56,126.94,12"]
    r = _upload(api_max, "\n".join(rows).encode())
    assert r.status_code == 201, r.text
    assert r.json()["assumed"] == {
        "docks = 12 (the median) where the count was not a whole number >= 0": 1,
        "docks = 12 (the median) where the count was missing": 1,
    }


def test_csv_upload_without_dock_counts_says_the_default_is_fixed(api_max: Api, data_dir: Path) -> None:
    r = _upload(api_max, (data_dir / STATION_VINTAGES["master"]).read_bytes())
    assert r.status_code == 201, r.text
    info = r.json()
    label = f"docks = {DEFAULT_DOCKS} (a fixed default: the file has no dock counts)"
    assert info["assumed"] == {label: info["stations"]}
    assert not any("median" in k for k in info["assumed"])


# --- F. lengths and filters ------------------------------------------------------------------------


def test_scenario_name_has_a_maximum_length(api_max: Api) -> None:
    _refused(api_max, "/v1/scenarios", SCENARIO | {"name": "x" * 201}, "body.name")
    _refused(
        api_max,
        "/v1/sweeps",
        {"scenario": SCENARIO | {"name": "x" * 201}, "new_stations": "1"},
        "body.scenario.name",
    )
    assert (
        api_max.client.post(
            "/v1/scenarios", json=SCENARIO | {"name": "x" * 200}, headers=api_max.h("admin")
        ).status_code
        == 202
    )


@pytest.mark.parametrize(
    ("path", "field", "named"),
    [
        ("/v1/datasets?family=nonexistent", "query.family", "stations"),
        ("/v1/stations?district=없는구", "query.district", "마포구"),
        ("/v1/stations?district=../etc", "query.district", "마포구"),
    ],
)
def test_unknown_filters_are_refused_with_the_accepted_values(
    api_max: Api, path: str, field: str, named: str
) -> None:
    r = api_max.client.get(path, headers=api_max.h("viewer"))
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == field and named in err["problem"]
