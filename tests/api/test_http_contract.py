"""The HTTP contract: the OpenAPI document says what the server sends, and the artifact routes
negotiate their representation, encoding and conditional answers as RFC 9110 says.

* The document is a valid OpenAPI 3.1 document whose every ``$ref`` resolves and whose every
  schema is a valid JSON Schema; every 422 is an ``ErrorBody`` (an actual 422 validates against
  it); each job kind's result route references the schema the library generates for its
  document, and what the server sends validates against it.
* ``Accept`` by quality (``q=0`` refuses, the higher ``q`` wins, nothing acceptable is a 406),
  ``Accept-Encoding`` by quality, ``If-None-Match`` as a list with weak comparison and ``*``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
import schemathesis

from api import jobs
from api.formats import accepts_encoding, negotiate
from api.routes.common import JOB_BASES, none_match
from mobility.placement.plan import Plan, plan_json_schema
from mobility.placement.sweep import sweep_json_schema
from mobility.rebalancing.plan import RebalancingPlan, routes_json_schema
from mobility.simulation.result import simulation_json_schema
from tests.api.api_support import FAKE_PLAN, FAKE_ROUTES, RUN, SCENARIO, Api

# --- the OpenAPI document -------------------------------------------------------------------------

ARTIFACT_ROUTES: dict[str, tuple[str, Callable[[], dict[str, Any]], set[str]]] = {
    "scenario": ("plan", plan_json_schema, {"application/json", "application/geo+json", "text/csv"}),
    "rebalancing": ("routes", routes_json_schema, {"application/json", "application/geo+json", "text/csv"}),
    "sweep": ("sweep", sweep_json_schema, {"application/json", "text/csv"}),
    "simulation": ("result", simulation_json_schema, {"application/json"}),
}
"""Each job kind's result route: its artifact, the library's schema of the document, its media types."""


@pytest.fixture
def doc(api_lite: Api) -> dict[str, Any]:
    out: dict[str, Any] = api_lite.client.get("/openapi.json").json()
    return out


def _pointer(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield f"{method.upper()} {path}", op


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator of ``schema`` whose ``#/components/...`` references resolve in ``doc``."""
    return jsonschema.Draft202012Validator(schema | {"components": doc["components"]})


def test_the_document_is_valid_openapi_and_every_reference_resolves(doc: dict[str, Any]) -> None:
    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI 3.1 meta-schema
    refs = set(_refs(doc["paths"])) | set(_refs(doc["components"]))
    unresolved = []
    for ref in sorted(refs):
        try:
            _pointer(doc, ref)
        except (KeyError, AssertionError):
            unresolved.append(ref)
    assert not unresolved
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "$defs" not in json.dumps(schema), name  # moved to the components


def test_every_422_is_an_error_body(api_lite: Api, doc: dict[str, Any]) -> None:
    documented = {
        name: op["responses"]["422"]["content"]["application/json"]["schema"]
        for name, op in _operations(doc)
        if "422" in op["responses"]
    }
    assert len(documented) >= 37
    assert {json.dumps(s) for s in documented.values()} == {'{"$ref": "#/components/schemas/ErrorBody"}'}
    assert not {"HTTPValidationError", "ValidationError"} & set(doc["components"]["schemas"])
    r = api_lite.client.get("/v1/scenarios?limit=0", headers=api_lite.h("viewer"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"
    _validator(doc, documented["GET /v1/scenarios"]).validate(r.json())


def _json_schema(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    artifact = ARTIFACT_ROUTES[kind][0]
    ok = doc["paths"][f"{JOB_BASES[kind]}/{{job_id}}/{artifact}"]["get"]["responses"]["200"]
    assert set(ok["content"]) == ARTIFACT_ROUTES[kind][2]
    schema: dict[str, Any] = ok["content"]["application/json"]["schema"]
    return schema


@pytest.mark.parametrize("kind", sorted(ARTIFACT_ROUTES))
def test_each_result_route_has_its_documents_generated_schema(doc: dict[str, Any], kind: str) -> None:
    schema = _json_schema(doc, kind)
    ref = schema["anyOf"][0] if "anyOf" in schema else schema  # a simulation: a day or a fleet sweep
    component = _pointer(doc, ref["$ref"])
    generated = ARTIFACT_ROUTES[kind][1]()
    assert component["title"] == generated["title"]
    assert component["properties"].keys() == generated["properties"].keys()
    assert component.get("required") == generated.get("required")
    op = doc["paths"][f"{JOB_BASES[kind]}/{{job_id}}/{ARTIFACT_ROUTES[kind][0]}"]["get"]
    assert {"200", "304", "404", "406", "409"} <= set(op["responses"])


def _as_written(kind: str) -> dict[str, Any]:
    """The fake solvers' document as the library writes it (``to_dict``: computed fields too)."""
    if kind == "scenario":
        return Plan.from_dict(FAKE_PLAN).to_dict()
    return RebalancingPlan.model_validate(FAKE_ROUTES).to_dict()


@pytest.mark.parametrize("kind", ["scenario", "rebalancing"])
def test_served_documents_validate_against_the_documented_schema(
    api_lite: Api, doc: dict[str, Any], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact = ARTIFACT_ROUTES[kind][0]
    written = _as_written(kind)  # once: its provenance's created_at is the time of writing

    def solver(inputs: dict[str, Any], ctx: jobs.JobContext) -> jobs.JobOutput:
        body = json.dumps(written, ensure_ascii=False).encode()
        return jobs.JobOutput(
            result={"kpis": {}, "links": {artifact: artifact}},
            artifacts={artifact: ("application/json", body)},
        )

    monkeypatch.setitem(jobs._KINDS, kind, solver)
    body, role = (SCENARIO, "planner") if kind == "scenario" else (RUN, "ops")
    loc = api_lite.client.post(JOB_BASES[kind], json=body, headers=api_lite.h(role)).headers["Location"]
    assert api_lite.wait(loc)["status"] == "succeeded"
    served = api_lite.client.get(f"{loc}/{artifact}", headers=api_lite.h("viewer")).json()
    assert served == written
    _validator(doc, _json_schema(doc, kind)).validate(served)


# --- links ------------------------------------------------------------------------------------------

UNDOCUMENTED_BODIES: dict[str, tuple[str, bytes]] = {
    "POST /v1/keys": ("application/json", json.dumps({"role": "viewer", "name": "link check"}).encode()),
    "POST /v1/rebalancing/snapshots/csv": (
        "text/csv",
        "station_id,name,bikes\nST-4,망원역 1번출구 앞,3\n".encode(),
    ),
    "POST /v1/station-lists/csv": (
        "text/csv",
        "station_id,name,lat,lon,docks\nST-10,망원역 1번출구 앞,37.5556,126.9105,15\n".encode(),
    ),
}
"""A valid body for each creating operation whose request body has no documented example."""


def _example_body(name: str, op: dict[str, Any]) -> tuple[str, bytes]:
    """The first documented example of ``op``'s request body (media type, bytes)."""
    if name in UNDOCUMENTED_BODIES:
        return UNDOCUMENTED_BODIES[name]
    (media, content), *_ = op["requestBody"]["content"].items()
    example = next(iter(content["examples"].values()))["value"]
    return media, json.dumps(example, ensure_ascii=False).encode()


def _running_until_cancelled(_inputs: dict[str, Any], ctx: jobs.JobContext) -> jobs.JobOutput:
    """A job of any kind that runs until it is cancelled (at most 60 s)."""
    ctx.stop_event.wait(60)
    raise jobs.JobCancelledError("cancelled")


def test_every_documented_link_resolves(
    api_lite: Api, doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every operation that creates something (201, 202) documents links to what it created, and
    each link, followed from the answer to the operation's documented example, reaches that
    resource rather than a 404: a client or a stateful fuzzer can walk the API by its links.
    The links are followed while the jobs run (a result not there yet, not missing), then each
    job is cancelled and ends: a real simulation or sweep, which stops only at its next step,
    outlived the app (the suite's guard failed the test in CI)."""
    for kind in list(jobs._KINDS):
        monkeypatch.setitem(jobs._KINDS, kind, _running_until_cancelled)
    creating = {
        name: (op, code)
        for name, op in _operations(doc)
        for code in ("201", "202")
        if code in op["responses"] and name.startswith("POST")
    }
    assert len(creating) >= 9
    followed = []
    started: list[str] = []
    for name, (op, code) in sorted(creating.items()):
        links = op["responses"][code].get("links")
        assert links, f"{name} documents no links"
        media, body = _example_body(name, op)
        r = api_lite.client.post(
            name.split(" ", 1)[1], content=body, headers=api_lite.h("admin", **{"Content-Type": media})
        )
        assert r.status_code == int(code), (name, r.status_code, r.text[:300])
        if code == "202":
            started.append(r.headers["Location"])
        for link_name, link in links.items():
            pointer = link["operationRef"].removeprefix("#/paths/")
            path, method = unquote(pointer).rsplit("/", 1)
            path = path.replace("~1", "/").replace("~0", "~")
            assert method in doc["paths"][path], (link_name, link["operationRef"])
            ((param, expression),) = link["parameters"].items()
            assert expression == "$response.body#/id"
            url = path.replace("{" + param + "}", r.json()["id"])
            got = api_lite.client.request(method.upper(), url, headers=api_lite.h("admin"))
            assert got.status_code != 404 and got.status_code < 500, (
                name,
                link_name,
                got.status_code,
                got.text[:300],
            )
            followed.append((name, link_name))
    assert len(followed) >= 17
    for location in started:
        api_lite.client.delete(location, headers=api_lite.h("admin"))
    for location in started:
        assert api_lite.wait(location, role="admin")["status"] == "cancelled", location


# --- negotiation, encoding, conditional requests ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fmt", "accept", "expected"),
    [
        ("rebalancing", None, None, "json"),
        ("rebalancing", None, "", "json"),
        ("rebalancing", None, "*/*", "json"),
        ("rebalancing", None, "application/geo+json", "geojson"),
        ("rebalancing", None, "application/geo+json;q=0", None),  # q=0: not acceptable
        ("rebalancing", None, "application/geo+json;q=0, */*;q=0.1", "json"),
        ("rebalancing", None, "text/csv;q=0.1, application/geo+json;q=0.9", "geojson"),
        ("rebalancing", None, "text/csv; charset=utf-8; q=0.5, application/json;q=0.4", "csv"),
        ("rebalancing", None, "*/*;q=0.9, application/json;q=0", "geojson"),  # the specific range decides
        ("rebalancing", None, "text/*", "csv"),
        ("rebalancing", None, "TEXT/CSV;Q=1", "csv"),
        ("rebalancing", None, "text/csv;q=2, application/geo+json", "geojson"),  # bad q: item left out
        ("rebalancing", None, "image/png", None),
        ("rebalancing", "csv", "image/png", "csv"),  # ?format= wins over Accept
        ("simulation", None, "text/csv", None),
        ("simulation", None, "text/csv, application/json;q=0.2", "json"),
    ],
)
def test_negotiate(kind: str, fmt: str | None, accept: str | None, expected: str | None) -> None:
    import api.routes.simulations  # noqa: F401  (registers the simulation's format)

    f = negotiate(kind, fmt, accept)
    assert (f.name if f else None) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP;Q=0.5", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, br", False),
        ("identity", False),
        ("br, *;q=0.1", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),  # the coding named outranks *
        ("deflate, gzip", True),
    ],
)
def test_accepts_encoding(header: str | None, expected: bool) -> None:
    assert accepts_encoding(header, "gzip") is expected


ETAG = '"0123abcd-json"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        (ETAG, True),
        (f'"x", {ETAG}', True),
        (f'"x",{ETAG}, "y"', True),
        (f"W/{ETAG}", True),
        (f'"x", W/{ETAG}', True),
        ("*", True),
        (' "x" ', False),
        ('"0123abcd-json-gz"', False),
        (ETAG[:-1], False),
    ],
)
def test_none_match(header: str | None, expected: bool) -> None:
    assert none_match(header, ETAG) is expected
    assert none_match(header, f"W/{ETAG}") is expected  # weak comparison: both sides


@pytest.fixture
def routes_url(api_lite: Api) -> str:
    loc: str = api_lite.client.post("/v1/rebalancing/runs", json=RUN, headers=api_lite.h("ops")).headers[
        "Location"
    ]
    assert api_lite.wait(loc)["status"] == "succeeded"
    return f"{loc}/routes"


def test_routes_accept_header(api_lite: Api, routes_url: str) -> None:
    def get(accept: str | None, query: str = "") -> Any:
        extra = {} if accept is None else {"Accept": accept}
        return api_lite.client.get(routes_url + query, headers=api_lite.h("viewer", **extra))

    for refused in ("application/geo+json;q=0", "image/png"):
        r = get(refused)
        assert r.status_code == 406, (refused, r.status_code)
        assert "application/geo+json" in r.json()["detail"] and r.json()["errors"] == []
    r = get("text/csv;q=0.1, application/geo+json;q=0.9")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    for default in ("*/*", None):
        r = get(default)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.json() == FAKE_ROUTES
    r = get("image/png", "?format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "Accept" in r.headers["vary"]


def test_routes_accept_encoding_and_if_none_match(api_lite: Api, routes_url: str) -> None:
    def get(**headers: str) -> Any:
        return api_lite.client.get(routes_url, headers=api_lite.h("viewer", **headers))

    gz = get(**{"Accept-Encoding": "gzip"})
    assert gz.headers.get("content-encoding") == "gzip"  # large enough to be compressed
    refused = get(**{"Accept-Encoding": "gzip;q=0"})
    assert refused.status_code == 200 and "content-encoding" not in refused.headers
    assert refused.json() == FAKE_ROUTES
    etag = refused.headers["etag"]
    for tags in (f'"x", {etag}', f"W/{etag}", "*"):
        r = get(**{"Accept-Encoding": "identity", "If-None-Match": tags})
        assert r.status_code == 304, tags
        assert r.content == b"" and r.headers["etag"] == etag
    assert get(**{"Accept-Encoding": "identity", "If-None-Match": '"x"'}).status_code == 200


def test_simulation_result_without_csv_is_406(api_lite: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_simulation(inputs: dict[str, Any], ctx: jobs.JobContext) -> jobs.JobOutput:
        return jobs.JobOutput(
            result={"kpis": {}, "links": {"result": "result"}},
            artifacts={"result": ("application/json", b'{"points": []}')},
        )

    monkeypatch.setitem(jobs._KINDS, "simulation", fake_simulation)
    body = {"source": {"kind": "vintage", "stations": "2025-12"}, "day": "2023-06-14", "replications": 1}
    r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    assert api_lite.wait(loc)["status"] == "succeeded"
    csv = api_lite.client.get(f"{loc}/result", headers=api_lite.h("viewer", Accept="text/csv"))
    assert csv.status_code == 406 and "application/json" in csv.json()["detail"]
    plain = api_lite.client.get(f"{loc}/result", headers=api_lite.h("viewer"))
    assert plain.status_code == 200 and plain.json() == {"points": []}
