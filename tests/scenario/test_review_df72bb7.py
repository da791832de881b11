"""Review of df72bb7 (every scenario mistake named at its own field): what the review found.

- ``load_scenario`` imported :mod:`mobility.sources.stations` (pandas, 0.3 s) for Seoul's district
  names on every file, where a scenario used to be read in 2 ms; the names are now looked up only
  when the file names a district.
- "exactly one of" rules (the baseline's source, a run's snapshot, a sweep's axis) were written
  three ways: a run without a snapshot said ``missing`` where a baseline without stations said
  ``got []``, and a sweep still answered pydantic's ``Value error, ...``
  (``tests/api/test_scenario_fuzz_review.py``).
- A baseline's repeated station id was checked by a model validator that :class:`ApiBaseline`
  had to call again in its own; it is now the field's validator, which the API inherits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from mobility.errors import InputError
from mobility.scenario.expansion import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (ROOT / "scenarios").glob("*.yaml") if "nightly" not in p.name)
EXPANSION = yaml.safe_load((ROOT / "scenarios" / "seoul-2019-30k.yaml").read_text(encoding="utf-8"))
STATION = {"station_id": "ST-1", "lat": 37.5, "lon": 127.0, "docks": 10}


def _modules_after_reading(paths: list[Path]) -> dict[str, Any]:
    """Read ``paths`` with ``load_scenario`` in a fresh interpreter: whether pandas was loaded."""
    code = (
        "import json, sys; from mobility.scenario.expansion import load_scenario; "
        f"[load_scenario(p) for p in {[str(p) for p in paths]!r}]; "
        "print(json.dumps({'pandas': 'pandas' in sys.modules}))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def test_reading_the_shipped_scenarios_loads_no_pandas() -> None:
    assert SHIPPED, "no shipped expansion scenario"
    assert _modules_after_reading(SHIPPED) == {"pandas": False}


def test_a_district_is_still_checked_when_one_is_named(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(EXPANSION))
    doc["districts"] = {"per_district": {}, "min_new_stations": {}}
    empty = tmp_path / "empty.yaml"
    empty.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert _modules_after_reading([empty]) == {"pandas": False}
    doc["districts"]["per_district"] = {"Mapo": 30}
    named = tmp_path / "named.yaml"
    named.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(named)
    assert (info.value.field, info.value.value) == ("districts.per_district", "Mapo")
    assert "one of 종로구" in info.value.expected


# --- a repeated station id: the field's own check, inherited by the API ------------------------------


def test_a_repeated_station_id_is_named_at_the_row_in_the_library_and_the_api() -> None:
    from api.schemas import ScenarioRequest, StationListIn

    doc = EXPANSION | {"baseline": {"station_records": [STATION, STATION | {"lat": 37.51}]}}
    with pytest.raises(InputError) as lib:
        scenario_from_dict(doc)
    with pytest.raises(InputError) as over_http:
        scenario_from_dict(doc, ScenarioRequest)
    for said in (lib.value, over_http.value):
        assert (said.field, said.value) == ("baseline.station_records.1.station_id", "ST-1")
        assert said.expected == "a station id used once (station_records[0] has it too)"
    with pytest.raises(ValidationError) as stored:
        StationListIn.model_validate({"stations": [STATION, STATION]})
    (err,) = stored.value.errors()
    assert err["loc"] == ("stations", 1, "station_id")
    assert "stations[0] has it too" in err["msg"]
