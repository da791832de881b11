"""``mobility export <plan> -f csv`` names exactly the formats a plan can be exported in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mobility.cli.export import FOR_A_PLAN, ExportFormat, _check_documents
from tests.cli.test_cli_boundary import run


def test_csv_of_a_plan_lists_every_format_a_plan_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"new_stations": [], "districts": []}), encoding="utf-8")
    code, err = run(["export", str(plan), "-f", "csv", "-o", str(tmp_path / "x")], capsys, monkeypatch)
    assert code == 2, err
    assert err.strip().endswith("for a plan or 'current' one of geojson, gpkg, gbfs, html, png, svg"), err
    assert set(FOR_A_PLAN) == {f.value for f in ExportFormat} - {"csv"}
    for fmt in FOR_A_PLAN:  # each one listed passes the plan's checks
        _check_documents(str(plan), ExportFormat(fmt), None, None)
