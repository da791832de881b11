"""What an API integrator found against ``mobility serve``: a status CSV saved by Korean Excel
(cp949), 422s that name the value sent, every invalid row of a status CSV, a station list's upload
report kept with the list, and the district of a snapshot station filled from the station list."""

from __future__ import annotations

from typing import Any

from mobility.errors import SHOWN_CHARS
from tests.api.api_support import RUN, SCENARIO, Api

KOREAN_STATUS = "station_id,name,bikes\nST-4,망원역 1번출구 앞,3\nST-5,망원역 2번출구 앞,14\n"


def _snapshot_csv(api: Api, raw: bytes) -> Any:
    return api.client.post(
        "/v1/rebalancing/snapshots/csv?name=night",
        content=raw,
        headers=api.h("ops", **{"Content-Type": "text/csv"}),
    )


def _errors(r: Any) -> list[dict[str, str]]:
    assert r.status_code == 422, r.text
    return list(r.json()["errors"])


def test_a_status_csv_in_cp949_is_read_as_its_utf8_twin(api_lite: Api) -> None:
    stored = {}
    for encoding in ("cp949", "utf-8", "utf-8-sig"):
        r = _snapshot_csv(api_lite, KOREAN_STATUS.encode(encoding))
        assert r.status_code == 201, (encoding, r.text)
        doc = api_lite.client.get(r.headers["Location"], headers=api_lite.h("viewer")).json()
        stored[encoding] = [(s["station_id"], s["name"], s["bikes"]) for s in doc["stations"]]
    assert stored["cp949"] == stored["utf-8"] == stored["utf-8-sig"]
    assert stored["cp949"][0] == ("ST-4", "망원역 1번출구 앞", 3)


def test_a_status_csv_station_takes_its_district_from_the_station_list(api_lite: Api) -> None:
    r = _snapshot_csv(api_lite, KOREAN_STATUS.encode("utf-8"))
    assert r.status_code == 201, r.text
    doc = api_lite.client.get(r.headers["Location"], headers=api_lite.h("viewer")).json()
    assert {s["station_id"]: s["gu"] for s in doc["stations"]} == {"ST-4": "마포구", "ST-5": "마포구"}
    given = _snapshot_csv(api_lite, "station_id,gu,bikes\nST-4,서대문구,3\n".encode())
    doc = api_lite.client.get(given.headers["Location"], headers=api_lite.h("viewer")).json()
    assert doc["stations"][0]["gu"] == "서대문구"  # a given district is kept


def test_every_invalid_row_of_a_status_csv_is_listed(api_lite: Api) -> None:
    text = "station_id,name,bikes\nST-4,망원역 1번출구 앞,20\nST-5,망원역 2번출구 앞,-4\nST-6,합정역,abc\n"
    errors = _errors(_snapshot_csv(api_lite, text.encode("cp949")))
    assert [e["field"] for e in errors] == ["body[ST-5].bikes (line 3)", "body[ST-6].bikes (line 4)"]
    assert errors[0]["problem"] == "got '-4'; expected >= 0"
    assert errors[1]["problem"].startswith("got 'abc'; expected ")


def test_schema_errors_say_the_value_sent(api_lite: Api) -> None:
    run = dict(RUN, fleet=dict(RUN["fleet"], trucks=[dict(RUN["fleet"]["trucks"][0], capacity=-3)]))
    (cap,) = _errors(api_lite.client.post("/v1/rebalancing/runs", json=run, headers=api_lite.h("ops")))
    assert cap["field"] == "body.fleet.trucks.0.capacity" and cap["problem"].startswith("got -3; ")
    assert ">= 1" in cap["problem"] or "greater than or equal to 1" in cap["problem"]
    many = SCENARIO | {"fleet": {"total_bikes": "many"}}
    (bikes,) = _errors(api_lite.client.post("/v1/scenarios", json=many, headers=api_lite.h("planner")))
    assert bikes["problem"].startswith("got 'many'; ")
    query = _errors(api_lite.client.get("/v1/scenarios?status=bogus&limit=-1", headers=api_lite.h("viewer")))
    assert {e["field"]: e["problem"].split(";")[0] for e in query} == {
        "query.status": "got 'bogus'",
        "query.limit": "got '-1'",
    }
    long = SCENARIO | {"name": "x" * 5000}
    (name,) = _errors(api_lite.client.post("/v1/scenarios", json=long, headers=api_lite.h("planner")))
    assert name["problem"].startswith("got 'xxx") and len(name["problem"].split(";")[0]) <= 4 + SHOWN_CHARS
    missing = {k: v for k, v in SCENARIO.items() if k != "fleet"}
    r = api_lite.client.post("/v1/scenarios", json=missing | {"baseline": {}}, headers=api_lite.h("planner"))
    assert all("got " in e["problem"] for e in _errors(r))
    csv = {"Content-Type": "text/csv"}
    r = api_lite.client.post("/v1/scenarios", content=b"name\nsecret", headers=api_lite.h("planner", **csv))
    assert [e["problem"].split(";")[0] for e in _errors(r)] == ["got 'text/csv'"]  # the type, not the body


def test_an_invalid_only_station_is_the_one_error(api_lite: Api) -> None:
    bad = {"name": "s", "stations": [dict(RUN["snapshot"]["stations"][0], bikes=-1)]}
    r = api_lite.client.post("/v1/rebalancing/snapshots", json=bad, headers=api_lite.h("ops"))
    (only,) = _errors(r)
    assert only["field"] == "body.stations.0.bikes" and only["problem"].startswith("got -1; ")
    (row,) = _errors(_snapshot_csv(api_lite, b"station_id,bikes\nST-4,-1\n"))
    assert (row["field"], row["problem"]) == ("body[ST-4].bikes (line 2)", "got -1; expected >= 0")


def test_a_status_csv_422_never_echoes_a_long_line_cell_or_id_whole(api_lite: Api) -> None:
    long = "9" * 20_000
    uploads = {
        "header": f"x{long}\n1\n",  # the wrong file: its first line is not a header
        "cell": f"station_id,bikes\nST-4,x{long}\n",
        "id": f"station_id,bikes\nST-{long},1\n",
        "cells": f"station_id,bikes\nST-4,x{long}\nST-5,y{long}\n",  # several problems
    }
    for what, text in uploads.items():
        r = _snapshot_csv(api_lite, text.encode())
        errors = _errors(r)
        assert len(r.content) < 2_000 and long[:SHOWN_CHARS] not in r.text, what
        for e in errors:
            assert len(e["field"].removesuffix(" (line 2)")) <= 20 + SHOWN_CHARS, (what, e)
            assert e["problem"].startswith("got "), (what, e)
    (header,) = _errors(_snapshot_csv(api_lite, uploads["header"].encode()))
    assert header["field"] == "body.columns" and header["problem"].startswith("got 1 column: 'x999")


def test_a_station_list_keeps_its_upload_report(api_lite: Api) -> None:
    csv = (
        "station_id,name,lat,lon,docks\n"
        "ST-10,망원역 1번출구 앞,37.5556,126.9105,15\n"
        "ST-11,합정역 5번출구 앞,37.5506,126.9148,\n"
        "ST-12,부산역,35.1151,129.0403,10\n"
    )
    r = api_lite.client.post(
        "/v1/station-lists/csv?name=pilot",
        content=csv.encode("cp949"),
        headers=api_lite.h("planner", **{"Content-Type": "text/csv"}),
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["dropped"] and answer["assumed"]
    page = api_lite.client.get("/v1/station-lists?limit=5", headers=api_lite.h("viewer")).json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 5, 0)
    (listed,) = page["items"]
    assert (listed["dropped"], listed["assumed"]) == (answer["dropped"], answer["assumed"])
    one = api_lite.client.get(r.headers["Location"], headers=api_lite.h("viewer")).json()
    assert (one["id"], one["author"], one["name"]) == (answer["id"], "planner-user", "pilot")
    assert (one["dropped"], one["assumed"]) == (answer["dropped"], answer["assumed"])
    assert [s["station_id"] for s in one["stations"]] == ["ST-10", "ST-11"]


def test_the_openapi_document_declares_what_the_server_sends(api_lite: Api) -> None:
    doc = api_lite.client.get("/openapi.json").json()
    answers = {
        (path, method): op["responses"] for path, item in doc["paths"].items() for method, op in item.items()
    }
    for path in ("/v1/scenarios", "/v1/rebalancing/runs", "/v1/sweeps", "/v1/simulations"):
        post = answers[(path, "post")]
        assert "Idempotency-Key" in post["200"]["description"], path
        assert post["200"]["content"] == post["202"]["content"]
        assert "Location" in post["200"]["headers"] and "Location" in post["202"]["headers"]
    for path in (
        "/v1/rebalancing/snapshots",
        "/v1/rebalancing/snapshots/csv",
        "/v1/station-lists",
        "/v1/keys",
    ):
        assert "Location" in answers[(path, "post")]["201"]["headers"], path
    for path in ("/v1/scenarios/{job_id}/plan", "/v1/rebalancing/runs/{job_id}/routes", "/v1/stations"):
        assert "ETag" in answers[(path, "get")]["200"]["headers"], path
    assert "Retry-After" in answers[("/v1/scenarios", "get")]["429"]["headers"]
    for path in ("/healthz", "/readyz", "/metrics"):
        assert not {"401", "403", "429"} & set(answers[(path, "get")]), path
        assert api_lite.client.get(path, headers={"X-API-Key": "bogus"}).status_code in (200, 503)
    assert {"401", "403"} <= set(answers[("/v1/station-lists", "get")])


def test_a_replayed_submission_answers_as_documented(api_lite: Api) -> None:
    h = api_lite.h("ops", **{"Idempotency-Key": "night-1"})
    first = api_lite.client.post("/v1/rebalancing/runs", json=RUN, headers=h)
    again = api_lite.client.post("/v1/rebalancing/runs", json=RUN, headers=h)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.headers["Location"] == first.headers["Location"] and again.json()["id"] == first.json()["id"]
