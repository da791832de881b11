"""A result that fails its independent check exits 1 (the work ran but did not pass), its files
written all the same for inspection: ``mobility plan`` (:mod:`mobility.placement.validate`) and
``mobility rebalance`` (:mod:`mobility.rebalancing.validate`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import mobility.placement.pipeline as pipeline
from mobility.cli import app
from tests.placement.test_plan import sample_plan

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "seoul-2019-30k.yaml"


@pytest.mark.parametrize("json_out", [False, True])
def test_a_plan_that_fails_the_check_exits_1_with_its_files_written(
    json_out: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tiny sample plan answers another scenario: the real validator finds violations."""

    def planned(*_a: Any, **_k: Any) -> tuple[Any, None]:
        return sample_plan(), None

    monkeypatch.setattr(pipeline, "plan_expansion", planned)
    out = tmp_path / "out"
    argv = ["plan", str(SCENARIO), "--out", str(out), "--no-maps", "--no-simulate"]
    res = CliRunner().invoke(app, [*argv, "--json"] if json_out else argv)
    assert res.exit_code == 1, res.output
    assert sorted(p.name for p in out.iterdir()) == ["plan.geojson", "plan.json"]  # kept, to look at
    assert json.loads((out / "plan.json").read_text(encoding="utf-8"))["scenario"] == "tiny"
    assert "error: the plan fails the independent check (" in res.stderr
    assert f"its files are written to {out} for inspection" in res.stderr
    if json_out:
        summary = json.loads(res.stdout)
        assert summary["valid"] is False and summary["violations"]
    else:
        assert "independent check: " in res.stderr and "fleet.total_bikes" in res.stderr


def test_routes_that_fail_the_check_exit_1_with_their_files_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mobility.rebalancing.validate as validate
    from tests.rebalancing.test_cli import _inputs

    real = validate.validate_plan

    def failing(*args: Any) -> Any:
        report = real(*args)
        report.violations.append("truck T1: load 9 above its capacity 8")
        return report

    monkeypatch.setattr(validate, "validate_plan", failing)
    sp, st = _inputs(tmp_path)
    out = tmp_path / "out"
    argv = ["rebalance", str(sp), "--status", str(st), "--out", str(out)]
    res = CliRunner().invoke(app, [*argv, "--no-simulate", "--no-maps", "--no-paths", "--json"])
    assert res.exit_code == 1, res.output
    assert json.loads(res.stdout)["valid"] is False
    assert sorted(p.name for p in out.iterdir()) == ["routes.csv", "routes.geojson", "routes.json"]
    assert "violation: truck T1: load 9 above its capacity 8" in res.stderr
    assert f"their files are written to {out} for inspection" in res.stderr
