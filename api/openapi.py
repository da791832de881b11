"""The OpenAPI document as the server answers: what FastAPI generates, completed by :func:`complete`.

What FastAPI cannot know is set here, once, when the document is first asked for:

* every 422 is an :class:`~api.schemas.ErrorBody` (the app's validation handler answers with
  it), not FastAPI's ``HTTPValidationError``, which is left out of the components;
* each job kind's result document (``plan.json``, ``routes.json``, ``sweep.json``,
  ``simulation.json`` or a fleet sweep's ``sweep.json``) has the JSON Schema the library
  generates from its model (:data:`DOCUMENTS`), referenced by the ``application/json`` answer
  of the route that serves it (``{base}/{job_id}/{artifact}``, :data:`api.routes.common.JOB_BASES`);
  the route's other media types are those of :func:`api.formats.formats_for`, and its 304 / 404 /
  406 / 409 answers are those of every artifact route;
* the GeoJSON and CSV representations of those documents, the map layers, the route sheets and
  the files of a plan's GBFS feed (:data:`~api.representations.REPRESENTATIONS`, :data:`EXPORTS`)
  have the schemas of their models (:mod:`api.representations`, :mod:`mobility.export.gbfs`): a GeoJSON
  FeatureCollection, a CSV as text whose row model says its columns, one of the four GBFS
  files; a route that sends only GeoJSON (:data:`GEOJSON_ONLY`) has its response model as the
  schema of ``application/geo+json``, not of ``application/json``;
* the headers the server sends (``Location``, ``ETag``, ``Retry-After``) and a job submission's
  200 (an Idempotency-Key replay);
* the routes that take no key (``/healthz``, ``/readyz``, ``/metrics``, the web app's files) have
  no 401 / 403 / 429.

The generated schemas' ``$defs`` become components (renamed ``<Document><Name>`` when a component
of that name already exists with other content), and their ``$ref``\\ s point there.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant

from api.formats import formats_for
from api.representations import LAYERS, REPRESENTATIONS, SHEETS, Representation, csv_schema
from api.routes.common import JOB_BASES
from mobility.export.gbfs import GbfsFeedFile

COMPONENTS = "#/components/schemas/"
ERROR_BODY = {"application/json": {"schema": {"$ref": COMPONENTS + "ErrorBody"}}}
UNUSED_IF_UNREFERENCED = ("HTTPValidationError", "ValidationError")
"""FastAPI's own 422 models: the app never sends them."""


def generated(ref: str) -> Callable[[], dict[str, Any]]:
    """The schema generator ``"module:function"`` (e.g. ``"mobility.placement.plan:plan_json_schema"``),
    imported when the document is first asked for: a library module loads only when its schema is
    generated, not when the app starts."""

    def schema() -> dict[str, Any]:
        module, _, name = ref.partition(":")
        made: dict[str, Any] = getattr(importlib.import_module(module), name)()
        return made

    return schema


@dataclass(frozen=True)
class Document:
    """A result document of a job ``kind``: the ``artifact`` its route serves, the ``component``
    its generated ``schema`` is stored as, ``alternatives``: other documents the same route may
    send, each a ``(component, schema)`` pair as well (documented with ``anyOf``), and the
    representations the route offers (``formats``: registered under that name in
    :mod:`api.formats`; default the kind's)."""

    kind: str
    artifact: str
    component: str
    schema: Callable[[], dict[str, Any]]
    alternatives: list[tuple[str, Callable[[], dict[str, Any]]]] = field(default_factory=list)
    formats: str | None = None


DOCUMENTS: list[Document] = [
    Document("scenario", "plan", "Plan", generated("mobility.placement.plan:plan_json_schema")),
    Document(
        "rebalancing", "routes", "RebalancingPlan", generated("mobility.rebalancing.plan:routes_json_schema")
    ),
    Document(
        "rebalancing",
        "morning",
        "MorningAfter",
        generated("mobility.simulation.morning:morning_json_schema"),
        formats="morning",
    ),
    Document("sweep", "sweep", "Sweep", generated("mobility.placement.sweep:sweep_json_schema")),
    # a simulation with `fleet` is a fleet sweep (`sweep.json` of `mobility simulate sweep`),
    # not the plan's `Sweep`
    Document(
        "simulation",
        "result",
        "SimulationResult",
        generated("mobility.simulation.result:simulation_json_schema"),
        [("SimulationSweep", generated("mobility.simulation.sweep:sweep_json_schema"))],
    ),
]
"""The result documents of the job kinds (the keys of :data:`JOB_BASES`): each kind's main one,
and a rebalancing run's morning after (``morning_after`` in its request)."""


FEED_FILES = Representation(lambda: GbfsFeedFile)
"""A file of a plan's GBFS feed (``/gbfs/{file}``): the models :func:`mobility.export.gbfs.build_feeds`
builds the files through."""

EXPORTS: dict[tuple[str, str], Representation] = {
    **{(f"{JOB_BASES[kind]}/{{job_id}}/layers/{{file}}", "application/geo+json"): LAYERS
       for kind in ("scenario", "rebalancing")},
    (f"{JOB_BASES['rebalancing']}/{{job_id}}/sheets/{{file}}", "text/csv; charset=utf-8"): SHEETS,
    (f"{JOB_BASES['scenario']}/{{job_id}}/gbfs/{{file}}", "application/json"): FEED_FILES,
}  # fmt: skip
"""The exports of :mod:`api.routes.maps` that are GeoJSON, CSV or GBFS JSON, by path and media type."""

GEOJSON_ONLY = ("/v1/stations",)
"""Routes that send their response model as ``application/geo+json`` only."""

GEOJSON = "application/geo+json"

HEADERS = {
    "Location": "Where the created resource or the job is (its path).",
    "ETag": "The representation's tag, for If-None-Match (then 304).",
    "Retry-After": "Seconds until the key may send again.",
}
"""The response headers the server sends, as the document declares them."""

REPLAYED = (
    "The job submitted before with this Idempotency-Key (the same request sent again): the same "
    "answer, with its Location."
)
KEY_ANSWERS = ("401", "403", "429")
"""The answers of a route that takes an API key (:func:`api.auth.require`); public routes have none."""


def _header(name: str) -> dict[str, Any]:
    return {"description": HEADERS[name], "schema": {"type": "string"}}


def public_operations(app: FastAPI) -> frozenset[tuple[str, str]]:
    """``(path, method)`` (lower case) of the routes that take no API key: no dependency of theirs
    is an :func:`api.auth.require` (which carries the ``permission`` it checks)."""

    def keyed(dependant: Dependant) -> bool:
        return any(hasattr(d.call, "permission") or keyed(d) for d in dependant.dependencies)

    return frozenset(
        (str(route.path_format), method.lower())
        for route in routing.iter_route_contexts(app.routes)  # the routes of included routers too
        if isinstance(route.original_route, routing.APIRoute) and not keyed(route.dependant)
        for method in route.methods or ()
    )


def install(app: FastAPI) -> None:
    """Serve :func:`complete` of FastAPI's document as the app's ``/openapi.json`` (built once).

    FastAPI's ``generate`` keeps its raw document in ``app.openapi_schema``: a deep copy of it is
    completed, and only a completed document is kept. When :func:`complete` fails, nothing is
    kept (every request fails the same way, never with a half-completed document).
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            try:
                done = complete(without_key_answers(copy.deepcopy(generate()), public_operations(app)))
            except BaseException:
                app.openapi_schema = None
                raise
            app.openapi_schema = done
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def without_key_answers(doc: dict[str, Any], public: frozenset[tuple[str, str]]) -> dict[str, Any]:
    """``doc`` (changed in place) without the 401 / 403 / 429 the app declares for every route on
    its ``public`` operations (``(path, method)``, :func:`public_operations`): they take no key,
    and answer a bogus one as they answer none."""
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if (path, method) in public and isinstance(operation, dict):
                for code in KEY_ANSWERS:
                    operation.get("responses", {}).pop(code, None)
    return doc


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (FastAPI's OpenAPI document, changed in place) with every 422 an ``ErrorBody``,
    each job kind's result document schema (:data:`DOCUMENTS`) on its artifact route, and the
    headers the server sends (:func:`_declare_headers`)."""
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    for operation in _operations(doc):
        if "422" in operation.get("responses", {}):
            answer = operation["responses"]["422"]
            answer["content"] = copy.deepcopy(ERROR_BODY)
            answer["description"] = "Invalid request: `errors` names each invalid field and its problem."
    for document in DOCUMENTS:
        path = f"{JOB_BASES[document.kind]}/{{job_id}}/{document.artifact}"
        operation = doc["paths"][path]["get"]  # KeyError: the route moved; DOCUMENTS must follow
        refs = [
            add_schema(schemas, component, schema())
            for component, schema in [(document.component, document.schema), *document.alternatives]
        ]
        json_schema = {"anyOf": refs} if len(refs) > 1 else refs[0]
        _artifact_answers(operation, document.formats or document.kind, json_schema, schemas)
    for (path, media), representation in EXPORTS.items():
        content = doc["paths"][path]["get"]["responses"]["200"]["content"]  # KeyError: EXPORTS must follow
        content[media] = {"schema": representation_schema(schemas, representation)}
    for path in GEOJSON_ONLY:
        content = doc["paths"][path]["get"]["responses"]["200"]["content"]
        content[GEOJSON] = content.pop("application/json")
    for operation in _operations(doc):
        _declare_headers(operation.get("responses", {}))
    for name in UNUSED_IF_UNREFERENCED:
        rest = {k: v for k, v in schemas.items() if k != name}
        if name in schemas and not _refers_to({**doc, "components": {"schemas": rest}}, COMPONENTS + name):
            del schemas[name]
    return doc


def _declare_headers(responses: dict[str, Any]) -> None:
    """The headers the server sends, on the answers that carry them: ``Location`` on a 201 (a
    stored upload or key) and on a job submission's 202 and on its 200 (an Idempotency-Key
    replay, :func:`api.routes.common.submit_job`, documented here), ``ETag`` on a 200 that may be
    answered 304, ``Retry-After`` on a 429 (:func:`api.auth.require`)."""
    accepted = responses.get("202", {}).get("content", {}).get("application/json", {}).get("schema")
    if accepted == {"$ref": COMPONENTS + "Accepted"} and "200" not in responses:
        responses["200"] = {"description": REPLAYED, "content": copy.deepcopy(responses["202"]["content"])}
        responses["202"].setdefault("headers", {})["Location"] = _header("Location")
        responses["200"]["headers"] = {"Location": _header("Location")}
    if "201" in responses:
        responses["201"].setdefault("headers", {})["Location"] = _header("Location")
    if "304" in responses:
        for code in ("200", "304"):
            responses.setdefault(code, {"description": "The document."}).setdefault("headers", {})["ETag"] = (
                _header("ETag")
            )
    if "429" in responses:
        responses["429"].setdefault("headers", {})["Retry-After"] = _header("Retry-After")


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in doc.get("paths", {}).values() for op in item.values() if isinstance(op, dict)]


def _artifact_answers(
    operation: dict[str, Any], kind: str, json_schema: dict[str, Any], schemas: dict[str, Any]
) -> None:
    """The answers of a route serving a ``kind`` job's result: 200 in each of the kind's media
    types (JSON with ``json_schema``, the others with their :data:`REPRESENTATIONS`' schemas,
    their models stored in ``schemas``), 304, and the errors of
    :func:`api.routes.common.serve_artifact`."""
    responses = operation.setdefault("responses", {})
    ok = responses.setdefault("200", {"description": "The document."})
    ok["content"] = {}
    for f in formats_for(kind).values():
        other = REPRESENTATIONS.get((kind, f.name))
        schema = json_schema if f.name == "json" else other and representation_schema(schemas, other)
        ok["content"][f.media_type.split(";")[0].strip()] = {"schema": schema} if schema else {}
    responses.setdefault("304", {"description": "Not modified (If-None-Match)."})
    for code, description in (
        ("404", "No such job, or it has no such document."),
        ("406", "No representation the Accept header allows (or ?format= names none)."),
        ("409", "The job has not succeeded (yet)."),
    ):
        responses.setdefault(code, {"description": description, "content": copy.deepcopy(ERROR_BODY)})


def representation_schema(schemas: dict[str, Any], representation: Representation) -> dict[str, Any]:
    """The schema of a GeoJSON or CSV ``representation``: a reference to its model's component
    (stored in ``schemas`` by :func:`component`), or for a CSV the text whose rows that model
    describes (:func:`api.representations.csv_schema`)."""
    model = representation.model()
    ref = component(schemas, model.__name__, model.model_json_schema(mode="serialization"))
    return ref if representation.rows is None else csv_schema(ref, model, representation.rows)


def component(schemas: dict[str, Any], name: str, generated: dict[str, Any]) -> dict[str, str]:
    """:func:`add_schema`, or the component ``name`` when it is there already with the same
    content (the same model, documented by another route or by FastAPI)."""
    if name in schemas:
        alone: dict[str, Any] = {}
        ref = add_schema(alone, name, generated)
        if all(schemas.get(k) == v for k, v in alone.items()):
            return ref
        name = _fresh(name, set(schemas))
    return add_schema(schemas, name, generated)


def add_schema(schemas: dict[str, Any], name: str, generated: dict[str, Any]) -> dict[str, str]:
    """Store a generated document schema as the component ``name``, its ``$defs`` as components
    of their own (a name already taken by other content gets ``name`` as a prefix), every ``$ref``
    rewritten to them; ``$schema`` and ``$id`` are dropped (an ``$id`` would make the references
    resolve against it). The reference to the component."""
    if name in schemas:
        raise ValueError(f"component {name!r} exists already")
    schema = copy.deepcopy(generated)
    defs: dict[str, Any] = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    names = {d: d for d in defs}
    taken = set(schemas) | {name}
    changed = True
    while changed:  # a rename changes the refs of the others: until no definition clashes
        changed = False
        for d, body in defs.items():
            existing = schemas.get(names[d])
            if names[d] == name or (existing is not None and existing != _rewrite(body, names)):
                names[d] = _fresh(f"{name}{d}", taken | set(names.values()))
                changed = True
    for d, body in defs.items():
        schemas[names[d]] = _rewrite(body, names)
    schemas[name] = _rewrite(schema, names)
    return {"$ref": COMPONENTS + name}


def _fresh(candidate: str, taken: set[str]) -> str:
    out, n = candidate, 2
    while out in taken:
        out, n = f"{candidate}{n}", n + 1
    return out


def _rewrite(node: Any, names: dict[str, str]) -> Any:
    """``node`` with each ``#/$defs/X`` reference pointing at the component ``names[X]``."""
    if isinstance(node, dict):
        return {
            k: COMPONENTS + names[v.removeprefix("#/$defs/")]
            if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
            else _rewrite(v, names)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(v, names) for v in node]
    return node


def _refers_to(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_refers_to(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_refers_to(v, ref) for v in node)
    return False
