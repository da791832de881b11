"""Replications and sweep points spread over a Dask cluster (or run here).

The simulation of one day is one numba loop per replication, and replications are independent:
replication ``r`` draws from its own stream ``(seed, r)``, so a run of ``N`` days can be cut into
chunks of consecutive replications (:func:`~mobility.simulation.engine.run` with ``first``),
simulated anywhere and joined (:func:`~mobility.simulation.engine.concat`) into exactly the run
one machine would have produced. A fleet sweep's points are independent problems (the same
stations, other start stocks).

``client`` is a :class:`distributed.Client` (the API's cluster: an in-process ``LocalCluster``
by default, a scheduler address scales it out); ``None`` runs everything in this process. The
problem's arrays are scattered once and shared by the chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from mobility.simulation.engine import SimulationProblem, SimulationRun, concat, run

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

NO_WORKER_PROFILER = {"distributed.worker.profile.enabled": False}
"""Dask configuration of every cluster this project starts: the workers' statistical profiler
off. It reads ``sys._current_frames()`` every 10 ms, and on CPython before 3.11.9 that call can
deadlock the process with a thread being started while a garbage collection runs Python code
(CPython gh-106883, a lock-order inversion of the runtime lock and the GIL): the engine starts
its replication threads inside the worker's task thread. It hung the test suite once, in
``tests/simulation/test_fanout.py``, with every thread waiting. The profile is only a dashboard
view; ``docker/compose.yaml`` turns it off for its workers as well."""


def local_cluster(**kwargs: object) -> LocalCluster:
    """A :class:`distributed.LocalCluster` with ``kwargs`` and :data:`NO_WORKER_PROFILER` (its
    workers, in-process or in processes, are made with that configuration)."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(NO_WORKER_PROFILER):
        return LocalCluster(**kwargs)  # type: ignore[no-untyped-call]


DEFAULT_CHUNK = 10
"""Replications per task: enough work per task (a June weekday: ~0.1 s per replication) to
outweigh the scheduling, few enough to spread 100 replications over 10 workers."""


def run_with_bikes(
    problem: SimulationProblem,
    bikes: np.ndarray | None,
    replications: int,
    seed: int,
    first: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationRun:
    """:func:`~mobility.simulation.engine.run` from another start stock (a sweep point)."""
    p = problem if bikes is None else replace(problem, bikes=np.asarray(bikes, np.int64))
    return run(p, replications, seed, first, progress)


def _offset(progress: Callable[[int, int], None], done: int, total: int) -> Callable[[int, int], None]:
    """``progress`` of one stock's run as the count of the whole (``done`` replications before)."""
    return lambda n, _reps: progress(done + n, total)


def _chunks(replications: int, chunk: int) -> list[tuple[int, int]]:
    return [(a, min(chunk, replications - a)) for a in range(0, replications, chunk)]


def run_many(
    problem: SimulationProblem,
    stocks: list[np.ndarray | None],
    replications: int,
    seed: int,
    client: Client | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> list[SimulationRun]:
    """One run of ``replications`` days per start stock (``None``: the problem's own).

    With a Dask ``client`` every (stock, chunk of replications) is a task; the result is the same
    as without one (same seed, same figures). ``progress(done, total)``: called after each
    replication run here (``total``: replications times stocks); not called on a cluster.
    """
    if client is None:
        total = replications * len(stocks)
        runs: list[SimulationRun] = []
        for k, b in enumerate(stocks):
            step = None if progress is None else _offset(progress, k * replications, total)
            runs.append(run_with_bikes(problem, b, replications, seed, progress=step))
        return runs
    shared = client.scatter(problem, broadcast=False)  # type: ignore[no-untyped-call]
    futures = [
        [
            client.submit(run_with_bikes, shared, b, n, seed, first, pure=False)
            for first, n in _chunks(replications, chunk)
        ]
        for b in stocks
    ]
    return [concat(client.gather(fs)) for fs in futures]  # type: ignore[no-untyped-call]
