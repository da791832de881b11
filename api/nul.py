"""NUL characters (U+0000) in requests: found once for every route, refused before a handler runs.

PostgreSQL's text columns cannot hold U+0000 (psycopg raises ``DataError``, which was a 500, and
a write's audit entry was lost with it); SQLite's can. So that both databases answer alike and no
route has to think of it, :class:`api.app.GuardMiddleware` looks at every request once
(:func:`find`): the path, the query string and a JSON body. What it finds waits in the request's
state until the route asks who is calling: :func:`api.auth.require` takes it (:func:`take`) and,
once the key is known, allowed and counted, raises :func:`refusal`, so that the refusal is
audited like any other write. A route that never asks for a key gets the same refusal from the
middleware instead of its own answer.

A NUL in the path is a 404 (no resource has such a name); in a query value or name, or in a string
or key of a JSON body, a 422 naming each field (``query.author``, ``body.stations.3.name``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import Scope

NUL = "\x00"

FINDINGS = "nul_findings"
"""The key of the request's state (``scope["state"]``) holding what :func:`find` found."""

MAX_FINDINGS = 50
"""Fields named in one answer at most (the 422 lists 50 at most as well)."""

Location = tuple[str | int, ...]
Finding = tuple[Location, str]
"""Where a NUL was found (``("query", "author")``, ``("body", "stations", 3, "name")``) and the text."""


def escape(text: str) -> str:
    """``text`` with each NUL written ``%00`` (as in a URL), for the audit log and field names."""
    return text.replace(NUL, "%00")


def _is_json(content_type: bytes | None) -> bool:
    """Whether a body of this Content-Type may be read as JSON (none given, ``application/json``,
    ``application/*+json``); a CSV upload (``text/csv``) is not."""
    if not content_type:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def _in_query(query: bytes) -> list[Finding]:
    if b"%00" not in query and b"\x00" not in query:
        return []
    # decoded as Starlette decodes it for the routes (latin-1, then percent-decoding as UTF-8)
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return [
        (("query", escape(name)), value if NUL in value else name)
        for name, value in pairs
        if NUL in name or NUL in value
    ]


def _in_json(body: bytes) -> list[Finding]:
    if b"\\u0000" not in body and b"\x00" not in body:  # raw NULs: JSON in UTF-16 or UTF-32
        return []
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # not JSON: the route answers that itself
        return []
    found: list[Finding] = []
    stack: list[tuple[Location, Any]] = [(("body",), doc)]
    while stack and len(found) < MAX_FINDINGS:  # depth-first, in the document's order
        loc, node = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                found.append((loc, node))
        elif isinstance(node, dict):
            for key, value in reversed(node.items()):
                stack.append(((*loc, escape(key)), value))
                if NUL in key:  # found before the value (popped first)
                    stack.append(((*loc, escape(key)), key))
        elif isinstance(node, list):
            stack.extend(((*loc, i), value) for i, value in reversed(list(enumerate(node))))
    return found


def find(scope: Scope, body: bytes | None) -> list[Finding]:
    """The NULs of a request: its path (then nothing else matters), query string and JSON body.

    Parameters
    ----------
    scope
        The request's ASGI scope (``path``, ``query_string``, ``headers``).
    body
        The whole body, or ``None`` when the request has none.

    Returns
    -------
    list of Finding
        Empty for almost every request (a substring test each, no parsing).
    """
    path = scope.get("path", "")
    if NUL in path:
        return [(("path",), path)]
    found = _in_query(scope.get("query_string", b""))
    if body and _is_json(dict(scope.get("headers", [])).get(b"content-type")):
        found += _in_json(body)
    return found[:MAX_FINDINGS]


def take(scope: Scope) -> list[Finding] | None:
    """What :func:`find` found in this request, removed from its state: the caller now answers
    for it (with :func:`refusal`); ``None`` when there is nothing."""
    state = scope.get("state")
    return state.pop(FINDINGS, None) if isinstance(state, dict) else None


def _shown(text: str) -> str:
    return repr(text[:60]) + ("..." if len(text) > 60 else "")


def refusal(found: list[Finding]) -> HTTPException | RequestValidationError:
    """The answer to a request with NULs: 404 for a path, else a 422 naming each field."""
    if found[0][0] == ("path",):
        return HTTPException(404, "no such resource: the path contains a NUL character (%00)")
    errors = [
        {
            "loc": loc,
            "msg": f"got {_shown(text)}; expected text without NUL characters (U+0000)",
            "type": "nul_character",
        }
        for loc, text in found
    ]
    return RequestValidationError(errors)
