"""``mobility bench pmedian`` reproduces every OR-Library optimum in the shared folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mobility.cli import app

PMED_DIR = Path("/work/shared/benchmarks/pmed")
if not PMED_DIR.is_dir():  # pragma: no cover
    PMED_DIR = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "pmed"


def test_bench_pmedian_reproduces_all_optima() -> None:
    result = CliRunner().invoke(app, ["bench", "pmedian", str(PMED_DIR), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["solved"] == 5
    assert out["all_match"] is True
    assert [r["objective"] for r in out["instances"]] == [5819, 4093, 4250, 3034, 1355]
