"""A command's files in ``--out`` are one set: a failure part-way leaves the last run's set whole.

``mobility.io.staged_files`` stages the files in a hidden folder inside ``--out`` and moves them in
only when the last one is written (``mobility rebalance`` is checked end to end in
``tests/rebalancing/test_cli.py``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

import mobility.cli.simulate as simulate_cli
import mobility.simulation.pipeline as pipeline
from mobility.cli import app
from mobility.io import atomic_write_text, staged_files


def test_staged_files_move_in_together(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_files(out) as stage:
        atomic_write_text(stage / "a.json", "new a")
        assert not (out / "a.json").exists()  # nothing is in --out before the set is complete
        atomic_write_text(stage / "b.csv", "new b")
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == {
        "a.json": "new a",
        "b.csv": "new b",
    }


def test_a_failure_leaves_the_last_set_and_no_staging_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.json").write_text("last a", encoding="utf-8")
    with pytest.raises(RuntimeError), staged_files(out) as stage:
        atomic_write_text(stage / "a.json", "new a")
        raise RuntimeError("the map broke")
    assert [(p.name, p.read_text(encoding="utf-8")) for p in out.iterdir()] == [("a.json", "last a")]


def test_mobility_simulate_writes_its_files_as_one_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "simulation.json").write_text("last run", encoding="utf-8")

    def half_written(where: Path, *_a: Any) -> None:
        atomic_write_text(where / "stations.parquet", "new table")
        raise OSError("disk full")

    result: SimpleNamespace = SimpleNamespace(model_copy=lambda **_k: result, seconds=0.0)
    monkeypatch.setattr(
        pipeline,
        "prepare",
        lambda *_a, **_k: SimpleNamespace(add_inputs=lambda _i: None, stations=[1], input_notes=[]),
    )
    monkeypatch.setattr(pipeline, "simulate", lambda *_a, **_k: (None, result))
    monkeypatch.setattr(simulate_cli, "write_outputs", half_written)
    r = CliRunner().invoke(app, ["simulate", "2019-12", "--day", "2019-06-12", "--out", str(out)])
    assert r.exit_code != 0
    assert [(p.name, p.read_text(encoding="utf-8")) for p in out.iterdir()] == [
        ("simulation.json", "last run")
    ]


def test_progress_lines_carry_their_time_not_the_logging_source_line() -> None:
    from mobility.cli.common import err_console, progress_reporter

    with err_console.capture() as captured, progress_reporter("simulating") as progress:
        progress("loading the stations")
    text = captured.get()
    assert "s] loading the stations" in text and "common.py" not in text


def test_an_error_is_one_line_however_long_its_path() -> None:
    from mobility.cli.common import console, err_console, print_error, print_styled, print_written

    path = "/tmp/" + "a-long-folder-name/" * 20 + "instances"
    with err_console.capture() as captured, console.capture() as written:
        print_error(f"{path}: no *.txt files; expected BRP instances")
        print_styled("note:", "yellow", f"{path}: 3 rows left out")
        print_written([f"{path}/plan.json"], [f"{path}: 2 rows left out"])
    assert captured.get().splitlines() == [
        f"error: {path}: no *.txt files; expected BRP instances",
        f"note: {path}: 3 rows left out",
        f"note: {path}: 2 rows left out",
    ]
    assert written.get().splitlines() == [f"wrote {path}/plan.json"]


def test_an_invalid_field_quotes_its_value_as_the_api_does() -> None:
    """The CLI's and the API's validation messages quote a refused value the same way, cut."""
    from pydantic import BaseModel, ValidationError

    from mobility.cli import format_validation_error

    class _Doc(BaseModel):
        name: int
        stations: int

    try:
        _Doc.model_validate({"name": "x" * 500, "stations": [1, 2, 3]})
    except ValidationError as exc:
        text = format_validation_error(exc)
    assert "(got 'xxxx" in text and "x" * 100 not in text and "(got [...] (3 items))" in text
