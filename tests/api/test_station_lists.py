"""Station lists uploaded for expansion scenarios: JSON and CSV, stored, listed, and named by
``baseline.station_list_id``; never a server path, nothing dropped silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.db import session_factory
from api.db.models import Job
from mobility.scenario.expansion import SEOUL_LAT, SEOUL_LON
from mobility.sources.stations import SEOUL_BBOX, STATION_VINTAGES, load_station_list
from tests.api.api_support import SCENARIO, Api

TWO: dict[str, Any] = {
    "name": "망원동 pilot",
    "stations": [
        {"station_id": "ST-10", "name": "망원역 1번출구 앞", "lat": 37.5556, "lon": 126.9105, "docks": 15},
        {"station_id": "ST-11", "name": "합정역 5번출구 앞", "lat": 37.5506, "lon": 126.9148, "docks": 10},
    ],
}


def _jobs(api: Api) -> int:
    url = str(api.client.app.state.settings.database_url)  # type: ignore[attr-defined]
    with session_factory(url)() as s:
        return int(s.scalar(select(func.count()).select_from(Job)) or 0)


def _store(api: Api, body: dict[str, Any] = TWO) -> dict[str, Any]:
    r = api.client.post("/v1/station-lists", json=body, headers=api.h("planner"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_the_scenario_schema_and_the_library_agree_on_seoul() -> None:
    assert (SEOUL_LON[0], SEOUL_LAT[0], SEOUL_LON[1], SEOUL_LAT[1]) == SEOUL_BBOX


def test_json_upload_is_stored_listed_and_fetched(api_lite: Api) -> None:
    info = _store(api_lite)
    assert info["stations"] == 2 and info["docks"] == 25 and info["author"] == "planner-user"
    page = api_lite.client.get("/v1/station-lists", headers=api_lite.h("viewer")).json()
    assert page["total"] == 1 and page["items"][0]["id"] == info["id"]
    got = api_lite.client.get(f"/v1/station-lists/{info['id']}", headers=api_lite.h("viewer")).json()
    assert got["stations"][0]["name"] == "망원역 1번출구 앞"  # Korean names round-trip
    assert (
        api_lite.client.get("/v1/station-lists/" + "0" * 32, headers=api_lite.h("viewer")).status_code == 404
    )


ON_TWO = SCENARIO | {"fleet": {"total_bikes": 60}}
"""The test scenario with a fleet two stations and a few new ones hold (its 30,000 bikes would need
999 new stations: refused at submission, :mod:`mobility.placement.preflight`)."""


def test_scenario_names_a_stored_list_and_the_job_carries_its_stations(api_lite: Api) -> None:
    info = _store(api_lite)
    body = ON_TWO | {"baseline": {"station_list_id": info["id"]}}
    r = api_lite.client.post("/v1/scenarios", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    url = str(api_lite.client.app.state.settings.database_url)  # type: ignore[attr-defined]
    with session_factory(url)() as s:
        job = s.get(Job, r.json()["id"])
        assert job is not None
        baseline = job.inputs["scenario"]["baseline"]
    assert "station_list_id" not in baseline or baseline["station_list_id"] is None
    assert [st["station_id"] for st in baseline["station_records"]] == ["ST-10", "ST-11"]


@pytest.mark.parametrize(
    ("baseline", "field"),
    [
        ({"station_list_id": "f" * 32}, "body.baseline.station_list_id"),  # unknown id
        ({"station_list_id": "../../etc/passwd"}, "station_list_id"),  # not even an id
        ({"stations": "2019-12", "station_records": TWO["stations"]}, "baseline"),  # two sources
        ({}, "baseline"),  # none
        ({"station_records": [TWO["stations"][0], TWO["stations"][0]]}, "baseline"),  # same id twice
        ({"station_records": [TWO["stations"][0] | {"lat": 35.1}]}, "lat"),  # Busan
    ],
)
def test_bad_baselines_get_a_422_naming_the_field_before_any_job(
    api_lite: Api, baseline: dict[str, Any], field: str
) -> None:
    before = _jobs(api_lite)
    r = api_lite.client.post(
        "/v1/scenarios", json=SCENARIO | {"baseline": baseline}, headers=api_lite.h("planner")
    )
    assert r.status_code == 422, r.text
    assert field in r.text
    assert _jobs(api_lite) == before


def test_stations_inline_are_accepted(api_lite: Api) -> None:
    body = ON_TWO | {"baseline": {"station_records": TWO["stations"]}}
    assert api_lite.client.post("/v1/scenarios", json=body, headers=api_lite.h("planner")).status_code == 202


def test_csv_upload_of_the_official_list_reads_like_the_cli(api_lite: Api, data_dir: Path) -> None:
    raw = (data_dir / STATION_VINTAGES["2019-12"]).read_bytes()
    r = api_lite.client.post(
        "/v1/station-lists/csv?name=2019",
        content=raw,
        headers=api_lite.h("planner", **{"Content-Type": "text/csv"}),
    )
    assert r.status_code == 201, r.text
    info = r.json()
    cli = load_station_list("2019-12", data_dir=data_dir, fill_ids=False)
    assert info["stations"] == len(cli.table)
    # every row the reader left out is counted in the answer, by reason, as the CLI counts it
    assert info["dropped"] == {k: v for k, v in cli.report.dropped.items() if v}
    assert sum(info["dropped"].values()) + info["stations"] == cli.report.rows_read
    assert info["docks"] >= int(cli.table["docks"].fillna(0).sum())


def test_csv_upload_errors_name_the_problem(api_lite: Api) -> None:
    h = api_lite.h("planner", **{"Content-Type": "text/csv"})
    r = api_lite.client.post("/v1/station-lists/csv", content=b"a,b\n1,2\n", headers=h)
    assert r.status_code == 422 and "body" in r.text
    r = api_lite.client.post("/v1/station-lists/csv", content=b"", headers=h)
    assert r.status_code == 422 and "empty" in r.text
    r = api_lite.client.post("/v1/station-lists/csv", content=b"0", headers=h)  # found by the schema fuzzer
    assert r.status_code == 422 and "no station rows" in r.text
    bad = b"station_id,name,lat,lon,docks\nST-1,x,37.55,126.91,600\n"
    r = api_lite.client.post("/v1/station-lists/csv", content=bad, headers=h)
    assert r.status_code == 422 and "docks" in r.text and "ST-1" in r.text
    no_docks = b"station_id,name,lat,lon,docks\nST-1,x,37.55,126.91,0\n"  # left out, counted
    r = api_lite.client.post("/v1/station-lists/csv", content=no_docks, headers=h)
    assert r.status_code == 422 and "no usable station" in r.text and "docks = 0" in r.text


def test_viewers_cannot_upload(api_lite: Api) -> None:
    r = api_lite.client.post("/v1/station-lists", json=TWO, headers=api_lite.h("viewer"))
    assert r.status_code == 403


def test_rows_whose_filled_dock_count_is_zero_are_counted(api_lite: Api) -> None:
    h = api_lite.h("planner", **{"Content-Type": "text/csv"})
    raw = b"station_id,name,lat,lon,docks\nST-1,a,37.55,126.91,0\nST-2,b,37.56,126.92,0\n"
    raw += b"ST-3,c,37.56,126.93,\n"  # a missing count: the median of 0 and 0
    r = api_lite.client.post("/v1/station-lists/csv", content=raw, headers=h)  # the median fill is 0
    assert r.status_code == 422 and "no usable station" in r.text
    assert "'docks = 0 (a station without docks; a stored list needs at least 1)': 3" in r.text
