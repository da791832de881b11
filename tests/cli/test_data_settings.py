"""``mobility data check``: a missing dataset file fails; a bad MOBILITY_CACHE_DIR is one error line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobility import config
from mobility.cli import main
from mobility.cli.common import err_console


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Settings read again from the (monkeypatched) environment, and once more afterwards."""
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """Run ``mobility ARGV`` as the console script does: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["mobility", *argv])
    monkeypatch.setattr(err_console, "width", 400)
    with pytest.raises(SystemExit) as ex:
        main()
        sys.exit(0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return int(ex.value.code or 0), out, err


def test_a_missing_trip_file_fails_the_check(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of the data directory without the 2016-03 trips: that dataset is FAIL, exit 1."""
    (tmp_path / "ttareungi").mkdir()
    for path in (data_dir / "ttareungi").iterdir():
        if path.name != "trips_2016-03_fullmonth.csv":
            (tmp_path / "ttareungi" / path.name).symlink_to(path)
    code, out, _ = run(
        ["data", "check", "--data-dir", str(tmp_path), "-f", "trips", "--json"], capsys, monkeypatch
    )
    doc = json.loads(out)
    assert code == 1 and doc["passed"] is False and doc["failed"] == ["trips_2016-03"]
    row = next(d for d in doc["datasets"] if d["name"] == "trips_2016-03")
    assert row["missing"] is True
    assert row["checks"] == [
        {"name": "file present", "passed": False, "detail": "missing: ttareungi/trips_2016-03_fullmonth.csv"}
    ]
    monkeypatch.setattr("mobility.cli.common.console.width", 250)
    code, out, _ = run(["data", "check", "--data-dir", str(tmp_path), "-f", "trips"], capsys, monkeypatch)
    assert code == 1 and "missing: ttareungi/trips_2016-03_fullmonth.csv" in out
    assert "2/3 datasets pass; failed: trips_2016-03" in out


@pytest.mark.usefixtures("fresh_settings")
@pytest.mark.parametrize("kind", ["file", "below a file", "under /proc"])
def test_a_cache_dir_that_is_not_a_writable_folder_exits_2(
    kind: str,
    tmp_path: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_file = tmp_path / "passwd"
    a_file.write_text("x\n", encoding="utf-8")
    value = {"file": str(a_file), "below a file": str(a_file / "cache"), "under /proc": "/proc/nope"}[kind]
    monkeypatch.setenv("MOBILITY_CACHE_DIR", value)
    code, _, err = run(["data", "check", "--data-dir", str(data_dir), "-f", "usage"], capsys, monkeypatch)
    assert code == 2
    assert err.strip() == f"error: MOBILITY_CACHE_DIR: got {value!r}; expected a writable folder"


@pytest.mark.usefixtures("fresh_settings")
@pytest.mark.parametrize("name", ["MOBILITY_CACHE_DIR", "MOBILITY_DATA_DIR"])
def test_an_empty_setting_is_unset(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MOBILITY_CACHE_DIR", raising=False)
    monkeypatch.delenv("MOBILITY_DATA_DIR", raising=False)
    monkeypatch.setenv(name, "")
    settings = config.get_settings()
    assert settings.cache_dir == config.PROJECT_ROOT / ".cache" and settings.data_dir is None
    assert config.cache_dir("catalog") == config.PROJECT_ROOT / ".cache" / "catalog"
    assert not (tmp_path / "catalog").exists()  # nothing written into the working directory
    assert config.resolve_data_dir() != tmp_path  # the empty value is not the working directory
