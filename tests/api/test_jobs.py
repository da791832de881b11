"""The job store on SQLite and PostgreSQL: migrations, restarts, lost workers, claims."""

from __future__ import annotations

import gc
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from api.app import create_app
from api.db import get_engine, migrate, session_factory
from api.db.models import Job, utcnow
from api.jobs import JobContext, execute_job
from tests.api.api_support import SCENARIO, Api, keys_for, make_settings


def test_migrations_up_down_up(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from api.db import MIGRATIONS_DIR

    migrate(database_url)
    migrate(database_url)  # idempotent
    names = set(inspect(get_engine(database_url)).get_table_names())
    assert {"jobs", "job_artifacts", "api_keys", "snapshots", "alembic_version"} <= names
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = get_engine(database_url)
    command.downgrade(cfg, "base")
    assert "jobs" not in set(inspect(get_engine(database_url)).get_table_names())
    migrate(database_url)
    assert "jobs" in set(inspect(get_engine(database_url)).get_table_names())


def _job(**over: object) -> Job:
    base: dict[str, object] = dict(
        id=uuid.uuid4().hex,
        kind="scenario",
        status="queued",
        progress=0.0,
        author="planner-user",
        owner_key_id="k",
        request_hash="h",
        inputs={"name": "x", "scenario": SCENARIO},
        time_limit=5.0,
        attempts=0,
        cancel_requested=False,
    )
    base.update(over)
    return Job(**base)


def test_restart_runs_queued_and_recovers_lost_jobs(database_url: str, fake_kinds: None) -> None:
    keys = keys_for(database_url)
    # An API that only records jobs (as if it went down before handing them to a worker).
    with TestClient(create_app(make_settings(database_url, run_jobs=False))) as c:
        r = c.post("/v1/scenarios", json=SCENARIO, headers={"X-API-Key": keys["planner"]})
        queued_id = r.json()["id"]
        assert (
            c.get(f"/v1/scenarios/{queued_id}", headers={"X-API-Key": keys["viewer"]}).json()["status"]
            == "queued"
        )
    old = utcnow() - timedelta(hours=1)
    lost_once = _job(status="running", attempts=1, heartbeat_at=old, started_at=old, worker="gone:1")
    lost_twice = _job(status="running", attempts=2, heartbeat_at=old, started_at=old, worker="gone:2")
    lost_cancelled = _job(status="running", attempts=1, heartbeat_at=old, cancel_requested=True)
    fresh = _job(status="running", attempts=1, heartbeat_at=utcnow(), worker="alive:3")
    with session_factory(database_url)() as s:
        s.add_all([lost_once, lost_twice, lost_cancelled, fresh])
        s.commit()
    # Restart with workers: queued jobs run, lost ones are re-run or failed with the reason.
    with TestClient(create_app(make_settings(database_url))) as c:
        api = Api(c, keys)
        assert api.wait(f"/v1/scenarios/{queued_id}")["status"] == "succeeded"
        rerun = api.wait(f"/v1/scenarios/{lost_once.id}")
        assert rerun["status"] == "succeeded" and rerun["attempts"] == 2
        failed = api.wait(f"/v1/scenarios/{lost_twice.id}")
        assert failed["status"] == "failed" and failed["error"]["type"] == "WorkerLost"
        assert "gone:2" in failed["error"]["message"]
        assert api.wait(f"/v1/scenarios/{lost_cancelled.id}")["status"] == "cancelled"
        assert c.get(f"/v1/scenarios/{fresh.id}", headers=api.h("viewer")).json()["status"] == "running"


def test_a_job_runs_once_however_often_submitted(database_url: str, fake_kinds: None) -> None:
    migrate(database_url)
    job = _job()
    sessions = session_factory(database_url)
    with sessions() as s:
        s.add(job)
        s.commit()
    assert execute_job(job.id, database_url, 0.05, 0.5) == "succeeded"
    assert execute_job(job.id, database_url, 0.05, 0.5) == "skipped"
    assert execute_job("missing", database_url, 0.05, 0.5) == "skipped"
    with sessions() as s:
        row = s.scalar(select(Job).where(Job.id == job.id))
        assert row is not None and row.attempts == 1 and row.status == "succeeded"


def test_job_context_is_a_stopping_criterion() -> None:
    ctx = JobContext("j", time_limit=100.0)
    assert not ctx(0.0) and ctx.remaining() > 99
    ctx.report(1.7, "x" * 600)
    assert ctx.progress == 1.0 and len(ctx.message or "") == 500
    ctx.stop_event.set()
    assert ctx(0.0) and ctx.should_stop()
    assert JobContext("k", time_limit=0.0).should_stop()


def test_progress_is_kept_to_three_decimals() -> None:
    ctx = JobContext("j", time_limit=100.0)
    ctx.report(0.1 + 0.5)  # 0.6000000000000001
    assert ctx.progress == 0.6 and repr(ctx.progress) == "0.6"
    ctx.report(2 / 3)
    assert ctx.progress == 0.667
    ctx.report(1.5)
    assert ctx.progress == 1.0


def test_the_loaded_heap_is_settled_before_the_first_request(sqlite_url: str) -> None:
    """Start-up moves what it loaded out of the garbage collector's sight: a first full collection
    in a visitor's first request held the event loop for 0.35 s (the first plan and its tiles
    waited) on the 2-core AVX2 machine."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(make_settings(sqlite_url))) as client:
        assert gc.get_freeze_count() > 0
        assert client.get("/readyz").status_code == 200
