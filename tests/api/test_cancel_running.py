"""A rebalancing run cancelled while it solves stops solving: its Dask task returns within seconds.

The job's row said ``cancelled`` at once, but its task went on solving: the nightly solver did not
ask its stop in the zones' search, 75 % of the time limit (76 s after a DELETE on a 120-s Seoul
night through this API).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api import jobs
from api.app import create_app
from api.jobs import JobContext, JobOutput
from api.runners import run_rebalancing
from tests.api.api_support import RUN, Api, keys_for, make_settings

TIME_LIMIT = 40
"""Solver seconds of the run: without its stop asked, the zones alone would take 30 of them."""

RETURN_WITHIN = 10.0
"""Seconds from the DELETE to the job function returning, generously (about 1 s here)."""


def _night(n_stations: int = 80, n_trucks: int = 6) -> dict[str, Any]:
    """A run that the solver decomposes (more than 4 trucks), on straight lines (no data needed)."""
    rng = np.random.default_rng(3)
    run = copy.deepcopy(RUN)
    stations = []
    for i in range(n_stations):
        docks = int(rng.integers(8, 20))
        stations.append(
            {
                "station_id": f"ST-{i}",
                "lon": float(126.95 + rng.uniform(0, 0.06)),
                "lat": float(37.53 + rng.uniform(0, 0.05)),
                "docks": docks,
                "bikes": int(rng.integers(0, docks + 1)),
                "target": docks // 2,
            }
        )
    run["snapshot"] = {"name": "cancel-me", "stations": stations}
    run["fleet"] = {
        "depots": [{"id": "D1", "lon": 126.96, "lat": 37.55}, {"id": "D2", "lon": 127.0, "lat": 37.56}],
        "trucks": [{"id": f"T{t}", "depot": f"D{1 + t % 2}", "capacity": 15} for t in range(n_trucks)],
    }
    return run | {"time_limit": TIME_LIMIT, "options": {"network": "straight"}}


@pytest.fixture
def real_runs(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, dict[str, Any]]]:
    """An app whose rebalancing kind is the real runner, recording when it returns and how."""
    seen: dict[str, Any] = {}

    def recorded(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
        try:
            return run_rebalancing(inputs, ctx)
        except BaseException as exc:
            seen["raised"] = type(exc).__name__
            raise
        finally:
            seen["returned"] = time.monotonic()

    monkeypatch.setitem(jobs._KINDS, "rebalancing", recorded)
    keys = keys_for(sqlite_url)
    with TestClient(create_app(make_settings(sqlite_url)), raise_server_exceptions=False) as client:
        yield Api(client, keys), seen


def test_a_run_cancelled_while_solving_returns_within_seconds(real_runs: tuple[Api, dict[str, Any]]) -> None:
    api, seen = real_runs
    r = api.client.post("/v1/rebalancing/runs", json=_night(), headers=api.h("ops"))
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    deadline = time.monotonic() + 120  # the solver's kernels may compile first (numba cache cold)
    while "zones" not in (api.client.get(loc, headers=api.h("viewer")).json().get("message") or ""):
        assert time.monotonic() < deadline and "returned" not in seen, "the run never reached its zones"
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the zones' search (30 s of it)
    cancelled_at = time.monotonic()
    assert api.client.delete(loc, headers=api.h("ops")).status_code in (200, 202)
    assert api.wait(loc, timeout=5)["status"] == "cancelled"
    while "returned" not in seen and time.monotonic() < cancelled_at + RETURN_WITHIN + 5:
        time.sleep(0.05)
    assert "returned" in seen, f"the job function still ran {RETURN_WITHIN + 5:g} s after the DELETE"
    took = seen["returned"] - cancelled_at
    assert took < RETURN_WITHIN, f"the job function returned {took:.1f} s after the DELETE"
    assert seen["raised"] == "JobCancelledError"  # stopped, not solved to the end
    done = api.client.get(loc, headers=api.h("viewer")).json()
    assert done["status"] == "cancelled" and not done.get("result")
