"""``mobility serve`` (the HTTP service) and ``mobility keys`` (API keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mobility.cli.common import JsonOption, console, err_console, print_json

if TYPE_CHECKING:
    from api.settings import ApiSettings

ROLE_HELP = "planner (scenarios), ops (rebalancing runs), viewer (read only) or admin (keys)."
WORKER_START_SECONDS = 120
"""How long `mobility serve --workers N` waits for a worker process to answer before killing it."""


def _settings() -> ApiSettings:
    from api.settings import ApiSettings

    return ApiSettings()


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address (default: $MOBILITY_SCHEDULER_ADDRESS, else an in-process cluster).",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="API processes sharing the port, each with its own listening socket on Linux "
            "(SO_REUSEPORT: the kernel spreads the connections; elsewhere uvicorn's workers). With "
            "more than one and no scheduler, one local Dask cluster is started here and every "
            "process submits to it.",
        ),
    ] = 1,
) -> None:
    """Run the HTTP API (migrates the database first; jobs run on Dask)."""
    import os

    import uvicorn

    from api.app import create_app
    from api.db import migrate
    from api.workers import reuse_port_supported, run_workers

    settings = _settings().model_copy(update={"warm_web": True})  # the app's first map view waits for nothing
    if scheduler:
        settings = settings.model_copy(update={"scheduler_address": scheduler})
    migrate(settings.database_url)
    cluster: Any = None
    if workers > 1 and settings.run_jobs and not settings.scheduler_address:
        # Each worker process runs the app's lifespan: without a shared scheduler each would start
        # its own LocalCluster. One cluster here, and the processes connect to it as clients (the
        # job claim is a conditional UPDATE, so a job submitted by two processes runs once).
        from mobility.simulation.fanout import local_cluster

        cluster = local_cluster(
            n_workers=settings.local_workers,
            threads_per_worker=settings.max_concurrent_jobs,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        settings = settings.model_copy(update={"scheduler_address": cluster.scheduler_address})
    jobs = (
        "jobs recorded only (MOBILITY_RUN_JOBS=false)"
        if not settings.run_jobs
        else f"jobs on {settings.scheduler_address or 'an in-process Dask cluster'}"
    )
    err_console.print(f"mobility API on http://{host}:{port} ({workers} process(es); docs: /docs; {jobs})")
    try:
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, access_log=False)
        else:  # worker processes build the app from the environment, so pass the settings through it
            if settings.scheduler_address:
                os.environ["MOBILITY_SCHEDULER_ADDRESS"] = settings.scheduler_address
            os.environ["MOBILITY_DATABASE_URL"] = settings.database_url
            os.environ["MOBILITY_WARM_WEB"] = "true"
            if reuse_port_supported():  # one socket per process: the kernel spreads the connections
                run_workers(workers, host, port, log_level)
                return
            uvicorn.run(
                "api.app:create_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level=log_level,
                access_log=False,
                # A worker answers the supervisor's pings only once it has imported the CLI's modules
                # (9 s of wall time on the shared 2-core machine at load 7); uvicorn's default of 5 s
                # killed and restarted every worker before it could start, forever.
                timeout_worker_healthcheck=WORKER_START_SECONDS,
            )
    finally:
        if cluster is not None:
            cluster.close(timeout=10)


keys_app = typer.Typer(help="API keys of the HTTP service (stored hashed).", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    name: Annotated[str | None, typer.Option("--name", help="Who holds it (shown as the author).")] = None,
    expires_in_days: Annotated[
        float | None,
        typer.Option("--expires-in-days", min=0.001, max=36500, help="Stop working after this many days."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it once (only its SHA-256 is stored)."""
    from datetime import UTC, datetime, timedelta

    from api.auth import ROLES, create_key
    from api.db import migrate, session_factory
    from mobility.errors import InputError

    if role not in ROLES:
        raise InputError("--role", role, f"one of {', '.join(ROLES)}")
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    settings = _settings()
    migrate(settings.database_url)
    secret, rec = create_key(session_factory(settings.database_url), role, name or role, expires)
    if as_json:
        print_json(
            {
                "id": rec.id,
                "name": rec.name,
                "role": rec.role,
                "expires_at": expires.isoformat() if expires else None,
                "key": secret,
            }
        )
        return
    until = f", valid until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    err_console.print(f"created {rec.role} key {rec.id} for {rec.name!r}{until}; it is shown only now:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list(as_json: JsonOption = False) -> None:
    """List keys (ids, names, roles, expiry; never the secrets)."""
    from api.auth import list_keys
    from api.db import migrate, session_factory
    from api.routes.keys import key_info

    settings = _settings()
    migrate(settings.database_url)
    data: list[dict[str, Any]] = [
        key_info(r).model_dump(mode="json") for r in list_keys(session_factory(settings.database_url))
    ]
    for d in data:
        d["revoked"] = d["revoked_at"] is not None
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    t = Table("id", "name", "role", "created", "expires", "revoked", "active")
    t.columns[0].no_wrap = True
    for d in data:
        t.add_row(
            d["id"],
            d["name"],
            d["role"],
            d["created_at"][:19],
            (d["expires_at"] or "")[:19],
            "yes" if d["revoked"] else "",
            "yes" if d["active"] else "no",
        )
    console.print(t)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id (from `mobility keys list`).")]) -> None:
    """Revoke a key."""
    from api.auth import revoke_key
    from api.db import migrate, session_factory
    from mobility.errors import InputError

    settings = _settings()
    migrate(settings.database_url)
    if revoke_key(session_factory(settings.database_url), key_id) is None:
        raise InputError("key_id", key_id, "an id listed by `mobility keys list`")
    err_console.print(f"revoked {key_id}")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``keys`` group."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
