"""Bad option values are refused before any work, and the error names the option as typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mobility.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "argv",
    [
        ["demand", "profile", "2301", "--day-type", "xyz"],
        ["demand", "targets", "--out", "t.csv", "--day-type", "xyz"],
    ],
)
def test_day_type_error_names_the_option(argv: list[str], tmp_path: Path) -> None:
    res = runner.invoke(app, [*argv, "--data-dir", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert "--day-type" in res.output and "weekday" in res.output
    assert "day_type:" not in res.output


def test_matrix_unknown_points_names_the_option(tmp_path: Path) -> None:
    res = runner.invoke(app, ["network", "matrix", "--points", "bogus", "--out", str(tmp_path / "m.npz")])
    assert res.exit_code == 2, res.output
    assert "--points" in res.output and "source:" not in res.output


def test_matrix_refuses_a_negative_warning_distance(tmp_path: Path) -> None:
    argv = ["network", "matrix", "--points", "2025-12", "--out", str(tmp_path / "m.npz")]
    res = runner.invoke(app, [*argv, "--warn-beyond-m", "-5"])
    assert res.exit_code == 2, res.output
    assert "--warn-beyond-m" in res.output
    assert not (tmp_path / "m.npz").exists()


def test_matrix_refuses_points_without_rows(tmp_path: Path) -> None:
    pts = tmp_path / "pts.csv"
    pts.write_text("id,lon,lat\n", encoding="utf-8")
    res = runner.invoke(app, ["network", "matrix", "--points", str(pts), "--out", str(tmp_path / "m.npz")])
    assert res.exit_code == 2, res.output
    assert "--points" in res.output and "at least one point" in res.output
    assert "loading" not in res.output
    assert not (tmp_path / "m.npz").exists()


def test_info_checks_the_profile_before_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mobility.network.graph as graph

    def no_load(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the network was loaded before --profile was checked")

    monkeypatch.setattr(graph, "load_network", no_load)
    res = runner.invoke(app, ["network", "info", "--profile", "bogus", "--data-dir", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert "--profile" in res.output and "bogus" in res.output
    assert "building" not in res.output and "loading" not in res.output
