"""Bad requests of the HTTP API review walk: each a 422 (or a 202) that names the field, the value
sent and what is expected in plain words, never a body's content nor pydantic's own wording.

Before the fixes: a body of another Content-Type was "got (CSV content); expected a valid
dictionary or object to extract fields from"; a sweep's points together could ask for twice the
server's maximum time (202); ids read "expected String should match pattern '^[0-9a-f]{32}$'"; a
deeply nested body was a 400 without a field; ``/morning?format=csv`` was a 406 although the
OpenAPI parameter listed csv; a YAML file uploaded as a station list was quoted in the 422.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import SIMULATION_EXAMPLE
from tests.api.api_support import SCENARIO, Api, keys_for, make_settings

SHIPPED_YAML = Path(__file__).parents[2] / "scenarios" / "seoul-2019-30k.yaml"
PYDANTIC_WORDS = (
    "Input should",
    "should match pattern",
    "Value error",
    "timezone info",
    "Input tag",
    "Tuple",
)


def _errors(r: Any) -> list[dict[str, str]]:
    assert r.status_code == 422, r.text
    errors: list[dict[str, str]] = r.json()["errors"]
    assert not any(word in e["problem"] for e in errors for word in PYDANTIC_WORDS), errors
    return errors


def _problem(r: Any, field: str) -> str:
    (problem,) = [e["problem"] for e in _errors(r) if e["field"] == field]
    return problem


# --- A: a body of another Content-Type ----------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "said"),
    [
        ("application/yaml", SHIPPED_YAML.read_bytes(), "got 'application/yaml'"),
        ("text/plain", json.dumps(SCENARIO).encode(), "got 'text/plain'"),
        ("text/csv", b"name\nsecret", "got 'text/csv'"),
        (None, json.dumps(SCENARIO).encode(), "got nothing"),
    ],
)
def test_a_body_of_another_content_type_says_the_type_expected(
    api_lite: Api, content_type: str | None, body: bytes, said: str
) -> None:
    headers = api_lite.h("planner") | ({} if content_type is None else {"Content-Type": content_type})
    r = api_lite.client.post("/v1/scenarios", content=body, headers=headers)
    (error,) = _errors(r)
    assert error["field"] == "header.content-type" and error["type"] == "content_type"
    assert error["problem"].startswith(f"{said}; expected Content-Type: application/json")
    assert "CSV" not in r.text and "secret" not in r.text and "SEOUL" not in r.text.upper()


# --- B: a sweep's points together ---------------------------------------------------------------


def test_a_sweep_whose_points_need_more_than_the_maximum_is_refused(
    api_lite: Api, every_kind_faked: None
) -> None:
    long = {"scenario": SCENARIO | {"solver": {"time_limit": 1000}}, "new_stations": "300:800:100"}
    r = api_lite.client.post("/v1/sweeps", json=long, headers=api_lite.h("planner"))
    problem = _problem(r, "body.new_stations")
    assert problem.startswith("got '300:800:100': 6 points x 1000 s each")
    assert "6000 s is above this server's maximum of 3600 s" in problem
    fits = {"scenario": SCENARIO | {"solver": {"time_limit": 600}}, "new_stations": "300:800:100"}
    r = api_lite.client.post("/v1/sweeps", json=fits, headers=api_lite.h("planner"))  # 3600 s: at most
    assert r.status_code == 202, r.text


# --- C: plain words for pydantic's error types --------------------------------------------------


def test_a_malformed_id_expects_a_hex_id(api_lite: Api) -> None:
    body = SCENARIO | {"baseline": {"station_list_id": "xyz"}}
    r = api_lite.client.post("/v1/scenarios", json=body, headers=api_lite.h("planner"))
    assert _problem(r, "body.baseline.station_list_id") == "got 'xyz'; expected a 32-character hex id"


@pytest.mark.parametrize(
    ("expires_at", "problem"),
    [
        ("2020-01-01T00:00:00+00:00", "got '2020-01-01T00:00:00+00:00'; expected a time in the future"),
        ("2030-01-01T00:00:00", "got '2030-01-01T00:00:00'; expected a date-time with a time zone"),
    ],
)
def test_a_key_expiry_in_the_past_or_without_zone_is_said_plainly(
    api_lite: Api, expires_at: str, problem: str
) -> None:
    body = {"role": "viewer", "name": "x", "expires_at": expires_at}
    r = api_lite.client.post("/v1/keys", json=body, headers=api_lite.h("admin"))
    assert _problem(r, "body.expires_at").startswith(problem)


def test_an_unknown_source_kind_shows_the_kind_sent(api_lite: Api) -> None:
    body = SIMULATION_EXAMPLE | {"source": {"kind": "file", "path": "/etc/passwd"}}
    r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
    assert (
        _problem(r, "body.source.kind")
        == "got 'file'; expected kind one of 'vintage', 'plan', 'station_list'"
    )
    body = SIMULATION_EXAMPLE | {"source": {"job_id": "0" * 32}}
    r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
    assert _problem(r, "body.source.kind") == "got nothing; expected a value"


@pytest.fixture
def api_large(sqlite_url: str, fake_kinds: None) -> Iterator[Api]:
    """:func:`api_lite` taking bodies of up to 1 MB (a snapshot of 5,001 stations)."""
    keys = keys_for(sqlite_url)
    app = create_app(make_settings(sqlite_url, max_body_bytes=1_000_000))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, keys)


def test_too_many_stations_says_at_most_how_many(api_large: Api) -> None:
    one = {"lon": 126.9104, "lat": 37.5556, "bikes": 1, "docks": 15}
    body = {"name": "s", "stations": [one | {"station_id": f"ST-{i}"} for i in range(5001)]}
    r = api_large.client.post("/v1/rebalancing/snapshots", json=body, headers=api_large.h("ops"))
    assert _problem(r, "body.stations") == "got [...] (5001 items); expected at most 5000 items"


@pytest.mark.parametrize("rows", [b"ST-4,many\n", b"ST-4,many\nST-5,x\n"])
def test_a_status_csv_cell_expects_an_integer_in_the_clis_words(api_lite: Api, rows: bytes) -> None:
    headers = api_lite.h("ops", **{"Content-Type": "text/csv"})
    r = api_lite.client.post(
        "/v1/rebalancing/snapshots/csv", content=b"station_id,bikes\n" + rows, headers=headers
    )
    assert (
        _problem(r, "body[ST-4].bikes (line 2)")
        == "got 'many'; expected a valid integer, unable to parse string as an integer"
    )


# --- D: a body nested too deeply, or not UTF-8 -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply to parse"),
        (b'{"name": "\xff"}', "not UTF-8 text"),
    ],
)
def test_a_body_json_cannot_parse_is_a_422_on_body(api_lite: Api, body: bytes, why: str) -> None:
    headers = api_lite.h("planner", **{"Content-Type": "application/json"})
    r = api_lite.client.post("/v1/scenarios", content=body, headers=headers)
    (error,) = _errors(r)
    assert error["field"] == "body" and error["type"] == "json_invalid"
    assert error["problem"].startswith(f"got (not JSON); expected a JSON body ({why}")


# --- E: the formats of each artifact route -----------------------------------------------------


def test_the_morning_route_takes_and_lists_json_only(api_lite: Api) -> None:
    run = "0" * 32
    r = api_lite.client.get(f"/v1/rebalancing/runs/{run}/morning?format=csv", headers=api_lite.h("viewer"))
    assert _problem(r, "query.format") == "got 'csv'; expected 'json'"
    paths = api_lite.client.get("/openapi.json").json()["paths"]

    def formats(path: str) -> list[str]:
        (param,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "format"]
        (choice,) = [s for s in param["schema"]["anyOf"] if s.get("type") == "string"]
        return list(choice.get("enum", [choice.get("const")]))

    assert formats("/v1/rebalancing/runs/{job_id}/morning") == ["json"]
    assert list(paths["/v1/rebalancing/runs/{job_id}/morning"]["get"]["responses"]["200"]["content"]) == [
        "application/json"
    ]
    assert formats("/v1/rebalancing/runs/{job_id}/routes") == ["json", "geojson", "csv"]
    assert formats("/v1/scenarios/{job_id}/plan") == ["json", "geojson", "csv"]


# --- F: an uploaded file that is not a station list --------------------------------------------


def test_a_yaml_file_uploaded_as_a_station_list_is_counted_not_quoted(api_lite: Api) -> None:
    headers = api_lite.h("planner", **{"Content-Type": "text/csv"})
    r = api_lite.client.post("/v1/station-lists/csv", content=SHIPPED_YAML.read_bytes(), headers=headers)
    (error,) = _errors(r)
    assert error["field"] == "body" and "missing columns 위도/경도 (lat/lon)" in error["problem"]
    assert re.search(r"the header, has \d+ columns", error["problem"])
    first_line = SHIPPED_YAML.read_text(encoding="utf-8").splitlines()[0]  # "# Seoul's plan: grow ..."
    words = [w for w in re.findall(r"[A-Za-z]{5,}", first_line) if w.lower() not in ("columns", "station")]
    assert words and not [w for w in words if w.upper() in r.text.upper()], words
