"""``mobility plan`` refuses a scenario whose fleet rules cannot hold before the long stages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.test_cli_boundary import ROOT, run


def test_150_new_stations_for_30000_bikes_are_refused_before_the_inputs_stage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mobility.placement.pipeline

    def never(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the planner started on a scenario that cannot hold")

    monkeypatch.setattr(mobility.placement.pipeline, "plan_expansion", never)
    doc = yaml.safe_load((ROOT / "scenarios" / "seoul-2019-30k.yaml").read_text(encoding="utf-8"))
    doc["new_stations"]["max"] = 150
    scenario = tmp_path / "seoul-2019-150.yaml"
    scenario.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    code, err = run(["plan", str(scenario), "--out", str(tmp_path / "out")], capsys, monkeypatch)
    assert code == 2, err  # as any InfeasibleError of the planner (mobility.cli.main)
    said = "error: new_stations.max: got 150; expected at least 280 new stations: fleet.total_bikes = 30000"
    assert said in err
    assert not (tmp_path / "out").exists()
