"""``sweep.json`` records the rider parameters; ``simulation.json`` the command's total time."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.cli import simulate as simulate_cli
from mobility.simulation import pipeline
from mobility.simulation.engine import RebalanceRule
from mobility.simulation.model import RiderParams
from mobility.simulation.pipeline import Prepared
from mobility.simulation.sweep import SimulationSweep, sweep_document


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"fleet": 20000, "gu": "citywide", "served_share": 0.9, "served_share_low": 0.89,
             "served_share_high": 0.91, "lost_empty": 10.0},
        ]
    )  # fmt: skip


def _doc(params: RiderParams) -> SimulationSweep:
    prep = Prepared(
        model=SimpleNamespace(params=params),  # type: ignore[arg-type]  # only the parameters are read
        day=pd.Timestamp("2019-06-12"),
        bikes=np.array([3]),
        start_inventory="status snapshot",
        source="2019-12",
        datasets={},
    )
    return sweep_document(prep, _table(), replications=2, seed=1, seconds=1.0)


def test_sweep_json_records_the_walk_radius_and_the_rebalancing_rule() -> None:
    near = _doc(RiderParams(walk_radius_m=300.0)).summary()["params"]
    far = _doc(RiderParams(walk_radius_m=500.0)).summary()["params"]
    assert near["walk_radius_m"] == 300.0 and far["walk_radius_m"] == 500.0
    assert near["rebalancing_rule"] is None and near["ride_on_neighbours"] == 10
    ruled = _doc(RiderParams(rebalance=RebalanceRule(every_s=3600, cap=40)))
    back = SimulationSweep.model_validate_json(ruled.model_dump_json())
    assert back.params["rebalancing_rule"]["every_s"] == 3600
    assert back.params["rebalancing_rule"]["cap"] == 40


class _Result:
    """Stands in for the engine's result: records the update the command makes."""

    seconds = 0.01

    def __init__(self, seen: dict[str, Any]) -> None:
        self.seen = seen

    def model_copy(self, *, update: dict[str, Any]) -> _Result:
        self.seen.update(update)
        return self

    def summary(self) -> dict[str, Any]:
        return {"seconds": self.seconds}


def test_simulation_json_records_the_total_seconds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    written: list[Any] = []

    def slow_prepare(*_a: Any, **_k: Any) -> Any:
        time.sleep(0.2)  # loading the data: counted in the total, not in the engine's seconds
        return SimpleNamespace(add_inputs=lambda _i: None, stations=[1, 2], input_notes=[])

    monkeypatch.setattr(pipeline, "prepare", slow_prepare)
    monkeypatch.setattr(pipeline, "simulate", lambda *_a, **_k: (None, _Result(seen)))
    monkeypatch.setattr(simulate_cli, "write_outputs", lambda _o, result, *_a: written.append(result))
    r = CliRunner().invoke(
        app, ["simulate", "2019-12", "--day", "2019-06-12", "--out", str(tmp_path / "o"), "--json"]
    )
    assert r.exit_code == 0, r.output
    assert seen["seconds_total"] >= 0.2 and written  # set before simulation.json is written
    assert json.loads(r.stdout)["seconds_total"] >= seen["seconds_total"]


def test_the_total_is_a_described_field_of_simulation_json() -> None:
    from mobility.simulation.result import simulation_json_schema

    props = simulation_json_schema()["properties"]
    assert "whole command" in props["seconds_total"]["description"]
    assert "Engine time" in props["seconds"]["description"]
