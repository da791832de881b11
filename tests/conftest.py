"""Shared fixtures: the real Seoul data directory and a per-session cache; no test leaves a Dask
cluster or job running."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mobility.config import resolve_data_dir
from mobility.errors import DataNotFoundError


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real Seoul data directory; the suite fails loudly (not skips) when it is missing."""
    try:
        return resolve_data_dir()
    except DataNotFoundError as exc:  # pragma: no cover - CI always has the data
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Tiny hand-made files for edge cases (bad encodings, broken rows)."""
    return Path(__file__).parent / "fixtures"


LEFT_RUNNING_GRACE_SECONDS = 5.0
"""How long a test's cluster and job threads may take to end after it (they end at once when the
cluster was closed and no job was left running)."""


def cluster_threads() -> set[threading.Thread]:
    """Threads that only a running Dask cluster, client or API job keeps: an event loop of a
    cluster or client (distributed's ``IO loop``), a worker's task threads, a job's solver thread
    (``job-<id>``, :func:`api.jobs.execute_job`)."""
    return {
        t
        for t in threading.enumerate()
        if t.name == "IO loop" or "Dask-Default-Threads" in t.name or t.name.startswith("job-")
    }


def cluster_threads_left(
    before: set[threading.Thread], grace: float = LEFT_RUNNING_GRACE_SECONDS
) -> set[threading.Thread]:
    """The :func:`cluster_threads` not in ``before`` still running after up to ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while (left := cluster_threads() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture(autouse=True)
def no_cluster_left_running() -> Iterator[None]:
    """Fail the test that leaves a Dask cluster, client or job running behind it.

    Such threads outlive the test and log for the rest of the session (distributed's "ConnectionPool
    is closed" tracebacks, a job's crash when its cluster is gone). Formatting a traceback parses
    source, and on CPython 3.11.7 a parse in another thread can fail a test's own ``ast.parse``
    (python/cpython#106905, :mod:`tests.ast_support`): a leak is a flaky test elsewhere.
    """
    before = cluster_threads()
    yield
    if left := cluster_threads_left(before):
        names = ", ".join(sorted(t.name for t in left))
        pytest.fail(
            f"left running after the test: {names} (a Dask client or cluster not closed, or an API "
            "job still running when its app shut down: fake its kind, or wait for it)",
            pytrace=False,
        )


CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (``.ci/browser.sh``); never ``playwright install``."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, one for the session (per xdist worker) and for every test that
    looks at a page: the web app's and the exported maps'. Playwright's sync API runs one event
    loop per thread, so a second browser started while this one lives (a module's own fixture
    after a web test in the same worker) fails with "using Playwright Sync API inside the asyncio
    loop"."""
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is absent (CI installs it with .ci/browser.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-dev-shm-usage", "--use-gl=angle", "--use-angle=swiftshader",
                  "--enable-unsafe-swiftshader"],
        )  # fmt: skip
        yield b
        b.close()
