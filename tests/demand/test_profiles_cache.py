"""The cached demand profiles: an entry counts only once all three of its files are written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mobility import config
from mobility.demand import data as demand_data
from mobility.demand.profiles import HOURS, StationProfiles
from mobility.quality import QualityReport


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of this test only."""
    monkeypatch.setenv("MOBILITY_CACHE_DIR", str(tmp_path / "cache"))
    config.get_settings.cache_clear()
    yield tmp_path / "cache"
    config.get_settings.cache_clear()


def _fake_build(builds: list[int]) -> Any:
    def build(*_: Any, **__: Any) -> StationProfiles:
        builds.append(1)
        stations = pd.DataFrame({"number": [1, 2], "station_id": ["ST-1", "ST-2"], "name": ["가", "나"]})
        report = QualityReport("demand_profiles", rows_read=10)
        report.drop("no station", count=3)
        return StationProfiles(
            stations=stations,
            rent=np.ones((2, 2, HOURS)),
            ret=np.ones((2, 2, HOURS)),
            od=pd.DataFrame({"trips": [1.0]}),
            alpha={"weekday": 0.5},
            report=report,
        )

    return build


def _fake_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[int]]:
    """A data folder of one trips file, and ``load_profiles`` building from fakes; the list
    grows by one at each build."""
    data_dir = tmp_path / "data"
    (data_dir / "ttareungi").mkdir(parents=True)
    (data_dir / "ttareungi" / "trips.csv").write_text("x\n1\n", encoding="utf-8")
    builds: list[int] = []
    monkeypatch.setattr(demand_data, "build_profiles", _fake_build(builds))
    for loader in ("load_trip_tables", "load_usage", "load_stations"):
        monkeypatch.setattr(demand_data, loader, lambda root: None)
    return data_dir, builds


def test_an_entry_without_its_meta_is_built_again(
    own_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, builds = _fake_data(tmp_path, monkeypatch)
    first = demand_data.load_profiles(data_dir)
    assert builds == [1] and first.alpha == {"weekday": 0.5}
    meta = next((own_cache / "demand").glob("*.meta.json"))
    assert demand_data.load_profiles(data_dir).alpha == {"weekday": 0.5} and builds == [1]  # cached
    meta.unlink()  # a build interrupted after the Parquet files, before meta.json
    again = demand_data.load_profiles(data_dir)
    assert builds == [1, 1] and meta.exists()
    assert again.alpha == {"weekday": 0.5} and again.report.dropped["no station"] == 3
    assert demand_data.load_profiles(data_dir).report.dropped["no station"] == 3 and builds == [1, 1]


@pytest.mark.parametrize("damaged", ["profiles", "od", "meta"])
def test_a_cut_short_entry_is_built_again(
    own_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged: str
) -> None:
    """A file of the entry cut short (a full disk, an interrupted copy) raised pyarrow's or
    json's error on every later call; it is now built again."""
    data_dir, builds = _fake_data(tmp_path, monkeypatch)
    demand_data.load_profiles(data_dir)
    suffix = {"profiles": ".profiles.parquet", "od": ".od.parquet", "meta": ".meta.json"}[damaged]
    entry = next((own_cache / "demand").glob(f"*{suffix}"))
    entry.write_bytes(entry.read_bytes()[: len(entry.read_bytes()) // 2])
    again = demand_data.load_profiles(data_dir)
    assert builds == [1, 1] and again.alpha == {"weekday": 0.5}
    assert list(again.stations["name"]) == ["가", "나"]
    assert demand_data.load_profiles(data_dir).alpha == {"weekday": 0.5} and builds == [1, 1]
