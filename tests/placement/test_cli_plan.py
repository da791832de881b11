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
    assert "sweep" in r.stdout and "run" in r.stdout
    r = run("plan", "run", "--help")
    assert r.returncode == 0
    for opt in ("--out", "--time-limit", "--seed", "--json", "--no-maps"):
        assert opt in r.stdout
    r = run("plan", "sweep", "--help")
    assert r.returncode == 0
    for opt in ("--new-stations", "--budget", "--with-500m", "--out", "--json"):
        assert opt in r.stdout


def test_sweep_options_are_checked_before_any_work(tmp_path: Path) -> None:
    sc = str(Path(__file__).resolve().parents[2] / "scenarios" / "seoul-2019-30k.yaml")
    out = tmp_path / "out"
    for args, field in (
        (("--new-stations", "800:300:100"), "--new-stations"),
        ((), "--new-stations/--budget"),
        (("--budget", "1e9:2e9:5e8"), "--budget"),  # the 2019 scenario has no budget section
    ):
        r = run("plan", "sweep", sc, *args, "--out", str(out))
        assert r.returncode == 2, (args, r.stderr)
        assert field in r.stderr
    assert not out.exists()


def test_stop_criterion_is_asked_before_every_step() -> None:
    import pytest

    from mobility.config import PROJECT_ROOT
    from mobility.errors import StopRequested
    from mobility.placement.pipeline import plan_expansion
    from mobility.scenario.expansion import load_scenario

    asked: list[float] = []
    steps: list[str] = []

    def stop_on_third(best_objective: float) -> bool:
        asked.append(best_objective)
        return len(asked) >= 3

    sc = load_scenario(PROJECT_ROOT / "scenarios" / "seoul-2019-30k.yaml")
    with pytest.raises(StopRequested) as info:
        plan_expansion(sc, progress=lambda step, done=None: steps.append(step), stop=stop_on_third)
    assert len(asked) == 3 and len(steps) == 2  # two steps ran, the third was refused
    assert info.value.step not in steps and info.value.step in str(info.value)
