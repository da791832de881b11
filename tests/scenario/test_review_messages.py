"""What the scenario reader says about a planner's slips, as a planner's review asked.

Every unknown district named (not only the first), an unknown field answered with the fields its
section has (and the closest one), a scenario of the other kind said to be one with the command
that runs it (not a dozen field errors), an empty file said to be empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mobility.scenario.expansion import load_scenario
from mobility.scenario.nightly import load_nightly
from tests.scenario.test_fuzz_review import EXPANSION, NIGHTLY, _cli, patched, refusal, written

ROOT = Path(__file__).resolve().parents[2]

# --- 1. every unknown district, each with the closest name -------------------------------------------


@pytest.mark.parametrize("rule", ["per_district", "min_new_stations"])
def test_every_unknown_district_is_named(rule: str, tmp_path: Path) -> None:
    doc = patched(EXPANSION, f"districts.{rule}", "{강남: 40, Mapo-gu: 30, 마포구: 1}")
    err = refusal(load_scenario, written(tmp_path, doc))
    assert (err.field, err.value) == (f"districts.{rule}", ["Mapo-gu", "강남"])  # as written (sorted)
    assert "one of 종로구" in err.expected and "강동구" in err.expected
    assert err.expected.endswith("강동구 (not districts: 'Mapo-gu', '강남' (did you mean '강남구'?))")


def test_one_unknown_district_gets_the_closest_name(tmp_path: Path) -> None:
    err = refusal(load_scenario, written(tmp_path, patched(EXPANSION, "districts.per_district", "{강남: 4}")))
    assert (err.field, err.value) == ("districts.per_district", "강남")
    assert err.expected.startswith("a Seoul district (gu) name, one of 종로구")
    assert err.expected.endswith("강동구 (did you mean '강남구'?)")


# --- 2. an unknown field: the fields the section takes, the closest one ------------------------------


RING = "[[[127.0, 37.5], [127.1, 37.5], [127.1, 37.6], [127.0, 37.5]]]"
EXP, NIGHT = (load_scenario, EXPANSION), (load_nightly, NIGHTLY)
UNKNOWN_FIELDS = [
    (*EXP, "coverage.radious", "radius_m, network (no field 'radious'; did you mean 'radius_m'?)"),
    (*EXP, "coverage.zzz", "radius_m, network (no field 'zzz')"),
    (*EXP, "fleat", "(no field 'fleat'; did you mean 'fleet'?)"),
    (*EXP, "areas.forbidden.0.nmae", "name, coordinates (no field 'nmae'; did you mean 'name'?)"),
    (*NIGHT, "solver.time_limt", "(no field 'time_limt'; did you mean 'time_limit'?)"),
    (*NIGHT, "depots.0.lon_", "id, name, lon, lat (no field 'lon_'; did you mean 'lon'?)"),
]


@pytest.mark.parametrize(("read", "base", "path", "expected"), UNKNOWN_FIELDS)
def test_an_unknown_field_names_the_fields_of_its_section(
    read: Any, base: dict[str, Any], path: str, expected: str, tmp_path: Path
) -> None:
    if path.startswith("areas."):  # a polygon to put the misspelt field in
        base = patched(base, "areas.forbidden", f"[{{name: x, coordinates: {RING}}}]")
    err = refusal(read, written(tmp_path, patched(base, path, "5")))
    assert err.field == path and expected in err.expected, err
    assert "Extra inputs" not in str(err) and err.expected.startswith("one of the fields ")


# --- 3. the other kind of scenario: said once, with its command --------------------------------------


@pytest.mark.parametrize(
    ("command", "scenario", "says"),
    [("plan", "seoul-nightly.yaml", "nightly rebalancing scenario: run it with `mobility rebalance`"),
     ("rebalance", "seoul-2019-30k.yaml", "expansion scenario: run it with `mobility plan`")],
)  # fmt: skip
def test_a_scenario_of_the_other_kind_is_said_to_be_one(
    command: str, scenario: str, says: str, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [command, str(ROOT / "scenarios" / scenario), "--out", str(tmp_path / "out")]
    if command == "rebalance":
        argv += ["--status", str(tmp_path / "status.csv")]
    code, err = _cli(argv, capsys, monkeypatch)
    assert code == 2 and "error: (root): got [" in err and says in err, err
    assert "; also " not in err and "Extra inputs" not in err
    assert not (tmp_path / "out").exists()


def test_a_misplaced_key_of_the_other_kind_is_still_a_field_error(tmp_path: Path) -> None:
    err = refusal(load_scenario, written(tmp_path, patched(EXPANSION, "depots", "[]")))
    assert err.field == "depots" and "one of the fields name, description, baseline" in err.expected


# --- 4. an empty file -----------------------------------------------------------------------------


EMPTY = [(load_scenario, "name, baseline, fleet, ..."), (load_nightly, "name, depots, trucks, ...")]


@pytest.mark.parametrize(("read", "fields"), EMPTY)
@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_file_is_said_to_be_empty(read: Any, fields: str, text: str, tmp_path: Path) -> None:
    f = tmp_path / "empty.yaml"
    f.write_text(text, encoding="utf-8")
    err = refusal(read, f)
    assert (err.field, err.value) == ("(root)", None)
    assert err.expected == f"a mapping with {fields} (the file is empty, or holds only comments)"
    assert "NoneType" not in str(err)
