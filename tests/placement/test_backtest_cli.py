"""``mobility backtest`` says what it was given: rows of the station lists left out, lists in
reverse order, a missing file named by its option, and whether the siting is proven optimal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.cli.common import siting_line
from mobility.placement import backtest as bt
from mobility.placement.backtest import list_month, reversed_lists_note
from mobility.quality import QualityReport
from mobility.sources.stations import load_station_list
from mobility.stats import SolverStats
from tests.cli.test_data_settings import run


class _StopError(Exception):
    pass


def _broken_copy(data_dir: Path, path: Path) -> Path:
    """The 2025-12 list with three rows that cannot be used: coordinates unparseable, outside
    Seoul, and a duplicate station number."""
    lines = (data_dir / "ttareungi" / "stations_2025-12.csv").read_text(encoding="utf-8").splitlines()
    head, rows = lines[0], lines[1:]
    cells = [r.split(",") for r in rows[:3]]
    cells[0][4] = "abc"  # 위도
    cells[1][4], cells[1][5] = "35.1", "129.0"  # Busan
    dup = list(cells[2])
    dup[1] = " 같은 번호"
    path.write_text(
        "\n".join([head, *(",".join(c) for c in cells), ",".join(dup), *rows[3:]]) + "\n", "utf-8"
    )
    return path


def test_station_list_notes_count_each_reason_with_examples() -> None:
    report = QualityReport("stations:new.csv", rows_read=2799)
    report.drop("coordinates outside Seoul", count=2)
    report.examples["coordinates outside Seoul"] = ["35.1,129.0"]
    report.drop("duplicate station number", count=1)
    report.warn("docks missing", count=5)  # kept rows: not a drop
    assert report.dropped_notes("--to new.csv") == [
        "--to new.csv: 2 of 2,799 rows left out: coordinates outside Seoul (e.g. 35.1,129.0)",
        "--to new.csv: 1 of 2,799 rows left out: duplicate station number",
    ]
    assert QualityReport("stations_2019-12", rows_read=9).dropped_notes("--from 2019-12") == []


@pytest.mark.parametrize(
    ("source", "month"),
    [
        ("2019-12", "2019-12"),
        ("api-2025-05", "2025-05"),
        ("/data/ttareungi/stations_2018-11-29.csv", "2018-11"),
        ("master", None),
        ("bad_stations.csv", None),
        ("list_12019-123.csv", None),
    ],
)
def test_list_month_from_vintage_or_file_name(source: str, month: str | None) -> None:
    assert list_month(source) == month


def test_only_a_list_dated_before_the_old_one_is_reversed() -> None:
    note = reversed_lists_note("2025-12", "2019-12")
    assert note is not None and "--to 2019-12 (2019-12) is older than --from 2025-12 (2025-12)" in note
    assert "closed" in note and "swap --from and --to" in note
    assert reversed_lists_note("2019-12", "2025-12") is None
    assert reversed_lists_note("2025-12", "2025-12") is None
    assert reversed_lists_note("2025-12", "bad_stations.csv") is None  # no date known: not compared


def test_the_siting_line_says_whether_it_is_proven() -> None:
    proven = SolverStats("mip+lazy-greedy", "optimal", 10.0, 10.0, 1.0, 0, gap=0.0)
    assert siting_line(proven) == "siting: mip+lazy-greedy optimal, gap 0.000% (proven optimal)"
    greedy = SolverStats(
        "mip+lazy-greedy", "feasible", 9.0, None, 5.0, 0, extra={"fallback": "greedy", "note": "why"}
    )
    assert siting_line(greedy) == "siting: mip+lazy-greedy feasible, gap - (not proven optimal); why"


def _invoke_until_backtest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path, old: str, new: str
) -> Any:
    def stop(*_a: object, **_k: object) -> None:
        raise _StopError

    monkeypatch.setattr(bt, "backtest", stop)
    return CliRunner().invoke(
        app,
        ["backtest", "--from", old, "--to", new, "--out", str(tmp_path / "o"), "--data-dir", str(data_dir),
         "--json"],
    )  # fmt: skip


def test_rows_left_out_are_said_on_stderr_before_planning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    bad = _broken_copy(data_dir, tmp_path / "bad.csv")
    r = _invoke_until_backtest(monkeypatch, tmp_path, data_dir, "2025-12", str(bad))
    assert isinstance(r.exception, _StopError), r.output
    err = " ".join(r.stderr.split())
    for reason in ("coordinates unparseable", "coordinates outside Seoul", "duplicate station number"):
        assert f"note: --to {bad}: 1 of " in err and f"rows left out: {reason}" in err, err
    assert r.stdout == ""


def test_a_reversed_backtest_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    r = _invoke_until_backtest(monkeypatch, tmp_path, data_dir, "2025-12", "2019-12")
    assert isinstance(r.exception, _StopError), r.output
    assert "warning: --to 2019-12 (2019-12) is older than --from 2025-12" in " ".join(r.stderr.split())


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_a_missing_station_file_names_its_option(
    option: str,
    tmp_path: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lists = {"--from": "2019-12", "--to": "2025-12"} | {option: "nosuch.csv"}
    argv = ["backtest", "--from", lists["--from"], "--to", lists["--to"], "--out", str(tmp_path / "o"),
            "--data-dir", str(data_dir), "--json"]  # fmt: skip
    code, out, err = run(argv, capsys, monkeypatch)
    assert code == 2 and out == ""
    err = " ".join(err.split())
    assert f"error: {option}: got 'nosuch.csv'; expected a station vintage (2018-11, 2019-12" in err
    assert err.endswith("or the path of a station file (CSV); no such file")


@pytest.mark.slow
def test_the_backtest_document_and_stderr_account_for_the_rows_left_out(
    tmp_path: Path, data_dir: Path
) -> None:
    """The real run (about 20 s): the drops are notes of backtest.json and of stderr, HiGHS's
    banner is not on stdout in human mode, and the siting line says whether it is proven."""
    bad = _broken_copy(data_dir, tmp_path / "bad.csv")
    out = tmp_path / "bt"
    r = subprocess.run(
        [sys.executable, "-c", "from mobility.cli import main; main()", "backtest", "--from", "2025-12",
         "--to", str(bad), "--time-limit", "1", "--out", str(out), "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "HiGHS" not in r.stdout and "siting: mip+lazy-greedy " in r.stdout
    assert "proven optimal" in r.stdout
    doc = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    left_out = [n for n in doc["notes"] if n.startswith(f"--to {bad}: ")]
    listed = load_station_list("2025-12", data_dir=data_dir).report.rows_kept
    assert len(left_out) == 3 and doc["real"]["stations"] == listed + 1 - 3  # the copied row, less 3
    err = " ".join(r.stderr.split())
    assert all(f"note: {n}" in err for n in left_out)
    assert err.count("rows left out: duplicate station number") == 1  # said once
