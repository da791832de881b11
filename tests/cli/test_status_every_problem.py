"""A status file with several bad values is refused with every one of them listed, by ``mobility
simulate`` and ``mobility rebalance`` alike, as the API's 422 lists them (``POST
/v1/rebalancing/snapshots/csv``): the same reader (:func:`~mobility.rebalancing.snapshot.snapshot_from_csv`)
and its :class:`~mobility.rebalancing.snapshot.SnapshotInputError`. Before, both commands named
the first bad value only, so a file took one run per bad value to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mobility.cli.common import STATUS_FILES
from mobility.rebalancing.snapshot import SnapshotInputError, every_problem, snapshot_from_csv
from tests.cli.test_data_settings import run

# ST-4, ST-5 and ST-6 are stations of the published 2025-12 list (망원역, 합정역)
BAD = "station_id,bikes,docks\nST-4,abc,15\nST-5,-2,14\n,3,10\nST-6,4,-1\n"


@pytest.fixture
def status(tmp_path: Path) -> Path:
    """:data:`BAD` as the file ``evening.csv``."""
    path = tmp_path / "evening.csv"
    path.write_text(BAD, encoding="utf-8")
    return path


def _scenario(tmp_path: Path) -> Path:
    scn = {
        "name": "mini",
        "night": {"date": "2022-01-01"},
        "depots": [{"id": "A", "lon": 126.9, "lat": 37.56}],
        "trucks": [{"depot": "A", "count": 1, "capacity": 8}],
        "targets": {"source": "snapshot"},
        "network": {"source": "straight"},
        "solver": {"time_limit": 1},
    }
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(scn), encoding="utf-8")
    return path


# what the CLI and the API's 422 say of each bad value of BAD, after the option (the API: ``body``)
PROBLEMS = (
    "[ST-4].bikes (line 2): got 'abc'; expected a valid integer, unable to parse string as an integer",
    "[ST-5].bikes (line 3): got '-2'; expected >= 0",
    "[line 4].station_id: missing; expected a station id or a number",
    "[ST-6].docks (line 5): got -1; expected >= 0",
)


def test_the_reader_names_every_problem_in_its_message() -> None:
    """The message lists what the API's 422 lists, one line each, under the option."""
    with pytest.raises(SnapshotInputError) as info, every_problem():
        snapshot_from_csv(BAD, label="--status")
    assert tuple(str(p).removeprefix("--status") for p in info.value.problems) == PROBLEMS
    assert str(info.value) == "--status: 4 invalid values:\n" + "\n".join(f"  {p}" for p in PROBLEMS)


def test_one_problem_is_still_said_on_one_line() -> None:
    with pytest.raises(SnapshotInputError) as info, every_problem():
        snapshot_from_csv("station_id,bikes\nST-4,-1\nST-5,3\n", label="--status")
    assert str(info.value) == "--status[ST-4].bikes (line 2): got -1; expected >= 0"


def test_simulate_lists_every_bad_value_of_its_status_file(
    status: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = status.parent
    out = tmp_path / "sim"
    argv = ["simulate", "2025-12", "--day", "2024-05-01", "--status", str(status), "--out", str(out)]
    code, stdout, err = run([*argv, "--data-dir", str(data_dir)], capsys, monkeypatch)
    assert (code, stdout) == (2, "")
    head = f"error: --status: got '{status}'; expected a status snapshot ({STATUS_FILES}); "
    assert err.startswith(f"{head}evening.csv: 4 invalid values:\n"), err
    lines = err.splitlines()
    assert tuple(line.strip() for line in lines[1:]) == PROBLEMS, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evening.csv"]  # nothing written


def test_rebalance_lists_every_bad_value_of_its_status_file(
    status: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = status.parent
    scenario, out = _scenario(tmp_path), tmp_path / "night"
    argv = ["rebalance", str(scenario), "--status", str(status), "--out", str(out), "--no-maps"]
    code, stdout, err = run([*argv, "--data-dir", str(data_dir)], capsys, monkeypatch)
    assert (code, stdout) == (2, "")
    error = err[err.index("error: ") :]
    assert error.startswith("error: --status: 4 invalid values:\n"), err
    assert tuple(line.strip() for line in error.splitlines()[1:]) == PROBLEMS, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evening.csv", "mini.yaml"]  # nothing written
