"""``stations_to_match``: the fewest new stations whose plan covers the real network's residents."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from mobility.placement import backtest as bt


@pytest.fixture
def linear_coverage(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Ten residents at each of 100 points; the existing stations cover the first 30 points and
    every new station one more point. ``_solve_count`` is replaced by that rule."""
    pop = np.full(100, 10.0)
    before = np.zeros(100, dtype=bool)
    before[:30] = True

    def solve(sc: Any, inp: Any, n: int, *args: Any) -> Any:
        after = before.copy()
        after[30 : 30 + n] = True
        return SimpleNamespace(covered_after=after, sites=np.arange(n))

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
