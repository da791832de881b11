"""The status snapshot: bikes and docks per station at one moment, the night's starting point.

:class:`StatusSnapshot` is the one document for it (``schema`` = ``"mobility/status-snapshot/1"``):
``mobility demand snapshot`` writes it (derived from demand, and saying so), ``mobility rebalance``
and ``mobility simulate --status`` read it, and the API stores it (``POST /v1/rebalancing/snapshots``,
as JSON or as the same CSV) and builds the night's problem from it. Its JSON Schema is generated
(:func:`snapshot_json_schema`).

Formats, each read here and written in :mod:`mobility.export.snapshot`:

- JSON: the model itself (``model_validate`` / ``model_dump``);
- the status table (CSV or Parquet): one row per station, the columns of :data:`STATION_COLUMNS`
  that are filled, and for a snapshot that says where and when it was taken the columns
  :data:`PROVENANCE_COLUMNS` (the same value on every row), as ``mobility demand snapshot`` has
  always written them;
- the real-time ``bikeList`` response of the Seoul Open API (read only).

A value that does not fit is an :class:`~mobility.errors.InputError` naming the station and field,
the value and what is expected (exit code 2 in the CLI; the API's 422 names
``stations.<i>.<field>``); the file's content is never echoed beyond that value. A station is named
by its id (``[ST-4]``), else by its number (``[number 4280]``), else by its place; a status CSV's
row also by its line of the file (1-based, the header is line 1: ``status[ST-9].bikes (line 7)``,
``status[line 4].station_id``), a table's without lines by its row (``[row 3]``, the first under
the header).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import re
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

import pandas as pd
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mobility.errors import DataFileError, InputError, field_path, given_text
from mobility.quality import QualityReport
from mobility.scenario.reading import Strict, error_input, expected_of, located, printable_name, problem
from mobility.schema import document_schema

__all__ = [
    "PROVENANCE_COLUMNS",
    "SCHEMA_ID",
    "STATION_COLUMNS",
    "SnapshotInputError",
    "StationStatus",
    "StatusSnapshot",
    "every_problem",
    "file_lines",
    "flag_overflow",
    "keep_file_lines",
    "narrowed",
    "read_snapshot",
    "read_status",
    "snapshot_from_csv",
    "snapshot_from_table",
    "snapshot_json_schema",
    "station_field",
    "station_name",
]

SCHEMA_ID: Final = "mobility/status-snapshot/1"
MAX_COUNT: Final = 1000
"""Upper bound of a station's bikes, docks and targets (Seoul's largest stations have about 40 docks)."""

STATION_COLUMNS: Final = (
    "station_id", "number", "name", "gu", "lon", "lat", "docks", "bikes",
    "target", "target_low", "target_high", "target_morning", "net_flow", "clipped",
)  # fmt: skip
"""Columns of the status table, in order (the fields of :class:`StationStatus`)."""

PROVENANCE_COLUMNS: Final = ("derived", "method", "date", "at")
"""Columns of the status table that repeat the snapshot's own fields on every row."""

_INT_COLUMNS: Final = frozenset(
    {"number", "docks", "bikes", "target", "target_low", "target_high", "target_morning"}
)
_FLOAT_COLUMNS: Final = frozenset({"lon", "lat", "net_flow", "clipped"})
_CLOCK = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"
_Count = Field(ge=0, le=MAX_COUNT)


def _named(kind: str, field: str, value: Any, expected: str, **more: Any) -> PydanticCustomError:
    """A validation error that names its field, value and expectation (kept in its context, so
    that :func:`_input_error` can name them again with the station; ``more`` too)."""
    return PydanticCustomError(
        kind,
        "{field}: {given}; expected {expected}",
        {"field": field, "value": value, "given": given_text(value), "expected": expected, **more},
    )


class StationStatus(Strict):
    """One station of a snapshot: its id (or only its number), its bikes and docks, and optionally
    where it is and what it should hold in the morning.

    Coordinates, docks and names may be left out for stations of the published station list
    (``mobility rebalance`` and the API's status CSV upload take them from it, by ``number`` then
    ``station_id``: :func:`mobility.rebalancing.build.join_station_list`); the API's stored and
    inline snapshots then require coordinates and docks (:class:`api.schemas.StationInventory`).
    More bikes than docks is allowed (Seoul's docks are a soft capacity).
    """

    model_config = ConfigDict(allow_inf_nan=False)

    station_id: str | None = Field(
        default=None, min_length=1, max_length=40, examples=["ST-4"], description="Station id (ST-…)."
    )
    number: int | None = Field(default=None, ge=0, description="The operator's station number (대여소 번호).")
    name: str | None = Field(
        default=None, max_length=200, description="Station name, one line (no control characters)."
    )
    gu: str | None = Field(default=None, max_length=40, description="District (구).")
    lon: float | None = Field(default=None, ge=-180, le=180, description="Longitude (WGS84).")
    lat: float | None = Field(default=None, ge=-90, le=90, description="Latitude (WGS84).")
    docks: int | None = Field(default=None, ge=0, le=MAX_COUNT, description="Docks of the station.")
    bikes: int = Field(ge=0, le=MAX_COUNT, description="Bikes at the station now.")
    target: int | None = Field(
        default=None, ge=0, le=MAX_COUNT, description="Bikes wanted by the morning, exactly."
    )
    target_low: int | None = Field(default=None, ge=0, le=MAX_COUNT, description="Morning band, lower end.")
    target_high: int | None = Field(default=None, ge=0, le=MAX_COUNT, description="Morning band, upper end.")
    target_morning: int | None = Field(
        default=None,
        ge=0,
        le=MAX_COUNT,
        description="The demand model's morning target (a derived snapshot); with the scenario's "
        "tolerance it is the band of `mobility rebalance` when targets.source is `snapshot`.",
    )
    net_flow: float | None = Field(
        default=None, description="Derived snapshots: returns minus rentals since the morning."
    )
    clipped: float | None = Field(
        default=None,
        description="Derived snapshots: bikes added (+) or removed (-) to stay in [0, docks + overflow].",
    )

    @property
    def key(self) -> str:
        """The station's id, or ``N<number>`` for a row that gives only its number."""
        return self.station_id if self.station_id is not None else f"N{self.number}"

    @field_validator("name")
    @classmethod
    def _printable(cls, v: str | None) -> str | None:
        """A name is one line of printable text, as an uploaded station list's
        (:func:`~mobility.scenario.reading.printable_name`)."""
        return None if v is None else printable_name(v)

    @model_validator(mode="after")
    def _band(self) -> StationStatus:
        if self.station_id is None and self.number is None:  # named at the field, not the row
            raise located(("station_id",), problem("no_station", None, "a station id or a number"), None)
        low, high = self.target_low, self.target_high
        if low is not None and high is not None and low > high:
            raise _named("band_order", "target_low", low, f"at most target_high ({high})")
        return self


class StatusSnapshot(Strict):
    """Bikes per station at one moment: the stations, when they were counted and from what.

    ``derived`` is true when the counts are not observed but derived from demand
    (:func:`mobility.demand.snapshot.derive_snapshot`), and ``source`` then says how.
    """

    model_config = ConfigDict(populate_by_name=True)

    schema_id: Literal["mobility/status-snapshot/1"] = Field(default=SCHEMA_ID, alias="schema")
    name: str = Field(default="snapshot", min_length=1, max_length=200)
    date: dt.date | None = Field(default=None, description="The day the stations were counted (local time).")
    at: str | None = Field(default=None, pattern=_CLOCK, description="Clock time of the count, HH:MM.")
    source: str | None = Field(
        default=None,
        max_length=200,
        description="Where the counts come from: `bikeList` (the real-time API), or a derivation method.",
    )
    derived: bool = Field(default=False, description="True when the counts are derived, not observed.")
    stations: tuple[StationStatus, ...] = Field(min_length=1)

    @field_validator("stations")
    @classmethod
    def _unique(cls, stations: tuple[StationStatus, ...]) -> tuple[StationStatus, ...]:
        """One row per station: no :attr:`StationStatus.key` on two rows (the error's context keeps
        both rows, ``first`` and ``second``, and what the second gave, ``key`` and ``given``, for
        :func:`_one_error` to name them by their lines of a file)."""
        seen: dict[str, int] = {}
        for i, s in enumerate(stations):
            first = seen.setdefault(s.key, i)
            if first != i:
                key, given = (
                    ("station_id", s.station_id) if s.station_id is not None else ("number", s.number)
                )
                raise _named(
                    "duplicate_station",
                    f"stations[{i}].station_id",
                    s.key,
                    f"one row per station ({s.key!r} appears twice: stations[{first}] and stations[{i}])",
                    first=first,
                    second=i,
                    key=key,
                    given=given,
                )
        return stations

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``model_dump`` in JSON mode, by alias)."""
        return self.model_dump(mode="json", by_alias=True)

    def table(self) -> pd.DataFrame:
        """The status table: one row per station, the :data:`STATION_COLUMNS` that any station
        fills (integers as nullable ``Int64``), then :data:`PROVENANCE_COLUMNS` when the snapshot
        says where or when it was taken."""
        data: dict[str, Any] = {}
        for col in STATION_COLUMNS:
            values = [getattr(s, col) for s in self.stations]
            if col != "bikes" and all(v is None for v in values):
                continue
            if col in _INT_COLUMNS:
                data[col] = pd.array(values, dtype="Int64")
            elif col in _FLOAT_COLUMNS:
                data[col] = pd.array([math.nan if v is None else v for v in values], dtype="float64")
            else:
                data[col] = pd.array(values, dtype="object")
        frame = pd.DataFrame(data)
        if self.derived or self.source is not None or self.date is not None or self.at is not None:
            frame["derived"] = self.derived
            frame["method"] = self.source or ""
            frame["date"] = self.date.isoformat() if self.date is not None else ""
            frame["at"] = self.at or ""
        return frame


def snapshot_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the status snapshot document, generated from :class:`StatusSnapshot`."""
    return document_schema(
        StatusSnapshot,
        "StatusSnapshot",
        description="Bikes and docks per station at one moment (the night's start). More bikes than "
        "docks is allowed; derived snapshots say so (derived, source).",
        schema_id=SCHEMA_ID,
    )


# ------------------------------------------------------------------------------------- reading
S = TypeVar("S", bound=StatusSnapshot)


def _cell(v: Any) -> Any:
    """A table cell as a plain Python value (``None`` for a missing one; strings stripped)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v.item() if hasattr(v, "item") else v


_INTEGER: Final = re.compile(r"[+-]?\d+")
_DECIMAL: Final = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number(text: str) -> int | float | str:
    """A cell's text as the number it spells (``-4`` an integer, ``1.5`` a float), else the text."""
    try:
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            return float(text)
    except ValueError:  # more digits than int() reads
        pass
    return text


def _numbers(column: pd.Series) -> pd.Series:
    """A numeric column of a status CSV read as text, each cell as the number it spells on its
    own: ``-4`` stays ``-4`` (never ``-4.0`` because a neighbour is blank or a decimal), so a
    bad cell is quoted alike in the CLI's message and the API's 422 whatever its neighbours.

    A column with a cell that spells no number stays text, cell by cell, as pandas reads it (a
    422 then quotes ``'-4'``: ``tests/api/test_integrator_findings.py`` pins that form)."""
    stripped = [None if pd.isna(v) else str(v).strip() for v in column]
    values = [None if v is None or not v else _number(v) for v in stripped]
    if any(isinstance(v, str) for v in values):
        return column
    return pd.Series(values, index=column.index, dtype=object)


def _expected(err: Mapping[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    for key, op in (("ge", ">="), ("le", "<="), ("gt", ">"), ("lt", "<")):
        if key in ctx:
            return f"{op} {ctx[key]}"
    return str(ctx["expected"]) if "expected" in ctx else expected_of(err)  # pydantic's, in plain words


def _given(err: Mapping[str, Any]) -> Any:
    """The value an error is about (:func:`~mobility.scenario.reading.error_input`: nothing for a
    missing field, whose input is the whole row, never echoed), ``{...}`` for a mapping."""
    value = error_input(err)
    return "{...}" if isinstance(value, Mapping) else value


MAX_PROBLEMS: Final = 20
"""Invalid values a :class:`SnapshotInputError` lists at most."""


class SnapshotInputError(InputError):
    """The first invalid value of a snapshot (field, value and message are its), with every invalid
    value (``problems``, at most :data:`MAX_PROBLEMS`): the API's 422 lists them all, and so does the
    CLI's message (``listed``, :func:`every_problem`).

    ``rest``, when a table was read (:func:`snapshot_from_table`), is the snapshot of its rows
    without an invalid value (``None`` when no row is left, or the document itself is invalid), so
    that a caller can check those rows further (against a station list) and list their problems
    in the same answer.

    ``listed``: the message names every problem, one line each under the label they share
    (``--status: 3 invalid values:`` then ``  [ST-4].bikes: got 'abc'; expected ...``), not only the
    first; one problem is said on one line either way."""

    def __init__(
        self, problems: Sequence[InputError], rest: StatusSnapshot | None = None, listed: bool = False
    ) -> None:
        first = problems[0]
        super().__init__(first.field, first.value, first.expected)
        self.problems = tuple(problems)
        self.rest = rest
        self.listed = listed

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems, self.rest, self.listed))

    def __str__(self) -> str:
        """The first problem's message, or with ``listed`` every problem's (see above)."""
        if not self.listed or len(self.problems) == 1:
            return super().__str__()
        label = _label_of(self.field)
        count = len(self.problems)
        head = f"{count} invalid values" if count < MAX_PROBLEMS else f"the first {count} invalid values"
        lines = [
            str(p)[len(label) :].lstrip(".") if p.field.startswith(label) else str(p) for p in self.problems
        ]
        return f"{label}: {head}:" + "".join(f"\n  {line}" for line in lines)


@contextlib.contextmanager
def every_problem() -> Iterator[None]:
    """A :class:`SnapshotInputError` raised in the block is raised again with every problem in its
    message (``listed``): how ``mobility simulate --status`` and ``mobility rebalance --status`` say a
    bad file, as the API's 422 lists it (:func:`snapshot_from_csv`'s problems, the same ones)."""
    try:
        yield
    except SnapshotInputError as exc:
        if exc.listed:
            raise
        raise SnapshotInputError(exc.problems, exc.rest, listed=True) from exc


def _label_of(field: str) -> str:
    """The label a snapshot's problem is named under (:func:`_one_error`): ``--status`` of
    ``--status[ST-4].bikes``, ``body`` of ``body.columns``."""
    return re.split(r"[.\[]", field, maxsplit=1)[0] or field


def station_name(station_id: object, number: object) -> str | None:
    """How a problem names a station: its id (``ST-4``), else ``number 4280`` (the number the file
    gave, never an id the file does not hold), else ``None`` (it is then named by its line or
    row)."""
    if station_id is not None and not (isinstance(station_id, float) and math.isnan(station_id)):
        return str(station_id)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if number is None or (isinstance(number, float) and math.isnan(number)):
        return None
    return f"number {number}"


def _row_name(row: Mapping[str, Any]) -> str | None:
    """How an error names a row: :func:`station_name` of its id and number."""
    return station_name(row.get("station_id"), row.get("number"))


def _field_of(label: str, name: str | None, line: int | None, i: int, path: str) -> str:
    """``label[<station>]<path>``, with `` (line 7)`` when the row's file line is known; a row
    without a station is ``label[line 7]<path>``, or without a line ``label[row <i + 1>]<path>``."""
    if name is None:
        return f"{label}[{f'line {line}' if line is not None else f'row {i + 1}'}]{path}"
    return f"{label}[{name}]{path}" + (f" (line {line})" if line is not None else "")


_FILE_LINES: dict[int, tuple[int, ...]] = {}


def file_lines(snapshot: StatusSnapshot) -> tuple[int, ...] | None:
    """The file line (1-based, the header is line 1) each station of ``snapshot`` was read from,
    when :func:`snapshot_from_csv` read it (or it is the ``rest`` of a file's
    :class:`SnapshotInputError`); ``None`` otherwise. Kept beside the document, not in it: two
    snapshots of the same stations stay equal whatever lines they came from."""
    return _FILE_LINES.get(id(snapshot))


def keep_file_lines(snapshot: StatusSnapshot, lines: Sequence[int] | None) -> None:
    """Remember ``lines`` as ``snapshot``'s :func:`file_lines`, until the snapshot is gone: for
    a copy of a snapshot read from a file (``model_copy``), one line per station."""
    if lines is None or len(lines) != len(snapshot.stations):
        return
    key = id(snapshot)
    _FILE_LINES[key] = tuple(lines)
    weakref.finalize(snapshot, _FILE_LINES.pop, key, None)


def station_field(label: str, snapshot: StatusSnapshot, i: int, field: str) -> str:
    """How a problem names ``field`` of station ``i`` of ``snapshot``: ``label[ST-4].bikes``,
    ``label[number 4280].number``, with `` (line 7)`` when the snapshot was read from a file
    (:func:`file_lines`), as the reader names its own problems."""
    s = snapshot.stations[i]
    lines = file_lines(snapshot)
    return _field_of(label, station_name(s.station_id, s.number), lines[i] if lines else None, i, f".{field}")


@dataclass(frozen=True)
class _Rows:
    """How a snapshot's problems name its rows: each row's :func:`station_name`, file line (when
    read from a file) and ``number`` as the file wrote it (``00102``)."""

    names: Sequence[str | None]
    lines: Sequence[int] | None = None
    numbers: Sequence[str | None] | None = None

    def field(self, label: str, i: int, path: str) -> str:
        """:func:`_field_of` row ``i``."""
        name = self.names[i] if i < len(self.names) else None
        line = self.lines[i] if self.lines is not None and i < len(self.lines) else None
        return _field_of(label, name, line, i, path)

    def number(self, i: int, value: object) -> str:
        """Row ``i``'s number as written, else ``value`` as text."""
        written = self.numbers[i] if self.numbers is not None and i < len(self.numbers) else None
        return written if written is not None else str(value)


def _input_error(exc: ValidationError, label: str, rows: _Rows) -> SnapshotInputError:
    """The invalid fields of a snapshot, each as ``label[<station>].<field>``, its value and the
    expectation (``label[ST-3].bikes (line 4): got -4; expected >= 0``); a tuple's "too short" that
    only follows from its stations' own errors is left out."""
    errors = exc.errors()
    own = [
        e
        for e in errors
        if e["type"] != "too_short" or not any(len(o["loc"]) > len(e["loc"]) for o in errors)
    ]
    return SnapshotInputError([_one_error(e, label, rows) for e in (own or errors)[:MAX_PROBLEMS]])


def _one_error(err: Any, label: str, rows: _Rows) -> InputError:
    """One invalid field of a snapshot (:func:`_input_error`)."""
    loc = list(err["loc"])
    ctx = err.get("ctx") or {}
    named = "field" in ctx and "expected" in ctx  # one of ours (_named)
    value = ctx.get("value") if named else _given(err)
    if "second" in ctx and rows.lines is not None:
        return _repeat_error(ctx, label, rows)
    if len(loc) >= 2 and loc[0] == "stations" and isinstance(loc[1], int):
        path = "".join(f".{p}" for p in loc[2:]) + (f".{ctx['field']}" if named else "")
        field = rows.field(label, loc[1], path)
        return InputError(field, value, str(ctx["expected"]) if named else _expected(err))
    if named:
        return InputError(f"{label}.{ctx['field']}", value, str(ctx["expected"]))
    return InputError(f"{label}.{field_path(loc)}", value, _expected(err))


def _repeat_error(ctx: Mapping[str, Any], label: str, rows: _Rows) -> InputError:
    """A station on two lines of a file (:meth:`StatusSnapshot._unique`), named by its second
    line and the first: ``status[ST-4].station_id (line 42): got 'ST-4'; expected one row per
    station (ST-4 is on line 5 too)``; a number written two ways says so (``00102 and 102 are the
    same station number``)."""
    first, i, key, value = int(ctx["first"]), int(ctx["second"]), str(ctx["key"]), ctx["given"]
    assert rows.lines is not None
    before = rows.lines[first]
    if key == "number":
        now, was = rows.number(i, value), rows.number(first, value)
        said = (
            f"{was} on line {before} and {now} are the same station number"
            if now != was
            else f"number {now} is on line {before} too"
        )
        return InputError(
            rows.field(label, i, ".number"),
            now if now != str(value) else value,
            f"one row per station ({said})",
        )
    return InputError(
        rows.field(label, i, f".{key}"), value, f"one row per station ({value} is on line {before} too)"
    )


_READ_BY_OTHER_NAMES: Final = frozenset(STATION_COLUMNS) - {"gu", "target", "target_low", "target_high"}
"""Columns a header may name in other words (:func:`_table_names`); a district, a target are read
by their own names only (``구분``, "category", is a district in one station list only)."""


def _table_names(table: pd.DataFrame) -> dict[str, str]:
    """The columns of ``table`` to read as the status table's: a header in another case or spacing
    (``Bikes``, ``STATION_ID``), or as Seoul's public station data names it, the names
    :mod:`mobility.sources.stations` reads a station list by (``대여소번호`` number, ``대여소_ID`` or
    ``RENT_ID`` station_id, ``대여소ID`` either by its values, ``대여소명`` name, ``거치대수`` /
    ``HOLD_NUM`` docks, ``위도`` lat, ``경도`` lon, and the real-time ``bikeList`` fields
    ``stationId``, ``rackTotCnt``, ``parkingBikeTotCnt``: bikes). A column already named as the
    table's, and a second column for the same one, are kept as they are."""
    from mobility.sources.stations import _detect_layout, _normalize_header

    names = [str(c) for c in table.columns]
    taken = set(names) & set(STATION_COLUMNS)
    labels = [_normalize_header(n) for n in names]
    out: dict[str, str] = {}
    candidates = [(j, label.lower()) for j, label in enumerate(labels)]
    for role, j in _detect_layout(labels).roles.items():
        if role == "id_or_number":  # 대여소ID: the ST- id in one list, the number in another
            ids = table.iloc[:, j].dropna().astype(str).str.strip()
            role = "station_id" if len(ids) and ids.str.upper().str.startswith("ST-").all() else "number"
        candidates.append((j, role))
    for j, role in candidates:
        if (
            role in _READ_BY_OTHER_NAMES
            and role not in taken
            and names[j] not in out
            and names[j] not in taken
        ):
            out[names[j]] = role
            taken.add(role)
    return out


def _as_table(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """``table`` with its columns named as the status table's (:func:`_table_names`), or the
    :func:`_columns_error` of a table without ``bikes`` or a station id or number."""
    renamed = _table_names(table)
    out = table.rename(columns=renamed) if renamed else table
    if "bikes" not in out.columns or not ({"station_id", "number"} & set(out.columns)):
        raise _columns_error(label, [str(c) for c in table.columns], renamed)
    return out


class _Described(str):
    """A value a message describes rather than quotes (``3 columns: 'a', 'b', 'c'``): its ``repr``
    is itself, so that ``got`` shows it as it is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _columns_error(label: str, found: Sequence[str], renamed: Mapping[str, str]) -> InputError:
    """A table without ``bikes`` or a station id or number: the headers read (quoted, as read),
    what is missing, and what can be told of why (a ``;`` in a header, Korean headers)."""
    have = {renamed.get(c, c) for c in found}
    missing = [
        what
        for what, ok in (
            ("'bikes'", "bikes" in have),
            ("'station_id' or 'number'", bool({"station_id", "number"} & have)),
        )
        if not ok
    ]
    expected = f"a 'bikes' column and a 'station_id' or 'number' column ({' and '.join(missing)} not found"
    if any(";" in c for c in found):
        expected += "; the file seems separated by semicolons; expected commas"
    if renamed:
        expected += "; read " + ", ".join(f"{k} as {v}" for k, v in renamed.items())
    if any(re.search("[가-힣]", c) for c in found):  # 자전거수, say: not a column of the city's data
        columns = "column" if len(missing) == 1 else "columns"
        expected += f"; other Korean headers are not read: name the {columns} " + " and ".join(missing)
    count = f"{len(found)} column{'' if len(found) == 1 else 's'}"
    return InputError(
        f"{label}.columns", _Described(f"{count}: {', '.join(map(repr, found))}"), expected + ")"
    )


def snapshot_from_table(
    table: pd.DataFrame,
    *,
    name: str = "snapshot",
    source: str | None = None,
    label: str = "status",
    model: type[S] = StatusSnapshot,  # type: ignore[assignment]
    lines: Sequence[int] | None = None,
) -> S:
    """The snapshot of a status table (CSV, Parquet, a derived or a ``bikeList`` table).

    Columns of :data:`STATION_COLUMNS` are read (others are left out; a header in other words
    that is a column of Seoul's station data is read as it: :func:`_table_names`);
    :data:`PROVENANCE_COLUMNS`, when present, give ``derived``, ``source`` (``method``), ``date``
    and ``at`` from the first row. Raises :class:`SnapshotInputError` naming
    ``label[<station>].<field>`` for each value that does not fit (with `` (line N)``, the row's
    line of the file, when ``lines`` gives them). ``model`` may be a narrower document (the API's,
    which requires coordinates).
    """
    return _snapshot_of_table(table, name, source, label, model, _Rows((), lines))


def _snapshot_of_table(
    table: pd.DataFrame, name: str, source: str | None, label: str, model: type[S], rows: _Rows
) -> S:
    """:func:`snapshot_from_table`; ``rows`` gives the rows' lines and numbers as written (its
    names are the table's own)."""
    table = _as_table(table, label)
    cols = [c for c in STATION_COLUMNS if c in table.columns]
    records: list[dict[str, Any]] = []
    for raw in table[cols].itertuples(index=False, name=None):
        records.append({c: v for c, v in zip(cols, map(_cell, raw), strict=True) if v is not None})
    first = {c: _cell(table[c].iloc[0]) for c in PROVENANCE_COLUMNS if c in table.columns and len(table)}
    doc: dict[str, Any] = {"name": name, "stations": records}
    if first.get("derived") is not None:
        doc["derived"] = str(first["derived"]).strip().lower() in ("true", "1", "yes")
    doc["source"] = first.get("method") or source
    for key in ("date", "at"):
        if first.get(key) is not None:
            doc[key] = str(first[key])
    lines = rows.lines if rows.lines is not None and len(rows.lines) == len(records) else None
    try:
        snapshot = model.model_validate(doc)
    except ValidationError as exc:
        named = _Rows([_row_name(r) for r in records], lines, rows.numbers)
        error = _input_error(exc, label, named)
        raise SnapshotInputError(error.problems, rest=_valid_rows(model, doc, exc, lines)) from exc
    keep_file_lines(snapshot, lines)
    return snapshot


def _valid_rows(
    model: type[S], doc: Mapping[str, Any], exc: ValidationError, lines: Sequence[int] | None
) -> S | None:
    """The snapshot of ``doc``'s stations that have no invalid value in ``exc`` (see
    :attr:`SnapshotInputError.rest`, with their :func:`file_lines`); ``None`` when every station
    has one, when ``exc`` found nothing wrong with a station, or when the rest is still not a
    valid document."""
    bad = {
        e["loc"][1]
        for e in exc.errors()
        if len(e["loc"]) >= 2 and e["loc"][0] == "stations" and isinstance(e["loc"][1], int)
    }
    kept = [i for i in range(len(doc["stations"])) if i not in bad]
    if not bad or not kept:
        return None
    try:
        rest = model.model_validate({**doc, "stations": [doc["stations"][i] for i in kept]})
    except ValidationError:
        return None
    keep_file_lines(rest, None if lines is None else [lines[i] for i in kept])
    return rest


def narrowed(snapshot: StatusSnapshot, model: type[S], *, label: str = "status") -> S:
    """``snapshot`` validated again as a narrower document ``model`` (the API's, which requires
    each station's position and docks); an :class:`InputError` names ``label[<station>].<field>``
    (and its line of the file: :func:`file_lines`)."""
    try:
        out = model.model_validate(snapshot.to_dict())
    except ValidationError as exc:
        names = [station_name(s.station_id, s.number) for s in snapshot.stations]
        raise _input_error(exc, label, _Rows(names, file_lines(snapshot))) from exc
    keep_file_lines(out, file_lines(snapshot))
    return out


def _record_lines(text: str, sep: str, label: str) -> list[int] | None:
    """The line of the file (1-based) each row pandas reads from ``text`` starts on: the header
    is the first line that is not blank, blank lines (spaces and tabs only) are not rows, and a
    quoted cell may span lines. ``None`` when the csv module cannot split ``text`` (pandas then
    says why).

    A row with more cells than the header is refused, named by its line (``status[line 3]``):
    pandas would read the extra leading cells of the first such rows as an index and shift every
    value (``2301,4,5,6`` under ``number,bikes`` became station 5 with 6 bikes)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    lines: list[int] = []
    width: int | None = None
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row or (len(row) == 1 and row[0] and not row[0].strip(" \t")):
                continue  # a blank line, which pandas skips
            if width is None:
                width = len(row)
            elif len(row) > width:
                raise InputError(
                    f"{label}[line {line}]",
                    len(row),
                    f"at most {width} cells, as many as the header has columns (an unquoted "
                    f"{'tab' if sep == chr(9) else repr(sep)} in a value?)",
                )
            else:
                lines.append(line)
    except csv.Error:
        return None
    return lines


_WORKBOOKS: Final = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx, a ZIP archive)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls)"),
)
"""The first bytes of a workbook (or another ZIP archive), which a status CSV never starts with."""


def _separator(text: str) -> str:
    """The cell separator of a status CSV: a semicolon when its header holds one and neither a
    comma nor a tab (Excel's "CSV" where the decimal mark is a comma), else
    :func:`~mobility.sources.stations.table_delimiter`'s (a tab when the file has more tabs
    than commas, else a comma).

    Decided on the header alone, not sniffed (:class:`csv.Sniffer`, or pandas' ``sep=None``,
    which is the same sniffer on its Python engine): a header without a comma is a table of one
    column, refused anyway, so no file that reads as commas reads otherwise, whereas the sniffer
    guesses from how often each character appears and can pick ``;`` (or ``-`` of ``ST-4``) in a
    comma file whose names hold them."""
    from mobility.sources.stations import table_delimiter

    header = next((line for line in text.splitlines() if line.strip()), "")
    if ";" in header and "," not in header and "\t" not in header:
        return ";"
    return table_delimiter(text)


def snapshot_from_csv(
    raw: bytes | str,
    *,
    name: str = "snapshot",
    label: str = "status",
    model: type[S] = StatusSnapshot,  # type: ignore[assignment]
) -> S:
    """The snapshot of a status CSV's content (UTF-8 with or without a byte-order mark, UTF-16
    with its byte-order mark, or cp949 as Korean Excel saves CSV; comma-, tab- or
    semicolon-separated (:func:`_separator`): decoded as a station file or a station-list upload
    is, by :func:`mobility.sources.base.decode_table_bytes`); see :func:`snapshot_from_table`.
    Its problems name each row's line of the file too (``status[ST-9].bikes (line 7)``), and so
    do later checks of the snapshot (:func:`file_lines`). An Excel workbook is refused as one."""
    from mobility.sources.base import decode_table_bytes

    expected = "a status table as CSV in UTF-8, UTF-16 with its byte-order mark, or cp949"
    if isinstance(raw, bytes):
        for magic, what in _WORKBOOKS:
            if raw.startswith(magic):
                raise InputError(label, _Described(what), f"{expected}: save the sheet as CSV and send that")
    try:
        if isinstance(raw, bytes):
            text, _ = decode_table_bytes(raw, Path(f"{label}.csv"))
        else:
            text = raw.removeprefix("\ufeff")
        sep = _separator(text)
        lines = _record_lines(text, sep, label)
        table = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype="string",  # numbers cell by cell below (_numbers), not by pandas per column
            keep_default_na=False,  # only an empty cell is missing ("NA" may be a name)
            na_values=[""],
        )
    except DataFileError as exc:  # neither UTF-8 nor cp949
        raise InputError(label, "(CSV content)", expected) from exc
    except (ValueError, pd.errors.ParserError) as exc:  # EmptyDataError too
        raise InputError(label, "(CSV content)", f"{expected} ({type(exc).__name__})") from exc
    table = _as_table(table, label)
    numbers = None
    if "number" in table.columns:  # as written, for a message: 00102 and 102 are one station
        numbers = [None if pd.isna(v) else str(v).strip() or None for v in table["number"]]
    for column in sorted((_INT_COLUMNS | _FLOAT_COLUMNS) & set(table.columns)):
        table[column] = _numbers(table[column])
    return _snapshot_of_table(table, name, None, label, model, _Rows((), lines, numbers))


def flag_overflow(report: QualityReport, names: Sequence[str], bikes: pd.Series, docks: pd.Series) -> None:
    """Flag in ``report`` (kept, not refused: a station does overflow) each station with more
    bikes than its docks and the bikes the demand model lets stand beside a full station
    (:attr:`~mobility.demand.inventory.InventoryParams.max_overflow`, also what a derived snapshot
    is clipped to): ``300`` bikes at 15 docks is likely a typo. A station whose docks are unknown
    or 0 is not flagged here. ``names`` (``ST-4``, ``number 4280``), ``bikes`` and ``docks`` are
    the stations' in one order; the examples say ``ST-4 (300 bikes, 15 docks)``."""
    from mobility.demand.inventory import InventoryParams

    allowance = InventoryParams.max_overflow
    bikes = pd.to_numeric(pd.Series(list(bikes)), errors="coerce")
    docks = pd.to_numeric(pd.Series(list(docks)), errors="coerce")
    over = ((docks > 0) & (bikes > docks + allowance)).fillna(False).astype(bool)
    shown = pd.Series(
        [f"{n} ({b:.0f} bikes, {d:.0f} docks)" for n, b, d in zip(names, bikes, docks, strict=True)],
        dtype=object,
    )
    reason = f"more bikes than docks + {allowance}, the most the demand model lets a station hold; a typo?"
    report.warn(reason, over, example=shown)


def _from_json(payload: Any, path: Path, label: str) -> StatusSnapshot:
    if isinstance(payload, dict) and "stations" in payload:
        try:
            return StatusSnapshot.model_validate(payload)
        except ValidationError as exc:
            ids = [_row_name(s) if isinstance(s, dict) else None for s in payload.get("stations") or []]
            raise _input_error(exc, label, _Rows(ids)) from exc
    from mobility.sources.stations import parse_bike_list

    table = parse_bike_list(payload, origin=path).table
    # a count the feed could not give is left out (parse_bike_list reported it), as before
    table = table[table["bikes"].notna()]
    return snapshot_from_table(table, name=path.stem, source="bikeList", label=label)


def read_snapshot(path: Path, *, label: str = "--status") -> StatusSnapshot:
    """A status snapshot from a file: the JSON document, a real-time ``bikeList`` JSON response,
    or the status table as CSV or Parquet (by the file's extension)."""
    if not path.exists():
        raise InputError(label, str(path), "an existing CSV, Parquet or JSON (snapshot or bikeList) file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return snapshot_from_table(pd.read_parquet(path), name=path.stem, label=label)
        if suffix == ".json":
            return _from_json(json.loads(path.read_text(encoding="utf-8")), path, label)
        return snapshot_from_csv(path.read_bytes(), name=path.stem, label=label)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"cannot read as a status snapshot ({type(exc).__name__})") from exc


def read_status(path: Path) -> pd.DataFrame:
    """The status table of a snapshot file (:func:`read_snapshot`, then :meth:`StatusSnapshot.table`)."""
    return read_snapshot(path).table()
