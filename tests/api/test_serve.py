"""``mobility keys`` and ``mobility serve --help`` through the CLI runner."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from api.auth import hash_key
from api.db import dispose_engine, session_factory
from api.db.models import ApiKey
from mobility.cli import app
from tests.api.api_support import free_port, start_process, stop_process, wait_ready

BIN = Path(sys.executable).parent


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
    """Where uvicorn's own workers serve (no SO_REUSEPORT), they answer its pings only after
    importing the CLI's modules, which took 9 s on the busy 2-core machine: with uvicorn's 5 s
    default every worker was killed and restarted forever. ``serve --workers`` gives them
    WORKER_START_SECONDS. On Linux the workers are :func:`api.workers.run_workers`'."""
    import uvicorn

    import api.workers
    from mobility.cli.serve import WORKER_START_SECONDS

    calls: list[dict[str, object]] = []
    ours: list[tuple[object, ...]] = []
    monkeypatch.setenv("MOBILITY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MOBILITY_RUN_JOBS", "false")
    monkeypatch.delenv("MOBILITY_WARM_WEB", raising=False)  # serve sets it; removed again after the test
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append(k))
    monkeypatch.setattr(api.workers, "run_workers", lambda *a: ours.append(a))
    monkeypatch.setattr(api.workers, "reuse_port_supported", lambda: False)
    r = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "1"])
    assert r.exit_code == 0, r.output
    assert calls[0]["workers"] == 2 and calls[0]["timeout_worker_healthcheck"] == WORKER_START_SECONDS >= 60
    assert os.environ["MOBILITY_WARM_WEB"] == "true"  # each worker process loads the basemap at start-up
    monkeypatch.setattr(api.workers, "reuse_port_supported", lambda: True)
    r = CliRunner().invoke(app, ["serve", "--workers", "3", "--port", "1", "--log-level", "warning"])
    assert r.exit_code == 0, r.output
    assert ours == [(3, "127.0.0.1", 1, "warning")] and len(calls) == 1


def _process_tags(port: int, n: int) -> set[str]:
    """Open ``n`` connections at once, then one /healthz on each: the worker processes that
    answered (a request id starts with its process's tag, ``api.app.new_request_id``)."""
    conns = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(n)]
    tags = set()
    try:
        for c in conns:
            c.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        for c in conns:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = c.recv(65536)
                assert chunk, "connection closed"
                head += chunk
            rid = re.search(rb"x-request-id: ([0-9a-f]+)", head, re.IGNORECASE)
            assert rid is not None, head
            tags.add(rid.group(1)[:8].decode())
    finally:
        for c in conns:
            c.close()
    return tags


def _workers(pid: int) -> list[psutil.Process]:
    """The API worker processes of ``mobility serve`` (not multiprocessing's resource tracker)."""
    out = []
    for p in psutil.Process(pid).children():
        try:
            if "spawn_main" in " ".join(p.cmdline()):
                out.append(p)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):  # killed, not yet reaped
            continue
    return out


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
def test_serve_workers_share_connections_and_come_back(sqlite_url: str, tmp_path: Path) -> None:
    """``serve --workers 2`` on an idle server: 40 connections opened at once land on both
    processes (uvicorn's shared socket gave all 200 of a benchmark's connections to one), and a
    worker killed with ``kill -9`` is replaced."""
    port = free_port()
    env = {**os.environ, "MOBILITY_DATABASE_URL": sqlite_url, "MOBILITY_RUN_JOBS": "false"}
    cmd = [str(BIN / "mobility"), "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"]
    log = tmp_path / "serve.log"
    server = start_process(cmd, env, log)
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, log, timeout=180)
        assert len(_process_tags(port, 40)) == 2
        workers = _workers(server.pid)
        assert len(workers) == 2
        workers[0].kill()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            alive = [p for p in _workers(server.pid) if p.pid != workers[0].pid]
            if len(alive) == 2 and len(_process_tags(port, 40)) == 2:
                break
            time.sleep(1)
        else:
            raise AssertionError("the killed worker was not replaced")
    finally:
        stop_process(server)
    assert server.returncode is not None and "Traceback" not in log.read_text()
