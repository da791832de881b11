"""What the server sends validates against the OpenAPI document it publishes (jsonschema), on the
real Seoul data: the station list and the data catalogue, each job kind's status with its key
figures, and the GeoJSON and CSV of plans, routes, curves, map layers and route sheets.

An API review walk found ``/v1/stations`` documented as ``{}``, the datasets as untyped objects,
no schema for any GeoJSON or CSV, ``JobInfo.kpis`` an untyped object and ``JobInfo.time_limit``
(910 for a 5 s scenario) undescribed. The models refuse keys they do not name, so a key the server
adds, or one it drops, fails these tests until the documentation says it.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import jsonschema
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.db import dispose_engine, session_factory
from api.db.models import Job
from api.routes.data import _dataset_rows
from mobility.export.gbfs import FILE_MODELS, FeedName, GbfsVersion, Language
from mobility.export.map_style import MapStyle
from mobility.export.plans import PLAN_CSV_COLUMNS
from mobility.export.routes import ROUTE_SHEET_COLUMNS
from mobility.sources.stations import COLUMNS as STATION_COLUMNS
from tests.api.api_support import RUN, SCENARIO, Api, keys_for, make_settings

# --- reading the document -------------------------------------------------------------------------


def _schema(doc: dict[str, Any], path: str, media: str = "application/json", code: str = "200") -> Any:
    content = doc["paths"][path]["get"]["responses"][code]["content"]
    return content[media]["schema"]


def _route(url: str) -> str:
    """The documented path of a job's ``url``: its id as ``{job_id}``."""
    return re.sub(r"/[0-9a-f]{32}(?=/|$)", "/{job_id}", url)


def _validate(doc: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """``instance`` validates against ``schema``, whose references resolve in ``doc``."""
    jsonschema.Draft202012Validator(schema | {"components": doc["components"]}).validate(instance)


def _component(doc: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return out


def _cell(text: str, schema: dict[str, Any]) -> Any:
    """A CSV cell as the value its column's schema types (blank: null)."""
    if text == "":
        return None
    types = {s.get("type") for s in schema.get("anyOf", [schema])}
    if "integer" in types:
        return int(text)
    if "number" in types:
        return float(text)
    if "boolean" in types:
        return {"True": True, "False": False}[text]
    return text


def _validate_csv(doc: dict[str, Any], schema: dict[str, Any], body: bytes) -> list[dict[str, Any]]:
    """A CSV answer as the document says: text whose header is the row model's fields in order and
    whose every row, read by its columns' types, validates against the row model. The rows."""
    assert schema["type"] == "string" and schema["contentMediaType"] == "text/csv"
    row = _component(doc, schema["contentSchema"]["items"])
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "UTF-8 with a byte-order mark, as documented"
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header, *cells = list(reader)
    assert header == list(row["properties"]), "the columns, in the documented order"
    rows = [{c: _cell(v, row["properties"][c]) for c, v in zip(header, line, strict=True)} for line in cells]
    for r in rows:
        _validate(doc, schema["contentSchema"]["items"], r)
    return rows


@pytest.fixture
def doc(api_lite: Api) -> dict[str, Any]:
    out: dict[str, Any] = api_lite.client.get("/openapi.json").json()
    return out


# --- the station list and the catalogue (real data, fake solvers) -------------------------------


def test_the_station_list_is_documented_as_geojson_and_validates(
    api_lite: Api, doc: dict[str, Any], data_dir: Path
) -> None:
    ok = doc["paths"]["/v1/stations"]["get"]["responses"]["200"]["content"]
    assert list(ok) == ["application/geo+json"], "the route sends GeoJSON only"
    schema = ok["application/geo+json"]["schema"]
    collection = _component(doc, schema)
    assert collection["properties"]["type"]["const"] == "FeatureCollection"
    properties = _component(
        doc, _component(doc, collection["properties"]["features"]["items"])["properties"]["properties"]
    )
    assert set(properties["properties"]) == set(STATION_COLUMNS) - {"lat", "lon"}
    for params in ({}, {"district": "마포구"}):
        r = api_lite.client.get("/v1/stations", params=params, headers=api_lite.h("viewer"))
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
        _validate(doc, schema, r.json())


def test_a_vintage_without_installation_dates_sends_null_not_nat(
    sqlite_url: str, fake_kinds: None, data_dir: Path
) -> None:
    """The 2018-11 list has no start-of-service dates: they are null (they were the text "NaT")."""
    keys = keys_for(sqlite_url)
    settings = make_settings(sqlite_url, station_month="2018-11")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        api = Api(client, keys)
        doc = client.get("/openapi.json").json()
        r = client.get("/v1/stations", params={"district": "마포구"}, headers=api.h("viewer"))
        assert r.status_code == 200
        features = r.json()["features"]
        assert features and {f["properties"]["installed_on"] for f in features} == {None}
        _validate(doc, _schema(doc, "/v1/stations", "application/geo+json"), r.json())


def test_the_datasets_are_typed_and_validate(api_lite: Api, doc: dict[str, Any], data_dir: Path) -> None:
    schema = _schema(doc, "/v1/datasets")
    item = _component(doc, schema["items"])
    assert item["required"], "a typed object, not an untyped one"
    r = api_lite.client.get("/v1/datasets", headers=api_lite.h("viewer"))
    assert r.status_code == 200 and len(r.json()) > 10
    _validate(doc, schema, r.json())
    # the answer is made by the model: every key of the library's rows is in it, none is dropped
    library = _dataset_rows(None)
    assert [set(row) for row in r.json()] == [set(row) for row in library]
    assert set(item["properties"]) == set(library[0])
    reports = [row["report"] for row in library if row["report"]]
    assert set(_component(doc, item["properties"]["report"]["anyOf"][0])["properties"]) == set(reports[0])


def test_every_geojson_and_csv_answer_has_a_schema(doc: dict[str, Any]) -> None:
    """A GeoJSON answer is a FeatureCollection, a CSV one text whose row model lists its columns."""
    seen: dict[str, set[str]] = {"geojson": set(), "csv": set()}
    for path, item in doc["paths"].items():
        for content in (op["responses"].get("200", {}).get("content", {}) for op in item.values()):
            for media, body in content.items():
                if media == "application/geo+json":
                    collection = _component(doc, body["schema"])
                    assert collection["properties"]["type"]["const"] == "FeatureCollection", path
                    seen["geojson"].add(path)
                elif media.startswith("text/csv"):
                    assert body["schema"]["contentMediaType"] == "text/csv", path
                    assert _component(doc, body["schema"]["contentSchema"]["items"])["properties"], path
                    seen["csv"].add(path)
    assert len(seen["geojson"]) >= 5 and len(seen["csv"]) >= 4, seen
    runs = "/v1/rebalancing/runs/{job_id}"
    assert f"{runs}/routes" in seen["csv"] and f"{runs}/sheets/{{file}}" in seen["csv"]
    plan_row = _component(
        doc, _schema(doc, "/v1/scenarios/{job_id}/plan", "text/csv")["contentSchema"]["items"]
    )
    assert list(plan_row["properties"]) == list(PLAN_CSV_COLUMNS)
    sheet = _schema(doc, f"{runs}/routes", "text/csv")["contentSchema"]["items"]
    assert list(_component(doc, sheet)["properties"]) == list(ROUTE_SHEET_COLUMNS)


# --- every JSON answer, the submitted scenario, a plan's GBFS feed, the basemap style ------------


def _typed(doc: dict[str, Any], schema: Any) -> bool:
    """Whether ``schema`` says what the JSON is: not ``{}`` nor an object without its members."""
    if not isinstance(schema, dict) or not schema:
        return False
    if "$ref" in schema:
        return _typed(doc, _component(doc, schema))
    if "anyOf" in schema or "oneOf" in schema:
        return all(_typed(doc, s) for s in schema.get("anyOf") or schema["oneOf"])
    if schema.get("type") == "array":
        return _typed(doc, schema.get("items"))
    if schema.get("type") == "object" or "type" not in schema:
        extra = schema.get("additionalProperties")
        return bool(schema.get("properties")) or (isinstance(extra, dict) and _typed(doc, extra))
    return True


def test_every_json_answer_has_a_schema(doc: dict[str, Any]) -> None:
    """Every success of every route that sends JSON says what it sends: ``/request`` (the
    scenario), the GBFS files and the basemap style were ``{}`` or an untyped object."""
    untyped = [
        (path, method, code, media)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        for code, answer in op["responses"].items()
        if code.startswith("2")
        for media, body in answer.get("content", {}).items()
        if media == "application/json" or media.endswith("+json")
        if not _typed(doc, body.get("schema"))
    ]
    assert untyped == []


TWO_STATIONS = [
    {"station_id": "ST-10", "name": "망원역 1번출구 앞", "lat": 37.5556, "lon": 126.9105, "docks": 15},
    {"station_id": "ST-11", "name": "합정역 5번출구 앞", "lat": 37.5506, "lon": 126.9148, "docks": 10},
]
"""An uploaded baseline of two stations (of a fleet of 60 bikes: ``ON_TWO``)."""

ON_TWO = SCENARIO | {"fleet": {"total_bikes": 60}}

REQUEST = "/v1/scenarios/{job_id}/request"
GBFS = "/v1/scenarios/{job_id}/gbfs/{file}"
STYLE = "/web/style.json"


def test_the_request_the_gbfs_files_and_the_style_name_their_models(doc: dict[str, Any]) -> None:
    posted = doc["paths"]["/v1/scenarios"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert _schema(doc, REQUEST) == posted == {"$ref": "#/components/schemas/ScenarioRequest"}
    files = _component(doc, _schema(doc, GBFS))
    assert files["anyOf"] == [{"$ref": f"#/components/schemas/{m.__name__}"} for m in FILE_MODELS.values()]
    style = _component(doc, _schema(doc, STYLE))
    assert set(style["required"]) == {"version", "sources", "layers", "metadata"}
    assert style["additionalProperties"] is True, "the MapLibre members the app does not read"


def test_a_scenarios_request_validates_as_submitted_and_as_run(api_lite: Api, doc: dict[str, Any]) -> None:
    """The body a scenario was submitted with (a vintage, a stored list or the stations
    themselves as its baseline) and, for a job stored without it, the scenario the worker ran
    (the stored list's stations in place of its id) are each a ScenarioRequest."""
    upload = {"name": "망원동 pilot", "stations": TWO_STATIONS}
    stored = api_lite.client.post("/v1/station-lists", json=upload, headers=api_lite.h("planner")).json()
    bodies = [
        SCENARIO,
        ON_TWO | {"baseline": {"station_list_id": stored["id"]}},
        ON_TWO | {"baseline": {"station_records": TWO_STATIONS}},
    ]
    schema = _schema(doc, REQUEST)
    for body in bodies:
        r = api_lite.client.post("/v1/scenarios", json=body, headers=api_lite.h("planner"))
        assert r.status_code == 202, r.text
        got = api_lite.client.get(f"{r.headers['Location']}/request", headers=api_lite.h("viewer"))
        assert got.status_code == 200, got.text
        assert {k: v for k, v in got.json()["baseline"].items() if v is not None} == body["baseline"]
        _validate(doc, schema, got.json())
    url = str(api_lite.client.app.state.settings.database_url)  # type: ignore[attr-defined]
    with session_factory(url)() as s:
        job = s.get(Job, r.json()["id"])
        assert job is not None
        job.inputs = {k: v for k, v in job.inputs.items() if k != "submitted"}  # as jobs stored before
        s.commit()
    ran = api_lite.client.get(f"{r.headers['Location']}/request", headers=api_lite.h("viewer")).json()
    assert [st["station_id"] for st in ran["baseline"]["station_records"]] == ["ST-10", "ST-11"]
    _validate(doc, schema, ran)


def _same_fields(doc: dict[str, Any], ours: dict[str, Any], official: dict[str, Any], at: str) -> None:
    """Every member ``ours`` (the published schema, its references resolved in ``doc``) names is
    one of ``official``'s (the GBFS schema), and every one ``official`` requires ``ours``
    requires, down the objects and arrays."""
    if "$ref" in ours:
        ours = _component(doc, ours)
    if "properties" in ours:
        assert set(ours["properties"]) <= set(official["properties"]), at
        assert set(official.get("required", [])) <= set(ours.get("required", [])), at
        for name, member in ours["properties"].items():
            _same_fields(doc, member, official["properties"][name], f"{at}.{name}")
    elif ours.get("type") == "array":
        _same_fields(doc, ours["items"], official["items"], f"{at}[]")


def test_the_gbfs_models_are_the_official_schemas_fields(doc: dict[str, Any]) -> None:
    """The published models of the GBFS files name only fields of the official GBFS v3.0 schemas
    (``gbfs-validator``'s) and require all that they require; their fixed values are the
    writer's."""
    from mobility.export import gbfs

    for name, model in FILE_MODELS.items():
        _same_fields(doc, {"$ref": f"#/components/schemas/{model.__name__}"}, gbfs.schema(name), name)
    assert get_args(GbfsVersion) == (gbfs.GBFS_VERSION,)
    assert get_args(FeedName) == gbfs.FEEDS and get_args(Language) == gbfs.LANGUAGES


def test_a_plans_gbfs_files_validate(api_lite: Api, doc: dict[str, Any], data_dir: Path) -> None:
    """The four files of a (fake) plan's feed, drawn over the real districts: each validates
    against the route's schema, its own file's model and the official GBFS v3.0 schema."""
    from mobility.export.gbfs import validate

    r = api_lite.client.post("/v1/scenarios", json=SCENARIO, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    job = api_lite.wait(r.headers["Location"])
    assert job["status"] == "succeeded", job
    base = f"{job['links']['self']}/gbfs"
    discovery = api_lite.client.get(f"{base}/gbfs.json", headers=api_lite.h("viewer")).json()
    files = {"gbfs": discovery} | {
        f["name"]: api_lite.client.get(f["url"], headers=api_lite.h("viewer")).json()
        for f in discovery["data"]["feeds"]
    }
    assert set(files) == set(FILE_MODELS)
    assert files["station_information"]["data"]["stations"], "a plan has stations"
    for name, body in files.items():
        _validate(doc, _schema(doc, GBFS), body)
        _validate(doc, {"$ref": f"#/components/schemas/{FILE_MODELS[name].__name__}"}, body)
        assert validate(name, body) == []


def test_the_basemap_style_validates(api_lite: Api, doc: dict[str, Any]) -> None:
    r = api_lite.client.get(STYLE)
    assert r.status_code == 200
    _validate(doc, _schema(doc, STYLE), r.json())
    style = MapStyle.model_validate(r.json())
    assert style.sources["osm"].type == "vector" and style.sources["osm"].minzoom > 0
    assert style.metadata.colors.trucks


def test_the_time_limit_says_what_it_is_and_the_server_counts_so(sqlite_url: str, fake_kinds: None) -> None:
    """A scenario asking for 5 s of solver time gets 2 x 5 + the fixed overhead (900 s by
    default): the number the description works out."""
    keys = keys_for(sqlite_url)
    with TestClient(create_app(make_settings(sqlite_url, job_overhead_seconds=900))) as client:
        api = Api(client, keys)
        doc = client.get("/openapi.json").json()
        text = doc["components"]["schemas"]["JobInfo"]["properties"]["time_limit"]["description"]
        body = SCENARIO | {"solver": {"time_limit": 5}}
        loc = client.post("/v1/scenarios", json=body, headers=api.h("planner")).headers["Location"]
        job = api.wait(loc)
    assert job["status"] == "succeeded" and job["time_limit"] == 910
    assert "job_overhead_seconds" in text and "2 x 5 + 900 = 910" in text


def test_the_job_status_example_is_what_the_schema_says(doc: dict[str, Any]) -> None:
    job = doc["components"]["schemas"]["JobInfo"]
    (example,) = job["examples"]
    _validate(doc, {"$ref": "#/components/schemas/JobInfo"}, example)
    _validate(doc, {"$ref": "#/components/schemas/ScenarioKpis"}, example["kpis"])


# --- each job kind, run for real ---------------------------------------------------------------


def _mapo_snapshot() -> dict[str, Any]:
    """24 real stations of 마포구 (2025-12), every other one empty and the rest full: a night with
    work for two trucks."""
    from mobility.sources.stations import load_station_list

    table = load_station_list("2025-12").table
    rows = table[(table["gu"] == "마포구") & table["station_id"].notna() & table["docks"].notna()].head(24)
    records: list[dict[Any, Any]] = rows.to_dict("records")
    stations = [
        {
            "station_id": r["station_id"],
            "number": int(r["number"]),
            "name": r["name"],
            "lon": float(r["lon"]),
            "lat": float(r["lat"]),
            "docks": int(r["docks"]),
            "bikes": 0 if k % 2 else int(r["docks"]),
        }
        for k, r in enumerate(records)
    ]
    return {"name": "mapo", "date": "2023-06-13", "stations": stations}


SMALL_PLAN = {"new_stations": {"max": 30}, "solver": {"time_limit": 2}, "simulation": {"enabled": False}}
"""The 2019 scenario kept small: 30 new stations, 2 s a solve, no rider simulation."""

JOBS: dict[str, tuple[str, dict[str, Any]]] = {
    "scenario": ("/v1/scenarios", SCENARIO | SMALL_PLAN | {"fleet": {"total_bikes": 20000}}),
    "sweep": (
        "/v1/sweeps",
        {"scenario": SCENARIO | SMALL_PLAN | {"fleet": {"total_bikes": 20000}}, "new_stations": "10:20:10"},
    ),
    "simulation": ("/v1/simulations", {"stations": "2025-12", "day": "2023-06-14", "replications": 2}),
    "fleet": (
        "/v1/simulations",
        {"stations": "2025-12", "day": "2023-06-14", "replications": 2, "fleet": "20000:30000:10000"},
    ),
}
KPIS = {
    "scenario": "ScenarioKpis",
    "rebalancing": "RebalancingKpis",
    "sweep": "SweepKpis",
    "simulation": "SimulationKpis",
    "fleet": "FleetSweepKpis",
}


@pytest.fixture(scope="module")
def real_jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, dict[str, dict[str, Any]]]]:
    """An app with the real job kinds and one succeeded job of each (a rebalancing run with its
    morning after), on the real data; the jobs' statuses by name."""
    url = f"sqlite:///{tmp_path_factory.mktemp('answers') / 'api.sqlite'}"
    keys = keys_for(url)
    run = copy.deepcopy(RUN) | {
        "snapshot": _mapo_snapshot(),
        "time_limit": 2,
        "options": {"network": "straight", "targets": "snapshot"},
        "morning_after": {"replications": 2},
    }
    run["fleet"]["trucks"].append({"id": "T02", "depot": "D1", "capacity": 20})
    submitted = {**JOBS, "rebalancing": ("/v1/rebalancing/runs", run)}
    try:
        with TestClient(create_app(make_settings(url, job_overhead_seconds=300))) as client:
            api = Api(client, keys)
            locations = {}
            for name, (path, body) in submitted.items():
                r = client.post(path, json=body, headers=api.h("admin"))
                assert r.status_code == 202, (name, r.text)
                locations[name] = r.headers["Location"]
            done = {name: api.wait(loc, timeout=600) for name, loc in locations.items()}
            yield api, done
    finally:
        dispose_engine(url)


@pytest.fixture(scope="module")
def real_doc(real_jobs: tuple[Api, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = real_jobs[0].client.get("/openapi.json").json()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KPIS))
def test_each_kinds_status_and_key_figures_validate(
    real_jobs: tuple[Api, dict[str, dict[str, Any]]], real_doc: dict[str, Any], name: str
) -> None:
    api, done = real_jobs
    job = done[name]
    assert job["status"] == "succeeded", job
    status = api.client.get(job["links"]["self"], headers=api.h("viewer")).json()
    path = _route(job["links"]["self"])
    _validate(real_doc, _schema(real_doc, path), status)
    _validate(real_doc, {"$ref": f"#/components/schemas/{KPIS[name]}"}, status["kpis"])
    if name == "rebalancing":
        assert list(status["kpis"]["morning_after"]) == ["no rebalancing", "greedy dispatcher", "ours"]


def _geojson_and_csv(api: Api, doc: dict[str, Any], url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A job result's GeoJSON and CSV (``url``: its JSON document's), each validated as documented:
    the GeoJSON and the CSV's rows."""
    path = _route(url)
    geojson = api.client.get(url, params={"format": "geojson"}, headers=api.h("viewer"))
    assert geojson.headers["content-type"].startswith("application/geo+json")
    _validate(doc, _schema(doc, path, "application/geo+json"), geojson.json())
    body = api.client.get(url, params={"format": "csv"}, headers=api.h("viewer")).content
    return geojson.json(), _validate_csv(doc, _schema(doc, path, "text/csv"), body)


def _validate_layers(api: Api, doc: dict[str, Any], job: dict[str, Any], layers: tuple[str, ...]) -> None:
    """Each of the job's map ``layers`` (``/layers/<layer>.geojson``) validates as documented."""
    path = _route(job["links"]["self"]) + "/layers/{file}"
    for layer in layers:
        r = api.client.get(f"{job['links']['self']}/layers/{layer}.geojson", headers=api.h("viewer"))
        assert r.status_code == 200, (layer, r.text[:200])
        _validate(doc, _schema(doc, path, "application/geo+json"), r.json())


@pytest.mark.slow
def test_a_plans_geojson_csv_and_layers_validate(
    real_jobs: tuple[Api, dict[str, dict[str, Any]]], real_doc: dict[str, Any]
) -> None:
    api, done = real_jobs
    geojson, rows = _geojson_and_csv(api, real_doc, done["scenario"]["links"]["plan"])
    assert {f["properties"]["kind"] for f in geojson["features"]} == {"new", "existing"}
    assert sum(r["kind"] == "new" for r in rows) == done["scenario"]["kpis"]["new_stations"]
    _validate_layers(
        api, real_doc, done["scenario"], ("existing_stations", "new_stations", "coverage", "districts")
    )


@pytest.mark.slow
def test_routes_geojson_csv_sheets_and_layers_validate(
    real_jobs: tuple[Api, dict[str, dict[str, Any]]], real_doc: dict[str, Any]
) -> None:
    api, done = real_jobs
    run = done["rebalancing"]
    geojson, rows = _geojson_and_csv(api, real_doc, run["links"]["routes"])
    assert {f["properties"]["kind"] for f in geojson["features"]} == {"route", "stop", "depot"}
    assert {r["action"] for r in rows} >= {"start 출발", "end 복귀"}
    assert any(r["bikes_before"] is None for r in rows) and any(r["bikes_before"] is not None for r in rows)
    sheets = api.client.get(run["links"]["sheets"], headers=api.h("viewer"))
    assert sheets.status_code == 200
    path = "/v1/rebalancing/runs/{job_id}/sheets/{file}"
    _validate_csv(real_doc, _schema(real_doc, path, "text/csv; charset=utf-8"), sheets.content)
    _validate_layers(api, real_doc, run, ("routes", "stops", "depots"))


@pytest.mark.slow
def test_a_curves_csv_validates(
    real_jobs: tuple[Api, dict[str, dict[str, Any]]], real_doc: dict[str, Any]
) -> None:
    api, done = real_jobs
    sweep = done["sweep"]["links"]["sweep"]
    body = api.client.get(sweep, params={"format": "csv"}, headers=api.h("viewer")).content
    rows = _validate_csv(real_doc, _schema(real_doc, "/v1/sweeps/{job_id}/sweep", "text/csv"), body)
    assert [r["new_stations"] for r in rows] == [p["new_stations"] for p in done["sweep"]["kpis"]["points"]]
