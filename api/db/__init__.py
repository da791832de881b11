"""The job store: SQLAlchemy 2 models, engines and Alembic migrations (shipped inside the package)."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_writers: dict[str, threading.Lock] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the API read while a worker process writes; busy_timeout waits instead of failing.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, not a
    # process crash. PostgreSQL is the store for deployments that need more.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def get_engine(url: str) -> Engine:
    """One engine per URL and process (SQLite files are created with their folder)."""
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        parsed = make_url(url)
        # A server may restart under a pooled connection (PostgreSQL): ping on checkout. A SQLite
        # file cannot go away that way, and the ping would cost every request a round trip.
        kwargs: dict[str, Any] = {"pool_pre_ping": parsed.get_backend_name() != "sqlite"}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        engine = create_engine(url, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        _engines[url] = engine
        return engine


def writing(sessions: sessionmaker[Session]) -> contextlib.AbstractContextManager[Any]:
    """Held around a write transaction of the API's request threads: one at a time per process
    on SQLite, which has one writer at a time anyway. Without it, concurrent submissions wait
    for the file's lock in SQLite's busy handler, which sleeps 1, 2, 5 ... 100 ms between tries;
    here they queue on a lock and go in turn (20 concurrent POSTs to one process: 2.45 -> 1.85 ms
    of CPU per submission). Writers in other processes still meet in the busy handler. Other
    databases: no lock."""
    engine = sessions.kw.get("bind")
    if engine is None or engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    with _lock:
        return _writers.setdefault(str(engine.url), threading.Lock())


def session_factory(url: str) -> sessionmaker[Session]:
    """Sessions bound to :func:`get_engine` (objects stay usable after commit)."""
    return sessionmaker(get_engine(url), expire_on_commit=False)


def dispose_engine(url: str) -> None:
    """Close the pooled connections of one URL (tests, shutdown)."""
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` with the packaged Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = get_engine(url)
    command.upgrade(cfg, revision)
