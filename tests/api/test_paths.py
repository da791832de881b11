"""No server paths over HTTP: every body field that can reach a loader takes published names only.

Three layers, each of which would fail if the protection broke:

1. the named fields (``baseline.stations``, ``coverage.network``) refuse path-like values with a
   422 naming the field, and no job is created;
2. every string field of every request body in the OpenAPI document is either closed (an enum,
   a const or a pattern) or a free-text label listed in :data:`LABELS`; a new job type with an
   open string field fails here until it is typed with :class:`api.schemas.Published` (or listed
   as a label with a reason);
3. every string in every route's example body, replaced by a server path, is refused, unless it
   is a label; a label that is accepted never makes a job read a file.

The worker validates a stored scenario again, and a failed job's error carries neither a path
nor anything read from a file.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from cachetools import LRUCache

from api.jobs import JobContext, public_error, redact_paths
from api.runners import run_scenario
from api.schemas import is_path_like, published_names
from mobility.errors import DataFileError, DataNotFoundError, InputError
from tests.api.api_support import SCENARIO, Api

PATHS = [
    "/etc/passwd",
    "../../../../etc/passwd",
    "..",
    "ttareungi/stations_2019-12-09.csv",
    "stations_2019-12-09.csv",
    "./2019-12",
    "~root/.ssh/id_rsa",
    "C:\\Windows\\win.ini",
    "file:///etc/passwd",
    "osm\\seoul_best_graph.graphml.gz",
    "2019-12\x00",
]

# Free-text labels: stored and echoed, never handed to a loader (property name -> reason).
LABELS: dict[str, str] = {
    "name": "a display name of a scenario, snapshot, station, depot or key",
    "description": "free text shown with a scenario",
    "station_id": "an identifier inside the caller's own snapshot",
    "gu": "a district label of a station in the caller's own snapshot, stored and echoed",
    "source": "a snapshot's note of where its counts come from (bikeList, a derivation), stored and echoed",
    "id": "an identifier of a depot or truck inside the caller's own body",
    "depot": "refers to a depot id inside the same body",
    "snapshot_id": "looked up as a primary key in the database (stored uploads), never as a file",
    "currency": "a label of the budget",
    "exclude_highways": "OSM highway tags compared with the network's own attributes",
    "per_district": "district names (dict keys) compared with the data's district names",
    "min_new_stations": "district names (dict keys) compared with the data's district names",
}


def _post_scenario(api: Api, body: dict[str, Any]) -> Any:
    return api.client.post("/v1/scenarios", json=body, headers=api.h("admin"))


def _jobs(api: Api) -> int:
    total: int = api.client.get("/v1/scenarios", headers=api.h("viewer")).json()["total"]
    return total


@pytest.mark.parametrize("value", PATHS)
def test_baseline_path_refused_before_any_job(api_lite: Api, value: str) -> None:
    body = copy.deepcopy(SCENARIO)
    body["baseline"] = {"stations": value}
    r = _post_scenario(api_lite, body)
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["body.baseline.stations"], r.text
    problem = r.json()["errors"][0]["problem"]
    assert "2019-12" in problem  # says what is accepted
    assert repr(value[:80]) in problem and "{value" not in problem  # and quotes what was sent
    assert "root:" not in r.text and _jobs(api_lite) == 0


@pytest.mark.parametrize("value", [*PATHS, "seoul_best_graph", "OSM-ALL"])
def test_coverage_network_path_refused(api_lite: Api, value: str) -> None:
    body = copy.deepcopy(SCENARIO) | {"coverage": {"radius_m": 300, "network": value}}
    r = _post_scenario(api_lite, body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["body.coverage.network"]
    assert _jobs(api_lite) == 0


def test_published_names_accepted(api_lite: Api) -> None:
    for vintage in published_names("station_list"):
        assert _post_scenario(api_lite, SCENARIO | {"baseline": {"stations": vintage}}).status_code == 202
    for net in published_names("network"):
        body = SCENARIO | {"coverage": {"network": net}}
        assert _post_scenario(api_lite, body).status_code == 202, net


def test_names_come_from_the_library() -> None:
    from mobility.network.graph import NAMED_SOURCES
    from mobility.sources.stations import STATION_VINTAGES

    assert published_names("station_list") == tuple(STATION_VINTAGES)
    assert published_names("network") == tuple(NAMED_SOURCES)
    assert not any(is_path_like(n) for n in (*STATION_VINTAGES, *NAMED_SOURCES))
    assert all(is_path_like(p) for p in PATHS)


# --- every body of every route ----------------------------------------------------------------------


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _open_strings(schema: dict[str, Any], doc: dict[str, Any], where: str, seen: set[str]) -> Iterator[str]:
    """Dotted names of the string fields of ``schema`` that take any value."""
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            return
        seen = seen | {ref}
    schema = _resolve(schema, doc)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _open_strings(sub, doc, where, seen)
    kind = schema.get("type")
    if kind == "string" and not ({"enum", "const", "pattern", "format"} & set(schema)):
        yield where
    if kind == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            yield from _open_strings(sub, doc, f"{where}.{name}", seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            yield from _open_strings(extra, doc, f"{where}.*", seen)
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, dict):
            yield from _open_strings(items, doc, f"{where}[]", seen)
        for sub in schema.get("prefixItems", []):
            yield from _open_strings(sub, doc, f"{where}[]", seen)


def _bodies(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = (op.get("requestBody") or {}).get("content", {})
            for media, spec in content.items():
                if "json" in media:
                    yield method.upper(), path, spec


def _label_of(field: str) -> str:
    """The property a dotted field belongs to (``body.fleet.trucks[].depot`` -> ``depot``)."""
    parts = [p.rstrip("[]") for p in field.split(".") if p not in ("*",)]
    if field.endswith(".*"):  # a dict's values: its property name
        return parts[-1]
    return parts[-1]


def test_every_open_string_field_is_a_listed_label(api_lite: Api) -> None:
    doc = api_lite.client.get("/openapi.json").json()
    found: dict[str, list[str]] = {}
    for method, path, spec in _bodies(doc):
        for field in _open_strings(spec["schema"], doc, "body", set()):
            found.setdefault(f"{method} {path}", []).append(field)
    unlisted = {route: [f for f in fields if _label_of(f) not in LABELS] for route, fields in found.items()}
    unlisted = {k: v for k, v in unlisted.items() if v}
    assert not unlisted, (
        "open string fields: type them with api.schemas.Published (StationListName, NetworkName) "
        f"or list them in LABELS with a reason: {unlisted}"
    )
    assert "POST /v1/scenarios" in found and "POST /v1/rebalancing/runs" in found


def _string_leaves(value: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield where
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _string_leaves(v, (*where, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _string_leaves(v, (*where, i))


def _set(body: Any, where: tuple[Any, ...], value: str) -> Any:
    out = copy.deepcopy(body)
    node = out
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = value
    return out


@pytest.mark.usefixtures("every_kind_faked")  # a body that passes starts a job: a fake one
def test_path_in_every_example_field_is_refused(api_lite: Api) -> None:
    """Each string of each example body, set to a server path: 422 naming it, or a label."""
    doc = api_lite.client.get("/openapi.json").json()
    tried = 0
    for method, path, spec in _bodies(doc):
        if "{" in path:
            continue
        examples = [e["value"] for e in (spec.get("examples") or {}).values() if "value" in e]
        examples += _resolve(spec["schema"], doc).get("examples", [])
        for example in examples:
            for where in _string_leaves(example):
                key = next((k for k in reversed(where) if isinstance(k, str)), "")
                r = api_lite.client.request(
                    method, path, json=_set(example, where, "/etc/passwd"), headers=api_lite.h("admin")
                )
                tried += 1
                if key in LABELS:
                    assert r.status_code < 500, r.text
                    continue
                assert r.status_code == 422, f"{method} {path} {where}: {r.status_code} {r.text[:300]}"
                fields = [e["field"] for e in r.json()["errors"]]
                assert any(f.startswith("body." + ".".join(map(str, where))) for f in fields), fields
    assert tried >= 10


# --- the worker and the errors it reports -----------------------------------------------------------


def test_worker_revalidates_a_stored_scenario() -> None:
    """A job stored with a path (e.g. before this rule) fails with the field named, reading nothing."""
    inputs = {"name": "x", "scenario": SCENARIO | {"baseline": {"stations": "/etc/passwd"}}}
    with pytest.raises(InputError) as info:
        run_scenario(inputs, JobContext("j", 10.0))
    assert info.value.field == "baseline.stations"


def test_public_errors_quote_no_file() -> None:
    err = public_error(DataFileError("/etc/passwd", "found columns ['root:x:0:0:root:/root:/bin/bash']"))
    assert "passwd" not in str(err) and "root" not in str(err)
    err = public_error(DataNotFoundError("street network 'x'", ["/work/shared/data/osm/x"], "hint /a/b"))
    assert "/work" not in str(err) and "hint" not in str(err)
    err = public_error(InputError("source", "/srv/data/x.csv", "a .graphml under /srv/data"))
    assert "/srv" not in str(err) and err["field"] == "source"
    assert redact_paths("speed 20 km/h at 22:00") == "speed 20 km/h at 22:00"


def test_failed_job_error_has_no_path(api_lite: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: a job kind that hits an unreadable file reports it without path or content."""
    from api import jobs

    def unreadable(inputs: dict[str, Any], ctx: JobContext) -> Any:
        raise DataFileError("/srv/secret/stations.csv", "found columns ['root:x:0:0']")

    monkeypatch.setitem(jobs._KINDS, "scenario", unreadable)
    loc = _post_scenario(api_lite, SCENARIO).headers["Location"]
    done = api_lite.wait(loc)
    assert done["status"] == "failed" and done["error"]["type"] == "DataFileError"
    assert "/srv" not in str(done) and "root:" not in str(done)


def test_missing_data_answer_names_no_path(api_lite: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that finds data missing gets a 503 naming the dataset, not where it was looked for."""
    from api.routes import data

    def missing(*args: Any) -> Any:
        raise DataNotFoundError("station list /srv/data/stations.csv", ["/srv/data"], "copy it to /srv/data")

    monkeypatch.setattr(data, "_stations_body", missing)
    monkeypatch.setattr(data, "_bodies", LRUCache(maxsize=64))  # an earlier test may have served the list
    r = api_lite.client.get("/v1/stations", headers=api_lite.h("viewer"))
    assert r.status_code == 503 and "station list" in r.json()["detail"]
    assert "/srv" not in r.text
