"""What every loader returns, and how a dataset is described to the catalog."""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd

from mobility.config import resolve_data_dir
from mobility.errors import DataFileError, DataNotFoundError, InputError
from mobility.quality import QualityReport

CRS_WGS84 = "EPSG:4326"
"""Longitude/latitude, for exchange (GeoJSON, GBFS, the API)."""

CRS_METRIC = "EPSG:5179"
"""Korea 2000 / Unified CS (metres), for every distance and area computed here."""

EARTH_RADIUS_M = 6_371_000.0
"""Mean earth radius, for great-circle distances between lon/lat points."""

MALFORMED_LINE = "malformed CSV line (wrong number of fields)"
"""The quality report's reason for a dropped line with more fields than the header (the trip,
usage and population loaders all count theirs under it)."""

T = TypeVar("T")


@dataclass
class Loaded(Generic[T]):
    """A loaded table with the account of its rows.

    Attributes
    ----------
    table
        The validated table (``pandas.DataFrame`` or ``geopandas.GeoDataFrame``).
    report
        Rows read, dropped (with reasons) and flagged.
    sources
        The files it was read from.
    """

    table: T
    report: QualityReport
    sources: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset as the catalog (``mobility data info``/``check``) sees it.

    Attributes
    ----------
    name
        Short stable name, e.g. ``"stations_2025-12"``.
    family
        ``"stations"``, ``"trips"``, ``"usage"``, ``"population"``, ``"boundaries"``,
        ``"layers"`` or ``"network"``.
    relpath
        Path relative to the data directory.
    description
        One line for humans.
    load
        ``load(data_dir) -> Loaded`` for tabular datasets; ``None`` for files the catalog only
        fingerprints (e.g. street networks, summarised by ``mobility network info``).
    expected_rows
        The documented row count, checked by ``mobility data check`` (``None`` when unknown).
    """

    name: str
    family: str
    relpath: str
    description: str
    load: Callable[[Path], Loaded[Any]] | None = None
    expected_rows: int | None = None


def data_file(
    data_dir: Path | str | None, relpath: str, what: str, *, documented_in: str = "GEO_SOURCES.md"
) -> Path:
    """The file ``relpath`` of the data directory.

    Parameters
    ----------
    data_dir
        Data directory; ``None`` resolves it.
    relpath
        The file, relative to the data directory.
    what
        What the file holds, for the error.
    documented_in
        The data directory's note on where the file comes from, named in the error.

    Raises
    ------
    DataNotFoundError
        When there is no such file.
    """
    path = resolve_data_dir(data_dir) / relpath
    if not path.is_file():
        raise DataNotFoundError(what, [path], f"See {documented_in} for where this file comes from.")
    return path


def catalog_loader(fn: Callable[..., Loaded[Any]]) -> Callable[[Path], Loaded[Any]]:
    """``fn`` as a :attr:`DatasetSpec.load`: called with the data directory only (its defaults apply)."""

    def load(data_dir: Path) -> Loaded[Any]:
        return fn(data_dir)

    return load


def family_datasets(
    family: str, rows: Iterable[tuple[str, str, str, Callable[..., Loaded[Any]], int | None]]
) -> list[DatasetSpec]:
    """The catalog entries of one loader module, from a table of ``(name, relpath, description,
    loader, expected_rows)`` rows of ``family``; each loader is called with the data directory only
    (:func:`catalog_loader`)."""
    return [
        DatasetSpec(name, family, relpath, text, catalog_loader(fn), expected)
        for name, relpath, text, fn, expected in rows
    ]


TEXT_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp949")
"""Encodings tried, in order, on text that does not start with a UTF-16 byte-order mark (such text
is UTF-16, or is refused): UTF-8 with or without BOM, then cp949 (EUC-KR and its extension)."""

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_table_bytes(raw: bytes, origin: Path, *, final: bool = True) -> tuple[str, str]:
    """Decode the bytes of a text table (a file's, the head of one, or an upload's), detecting the
    encoding: the one reading of encodings every loader and upload goes through.

    Bytes starting with a UTF-16 byte-order mark are UTF-16; other bytes are the first of
    :data:`TEXT_ENCODINGS` that decodes them.

    Parameters
    ----------
    raw
        The bytes.
    origin
        Names the table in errors (a file, or an upload's name).
    final
        ``False`` when ``raw`` is only the head of a longer file: a character cut at its end is
        not an error (and is left out of the text).

    Returns
    -------
    tuple[str, str]
        The text (without BOM) and its encoding: ``"utf-16"``, ``"utf-8"`` (with or without BOM)
        or ``"cp949"``.

    Raises
    ------
    DataFileError
        When the bytes are neither UTF-8, UTF-16 (with BOM) nor cp949/EUC-KR.
    """
    if raw.startswith(_UTF16_BOMS):
        try:
            return _decoded(raw, "utf-16", final), "utf-16"
        except UnicodeDecodeError as exc:
            raise DataFileError(
                origin, f"unknown text encoding: has a UTF-16 byte-order mark but is not UTF-16 ({exc})"
            ) from exc
    for enc in TEXT_ENCODINGS:
        try:
            return _decoded(raw, enc, final), "utf-8" if enc == "utf-8-sig" else enc
        except UnicodeDecodeError:
            continue
    bad = _first_undecodable(raw)
    raise DataFileError(
        origin,
        "unknown text encoding: not UTF-8, UTF-16 or cp949/EUC-KR "
        f"(first byte invalid as UTF-8: 0x{raw[bad]:02x} at offset {bad}); save it as UTF-8 or cp949 CSV",
    )


def _decoded(raw: bytes, encoding: str, final: bool) -> str:
    return codecs.getincrementaldecoder(encoding)().decode(raw, final=final)


def _first_undecodable(raw: bytes) -> int:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return int(exc.start)
    return 0  # pragma: no cover - only called after UTF-8 failed


def detect_encoding(path: Path, sample_bytes: int = 1 << 20) -> str:
    """The encoding of a text file, from its first ``sample_bytes`` (:func:`decode_table_bytes`):
    ``"utf-8"`` (with or without BOM), ``"cp949"`` or ``"utf-16"`` (with BOM).

    Raises
    ------
    DataFileError
        When the file cannot be read, is empty, or is neither UTF-8, UTF-16 (with BOM) nor
        cp949/EUC-KR.
    """
    head = _read_bytes(path, sample_bytes)
    if not head.strip():
        raise DataFileError(path, "is empty; expected a CSV with a header line")
    return decode_table_bytes(head, path, final=len(head) < sample_bytes)[1]


def read_table_text(path: Path) -> tuple[str, str]:
    """Read ``path`` as text, detecting its encoding (:func:`decode_table_bytes`).

    Parameters
    ----------
    path
        A text file (a CSV, a saved JSON payload).

    Returns
    -------
    tuple[str, str]
        The text (without BOM) and the encoding that decoded it.

    Raises
    ------
    DataFileError
        When the file cannot be read or is neither UTF-8, UTF-16 (with BOM) nor cp949/EUC-KR.
    """
    return decode_table_bytes(_read_bytes(path), path)


def _read_bytes(path: Path, limit: int = -1) -> bytes:
    """The first ``limit`` bytes of ``path`` (all of them by default), or the error naming it."""
    try:
        with path.open("rb") as fh:
            return fh.read(limit)
    except OSError as exc:
        raise DataFileError(path, f"cannot be read ({exc.strerror or exc})") from exc


def load_json_file(path: Path, parse: Callable[[Any], Loaded[T]]) -> Loaded[T]:
    """A saved JSON payload (a GBFS feed, an OpenAPI response) read with :func:`read_table_text`
    and parsed by ``parse``; a payload it refuses (:class:`InputError`) is the file's error, and
    the file is the result's source.

    Raises
    ------
    DataFileError
        The file cannot be read or decoded, is not JSON, or ``parse`` refuses its payload.
    """
    text, _enc = read_table_text(path)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    try:
        loaded = parse(payload)
    except InputError as exc:
        raise DataFileError(path, str(exc)) from exc
    loaded.sources = [path]
    return loaded


_UNREADABLE = (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError)
"""What :func:`pandas.read_csv` raises on a file it cannot read (ValueError: e.g. a dtype that a
column's text does not fit)."""


def read_csv_counted(path: Path, required: list[str], **kwargs: Any) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV (in any encoding :func:`detect_encoding` knows) and check its columns, setting
    malformed lines aside.

    A line with more fields than the header (an unquoted comma in a name, say) does not fail the
    file: it is returned, as text, for the caller to count under :data:`MALFORMED_LINE`. The
    fast parser reads a sound file; only a file it refuses is read again, line by line.

    Parameters
    ----------
    path
        The CSV file.
    required
        Columns that must be present.
    **kwargs
        Passed to :func:`pandas.read_csv` (``dtype``...).

    Returns
    -------
    tuple[pandas.DataFrame, list[str]]
        The table, and the malformed lines (fields joined by commas).

    Raises
    ------
    DataFileError
        The file cannot be decoded or parsed, or a required column is missing; the message
        names the file.
    """
    encoding = detect_encoding(path)
    kwargs["encoding"] = "utf-8-sig" if encoding == "utf-8" else encoding
    malformed: list[str] = []

    def set_aside(fields: list[str]) -> None:
        malformed.append(",".join(fields))
        return None

    try:
        try:
            frame = pd.read_csv(path, **kwargs)
        except pd.errors.ParserError:  # a line with too many fields: read again, line by line
            frame = pd.read_csv(path, engine="python", on_bad_lines=set_aside, **kwargs)
    except _UNREADABLE as exc:
        reason = " ".join(str(exc).split())
        raise DataFileError(path, f"cannot be read as CSV ({reason})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataFileError(path, f"missing column(s) {missing}; found {list(frame.columns)}")
    return frame, malformed


def malformed_report(dataset: str, rows: int, malformed: list[str]) -> QualityReport:
    """A quality report for ``rows`` rows read besides ``malformed`` lines (from
    :func:`read_csv_counted`), which count as read and as dropped under :data:`MALFORMED_LINE`."""
    report = QualityReport(dataset, rows_read=rows + len(malformed))
    report.drop(MALFORMED_LINE, count=len(malformed), example=pd.Series(malformed, dtype="string"))
    return report
