"""The nightly scenario schema and the shipped Seoul scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobility.demand.inventory import InventoryParams
from mobility.errors import InputError
from mobility.scenario.nightly import (
    MORNING_AFTER_SECONDS,
    MORNING_START,
    clock_seconds,
    load_nightly,
    nightly_from_dict,
)

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_seoul_scenario() -> None:
    s = load_nightly(ROOT / "scenarios" / "seoul-nightly.yaml")
    assert len(s.depots) == 4 and sum(t.count for t in s.trucks) == 24
    assert all(15 <= t.capacity <= 20 for t in s.trucks)
    assert s.trucks[0].shift.seconds() == (79200.0, 108000.0)
    assert any("운영센터" in d.name for d in s.depots)


def _base() -> dict:  # type: ignore[type-arg]
    return {
        "name": "t",
        "depots": [{"id": "A", "lon": 127.0, "lat": 37.55}],
        "trucks": [{"depot": "A", "count": 2, "capacity": 10}],
    }


def test_truck_with_unknown_depot_names_the_field() -> None:
    d = _base()
    d["trucks"][0]["depot"] = "B"
    with pytest.raises(InputError, match="not one of the depots"):
        nightly_from_dict(d)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"trucks": [{"depot": "A", "capacity": 0}]}, "trucks.0.capacity"),
        ({"trucks": [{"depot": "A", "capacity": 5, "start_load": 6}]}, "trucks.0"),
        ({"depots": [{"id": "A", "lon": 0.0, "lat": 37.5}]}, "depots.0.lon"),
        ({"costs": {"drive_cost_per_km": -1}}, "costs.drive_cost_per_km"),
        ({"trucks": [{"depot": "A", "shift": {"start": "22:00", "end": "22:00"}}]}, "trucks.0.shift"),
        ({"trucks": [{"depot": "A", "shift": {"start": "22:00", "end": "6h"}}]}, "trucks.0.shift.end"),
    ],
)
def test_bad_fields(patch: dict, field: str) -> None:  # type: ignore[type-arg]
    d = {**_base(), **patch}
    with pytest.raises(InputError) as exc:
        nightly_from_dict(d)
    assert exc.value.field == field


def test_a_bad_solver_phase_names_the_field_once_and_what_it_takes() -> None:
    d = {**_base(), "solver": {"classic": "fast", "decompose": "sometimes"}}
    with pytest.raises(InputError) as exc:
        nightly_from_dict(d)
    msg = str(exc.value)
    assert exc.value.field == "solver.decompose" and exc.value.value == "sometimes"
    assert msg.count("solver.decompose") == 1 and "'auto', 'always' or 'never'" in msg
    assert "also solver.classic" in msg and "'off', 'descent' or 'ils'" in msg  # every bad field


@pytest.mark.parametrize(
    ("status_at", "shift", "field", "said"),
    [
        ("22:00", ("22:00", "21:00"), "trucks.1.shift.end", "an end by 07:00 of the morning after"),
        ("22:00", ("22:00", "07:01"), "trucks.1.shift.end", "an end by 07:00 of the morning after"),
        ("22:00", ("23:00", "22:30"), "trucks.1.shift.end", "an end by 07:00 of the morning after"),
        ("22:00", ("21:00", "05:00"), "trucks.1.shift.start", "at or after the status snapshot"),
        ("22:00", ("08:00", "06:00"), "trucks.1.shift.start", "night.status_at 22:00"),
        ("06:30", ("06:30", "07:30"), "trucks.1.shift.end", "an end by 07:00 of the morning after"),
    ],
)
def test_a_shift_outside_the_night_is_refused(
    status_at: str, shift: tuple[str, str], field: str, said: str
) -> None:
    """A shift runs from the status snapshot to the morning the targets are for: a 22:00-21:00
    shift was taken as a 23-hour night whose moves the morning's targets do not count."""
    d = _base()
    d["night"] = {"status_at": status_at}
    d["trucks"] = [
        {"depot": "A", "shift": {"start": "22:00", "end": "06:00"}}
        if status_at == "22:00"
        else {"depot": "A", "shift": {"start": "06:30", "end": "07:00"}},
        {"depot": "A", "shift": {"start": shift[0], "end": shift[1]}},
    ]
    with pytest.raises(InputError) as info:
        nightly_from_dict(d)
    assert info.value.field == field and said in str(info.value)
    assert "trucks.0" not in str(info.value)  # the good group is not blamed


@pytest.mark.parametrize(
    ("status_at", "shift"),
    [
        ("22:00", ("22:00", "06:00")),
        ("22:00", ("22:00", "07:00")),
        ("22:00", ("01:00", "05:00")),
        ("20:00", ("20:30", "04:00")),
        ("00:30", ("01:00", "06:59")),
    ],
)
def test_a_shift_inside_the_night_is_kept(status_at: str, shift: tuple[str, str]) -> None:
    d = _base()
    d["night"] = {"status_at": status_at}
    d["trucks"] = [{"depot": "A", "shift": {"start": shift[0], "end": shift[1]}}]
    assert nightly_from_dict(d).trucks[0].shift.start == shift[0]


def test_the_morning_is_the_dissatisfaction_models_window() -> None:
    """The latest shift end is where the model takes the stock the routes leave."""
    assert clock_seconds(MORNING_START) == InventoryParams().start_hour * 3600
    assert 86400 + InventoryParams().start_hour * 3600 == MORNING_AFTER_SECONDS


def test_clock() -> None:
    assert clock_seconds("22:00") == 79200.0
    assert clock_seconds("06:00", after=79200.0) == 108000.0
    with pytest.raises(InputError):
        clock_seconds("25:00")


def test_missing_file() -> None:
    with pytest.raises(InputError, match="existing YAML"):
        load_nightly(ROOT / "scenarios" / "nope.yaml")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        *[
            ("date", v, "a real calendar date")
            for v in ["2022-02-30", "not-a-date", "2022-13-01", 0, "2022-01-01T10:00"]
        ],
        *[
            ("status_at", v, "a clock time HH:MM between 00:00 and 23:59")
            for v in ["29:00", "22:60", "2200", 2200, "22-00"]
        ],
    ],
)
def test_night_date_and_status_time_are_checked(field: str, value: object, expected: str) -> None:
    d = _base()
    d["night"] = {field: value}
    with pytest.raises(InputError) as info:
        nightly_from_dict(d)
    assert info.value.field == f"night.{field}"
    assert str(info.value).startswith(f"night.{field}: got {value!r}; expected {expected}")


def test_night_date_reads_quoted_and_unquoted_yaml_and_writes_the_same_json() -> None:
    import datetime as dt

    import yaml

    for text in ('date: "2022-01-01"', "date: 2022-01-01"):
        d = _base()
        d["night"] = yaml.safe_load(text)
        s = nightly_from_dict(d)
        assert s.night.date == dt.date(2022, 1, 1)
        assert s.model_dump(mode="json")["night"]["date"] == "2022-01-01"


def test_more_than_one_visit_per_station_is_refused_not_ignored() -> None:
    """The search never returns to a station: a scenario asking for 2 visits got 1, silently."""
    import yaml

    doc = yaml.safe_load((ROOT / "scenarios" / "seoul-nightly.yaml").read_text(encoding="utf-8"))
    doc["costs"]["max_visits_per_station"] = 2
    with pytest.raises(InputError) as err:
        nightly_from_dict(doc)
    assert err.value.field == "costs.max_visits_per_station" and err.value.value == 2


def test_reading_the_nightly_scenario_loads_no_pandas() -> None:
    """The night's date is read by mobility.dates.iso_date, which needs no pandas (0.2 s)."""
    import subprocess
    import sys

    code = (
        "import sys; from mobility.scenario.nightly import load_nightly; "
        f"s = load_nightly({str(ROOT / 'scenarios' / 'seoul-nightly.yaml')!r}); "
        "print(s.night.date, 'pandas' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert r.stdout.split()[-1] == "False", r.stdout
