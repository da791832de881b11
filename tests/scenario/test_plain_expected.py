"""The "expected ..." of a validation error in plain words, the same for ``mobility plan`` and the
API (:func:`mobility.scenario.reading.expected_of`): never pydantic's ``String should match
pattern '^[A-Za-z0-9_-]+$'``, ``String should have at most 200 characters`` or ``Value error,
got ...; expected ...``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mobility.scenario.expansion import ExpansionScenario, load_scenario
from mobility.scenario.nightly import NightlyScenario
from mobility.scenario.reading import PATTERN_WORDS, expected_of, plain_words
from tests.scenario.test_fuzz_review import EXPANSION, _cli, patched, refusal, written

LONG_NAME = "가" * 201
STATION = f"{{station_id: 'ST 4', name: {LONG_NAME}, lat: 37.5556, lon: 126.9104, docks: 15}}"
UPLOADED = f"{{station_records: [{STATION}]}}"


def test_a_scenarios_station_records_are_refused_in_plain_words(tmp_path: Path) -> None:
    err = refusal(load_scenario, written(tmp_path, patched(EXPANSION, "baseline", UPLOADED)))
    message = str(err)
    assert err.field == "baseline.station_records.0.station_id" and err.value == "ST 4"
    assert err.expected.startswith("letters, digits, '_' and '-' only")
    assert "baseline.station_records.0.name: got '가가가" in message
    assert "expected at most 200 characters" in message
    assert "should" not in message and "pattern" not in message


def test_the_cli_prints_the_same_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written(tmp_path, patched(EXPANSION, "baseline", UPLOADED))
    code, err = _cli(["plan", str(path), "--out", str(tmp_path / "out"), "--json"], capsys, monkeypatch)
    assert code == 2 and "expected letters, digits, '_' and '-' only" in err and "should" not in err


def test_a_validators_own_message_is_the_expectation_without_its_value() -> None:
    said = "got 5; expected at most 4"
    error = {"type": "value_error", "msg": f"Value error, {said}", "ctx": {"error": ValueError(said)}}
    assert expected_of(error) == "at most 4"
    assert plain_words("Value error, got 5; expected at most 4") == "at most 4"
    assert plain_words("Input should be a valid integer, unable to parse string as an integer") == (
        "a valid integer, unable to parse string as an integer"
    )


def _patterns(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            yield schema["pattern"]
        for value in schema.values():
            yield from _patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _patterns(value)


def test_every_pattern_of_the_published_and_scenario_schemas_has_words() -> None:
    """A new ``pattern=`` on a field without words here would answer ``text of the form ^...$``."""
    from api.app import create_app
    from mobility.rebalancing.snapshot import StatusSnapshot
    from tests.api.api_support import make_settings

    documents = [create_app(make_settings("sqlite://")).openapi()]
    documents += [m.model_json_schema() for m in (ExpansionScenario, NightlyScenario, StatusSnapshot)]
    found = {p for doc in documents for p in _patterns(doc)}
    assert r"^[0-9a-f]{32}$" in found
    assert sorted(found - set(PATTERN_WORDS)) == [] and sorted(set(PATTERN_WORDS) - found) == []
