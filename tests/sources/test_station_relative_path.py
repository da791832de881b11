"""A relative station-file path (``baseline.stations: ttareungi/stations_2019-12-09.csv``) is looked
for in the data directory, then in the working directory; a missing one names the field and every
place looked in."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mobility.cli import main
from mobility.errors import DataNotFoundError, InputError
from mobility.sources.stations import load_station_list

REL = "ttareungi/stations_2019-12-09.csv"
SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "seoul-2019-30k.yaml"


def _tiny_list(path: Path, data_dir: Path, rows: int) -> Path:
    """The first ``rows`` stations of the real 2019-12 list, at ``path``."""
    lines = (data_dir / REL).read_text(encoding="utf-8-sig").splitlines()[: rows + 1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_relative_path_is_read_from_the_data_directory(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not where the data is
    loaded = load_station_list(REL, data_dir, field="baseline.stations")
    assert len(loaded.table) == 1540 and loaded.sources == [data_dir / REL]


def test_the_data_directory_comes_before_the_working_directory(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, work = tmp_path / "data", tmp_path / "work"
    _tiny_list(root / "mine.csv", data_dir, 3)
    _tiny_list(work / "mine.csv", data_dir, 5)
    _tiny_list(work / "only_here.csv", data_dir, 4)
    monkeypatch.chdir(work)
    assert len(load_station_list("mine.csv", root, fill_ids=False).table) == 3
    assert len(load_station_list("only_here.csv", root, fill_ids=False).table) == 4  # then the working dir


def test_a_missing_file_names_the_field_and_both_places(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataNotFoundError) as info:
        load_station_list("ttareungi/nope.csv", data_dir, field="baseline.stations")
    assert info.value.what == "baseline.stations: station file 'ttareungi/nope.csv'"
    assert info.value.looked_in == [
        str(data_dir / "ttareungi/nope.csv"),
        str(tmp_path / "ttareungi/nope.csv"),
    ]
    with pytest.raises(InputError) as folder:
        load_station_list("ttareungi", data_dir, field="baseline.stations")  # a folder of the data dir
    assert folder.value.field == "baseline.stations" and "not a folder" in folder.value.expected


@pytest.mark.parametrize(
    ("stations", "expected"),
    [(REL, "; expected population grid stops here"),
     ("ttareungi/nope.csv", "error: baseline.stations: station file 'ttareungi/nope.csv' not found")],
)  # fmt: skip
def test_mobility_plan_reads_a_relative_baseline_from_the_data_directory(
    stations: str,
    expected: str,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The reviewer's run: the baseline is read (the run then stops at the next step, the grid), or
    a missing file is an exit 2 naming ``baseline.stations``."""
    import mobility.sources.population as population

    def stop(*_a: object, **_k: object) -> None:
        raise InputError("test", None, "population grid stops here")

    monkeypatch.setattr(population, "load_population_grid", stop)
    monkeypatch.chdir(tmp_path)
    text = SCENARIO.read_text(encoding="utf-8").replace('stations: "2019-12"', f'stations: "{stations}"')
    scenario = tmp_path / "relative.yaml"
    scenario.write_text(text, encoding="utf-8")
    argv = ["plan", str(scenario), "--out", str(tmp_path / "out"), "--data-dir", str(data_dir), "--json"]
    monkeypatch.setattr(sys, "argv", ["mobility", *argv])
    with pytest.raises(SystemExit) as ex:
        main()
    assert ex.value.code == 2
    assert expected in capsys.readouterr().err
