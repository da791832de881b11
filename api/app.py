"""The FastAPI application: middleware, error handling, lifespan (migrations, job cluster).

``create_app()`` builds an app from :class:`api.settings.ApiSettings`; ``mobility serve`` runs it
with uvicorn. Routers live in :mod:`api.routes` and are listed in :data:`api.routes.ROUTERS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import nul, routes
from api.auth import KeyStore, RateLimiter, record_audit
from api.db import migrate, session_factory
from api.jobs import JobQueue, redact_paths
from api.metrics import LATENCY, REQUESTS
from api.settings import ApiSettings, get_api_settings
from mobility import __version__
from mobility.errors import DataNotFoundError, InputError, shown_value
from mobility.scenario.reading import error_input, expected_of, with_fields

log = logging.getLogger("mobility.api")

DESCRIPTION = """
Seoul bike-share (따릉이) planner and operations API.

* **Planners** submit expansion scenarios (`POST /v1/scenarios`, the schema of `scenarios/*.yaml`)
  and fetch the plans as JSON, GeoJSON or CSV.
* **Operations** submit nightly rebalancing runs (`POST /v1/rebalancing/runs`) and fetch the
  truck routes.
* Jobs run on a Dask cluster; their records live in the database and survive restarts.

Authenticate with `X-API-Key: <key>` (or `Authorization: Bearer <key>`); keys are created with
`mobility keys create --role planner|ops|viewer|admin`.
"""


class _BodyTooLargeError(Exception):
    pass


def _json_bytes(status: int, payload: dict[str, Any]) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return headers, body


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

GIL_SWITCH_SECONDS = 0.0005
"""How long the event loop may keep the GIL while a request thread (a submission, a database
read) waits for it; CPython's default is 5 ms. Such a thread gives the GIL up around each database
call and waits again to take it back. One process, 180 read connections and 20 submitting
(wrk, three runs each, same minute): 0.5 ms against 5 ms gave 3,370-3,530 -> 4,150-4,430
reads/s, read p99 84-99 -> 69-78 ms, submission p50 460 -> 340-365 ms, and less CPU per
request (0.29 -> 0.23-0.24 ms)."""

_REQUEST_IDS = itertools.count()
_PROCESS_TAG = os.urandom(4).hex()


def _replaying(first: Message | None, receive: Receive) -> Receive:
    """``receive`` that answers ``first`` (the body read ahead) once, before the client's messages."""
    pending = [first] if first is not None else []

    async def receive_next() -> Message:
        return pending.pop() if pending else await receive()

    return receive_next


def new_request_id() -> str:
    """A request id unique across processes and restarts: a random tag of the process (8 hex
    digits) and a counter (8 hex digits): a counter costs nothing, ``uuid4()`` ~6 us a request
    (a system call and an object); the id only has to find a request in the logs."""
    return f"{_PROCESS_TAG}{next(_REQUEST_IDS) & 0xFFFFFFFF:08x}"


class GuardMiddleware:
    """Request id, body size limit (413), NUL refusal, latency metrics by route template, audit log
    (pure ASGI).

    A body is read whole before the app runs, so that its size is known however it was sent
    (Content-Length or chunked: 413 beyond ``max_body``, before any handler runs) and so that it
    can be searched for NUL characters with the path and the query string (:mod:`api.nul`); the
    app then reads it from memory. A request with neither Content-Length nor Transfer-Encoding
    has no body (RFC 9112, section 6.3). A request with NULs is refused by
    :func:`api.auth.require` once the caller is known, or here, in place of the answer of a
    route that never asked for a key.

    Every write request that presented a valid key is appended to the audit log once its
    response is sent (:func:`api.auth.record_audit`), whatever the outcome (403s included),
    unless the route wrote the entry in its own transaction (a job submission).
    """

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status_holder: dict[str, Any] = {"status": 500, "started": False, "location": None, "refused": False}

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                for name, value in message.get("headers", []):
                    if name.lower() == b"location":
                        status_holder["location"] = value.decode("latin-1")
                message.setdefault("headers", [])
                message["headers"] = [*list(message["headers"]), (b"x-request-id", request_id.encode())]
            await send(message)

        async def reject(status: int, detail: str) -> None:
            headers, body = _json_bytes(status, {"detail": detail, "errors": [], "request_id": request_id})
            await send_wrapped({"type": "http.response.start", "status": status, "headers": headers})
            await send_wrapped({"type": "http.response.body", "body": body})

        try:
            pending = await self._read_body(scope, receive)
        except (_BodyTooLargeError, ValueError) as exc:  # nothing has run: nothing to audit
            if isinstance(exc, _BodyTooLargeError):
                await reject(413, f"request body larger than {self.max_body} bytes")
            else:
                await reject(400, "invalid Content-Length")
            self._observe(scope, status_holder["status"], start)
            return
        found = nul.find(scope, None if pending is None else pending.get("body"))
        if found:  # taken and answered by api.auth.require, or by send_app
            state[nul.FINDINGS] = found

        async def send_app(message: Message) -> None:
            if status_holder["refused"]:  # the answer of a route that was not to run
                return
            if message["type"] == "http.response.start" and nul.FINDINGS in state:
                status_holder["refused"] = True  # no route asked for a key: refused here
                response = await _nul_refusal(scope, nul.take(scope) or [])
                start_message = {"type": "http.response.start", "status": response.status_code}
                await send_wrapped(start_message | {"headers": list(response.raw_headers)})
                await send_wrapped({"type": "http.response.body", "body": bytes(response.body)})
                return
            await send_wrapped(message)

        try:
            await self.app(scope, _replaying(pending, receive), send_app)
        finally:  # an unhandled error is answered 500 further out, and counted and audited as such
            self._observe(scope, status_holder["status"], start)
            if scope.get("method") in WRITE_METHODS:
                await self._audit(scope, status_holder, request_id)

    async def _read_body(self, scope: Scope, receive: Receive) -> Message | None:
        """The request's body as one ``http.request`` message (or the client's ``http.disconnect``
        when it left first); ``None`` when the request has no body.

        Raises
        ------
        _BodyTooLargeError
            The body is announced (Content-Length) or found (chunked) larger than ``max_body``.
        ValueError
            The Content-Length is not a number of bytes.
        """
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        size = None if length is None else int(length)
        if size is not None and size < 0:
            raise ValueError(length)
        if size is not None and size > self.max_body:
            raise _BodyTooLargeError
        if not size and b"transfer-encoding" not in headers:
            return None
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_body:
                raise _BodyTooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    @staticmethod
    async def _audit(scope: Scope, outcome: dict[str, Any], request_id: str) -> None:
        state = scope.get("state", {})
        principal = state.get("principal")
        app = scope.get("app")
        if principal is None or app is None:  # no valid key: nothing was done in anyone's name
            return
        if state.get("audited"):  # written with the change itself (api.routes.common.submit_job)
            return
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        try:
            await asyncio.to_thread(
                record_audit,
                app.state.sessions,
                principal,
                method=scope["method"],
                route=route,
                path=scope.get("path", ""),
                status=int(outcome["status"]),
                target=outcome["location"],
                request_id=request_id,
            )
        except Exception as exc:  # the response is sent; the failure must be visible in the log
            log.error(
                "audit log not written for %s %s by key %s (%s)",
                scope["method"],
                scope.get("path"),
                principal.key_id,
                type(exc).__name__,
            )

    @staticmethod
    def _observe(scope: Scope, status: int, start: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "?")
        LATENCY.labels(method, template).observe(time.perf_counter() - start)
        REQUESTS.labels(method, template, str(status)).inc()


def _request_id(request: Request) -> str | None:
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else None


def _field_of(loc: tuple[Any, ...] | list[Any], error: dict[str, Any] | None = None, body: Any = None) -> str:
    """The dotted field of a validation error, as the client wrote it: the tag pydantic puts in
    the location of a discriminated union's member (``source.plan.job_id``) is left out
    (``source.job_id``), and a bad or missing tag names the tag field (``source.kind``)."""
    if error is not None and error.get("type") == "json_invalid":
        return "body"  # FastAPI's location is ("body", <character offset>), not a field
    parts: list[str] = []
    node: Any = {"body": body}
    last = len(loc) - 1
    for n, p in enumerate(loc):
        # a member's tag is followed by the member's field; a missing field is the last element,
        # so a missing field named like one of its siblings' values is never taken for a tag
        tag = isinstance(node, dict) and isinstance(p, str) and p not in node and p in node.values()
        if n < last and tag:
            continue  # the member's tag, not a field of the body
        parts.append(str(p))
        if isinstance(node, dict):
            node = node.get(p)
        elif isinstance(node, list) and isinstance(p, int) and 0 <= p < len(node):
            node = node[p]
        else:
            node = None
    if error is not None and error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        parts.append(str((error.get("ctx") or {}).get("discriminator", "")).strip("'\""))
    return ".".join(p for p in parts if p) or "(root)"


def _shown(error: dict[str, Any]) -> str:
    """The value a validation error is about, as a 422 quotes it: ``nothing`` for a missing field
    (or tag), ``{...}`` / ``[...]`` for an object or a list, the tag of an unknown member of a
    union (``'file'``; :func:`~mobility.scenario.reading.error_input`), bytes never (a body of
    another Content-Type is :func:`_content_type_error`), anything else as ``repr`` cut
    (:func:`mobility.errors.shown_value`)."""
    if error.get("type") in ("missing", "union_tag_not_found"):
        return "nothing"
    value = error_input(error)
    if isinstance(value, bytes | bytearray):
        return "(the body's bytes)"
    return shown_value(value)


JSON_BODY = "Content-Type: application/json (the body as JSON)"
"""What a route that reads a JSON body expects of a body of another Content-Type."""


def _content_type_error(error: dict[str, Any], request: Request) -> dict[str, Any]:
    """``error`` itself, or for a body FastAPI did not read as JSON (its Content-Type is not JSON,
    or none is given: the route's model then gets the body's bytes) an error about the
    ``Content-Type`` header (``header.content-type``), which says the type sent and the one
    expected, never the body. Every other bad body is a 422 too (:func:`validation_handler`)."""
    if tuple(error.get("loc", ())) != ("body",) or not isinstance(error.get("input"), bytes | bytearray):
        return error
    given = request.headers.get("content-type")
    sent = "nothing" if given is None else shown_value(given)
    problem = f"got {sent}; expected {JSON_BODY}"
    return {"loc": ("header", "content-type"), "msg": problem, "type": "content_type"}


def _problem(error: dict[str, Any], request: Request) -> str:
    """``got <value>; expected <what>`` (:func:`~mobility.scenario.reading.expected_of`, the words
    of the CLI's messages); the project's own errors already say both. A
    body that is not JSON says where the parser stopped and why (``json.JSONDecodeError``'s own
    words, never the body's text)."""
    msg = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid":
        loc, why = tuple(error.get("loc", ())), (error.get("ctx") or {}).get("error")
        at = f"at character {loc[-1]}: " if len(loc) == 2 and isinstance(loc[-1], int) else ""
        return f"got (not JSON); expected a JSON body ({at}{why or 'JSON decode error'})"
    if msg.startswith(("got ", "missing; ")) or "; got " in msg or ": got " in msg:
        return msg
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "extra_forbidden" and loc[:1] == ("body",):  # the fields there, as the CLI says
        error = error | {"ctx": with_fields(error | {"loc": loc[1:]}, _body_model(request)).get("ctx")}
    return f"got {_shown(error)}; expected {expected_of(error)}"  # as the CLI says it


def _body_model(request: Request) -> type[BaseModel] | None:
    """The model of the route's JSON body (its fields name what a misspelt key may have meant)."""
    field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _consequential(error: dict[str, Any], errors: list[dict[str, Any]]) -> bool:
    """A tuple's "at least N items after validation" that only follows from its items' own errors
    (pydantic drops the invalid items, then counts): not a problem of the request."""
    ctx = error.get("ctx") or {}
    loc = tuple(error.get("loc", ()))
    given = error.get("input")
    if error.get("type") != "too_short" or not isinstance(given, list | tuple):
        return False
    if int(ctx.get("actual_length", len(given))) >= len(given):
        return False
    return any(
        tuple(e.get("loc", ()))[: len(loc)] == loc and len(e.get("loc", ())) > len(loc) for e in errors
    )


MAX_PROBLEMS = 50
"""Invalid fields a 422 lists at most."""


async def validation_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 naming every invalid field, the value sent and what is expected."""
    assert isinstance(exc, RequestValidationError)
    raw = [_content_type_error(dict(e), request) for e in exc.errors()]
    errors = [
        {
            "field": _field_of(e.get("loc", ()), e, exc.body),
            "problem": _problem(e, request),
            "type": str(e.get("type", "")),
        }
        for e in raw
        if not _consequential(e, raw)
    ][:MAX_PROBLEMS]
    return _invalid_request(request, errors)


def _invalid_request(request: Request, errors: list[dict[str, str]]) -> JSONResponse:
    """The 422 listing ``errors`` (``field``, ``problem``, ``type``), the first five in its detail."""
    summary = "; ".join(f"{e['field']}: {e['problem']}" for e in errors[:5])
    return JSONResponse(
        {"detail": f"invalid request: {summary}", "errors": errors, "request_id": _request_id(request)},
        status_code=422,
    )


UNPARSED_BODY = "There was an error parsing the body"
"""FastAPI's 400 for a JSON body its parser gave up on other than by a syntax error."""


def _unparsed_body(exc: StarletteHTTPException) -> str | None:
    """Why FastAPI could not parse a JSON body, in the words of a body that is not JSON
    (:func:`_problem`), when ``exc`` is its 400 for one: ``json.loads`` raises ``RecursionError``
    for a body nested too deeply (``[`` x 100,000) and ``UnicodeDecodeError`` for one that is not
    UTF-8, which FastAPI answers 400 without a field, where a syntax error is a 422 on ``body``."""
    cause = exc.__cause__
    if exc.status_code != 400 or exc.detail != UNPARSED_BODY or cause is None:
        return None
    if isinstance(cause, RecursionError):
        why = "nested too deeply to parse"
    elif isinstance(cause, UnicodeDecodeError):
        why = f"not UTF-8 text at byte {cause.start}"
    else:
        why = type(cause).__name__
    return f"got (not JSON); expected a JSON body ({why})"


async def http_handler(request: Request, exc: Exception) -> JSONResponse:
    """HTTP errors raised by routes, in the common error body; FastAPI's 400 for a body it could
    not parse is a 422 on ``body``, as a body that is not JSON is (:func:`_unparsed_body`)."""
    assert isinstance(exc, StarletteHTTPException)
    unparsed = _unparsed_body(exc)
    if unparsed is not None:
        return _invalid_request(request, [{"field": "body", "problem": unparsed, "type": "json_invalid"}])
    errors = []
    if isinstance(exc, routes.common.FieldError):
        errors.append({"field": exc.field, "problem": exc.problem, "type": "value_error"})
    return JSONResponse(
        {"detail": str(exc.detail), "errors": errors, "request_id": _request_id(request)},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def input_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A library InputError: 422 with its field."""
    assert isinstance(exc, InputError)
    field, problem = routes.common.input_problem(exc)
    return JSONResponse(
        {
            "detail": f"{field}: {problem}",
            "errors": [{"field": field, "problem": problem, "type": "input_error"}],
            "request_id": _request_id(request),
        },
        status_code=422,
    )


async def data_missing_handler(request: Request, exc: Exception) -> JSONResponse:
    """Data the server lacks: 503 without the server's paths."""
    assert isinstance(exc, DataNotFoundError)
    return JSONResponse(
        {
            "detail": f"{redact_paths(exc.what)} is not available on this server",
            "errors": [],
            "request_id": _request_id(request),
        },
        status_code=503,
    )


async def _nul_refusal(scope: Scope, found: list[nul.Finding]) -> JSONResponse:
    """The answer to a request with NULs (:func:`api.nul.refusal`) in the common error body."""
    exc = nul.refusal(found)
    if isinstance(exc, RequestValidationError):
        return await validation_handler(Request(scope), exc)
    return await http_handler(Request(scope), exc)


async def internal_handler(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: logged with its traceback, answered without it."""
    rid = _request_id(request)
    log.error("unhandled error in %s %s (request %s)", request.method, request.url.path, rid, exc_info=exc)
    return JSONResponse({"detail": "internal server error", "errors": [], "request_id": rid}, status_code=500)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the application (the job cluster starts with the app's lifespan)."""
    settings = settings or get_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        await asyncio.to_thread(migrate, settings.database_url)
        queue = JobQueue(settings)
        app.state.queue = queue
        reaper: asyncio.Task[None] | None = None
        if settings.run_jobs:
            await asyncio.to_thread(queue.start)
            await asyncio.to_thread(queue.recover)
            reaper = asyncio.create_task(queue.reaper(max(1.0, settings.stale_after_seconds / 2)))
        # The modules and the app are loaded: out of the collector's sight now, before the first
        # request, not in it (a first full collection took 0.35 s of the event loop, on the first
        # plan a visitor opened, on the 2-core AVX2 machine).
        routes.common.settle_heap()
        if settings.warm_web:
            from api.web.router import warm_up

            threading.Thread(target=warm_up, name="web-warm-up", daemon=True).start()
        try:
            yield
        finally:
            if reaper is not None:
                reaper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reaper
            await asyncio.to_thread(queue.close)

    app = FastAPI(
        title="mobility API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs is the web router's: Swagger UI from this server, not a CDN
        redoc_url=None,  # ReDoc would load from a CDN: /docs serves the same document offline
        responses={
            401: {"model": routes.common.ErrorBody, "description": "Missing or invalid API key."},
            403: {"model": routes.common.ErrorBody, "description": "The key's role may not do this."},
            429: {"model": routes.common.ErrorBody, "description": "Rate limit exceeded."},
        },
    )
    app.state.settings = settings
    app.state.sessions = session_factory(settings.database_url)
    app.state.keys = KeyStore(app.state.sessions, settings.key_cache_seconds)
    app.state.limiter = RateLimiter(settings.rate_limit, settings.rate_limit_storage)
    app.state.artifact_cache = routes.common.ArtifactCache(max_bytes=256 * 2**20)
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_handler)
    app.add_exception_handler(InputError, input_error_handler)
    app.add_exception_handler(DataNotFoundError, data_missing_handler)
    app.add_exception_handler(Exception, internal_handler)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
            expose_headers=["Location", "ETag", "X-Request-Id", "Retry-After"],
        )
    app.add_middleware(GuardMiddleware, max_body=settings.max_body_bytes)
    for router in routes.ROUTERS:
        app.include_router(router)
    from api.openapi import install as install_openapi  # every 422 an ErrorBody; result schemas

    install_openapi(app)
    return app
