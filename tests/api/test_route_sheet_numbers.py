"""An API run's route sheets (``/routes?format=csv``, ``/sheets/*.csv``) name each stop by the
station's public number and street address, as the web app's printed sheet and ``mobility
rebalance``'s sheets do: from the station list, for a snapshot stored from a status CSV that gives
only the stations' numbers; the routes of a run made before stops carried them still export, with
those columns blank."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import jobs
from api.app import create_app
from api.runners import run_rebalancing
from mobility.export.routes import ROUTE_SHEET_COLUMNS
from tests.api.api_support import FAKE_ROUTES, RUN, Api, keys_for, make_settings

NUMBERS = (102, 103, 104, 105, 106, 108, 3002)
"""마포구 stations by the numbers on their signs (3002: 벽산상암스마트큐브, ST-2160)."""


@pytest.fixture
def api_real(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[Api]:
    """The app with the real rebalancing kind (straight-line travel, a few stations: seconds)."""
    monkeypatch.setitem(jobs._KINDS, "rebalancing", run_rebalancing)
    settings = make_settings(sqlite_url, job_overhead_seconds=60)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, keys_for(sqlite_url))


def _rows(api: Api, url: str) -> tuple[list[str], list[dict[str, str]]]:
    r = api.client.get(url, headers=api.h("viewer"))
    assert r.status_code == 200, r.text
    text = r.content.decode("utf-8-sig")
    return text.splitlines()[0].split(","), list(csv.DictReader(io.StringIO(text)))


def test_a_run_s_route_sheets_carry_each_stop_s_number_and_address(api_real: Api, data_dir: Path) -> None:
    from mobility.demand.data import load_stations

    listed = load_stations(data_dir).dropna(subset=["number"]).set_index("number")
    status = "number,bikes,target\n" + "".join(
        f"{n},{0 if i % 2 else 20},8\n" for i, n in enumerate(NUMBERS)
    )  # the list gives each its id, name, position and docks; no address is stored
    stored = api_real.client.post(
        "/v1/rebalancing/snapshots/csv?name=mapo",
        content=status.encode("utf-8"),
        headers=api_real.h("ops", **{"Content-Type": "text/csv"}),
    )
    assert stored.status_code == 201, stored.text
    body = {
        "name": "mapo",
        "snapshot_id": stored.json()["id"],
        "fleet": {
            "depots": [{"id": "NW", "lon": 126.9016, "lat": 37.5663}],
            "trucks": [{"id": "T01", "depot": "NW", "capacity": 20}],
        },
        "options": {"targets": "snapshot", "network": "straight"},
        "time_limit": 10,
        "solver": {"max_iterations": 20},
    }
    r = api_real.client.post("/v1/rebalancing/runs", json=body, headers=api_real.h("ops"))
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    done = api_real.wait(loc, timeout=120)
    assert done["status"] == "succeeded", done

    doc = api_real.client.get(f"{loc}/routes", headers=api_real.h("viewer")).json()
    stops = [s for route in doc["routes"] for s in route["stops"]]
    assert len(stops) >= 4
    for s in stops:  # routes.json: the list's number and address for each stop
        assert s["number"] in NUMBERS and s["address"] == listed.at[s["number"], "address"]
        assert s["station_id"] == listed.at[s["number"], "station_id"]
    for url in (f"{loc}/routes?format=csv", f"{loc}/sheets/routes_all.csv", f"{loc}/sheets/route_T01.csv"):
        header, rows = _rows(api_real, url)
        assert header == list(ROUTE_SHEET_COLUMNS)  # number after station_id, address after name
        at_depot = [row for row in rows if row["station_id"] == "NW"]
        assert len(at_depot) == 2 and all(row["number"] == row["address"] == "" for row in at_depot)
        got = [(row["station_id"], row["number"], row["address"]) for row in rows if row not in at_depot]
        assert got == [(s["station_id"], str(s["number"]), s["address"]) for s in stops], url


def test_routes_written_before_stops_carried_numbers_export_with_blank_columns(api_lite: Api) -> None:
    """The fake kind serves a ``routes.json`` of before (stops without number or address)."""
    assert "number" not in FAKE_ROUTES["routes"][0]["stops"][0]
    r = api_lite.client.post("/v1/rebalancing/runs", json=RUN, headers=api_lite.h("ops"))
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    assert api_lite.wait(loc)["status"] == "succeeded"
    doc = api_lite.client.get(f"{loc}/routes", headers=api_lite.h("viewer")).json()
    assert [s["station_id"] for s in doc["routes"][0]["stops"]] == ["ST-4", "ST-5"]
    for url in (f"{loc}/routes?format=csv", f"{loc}/sheets/routes_all.csv"):
        header, rows = _rows(api_lite, url)
        assert header == list(ROUTE_SHEET_COLUMNS)
        stops = [row for row in rows if row["station_id"] != "D1"]
        assert [row["name"] for row in stops] == ["망원역", "합정역"]
        assert all(row["number"] == row["address"] == "" for row in rows)


def test_the_openapi_document_lists_the_sheet_s_number_and_address(api_lite: Api) -> None:
    doc: dict[str, Any] = api_lite.client.get("/openapi.json").json()
    path = "/v1/rebalancing/runs/{job_id}/sheets/{file}"
    content = doc["paths"][path]["get"]["responses"]["200"]["content"]
    schema = next(iter(content.values()))["schema"]
    assert "`station_id`, `number`, `name`, `address`" in schema["description"]
    ref = schema["contentSchema"]["items"]["$ref"].rsplit("/", 1)[-1]
    row = doc["components"]["schemas"][ref]["properties"]
    assert {t["type"] for t in row["number"]["anyOf"]} == {"integer", "null"}
    assert {t["type"] for t in row["address"]["anyOf"]} == {"string", "null"}
    assert "sign" in row["number"]["description"]
    assert "Blank at the depot rows" in row["address"]["description"]
