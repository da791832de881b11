"""``mobility bench brp|pdtsp DIR``: a folder without instances of the family is a user error
(exit 2, naming the folder and the files expected), and ``--no-baseline`` says the OR-Tools
baseline was not run instead of showing it as "found no tour"."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mobility.cli import main
from mobility.cli.bench_routing import _print


def _mobility(monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setattr(sys, "argv", ["mobility", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0)


@pytest.mark.parametrize(
    ("kind", "files", "expected"),
    [
        ("pdtsp", ["7Bergamo30.txt"], "no *.tsp files; expected 1-PDTSP"),
        ("brp", [], "no *.txt files; expected BRP"),
    ],
)
def test_a_folder_without_instances_of_the_family_exits_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    kind: str,
    files: list[str],
    expected: str,
) -> None:
    inst = tmp_path / "instances"
    inst.mkdir()
    for name in files:
        (inst / name).write_text("", encoding="utf-8")
    code = _mobility(monkeypatch, "bench", kind, str(tmp_path), "--time-limit", "2", "--no-baseline")
    out, err = capsys.readouterr()
    assert code == 2
    flat = " ".join(err.split())
    assert f"{inst}: {expected}" in flat
    if files:
        assert "mobility bench brp" in flat  # the files are another family's
    assert "reached 0/0" not in out


def _out(baseline: bool) -> dict[str, Any]:
    row = {
        "instance": "n20q10A",
        "engine": "ils",
        "stations": 19,
        "Q": 10,
        "cost": 4963,
        "status": "optimal",
        "valid": True,
        "best_known": 4963,
        "gap_pct": 0.0,
        "ortools_cost": None,
        "ortools_model": None,
        "ratio_to_ortools": None,
        "seconds": 2.0,
    }
    keys = ("solved", "reached_best_known", "with_best_known", "worse_than_ortools", "ortools_no_solution")
    return {
        "instances": [row],
        **dict.fromkeys(keys, 1),
        "worse_than_ortools": 0,
        "ortools_no_solution": int(baseline),
        "benchmark": "pdtsp",
        "mean_gap_pct": 0.0,
        "total_seconds": 2.0,
        "mean_ratio_to_ortools": None,
        "baseline": baseline,
        "time_limit": 2.0,
        "seed": 0,
        "baseline_seconds": 0.0,
        "stopped_by_clock": 0,
        "directory": "pdtsp",
        "workers": 2,
        "single_route": "ils",
        "datasets": {},
        "code_version": "test",
        "libraries": {},
        "machine": {"cores": 2, "ram_gb": 8.0, "cpu": "cpu", "python": "3.11", "loadavg": None},
    }


def test_no_baseline_shows_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    _print(_out(baseline=False), "1-PDTSP")
    out = capsys.readouterr().out
    assert "not run" in out and "OR-Tools None" not in out
    assert " none " not in out.replace("│", " ")
    assert json.loads(out.strip().splitlines()[-1])["mean_ratio_to_ortools"] is None


def test_a_baseline_without_a_tour_still_shows_none(capsys: pytest.CaptureFixture[str]) -> None:
    _print(_out(baseline=True), "1-PDTSP")
    out = capsys.readouterr().out
    assert "none" in out and "not run" not in out


@pytest.mark.parametrize(
    ("violations", "shown", "not_shown"),
    [(["no solution"], "no tour", "INVALID"), (["load 11 above Q = 10 after stop 3"], "INVALID", "no tour")],
)
def test_an_instance_without_a_tour_is_not_called_invalid(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    violations: list[str],
    shown: str,
    not_shown: str,
) -> None:
    """A short ``--time-limit`` may end before the engine has any tour: that is "no tour", as in the
    OR-Tools column, not a tour the independent check refused."""
    from mobility.cli import common

    # as wide as a file or pipe gets (160 columns), whatever width an earlier test left the console
    monkeypatch.setattr(common.console, "width", 160)
    out = _out(baseline=True)
    out["instances"][0].update(cost=None, valid=False, violations=violations, status="time_limit")
    _print(out, "1-PDTSP")
    row = next(line for line in capsys.readouterr().out.splitlines() if "n20q10A" in line)
    assert shown in row and not_shown not in row
