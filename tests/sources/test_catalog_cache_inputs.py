"""The catalog's cache notices every file a loader reads, and a missing dataset file fails the check."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mobility.quality import QualityReport
from mobility.sources import catalog
from mobility.sources.base import DatasetSpec, Loaded
from mobility.sources.catalog import all_datasets, data_check, dataset_dependencies, dataset_info
from mobility.sources.stations import STATION_VINTAGES, TRIPS_WITH_BOTH_KEYS
from tests.test_cache_keys import one_dataset


def test_station_and_trip_rows_depend_on_the_number_lookup_files() -> None:
    specs = {s.name: s for s in all_datasets()}
    lookup = {STATION_VINTAGES["api-2025-05"], STATION_VINTAGES["2018-11"], TRIPS_WITH_BOTH_KEYS}
    for name in ("stations_2025-12", "trips_2018-sample", "trips_2016-03"):
        assert lookup <= set(dataset_dependencies(specs[name])), name
    assert specs["stations_2018-11"].relpath not in dataset_dependencies(specs["stations_2018-11"])
    assert "boundaries/seoul_gu_2020_wgs84.geojson" in dataset_dependencies(specs["layers_subway_stations"])
    assert "osm/bike_roads_2022/bike-roads.dbf" in dataset_dependencies(specs["layers_bike_roads_2022"])


def test_a_changed_lookup_file_rebuilds_the_cached_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row of a station list is rebuilt when the API dump (read through the lookup) changes."""
    calls: list[int] = []
    one_dataset(monkeypatch, tmp_path, calls)
    api = tmp_path / STATION_VINTAGES["api-2025-05"]
    first = dataset_info(tmp_path)[0]
    assert first.report is not None and first.report.dropped["number not in the number-ID lookup"] == 1
    assert dataset_info(tmp_path)[0].cached and calls == [2]
    api.write_text("number\n1\n", encoding="utf-8")  # the dump shrinks: more numbers unknown
    again = dataset_info(tmp_path)[0]
    assert not again.cached and calls == [2, 1]
    assert again.report is not None and again.report.dropped["number not in the number-ID lookup"] == 2
    api.unlink()  # an absent dependency is part of the key too
    gone = dataset_info(tmp_path)[0]
    assert not gone.cached and gone.status == "failed" and "FileNotFoundError" in gone.error


def test_a_missing_dataset_file_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def load(root: Path) -> Loaded[pd.DataFrame]:
        return Loaded(pd.read_csv(root / "a.csv"), QualityReport("a", rows_read=1))

    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    specs = [
        DatasetSpec("trips_a", "trips", "a.csv", "present", load=load, expected_rows=1),
        DatasetSpec("trips_b", "trips", "sub/b.csv", "absent", load=load, expected_rows=1),
        DatasetSpec("net", "network", "net.graphml", "fingerprint only", load=None),
    ]
    monkeypatch.setattr(catalog, "all_datasets", lambda data_dir=None: specs)
    results = {r.name: r for r in data_check(tmp_path)}
    assert set(results) == {"trips_a", "trips_b"}  # a fingerprint-only file is not checked
    assert results["trips_a"].passed and not results["trips_a"].missing
    missing = results["trips_b"]
    assert not missing.passed and missing.missing and missing.to_dict()["missing"] is True
    assert [(c.name, c.passed, c.detail) for c in missing.checks] == [
        ("file present", False, "missing: sub/b.csv")
    ]


def test_real_station_row_follows_a_truncated_api_dump(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer's case: the 2025-12 list read again once the lookup's API dump loses rows."""
    for rel in (STATION_VINTAGES["2025-12"], STATION_VINTAGES["2018-11"], TRIPS_WITH_BOTH_KEYS):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).symlink_to(data_dir / rel)
    api = STATION_VINTAGES["api-2025-05"]
    lines = (data_dir / api).read_bytes().splitlines(keepends=True)
    (tmp_path / api).write_bytes(b"".join(lines))
    spec = next(s for s in all_datasets() if s.name == "stations_2025-12")
    monkeypatch.setattr(catalog, "all_datasets", lambda data_dir=None: [spec])
    reason = "station_id unknown (number not in the number-ID lookup)"

    def unmatched() -> tuple[bool, int]:
        info = dataset_info(tmp_path)[0]
        assert info.report is not None
        return info.cached, info.report.warnings[reason]

    full = unmatched()
    assert full == (False, 54) and unmatched() == (True, 54)
    (tmp_path / api).write_bytes(b"".join(lines[:1001]))
    assert unmatched() == (False, 419)  # a fresh load's count, not the cached 54
