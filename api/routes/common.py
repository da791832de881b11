"""Helpers shared by the job routes: creating jobs with idempotency, job views, artifact serving."""

from __future__ import annotations

import asyncio
import gc
import gzip
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from cachetools import LRUCache
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, audit_entry, require
from api.db import writing
from api.db.models import Base, Job, JobArtifact, Snapshot, StationList
from api.formats import accepts_encoding, formats_for, negotiate
from api.jobs import JobQueue
from api.metrics import JOBS_SUBMITTED
from api.schemas import Accepted, ErrorBody, JobError, JobInfo, JobPage, JobStatus
from mobility.errors import InputError, cut_text, given_text
from mobility.scenario.reading import plain_words

U = TypeVar("U", Snapshot, StationList)
V = TypeVar("V", bound=BaseModel)
R = TypeVar("R", bound=Base)
T = TypeVar("T")

__all__ = [
    "EXPORT_LINKS",
    "JOB_BASES",
    "ArtifactCache",
    "ErrorBody",
    "FieldError",
    "IdempotencyKey",
    "accepted_response",
    "add_artifact_route",
    "add_job_routes",
    "cancel",
    "check_time_limit",
    "created_responses",
    "csv_upload",
    "get_job",
    "input_problem",
    "job_info",
    "job_status",
    "links_to",
    "list_jobs",
    "page_of",
    "public_view",
    "serve_artifact",
    "stored_input",
    "submission",
    "submit_job",
    "upload_route",
]

JOB_BASES: dict[str, str] = {
    "scenario": "/v1/scenarios",
    "rebalancing": "/v1/rebalancing/runs",
    "sweep": "/v1/sweeps",
    "simulation": "/v1/simulations",
}
"""Where the jobs of each kind live: ``{base}`` lists them, ``{base}/{job_id}`` is one of them."""

IDEMPOTENCY_MAX = 200
FINAL = frozenset({"succeeded", "failed", "cancelled"})
"""Job states that never change again (every later write is guarded by ``status = running``)."""

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=IDEMPOTENCY_MAX,
        description="Repeat a submission safely: the same key and body return the same job (409 "
        "if the body differs).",
    ),
]


class FieldError(HTTPException):
    """A 422 about one named field (``query.bbox``, ``body.time_limit``), listed in ``errors``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(422, f"{field}: {problem}")
        self.field = field
        self.problem = problem


_BRACKETED = re.compile(r"\[([^\[\]]*)\]")


def input_problem(error: InputError) -> tuple[str, str]:
    """A library :class:`~mobility.errors.InputError` as a 422 lists it: ``(field, problem)``.

    The problem says the value sent (``missing``, or ``got`` it as
    :func:`~mobility.errors.shown_value` quotes it: at most 60 characters, a list by its length)
    and what was expected. A key in the field that comes from an upload (``body[ST-4].bikes``) is
    cut the same way, so a 422 never echoes a file's long line, cell or header whole. An
    expectation in pydantic's words (a snapshot's ``Input should be a valid integer``) is said in
    the CLI's (:func:`~mobility.scenario.reading.plain_words`)."""
    field = _BRACKETED.sub(lambda m: f"[{cut_text(m.group(1))}]", error.field)
    return field, f"{given_text(error.value)}; expected {plain_words(error.expected)}"


def artifact_responses(what: str, formats: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a route that serves a job's result (:func:`serve_artifact`) in the
    representations registered for ``formats``; the JSON Schema of the document is set by
    :func:`api.openapi.complete`."""
    media = [f.media_type.split(";")[0].strip() for f in formats_for(formats).values()]
    return {
        200: {
            "content": {m: {} for m in media},
            "description": f"The {what} (format from ?format= or the Accept header).",
        },
        304: {"description": "Not modified (If-None-Match)."},
        404: {"model": ErrorBody},
        406: {"model": ErrorBody},
        409: {"model": ErrorBody},
    }


CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "contentMediaType": "text/csv"}}},
    }
}
"""``openapi_extra`` of a route whose body is a CSV file (read from the raw request body)."""


def created_responses(
    description: str, param: str, *, too_large: bool = False, **targets: tuple[str, str]
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a route that stores what it is sent (a key, a snapshot, a station
    list): 201 with ``description`` and :func:`links_to` ``targets`` from its ``param``, 413 when
    the body may be ``too_large``, 422."""
    return {
        201: {"description": description, "links": links_to(param, **targets)},
        **({413: {"model": ErrorBody}} if too_large else {}),
        422: {"model": ErrorBody},
    }


def links_to(param: str, **targets: tuple[str, str]) -> dict[str, Any]:
    """OpenAPI links from a response's ``id`` to the operations that take it as ``param``.

    ``targets``: link name -> (method, path template), e.g. ``GetScenario=("GET",
    "/v1/scenarios/{job_id}")``. Clients and stateful fuzzing (schemathesis) follow them from a
    submission to its status, results and cancellation; use it in ``responses={202: {...}}``.
    """
    out: dict[str, Any] = {}
    for name, (method, path) in targets.items():
        pointer = path.replace("~", "~0").replace("/", "~1")  # then percent-encoded: a URI reference
        ref = "#/paths/" + quote(pointer, safe="~") + "/" + method.lower()
        out[name] = {"operationRef": ref, "parameters": {param: "$response.body#/id"}}
    return out


def accepted_response(kind: str, noun: str, result: str, result_link: str | None = None) -> dict[str, Any]:
    """The 202 answer of a ``kind`` job submission, with its links (status, result, cancel).

    ``noun`` names the links (``Scenario`` -> ``GetScenario``, ``CancelScenario``); ``result`` is
    the sub-path of the main result (``plan`` -> ``GetPlan`` to ``{base}/{job_id}/plan``), and
    ``result_link`` the result's link name when ``Get{Result}`` would be the job's own (a sweep's
    ``sweep``).
    """
    base = JOB_BASES[kind]
    return {
        "description": "Queued: the job and where to poll it.",
        "links": links_to(
            "job_id",
            **{
                f"Get{noun}": ("GET", f"{base}/{{job_id}}"),
                result_link or f"Get{result.title()}": ("GET", f"{base}/{{job_id}}/{result}"),
                f"Cancel{noun}": ("DELETE", f"{base}/{{job_id}}"),
            },
        ),
    }


def _request_hash(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def public_view(model: type[V], row: object, **computed: Any) -> V:
    """``model`` (a public view) from the attributes of the database ``row`` named like its fields;
    ``computed`` gives the fields the row does not hold, or holds in another form."""
    copied = {f: getattr(row, f) for f in model.model_fields if f not in computed and hasattr(row, f)}
    return model(**copied, **computed)


_MAPS = {"map.html": "map.html", "map.png": "map.png", "map.svg": "map.svg"}
EXPORT_LINKS: dict[str, dict[str, str]] = {
    "scenario": {**_MAPS, "gpkg": "plan.gpkg", "gbfs": "gbfs/gbfs.json"},
    "rebalancing": {**_MAPS, "gpkg": "routes.gpkg", "sheets": "sheets/routes_all.csv"},
}
"""The exports of a succeeded plan or run (:mod:`api.routes.maps`: drawn on first request, then
stored) by link name, listed in the job's ``links`` so a client need not build their paths."""


def job_info(job: Job, base: str) -> JobInfo:
    """Public view of a job row: ``links`` has the job itself and, once it succeeded, its result
    and its exports (:data:`EXPORT_LINKS`)."""
    links = {"self": f"{base}/{job.id}"}
    result = job.result or {}
    if job.status == "succeeded":
        for name, sub in {**(result.get("links") or {}), **EXPORT_LINKS.get(job.kind, {})}.items():
            links[str(name)] = f"{base}/{job.id}/{sub}"
    return public_view(
        JobInfo,
        job,
        name=(job.inputs or {}).get("name"),
        kpis=result.get("kpis") if job.status == "succeeded" else None,
        notes=[str(n) for n in result.get("notes") or ()] if job.status == "succeeded" else [],
        error=JobError(**{k: v for k, v in job.error.items() if k in ("type", "message", "field")})
        if job.error and job.status in ("failed", "cancelled")
        else None,
        links=links,
    )


def submit_job(
    request: Request,
    response: Response,
    *,
    kind: str,
    inputs: dict[str, Any],
    principal: Principal,
    idempotency_key: str | None,
    time_limit: float,
) -> Accepted:
    """The answer of every job submission: insert a queued job (or find the one with the same
    Idempotency-Key) and say where it is (202 with its Location; 200 for a job submitted before).

    A new job's audit entry (202, its Location ``{base}/{id}`` with the kind's :data:`JOB_BASES`) is
    written in the same transaction, so a submission costs one database write, not two
    (:class:`api.app.GuardMiddleware` writes the entry of every other write request after its answer)."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= IDEMPOTENCY_MAX:
        raise FieldError("header.Idempotency-Key", f"must have 1..{IDEMPOTENCY_MAX} characters")
    sessions: sessionmaker[Session] = request.app.state.sessions
    digest = _request_hash(inputs)
    base = JOB_BASES[kind]

    def existing(s: Session) -> Job | None:
        if idempotency_key is None:
            return None
        return s.scalar(
            select(Job).where(
                Job.owner_key_id == principal.key_id, Job.kind == kind, Job.idempotency_key == idempotency_key
            )
        )

    def conflict_or(job: Job) -> Accepted:
        if job.request_hash != digest:
            raise HTTPException(409, "Idempotency-Key already used with a different request body")
        response.status_code = 200
        return _accepted(response, job, base)

    with writing(sessions), sessions() as s:
        found = existing(s)
        if found is not None:
            return conflict_or(found)
        job = Job(
            id=uuid.uuid4().hex,
            kind=kind,
            status="queued",
            progress=0.0,
            author=principal.name,
            owner_key_id=principal.key_id,
            idempotency_key=idempotency_key,
            request_hash=digest,
            inputs=inputs,
            time_limit=time_limit,
            attempts=0,
            cancel_requested=False,
        )
        s.add(job)
        s.add(  # the write and its audit entry, in one transaction (the guard then writes none)
            audit_entry(
                principal,
                method=request.method,
                route=getattr(request.scope.get("route"), "path", None) or request.url.path,
                path=request.url.path,
                status=202,
                target=f"{base}/{job.id}",
                request_id=getattr(request.state, "request_id", None),
            )
        )
        try:
            s.commit()
        except IntegrityError:  # the same key raced us
            s.rollback()
            found = existing(s)
            if found is None:
                raise
            return conflict_or(found)
    request.state.audited = True
    JOBS_SUBMITTED.labels(kind).inc()
    queue: JobQueue = request.app.state.queue
    if request.app.state.settings.run_jobs:
        queue.submit(job.id, job.attempts)
    return _accepted(response, job, base)


def _accepted(response: Response, job: Job, base: str) -> Accepted:
    location = f"{base}/{job.id}"
    response.headers["Location"] = location
    return Accepted(id=job.id, status=job.status, location=location)


def check_time_limit(request: Request, limit: float, field: str) -> None:
    """422 naming ``field`` when a submission asks for more solver time than this server allows."""
    maximum = request.app.state.settings.max_time_limit
    if limit > maximum:
        raise FieldError(field, f"{limit:g} s is above this server's maximum of {maximum:g} s")


def submission(
    router: APIRouter,
    path: str,
    summary: str,
    *,
    accepted: dict[str, Any] | None = None,
    not_found: bool = False,
) -> Callable[[Callable[..., Accepted]], Callable[..., Accepted]]:
    """The decorator of a job submission route (``POST``, 202 :class:`~api.schemas.Accepted`, see
    :func:`submit_job`) with the answers every submission shares: 409 (Idempotency-Key reused with
    another body), 413 (body too large), 422 (invalid body); ``accepted`` documents the 202 (its
    links, :func:`accepted_response`), ``not_found`` a 404 for a stored input named by id."""
    responses: dict[int | str, dict[str, Any]] = {} if accepted is None else {202: accepted}
    if not_found:
        responses[404] = {"model": ErrorBody}
    responses |= {code: {"model": ErrorBody} for code in (409, 413, 422)}
    return router.post(path, status_code=202, response_model=Accepted, summary=summary, responses=responses)


def cancel(request: Request, kind: str, base: str, job_id: str) -> JSONResponse:
    """Cancel a job of any kind: a queued one at once (200), a running one by request (202; it
    stops before its next step); 409 once it has finished."""
    job = get_job(request, kind, job_id)
    if job.status in FINAL:
        raise HTTPException(409, f"job {job_id} already {job.status}")
    request.app.state.queue.cancel(job_id)
    job = get_job(request, kind, job_id)
    code = 202 if job.status == "running" else 200
    return JSONResponse(job_info(job, base).model_dump(mode="json"), status_code=code)


def stored_upload(request: Request, model: type[U], record_id: str, error: Callable[[], Exception]) -> U:
    """The stored upload (snapshot, station list) with this id, or ``error()`` raised."""
    with request.app.state.sessions() as s:
        rec = s.get(model, record_id[:64])
    if rec is None:
        raise error()
    return rec


STORED: dict[type[Base], tuple[str, str]] = {
    Snapshot: ("snapshot", "/v1/rebalancing/snapshots"),
    StationList: ("station list", "/v1/station-lists"),
}
"""What a body names by id, by stored model: its noun and the listing that shows the ids."""


def stored_input(request: Request, model: type[U], record_id: str, field: str) -> U:
    """The stored upload (snapshot, station list) a body names by id, or a 422 naming ``field``
    (``body.snapshot_id``) when no such upload is stored: the same answer for every job kind."""
    noun, listing = STORED[model]
    return stored_upload(
        request,
        model,
        record_id,
        lambda: FieldError(field, f"got {record_id!r}; expected the id of a stored {noun} (GET {listing})"),
    )


def upload_route(
    router: APIRouter, path: str, model: type[V], summary: str
) -> Callable[[Callable[..., V]], Callable[..., V]]:
    """The decorator of the ``GET`` of one stored upload (snapshot, station list) by its id: 200
    ``model``, 404 (:class:`~api.schemas.ErrorBody`) when no upload has the id (:func:`upload_or_404`)."""
    return router.get(path, response_model=model, summary=summary, responses={404: {"model": ErrorBody}})


def upload_or_404(request: Request, record: type[U], record_id: str, noun: str) -> U:
    """The stored upload (snapshot, station list) with this id, or 404 ``no {noun} '<id>'`` (the
    id quoted to 64 characters, as job ids are)."""
    return stored_upload(
        request, record, record_id, lambda: HTTPException(404, f"no {noun} {record_id[:64]!r}")
    )


async def csv_upload(request: Request, what: str, parse: Callable[[bytes], T]) -> T:
    """``parse(body)`` of a CSV upload (``what`` it holds, for the 422 when the body is empty), run
    in a worker thread: pandas parses the table, not the event loop that serves every request."""
    raw = await request.body()
    if not raw.strip():
        raise FieldError("body", f"empty; expected {what} as CSV")
    return await run_in_threadpool(parse, raw)


def get_job(request: Request, kind: str, job_id: str) -> Job:
    """The job or 404."""
    if len(job_id) > 64:
        raise HTTPException(404, f"no {kind} job {job_id[:64]!r}")
    with request.app.state.sessions() as s:
        job: Job | None = s.get(Job, job_id)
    if job is None or job.kind != kind:
        raise HTTPException(404, f"no {kind} job {job_id!r}")
    return job


def _job_status_body(
    sessions: sessionmaker[Session], kind: str, job_id: str, base: str
) -> tuple[bytes, str] | None:
    with sessions() as s:
        job: Job | None = s.get(Job, job_id)
        if job is None or job.kind != kind:
            return None
        return job_info(job, base).model_dump_json().encode(), job.status


async def job_status(request: Request, kind: str, job_id: str, base: str) -> Response:
    """A job's :class:`~api.schemas.JobInfo` as JSON; 404 if there is no such job of ``kind``.

    A finished job's answer never changes, so its bytes are kept in the artifact cache and later
    reads cost neither a database query nor a thread; a queued or running job is read each time.
    """
    if len(job_id) > 64:
        raise HTTPException(404, f"no {kind} job {job_id[:64]!r}")
    cache: ArtifactCache = request.app.state.artifact_cache
    key = (job_id, "status", base)
    hit = cache.get(key)
    if hit is not None:
        return Response(hit[0], media_type="application/json")
    loaded = await run_in_threadpool(_job_status_body, request.app.state.sessions, kind, job_id, base)
    if loaded is None:
        raise HTTPException(404, f"no {kind} job {job_id!r}")
    body, status = loaded
    if status in FINAL:
        cache.put(key, (body, "application/json", ""))
    return Response(body, media_type="application/json")


def list_jobs(
    request: Request, kind: str, base: str, status: str | None, author: str | None, limit: int, offset: int
) -> JobPage:
    """A page of jobs of one kind, newest first."""
    cond = [Job.kind == kind]
    if status:
        cond.append(Job.status == status)
    if author:
        cond.append(Job.author == author)
    total, items = page_of(
        request, Job, lambda j: job_info(j, base), cond, (Job.created_at.desc(), Job.id), (limit, offset)
    )
    return JobPage(items=items, total=total, limit=limit, offset=offset)


def page_of(
    request: Request,
    model: type[R],
    view: Callable[[R], V],
    where: Sequence[Any],
    order_by: Sequence[Any],
    window: tuple[int, int],
) -> tuple[int, list[V]]:
    """How many ``model`` rows match ``where``, and the ``window`` (limit, offset) of them in
    ``order_by`` order, each as ``view(row)``: the one query behind every listing (jobs,
    snapshots, station lists)."""
    limit, offset = window
    with request.app.state.sessions() as s:
        total = s.scalar(select(func.count()).select_from(model).where(*where)) or 0
        rows = s.scalars(select(model).where(*where).order_by(*order_by).limit(limit).offset(offset)).all()
        return int(total), [view(r) for r in rows]


def _jobs_path(router: APIRouter, kind: str) -> str:
    """The path of ``kind`` jobs inside ``router`` (``""`` or ``"/runs"``), from :data:`JOB_BASES`."""
    base = JOB_BASES[kind]
    if not base.startswith(router.prefix):
        raise ValueError(f"{kind} jobs live at {base}, outside the router's {router.prefix}")
    return base.removeprefix(router.prefix)


def _add_list_route(router: APIRouter, kind: str, noun: str, name: str) -> None:
    """``GET {base}``: a page of ``kind`` jobs, newest first, by status and author (read role);
    the same query parameters and answer (:class:`~api.schemas.JobPage`) for every job kind."""

    def list_route(
        request: Request,
        _p: Annotated[Principal, Depends(require("read"))],
        status: JobStatus | None = None,
        author: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> JobPage:
        return list_jobs(request, kind, JOB_BASES[kind], status, author, limit, offset)

    list_route.__name__ = name
    list_route.__doc__ = f"Page through {noun}, optionally by status and author (the key's name)."
    router.get(_jobs_path(router, kind), response_model=JobPage, summary=f"List {noun} (newest first)")(
        list_route
    )


def add_job_routes(
    router: APIRouter, kind: str, *, noun: str, listed_as: str, write_role: str, shows: str
) -> None:
    """The operations every job kind has, with the same answers and errors for each kind:
    ``GET {base}`` (a page of ``listed_as``, operation ``list_{noun}s``; :func:`_add_list_route`),
    ``GET {base}/{job_id}`` (status, progress, what it ``shows`` once succeeded, the error once
    failed; read role) and ``DELETE {base}/{job_id}`` (:func:`cancel`; ``write_role``)."""
    _add_list_route(router, kind, listed_as, f"list_{noun}s")
    base = JOB_BASES[kind]
    path = _jobs_path(router, kind)

    async def get_route(
        request: Request, job_id: str, _p: Annotated[Principal, Depends(require("read"))]
    ) -> Response:
        return await job_status(request, kind, job_id, base)

    def cancel_route(request: Request, job_id: str) -> JSONResponse:  # write_role: see router.delete below
        return cancel(request, kind, base, job_id)

    get_route.__name__ = f"get_{noun}"
    get_route.__doc__ = f"One {noun}: status and progress; {shows} once succeeded; the error once failed."
    cancel_route.__name__ = f"cancel_{noun}"
    cancel_route.__doc__ = (
        "Cancel: a queued job at once (200), a running one by request (202; it stops before its next step)."
    )
    router.get(
        path + "/{job_id}",
        response_model=JobInfo,
        summary=f"Status, progress, {shows} or error",
        responses={404: {"model": ErrorBody}},
    )(get_route)
    router.delete(
        path + "/{job_id}",
        response_model=JobInfo,
        summary=f"Cancel a {noun}",
        dependencies=[Depends(require(write_role))],
        responses={202: {"model": JobInfo}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    )(cancel_route)


def add_artifact_route(
    router: APIRouter, kind: str, artifact: str, *, summary: str, doc: str, formats: str | None = None
) -> None:
    """``GET {base}/{job_id}/{artifact}`` (operation ``get_{artifact}``): the stored ``artifact`` of a
    succeeded ``kind`` job in the representations registered for ``formats`` (default: ``kind``'s;
    read role; :func:`serve_artifact`), saved as ``{artifact}-{job id[:12]}``. Its ``?format=``
    takes, and its OpenAPI parameter lists, those representations only (the morning's ``json``,
    a plan's ``json``, ``geojson`` and ``csv``): register them (:func:`api.formats.register_format`)
    before the route."""
    names = tuple(formats_for(formats or kind))
    if not names:
        raise ValueError(f"no format registered for {formats or kind!r}")

    async def artifact_route(
        request: Request,
        job_id: str,
        _p: Annotated[Principal, Depends(require("read"))],
        format: str | None = None,
    ) -> Response:
        return await serve_artifact(
            request,
            kind=kind,
            job_id=job_id,
            artifact=artifact,
            fmt=format,
            filename=f"{artifact}-{job_id[:12]}",
            formats=formats,
        )

    choices: Any = Literal.__getitem__(names)  # this route's formats only (OpenAPI's enum)
    artifact_route.__annotations__["format"] = choices | None
    artifact_route.__doc__ = doc
    path = f"{_jobs_path(router, kind)}/{{job_id}}/{artifact}"
    responses = artifact_responses(artifact, formats or kind)
    router.get(path, name=f"get_{artifact}", summary=summary, responses=responses)(artifact_route)


class ArtifactCache:
    """Serialized representations of finished jobs (immutable once written), least recently used
    first out when their bytes exceed ``max_bytes`` (a :class:`cachetools.LRUCache` sized by bytes)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: LRUCache[tuple[str, str, str], tuple[bytes, str, str]] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda value: len(value[0])
        )
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> tuple[bytes, str, str] | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[str, str, str], value: tuple[bytes, str, str]) -> None:
        with self._lock:
            if key not in self._items and len(value[0]) <= self.max_bytes:
                self._items[key] = value


_filling: dict[tuple[str, str, str], asyncio.Lock] = {}


async def cached(
    cache: ArtifactCache, key: tuple[str, str, str], make: Callable[[], Awaitable[tuple[bytes, str, str]]]
) -> tuple[bytes, str, str]:
    """``cache[key]``, made once by ``make`` when missing: concurrent requests for the same
    missing entry wait for that one (a plan's first GeoJSON or gzip is not made fifty times)."""
    hit = cache.get(key)
    if hit is not None:
        return hit
    lock = _filling.setdefault(key, asyncio.Lock())
    try:
        async with lock:
            hit = cache.get(key)
            if hit is None:
                hit = await make()
                cache.put(key, hit)
                settle_heap()
    finally:
        _filling.pop(key, None)
    return hit


def settle_heap() -> None:
    """Move what the process holds now (modules, cached documents) out of the garbage collector's
    sight (:func:`gc.freeze`): after a large load, collections would otherwise rescan it on every
    few requests. Called once at start-up (the app's lifespan, then the web warm-up), so that the
    first full collection is not a visitor's wait, and after each cache fill, which is rare."""
    gc.collect()
    gc.freeze()


def _load_artifact(
    sessions: sessionmaker[Session], kind: str, job_id: str, name: str
) -> tuple[str, bytes, str] | None:
    with sessions() as s:
        job = s.get(Job, job_id)
        if job is not None and job.kind != kind:
            job = None
        status = job.status if job is not None else None
        art = s.get(JobArtifact, (job_id, name)) if status == "succeeded" else None
    if job is None:
        return None
    return (status or "", art.body if art else b"", art.sha256 if art else "")


def not_acceptable(kind: str, fmt: str | None) -> HTTPException:
    """The 406 of a ``kind`` artifact request that names no representation it has (``?format=``
    ``fmt``, or else the Accept header), with those it has."""
    offered = formats_for(kind).values()
    if fmt:
        return HTTPException(406, f"format {fmt!r} not available; use {', '.join(o.name for o in offered)}")
    media = ", ".join(o.media_type.split(";")[0] for o in offered)
    return HTTPException(406, f"the Accept header allows none of {media}; accept one, or use ?format=")


async def serve_artifact(
    request: Request,
    *,
    kind: str,
    job_id: str,
    artifact: str,
    fmt: str | None,
    filename: str,
    formats: str | None = None,
) -> Response:
    """Serve a stored artifact of a ``kind`` job in the negotiated format among ``formats``'s
    (default ``kind``'s; :func:`api.formats.negotiate`; 406 when none fits), from memory after the
    first read; ETag/304, gzip (:func:`send_bytes`)."""
    f = negotiate(formats or kind, fmt, request.headers.get("accept"))
    if f is None:
        raise not_acceptable(formats or kind, fmt)
    cache: ArtifactCache = request.app.state.artifact_cache
    key = (job_id, artifact, f.name)
    if len(job_id) > 64:
        raise HTTPException(404, f"no {kind} job")

    async def make() -> tuple[bytes, str, str]:
        loaded = await run_in_threadpool(_load_artifact, request.app.state.sessions, kind, job_id, artifact)
        if loaded is None:
            raise HTTPException(404, f"no {kind} job {job_id!r}")
        status, body, sha = loaded
        if status != "succeeded":
            raise HTTPException(409, f"job {job_id} is {status}; results exist once it has succeeded")
        if not body:
            raise HTTPException(404, f"job {job_id} has no {artifact}")
        data = body if f.name == "json" else await run_in_threadpool(f.convert, body)
        return (data, f.media_type, f'"{sha[:32]}-{f.name}"')

    data, media_type, etag = await cached(cache, key, make)
    headers = {
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": f'inline; filename="{filename}.{f.filename_suffix}"',
        "Vary": "Accept, Accept-Encoding",
    }
    return await send_bytes(request, cache, key, (data, media_type, etag), headers)


_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (RFC 9110 §13.1.2): ``*``, or a list of
    entity tags one of which equals it by weak comparison (``W/`` ignored on both sides)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == ours for tag in _ENTITY_TAG.findall(if_none_match))


async def send_bytes(
    request: Request,
    cache: ArtifactCache | None,
    key: tuple[str, str, str],
    hit: tuple[bytes, str, str],
    headers: dict[str, str],
    *,
    compress: bool = True,
    min_gzip: int = 256,
) -> Response:
    """Send ``hit`` (bytes, media type, ETag): 304 when the client has it (:func:`none_match`),
    gzip-encoded when the client accepts it (:func:`api.formats.accepts_encoding`; compressed once,
    then kept in ``cache`` under ``key`` + ``+gzip``). The one path for every stored representation
    the API serves."""
    data, media_type, etag = hit
    if compress and len(data) > min_gzip and accepts_encoding(request.headers.get("accept-encoding"), "gzip"):
        raw, gz_etag = data, etag[:-1] + '-gz"'

        async def make() -> tuple[bytes, str, str]:
            return (await run_in_threadpool(gzip.compress, raw, 6), media_type, gz_etag)

        if cache is None:
            gz = await make()
        else:
            gz = await cached(cache, (key[0], key[1], key[2] + "+gzip"), make)
        data, etag = gz[0], gz[2]
        headers["Content-Encoding"] = "gzip"
    headers["ETag"] = etag
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=media_type, headers=headers)
