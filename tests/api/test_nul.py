"""NUL characters (U+0000) in requests: 404 in a path, 422 naming the field elsewhere, on both
databases, for every operation of the OpenAPI document (so later routes are covered), and the
write audited with the NUL written ``%00``.

PostgreSQL's text columns cannot hold U+0000: before :mod:`api.nul`, such a request reached the
database and was a 500 (psycopg's ``DataError``), and a write's audit entry was lost with it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from api import nul
from tests.api.api_support import RUN, Api

NUL_ID = "%00abc"


def _operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every operation of the app's OpenAPI document."""
    doc = api.client.get("/openapi.json").json()
    return [(m.upper(), path, op) for path, item in doc["paths"].items() for m, op in item.items()]


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def _params(op: dict[str, Any], where: str) -> list[str]:
    return [p["name"] for p in op.get("parameters", []) if p["in"] == where]


def _audit(api: Api) -> list[dict[str, Any]]:
    r = api.client.get("/v1/audit", params={"limit": 100}, headers=api.h("admin"))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _nothing_stored(api: Api) -> None:
    h = api.h("admin")
    for path in ("/v1/scenarios", "/v1/rebalancing/runs", "/v1/station-lists", "/v1/rebalancing/snapshots"):
        assert api.client.get(path, headers=h).json()["total"] == 0, path
    assert len(api.client.get("/v1/keys", headers=h).json()) == 4  # the fixture's, one per role


def test_a_nul_in_any_path_is_a_404_and_the_write_is_audited(api: Api) -> None:
    """Every operation with a path parameter, on SQLite and PostgreSQL: 404, never a 500."""
    tried = []
    for method, path, _op in _operations(api):
        if "{" not in path:
            continue
        url = _fill(path, NUL_ID)
        r = api.client.request(method, url, headers=api.h("admin"))
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        body = r.json()
        assert "NUL" in body["detail"] and body["request_id"] == r.headers["x-request-id"], body
        tried.append((method, path))
    assert ("DELETE", "/v1/keys/{key_id}") in tried and ("GET", "/v1/scenarios/{job_id}/plan") in tried
    assert len(tried) >= 25
    _nothing_stored(api)
    deletes = {(e["route"], e["path"], e["status"]) for e in _audit(api) if e["method"] == "DELETE"}
    assert ("/v1/scenarios/{job_id}", f"/v1/scenarios/{NUL_ID}", 404) in deletes
    assert ("/v1/keys/{key_id}", f"/v1/keys/{NUL_ID}", 404) in deletes
    assert len(deletes) == sum(m == "DELETE" for m, _ in tried)


def test_a_nul_in_any_query_value_is_a_422_naming_it(api: Api) -> None:
    """Every query parameter of every operation, on SQLite and PostgreSQL."""
    tried = []
    for method, path, op in _operations(api):
        for name in _params(op, "query"):
            url = _fill(path, "0" * 32)  # an id that looks right: the NUL is in the query
            r = api.client.request(method, url, params={name: "a\x00b"}, headers=api.h("admin"))
            assert r.status_code == 422, (method, url, name, r.status_code, r.text)
            errors = r.json()["errors"]
            assert errors == [
                {
                    "field": f"query.{name}",
                    "problem": "got 'a\\x00b'; expected text without NUL characters (U+0000)",
                    "type": "nul_character",
                }
            ], errors
            tried.append((method, path, name))
    assert {("GET", "/v1/scenarios", "author"), ("GET", "/v1/audit", "key_id")} <= {
        (m, p, n) for m, p, n in tried
    }
    assert ("POST", "/v1/station-lists/csv", "name") in tried
    _nothing_stored(api)
    posts = [e for e in _audit(api) if e["method"] == "POST"]
    assert posts and all(e["status"] == 422 for e in posts)


def test_a_nul_in_any_json_body_is_a_422_naming_the_field(api: Api) -> None:
    """Every operation with a JSON body (a NUL anywhere in it, however invalid the rest), then
    the fields of real bodies, nested ones too."""
    tried = []
    for method, path, op in _operations(api):
        if "application/json" not in op.get("requestBody", {}).get("content", {}):
            continue
        r = api.client.request(method, path, json={"x": {"y": ["ok", "a\x00"]}}, headers=api.h("admin"))
        assert r.status_code == 422, (method, path, r.status_code, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["body.x.y.1"], r.text
        tried.append(path)
    assert {"/v1/scenarios", "/v1/rebalancing/runs", "/v1/station-lists", "/v1/keys"} <= set(tried)
    stations = [
        {
            "station_id": f"ST-{i}",
            "name": "a\x00b" if i == 3 else "ok",
            "lat": 37.55,
            "lon": 126.91,
            "docks": 5,
        }
        for i in range(5)
    ]
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        (
            "/v1/station-lists",
            {"name": "a\x00b", "stations": stations},
            ["body.name", "body.stations.3.name"],
        ),
        ("/v1/keys", {"name": "a\x00b", "role": "viewer"}, ["body.name"]),
        ("/v1/rebalancing/runs", RUN | {"name": "\x00"}, ["body.name"]),
        ("/v1/rebalancing/snapshots", RUN["snapshot"] | {"n\x00": 1}, ["body.n%00"]),
    ]
    for path, body, fields in cases:
        r = api.client.post(path, json=body, headers=api.h("admin"))
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == fields, (path, r.text)
    # JSON in UTF-16 (json.loads reads it, so FastAPI does): its NUL bytes are no escape
    utf16 = json.dumps({"name": "a\x00b", "role": "viewer"}).encode("utf-16")
    r = api.client.post(
        "/v1/keys", content=utf16, headers=api.h("admin", **{"Content-Type": "application/json"})
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.name", r.text
    _nothing_stored(api)
    assert all(e["status"] == 422 for e in _audit(api))


def test_the_caller_is_checked_first(api: Api) -> None:
    """401 without a key and 403 for the wrong role, as for any request; audited as such."""
    assert api.client.delete(f"/v1/scenarios/{NUL_ID}").status_code == 401
    assert api.client.get("/v1/scenarios", params={"author": "\x00"}).status_code == 401
    r = api.client.delete(f"/v1/keys/{NUL_ID}", headers=api.h("planner"))
    assert r.status_code == 403
    assert [(e["key_name"], e["path"], e["status"]) for e in _audit(api)] == [
        ("planner-user", f"/v1/keys/{NUL_ID}", 403)
    ]


def test_routes_without_a_key_refuse_nuls_too(api_lite: Api) -> None:
    """A public route never asks who is calling; the middleware answers in its place."""
    c = api_lite.client
    r = c.get("/healthz", params={"probe": "\x00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.probe", r.text
    assert r.headers["x-request-id"] == r.json()["request_id"]
    for url in ("/web/%00.js", "/web/vendor/%00", "/tiles/10/%00/1.pbf"):
        r = c.get(url, headers=api_lite.h("viewer"))  # a key changes nothing here
        assert r.status_code == 404 and "NUL" in r.json()["detail"], (url, r.text)
    assert c.get("/healthz").status_code == 200


def test_csv_bodies_are_not_read_as_json(api_lite: Api) -> None:
    """A CSV upload's bytes are the CSV reader's: a UTF-16 file is full of NUL bytes."""
    csv = "station_id,name,lat,lon,docks\nST-1,망원역,37.55,126.91,5\n".encode("utf-16")
    h = api_lite.h("planner", **{"Content-Type": "text/csv"})
    r = api_lite.client.post("/v1/station-lists/csv", content=csv, headers=h)
    assert r.status_code == 201, r.text


def test_find_reports_each_field_once_in_document_order() -> None:
    body = json.dumps({"a": ["\x00", {"b": "x\x00"}], "c\x00": "ok", "d": "fine"}).encode()
    scope = {
        "path": "/v1/x",
        "query_string": b"q=%00&r=1",
        "headers": [(b"content-type", b"application/json")],
    }
    assert nul.find(scope, body) == [
        (("query", "q"), "\x00"),
        (("body", "a", 0), "\x00"),
        (("body", "a", 1, "b"), "x\x00"),
        (("body", "c%00"), "c\x00"),
    ]
    assert nul.find(scope | {"path": "/v1/\x00"}, body) == [(("path",), "/v1/\x00")]
    assert nul.find(scope | {"headers": [(b"content-type", b"text/csv")]}, body) == [(("query", "q"), "\x00")]
    assert nul.find({"path": "/", "query_string": b"a=%2500"}, b'{"a": "\\\\u0000"}') == []


@pytest.mark.parametrize("text", ["a\x00", "\x00" * 100])
def test_the_problem_shows_the_value_escaped_and_short(text: str) -> None:
    exc = nul.refusal([(("query", "q"), text)])
    problem = exc.errors()[0]["msg"]  # type: ignore[union-attr]
    assert "\x00" not in problem and "\\x00" in problem and len(problem) < 400
