"""Liveness, readiness and Prometheus metrics (no key needed)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.jobs import JobQueue
from api.metrics import JOBS, WORKERS
from api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


def _db_ok(request: Request) -> str:
    try:
        with request.app.state.sessions() as s:
            s.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # report, never raise: this is a probe
        return f"unreachable ({type(exc).__name__})"


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness: database and workers reachable",
    responses={503: {"model": Health}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and at least one job worker is connected, else 503."""
    checks = {"database": await asyncio.to_thread(_db_ok, request)}
    queue: JobQueue = request.app.state.queue
    if request.app.state.settings.run_jobs:
        n = await asyncio.to_thread(queue.workers)
        checks["workers"] = f"{n} connected" if n else "none connected"
        workers_ok = n > 0
    else:
        checks["workers"] = "not used by this process (run_jobs=false)"
        workers_ok = True
    ok = checks["database"] == "ok" and workers_ok
    body = Health(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latencies by route, jobs by status, connected workers."""
    queue: JobQueue = request.app.state.queue
    try:
        counts = await asyncio.to_thread(queue.counts)
        for status in ("queued", "running", "succeeded", "failed", "cancelled"):
            JOBS.labels(status).set(counts.get(status, 0))
    except Exception:  # the database may be down; the request metrics still matter
        pass
    if request.app.state.settings.run_jobs:
        WORKERS.set(await asyncio.to_thread(queue.workers))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
