"""``mobility keys`` and ``mobility serve --help`` through the CLI runner."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from api.auth import hash_key
from api.db import dispose_engine, session_factory
from api.db.models import ApiKey
from mobility.cli import app


def test_keys_create_list_revoke(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBILITY_DATABASE_URL", sqlite_url)
    runner = CliRunner()
    r = runner.invoke(app, ["keys", "create", "--role", "ops", "--name", "박", "--json"])
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["role"] == "ops" and made["name"] == "박" and made["key"].startswith("mob_")
    with session_factory(sqlite_url)() as s:
        rec = s.get(ApiKey, made["id"])
        assert rec is not None and rec.key_hash == hash_key(made["key"])
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert [k["id"] for k in listed] == [made["id"]] and "key" not in listed[0]
    assert runner.invoke(app, ["keys", "revoke", made["id"]]).exit_code == 0
    assert json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)[0]["revoked"] is True
    bad = runner.invoke(app, ["keys", "create", "--role", "root"])
    assert bad.exit_code != 0
    dispose_engine(sqlite_url)


def test_keys_with_expiry(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBILITY_DATABASE_URL", sqlite_url)
    runner = CliRunner()
    r = runner.invoke(app, ["keys", "create", "--role", "viewer", "--expires-in-days", "2", "--json"])
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["expires_at"] is not None
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert listed[0]["expires_at"] and listed[0]["active"] is True
    table = runner.invoke(app, ["keys", "list"])
    assert (
        table.exit_code == 0 and "yes" in table.output
    )  # active (the runner's narrow terminal cuts headers)
    assert runner.invoke(app, ["keys", "create", "--role", "viewer", "--expires-in-days", "0"]).exit_code == 2
    assert runner.invoke(app, ["keys", "revoke", "nope"]).exit_code != 0
    dispose_engine(sqlite_url)


def test_serve_help() -> None:
    r = CliRunner().invoke(app, ["serve", "--help"])
    assert r.exit_code == 0 and "--host" in r.output and "--port" in r.output


def test_serve_workers_get_time_to_start(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes answer uvicorn's pings only after importing the CLI's modules, which took
    9 s on the busy 2-core machine: with uvicorn's 5 s default every worker was killed and restarted
    forever. ``serve --workers`` gives them WORKER_START_SECONDS."""
    import uvicorn

    from mobility.cli.serve import WORKER_START_SECONDS

    calls: list[dict[str, object]] = []
    monkeypatch.setenv("MOBILITY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MOBILITY_RUN_JOBS", "false")
    monkeypatch.delenv("MOBILITY_WARM_WEB", raising=False)  # serve sets it; removed again after the test
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append(k))
    r = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "1"])
    assert r.exit_code == 0, r.output
    assert calls[0]["workers"] == 2 and calls[0]["timeout_worker_healthcheck"] == WORKER_START_SECONDS >= 60
    assert os.environ["MOBILITY_WARM_WEB"] == "true"  # each worker process loads the basemap at start-up
