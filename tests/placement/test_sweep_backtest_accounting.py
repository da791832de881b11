"""The sweep records the time of its inputs stage; the backtest document keeps its bisection solves
(recorded by ``stations_to_match``: tests/placement/test_backtest_match.py)."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from mobility.placement import backtest as bt
from mobility.placement import sweep as sweep_mod
from mobility.scenario.expansion import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BUILD_S = 0.3


def _inputs() -> Any:
    """Just what a sweep without points reads of its inputs."""
    return SimpleNamespace(
        demand=SimpleNamespace(population=np.full(4, 10.0)),
        covered_before=np.array([True, False, False, False]),
        datasets={},
        notes=[],
    )


def test_the_sweep_records_the_time_of_building_its_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow_build(*_a: Any, **_k: Any) -> Any:
        time.sleep(BUILD_S)
        return _inputs()

    monkeypatch.setattr(sweep_mod, "build_inputs", slow_build)
    sc = load_scenario(SCENARIOS / "seoul-2019-30k.yaml")
    doc = sweep_mod.sweep(sc, "new_stations", []).to_dict()
    assert BUILD_S <= doc["inputs_seconds"] < BUILD_S + 5
    # inputs given already built: this sweep spent no time on them
    assert sweep_mod.sweep(sc, "new_stations", [], inputs=_inputs()).inputs_seconds is None
    prop = sweep_mod.sweep_json_schema()["properties"]["inputs_seconds"]
    assert "inputs stage" in prop["description"]


def test_the_backtest_document_describes_its_bisection_solves() -> None:
    schema = bt.backtest_json_schema()
    assert "stations_to_match_solves" in schema["required"]
    prop = schema["properties"]["stations_to_match_solves"]
    assert prop["type"] == "array" and "bisection" in prop["description"]
    solve = schema["$defs"]["BisectionSolve"]
    assert {"new_stations", "covered_population_300", "stats"} <= set(solve["required"])
