"""``api.openapi.install``: only a completed document is ever served or kept."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

import api.openapi
from api.openapi import install


class _Body(BaseModel):
    n: int


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/things")
    def things(body: _Body) -> dict[str, int]:
        return {"n": body.n}

    install(app)
    return app


def test_a_failed_completion_is_not_kept_and_every_request_fails_alike() -> None:
    app = _app()  # no job routes: complete() raises (KeyError) after editing the 422s
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/openapi.json").status_code == 500
    assert app.openapi_schema is None
    assert client.get("/openapi.json").status_code == 500  # never the half-completed document
    assert app.openapi_schema is None


def test_the_completed_document_is_kept_once_complete_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app()
    calls: list[int] = []

    def flaky(doc: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            doc["half"] = True
            raise RuntimeError("first time")
        return {**doc, "completed": True}

    monkeypatch.setattr(api.openapi, "complete", flaky)
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/openapi.json").status_code == 500
    served = client.get("/openapi.json").json()
    assert served["completed"] is True and "half" not in served
    assert client.get("/openapi.json").json() == served and len(calls) == 2
