"""The app's shutdown stops its in-process Dask cluster whole: no thread of it runs on.

A fan-out job (a simulation) gets the worker's client (``distributed.get_client``), which shares
the cluster's event loop; the worker closed it at shutdown without giving the loop back, so every
app that had run one left the cluster's ``IO loop`` thread running for the rest of the process.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import jobs
from api.app import create_app
from tests.api.api_support import Api, keys_for, make_settings
from tests.conftest import cluster_threads, cluster_threads_left

BODY: dict[str, Any] = {"stations": "2025-12", "day": "2023-06-14", "replications": 2, "seed": 7}


def fanned_out(inputs: dict[str, Any], ctx: jobs.JobContext) -> jobs.JobOutput:
    """A simulation's stand-in that submits a part of its work to the cluster, as the real one."""
    assert ctx.dask_client is not None
    return jobs.JobOutput(result={"kpis": {"parts": ctx.dask_client.submit(sum, [1, 2]).result()}})


@pytest.mark.parametrize("jobs_run", [2, 0])
def test_no_thread_of_the_cluster_outlives_the_app(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, jobs_run: int
) -> None:
    monkeypatch.setitem(jobs._KINDS, "simulation", fanned_out)
    before = cluster_threads()
    keys = keys_for(sqlite_url)
    with TestClient(create_app(make_settings(sqlite_url))) as client:
        api = Api(client, keys)
        for _ in range(jobs_run):
            r = client.post("/v1/simulations", json=BODY, headers=api.h("planner"))
            assert r.status_code == 202, r.text
            done = api.wait(r.headers["Location"])
            assert done["status"] == "succeeded" and done["kpis"] == {"parts": 3}, done
    left = cluster_threads_left(before, grace=2.0)
    assert not left, sorted(t.name for t in left)
