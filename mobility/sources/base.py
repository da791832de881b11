"""What every loader returns, and how a dataset is described to the catalog."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from mobility.config import resolve_data_dir
from mobility.errors import DataNotFoundError
from mobility.quality import QualityReport

CRS_WGS84 = "EPSG:4326"
"""Longitude/latitude, for exchange (GeoJSON, GBFS, the API)."""

CRS_METRIC = "EPSG:5179"
"""Korea 2000 / Unified CS (metres), for every distance and area computed here."""

EARTH_RADIUS_M = 6_371_000.0
"""Mean earth radius, for great-circle distances between lon/lat points."""

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
