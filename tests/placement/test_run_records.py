"""Same inputs and seed, same document but for its timing fields: plan.json and backtest.json keep
their wall time in ``wall_seconds``, not in a note, and the coverage curve names the solver of each
point (its :class:`~mobility.stats.SolverStats`, shaped as plan.json's ``siting_stats``).

Small runs on the 2025-12 network (3 new stations, no district floors, no demand model; the inputs
built once): about 25 s in all.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from mobility.placement import backtest as bt
from mobility.placement.pipeline import ExpansionInputs, build_inputs, model_params, plan_expansion
from mobility.placement.sweep import sweep, sweep_json_schema
from mobility.stats import SolverStats
from tests.placement.test_plan_population import GRID

TIMING = re.compile(r"\d(?:[.,]\d+)? ?s\b|seconds|end-to-end", re.IGNORECASE)
"""A time in a note: ``"end-to-end 3.5 s"``, ``"backtest 45.1 s"``."""


@pytest.fixture(scope="module")
def inputs(data_dir: Path) -> ExpansionInputs:
    return build_inputs(GRID, data_dir=data_dir)


def _timed(notes: list[str]) -> list[str]:
    return [n for n in notes if TIMING.search(n)]


def test_two_plans_of_a_run_have_the_same_notes_and_no_time_in_them(inputs: ExpansionInputs) -> None:
    first, _ = plan_expansion(GRID, inputs=inputs, time_limit=20, seed=0, simulate=False)
    second, _ = plan_expansion(GRID, inputs=inputs, time_limit=20, seed=0, simulate=False)
    for plan in (first, second):
        assert plan.notes and _timed(plan.notes) == []
        assert plan.wall_seconds is not None
        assert plan.wall_seconds >= plan.siting_stats.seconds + plan.fleet_stats.seconds
    assert first.notes == second.notes


def test_the_backtest_records_its_wall_time_as_a_field_not_a_note(inputs: ExpansionInputs) -> None:
    """OLD = the 2025-12 list, NEW = it and three candidate sites (at least 200 m from any
    station, so new by the 50 m rule)."""
    old = inputs.stations
    c = inputs.candidates
    added = pd.DataFrame(
        {"lon": c.lon[:3], "lat": c.lat[:3], "gu": c.gu[:3], "docks": 10, "name": ["a", "b", "c"]}
    )
    new = pd.concat([old, added], ignore_index=True)
    result = bt.backtest(
        GRID,
        old,
        new,
        inputs=inputs,
        params=model_params(GRID, 20, 0),
        old_label="2025-12",
        new_label="2025-12 and three",
        random_draws=2,
    )
    assert result.real.new_stations == 3
    assert result.notes and _timed(result.notes) == []
    assert result.wall_seconds is not None and result.wall_seconds >= result.siting_stats.seconds
    doc = result.to_dict()
    jsonschema.validate(doc, bt.backtest_json_schema())
    schema = bt.backtest_json_schema()
    assert "wall_seconds" in schema["required"]
    assert "whole backtest" in schema["properties"]["wall_seconds"]["description"]


def test_every_point_of_the_curve_names_its_solver(inputs: ExpansionInputs) -> None:
    curve = sweep(GRID, "new_stations", [2, 3], inputs=inputs, time_limit=20, seed=0)
    assert len(curve.point_stats) == len(curve.points) == 2
    for point, stats in zip(curve.points, curve.point_stats, strict=True):
        assert stats.solver and stats.seed == 0
        assert (point.status, point.objective, point.bound, point.gap) == (
            stats.status,
            stats.objective,
            stats.bound,
            stats.gap,
        )
    doc = curve.to_dict()
    jsonschema.validate(doc, sweep_json_schema())
    # plan.json's siting_stats shape: every SolverStats field
    assert set(doc["point_stats"][0]) == {f.name for f in fields(SolverStats)}
    assert "point_stats" in sweep_json_schema()["required"]
