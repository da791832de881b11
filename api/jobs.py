"""Durable jobs on Dask distributed.

Why Dask: an in-process :class:`distributed.LocalCluster` needs no server, so ``mobility serve``
works on a laptop as it is, and the same code talks to a real cluster when
``MOBILITY_SCHEDULER_ADDRESS`` names a scheduler (``dask scheduler`` + ``dask worker``, see
``docker/compose.yaml``). Celery would need a broker even for one user.

Durability lives in the database, not in the engine. Each job is a row (``api.db.models.Job``);
the Dask task :func:`execute_job` gets only the job id and the database URL and:

1. *claims* the row (``queued -> running`` in one conditional UPDATE; a duplicate task, e.g. one
   re-submitted after an API restart, finds nothing to claim and returns),
2. runs the job kind's callable in a thread while the task thread writes a heartbeat and the
   progress, and reads the cancellation flag,
3. writes the result and artifacts (or the error) and the final status, again conditionally, so a
   job that was cancelled or timed out meanwhile keeps that status.

The API re-submits queued jobs at start-up and periodically (:meth:`JobQueue.recover`); a
running job whose heartbeat stopped is re-queued (up to ``max_attempts`` runs) or marked failed
with the reason. Tasks are submitted with ``fire_and_forget`` so that they outlive the API
process that submitted them.

Time limits: the callable receives the limit (:attr:`JobContext.time_limit`) and a stop test
(:meth:`JobContext.should_stop`, also usable as a :class:`mobility.stats.StoppingCriterion`);
if it has not returned ``grace_seconds`` after the limit the job is marked failed with
"time limit exceeded" at once, and the task waits for the solver thread to notice the stop flag
before taking the next job (so concurrency stays bounded by the workers' threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.db import session_factory
from api.db.models import Job, JobArtifact, utcnow
from api.settings import ApiSettings
from mobility.errors import MobilityError

log = logging.getLogger("mobility.api.jobs")


@dataclass
class JobOutput:
    """What a job kind returns.

    Attributes
    ----------
    result
        Small JSON summary shown by ``GET /v1/.../{id}`` (KPIs, solver statistics).
    artifacts
        Named serialized outputs ``name -> (media type, bytes)``, e.g. ``"plan"`` as JSON.
    """

    result: dict[str, Any]
    artifacts: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class JobCancelledError(Exception):
    """Raised by a job callable (via :meth:`JobContext.check`) when asked to stop."""


class JobContext:
    """Handed to a job callable: its inputs' id, time limit, progress reporting and stop test."""

    def __init__(self, job_id: str, time_limit: float) -> None:
        self.job_id = job_id
        self.time_limit = time_limit
        self.started = time.monotonic()
        self.progress = 0.0
        self.message: str | None = None
        self.stop_event = threading.Event()
        self.dask_client: Any = None  # set for FAN_OUT_KINDS when the job runs on a Dask worker

    def report(self, fraction: float, message: str | None = None) -> None:
        """Record progress in [0, 1], to 3 decimals (written to the database with the next heartbeat)."""
        self.progress = round(min(1.0, max(0.0, float(fraction))), 3)
        if message is not None:
            self.message = message[:500]

    def remaining(self) -> float:
        """Seconds left of the time limit (never negative)."""
        return max(0.0, self.time_limit - (time.monotonic() - self.started))

    def should_stop(self, best_objective: float = 0.0) -> bool:
        """True once cancelled or out of time."""
        return self.stop_event.is_set() or self.remaining() <= 0.0

    def __call__(self, best_objective: float) -> bool:
        """The context is a :class:`mobility.stats.StoppingCriterion` too."""
        return self.should_stop(best_objective)

    def check(self) -> None:
        """Raise :class:`JobCancelledError` if the job should stop."""
        if self.should_stop():
            raise JobCancelledError("stopped")


JobCallable = Callable[[dict[str, Any], JobContext], JobOutput]

# Job kind -> callable, or "module:attribute" resolved lazily (workers import only what they run).
_KINDS: dict[str, JobCallable | str] = {
    "scenario": "api.runners:run_scenario",
    "rebalancing": "api.runners:run_rebalancing",
    "sweep": "api.runners:run_sweep",
    "simulation": "api.runners:run_simulation",
}

# Kinds whose callable spreads its own work over the cluster (JobContext.dask_client): their task
# leaves the worker's thread pool (secede) so that the parts it submits find a free thread.
FAN_OUT_KINDS: frozenset[str] = frozenset({"simulation"})


def register_job_kind(kind: str, target: JobCallable | str) -> None:
    """Add or replace a job kind (a callable, or ``"module:attribute"``)."""
    _KINDS[kind] = target


def job_kinds() -> list[str]:
    """Registered kinds."""
    return sorted(_KINDS)


def resolve_job_kind(kind: str) -> JobCallable:
    """The callable of a kind (imports it if given as a path)."""
    target = _KINDS.get(kind)
    if target is None:
        raise MobilityError(f"unknown job kind {kind!r}; known: {', '.join(job_kinds())}")
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        fn: JobCallable = getattr(importlib.import_module(module), attr)
        return fn
    return target


def worker_name() -> str:
    """host:pid of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _finish(
    sessions: sessionmaker[Session],
    job_id: str,
    attempt: int,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    artifacts: dict[str, tuple[str, bytes]] | None = None,
    message: str | None = None,
) -> bool:
    """Write the final state if this attempt still owns the running job; returns whether it did."""
    with sessions() as s:
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "message": message}
        if result is not None:
            values["result"] = result
            values["progress"] = 1.0
        if error is not None:
            values["error"] = error
        res = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
            .values(**values)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            return False
        for name, (media_type, body) in (artifacts or {}).items():
            s.merge(JobArtifact.of(job_id, name, media_type, body))
        s.commit()
        return True


def _claim(sessions: sessionmaker[Session], job_id: str) -> tuple[int, str, dict[str, Any], float] | None:
    """Mark a queued job running for this worker: (attempt, kind, inputs, time limit), or ``None``
    when it is not queued any more (another worker took it, or it was cancelled)."""
    with sessions() as s:
        job = s.get(Job, job_id)
        if job is None or job.status != "queued":
            return None
        now = utcnow()
        attempt, kind, inputs, limit = job.attempts + 1, job.kind, dict(job.inputs), job.time_limit
        claimed = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued", Job.attempts == attempt - 1)
            .values(
                status="running",
                started_at=now,
                heartbeat_at=now,
                attempts=attempt,
                worker=worker_name(),
                message=None,
            )
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            return None
        s.commit()
    return attempt, kind, inputs, limit


def _heartbeat(sessions: sessionmaker[Session], job_id: str, attempt: int, ctx: JobContext) -> bool:
    """Write the heartbeat and progress; returns whether a cancellation was requested."""
    try:
        with sessions() as s:
            cancel = bool(s.scalar(select(Job.cancel_requested).where(Job.id == job_id)))
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
                .values(heartbeat_at=utcnow(), progress=ctx.progress, message=ctx.message)
            )
            s.commit()
    except Exception as db_exc:  # database briefly away: keep solving, the next beat retries
        log.warning("job %s: heartbeat not written (%s)", job_id, type(db_exc).__name__)
        return False
    return cancel


def _store_output(sessions: sessionmaker[Session], job_id: str, attempt: int, out: JobOutput) -> str:
    """Record a finished job's result and artifacts in one transaction: all stored, or none (then
    the job fails with a ``StorageError``)."""
    try:
        ok = _finish(sessions, job_id, attempt, "succeeded", result=out.result, artifacts=out.artifacts)
    except Exception as store_exc:  # disk full, read-only store, database gone: fail with the reason
        log.error("job %s: results not stored", job_id, exc_info=store_exc)
        reason = (
            f"the results could not be stored ({type(store_exc).__name__}: "
            "disk full, read-only or unreachable store)"
        )
        try:
            _finish(
                sessions,
                job_id,
                attempt,
                "failed",
                error={"type": "StorageError", "message": reason},
                message=reason,
            )
        except Exception:  # nothing can be written: the reaper re-queues or fails the silent job
            log.error("job %s: failure not recorded either; left to the reaper", job_id)
        return "failed"
    return "succeeded" if ok else "skipped"


def _fan_out_client() -> Any:
    """The cluster's client for a task that submits parts of its work; the task secedes from the
    worker's thread pool so that the parts can run. ``None`` outside a Dask worker (the job then
    runs its parts itself)."""
    try:
        from distributed import get_client, secede

        client = get_client()
        secede()  # type: ignore[no-untyped-call]
    except (ImportError, ValueError):
        return None
    return client


def execute_job(job_id: str, database_url: str, heartbeat_seconds: float, grace_seconds: float) -> str:
    """The Dask task: claim, run, record. Returns the status it left the job in (or ``"skipped"``)."""
    sessions = session_factory(database_url)
    claimed = _claim(sessions, job_id)
    if claimed is None:
        return "skipped"
    attempt, kind, inputs, limit = claimed
    ctx = JobContext(job_id, limit)
    if kind in FAN_OUT_KINDS:
        ctx.dask_client = _fan_out_client()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["output"] = resolve_job_kind(kind)(inputs, ctx)
        except BaseException as exc:
            outcome["exc"] = exc
            outcome["tb"] = traceback.format_exc()

    thread = threading.Thread(target=target, name=f"job-{job_id}", daemon=True)
    thread.start()
    verdict: tuple[str, str] | None = None  # (status, reason) decided by the supervisor
    while thread.is_alive():
        thread.join(heartbeat_seconds)
        cancel = _heartbeat(sessions, job_id, attempt, ctx)
        if cancel and verdict is None:
            ctx.stop_event.set()
            verdict = ("cancelled", "cancelled on request")
        elapsed = time.monotonic() - ctx.started
        if verdict is None and elapsed > limit + grace_seconds:
            ctx.stop_event.set()
            verdict = ("failed", f"time limit exceeded: {limit:g} s (+{grace_seconds:g} s grace)")
        if verdict is not None and not outcome.get("recorded"):
            status, reason = verdict
            err = {"type": "TimeLimitExceeded", "message": reason} if status == "failed" else None
            _finish(sessions, job_id, attempt, status, error=err, message=reason)
            outcome["recorded"] = True
    if outcome.get("recorded"):
        return verdict[0] if verdict else "failed"
    if "output" in outcome:
        return _store_output(sessions, job_id, attempt, outcome["output"])
    exc = outcome.get("exc")
    if isinstance(exc, JobCancelledError) or (ctx.stop_event.is_set() and cancel_flag(sessions, job_id)):
        _finish(sessions, job_id, attempt, "cancelled", message="cancelled on request")
        return "cancelled"
    if isinstance(exc, MobilityError):
        log.warning("job %s (%s) failed: %s", job_id, kind, exc)
        error = public_error(exc)
    else:
        # A bug: the traceback goes to the worker's log, never to an API client.
        log.error("job %s (%s) crashed:\n%s", job_id, kind, outcome.get("tb"))
        error = {
            "type": "InternalError",
            "message": f"internal error in the {kind} job ({type(exc).__name__})",
        }
    _finish(sessions, job_id, attempt, "failed", error=error, message=error["message"][:500])
    return "failed"


# An absolute or home/relative path inside a message ("/work/data/x.csv", "../x", "~/x", "C:\\x").
_PATH_IN_TEXT = re.compile(r"""(?<![\w.])(?:~|\.\.?|[A-Za-z]:)?[/\\][^\s'"`,;()]+""")


def redact_paths(text: str) -> str:
    """``text`` with every file-system path replaced by ``<server path>``."""
    return _PATH_IN_TEXT.sub("<server path>", text)


def public_error(exc: MobilityError) -> dict[str, Any]:
    """What an API client may see of a job's failure: type, message, field; no path, no file content.

    A file that could not be read (:class:`~mobility.errors.DataFileError`) says so without its
    path or what was found in it (a message such as "found columns ..." would quote the file);
    missing data names the dataset only; other messages have their paths redacted. The full error
    goes to the worker's log.
    """
    from mobility.errors import DataFileError, DataNotFoundError

    name = type(exc).__name__
    if isinstance(exc, DataFileError):
        return {"type": name, "message": "a data file of this server could not be read (see the server log)"}
    if isinstance(exc, DataNotFoundError):
        return {"type": name, "message": f"{redact_paths(exc.what)} is not available on this server"}
    error: dict[str, Any] = {"type": name, "message": redact_paths(str(exc))[:1000]}
    for attr in ("field", "expected", "binding"):
        if hasattr(exc, attr):
            value = getattr(exc, attr)
            error[attr] = redact_paths(value) if isinstance(value, str) else value
    if hasattr(exc, "value"):
        error["value"] = redact_paths(repr(exc.value))[:200]
    return error


def cancel_flag(sessions: sessionmaker[Session], job_id: str) -> bool:
    """Whether cancellation was requested."""
    with sessions() as s:
        return bool(s.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


def _worker_clients(cluster: Any) -> list[Any]:
    """The clients that fan-out jobs got on the cluster's in-process workers (:func:`_fan_out_client`).

    Such a client shares the cluster's event loop, and the worker closes it at shutdown without
    giving the loop back (``Worker.close`` awaits ``Client.close`` on its asynchronous path, which
    skips ``LoopRunner.stop``): the cluster's close would then leave its ``IO loop`` thread running
    for the rest of the process. Closed first, from this thread, it gives the loop back. Workers in
    processes (a nanny each) have none here.
    """
    workers = getattr(cluster, "workers", None) or {}
    return [c for w in list(workers.values()) if (c := getattr(w, "_client", None)) is not None]


class JobQueue:
    """The API's handle on the Dask cluster: submit, recover, cancel, health."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.sessions = session_factory(settings.database_url)
        self.client: Any = None
        self.cluster: Any = None

    def start(self) -> None:
        """Connect to the scheduler, or start an in-process LocalCluster."""
        import dask
        from distributed import Client

        from mobility.simulation.fanout import local_cluster

        # A task whose worker died is retried by Dask this many times (the claim makes it safe).
        dask.config.set({"distributed.scheduler.allowed-failures": self.settings.max_attempts})
        if self.settings.scheduler_address:
            try:
                self.client = Client(  # type: ignore[no-untyped-call]
                    self.settings.scheduler_address, timeout=10, set_as_default=False
                )
            except Exception as exc:  # the API still starts; /readyz says 503 and the reaper retries
                log.warning("scheduler %s unreachable (%s); will retry", self.settings.scheduler_address, exc)
                self.client = None
        else:
            self.cluster = local_cluster(
                n_workers=self.settings.local_workers,
                threads_per_worker=self.settings.max_concurrent_jobs,
                processes=self.settings.local_processes,
                dashboard_address=None,
                **({"host": "127.0.0.1"} if self.settings.local_processes else {}),
            )
            self.client = Client(self.cluster, set_as_default=False)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Disconnect (and stop the in-process cluster)."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close(timeout=10)
        if self.cluster is not None:
            for client in _worker_clients(self.cluster):
                with contextlib.suppress(Exception):
                    client.close(timeout=10)
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)
        self.client = self.cluster = None

    def submit(self, job_id: str, attempts: int) -> None:
        """Hand a queued job to the cluster (idempotent: same key, same task)."""
        from distributed import fire_and_forget

        if self.client is None:
            return
        future = self.client.submit(
            execute_job,
            job_id,
            self.settings.database_url,
            self.settings.heartbeat_seconds,
            self.settings.grace_seconds,
            key=f"mobility-job-{job_id}-{attempts}",
            pure=False,
        )
        fire_and_forget(future)  # type: ignore[no-untyped-call]

    def workers(self) -> int:
        """Number of workers the scheduler knows (0 when unreachable)."""
        if self.client is None or getattr(self.client, "status", "running") != "running":
            return 0
        try:
            n = self.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.workers))
        except Exception:
            return 0
        return int(n)

    def recover(self) -> dict[str, int]:
        """Re-submit queued jobs; re-queue or fail running jobs whose heartbeat stopped."""
        stale_before = datetime.now(UTC) - timedelta(seconds=self.settings.stale_after_seconds)
        requeued = failed = 0
        with self.sessions() as s:
            stale = s.scalars(select(Job).where(Job.status == "running")).all()
            for job in stale:
                hb = job.heartbeat_at
                if hb is not None and hb.tzinfo is None:  # SQLite returns naive UTC
                    hb = hb.replace(tzinfo=UTC)
                if hb is not None and hb >= stale_before:
                    continue
                reason = f"worker {job.worker or '?'} stopped sending heartbeats"
                if job.cancel_requested:
                    values: dict[str, Any] = {
                        "status": "cancelled",
                        "finished_at": utcnow(),
                        "message": reason,
                    }
                elif job.attempts < self.settings.max_attempts:
                    values = {"status": "queued", "message": f"re-queued: {reason}"}
                    requeued += 1
                else:
                    values = {
                        "status": "failed",
                        "finished_at": utcnow(),
                        "message": reason,
                        "error": {
                            "type": "WorkerLost",
                            "message": f"{reason}; gave up after {job.attempts} runs",
                        },
                    }
                    failed += 1
                s.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.status == "running", Job.attempts == job.attempts)
                    .values(**values)
                )
            s.commit()
            queued = s.execute(select(Job.id, Job.attempts).where(Job.status == "queued")).all()
        for job_id, attempts in queued:
            self.submit(job_id, attempts)
        return {"resubmitted": len(queued), "requeued": requeued, "failed": failed}

    def cancel(self, job_id: str) -> str | None:
        """Cancel: a queued job at once, a running one by flag (its task stops it). Returns the status."""
        with self.sessions() as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "queued")
                .values(status="cancelled", cancel_requested=True, finished_at=utcnow(), message="cancelled")
            )
            s.execute(
                update(Job).where(Job.id == job_id, Job.status == "running").values(cancel_requested=True)
            )
            s.commit()
            return s.scalar(select(Job.status).where(Job.id == job_id))

    def counts(self) -> dict[str, int]:
        """Jobs per status (for /metrics)."""
        with self.sessions() as s:
            rows = s.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        return {status: int(n) for status, n in rows}

    async def reaper(self, every: float) -> None:
        """Run :meth:`recover` forever, every ``every`` seconds (an asyncio task of the API)."""
        while True:
            await asyncio.sleep(every)
            try:
                if self.client is None and self.settings.scheduler_address:
                    await asyncio.to_thread(self.start)
                await asyncio.to_thread(self.recover)
            except Exception:  # keep reaping; the next round retries
                log.exception("job recovery round failed")
