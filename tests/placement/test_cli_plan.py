"""``mobility plan`` argument and scenario errors (fast; the full run is covered by the slow tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from mobility.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_invalid_scenario_exits_2_naming_the_field(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(
        "name: bad\nbaseline: {stations: '2019-12'}\nfleet: {total_bikes: 100}\n"
        "new_stations: {max: 5}\ncoverage: {radius_m: -1}\n",
        encoding="utf-8",
    )
    r = run("plan", str(f), "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    assert "coverage.radius_m" in r.stderr
    assert not (tmp_path / "out" / "plan.json").exists()


def test_plan_help_lists_options() -> None:
    r = run("plan", "--help")
    assert r.returncode == 0
    for opt in ("--out", "--time-limit", "--seed", "--json", "--no-maps"):
        assert opt in r.stdout
