"""Replications and sweep points spread over a Dask cluster give exactly the one-machine result."""

from __future__ import annotations

import numpy as np

from mobility.simulation.engine import concat, run
from mobility.simulation.fanout import local_cluster, run_many
from tests.simulation.test_engine import make_problem


def test_chunks_of_replications_join_into_the_same_run() -> None:
    p = make_problem(8, rate=1.0)
    whole = run(p, replications=7, seed=5)
    parts = concat([run(p, 3, 5, first=0), run(p, 3, 5, first=3), run(p, 1, 5, first=6)])
    assert np.array_equal(whole.counts, parts.counts)
    assert np.array_equal(whole.end_bikes, parts.end_bikes)
    assert np.array_equal(whole.extra_s, parts.extra_s)


def test_a_dask_cluster_gives_the_same_runs_as_this_process() -> None:
    from distributed import Client

    p = make_problem(8, rate=1.0)
    stocks = [None, np.full(8, 2, dtype=np.int64)]
    here = run_many(p, stocks, replications=7, seed=3)
    with (
        local_cluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        # no statistical profiler on the workers: with it this test once hung (CPython gh-106883)
        assert all("profile" not in w.periodic_callbacks for w in cluster.workers.values())
        there = run_many(p, stocks, replications=7, seed=3, client=client, chunk=2)
        tasks = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.transition_log))
    for a, b in zip(here, there, strict=True):
        assert np.array_equal(a.counts, b.counts) and np.array_equal(a.end_bikes, b.end_bikes)
    assert there[1].end_bikes.sum(axis=1).tolist() == [16] * 7  # the sweep point's own stock
    assert tasks > 0
