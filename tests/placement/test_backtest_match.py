"""``stations_to_match``: the fewest new stations whose plan covers the real network's residents."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from mobility.placement import backtest as bt
from mobility.stats import SolverStats


@pytest.fixture
def linear_coverage(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Ten residents at each of 100 points; the existing stations cover the first 30 points and
    every new station one more point. ``_solve_count`` is replaced by that rule; a solve of ``n``
    stations reports objective and bound ``n`` in ``0.1 * n`` s."""
    pop = np.full(100, 10.0)
    before = np.zeros(100, dtype=bool)
    before[:30] = True

    def solve(sc: Any, inp: Any, n: int, *args: Any) -> Any:
        after = before.copy()
        after[30 : 30 + n] = True
        stats = SolverStats(
            solver="mip",
            status="optimal",
            objective=float(n),
            bound=float(n),
            seconds=0.1 * n,
            seed=0,
            gap=0.0,
        )
        return SimpleNamespace(covered_after=after, sites=np.arange(n), result=SimpleNamespace(stats=stats))

    monkeypatch.setattr(bt, "_solve_count", solve)
    return SimpleNamespace(
        demand=SimpleNamespace(population=pop), covered_before=before, candidates=list(range(70))
    )


def test_no_new_station_is_needed_when_the_existing_ones_reach_the_target(linear_coverage: Any) -> None:
    # backtest --from 2019-12 --to 2019-12: the real network is the old one (0 new stations)
    n, note = bt.stations_to_match(None, linear_coverage, 300.0, None, start=0)  # type: ignore[arg-type]
    assert n == 0, note
    n, _ = bt.stations_to_match(None, linear_coverage, 250.0, None, start=5)  # type: ignore[arg-type]
    assert n == 0


def test_the_count_is_within_the_tolerance_above_the_exact_one(linear_coverage: Any) -> None:
    n, _ = bt.stations_to_match(None, linear_coverage, 310.0, None, start=0, tolerance=1)  # type: ignore[arg-type]
    assert n == 1
    n, _ = bt.stations_to_match(None, linear_coverage, 500.0, None, start=8, tolerance=1)  # type: ignore[arg-type]
    assert n == 20


def test_every_bisection_solve_is_recorded(linear_coverage: Any) -> None:
    solves: list[bt.BisectionSolve] = []
    n, note = bt.stations_to_match(None, linear_coverage, 500.0, None, start=8, tolerance=1, solves=solves)  # type: ignore[arg-type]
    assert n == 20
    assert [s.new_stations for s in solves] == [8, 16, 32, 24, 20, 18, 19]  # doubling, then bisection
    assert f"({len(solves)} counts solved)" in note
    for s in solves:
        assert s.covered_population_300 == 10.0 * (30 + s.new_stations)
        assert (s.stats.objective, s.stats.bound, s.stats.gap) == (s.new_stations, s.new_stations, 0.0)
        assert s.stats.status == "optimal" and s.stats.seconds == pytest.approx(0.1 * s.new_stations)
