"""Faults as regression tests: what the service promises when a part of it fails.

* Redis (the shared rate limit) unreachable: the API keeps serving, counting per process in
  memory, and logs the fallback.
* The store refuses the artifacts: the disk really full (SQLite on a 3 MB tmpfs, an 8 MB plan),
  and an error injected on the insert (on SQLite and PostgreSQL): the job fails with a
  ``StorageError`` and nothing of its results is stored or served.
* The store turns read-only mid-job (PostgreSQL ``default_transaction_read_only``): nothing is
  written or served meanwhile; once writable, the reaper re-queues the silent job and it succeeds.
* PostgreSQL restarted mid-job (a throwaway instance of this test, on its own port): the job
  finishes or fails with a stated reason; nothing stays ``running``.
* A Dask worker killed with ``kill -9`` mid-job: the job is re-queued once its heartbeat is
  stale and finishes on another worker; ``attempts`` counts both runs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from api.app import create_app
from api.db import dispose_engine, get_engine, session_factory
from api.db.models import Job, JobArtifact
from tests.api.api_support import (
    SCENARIO,
    Api,
    free_port,
    keys_for,
    make_settings,
    start_process,
    stop_process,
    wait_ready,
)

BIN = Path(sys.executable).parent
SLOW = SCENARIO | {"description": "slow"}


def _final(api: Api, loc: str, timeout: float) -> dict[str, Any]:
    return api.wait(loc, timeout=timeout)


# --- Redis ----------------------------------------------------------------------------------------------


def test_redis_down_keeps_serving_with_a_logged_fallback(
    sqlite_url: str, fake_kinds: None, caplog: pytest.LogCaptureFixture
) -> None:
    keys = keys_for(sqlite_url)
    settings = make_settings(sqlite_url, rate_limit="3/minute", rate_limit_storage="redis://127.0.0.1:1")
    app = create_app(settings)
    with caplog.at_level(logging.WARNING, logger="mobility.api.auth"), TestClient(app) as c:
        h = {"X-API-Key": keys["viewer"]}
        codes = [c.get("/v1/scenarios", headers=h).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]  # still limited, per process
        assert app.state.limiter.degraded
    assert any("unreachable" in r.getMessage() and "memory" in r.getMessage() for r in caplog.records)


# --- disk full / read-only store while the artifacts are written ----------------------------------------


def test_artifact_write_failure_fails_the_job_cleanly(database_url: str, fake_kinds: None) -> None:
    keys = keys_for(database_url)
    engine = get_engine(database_url)

    def disk_full(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO JOB_ARTIFACTS"):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(engine, "before_cursor_execute", disk_full)
    try:
        with TestClient(create_app(make_settings(database_url)), raise_server_exceptions=False) as c:
            api = Api(c, keys)
            loc = c.post("/v1/scenarios", json=SCENARIO, headers=api.h("planner")).headers["Location"]
            done = _final(api, loc, 30)
            assert done["status"] == "failed" and done["error"]["type"] == "StorageError", done
            assert "could not be stored" in done["error"]["message"] and done["kpis"] is None
            plan = c.get(f"{loc}/plan", headers=api.h("viewer"))
            assert plan.status_code == 409  # never a half-written plan
            job_id = loc.rsplit("/", 1)[-1]
            with session_factory(database_url)() as s:
                assert s.scalars(select(JobArtifact).where(JobArtifact.job_id == job_id)).all() == []
                assert s.get(Job, job_id).result is None  # type: ignore[union-attr]
    finally:
        event.remove(engine, "before_cursor_execute", disk_full)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 3 MB file system (tmpfs), mounted for this test; root only."""
    where = tmp_path / "small-disk"
    where.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"tmpfs cannot be mounted here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_disk_really_full_fails_the_job_cleanly(small_disk: Path, fake_kinds: None) -> None:
    url = f"sqlite:///{small_disk / 'jobs.sqlite'}"
    keys = keys_for(url)
    try:
        with TestClient(create_app(make_settings(url)), raise_server_exceptions=False) as c:
            api = Api(c, keys)
            big = SCENARIO | {"description": "big"}
            loc = c.post("/v1/scenarios", json=big, headers=api.h("planner")).headers["Location"]
            done = _final(api, loc, 60)
            assert done["status"] == "failed" and done["error"]["type"] == "StorageError", done
            assert c.get(f"{loc}/plan", headers=api.h("viewer")).status_code == 409
            job_id = loc.rsplit("/", 1)[-1]
            with session_factory(url)() as s:
                assert s.scalars(select(JobArtifact).where(JobArtifact.job_id == job_id)).all() == []
            # The disk is still usable for small writes: the next (small) job succeeds.
            ok = c.post("/v1/scenarios", json=SCENARIO, headers=api.h("planner")).headers["Location"]
            assert _final(api, ok, 60)["status"] == "succeeded"
    finally:
        dispose_engine(url)


# --- PostgreSQL restarted mid-job -----------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    return shutil.which(name)


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def throwaway_pg() -> Iterator[dict[str, Any]]:
    """A PostgreSQL server of this test only (initdb in a temporary folder, its own port).

    The folder is made outside pytest's (private to root) temporary tree, so that the
    ``postgres`` user can own it when the tests run as root.
    """
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    root = Path(tempfile.mkdtemp(prefix="mobility-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = _as_postgres([pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "60"])
    subprocess.run([*ctl, "start"], check=True, capture_output=True, timeout=90)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        yield {"url": url, "ctl": ctl}
    finally:
        dispose_engine(url)
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_postgres_restart_mid_job(throwaway_pg: dict[str, Any], fake_kinds: None) -> None:
    url = throwaway_pg["url"]
    keys = keys_for(url)
    settings = make_settings(url, stale_after_seconds=4)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        api = Api(c, keys)
        loc = c.post("/v1/scenarios", json=SLOW, headers=api.h("planner")).headers["Location"]
        deadline = time.monotonic() + 20
        while c.get(loc, headers=api.h("viewer")).json()["status"] != "running":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        subprocess.run(
            [*throwaway_pg["ctl"], "-m", "fast", "restart"], check=True, capture_output=True, timeout=90
        )
        done: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = c.get(loc, headers=api.h("viewer"))
            if r.status_code == 200 and (done := r.json())["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.2)
        assert done.get("status") in ("succeeded", "failed"), f"stuck: {done}"
        if done["status"] == "failed":
            assert done["error"]["message"], done  # a stated reason
        else:
            assert c.get(f"{loc}/plan", headers=api.h("viewer")).status_code == 200
        with session_factory(url)() as s:
            assert s.scalars(select(Job).where(Job.status == "running")).all() == []


def _psql(pg: dict[str, Any], sql: str) -> None:
    import psycopg

    port = pg["url"].rsplit(":", 1)[1].split("/", 1)[0]
    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(sql)


@pytest.mark.slow
def test_read_only_store_while_results_are_written(throwaway_pg: dict[str, Any], fake_kinds: None) -> None:
    """The store turns read-only mid-job (a real PostgreSQL setting, not a mock): nothing of the
    results is written or served; once it is writable again the job is re-run and succeeds."""
    url = throwaway_pg["url"]
    keys = keys_for(url)
    with TestClient(
        create_app(make_settings(url, stale_after_seconds=3)), raise_server_exceptions=False
    ) as c:
        api = Api(c, keys)
        loc = c.post("/v1/scenarios", json=SLOW, headers=api.h("planner")).headers["Location"]
        deadline = time.monotonic() + 20
        while c.get(loc, headers=api.h("viewer")).json()["status"] != "running":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        _psql(throwaway_pg, "ALTER SYSTEM SET default_transaction_read_only = on")
        _psql(throwaway_pg, "SELECT pg_reload_conf()")
        try:
            time.sleep(7)  # the job's 4 s of work end meanwhile; its results cannot be written
            stuck = c.get(loc, headers=api.h("viewer")).json()
            assert stuck["status"] == "running" and stuck["attempts"] == 1, stuck
            assert c.get(f"{loc}/plan", headers=api.h("viewer")).status_code == 409
        finally:
            _psql(throwaway_pg, "ALTER SYSTEM RESET default_transaction_read_only")
            _psql(throwaway_pg, "SELECT pg_reload_conf()")
        done = api.wait(loc, timeout=60)
        assert done["status"] == "succeeded" and done["attempts"] == 2, done
        assert c.get(f"{loc}/plan", headers=api.h("viewer")).status_code == 200


# --- kill -9 of a worker mid-job ------------------------------------------------------------------------


@pytest.mark.slow
def test_worker_kill9_mid_job_is_requeued_and_finishes(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MOBILITY_DATABASE_URL": f"sqlite:///{tmp_path / 'faults.sqlite'}",
        "MOBILITY_HEARTBEAT_SECONDS": "0.3",
        "MOBILITY_STALE_AFTER_SECONDS": "3",
        "MOBILITY_JOB_OVERHEAD_SECONDS": "60",
        "PYTHONUNBUFFERED": "1",
    }
    sched = f"tcp://127.0.0.1:{free_port()}"
    env["MOBILITY_SCHEDULER_ADDRESS"] = sched
    out = subprocess.run(
        [str(BIN / "mobility"), "keys", "create", "--role", "planner", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    key = json.loads(out.stdout)["key"]
    preload = str(Path(__file__).resolve().parent / "fault_worker.py")

    def worker(name: str) -> subprocess.Popen[bytes]:
        args = [str(BIN / "dask"), "worker", sched, "--nthreads", "1", "--nworkers", "1", "--no-nanny"]
        args += ["--host", "127.0.0.1", "--no-dashboard", "--name", name, "--preload", preload]
        return start_process(args, env, tmp_path / f"{name}.log")

    port = sched.rsplit(":", 1)[-1]
    procs = [
        start_process(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
            env,
            tmp_path / "scheduler.log",
        )
    ]
    try:
        time.sleep(2)
        procs.append(worker("first"))
        api_port = free_port()
        url = f"http://127.0.0.1:{api_port}"
        procs.append(
            start_process(
                [str(BIN / "mobility"), "serve", "--host", "127.0.0.1", "--port", str(api_port)],
                env,
                tmp_path / "api.log",
            )
        )
        wait_ready(url, procs[-1], tmp_path / "api.log")
        h = {"X-API-Key": key}
        with httpx.Client(base_url=url, timeout=30) as c:
            loc = c.post("/v1/scenarios", json=SLOW, headers=h).headers["Location"]
            deadline = time.monotonic() + 60
            while (body := c.get(loc, headers=h).json())["status"] != "running" or body["progress"] < 0.1:
                assert time.monotonic() < deadline, f"the job never got going: {body}"
                time.sleep(0.1)
            os.killpg(procs[1].pid, signal.SIGKILL)  # the worker, mid-job
            procs[1].wait(10)
            procs.append(worker("second"))
            deadline = time.monotonic() + 120
            while (body := c.get(loc, headers=h).json())["status"] not in (
                "succeeded",
                "failed",
                "cancelled",
            ):
                assert time.monotonic() < deadline, f"not finished after the kill: {body}"
                time.sleep(0.3)
        assert body["status"] == "succeeded", body
        assert body["attempts"] == 2, body
    finally:
        for p in reversed(procs):
            stop_process(p)
