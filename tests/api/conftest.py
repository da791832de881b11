"""Fixtures of the API tests: a database per test (SQLite and PostgreSQL), an app, keys per role.

The PostgreSQL variant uses a schema of its own in the local ``test`` database (trust auth on
127.0.0.1:5432, started by ``.ci/services.sh``) and drops it afterwards; it is skipped with the
reason when the server cannot be reached.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import jobs
from api.app import create_app
from api.db import dispose_engine
from tests.api.api_support import (
    FAKE_KINDS,
    Api,
    fake_job,
    fake_rebalancing,
    fake_scenario,
    keys_for,
    make_settings,
)

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL at 127.0.0.1:5432/test unreachable ({type(exc).__name__}); run .ci/services.sh"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'api.sqlite'}"
        yield url
        dispose_engine(url)
        return
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"mobility_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        dispose_engine(url)
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Any) -> Iterator[str]:
    """A SQLite database only (tests that do not exercise storage)."""
    url = f"sqlite:///{tmp_path / 'api.sqlite'}"
    yield url
    dispose_engine(url)


@pytest.fixture
def fake_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the solver job kinds by the fakes for one test."""
    monkeypatch.setitem(jobs._KINDS, "scenario", fake_scenario)
    monkeypatch.setitem(jobs._KINDS, "rebalancing", fake_rebalancing)


@pytest.fixture
def every_kind_faked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every job kind faked, sweeps and simulations too: for tests that submit whatever the API
    accepts. A real kind left in would run its solver in the test cluster's threads, and the
    app's shutdown would wait for it (10 s a test) while it took a core from the tests after."""
    for kind in list(jobs._KINDS):
        monkeypatch.setitem(jobs._KINDS, kind, FAKE_KINDS.get(kind, fake_job))


@pytest.fixture
def api(database_url: str, fake_kinds: None) -> Iterator[Api]:
    """App on SQLite and on PostgreSQL, with fake solvers."""
    keys = keys_for(database_url)
    with TestClient(create_app(make_settings(database_url)), raise_server_exceptions=False) as client:
        yield Api(client, keys)


@pytest.fixture
def api_lite(sqlite_url: str, fake_kinds: None) -> Iterator[Api]:
    """App on SQLite only, with fake solvers."""
    keys = keys_for(sqlite_url)
    with TestClient(create_app(make_settings(sqlite_url)), raise_server_exceptions=False) as client:
        yield Api(client, keys)
