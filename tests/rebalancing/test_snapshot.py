"""The status snapshot document: readers and writers agree, bad values are named, schema generated."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobility.errors import InputError
from mobility.export.snapshot import snapshot_csv, snapshot_json, write_snapshot
from mobility.rebalancing.snapshot import (
    StationStatus,
    StatusSnapshot,
    read_snapshot,
    snapshot_from_csv,
    snapshot_from_table,
    snapshot_json_schema,
)

# Text a person would put in a cell: no control characters, no surrounding blanks, never empty
# (the status table has no way to tell an empty name from a missing one, and strips cells).
_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).filter(lambda s: s == s.strip() and s != "")
_count = st.integers(min_value=0, max_value=1000)
_maybe = st.none().__or__


@st.composite
def _station(draw: st.DrawFn) -> StationStatus:
    sid = draw(_maybe(_text.map(lambda s: s[:40])))
    number = draw(st.integers(min_value=0, max_value=10**6) if sid is None else _maybe(st.integers(0, 10**6)))
    low, high = draw(_maybe(_count)), draw(_maybe(_count))
    if low is not None and high is not None and low > high:
        low, high = high, low
    finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
    return StationStatus(
        station_id=sid,
        number=number,
        name=draw(_maybe(_text)),
        gu=draw(_maybe(_text)),
        lon=draw(_maybe(st.floats(-180, 180))),
        lat=draw(_maybe(st.floats(-90, 90))),
        docks=draw(_maybe(_count)),
        bikes=draw(_count),
        target=draw(_maybe(_count)),
        target_low=low,
        target_high=high,
        target_morning=draw(_maybe(_count)),
        net_flow=draw(_maybe(finite)),
        clipped=draw(_maybe(finite)),
    )


snapshots = st.builds(
    StatusSnapshot,
    name=_text,
    date=_maybe(st.dates()),
    at=_maybe(st.sampled_from(["00:00", "07:30", "22:00", "23:59", "24:00"])),
    source=_maybe(_text),
    derived=st.booleans(),
    stations=st.lists(_station(), min_size=1, max_size=6, unique_by=lambda s: s.key).map(tuple),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots)
def test_json_and_csv_read_back_what_was_written(snap: StatusSnapshot) -> None:
    assert StatusSnapshot.model_validate(json.loads(snapshot_json(snap))) == snap
    assert snapshot_from_csv(snapshot_csv(snap).encode("utf-8"), name=snap.name) == snap
    jsonschema.validate(snap.to_dict(), snapshot_json_schema())


def _derived() -> StatusSnapshot:
    return StatusSnapshot(
        name="derived",
        date="2022-01-01",  # validated into a date
        at="22:00",
        source="targets + real net flows",
        derived=True,
        stations=(
            StationStatus(station_id="ST-4", number=102, name="망원역 1번출구 앞", gu="마포구",
                          docks=15, bikes=11, target_morning=9, net_flow=2.0, clipped=0.0),
            StationStatus(number=3989, name="가산디지털단지 9번출구 인근", docks=10, bikes=3,
                          target_morning=3, net_flow=0.0, clipped=0.0),
        ),
    )  # fmt: skip


def test_every_file_type_reads_back_the_same_document(tmp_path: Path) -> None:
    snap = _derived()
    for suffix in (".csv", ".parquet", ".json"):
        path = write_snapshot(snap, tmp_path / f"derived{suffix}")
        assert read_snapshot(path) == snap, suffix
    # the status table keeps the columns mobility demand snapshot has always written, in order
    raw = (tmp_path / "derived.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, like every CSV the package writes
    header = (tmp_path / "derived.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(",") == [
        "station_id", "number", "name", "gu", "docks", "bikes", "target_morning", "net_flow", "clipped",
        "derived", "method", "date", "at",
    ]  # fmt: skip
    # a row with only its number keeps an empty id in the file, and is N<number> on the problem
    assert (tmp_path / "derived.csv").read_text(encoding="utf-8-sig").splitlines()[2].startswith(",3989,")
    assert [s.key for s in snap.stations] == ["ST-4", "N3989"]


def test_the_derived_table_is_the_document() -> None:
    table = _derived().table()
    back: StatusSnapshot = snapshot_from_table(table, name="derived")
    assert back == _derived()


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"bikes": -4}, "status[ST-1].bikes", ">= 0"),
        ({"bikes": "many"}, "status[ST-1].bikes", "valid integer"),
        ({"docks": 2000}, "status[ST-1].docks", "<= 1000"),
        ({"target_low": 9, "target_high": 2}, "status[ST-1].target_low", "got 9; expected at most"),
        ({"station_id": "ST-0"}, "status.stations[1].station_id", "got 'ST-0'; expected one row per station"),
    ],
)
def test_a_bad_value_names_station_field_value_and_expectation(
    change: dict[str, Any], field: str, expected: str
) -> None:
    table = pd.DataFrame({"station_id": ["ST-0", "ST-1"], "bikes": [3, 4], "docks": [10, 10]})
    for k, v in change.items():
        table[k] = table[k].astype(object) if k in table.columns else None
        table.loc[1, k] = v
    with pytest.raises(InputError) as info:
        snapshot_from_table(table)
    assert info.value.field == field and expected in str(info.value)


def test_a_table_without_bikes_or_ids_is_refused() -> None:
    with pytest.raises(InputError, match=r"status\.columns.*'bikes' column and a 'station_id' or 'number'"):
        snapshot_from_table(pd.DataFrame({"station_id": ["ST-1"]}))
    with pytest.raises(InputError, match="status table as CSV in UTF-8, UTF-16"):
        snapshot_from_csv(b"\xff\xfe\x00garbag")  # a UTF-16 byte-order mark, then an odd byte count


@pytest.mark.parametrize(
    ("encoding", "sep"), [("utf-16", ","), ("utf-16", "\t"), ("utf-16-le", ","), ("cp949", ",")]
)
def test_a_status_csv_reads_as_its_utf8_twin_in_every_encoding_a_station_list_takes(
    encoding: str, sep: str
) -> None:
    """Excel's "Unicode text" save is UTF-16 with a byte-order mark and tabs; station lists took
    UTF-16, status CSVs were refused. Without the mark UTF-16 cannot be told from other bytes:
    refused."""
    text = "station_id,name,bikes\nST-4,망원역 1번출구 앞,3\n"
    raw = text.replace(",", sep).encode(encoding)
    if encoding == "utf-16-le":  # no byte-order mark
        with pytest.raises(InputError, match="status"):
            snapshot_from_csv(raw)
        return
    assert (
        snapshot_from_csv(raw).to_dict()["stations"] == snapshot_from_csv(text.encode()).to_dict()["stations"]
    )


def test_schema_is_generated_and_rejects_what_the_model_rejects() -> None:
    schema = snapshot_json_schema()
    assert schema["$id"] == "mobility/status-snapshot/1" and schema["title"] == "StatusSnapshot"
    doc = _derived().to_dict()
    jsonschema.validate(doc, schema)
    doc["stations"][0]["bikes"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_cli_exit_2_names_the_station_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mobility.cli import main

    scn = tmp_path / "n.yaml"
    scn.write_text(
        "name: n\ndepots: [{id: A, lon: 126.98, lat: 37.56}]\ntrucks: [{depot: A, count: 1, capacity: 8}]\n"
        "targets: {source: snapshot}\nnetwork: {source: straight}\n",
        encoding="utf-8",
    )
    status = tmp_path / "status.csv"
    status.write_text("station_id,lon,lat,docks,bikes\nST-1,126.97,37.55,10,3\nST-2,126.98,37.55,10,x\n")
    argv = ["mobility", "rebalance", str(scn), "--status", str(status), "--out", str(tmp_path / "o")]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--status[ST-2].bikes (line 3): got 'x'" in err and "integer" in err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_a_bike_count_that_is_not_a_number_is_said_in_plain_words() -> None:
    """``mobility rebalance --status`` said 'expected Input should be a valid integer, ...':
    pydantic's words where the project's are plain (the API's 422 said it so already)."""
    from mobility.errors import InputError
    from mobility.rebalancing.snapshot import snapshot_from_csv

    csv = "station_id,number,lat,lon,docks,bikes\nST-8,108,37.55,126.91,10,many\n"
    with pytest.raises(InputError) as err:
        snapshot_from_csv(csv, label="--status")
    text = str(err.value)
    assert "--status[ST-8].bikes (line 2): got 'many'; expected a valid integer" in text, text
    assert "Input should be" not in text
