"""A ``bikeList`` payload without ``parkingBikeTotCnt`` is refused naming the fields it has as the
payload spells them (``stationId``), not upper-cased as the layout matches them (``STATIONID``);
the values of its rows are never quoted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mobility.errors import DataFileError
from mobility.sources.stations import SHOWN_FIELDS, load_bike_list, parse_bike_list

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sources" / "openapi_bikeList.json"


def _without_count() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["rentBikeStatus"]["row"]
    return [{k: v for k, v in row.items() if k != "parkingBikeTotCnt"} for row in rows]


def test_the_fields_are_named_as_the_payload_spells_them(tmp_path: Path) -> None:
    path = tmp_path / "bikeList.json"
    path.write_text(json.dumps({"rentBikeStatus": {"row": _without_count()}}, ensure_ascii=False), "utf-8")
    with pytest.raises(DataFileError) as info:
        load_bike_list(path)
    found = str(info.value).split("found fields ", 1)[1]
    assert found == "rackTotCnt, stationName, shared, stationLatitude, stationLongitude, stationId"
    assert "망원역" not in str(info.value) and "ST-4" not in str(info.value)


def test_many_or_long_field_names_are_cut() -> None:
    row = {f"field{i:02d}": "1" for i in range(SHOWN_FIELDS + 3)} | {"x" * 100: "1"}
    with pytest.raises(DataFileError) as info:
        parse_bike_list([row])
    found = str(info.value).split("found fields ", 1)[1]
    assert found.endswith("field11 and 4 more") and "x" * 61 not in found
