"""Map and GIS exports of finished jobs (``api/routes/maps.py``), drawn from the real Seoul data.

The jobs are the fake kinds' plan (one new station, one existing) and routes (one truck, two
stops); district boundaries, coverage and the Han river come from the real data directory.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes import maps
from mobility.export.gbfs import validate
from mobility.export.layers import LAYER_NAMES
from tests.api.api_support import RUN, SCENARIO, Api, make_settings

N_GU = 25


@pytest.fixture(autouse=True)
def _real_data(data_dir: Path) -> None:
    """The exports need the Seoul data directory (district boundaries)."""


def _finished(api: Api, path: str, body: dict[str, Any], role: str) -> str:
    r = api.client.post(path, json=body, headers=api.h(role))
    assert r.status_code == 202, r.text
    loc = str(r.headers["Location"])
    assert api.wait(loc)["status"] == "succeeded"
    return loc


def _no_cdn(html: str) -> None:
    srcs = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", html, flags=re.I)
    assert not [s for s in srcs if s.lower().startswith(("http:", "https:", "//"))], srcs
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", html, flags=re.I)


def test_scenario_maps_gpkg_gbfs(api_lite: Api, tmp_path: Path) -> None:
    api = api_lite
    loc = _finished(api, "/v1/scenarios", SCENARIO, "planner")
    job_id = loc.rsplit("/", 1)[1]
    h = api.h("viewer")
    links = api.client.get(loc, headers=h).json()["links"]
    assert set(links) == {"self", "plan", "map.html", "map.png", "map.svg", "gpkg", "gbfs"}
    assert links["gbfs"] == f"{loc}/gbfs/gbfs.json"
    assert all(api.client.get(url, headers=h).status_code == 200 for url in links.values())

    r = api.client.get(f"{loc}/map.html", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    _no_cdn(r.text)
    assert "plotly" in r.text.lower() and len(r.content) > 1_000_000  # plotly.js inlined

    png = api.client.get(f"{loc}/map.png", headers=h)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    again = api.client.get(
        f"{loc}/map.png", headers=api.h("viewer", **{"If-None-Match": png.headers["ETag"]})
    )
    assert again.status_code == 304 and again.content == b""

    svg = api.client.get(f"{loc}/map.svg", headers=h)
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content[:2000]
    assert "마포구" in svg.text or "망원" in svg.text  # Hangul kept as text

    gp = api.client.get(f"{loc}/plan.gpkg", headers=h)
    assert gp.status_code == 200 and gp.headers["content-type"] == "application/geopackage+sqlite3"
    assert gp.headers["content-disposition"].startswith("attachment")
    path = tmp_path / "plan.gpkg"
    path.write_bytes(gp.content)
    assert {name for name, _ in pyogrio.list_layers(path)} == set(LAYER_NAMES)
    assert len(pyogrio.read_dataframe(path, layer="districts")) == N_GU
    new = pyogrio.read_dataframe(path, layer="new_stations")
    assert len(new) == 1 and new.crs.to_epsg() == 4326

    manifest = api.client.get(f"{loc}/gbfs/gbfs.json", headers=h)
    assert manifest.status_code == 200 and manifest.headers["content-type"] == "application/json"
    doc = manifest.json()
    assert validate("gbfs", doc) == []
    feeds = {f["name"]: f["url"] for f in doc["data"]["feeds"]}
    assert {"station_information", "station_status"} <= set(feeds)
    for name, url in feeds.items():
        assert url == f"http://testserver/v1/scenarios/{job_id}/gbfs/{name}.json"
        feed = api.client.get(url, headers=h)
        assert feed.status_code == 200, url
        assert validate(name, feed.json()) == []
    stations = api.client.get(f"{loc}/gbfs/station_information.json", headers=h).json()["data"]["stations"]
    assert len(stations) == 2 and any("망원역" in s["name"][0]["text"] for s in stations)

    districts = api.client.get(f"{loc}/layers/districts.geojson", headers=h)
    assert districts.headers["content-type"] == "application/geo+json"
    assert len(districts.json()["features"]) == N_GU
    gz = api.client.get(
        f"{loc}/layers/districts.geojson", headers=api.h("viewer", **{"Accept-Encoding": "gzip"})
    )
    assert gz.headers.get("content-encoding") == "gzip" and gz.json() == districts.json()


def test_rebalancing_maps_gpkg_sheets(api_lite: Api, tmp_path: Path) -> None:
    api = api_lite
    loc = _finished(api, "/v1/rebalancing/runs", RUN, "ops")
    h = api.h("viewer")
    # the job names its exports in its links (they were only in the documentation), and each resolves
    links = api.client.get(loc, headers=h).json()["links"]
    assert set(links) == {"self", "routes", "map.html", "map.png", "map.svg", "gpkg", "sheets"}
    assert links["gpkg"] == f"{loc}/routes.gpkg" and links["sheets"] == f"{loc}/sheets/routes_all.csv"
    assert all(api.client.get(url, headers=h).status_code == 200 for url in links.values())

    html = api.client.get(f"{loc}/map.html", headers=h)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    _no_cdn(html.text)
    png = api.client.get(f"{loc}/map.png", headers=h)
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"

    gp = api.client.get(f"{loc}/routes.gpkg", headers=h)
    path = tmp_path / "routes.gpkg"
    path.write_bytes(gp.content)
    assert {name for name, _ in pyogrio.list_layers(path)} == set(LAYER_NAMES)
    assert len(pyogrio.read_dataframe(path, layer="routes")) == 1
    stops = pyogrio.read_dataframe(path, layer="stops")
    assert sorted(stops["seq"].tolist()) == [1, 2]
    # The GIS layers show the night's own snapshot, as its maps do, not the published network
    # with estimated bikes (2,799 stations, 45,000 bikes).
    night = {s["station_id"]: s["bikes"] for s in RUN["snapshot"]["stations"]}
    existing = pyogrio.read_dataframe(path, layer="existing_stations")
    assert dict(zip(existing["station_id"], existing["bikes"], strict=True)) == night
    assert not existing["bikes_estimated"].any() and set(existing["gu"]) == {"마포구"}
    districts = pyogrio.read_dataframe(path, layer="districts")
    assert districts["bikes"].sum() == sum(night.values())
    layer = api.client.get(f"{loc}/layers/existing_stations.geojson", headers=h).json()
    assert {f["properties"]["station_id"]: f["properties"]["bikes"] for f in layer["features"]} == night

    sheet = api.client.get(f"{loc}/sheets/routes_all.csv", headers=h)
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    stops = [r for r in rows if r["station_id"] != "D1"]  # the depot rows start and end the sheet
    assert len(stops) == 2 and {"망원역", "합정역"} <= {r["name"] for r in stops}
    assert api.client.get(f"{loc}/sheets/route_T01.csv", headers=h).status_code == 200
    assert api.client.get(f"{loc}/sheets/route_T99.csv", headers=h).status_code == 404

    stops_gj = api.client.get(f"{loc}/layers/stops.geojson", headers=h).json()
    assert len(stops_gj["features"]) == 2
    # A rebalancing run has no new stations (empty layers are not written) and no GBFS feed.
    assert api.client.get(f"{loc}/layers/new_stations.geojson", headers=h).status_code == 404
    assert api.client.get(f"{loc}/gbfs/gbfs.json", headers=h).status_code == 404


def test_map_errors(api_lite: Api) -> None:
    api = api_lite
    h = api.h("viewer")
    assert api.client.get("/v1/scenarios/0123abc/map.html", headers=h).status_code == 404
    assert api.client.get("/v1/rebalancing/runs/0123abc/map.png", headers=h).status_code == 404
    assert api.client.get("/v1/scenarios/0123abc/map.html").status_code == 401

    slow = copy.deepcopy(SCENARIO) | {"description": "sleep"}
    loc = api.client.post("/v1/scenarios", json=slow, headers=api.h("planner")).headers["Location"]
    r = api.client.get(f"{loc}/map.png", headers=h)
    assert r.status_code == 409 and "maps exist once it has succeeded" in r.json()["detail"]
    api.client.delete(loc, headers=api.h("planner"))

    done = _finished(api, "/v1/scenarios", SCENARIO, "planner")
    job_id = done.rsplit("/", 1)[1]
    assert api.client.get(f"/v1/rebalancing/runs/{job_id}/map.svg", headers=h).status_code == 404
    for bad in (
        "layers/nope.geojson",
        "layers/..%2Fplan.geojson",
        "gbfs/station_status.csv",
        "layers/x.json",
    ):
        assert api.client.get(f"{done}/{bad}", headers=h).status_code == 404, bad


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the export groups rendered (calls of the real renderer)."""
    calls: list[str] = []
    real = maps._RENDERER.render

    def render(job_id: str, source: bytes, group: maps.Group, **kwargs: Any) -> dict[str, bytes]:
        calls.append(group.name)
        return real(job_id, source, group, **kwargs)

    monkeypatch.setattr(maps._RENDERER, "render", render)
    yield calls


def test_rendered_once_stored_in_database(api: Api, database_url: str, counted: list[str]) -> None:
    loc = _finished(api, "/v1/scenarios", SCENARIO, "planner")
    first = api.client.get(f"{loc}/map.svg", headers=api.h("viewer"))
    api.client.get(f"{loc}/map.svg", headers=api.h("viewer"))
    api.client.get(f"{loc}/gbfs/station_status.json", headers=api.h("viewer"))
    api.client.get(f"{loc}/gbfs/system_information.json", headers=api.h("viewer"))
    assert counted == ["map.svg", "gbfs"]
    # A second API process (fresh memory) serves the stored bytes without drawing again.
    with TestClient(create_app(make_settings(database_url, run_jobs=False))) as other:
        again = other.get(f"{loc}/map.svg", headers=api.h("viewer"))
        status = other.get(f"{loc}/gbfs/station_status.json", headers=api.h("viewer"))
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["ETag"] == first.headers["ETag"]
    assert json.loads(status.content)["data"]["stations"]
    assert counted == ["map.svg", "gbfs"]
