"""``mobility demand`` commands on the real data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.cli.demand import parse_clock, parse_duration, sparkline
from mobility.errors import InputError

runner = CliRunner()


def test_parsers() -> None:
    assert parse_clock("07:00") == 7.0
    assert parse_clock("7:30") == 7.5
    assert parse_duration("3h") == 3.0
    assert parse_duration("90min") == 1.5
    with pytest.raises(InputError, match="--at"):
        parse_clock("25:00")
    with pytest.raises(InputError, match="--horizon"):
        parse_duration("forever")
    assert sparkline([0.0, 1.0, 2.0]) == "▁▅█"
    assert sparkline([0.0, 0.0]) == "▁▁"


@pytest.mark.slow
def test_profile_build_targets_snapshot(tmp_path: Path, data_dir: Path) -> None:
    dd = ["--data-dir", str(data_dir)]
    r = runner.invoke(app, ["demand", "build", "--json", *dd])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["stations"] == 2799

    png = tmp_path / "p.png"
    r = runner.invoke(app, ["demand", "profile", "2301", "--plot", str(png), "--json", *dd])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["name"] == "현대고등학교 건너편" and len(doc["hours"]) == 24
    assert png.read_bytes()[:4] == b"\x89PNG"
    r = runner.invoke(app, ["demand", "profile", "현대고등학교 건너편", "--day-type", "weekend", *dd])
    assert r.exit_code == 0 and "현대고등학교" in r.stdout

    out = tmp_path / "targets.csv"
    r = runner.invoke(app, ["demand", "targets", "--at", "07:00", "--horizon", "3h", "--out", str(out), *dd])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out, encoding="utf-8")
    assert len(t) == 2799 and {"station", "name", "target", "low", "high", "costs"} <= set(t.columns)

    snap = tmp_path / "snap.parquet"
    r = runner.invoke(app, ["demand", "snapshot", "--date", "2022-01-01", "--out", str(snap), "--json", *dd])
    assert r.exit_code == 0, r.output
    s = pd.read_parquet(snap)
    assert s["derived"].all() and len(s) == 2799


def test_bad_output_extension_is_exit_2(tmp_path: Path) -> None:
    import sys

    from mobility.cli import main

    argv = sys.argv
    sys.argv = ["mobility", "demand", "targets", "--out", str(tmp_path / "t.xlsx")]
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = argv
    assert exc.value.code == 2


def test_a_plot_that_is_not_a_png_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--plot out.txt`` wrote PNG bytes into a file named ``.txt``."""
    from tests.cli.test_cli_boundary import run as run_main

    out = tmp_path / "profile.txt"
    code, err = run_main(["demand", "profile", "2301", "--plot", str(out)], capsys, monkeypatch)
    assert code == 2 and "--plot: got" in err and "expected a file name ending in .png" in err
    assert not out.exists()
