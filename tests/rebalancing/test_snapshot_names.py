"""A status snapshot's station names refuse control characters, as an uploaded list's do."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from mobility.errors import InputError
from mobility.rebalancing.snapshot import StationStatus, snapshot_from_csv, snapshot_from_table
from mobility.scenario.expansion import BaselineStation


@pytest.mark.parametrize("name", ["합정\n역", "합정\x00역", "합정\t역", "합정\x85역", "a\x7fb"])
def test_control_characters_are_refused_in_snapshot_names(name: str) -> None:
    expected = "a name without control characters"
    with pytest.raises(ValidationError, match=expected):
        StationStatus(station_id="ST-4", name=name, bikes=3)
    with pytest.raises(ValidationError, match=expected):  # the same rule as an uploaded list's
        BaselineStation(station_id="ST-4", name=name, lat=37.55, lon=126.91, docks=10)
    table = pd.DataFrame({"station_id": ["ST-4"], "name": [name], "bikes": [3]})
    with pytest.raises(InputError, match=r"status\[ST-4\]\.name: got .*; expected " + expected):
        snapshot_from_table(table)


def test_a_status_csv_with_a_line_break_in_a_quoted_name_is_refused() -> None:
    raw = 'station_id,name,bikes\r\nST-4,"합정\n역",3\r\n'.encode()
    with pytest.raises(InputError, match=r"status\[ST-4\]\.name"):
        snapshot_from_csv(raw)
    plain = "station_id,name,bikes\nST-4,합정 [1] 앞,3\n".encode()
    assert snapshot_from_csv(plain).stations[0].name == "합정 [1] 앞"
