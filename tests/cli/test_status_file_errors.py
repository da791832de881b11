"""A bad ``--status`` file of ``mobility simulate`` and ``mobility export`` is named with its
option: ``--status: got 'FILE'; expected a status snapshot (...); NAME: what is wrong``, exit 2,
nothing written. Before, an unreadable file was named without ``--status`` and a bad row or
column with ``--status`` but without the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mobility.cli.common import STATUS_FILES
from tests.cli.test_data_settings import run

EXPECTED = f"expected a status snapshot ({STATUS_FILES}); "

BAD = {
    "row.csv": (b"station_id,bikes\nST-4,abc\nST-5,3\n", "row.csv: [ST-4].bikes (line 2): got 'abc'"),
    "columns.csv": (b"station,bikes\n2301,3\n", "columns.csv: columns: got 2 columns: 'station', 'bikes'"),
    "broken.json": (b'{"stations": ', "broken.json: cannot read as a status snapshot (JSONDecodeError)"),
    "list.json": (b"[1, 2]", "list.json: bikeList payload.row: got 'list'"),
    "broken.parquet": (b"not parquet", "broken.parquet: cannot read as a status snapshot"),
}


def _argv(command: str, tmp_path: Path, status: Path) -> tuple[list[str], Path]:
    if command == "simulate":
        out = tmp_path / "sim"
        return ["simulate", "2025-12", "--day", "2024-05-01", "--status", str(status), "--out", str(out)], out
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"schema": "mobility/rebalancing-plan/1", "routes": []}), encoding="utf-8")
    out = tmp_path / "night.png"
    return ["export", str(routes), "-f", "png", "-o", str(out), "--status", str(status)], out


CASES = [(command, name) for command in ("simulate", "export") for name in sorted(BAD)]


@pytest.mark.parametrize("case", CASES, ids="-".join)
def test_a_bad_status_file_names_the_option_and_the_file(
    case: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    command, name = case
    content, what = BAD[name]
    status = tmp_path / name
    status.write_bytes(content)
    argv, out = _argv(command, tmp_path, status)
    code, stdout, err = run(argv, capsys, monkeypatch)
    err = " ".join(err.split())
    assert (code, stdout) == (2, "")
    assert err.startswith(f"error: --status: got '{status}'; {EXPECTED}{what}"), err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {name, "routes.json"} if command == "export" else {name}
    )


@pytest.mark.parametrize("command", ["simulate", "export"])
def test_a_missing_status_file_still_names_both(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status = tmp_path / "none.csv"
    argv, out = _argv(command, tmp_path, status)
    code, _, err = run(argv, capsys, monkeypatch)
    assert code == 2 and f"error: --status: got '{status}'; expected an existing" in " ".join(err.split())
    assert not out.exists()


def test_simulate_status_rows_that_fit_no_station_name_the_file(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A readable file whose station numbers are not the simulated set's (checked while preparing)."""
    status = tmp_path / "other.csv"
    status.write_text("number,bikes\n999999,3\n", encoding="utf-8")
    argv, out = _argv("simulate", tmp_path, status)
    code, stdout, err = run([*argv, "--data-dir", str(data_dir)], capsys, monkeypatch)
    err = " ".join(err.split())
    assert (code, stdout) == (2, "")
    assert (
        f"error: --status: got '{status}'; {EXPECTED}other.csv: number: got '999999'; expected station" in err
    )
    assert not out.exists()
