"""Usage errors end with click's message and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["rebalance", "scenarios/seoul-nightly.yaml"], "Missing option '--status'"),
        (["plan", "--bogus"], "No such option: --bogus"),
        (["simulate", "2025-12"], "Missing option"),
    ],
)
def test_usage_error_exits_2_without_traceback(argv: list[str], says: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from mobility.cli import main; main()", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr
