"""The catalog: which datasets exist in a data directory, how many rows they have, whether they pass.

Every module of :mod:`mobility.sources` exposes ``DATASETS: list[DatasetSpec]``; :func:`all_datasets`
gathers them (each is imported at the top: a broken one fails loudly) and adds the street networks
as fingerprint-only specs (``load=None``: summarised by ``mobility network info``, not loaded
here). Files of the data directory that no spec describes are listed too (family ``"other"``), so
that ``mobility data info`` shows everything that is there.

:func:`dataset_info` loads each tabular dataset and reports rows, the period covered, the CRS and the
checks: the file is present, it loads, and its row count equals the documented ``expected_rows``.
Rows dropped by a loader (with their reasons) are reported but do not fail a dataset: the real files
have known unusable rows (e.g. 77 stations with zero coordinates in the master), and the check guards
the count that remains.
"""

from __future__ import annotations

import pickle
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from mobility.cache import cache_key
from mobility.config import cache_dir, resolve_data_dir
from mobility.errors import MobilityError
from mobility.io import atomic_path
from mobility.quality import QualityReport
from mobility.sources import (
    base,
    boundaries,
    gbfs,
    layers,
    population,
    seoul_openapi,
    stations,
    trips,
    usage,
)
from mobility.sources.base import CRS_WGS84, DatasetSpec, Loaded
from mobility.sources.boundaries import DISTRICTS_RELPATH
from mobility.sources.stations import STATION_VINTAGES, TRIPS_WITH_BOTH_KEYS

__all__ = [
    "NETWORK_DATASETS",
    "SOURCE_MODULES",
    "Check",
    "DatasetCheck",
    "DatasetInfo",
    "all_datasets",
    "data_check",
    "dataset_dependencies",
    "dataset_families",
    "dataset_info",
    "discover_other_files",
]

SOURCE_MODULES: tuple[ModuleType, ...] = (
    stations,
    gbfs,
    seoul_openapi,
    trips,
    usage,
    population,
    boundaries,
    layers,
)
"""Modules of :mod:`mobility.sources` whose ``DATASETS`` the catalog gathers, in this order."""

_NETWORKS: tuple[tuple[str, str, str], ...] = (
    ("network_best", "osm/seoul_best_graph.graphml.gz", "Best all-Seoul street graph (OSM, osmnx GraphML)"),
    ("network_osm2021_drive", "osm/omt_tiles_2021/seoul_osm2021_drive.graphml.gz", "OSM 2021 drive graph"),
    ("network_omt_tiles_2021", "osm/omt_tiles_2021/tiles", "OpenMapTiles vector tiles z14 (folder)"),
    ("network_central_drive", "osm/osmnx_partial/central_seoul_drive_osmnx.graphml", "Central Seoul drive"),
    ("network_yongsan_drive", "osm/osmnx_partial/yongsan_drive_osmnx.graphml", "Yongsan-gu drive graph"),
    ("network_moct_2018", "osm/moct_nodelink_2018/seoul_moct2018_osmnx.graphml", "MOCT node-link 2018"),
    ("network_moct_2018_nodes", "osm/moct_nodelink_2018/Seoul_node.csv", "MOCT 2018 nodes (raw)"),
    ("network_moct_2018_links", "osm/moct_nodelink_2018/Seoul_link_utf8.csv", "MOCT 2018 links (raw)"),
    ("network_moct_2018_links_cp949", "osm/moct_nodelink_2018/Seoul_link.csv", "MOCT 2018 links (cp949)"),
    ("network_ktdb_2023", "osm/ktdb_lev55_2023/seoul_ktdb_lev55_2023_osmnx.graphml.gz", "KTDB level 5.5"),
    (
        "network_moct_ktdb_gangdong",
        "osm/ktdb_lev55_2023/seoul_moct2018_plus_ktdb_gangdong.graphml.gz",
        "MOCT 2018 + KTDB Gangdong",
    ),
    ("network_ktdb_2023_links", "osm/ktdb_lev55_2023/seoul_link_lev5.5_2023.shp", "KTDB links (shapefile)"),
    ("network_ktdb_2023_speeds", "osm/ktdb_lev55_2023/AverageSpeed_LINK.csv", "KTDB average link speeds"),
    ("network_topis", "osm/topis_links/seoul_topis_link_graph.graphml", "TOPIS link graph"),
    ("network_bike_roads_2022", "osm/bike_roads_2022/seoul_bike_roads_2022_osmnx.graphml.gz", "Bike roads"),
    ("network_bike_roads_2022_shp", "osm/bike_roads_2022/bike-roads.shp", "Bike roads 2022 (shapefile)"),
)

NETWORK_DATASETS: list[DatasetSpec] = [
    DatasetSpec(name=n, family="network", relpath=p, description=d, load=None) for n, p, d in _NETWORKS
]
"""Street networks and their raw sources: fingerprinted (size, modification time), not loaded."""

PERIODS: dict[str, str] = {
    "stations_2018-11": "as of 2018-11-29",
    "stations_2019-12": "as of 2019-12-09",
    "stations_2025-12": "as of 2025-12",
    "stations_api-2025-05": "as of 2025-05 (about)",
    "stations_master": "undated (ST-IDs up to ST-3434)",
}
"""Periods that cannot be read from a table (a station list is a snapshot)."""

_SIDECARS = {".dbf", ".prj", ".shx", ".cpg", ".qix", ".sbn", ".sbx"}
_NOT_DATA = {".md", ".txt"}

NUMBER_LOOKUP_FILES: tuple[str, ...] = (
    STATION_VINTAGES["api-2025-05"],
    STATION_VINTAGES["2018-11"],
    TRIPS_WITH_BOTH_KEYS,
)
"""The files of the number <-> ST-ID lookup (:func:`mobility.sources.stations.station_number_lookup`),
which the station and trip loaders read besides their own file."""

DEPENDENCIES_BY_FAMILY: dict[str, tuple[str, ...]] = {
    "stations": NUMBER_LOOKUP_FILES,
    "trips": NUMBER_LOOKUP_FILES,
}
"""Files every loader of a family reads besides its own (relative to the data directory)."""

DEPENDENCIES_BY_NAME: dict[str, tuple[str, ...]] = {
    "layers_subway_stations": (DISTRICTS_RELPATH,),  # kept inside the union of the gu polygons
}
"""Files one dataset's loader reads besides its own (relative to the data directory)."""


def dataset_dependencies(spec: DatasetSpec) -> tuple[str, ...]:
    """The files a dataset's loader reads besides ``spec.relpath``: the inputs of its cache key.

    The number <-> ST-ID lookup for stations and trips, the gu boundaries for the subway layer
    (:data:`DEPENDENCIES_BY_FAMILY`, :data:`DEPENDENCIES_BY_NAME`) and a shapefile's sidecars
    (``.dbf``, ``.shx``, ``.prj``...). Relative to the data directory, sorted, own file excluded.
    """
    deps = set(DEPENDENCIES_BY_FAMILY.get(spec.family, ())) | set(DEPENDENCIES_BY_NAME.get(spec.name, ()))
    own = Path(spec.relpath)
    if own.suffix.lower() == ".shp":
        deps |= {own.with_suffix(ext).as_posix() for ext in _SIDECARS}
    deps.discard(spec.relpath)
    return tuple(sorted(deps))


def all_datasets(*, data_dir: Path | None = None) -> list[DatasetSpec]:
    """Every dataset spec of the source modules, then the street networks.

    Parameters
    ----------
    data_dir
        When given, files of that directory no spec describes are appended (family ``"other"``,
        fingerprint only).

    Returns
    -------
    list[DatasetSpec]
        Unique by name (the first spec of a name wins).
    """
    specs: list[DatasetSpec] = []
    for module in SOURCE_MODULES:
        specs.extend(module.DATASETS)
    loaded_paths = {s.relpath for s in specs if s.load is not None}
    # a file some module loads is not listed again as a fingerprint-only network file
    specs.extend(s for s in NETWORK_DATASETS if s.relpath not in loaded_paths)
    seen: set[str] = set()
    unique = []
    for spec in specs:
        if spec.name not in seen:
            seen.add(spec.name)
            unique.append(spec)
    if data_dir is not None:
        unique.extend(discover_other_files(Path(data_dir), unique))
    return unique


def dataset_families(data_dir: Path | None = None) -> tuple[str, ...]:
    """The families of the catalogue (:func:`all_datasets`), sorted, and ``"other"`` (files no
    spec describes): the values ``mobility data info --family`` and the API's ``family`` accept.

    Parameters
    ----------
    data_dir
        Passed to :func:`all_datasets` (its undescribed files are family ``"other"``).
    """
    return tuple(sorted({spec.family for spec in all_datasets(data_dir=data_dir)} | {"other"}))


def discover_other_files(data_dir: Path, specs: Iterable[DatasetSpec]) -> list[DatasetSpec]:
    """Fingerprint-only specs for data files that no spec describes (documentation excluded)."""
    covered = [Path(s.relpath) for s in specs]
    covered_files = {p.as_posix() for p in covered}
    covered_dirs = [p for p in covered if (data_dir / p).is_dir()]
    shapefiles = {p.with_suffix("").as_posix() for p in covered if p.suffix == ".shp"}
    out: list[DatasetSpec] = []
    if not data_dir.is_dir():
        return out
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(data_dir)
        if rel.as_posix() in covered_files or rel.suffix.lower() in _NOT_DATA:
            continue
        if any(rel.is_relative_to(d) for d in covered_dirs) or any(
            part.startswith(".") for part in rel.parts
        ):
            continue
        if rel.suffix.lower() in _SIDECARS and rel.with_suffix("").as_posix() in shapefiles:
            continue
        out.append(
            DatasetSpec(
                name=f"other:{rel.as_posix()}",
                family="other",
                relpath=rel.as_posix(),
                description="file without a loader (fingerprint only)",
                load=None,
            )
        )
    return out


@dataclass
class Check:
    """One check of one dataset."""

    name: str
    passed: bool
    detail: str = ""


@dataclass
class DatasetInfo:
    """One row of ``mobility data info``.

    Attributes
    ----------
    name, family, relpath, description
        From the spec.
    exists
        The file (or folder) is present in the data directory.
    size_bytes
        File size (total for a folder).
    files
        1 for a file, the number of files for a folder.
    rows
        Rows of the loaded table (``None`` for fingerprint-only datasets or when loading failed).
    expected_rows
        The documented count.
    period
        The period covered (e.g. ``"2016-03-01 .. 2016-03-31"``), ``""`` when unknown.
    crs
        ``"EPSG:4326"``, ``"EPSG:5179"``... or ``""`` for plain tables.
    checks
        Every check and its result.
    report
        The loader's quality report (``None`` when not loaded).
    error
        The loader's error message, if it failed.
    seconds
        Time to load (of the run that loaded it, when ``cached``).
    cached
        Read from the derived-data cache: the dataset's files and the loader code are unchanged
        since it was last loaded (see :func:`dataset_info`).
    """

    name: str
    family: str
    relpath: str
    description: str
    exists: bool
    size_bytes: int = 0
    files: int = 0
    rows: int | None = None
    expected_rows: int | None = None
    period: str = ""
    crs: str = ""
    checks: list[Check] = field(default_factory=list)
    report: QualityReport | None = None
    error: str = ""
    seconds: float = 0.0
    cached: bool = False

    @property
    def checks_passed(self) -> int:
        """Number of checks that passed."""
        return sum(c.passed for c in self.checks)

    @property
    def checks_failed(self) -> int:
        """Number of checks that failed."""
        return sum(not c.passed for c in self.checks)

    @property
    def status(self) -> str:
        """``"ok"``, ``"failed"``, ``"missing"`` or ``"present"`` (fingerprint only)."""
        if not self.exists:
            return "missing"
        if self.checks_failed:
            return "failed"
        return "ok" if self.rows is not None else "present"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (report included)."""
        d = asdict(self)
        d["path"] = self.relpath  # relative to the data directory
        d["report"] = self.report.to_dict() if self.report is not None else None
        d["checks"] = [asdict(c) for c in self.checks]
        d["checks_passed"] = self.checks_passed
        d["checks_failed"] = self.checks_failed
        d["status"] = self.status
        return d


@dataclass
class DatasetCheck:
    """The verdict of ``mobility data check`` on one dataset."""

    name: str
    passed: bool
    checks: list[Check]
    report: QualityReport | None
    error: str = ""
    missing: bool = False
    """The dataset's file is absent from the data directory (the dataset fails)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "passed": self.passed,
            "missing": self.missing,
            "checks": [asdict(c) for c in self.checks],
            "report": self.report.to_dict() if self.report is not None else None,
            "error": self.error,
        }


def _fingerprint(path: Path) -> tuple[int, int]:
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        return sum(p.stat().st_size for p in files), len(files)
    return path.stat().st_size, 1


def _period(name: str, table: Any) -> str:
    if name in PERIODS:
        return PERIODS[name]
    if not isinstance(table, pd.DataFrame) or table.empty:
        return ""
    try:
        for col in table.columns:
            s = table[col]
            if pd.api.types.is_datetime64_any_dtype(s) and s.notna().any():
                return f"{s.min():%Y-%m-%d} .. {s.max():%Y-%m-%d}"
        cols = set(table.columns)
        for sub in ("quarter", "month"):
            if {"year", sub} <= cols:
                sep = "Q" if sub == "quarter" else "-"
                width = 1 if sub == "quarter" else 2
                keys = table[["year", sub]].dropna().astype(int).drop_duplicates()
                if not keys.empty:
                    first = keys.sort_values(["year", sub]).iloc[0]
                    last = keys.sort_values(["year", sub]).iloc[-1]
                    return (
                        f"{first['year']}{sep}{int(first[sub]):0{width}d} .. "
                        f"{last['year']}{sep}{int(last[sub]):0{width}d}"
                    )
        for col in ("year_month", "ym", "month", "기준년월", "연월", "quarter", "period", "year"):
            if col in table.columns and table[col].notna().any():
                values = table[col].dropna().astype(str)
                return f"{values.min()} .. {values.max()}"
    except (TypeError, ValueError):  # mixed types in a column: no period rather than a crash
        return ""
    return ""


def _crs(table: Any) -> str:
    crs = getattr(table, "crs", None)
    if crs is not None:
        try:
            epsg = crs.to_epsg()
        except Exception:  # pragma: no cover - pyproj edge cases
            epsg = None
        return f"EPSG:{epsg}" if epsg else str(crs)
    if isinstance(table, pd.DataFrame) and {"lat", "lon"} <= set(table.columns):
        return CRS_WGS84
    return ""


Progress = Callable[[str, int, int], None]
"""``progress(dataset name, index, total)`` called before each dataset."""


def _load_one(spec: DatasetSpec, root: Path) -> DatasetInfo:
    path = root / spec.relpath
    info = DatasetInfo(
        name=spec.name,
        family=spec.family,
        relpath=spec.relpath,
        description=spec.description,
        exists=path.exists(),
        expected_rows=spec.expected_rows,
    )
    if not info.exists:
        if spec.load is not None:  # a tabular dataset the catalog knows: its absence fails the check
            info.checks.append(Check("file present", False, f"missing: {spec.relpath}"))
        return info
    info.size_bytes, info.files = _fingerprint(path)
    if spec.load is None:
        return info
    info.checks.append(Check("file present", True, spec.relpath))
    t0 = time.perf_counter()
    try:
        loaded: Loaded[Any] = spec.load(root)
    except MobilityError as exc:
        info.error = str(exc)
        info.checks.append(Check("loads", False, info.error))
        return info
    except Exception as exc:  # a loader bug: report it as a failed dataset, with its origin
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        info.error = f"{type(exc).__name__}: {exc} ({Path(frame.filename).name}:{frame.lineno})"
        info.checks.append(Check("loads", False, info.error))
        return info
    finally:
        info.seconds = round(time.perf_counter() - t0, 3)
    table = loaded.table
    info.rows = len(table) if hasattr(table, "__len__") else None
    info.report = loaded.report
    info.checks.append(Check("loads", True, f"{info.rows} rows"))
    if spec.expected_rows is not None:
        ok = info.rows == spec.expected_rows
        detail = f"{info.rows} rows, expected {spec.expected_rows}"
        info.checks.append(Check("row count", ok, detail))
    info.period = _period(spec.name, table)
    info.crs = _crs(table)
    return info


_INFO_FORMAT = 2
"""Version of the cached :class:`DatasetInfo` rows: bump when a row's meaning changes."""


def _code_files() -> list[Path]:
    """The code a cached row depends on: every module of :mod:`mobility.sources` and the modules
    whose objects a row holds (:class:`~mobility.quality.QualityReport`, the errors' messages)."""
    import mobility.errors
    import mobility.quality

    extra = [Path(str(m.__file__)) for m in (mobility.quality, mobility.errors)]
    return [*sorted(Path(base.__file__).parent.glob("*.py")), *extra]


def _info_key(spec: DatasetSpec, root: Path) -> str:
    """Cache key of a dataset's row: its files, every other file its loader reads
    (:func:`dataset_dependencies`, absent ones included as absent), the code (:func:`_code_files`)
    and the spec; files by content (:func:`mobility.cache.file_fingerprint`)."""
    path = root / spec.relpath
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    deps = dataset_dependencies(spec)
    present = [root / rel for rel in deps if (root / rel).is_file()]
    return cache_key(
        [*files, *present, *_code_files()],
        dataset=spec.name,
        expected_rows=spec.expected_rows,
        absent=[rel for rel in deps if not (root / rel).is_file()],
        format=_INFO_FORMAT,
    )


def _complete(info: object) -> bool:
    """Whether an unpickled row has every field the code's classes have now (a row pickled by an
    older version lacks the fields added since, and would fail when shown)."""
    if not isinstance(info, DatasetInfo):
        return False
    parts: list[object] = [info, *info.checks]
    if info.report is not None:
        parts.append(info.report)
    return all(
        isinstance(part, (DatasetInfo, Check, QualityReport))
        and all(hasattr(part, f.name) for f in fields(part))
        for part in parts
    )


def _load_one_cached(spec: DatasetSpec, root: Path) -> DatasetInfo:
    """:func:`_load_one`, remembered on disk for tabular datasets (see :func:`dataset_info`)."""
    path = root / spec.relpath
    if spec.load is None or not path.exists():
        return _load_one(spec, root)
    entry = cache_dir("catalog") / f"{_info_key(spec, root)}.pkl"
    if entry.exists():
        try:
            with entry.open("rb") as fh:
                info = pickle.load(fh)
            if _complete(info):
                return replace(info, cached=True)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            pass  # a damaged or outdated entry is rebuilt below
    info = _load_one(spec, root)
    with atomic_path(entry) as tmp, tmp.open("wb") as fh:
        pickle.dump(info, fh)
    return info


def dataset_info(
    data_dir: Path | None = None,
    *,
    include_missing: bool = False,
    families: Iterable[str] | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> list[DatasetInfo]:
    """Load every dataset of the data directory and describe it.

    Each tabular dataset's row is cached (``<cache>/catalog``), keyed on the fingerprints (path,
    size, modification time, content digest) of its files, of the other files its loader reads
    (:func:`dataset_dependencies`, e.g. the number <-> ST-ID lookup's) and of the code that makes
    a row (the source modules, :mod:`mobility.quality`, :mod:`mobility.errors`): a second call on
    an unchanged data directory reads the rows instead of loading every table again. A row
    pickled by an older version that lacks a field of today's classes is loaded again.

    Parameters
    ----------
    data_dir
        The data directory (resolved with :func:`mobility.config.resolve_data_dir`).
    include_missing
        Also list the datasets whose file is absent.
    families
        Only these families (e.g. ``["stations"]``).
    progress
        Called before each dataset.
    use_cache
        Read and write the cached rows (``False`` loads everything again).

    Returns
    -------
    list[DatasetInfo]
        One row per dataset, in catalog order.

    Raises
    ------
    DataNotFoundError
        No data directory.
    """
    root = resolve_data_dir(data_dir)
    specs = all_datasets(data_dir=root)
    wanted = set(families) if families is not None else None
    if wanted is not None:
        specs = [s for s in specs if s.family in wanted]
    rows: list[DatasetInfo] = []
    for i, spec in enumerate(specs):
        if progress:
            progress(spec.name, i, len(specs))
        info = _load_one_cached(spec, root) if use_cache else _load_one(spec, root)
        if info.exists or include_missing:
            rows.append(info)
    return rows


def data_check(
    data_dir: Path | None = None,
    *,
    families: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> list[DatasetCheck]:
    """The data-quality verdict of every tabular dataset present.

    A dataset fails when its file is missing (check ``"file present"``: ``"missing: <relative
    path>"``), it cannot be loaded or its row count differs from ``expected_rows``; dropped and
    flagged rows are in its :class:`~mobility.quality.QualityReport`.
    """
    infos = dataset_info(data_dir, include_missing=True, families=families, progress=progress)
    return [
        DatasetCheck(
            name=i.name,
            passed=i.checks_failed == 0,
            checks=i.checks,
            report=i.report,
            error=i.error,
            missing=not i.exists,
        )
        for i in infos
        if i.checks
    ]
