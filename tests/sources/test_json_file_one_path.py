"""One reading of a saved JSON payload (``base.load_json_file``) behind the GBFS files and the
OpenAPI ``bikeList`` file: the same encodings, the same errors, the file as the source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mobility.errors import DataFileError
from mobility.sources import base, gbfs, stations

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "sources"

LOADERS: dict[str, tuple[Callable[[Path], Any], str]] = {
    "bikeList": (stations.load_bike_list, "openapi_bikeList.json"),
    "gbfs information": (gbfs.load_station_information, "gbfs_v2.3_station_information.json"),
    "gbfs status": (gbfs.load_station_status, "gbfs_v3.0_station_status.json"),
}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_json_loaders_read_through_one_reader(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load, fixture = LOADERS[name]
    read = base.read_table_text
    seen: list[Path] = []

    def spy(path: Path) -> tuple[str, str]:
        seen.append(path)
        return read(path)

    monkeypatch.setattr(base, "read_table_text", spy)
    want = load(FIX / fixture)
    assert seen == [FIX / fixture] and want.sources == [FIX / fixture]

    utf16 = tmp_path / fixture
    utf16.write_text((FIX / fixture).read_text(encoding="utf-8"), encoding="utf-16")
    got = load(utf16)
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.sources == [utf16]

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"broken\.json: is not valid JSON \(Expecting"):
        load(broken)
    refused = tmp_path / "refused.json"
    refused.write_text('"a string"', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"refused\.json"):  # the parser's InputError, naming the file
        load(refused)
