"""GBFS station_information / station_status parsers, v2.3 and v3.0, on hand-written feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mobility.errors import DataFileError, InputError
from mobility.sources.gbfs import (
    STATUS_COLUMNS,
    feed_version,
    load_station_information,
    load_station_status,
    localized_text,
    parse_station_information,
    parse_station_status,
)
from mobility.sources.stations import COLUMNS


@pytest.fixture(scope="module")
def src(fixtures_dir: Path) -> Path:
    return fixtures_dir / "sources"


def test_v23_information(src: Path) -> None:
    loaded = load_station_information(src / "gbfs_v2.3_station_information.json")
    df = loaded.table
    assert list(df.columns) == list(COLUMNS)
    assert df["station_id"].tolist() == ["ST-4", "ST-5", "ST-10"]
    assert df["number"].tolist() == [102, 103, 108]
    assert df["name"].iloc[0] == "망원역 1번출구 앞"  # "102. " prefix removed
    assert df["gu"].iloc[0] == "마포구"
    assert df["docks"].iloc[0] == 15 and pd.isna(df["docks"].iloc[2])
    assert (df["source"] == "gbfs-2.3").all()
    assert dict(loaded.report.dropped) == {"no station_id": 1, "zero coordinates": 1}
    assert loaded.report.warnings["capacity missing or unparseable"] == 1


def test_v30_information_localized_names(src: Path) -> None:
    loaded = load_station_information(src / "gbfs_v3.0_station_information.json")
    df = loaded.table
    assert df["name"].tolist() == ["망원역 1번출구 앞", "망원역 2번출구 앞"]  # Korean preferred
    assert df["gu"].iloc[0] == "마포구"  # from the address
    assert df["number"].iloc[0] == 102  # from the localized short_name
    assert dict(loaded.report.dropped) == {"coordinates outside Seoul": 1}
    everywhere = load_station_information(src / "gbfs_v3.0_station_information.json", bbox=None)
    assert len(everywhere.table) == 3 and everywhere.table["name"].iloc[2] == "Busan Station"


@pytest.mark.parametrize("version", ["2.3", "3.0"])
def test_status_both_versions(src: Path, version: str) -> None:
    loaded = load_station_status(src / f"gbfs_v{version}_station_status.json")
    df = loaded.table.set_index("station_id")
    assert list(loaded.table.columns) == list(STATUS_COLUMNS)
    assert df.loc["ST-4", "bikes"] == 9 and df.loc["ST-4", "docks_available"] == 6
    assert df.loc["ST-5", "bikes"] == 23
    assert df.loc["ST-4", "last_reported"] == pd.Timestamp("2025-05-13 23:59:10", tz="UTC")
    assert df["is_renting"].dtype == "boolean"


def test_v23_status_flags_and_bad_rows(src: Path) -> None:
    loaded = load_station_status(src / "gbfs_v2.3_station_status.json")
    df = loaded.table.set_index("station_id")
    assert bool(df.loc["ST-10", "is_renting"]) is False  # 0 -> False
    assert bool(df.loc["ST-5", "is_returning"]) is False
    assert dict(loaded.report.dropped) == {"duplicate station_id": 1, "negative count": 1}
    assert loaded.report.rows_kept == 3


def test_localized_text() -> None:
    assert localized_text("망원") == "망원"
    assert localized_text([{"text": "A", "language": "en"}, {"text": "가", "language": "ko"}]) == "가"
    assert localized_text([{"text": "Ein", "language": "de"}]) == "Ein"
    assert localized_text([]) is None and localized_text(None) is None


def test_versions_and_bad_feeds(tmp_path: Path) -> None:
    assert feed_version({"version": "2.3"}) == "2.3"
    assert feed_version({"version": "3.0"}) == "3.0"
    assert feed_version({"last_updated": "2025-01-01T00:00:00Z"}) == "3.0"
    with pytest.raises(InputError, match="version"):
        feed_version({"version": "9.1"})
    with pytest.raises(InputError, match=r"data\.stations"):
        parse_station_status({"version": "3.0", "data": {}})
    bad = tmp_path / "station_information.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataFileError, match="not valid JSON"):
        load_station_information(bad)
    wrong = tmp_path / "station_status.json"
    wrong.write_text(json.dumps({"version": "2.3", "data": {"bikes": []}}), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"station_status\.json"):
        load_station_status(wrong)


def test_information_roundtrip_from_station_table() -> None:
    doc = {
        "version": "3.0",
        "last_updated": "2025-05-14T00:00:00Z",
        "data": {
            "stations": [
                {
                    "station_id": f"ST-{i}",
                    "name": [{"text": f"대여소 {i}", "language": "ko"}],
                    "lat": 37.5 + i / 1000,
                    "lon": 127.0,
                    "capacity": i,
                }
                for i in range(1, 6)
            ]
        },
    }
    df = parse_station_information(doc).table
    assert df["docks"].tolist() == [1, 2, 3, 4, 5]
    assert df["name"].str.startswith("대여소").all()
