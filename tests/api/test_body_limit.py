"""The body size limit (``MOBILITY_MAX_BODY_BYTES``, 200,000 bytes in the tests): 413 in the
project's error body whether the size is announced (Content-Length) or only found while reading
(``Transfer-Encoding: chunked``), for JSON and CSV routes alike, and nothing stored.

A chunked JSON body used to get FastAPI's 400 "There was an error parsing the body": FastAPI reads
the body inside a ``try`` that turns any exception of the receive channel into a 400.
:class:`api.app.GuardMiddleware` now reads the body whole before the app runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from api.app import GuardMiddleware
from tests.api.api_support import RUN, Api

LIMIT = 200_000  # api_support.make_settings
BIG_JSON = json.dumps(RUN | {"name": "x" * (LIMIT + 50_000)}).encode()
BIG_CSV = ("station_id,name,lat,lon,docks\n" + "ST-1,x,37.55,126.91,5\n" * 12_000).encode()
ROUTES = [
    ("/v1/rebalancing/runs", "application/json", BIG_JSON, "ops"),
    ("/v1/scenarios", "application/json", BIG_JSON, "planner"),
    ("/v1/station-lists", "application/json", BIG_JSON, "planner"),
    ("/v1/keys", "application/json", BIG_JSON, "admin"),
    ("/v1/station-lists/csv", "text/csv", BIG_CSV, "planner"),
    ("/v1/rebalancing/snapshots/csv", "text/csv", BIG_CSV, "ops"),
]


def _chunks(body: bytes, size: int = 64_000) -> Iterator[bytes]:
    """The body as a stream of unknown length: httpx sends it chunked, without Content-Length."""
    for i in range(0, len(body), size):
        yield body[i : i + size]


@pytest.mark.parametrize("sent", ["chunked", "content-length"])
@pytest.mark.parametrize(("path", "media", "body", "role"), ROUTES, ids=[r[0] for r in ROUTES])
def test_an_oversized_body_is_a_413_however_it_is_sent(
    api_lite: Api, path: str, media: str, body: bytes, role: str, sent: str
) -> None:
    assert len(body) > LIMIT
    content: Any = _chunks(body) if sent == "chunked" else body
    r = api_lite.client.post(path, content=content, headers=api_lite.h(role, **{"Content-Type": media}))
    assert r.status_code == 413, r.text
    assert r.json() == {
        "detail": f"request body larger than {LIMIT} bytes",
        "errors": [],
        "request_id": r.headers["x-request-id"],
    }
    h = api_lite.h("admin")
    for listed in ("/v1/scenarios", "/v1/rebalancing/runs", "/v1/station-lists", "/v1/rebalancing/snapshots"):
        assert api_lite.client.get(listed, headers=h).json()["total"] == 0
    assert len(api_lite.client.get("/v1/keys", headers=h).json()) == 4


def test_a_chunked_body_within_the_limit_is_read(api_lite: Api) -> None:
    body = json.dumps(RUN).encode()
    r = api_lite.client.post(
        "/v1/rebalancing/runs",
        content=_chunks(body, 100),
        headers=api_lite.h("ops", **{"Content-Type": "application/json"}),
    )
    assert r.status_code == 202, r.text
    assert r.request.headers.get("transfer-encoding") == "chunked"


def _run(messages: list[Message], max_body: int) -> tuple[list[Message], list[Message]]:
    """Messages the app received, and those sent to the client, for one request whose body comes
    in ``messages`` (as a server delivers a chunked body)."""
    received: list[Message] = []
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        received.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "PUT",
        "path": "/x",
        "query_string": b"",
        "headers": [(b"transfer-encoding", b"chunked")],
    }
    asyncio.run(GuardMiddleware(app, max_body)(scope, receive, send))
    return received, sent


def _body(n: int, more: bool) -> Message:
    return {"type": "http.request", "body": b"x" * n, "more_body": more}


def test_the_middleware_reads_a_chunked_body_whole_before_the_app() -> None:
    received, sent = _run([_body(4, True), _body(4, True), _body(2, False)], max_body=10)
    assert received == [{"type": "http.request", "body": b"x" * 10, "more_body": False}]
    assert sent[0]["status"] == 200
    received, sent = _run([_body(4, True), _body(4, True), _body(4, False)], max_body=10)
    assert received == [] and sent[0]["status"] == 413  # the app never ran
    received, sent = _run([_body(4, True), {"type": "http.disconnect"}], max_body=10)
    assert received == [{"type": "http.disconnect"}]  # the client left: the app is told so
