"""Bike trips (대여이력, OA-15182): every layout we have, normalized, streamed through DuckDB.

Layouts recognised from the header (names compared without spaces, quotes, BOM, case and any
parenthesised unit, so ``이용시간(분)`` = ``이용시간`` and ``대여 대여소번호`` = ``대여대여소번호``):

* **2016-03** (``trips_2016-03_fullmonth.csv``): ``rent_datetime``, ``return_datetime``,
  ``distance``, ``rent_station_id`` / ``return_station_id`` (ST-IDs only; numbers come from
  :func:`mobility.sources.stations.station_number_lookup`); no duration column (computed).
* **2018 1 % sample** (``trips_2018_1pct_sample.csv``): ``rent_time``, ``rent_station_no``,
  ``return_time``, ``return_station_no``, ``use_time_min``, ``use_dist_m``; ``\\N`` means null.
  Every row stands for 100 trips (``weight`` 100).
* **OpenAPI tbCycleRentData** (``trips_2022-01-01_fullday.csv``): ``RENT_DT``, ``RENT_ID`` (the
  station *number*, zero-padded), ``RTN_DT``, ``RTN_ID``, ``USE_MIN``, ``USE_DST``,
  ``RENT_STATION_ID`` / ``RETURN_STATION_ID`` (ST-IDs).
* **Official Seoul download** (서울 열린데이터광장 CSV, cp949 or UTF-8): ``자전거번호``, ``대여일시``,
  ``대여 대여소번호``, ``대여 대여소명``, ``대여거치대``, ``반납일시``, ``반납대여소번호``,
  ``반납대여소명``, ``반납거치대``, ``이용시간``/``이용시간(분)``, ``이용거리``/``이용거리(M)``, and in
  later years ``대여대여소ID``/``반납대여소ID``. Values may be quoted or carry a leading ``'``.

Normalized columns (one Parquet schema, :data:`COLUMNS`): ``rent_time``, ``return_time``
(timestamps, Asia/Seoul local time without zone), ``rent_station``, ``return_station`` (station
number, Int64), ``rent_station_id``, ``return_station_id`` (``ST-xxx`` where known),
``duration_min`` (minutes; the file's value, else computed from the times), ``distance_m``
(metres; null when absent or negative), ``weight`` (trips this row stands for), ``bike_id``,
``source`` (file name).

Rows that cannot be used are counted by reason, never silently dropped: unparseable rent or
return time, return before rent, negative duration, unknown rent/return station (neither a
positive number nor an ST-ID), a repeated header line, a malformed CSV line (wrong number of
fields). ``rows_read = rows_kept + sum(rejected)``.

:func:`ingest_trips` streams any number of (monthly, large) files into one Parquet file without
loading them into pandas; :func:`load_trips` runs it into the cache and reads the result.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mobility.cache import cache_key, load_or_discard
from mobility.config import cache_dir, resolve_data_dir
from mobility.errors import DataFileError, DataNotFoundError, MobilityError
from mobility.io import atomic_path, atomic_write_json
from mobility.quality import QualityReport
from mobility.sources.base import MALFORMED_LINE, DatasetSpec, Loaded, detect_encoding
from mobility.sources.stations import station_number_lookup

__all__ = [
    "COLUMNS",
    "DATASETS",
    "MALFORMED_LINE",
    "TRIP_DATASETS",
    "IngestResult",
    "TripDataset",
    "TripLayout",
    "default_weight",
    "detect_encoding",
    "detect_layout",
    "ingest_trips",
    "load_trips",
]

SCHEMA_VERSION = 4
"""Bump when the normalized schema or the rejection rules change (invalidates cached tables)."""

COLUMNS: tuple[str, ...] = (
    "rent_time",
    "return_time",
    "rent_station",
    "return_station",
    "rent_station_id",
    "return_station_id",
    "duration_min",
    "distance_m",
    "weight",
    "bike_id",
    "source",
)
"""The normalized trip columns, in order."""


@dataclass(frozen=True)
class TripDataset:
    """One trip file of the shared data folder."""

    relpath: str
    rows: int
    """Data rows in the file (what ``rows_read`` must be)."""
    kept: int
    """Rows that survive the checks."""
    weight: int
    description: str


TRIP_DATASETS: dict[str, TripDataset] = {
    "2016-03": TripDataset(
        "ttareungi/trips_2016-03_fullmonth.csv",
        56_769,
        56_769,
        1,
        "All trips of March 2016 (145 rental stations, ST-ID keys)",
    ),
    "2018-sample": TripDataset(
        "ttareungi/trips_2018_1pct_sample.csv",
        101_149,
        100_715,
        100,
        "1 % systematic sample of the 2018 trips (weight 100; 432 without return station)",
    ),
    "2022-01-01": TripDataset(
        "ttareungi/trips_2022-01-01_fullday.csv",
        30_220,
        30_124,
        1,
        "All trips of 2022-01-01 (a public holiday), OpenAPI tbCycleRentData fields (96 not returned)",
    ),
}
"""The trip files in the data folder, by short name (``load_trips("2016-03")``)."""

SAMPLE_WEIGHTS: dict[str, int] = {Path(d.relpath).name: d.weight for d in TRIP_DATASETS.values()}


def default_weight(path: Path) -> int:
    """Trips one row of ``path`` stands for: 100 for the 1 % sample (name has ``1pct``), else 1."""
    if path.name in SAMPLE_WEIGHTS:
        return SAMPLE_WEIGHTS[path.name]
    return 100 if "1pct" in path.name.lower() else 1


# --------------------------------------------------------------------------------------------
# Header layout
# --------------------------------------------------------------------------------------------

_ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "rent_time": ("rent_datetime", "rent_time", "rent_dt", "대여일시"),
    "return_time": ("return_datetime", "return_time", "rtn_dt", "반납일시"),
    "rent_no": ("rent_station_no", "rent_id", "rent_no", "대여대여소번호"),
    "return_no": ("return_station_no", "rtn_id", "return_no", "rtn_no", "반납대여소번호"),
    "rent_stid": ("rent_station_id", "대여대여소id"),
    "return_stid": ("return_station_id", "rtn_station_id", "반납대여소id"),
    "duration": ("use_time_min", "use_min", "이용시간", "이용시간분"),
    "distance": ("distance", "use_dist_m", "use_dst", "이용거리", "이용거리m"),
    "bike_id": ("bicycle_id", "bike_id", "자전거번호"),
}

_PAREN = re.compile(r"\([^)]*\)")


def _norm_label(label: str) -> str:
    text = label.replace("\ufeff", "").strip().strip("\"'")
    text = _PAREN.sub("", text)
    return re.sub(r"\s+", "", text).lower()


@dataclass(frozen=True)
class TripLayout:
    """Which column (0-based index) of a trip file plays which role."""

    labels: tuple[str, ...]
    roles: dict[str, int]

    def col(self, role: str) -> int | None:
        """Index of the column for ``role`` or None."""
        return self.roles.get(role)


def detect_layout(labels: list[str], path: Path | str = "<trips>") -> TripLayout:
    """Map a trip file's header to roles.

    Parameters
    ----------
    labels
        The header fields as read.
    path
        Named in the error.

    Returns
    -------
    TripLayout

    Raises
    ------
    DataFileError
        When a required role is missing: rent and return time, and for each end a station
        number or an ST-ID column. The message names the file and the columns it expected.
    """
    normed = [_norm_label(x) for x in labels]
    roles: dict[str, int] = {}
    for role, aliases in _ROLE_ALIASES.items():
        for i, name in enumerate(normed):
            if name in aliases:
                roles[role] = i
                break
    missing: list[str] = []
    for role in ("rent_time", "return_time"):
        if role not in roles:
            missing.append(f"{role} (one of {list(_ROLE_ALIASES[role])})")
    for end in ("rent", "return"):
        if f"{end}_no" not in roles and f"{end}_stid" not in roles:
            names = [*_ROLE_ALIASES[f"{end}_no"], *_ROLE_ALIASES[f"{end}_stid"]]
            missing.append(f"{end} station (one of {names})")
    if missing:
        raise DataFileError(
            path, f"not a trip table: missing column(s) {'; '.join(missing)}; header is {list(labels)}"
        )
    return TripLayout(tuple(labels), roles)


def _read_header(path: Path, encoding: str) -> tuple[list[str], int]:
    """Header fields and the number of fields a data line has.

    That is the header's count, plus one when the first data line ends in an empty extra field
    (a trailing comma on every line, as some official exports have).
    """
    with path.open(encoding=encoding, newline="", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        first = next(reader, [])
    if header:
        header[0] = header[0].lstrip("\ufeff")
    trailing = len(first) == len(header) + 1 and first[-1].strip() == ""
    return header, len(header) + (1 if trailing else 0)


def _transcode(src: Path, dst: Path, encoding: str, chunk: int = 1 << 24) -> None:
    """Re-encode ``src`` to UTF-8 in bounded memory (``chunk`` bytes at a time)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with src.open("rb") as fin, dst.open("wb") as fout:
        while block := fin.read(chunk):
            fout.write(decoder.decode(block).encode("utf-8"))
        fout.write(decoder.decode(b"", final=True).encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Ingest (DuckDB)
# --------------------------------------------------------------------------------------------

_TIME_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
]


@dataclass
class IngestResult:
    """What :func:`ingest_trips` wrote and what it left out.

    Attributes
    ----------
    out
        The Parquet file written (normalized columns :data:`COLUMNS`).
    rows_read
        Data lines read (``rows_kept + sum(rejected.values())``).
    rows_kept
        Rows written.
    rejected
        Reason -> rows left out.
    warnings
        Reason -> rows kept but flagged (e.g. an ST-ID with no known station number).
    examples
        Reason -> up to three rejected lines (file, raw rent/return time, stations, minutes).
    weighted_trips
        Sum of ``weight`` over the rows kept (trips represented).
    files
        Input files, in order, with their encoding and rows.
    seconds
        Wall time.
    """

    out: Path
    rows_read: int
    rows_kept: int
    rejected: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    weighted_trips: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def report(self, dataset: str) -> QualityReport:
        """The same counts as a :class:`QualityReport`."""
        rep = QualityReport(dataset, rows_read=self.rows_read)
        for reason, n in self.rejected.items():
            rep.drop(reason, count=n)
        for reason, n in self.warnings.items():
            rep.warn(reason, count=n)
        rep.examples = {k: list(v) for k, v in self.examples.items()}
        return rep

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        d = asdict(self)
        d["out"] = str(self.out)
        return d


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _clean(col: str) -> str:
    """SQL that trims spaces, quotes and a leading apostrophe; '' and \\N become NULL."""
    return f"nullif(nullif(ltrim(trim({col}, ' \"'), ''''), ''), '\\N')"


def _file_select(idx: int, path: Path, layout: TripLayout, ncols: int, weight: int, source: str) -> str:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols)) + "}"
    reader = (
        f"read_csv({_sql_str(str(path))}, header=true, auto_detect=false, columns={columns}, "
        f"delim=',', quote='\"', escape='\"', store_rejects=true, "
        f"rejects_table='rej_{idx}', rejects_scan='scan_{idx}', max_line_size=1048576)"
    )

    def role(name: str) -> str:
        i = layout.col(name)
        return _clean(f"c{i}") if i is not None else "NULL::VARCHAR"

    fmts = "[" + ", ".join(_sql_str(f) for f in _TIME_FORMATS) + "]"
    rent_label = _sql_str(layout.labels[layout.roles["rent_time"]].strip().strip('"').lstrip("'").strip())

    # The fast ISO cast handles the usual "YYYY-MM-DD HH:MM:SS"; the format list only the rest.
    def ts(col: str) -> str:
        return f"coalesce(try_cast({col} AS TIMESTAMP), try_strptime({col}, {fmts}))"

    def num(col: str) -> str:
        return f"coalesce(try_cast({col} AS BIGINT), try_cast(try_cast({col} AS DOUBLE) AS BIGINT))"

    def st_id(col: str) -> str:
        return f"CASE WHEN {col} SIMILAR TO '[Ss][Tt]-[0-9]+' THEN upper({col}) END"

    return f"""
    SELECT
        {ts("rent_s")} AS rent_time,
        {ts("ret_s")} AS return_time,
        CASE WHEN rent_no_i > 0 THEN rent_no_i END AS rent_no,
        CASE WHEN ret_no_i > 0 THEN ret_no_i END AS ret_no,
        {st_id("rent_id_s")} AS rent_stid,
        {st_id("ret_id_s")} AS ret_stid,
        try_cast(dur_s AS DOUBLE) AS dur_given,
        try_cast(dist_s AS DOUBLE) AS dist,
        bike_s AS bike_id,
        rent_s AS raw_rent, ret_s AS raw_return, coalesce(rent_no_s, rent_id_s) AS raw_from,
        coalesce(ret_no_s, ret_id_s) AS raw_to, dur_s AS raw_duration,
        coalesce(rent_s = {rent_label}, false) AS is_header,
        {int(weight)}::INTEGER AS weight,
        {_sql_str(source)} AS source,
        {idx}::INTEGER AS file_idx
    FROM (
        SELECT *, {num("rent_no_s")} AS rent_no_i, {num("ret_no_s")} AS ret_no_i
        FROM (
            SELECT {role("rent_time")} AS rent_s, {role("return_time")} AS ret_s,
                   {role("rent_no")} AS rent_no_s, {role("return_no")} AS ret_no_s,
                   {role("rent_stid")} AS rent_id_s, {role("return_stid")} AS ret_id_s,
                   {role("duration")} AS dur_s, {role("distance")} AS dist_s, {role("bike_id")} AS bike_s
            FROM {reader}
        )
    )"""


_STAGE_SQL = """
SELECT
    * EXCLUDE (raw_rent, raw_return, raw_from, raw_to, raw_duration),
    CASE WHEN reject_reason IS NOT NULL THEN printf(
        '%s: rent=%s return=%s from=%s to=%s minutes=%s', source, coalesce(raw_rent, '-'),
        coalesce(raw_return, '-'), coalesce(raw_from, '-'), coalesce(raw_to, '-'), coalesce(raw_duration, '-')
    ) END AS example
FROM (
SELECT
    t.*,
    CASE
        WHEN t.is_header THEN 'repeated header line'
        WHEN t.rent_time IS NULL THEN 'unparseable rent time'
        WHEN t.return_time IS NULL THEN 'unparseable return time'
        WHEN t.return_time < t.rent_time THEN 'return before rent'
        WHEN t.dur_given < 0 THEN 'negative duration'
        WHEN t.rent_no IS NULL AND t.rent_stid IS NULL THEN 'unknown rent station'
        WHEN t.ret_no IS NULL AND t.ret_stid IS NULL THEN 'unknown return station'
    END AS reject_reason
FROM ({union}) AS t
)
"""
"""Pass 1: a pure streaming projection of the CSVs (no joins, so nothing is held in memory)."""

_JOINED_SQL = """
SELECT
    t.rent_time, t.return_time,
    coalesce(t.rent_no, li_r.number) AS rent_station,
    coalesce(t.ret_no, li_t.number) AS return_station,
    coalesce(t.rent_stid, ln_r.station_id) AS rent_station_id,
    coalesce(t.ret_stid, ln_t.station_id) AS return_station_id,
    coalesce(t.dur_given, date_diff('second', t.rent_time, t.return_time) / 60.0) AS duration_min,
    CASE WHEN t.dist >= 0 THEN t.dist END AS distance_m,
    t.weight, t.bike_id, t.source, t.file_idx, t.reject_reason,
    (t.rent_no IS NULL AND t.rent_stid IS NOT NULL AND li_r.number IS NULL)
        OR (t.ret_no IS NULL AND t.ret_stid IS NOT NULL AND li_t.number IS NULL) AS w_unmapped,
    t.dist < 0 AS w_negdist,
    (t.rent_no IS NOT NULL AND ln_r.station_id IS NULL AND t.rent_stid IS NULL)
        OR (t.ret_no IS NOT NULL AND ln_t.station_id IS NULL AND t.ret_stid IS NULL) AS w_noid
FROM read_parquet({stage}) AS t
LEFT JOIN lk_by_number AS ln_r ON ln_r.number = t.rent_no
LEFT JOIN lk_by_number AS ln_t ON ln_t.number = t.ret_no
LEFT JOIN lk_by_id AS li_r ON li_r.station_id = t.rent_stid
LEFT JOIN lk_by_id AS li_t ON li_t.station_id = t.ret_stid
"""
"""Passes 2 and 3: station keys joined on the staged rows (the lookup is the build side)."""


def _empty_lookup() -> pd.DataFrame:
    return pd.DataFrame({"station_id": pd.Series(dtype="string"), "number": pd.Series(dtype="Int64")})


def _station_lookup(data_dir: Path | str | None) -> pd.DataFrame:
    """Number <-> ST-ID pairs of the station lists, or an empty table without a data directory."""
    try:
        table = station_number_lookup(resolve_data_dir(data_dir))
    except DataNotFoundError:
        return _empty_lookup()
    return table[["station_id", "number"]]


def ingest_trips(
    paths: Iterable[Path | str],
    out: Path | str,
    *,
    lookup: pd.DataFrame | None = None,
    data_dir: Path | str | None = None,
    weight: int | None = None,
    threads: int | None = None,
    memory_limit: str = "2GB",
    sort: bool = True,
) -> IngestResult:
    """Stream trip CSVs of any recognised layout into one normalized Parquet file.

    Each file's encoding (UTF-8 or cp949) and layout are detected from its head; cp949 files are
    re-encoded to a temporary UTF-8 file in bounded memory. DuckDB parses, normalizes and joins
    station keys in three passes: (1) a streaming projection of every CSV to a staging Parquet
    with a reject reason per row, (2) the counts, (3) the final file (rows without a reason,
    :data:`COLUMNS`, ordered by rent time) with station numbers and ST-IDs completed from the
    lookup. Nothing is held in pandas; the output is written atomically.

    Parameters
    ----------
    paths
        Trip CSV files (any mix of layouts).
    out
        Destination Parquet file.
    lookup
        Station ``number`` <-> ``station_id`` pairs; default
        :func:`mobility.sources.stations.station_number_lookup` of ``data_dir`` (empty when no
        data directory exists).
    data_dir
        Data directory for the default lookup.
    weight
        Trips each row stands for; default per file :func:`default_weight` (100 for the 2018
        1 % sample, recognised by ``1pct`` in its name, else 1).
    threads, memory_limit
        DuckDB limits (threads default: DuckDB's choice). Beyond ``memory_limit`` DuckDB spills
        to a temporary folder beside ``out``.
    sort
        Order the output by rent time (an external sort for big inputs); ``False`` writes rows in
        no particular order, faster.

    Returns
    -------
    IngestResult

    Raises
    ------
    DataFileError
        A file that cannot be read at all (missing, empty, unknown encoding, not a trip table).
    """
    started = time.perf_counter()
    files = [Path(p) for p in paths]
    if not files:
        raise DataFileError("<no files>", "ingest_trips needs at least one trip CSV")
    for f in files:
        if not f.is_file():
            raise DataFileError(f, "does not exist or is not a file")
    out = Path(out)
    lk = lookup if lookup is not None else _station_lookup(data_dir)
    by_number = (
        lk.dropna(subset=["number", "station_id"]).drop_duplicates("number")[["number", "station_id"]].copy()
    )
    by_id = lk.dropna(subset=["number", "station_id"]).drop_duplicates("station_id")[["station_id", "number"]]
    by_number = by_number.astype({"number": "int64", "station_id": "object"})
    by_id = by_id.astype({"number": "int64", "station_id": "object"})

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".trips-ingest-", dir=out.parent) as tmp_name:
        tmp = Path(tmp_name)
        config: dict[str, Any] = {
            "memory_limit": memory_limit,
            "temp_directory": str(tmp / "spill"),
            "preserve_insertion_order": False,
        }
        if threads:
            config["threads"] = threads
        con = duckdb.connect(":memory:", config=config)
        try:
            con.register("lk_number_df", by_number)
            con.register("lk_id_df", by_id)
            con.execute(
                "CREATE TEMP TABLE lk_by_number AS "
                "SELECT number::BIGINT AS number, station_id FROM lk_number_df"
            )
            con.execute(
                "CREATE TEMP TABLE lk_by_id AS SELECT station_id, number::BIGINT AS number FROM lk_id_df"
            )
            selects, file_info = _file_selects(files, tmp, weight)
            union = "\nUNION ALL\n".join(selects)
            stage = tmp / "stage.parquet"
            try:
                con.execute(
                    f"COPY ({_STAGE_SQL.format(union=union)}) TO {_sql_str(str(stage))} "
                    "(FORMAT PARQUET, COMPRESSION SNAPPY)"
                )
            except duckdb.OutOfMemoryException as exc:
                raise MobilityError(
                    f"trip ingest ran out of memory (memory_limit={memory_limit}); raise memory_limit "
                    f"or ingest fewer files at a time ({str(exc).splitlines()[0]})"
                ) from exc
            except duckdb.Error as exc:
                raise DataFileError(
                    files[0] if len(files) == 1 else f"{len(files)} trip files",
                    f"cannot be parsed as CSV ({str(exc).splitlines()[0]})",
                ) from exc
            malformed, examples = _malformed_lines(con, files, file_info)
            for reason, example in con.execute(
                f"SELECT reject_reason, example FROM read_parquet({_sql_str(str(stage))}) "
                "WHERE reject_reason IS NOT NULL "
                "QUALIFY row_number() OVER (PARTITION BY reject_reason ORDER BY file_idx, example) <= 3"
            ).fetchall():
                examples.setdefault(reason, []).append(example)
            joined = _JOINED_SQL.format(stage=_sql_str(str(stage)))
            counts = con.execute(
                "SELECT file_idx, reject_reason, count(*), sum(w_unmapped::INT), sum(w_negdist::INT), "
                "sum(w_noid::INT), sum(CASE WHEN reject_reason IS NULL THEN weight ELSE 0 END) "
                f"FROM ({joined}) GROUP BY ALL"
            ).fetchall()
            tally = _tally(counts)
            rejected, warnings, kept, weighted = tally.rejected, tally.warnings, tally.kept, tally.weighted
            if malformed:
                rejected[MALFORMED_LINE] = malformed
            for i, info in enumerate(file_info):
                info["rows"] = tally.rows_per_file.get(i, 0) + info["malformed_lines"]
            cols = ", ".join(COLUMNS)
            order = "ORDER BY rent_time, return_time, rent_station, return_station" if sort else ""
            with atomic_path(out) as final:
                con.execute(
                    f"COPY (SELECT {cols} FROM ({joined}) WHERE reject_reason IS NULL {order}) "
                    f"TO {_sql_str(str(final))} (FORMAT PARQUET, COMPRESSION ZSTD)"
                )
        finally:
            con.close()
    rows_read = kept + sum(rejected.values())
    return IngestResult(
        out=out,
        rows_read=rows_read,
        rows_kept=kept,
        rejected=dict(sorted(rejected.items())),
        warnings=dict(sorted(warnings.items())),
        weighted_trips=weighted,
        examples={k: v[:3] for k, v in sorted(examples.items())},
        files=file_info,
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------
# Loading into pandas (through the cache)
# --------------------------------------------------------------------------------------------


def _resolve_source(source: str | Path | list[Path], data_dir: Path | str | None) -> tuple[list[Path], str]:
    if isinstance(source, str) and source in TRIP_DATASETS:
        root = resolve_data_dir(data_dir)
        path = root / TRIP_DATASETS[source].relpath
        if not path.is_file():
            raise DataNotFoundError(f"trip dataset {source!r}", [path], "See ttareungi/SOURCES.md.")
        return [path], f"trips_{source}"
    paths = [Path(p) for p in source] if isinstance(source, list) else [Path(source)]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataNotFoundError(
            "trip file(s)", missing, f"Give a path to a trip CSV or one of {sorted(TRIP_DATASETS)}."
        )
    name = f"trips_{paths[0].stem}" if len(paths) == 1 else f"trips_{len(paths)}_files"
    return paths, name


def _lookup_fingerprint(lk: pd.DataFrame) -> str:
    return str(int(pd.util.hash_pandas_object(lk.reset_index(drop=True), index=False).sum()))


def _cached_ingest(
    paths: list[Path], parquet: Path, meta: Path, lookup: pd.DataFrame
) -> tuple[IngestResult, pd.DataFrame]:
    """The cached ingest of ``paths`` (``parquet`` and its ``meta`` JSON), or a fresh one when
    there is none or it cannot be read (cut short by a full disk: deleted and built again)."""
    info = load_or_discard(meta, lambda p: json.loads(p.read_text(encoding="utf-8")))
    table = load_or_discard(parquet, pd.read_parquet) if info is not None else None
    if info is not None and table is not None:
        return IngestResult(**{**info, "out": parquet}), table
    result = ingest_trips(paths, parquet, lookup=lookup)
    atomic_write_json(meta, result.to_dict())
    return result, pd.read_parquet(parquet)


def load_trips(source: str | Path | list[Path], data_dir: Path | str | None = None) -> Loaded[pd.DataFrame]:
    """Trips as a normalized pandas table (via :func:`ingest_trips` and a cached Parquet file).

    Parameters
    ----------
    source
        A name of :data:`TRIP_DATASETS` (``"2016-03"``, ``"2018-sample"``, ``"2022-01-01"``), a
        path to a trip CSV of any recognised layout, or a list of such paths.
    data_dir
        Data directory (for the dataset names and the station lookup); ``None`` resolves it.

    Returns
    -------
    Loaded[pandas.DataFrame]
        Columns :data:`COLUMNS`: ``rent_time``/``return_time`` datetime64 (Seoul local, naive),
        ``rent_station``/``return_station`` Int64, ``rent_station_id``/``return_station_id``
        string, ``duration_min``/``distance_m`` float64, ``weight`` int32, ``bike_id``, ``source``.
        The report counts rows read, rejected (by reason) and flagged.
    """
    paths, name = _resolve_source(source, data_dir)
    try:
        lk = _station_lookup(data_dir)
    except DataNotFoundError:  # pragma: no cover - _station_lookup already tolerates it
        lk = _empty_lookup()
    key = cache_key(paths, schema=SCHEMA_VERSION, lookup=_lookup_fingerprint(lk))
    folder = cache_dir("trips")
    parquet = folder / f"{key}.parquet"
    meta = folder / f"{key}.json"
    result, table = _cached_ingest(paths, parquet, meta, lk)
    table = table.astype(
        {
            "rent_station": "Int64",
            "return_station": "Int64",
            "rent_station_id": "string",
            "return_station_id": "string",
            "bike_id": "string",
            "source": "string",
            "duration_min": "float64",
            "distance_m": "float64",
        }
    )
    return Loaded(table, result.report(name), paths)


def _spec_loader(name: str) -> Any:
    def load(data_dir: Path) -> Loaded[Any]:
        return load_trips(name, data_dir)

    load.__name__ = f"load_trips_{name}"
    return load


DATASETS: list[DatasetSpec] = [
    DatasetSpec(
        name=f"trips_{name}",
        family="trips",
        relpath=d.relpath,
        description=d.description,
        load=_spec_loader(name),
        expected_rows=d.kept,
    )
    for name, d in TRIP_DATASETS.items()
]


def _file_selects(files: list[Path], tmp: Path, weight: int | None) -> tuple[list[str], list[dict[str, Any]]]:
    """One staging SELECT per file (cp949 files transcoded into ``tmp`` first) and its facts."""
    selects: list[str] = []
    file_info: list[dict[str, Any]] = []
    for i, src in enumerate(files):
        enc = detect_encoding(src)
        header, ncols = _read_header(src, enc)
        layout = detect_layout(header, src)
        readable = src
        if enc != "utf-8":
            readable = tmp / f"utf8_{i}.csv"
            _transcode(src, readable, enc)
        w = weight if weight is not None else default_weight(src)
        selects.append(_file_select(i, readable, layout, ncols, w, src.name))
        file_info.append({"path": str(src), "encoding": enc, "weight": w})
    return selects, file_info


def _malformed_lines(
    con: duckdb.DuckDBPyConnection, files: list[Path], file_info: list[dict[str, Any]]
) -> tuple[int, dict[str, list[str]]]:
    """Lines DuckDB could not parse: counted per file (into ``file_info``), with 3 examples each."""
    malformed = 0
    examples: dict[str, list[str]] = {}
    for i in range(len(files)):
        n = con.execute(f"SELECT count(DISTINCT (file_id, line)) FROM rej_{i}").fetchone()
        n_file = int(n[0]) if n else 0
        file_info[i]["malformed_lines"] = n_file
        malformed += n_file
        if n_file:
            query = f"SELECT DISTINCT line, csv_line FROM rej_{i} ORDER BY line LIMIT 3"
            lines = con.execute(query).fetchall()
            examples.setdefault(MALFORMED_LINE, []).extend(
                f"{files[i].name} line {line}: {text.strip()[:200]}" for line, text in lines
            )
    return malformed, examples


@dataclass
class _Tally:
    """Rows kept and rejected (by reason), flags on kept rows, rows per file."""

    rejected: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    rows_per_file: dict[int, int] = field(default_factory=dict)
    kept: int = 0
    weighted: int = 0

    def flag(self, key: str, n: int) -> None:
        """Count ``n`` kept rows flagged with ``key``."""
        if n:
            self.warnings[key] = self.warnings.get(key, 0) + n


def _tally(counts: list[tuple[Any, ...]]) -> _Tally:
    """Sum the grouped counts of the joined rows (file, reason, rows, flags, weighted rows)."""
    t = _Tally()
    for file_idx, reason, n, unmapped, negdist, noid, wsum in counts:
        t.rows_per_file[file_idx] = t.rows_per_file.get(file_idx, 0) + int(n)
        if reason is not None:
            t.rejected[reason] = t.rejected.get(reason, 0) + int(n)
            continue
        t.kept += int(n)
        t.weighted += int(wsum or 0)
        t.flag("station ST-ID without a known station number", int(unmapped or 0))
        t.flag("station number without a known ST-ID", int(noid or 0))
        t.flag("negative distance (set to null)", int(negdist or 0))
    return t
