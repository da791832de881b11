"""A status table's bad row is named by its station (or its row) and its field, never dumped."""

from __future__ import annotations

import pytest

from api.schemas import SnapshotIn
from mobility.errors import InputError
from mobility.rebalancing.snapshot import snapshot_from_csv


def test_a_missing_field_names_the_field_and_not_the_row() -> None:
    with pytest.raises(InputError) as err:
        snapshot_from_csv("station_id,bikes,docks\nST-4,3,10\n", label="body", model=SnapshotIn)
    assert err.value.field == "body[ST-4].lon"
    assert (err.value.value, err.value.expected) == (None, "a value")
    assert "{" not in str(err.value)


def test_a_row_without_id_or_number_is_named_by_its_row() -> None:
    with pytest.raises(InputError) as err:
        snapshot_from_csv("station_id,number,bikes\nST-4,,3\n,,2\n", label="status")
    assert str(err.value) == "status[row 2].station_id: missing; expected a station id or a number"


def test_a_number_only_row_is_a_station_of_the_api_document() -> None:
    text = "station_id,number,name,lon,lat,docks,bikes\n,4280,북가좌2동 주민센터,126.9143,37.5842,5,4\n"
    (station,) = snapshot_from_csv(text, label="body", model=SnapshotIn).stations
    assert (station.station_id, station.number, station.key, station.bikes) == (None, 4280, "N4280", 4)
