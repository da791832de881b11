"""Bad values a planner types into either scenario document, as the scenario reader says them.

Each case was reproduced on ``mobility plan`` / ``mobility rebalance`` before its fix: a rule that
read ``got '{...}'; expected Value error, min (20) must be <= max (10)``, a misspelt district
refused only after the coverage model was built (seconds to minutes), a ``.inf`` or an oversized
seed that crashed the solver with a traceback, a typo in a union field reported once per member
(``trucks.0.start_load.int``), a depot or override error at ``(root)`` or ``target`` instead of
its own field. Now every one stops when the file is read (exit 2, before any work, no output
folder), naming the field, the value given and what is expected.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from mobility.cli import main
from mobility.cli.common import err_console
from mobility.errors import InputError
from mobility.scenario.expansion import load_scenario, scenario_from_dict
from mobility.scenario.nightly import load_nightly, nightly_from_dict

ROOT = Path(__file__).resolve().parents[2]
EXPANSION = yaml.safe_load((ROOT / "scenarios" / "seoul-2019-30k.yaml").read_text(encoding="utf-8"))
NIGHTLY = yaml.safe_load((ROOT / "scenarios" / "seoul-nightly.yaml").read_text(encoding="utf-8"))
NFD = unicodedata.normalize("NFD", "마포구")


def patched(base: dict[str, Any], path: str, text: str) -> dict[str, Any]:
    """``base`` with the field at dotted ``path`` set to the YAML ``text`` (``.nan``, ``[10, 5]``)."""
    doc = yaml.safe_load(yaml.safe_dump(base, allow_unicode=True))
    node, keys = doc, path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    node[int(keys[-1]) if isinstance(node, list) else keys[-1]] = yaml.safe_load(text)
    return doc


def written(tmp_path: Path, doc: dict[str, Any], name: str = "s.yaml") -> Path:
    f = tmp_path / name
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return f


def refusal(read: Any, doc: object) -> InputError:
    with pytest.raises(InputError) as info:
        read(doc)
    assert "Value error" not in str(info.value) and ".int" not in info.value.field
    return info.value


# --- rules between fields: the field, the value and the rule; no "Value error, " --------------------

EXPANSION_RULES = [
    ("docks", "{min: 20, max: 10}", "docks.max", 10, "at least min (20)"),
    ("bikes_per_dock", "{min: 1.5, max: 1.0}", "bikes_per_dock.max", 1.0, "at least min (1.5)"),
    ("new_stations", "{exact: 5, max: 6}", "new_stations.max", 6, "no max beside exact (5)"),
    ("budget", "{total: 1000000}", "budget.cost_per_dock", 0.0, "> 0 when cost_per_station is 0"),
    ("fleet", "{}", "fleet", None, "total_bikes and/or bikes_per_10k"),
    ("baseline", "{}", "baseline", [], "exactly one of stations"),
    ("areas.forbidden", "[{coordinates: [[[127, 37.5], [127.1, 37.5], [127, 37.5]]]}]",
     "areas.forbidden.0.coordinates.0", [[127.0, 37.5], [127.1, 37.5], [127.0, 37.5]], "at least 4"),
    ("areas.forbidden", "[{coordinates: [[[127, 37.5], [0, 0], [127.1, 37.6], [127, 37.5]]]}]",
     "areas.forbidden.0.coordinates.0.1", [0.0, 0.0], "a [lon, lat] pair in Korea"),
]  # fmt: skip


def test_no_limit_on_new_stations_names_new_stations() -> None:
    doc = {k: v for k, v in EXPANSION.items() if k != "new_stations"}
    err = refusal(scenario_from_dict, doc)
    assert err.field == "new_stations" and "new_stations.exact, new_stations.max or budget" in err.expected


NIGHTLY_RULES = [
    ("depots.1.id", "NW", "depots.1.id", "NW", "unique depot ids ('NW' is also depots[0])"),
    ("trucks.0.depot", "XX", "trucks.0.depot", "XX", "'XX' is not one of the depots"),
    ("trucks.0.shift", "{start: '22:00', end: '22:00'}", "trucks.0.shift", "22:00", "an end other than"),
    ("trucks.0.shift", "{start: '22:00', end: '24:00'}", "trucks.0.shift.end", "24:00", "00:00 and 23:59"),
    ("trucks.0.start_load", "19", "trucks.0", 19, "at most the capacity (18)"),
    ("trucks.0.start_load", "FREE", "trucks.0.start_load", "FREE", "or 'free'"),
    ("trucks.0.start_load", "-1", "trucks.0.start_load", -1, "or 'free'"),
    ("targets.overrides", "[{station: ST-4, target: -3}]", "targets.overrides.0.target", -3, "low <= high"),
    ("targets.overrides", "[{station: ST-4, target: [10, 5]}]", "targets.overrides.0.target", [10, 5],
     "0 <= low <= high"),
    ("targets.overrides", "[{station: ST-4, target: 3}, {station: ST-4, target: 5}]",
     "targets.overrides.1.station", "ST-4", "one override per station"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "path", "text", "field", "value", "expected"),
    [("expansion", *case) for case in EXPANSION_RULES] + [("nightly", *case) for case in NIGHTLY_RULES],
)
def test_rules_name_the_field_and_the_value(
    doc: str, path: str, text: str, field: str, value: object, expected: str
) -> None:
    read, base = (scenario_from_dict, EXPANSION) if doc == "expansion" else (nightly_from_dict, NIGHTLY)
    err = refusal(read, patched(base, path, text))
    assert (err.field, err.value) == (field, value)
    assert expected in err.expected


# --- numbers: finite, seeds a solver takes, empty names ----------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["budget.total", "bikes_per_dock.max", "districts.min_bikes_per_10k", "objective.population_covered",
     "coverage.radius_m", "solver.time_limit", "fleet.bikes_per_10k"],
)  # fmt: skip
@pytest.mark.parametrize("text", [".inf", ".nan", "-.inf"])
def test_expansion_numbers_are_finite(path: str, text: str) -> None:
    doc = patched(EXPANSION, path, text)
    if path == "budget.total":
        doc["budget"] = {"total": doc["budget"]["total"], "cost_per_station": 1}
    err = refusal(scenario_from_dict, doc)
    assert err.field == path and "finite number" in err.expected


@pytest.mark.parametrize(
    "path",
    ["trucks.0.stop_seconds", "trucks.0.load_seconds_per_bike", "costs.drive_cost_per_km", "targets.per_bike",
     "network.straight_detour", "solver.time_limit"],
)  # fmt: skip
def test_nightly_numbers_are_finite(path: str) -> None:
    err = refusal(nightly_from_dict, patched(NIGHTLY, path, ".inf"))
    assert err.field == path and "finite number" in err.expected


@pytest.mark.parametrize(
    ("read", "base", "path"),
    [(scenario_from_dict, EXPANSION, "fleet.total_bikes"), (scenario_from_dict, EXPANSION, "docks.max"),
     (scenario_from_dict, EXPANSION, "coverage.radius_m"), (scenario_from_dict, EXPANSION, "solver.seed"),
     (nightly_from_dict, NIGHTLY, "trucks.0.capacity"), (nightly_from_dict, NIGHTLY, "trucks.0.start_load"),
     (nightly_from_dict, NIGHTLY, "solver.time_limit")],
)  # fmt: skip
def test_true_is_not_a_number(read: Any, base: dict[str, Any], path: str) -> None:
    """``total_bikes: true`` was read as 1 (a fleet of one bike), ``capacity: true`` as a truck of
    one bike: a YAML or JSON bool where a number is expected is refused, as typed."""
    err = refusal(read, patched(base, path, "true"))
    assert err.field == path and str(err).startswith(f"{path}: got true; expected "), str(err)
    if path != "trucks.0.start_load":  # its own words: a whole number of bikes >= 0, or 'free'
        assert err.expected == "a number, not true/false"


def test_a_field_that_takes_a_bool_keeps_it() -> None:
    assert scenario_from_dict(patched(EXPANSION, "simulation.enabled", "false")).simulation.enabled is False
    night = nightly_from_dict(patched(NIGHTLY, "network.fallback_to_straight", "false"))
    assert night.network.fallback_to_straight is False


@pytest.mark.parametrize("text", ["1.0e+9", "501", "1000000000"])
def test_docks_of_a_new_station_are_a_station_s(text: str) -> None:
    """``docks.max: 1e9`` was accepted and planned stations of a billion docks."""
    err = refusal(scenario_from_dict, patched(EXPANSION, "docks.max", text))
    assert err.field == "docks.max" and "less than or equal to 500" in err.expected


def test_seeds_and_times_are_what_the_solvers_take() -> None:
    big = str(2**70)
    for read, base in ((scenario_from_dict, EXPANSION), (nightly_from_dict, NIGHTLY)):
        err = refusal(read, patched(base, "solver.seed", big))
        assert err.field == "solver.seed" and "2147483647" in err.expected
    err = refusal(nightly_from_dict, patched(NIGHTLY, "solver.time_limit", "1e12"))
    assert err.field == "solver.time_limit" and "86400" in err.expected


def test_an_empty_network_name_is_refused_when_read() -> None:
    for read, base, path in (
        (scenario_from_dict, EXPANSION, "coverage.network"),
        (nightly_from_dict, NIGHTLY, "network.source"),
    ):
        assert refusal(read, patched(base, path, "''")).field == path


def test_depots_are_inside_seouls_box_as_over_http_and_trucks_as_big() -> None:
    err = refusal(nightly_from_dict, patched(NIGHTLY, "depots.0.lat", "37.74"))
    assert err.field == "depots.0.lat" and "37.72" in err.expected
    assert nightly_from_dict(patched(NIGHTLY, "trucks.0.capacity", "150")).trucks[0].capacity == 150


@pytest.mark.parametrize(
    ("text", "expected"),
    [("'2019-02-30'", "a real calendar date"), ("20190612", "a real calendar date"),
     ("'2019-06-12T00:00'", "a real calendar date"), ("'2018-06-01'", "from 2019-01-01 to 2025-12-31"),
     ("2018-06-01", "from 2019-01-01 to 2025-12-31")],
)  # fmt: skip
def test_the_simulated_day_is_a_real_calendar_date(text: str, expected: str) -> None:
    err = refusal(scenario_from_dict, patched(EXPANSION, "simulation.day", text))
    assert err.field == "simulation.day" and expected in err.expected
    assert not repr(err.value).startswith("datetime")  # quoted as written
    day = scenario_from_dict(patched(EXPANSION, "simulation.day", "2019-06-12")).simulation.day
    assert day is not None and day.isoformat() == "2019-06-12"


# --- district names: refused when the file is read, beside a bad value; decomposed Hangul ----------


@pytest.mark.parametrize("rule", ["per_district", "min_new_stations"])
def test_an_unknown_district_beside_a_bad_value_is_named_with_it(rule: str, tmp_path: Path) -> None:
    doc = patched(EXPANSION, f"districts.{rule}", "{마포구: -1, Mapo: 3}")
    err = refusal(load_scenario, written(tmp_path, doc))
    assert (err.field, err.value) == (f"districts.{rule}", "Mapo")
    assert "one of 종로구" in err.expected and "강동구" in err.expected
    assert f"also districts.{rule}.마포구: " in err.expected  # the bad value, in the same message
    alone = refusal(load_scenario, written(tmp_path, patched(EXPANSION, f"districts.{rule}", "{Mapo: 3}")))
    assert (alone.field, alone.value) == (f"districts.{rule}", "Mapo")


def test_district_names_in_decomposed_hangul_are_the_same_names(tmp_path: Path) -> None:
    doc = patched(EXPANSION, "districts.per_district", "{}")
    doc["districts"] |= {"per_district": {NFD: 30}, "min_new_stations": {NFD: 2}}
    sc = load_scenario(written(tmp_path, doc))
    assert sc.districts.per_district == {"마포구": 30} and sc.districts.min_new_stations == {"마포구": 2}
    doc["districts"]["per_district"] = {"마포구": 30, NFD: 31}
    err = refusal(load_scenario, written(tmp_path, doc))
    assert err.field == "districts.per_district" and "given twice" in err.expected


# --- the command line: exit 2 before any work, no output folder -------------------------------------


def _cli(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """``mobility ARGV`` in-process with the work replaced by a failure: the exit code and stderr."""
    import mobility.placement.pipeline
    import mobility.rebalancing.night

    def work(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("work started before the scenario was checked")

    monkeypatch.setattr(mobility.placement.pipeline, "plan_expansion", work)
    monkeypatch.setattr(mobility.rebalancing.night, "load_night_problem", work)
    monkeypatch.setattr(sys, "argv", ["mobility", *argv])
    monkeypatch.setattr(err_console, "width", 1000)
    with pytest.raises(SystemExit) as ex:
        main()
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(ex.value.code or 0), err


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [("districts.per_district", "{Mapo: 30}", "districts.per_district: got 'Mapo'; expected a Seoul"),
     ("budget", "{total: .inf, cost_per_station: 1}", "budget.total: got inf; expected"),
     ("docks", "{min: 20, max: 10}", "docks.max: got 10; expected at least min (20)")],
)  # fmt: skip
def test_plan_exits_2_before_any_work(
    path: str, text: str, message: str, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    argv = ["plan", str(written(tmp_path, patched(EXPANSION, path, text))), "--out", str(out), "--json"]
    code, err = _cli(argv, capsys, monkeypatch)
    assert code == 2 and f"error: {message}" in err, err
    assert not out.exists()


def test_rebalance_exits_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    doc = patched(NIGHTLY, "targets.overrides", "[{station: ST-4, target: -3}]")
    argv = ["rebalance", str(written(tmp_path, doc)), "--status", "x.csv", "--out", str(out), "--json"]
    code, err = _cli(argv, capsys, monkeypatch)
    assert code == 2 and "error: targets.overrides.0.target: got -3; expected a number of bikes" in err, err
    assert not out.exists()
    assert load_nightly(ROOT / "scenarios" / "seoul-nightly.yaml").name == "seoul-nightly"
