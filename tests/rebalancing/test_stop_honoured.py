"""A stopping criterion given to the nightly solver ends every phase, the zones' too.

An API job's cancellation reaches the solver only as its ``stop``: a decomposed night (more than
``whole_max_trucks`` trucks) that asked it only in the border repair searched its zones for 75 %
of the time limit after the cancel (70 s of a 120-s Seoul night).
"""

from __future__ import annotations

import time

import pytest

from mobility.rebalancing.solve import SolveParams, solve
from mobility.rebalancing.validate import validate_plan
from tests.rebalancing.rb_synth import make_problem

TIME_LIMIT = 40.0
"""Solver seconds: the zones alone would search for 30 of them if the stop were not asked."""

STOP_AFTER = 0.5
"""Seconds of zone search before the stop says stop."""

RETURN_WITHIN = 10.0
"""Seconds from the stop to :func:`solve` returning, generously (about 0.1 s here)."""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stop_during_the_zones_ends_the_solve_within_seconds(workers: int) -> None:
    """Stop asked half a second into the zones' search: the night returns at once, with routes
    that pass the independent check (one worker: zones in this process; two: zone processes)."""
    problem = make_problem(11, n=80, n_trucks=6, capacity=10, n_depots=2)
    started: list[float] = []  # when the zones began (after the kernels' compilation)

    def progress(message: str, /, done: float | None = None) -> None:
        if "zones" in message and not started:
            started.append(time.perf_counter())

    def stop(best_objective: float) -> bool:
        return bool(started) and time.perf_counter() > started[0] + STOP_AFTER

    params = SolveParams(time_limit=TIME_LIMIT, seed=0, workers=workers)
    plan = solve(problem, params, stop=stop, progress=progress)
    after_stop = time.perf_counter() - (started[0] + STOP_AFTER)
    assert plan.stats.extra["decomposed"] is True and plan.stats.extra["zones"] >= 2
    assert after_stop < RETURN_WITHIN, f"solve returned {after_stop:.1f} s after the stop"
    assert validate_plan(problem, plan).ok
    assert plan.stats.extra["stopped_by"] == "clock"  # the routes depend on when it stopped
