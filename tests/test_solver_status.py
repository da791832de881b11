"""A result is called optimal only when its gap proves it."""

from __future__ import annotations

import time

import pytest

from mobility.stats import OPTIMAL_GAP, SolverStats


@pytest.mark.parametrize(
    ("status", "objective", "bound", "expected"),
    [
        ("optimal", 32_234.13, 32_203.24, "gap_limit"),  # SCIP at relative_gap 0.001 (the 2019 plan)
        ("optimal", 100.0, 100.0, "optimal"),
        ("optimal", 1e6, 1e6 * (1 - OPTIMAL_GAP / 2), "optimal"),  # numerical noise
        ("optimal", 5.0, None, "optimal"),  # no bound to compare: the solver's word stands
        ("feasible", 10.0, 9.0, "feasible"),
    ],
)
def test_optimal_means_proven(status: str, objective: float, bound: float | None, expected: str) -> None:
    stats = SolverStats.since(
        time.perf_counter(), solver="mip", status=status, objective=objective, bound=bound, seed=0
    )
    assert stats.status == expected
