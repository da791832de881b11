"""A plan's rider simulation says what it is doing: the rider model's steps and each simulated day.

Inside ``mobility plan`` the baseline network's simulation ran 66 s without a line, while
``mobility simulate`` showed both; the plan now passes its progress through.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from mobility.simulation import plans
from mobility.simulation.data import StationSet
from mobility.simulation.model import RiderParams
from tests.progress_support import Heard


class _StoppedError(Exception):
    pass


def test_a_plans_simulation_reports_the_model_and_each_day(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    import mobility.simulation.pipeline as pipeline

    def prepare(source: str, day: str, **kw: Any) -> SimpleNamespace:
        kw["progress"]("fitting the rider model")
        return SimpleNamespace(bikes=None)

    def simulate(prep: object, replications: int, seed: int, **kw: Any) -> None:
        kw["progress"](1, replications)
        raise _StoppedError

    monkeypatch.setattr(pipeline, "prepare", prepare)
    monkeypatch.setattr(pipeline, "simulate", simulate)
    monkeypatch.setattr("mobility.cache.cached_file", lambda group, key, ext, build: build(tmp_path / "f"))
    table = pd.DataFrame(
        {"station_id": ["ST-4"], "number": [102], "gu": ["마포구"], "lat": [37.5556], "lon": [126.9104],
         "docks": [15]}
    )  # fmt: skip
    heard = Heard()
    with pytest.raises(_StoppedError):
        plans._run_network(
            StationSet(table, "test"), None, None, day="2023-06-14", replications=2, seed=0,
            params=RiderParams(), root=data_dir, label="before", progress=heard,
        )  # fmt: skip
    assert heard.messages == ["before: fitting the rider model", "before: day 1 of 2 simulated"]
    # the rider model's step moves no share of its own; each simulated day moves the bar
    assert heard.shares == [None, pytest.approx(plans.PREPARE_SHARE + (1 - plans.PREPARE_SHARE) / 2)]


def test_the_planner_s_walking_network_reports_its_first_build(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    """A cold ``make plan`` sat a minute on 'walking network' while the network was built from
    its GraphML; the loader's own line ('building the ... network ... (first time only)') now
    reaches the planner's progress."""
    from mobility.placement.pipeline import build_inputs
    from mobility.scenario.expansion import load_scenario

    def profiled(source: str, profile: str, data_dir: Path | None, **kw: Any) -> None:
        kw["progress"]("building the osm-all network from seoul.graphml.gz (first time only)")
        raise _StoppedError

    monkeypatch.setattr("mobility.network.profiles.profiled", profiled)
    heard = Heard()
    sc = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "seoul-2019-30k.yaml")
    with pytest.raises(_StoppedError):
        build_inputs(sc, data_dir=data_dir, progress=heard)
    assert heard.messages[-2:] == [
        "walking network",
        "building the osm-all network from seoul.graphml.gz (first time only)",
    ]
