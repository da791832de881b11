"""Errors about one element of a list name that element (``baseline.station_records.1.station_id``),
for the CLI as for the API; what the API narrows (district names, polygons inside Seoul) stays
accepted by the library's own schema, which the CLI uses."""

from __future__ import annotations

from typing import Any

import pytest

from mobility.errors import InputError
from mobility.scenario.expansion import scenario_from_dict
from mobility.scenario.reading import first_repeat

STATION = {"station_id": "ST-1", "lat": 37.55, "lon": 126.91, "docks": 10}


def _scenario(**over: Any) -> dict[str, Any]:
    return (
        {"name": "t", "baseline": {"stations": "2019-12"}, "fleet": {"total_bikes": 10}}
        | {"new_stations": {"max": 1}}
        | over
    )


def test_a_repeated_station_id_names_the_repeating_record() -> None:
    other = STATION | {"station_id": "ST-2"}
    with pytest.raises(InputError) as info:
        scenario_from_dict(_scenario(baseline={"station_records": [STATION, other, STATION]}))
    assert info.value.field == "baseline.station_records.2.station_id"
    assert info.value.value == "ST-1"
    assert info.value.expected == "a station id used once (station_records[0] has it too)"


def test_first_repeat() -> None:
    assert first_repeat(["a", "b", "c"]) is None
    assert first_repeat(["a", "b", "a", "b"]) == (0, 2)
    assert first_repeat([]) is None


def test_the_library_schema_keeps_what_only_the_api_narrows() -> None:
    korea = [[126.0, 37.0], [126.01, 37.0], [126.01, 37.01], [126.0, 37.0]]  # outside Seoul's box
    sc = scenario_from_dict(
        _scenario(areas={"forbidden": [{"coordinates": [korea]}]}, districts={"per_district": {"Mapo": 1}})
    )
    assert sc.areas.forbidden[0].coordinates[0][0] == (126.0, 37.0)
    assert sc.districts.per_district == {"Mapo": 1}
