"""Fixtures of the browser tests: one ``mobility serve`` (with its in-process job cluster and a
SQLite job store) for the session and API keys per role; headless Debian Chromium is the
session's one ``browser`` (``tests/conftest.py``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[dict[str, Any]]:
    """A real ``mobility serve`` on a free port; keys for planner, ops and viewer."""
    from mobility.export.vector_tiles import overview_tiles

    overview_tiles(data_dir)  # built once into the (shared) cache, so no browser test waits for it
    tmp = tmp_path_factory.mktemp("web")
    env = {
        **os.environ,
        "MOBILITY_DATABASE_URL": f"sqlite:///{tmp / 'web.sqlite'}",
        "MOBILITY_JOB_OVERHEAD_SECONDS": "600",
        "MOBILITY_MAX_CONCURRENT_JOBS": "2",
        "MOBILITY_RATE_LIMIT": "100000/minute",
        "PYTHONUNBUFFERED": "1",
    }
    from api.auth import create_key
    from api.db import dispose_engine, migrate, session_factory

    migrate(env["MOBILITY_DATABASE_URL"])
    sessions = session_factory(env["MOBILITY_DATABASE_URL"])
    keys = {role: create_key(sessions, role, f"web-{role}")[0] for role in ("planner", "ops", "viewer")}
    dispose_engine(env["MOBILITY_DATABASE_URL"])
    port = _port()
    log = tmp / "serve.log"
    proc = subprocess.Popen(
        [str(BIN / "mobility"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mobility serve exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mobility serve not ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield {"url": url, "keys": keys, "log": log}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture(scope="session")
def shots() -> Path:
    """Where the screenshots and the printed PDF go, for people to look at: ``out/web-tests/``
    (git-ignored run output; replaced by every run)."""
    from mobility.config import PROJECT_ROOT

    d = PROJECT_ROOT / "out" / "web-tests"
    d.mkdir(parents=True, exist_ok=True)
    return d
