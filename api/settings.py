"""Settings of the HTTP service, read from ``MOBILITY_*`` environment variables.

The database URL is the project's (:attr:`mobility.config.Settings.database_url`, variable
``MOBILITY_DATABASE_URL``): a SQLite file under ``.cache/`` by default, PostgreSQL with e.g.
``postgresql+psycopg://user@host:5432/db``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mobility.config import PROJECT_ROOT, get_settings

WEB_VENDOR_DIR = Path(__file__).resolve().parent / "web" / "node_modules"
"""Default :attr:`ApiSettings.web_vendor_dir`: the web app's npm packages, installed by ``make setup``."""

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Default :attr:`ApiSettings.trusted_hosts`: this machine's names (a test sets its test client's
host, ``testserver``, itself: a served API trusts no name a client may pick for it)."""


class ApiSettings(BaseSettings):
    """Everything the service and its job workers need to know.

    Attributes
    ----------
    database_url
        SQLAlchemy URL of the job store (default: the project's SQLite file).
    scheduler_address
        Address of a Dask scheduler (``tcp://host:8786``); ``None`` starts an in-process
        :class:`distributed.LocalCluster` so that nothing else has to run.
    local_workers
        Worker processes of the in-process cluster.
    local_processes
        Whether the in-process cluster uses worker processes (``True``, isolation from the
        API's event loop) or threads (tests, where fake job kinds live in the test process).
    max_concurrent_jobs
        Jobs run at once by each worker of the in-process cluster (its threads).
    default_time_limit, max_time_limit
        Solver wall-time limit (seconds) when the request names none, and the largest accepted.
    grace_seconds
        How long past its time limit a job may take to stop before it is marked failed.
    job_overhead_seconds
        Wall time allowed on top of the solver time for loading data and building models: a
        job's hard limit is (solver seconds x models) + this.
    heartbeat_seconds, stale_after_seconds, max_attempts
        Running jobs write a heartbeat; one silent for ``stale_after_seconds`` is re-queued (up
        to ``max_attempts`` runs in all) or marked failed with the reason.
    rate_limit
        Per-key request budget in the notation of the ``limits`` library (``"600/minute"``).
    rate_limit_storage
        ``memory://`` (one process) or ``redis://host:6379`` (shared by several API processes).
    cors_origins
        Origins allowed by CORS (empty: CORS headers are not sent).
    max_body_bytes
        Largest accepted request body (413 beyond).
    key_cache_seconds
        How long a verified API key is remembered in memory (revocation takes effect after it).
    station_month
        Station list served by ``GET /v1/stations``.
    run_jobs
        ``False``: this API process only records jobs (they stay queued until an API with
        ``run_jobs`` starts and re-submits them); used by read replicas and the benchmark.
    warm_web
        Load the web app's basemap (style module, overview tiles) in a thread at start-up, so
        that the first map view does not wait for it; ``mobility serve`` turns it on.
    scenario_dir
        Folder of the shipped scenario files (``*.yaml``) offered by ``GET /v1/web/scenarios``
        (default: ``scenarios/`` of the source tree; the image sets ``/opt/mobility/scenarios``).
    web_vendor_dir
        A ``node_modules`` folder holding ``maplibre-gl/dist/``, the MapLibre GL JS files served
        under ``/web/vendor/`` (default: ``api/web/node_modules``, installed by ``make setup``;
        the image sets ``/opt/mobility/web/node_modules``).
    public_url
        The URL clients reach this service at (``https://bikes.example.org``, with the path
        prefix a reverse proxy adds, if any): the absolute links the service hands out (the feed
        URLs of a plan's GBFS ``gbfs.json``) start with it. ``None``: the request's own URL, but
        only when its ``Host`` is one of ``trusted_hosts``; a request naming another host gets a
        422 on ``header.host`` instead of links to that host.
    trusted_hosts
        Host names (no port) whose requests may set the links' host when ``public_url`` is not
        set: this machine's (:data:`LOCAL_HOSTS`) by default; ``*.example.org`` matches every
        subdomain, ``*`` any host (links then follow the ``Host`` header, which a client chooses).
    """

    model_config = SettingsConfigDict(env_prefix="MOBILITY_", extra="ignore")

    database_url: str = Field(default_factory=lambda: get_settings().database_url)
    scheduler_address: str | None = None
    local_workers: int = Field(default=1, ge=1, le=64)
    local_processes: bool = True
    max_concurrent_jobs: int = Field(default=2, ge=1, le=256)
    default_time_limit: float = Field(default=300.0, gt=0)
    max_time_limit: float = Field(default=3600.0, gt=0)
    grace_seconds: float = Field(default=30.0, ge=0)
    job_overhead_seconds: float = Field(default=900.0, ge=0)
    heartbeat_seconds: float = Field(default=2.0, gt=0)
    stale_after_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=2, ge=1, le=10)
    rate_limit: str = "600/minute"
    rate_limit_storage: str = "memory://"
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    key_cache_seconds: float = Field(default=30.0, ge=0)
    station_month: str = "2025-12"
    run_jobs: bool = True
    warm_web: bool = False
    scenario_dir: Path = PROJECT_ROOT / "scenarios"
    web_vendor_dir: Path = WEB_VENDOR_DIR
    public_url: str | None = None
    trusted_hosts: list[str] = Field(default_factory=lambda: list(LOCAL_HOSTS))

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str | None) -> str | None:
        """An ``http(s)://host[:port][/prefix]`` URL, without query or fragment; kept without its
        trailing ``/``."""
        if url is None:
            return None
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("an http:// or https:// URL with a host (e.g. https://bikes.example.org)")
        return url.strip().rstrip("/")


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The service settings of this process (read once)."""
    return ApiSettings()
