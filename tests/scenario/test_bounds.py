"""Oversized fleets and station counts are refused when the scenario is read, naming the field, the
value given and the largest accepted, instead of being queued and failing in the solver."""

from __future__ import annotations

from typing import Any

import pytest

from mobility.errors import InputError
from mobility.scenario.expansion import MAX_FLEET, MAX_NEW_STATIONS, scenario_from_dict


def _scenario(**over: Any) -> dict[str, Any]:
    return {"name": "t", "baseline": {"stations": "2019-12"}, "fleet": {"total_bikes": 30000},
            "new_stations": {"max": 600}} | over  # fmt: skip


@pytest.mark.parametrize(
    ("over", "field", "value", "maximum"),
    [
        ({"fleet": {"total_bikes": 99_999_999_999}}, "fleet.total_bikes", 99_999_999_999, MAX_FLEET),
        ({"fleet": {"bikes_per_10k": 50_000}}, "fleet.bikes_per_10k", 50_000, 1000),
        ({"new_stations": {"max": 1_000_000}}, "new_stations.max", 1_000_000, MAX_NEW_STATIONS),
        ({"new_stations": {"exact": 1_000_000}}, "new_stations.exact", 1_000_000, MAX_NEW_STATIONS),
        ({"baseline": {"stations": "2019-12", "bikes": 10**9}}, "baseline.bikes", 10**9, MAX_FLEET),
    ],
)
def test_an_oversized_value_names_field_value_and_maximum(
    over: dict[str, Any], field: str, value: float, maximum: float
) -> None:
    with pytest.raises(InputError) as info:
        scenario_from_dict(_scenario(**over))
    assert info.value.field == field
    assert info.value.value == value
    assert str(maximum) in str(info.value.expected)


def test_the_largest_accepted_values_are_accepted() -> None:
    sc = scenario_from_dict(
        _scenario(fleet={"total_bikes": MAX_FLEET}, new_stations={"max": MAX_NEW_STATIONS})
    )
    assert sc.fleet.total_bikes == MAX_FLEET and sc.new_stations.max == MAX_NEW_STATIONS


@pytest.mark.parametrize("count", [-2, MAX_NEW_STATIONS + 1])
def test_a_district_minimum_of_new_stations_out_of_range_is_refused(count: int) -> None:
    """``districts.min_new_stations`` is a count of stations: a negative one was accepted and
    silently meant nothing."""
    with pytest.raises(InputError) as info:
        scenario_from_dict(_scenario(districts={"min_new_stations": {"강남구": count}}))
    assert info.value.field == "districts.min_new_stations.강남구"
    assert info.value.value == count


def test_a_district_minimum_of_new_stations_in_range_is_kept() -> None:
    sc = scenario_from_dict(_scenario(districts={"min_new_stations": {"강남구": 0, "마포구": 3}}))
    assert sc.districts.min_new_stations == {"강남구": 0, "마포구": 3}


def test_every_mistake_of_a_file_says_what_was_given_and_what_is_expected() -> None:
    """The second and later mistakes had lost their value ('also spacing.min_m: Input should be
    greater than or equal to 0'), and pydantic's own messages read 'expected Input should be'."""
    bad = _scenario(fleet={"total_bikes": "30,000"}, docks={"min": 10, "max": 5}, spacing={"min_m": -250})
    with pytest.raises(InputError) as info:
        scenario_from_dict(bad)
    assert str(info.value) == (
        "fleet.total_bikes: got '30,000'; expected a valid integer, unable to parse string as an "
        "integer; also docks.max: got 5; expected at least min (10); also spacing.min_m: got -250; "
        "expected greater than or equal to 0"
    )


def test_a_missing_field_says_missing() -> None:
    bad = _scenario(areas={"forbidden": [{"name": "x"}]})
    with pytest.raises(InputError) as info:
        scenario_from_dict(bad)
    assert str(info.value) == "areas.forbidden.0.coordinates: missing; expected a value"
