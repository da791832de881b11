"""The catalog: every dataset of the data directory, row counts, and failing checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mobility.errors import DataNotFoundError
from mobility.quality import QualityReport
from mobility.sources import catalog
from mobility.sources.base import DatasetSpec, Loaded
from mobility.sources.boundaries import load_dongs
from mobility.sources.catalog import NETWORK_DATASETS, all_datasets, data_check, dataset_info
from mobility.sources.stations import STATION_VINTAGES
from mobility.sources.usage import load_citywide_monthly_usage


def test_all_datasets_gathers_modules_and_networks() -> None:
    specs = all_datasets()
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    assert {f"stations_{v}" for v in STATION_VINTAGES} <= set(names)
    loaded = {s.relpath for s in specs if s.load is not None}
    assert {s.name for s in NETWORK_DATASETS if s.relpath not in loaded} <= set(names)
    assert len({s.relpath for s in specs}) == len(specs)  # no file listed twice
    assert all(s.load is None for s in specs if s.family == "network")
    assert "network_best" in names


def test_station_family_on_real_data(data_dir: Path) -> None:
    infos = {i.name: i for i in dataset_info(data_dir, families=["stations"])}
    assert set(infos) == {f"stations_{v}" for v in STATION_VINTAGES} | {"stations_master-copy-3385"}
    assert infos["stations_master-copy-3385"].rows == 3372
    info = infos["stations_2025-12"]
    assert info.rows == 2799 and info.status == "ok" and info.crs == "EPSG:4326"
    assert info.checks_failed == 0 and info.checks_passed == 3
    assert info.period == "as of 2025-12"
    d = info.to_dict()
    assert d["report"]["rows_read"] == 2799 and d["status"] == "ok"
    assert d["path"] == "ttareungi/stations_2025-12.csv" and d["checks_failed"] == 0
    assert infos["stations_master"].report is not None
    assert infos["stations_master"].report.dropped["zero coordinates"] == 77


def test_every_file_of_the_data_dir_is_listed(data_dir: Path) -> None:
    infos = dataset_info(data_dir, families=["network", "other"])
    listed = [data_dir / i.relpath for i in infos]
    for path in data_dir.rglob("*"):
        if not path.is_file() or path.suffix in (".md", ".txt"):
            continue
        shp_sidecar = path.suffix in (".dbf", ".prj", ".shx", ".cpg") and path.with_suffix(".shp").exists()
        covered = any(path == p or (p.is_dir() and path.is_relative_to(p)) for p in listed)
        in_loader = any(s.relpath == path.relative_to(data_dir).as_posix() for s in all_datasets())
        assert covered or shp_sidecar or in_loader, path
    tiles = next(i for i in infos if i.name == "network_omt_tiles_2021")
    assert tiles.files > 100 and tiles.status == "present"


def _truncated_dir(tmp_path: Path, data_dir: Path, lines: int = 11) -> Path:
    (tmp_path / "ttareungi").mkdir()
    src = (data_dir / STATION_VINTAGES["2025-12"]).read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / STATION_VINTAGES["2025-12"]).write_text("".join(src[:lines]), encoding="utf-8")
    shutil.copy(data_dir / STATION_VINTAGES["2018-11"], tmp_path / STATION_VINTAGES["2018-11"])
    return tmp_path


def test_row_count_mismatch_fails_the_check(tmp_path: Path, data_dir: Path) -> None:
    root = _truncated_dir(tmp_path, data_dir)
    results = {r.name: r for r in data_check(root)}
    present = {name for name, r in results.items() if not r.missing}
    assert present == {"stations_2025-12", "stations_2018-11"}
    assert results["stations_2018-11"].passed
    assert not results["stations_master"].passed  # absent from the partial copy: a failure
    bad = results["stations_2025-12"]
    assert not bad.passed
    failing = [c for c in bad.checks if not c.passed]
    assert [c.name for c in failing] == ["row count"] and "expected 2799" in failing[0].detail
    missing = {i.name: i for i in dataset_info(root, include_missing=True)}
    assert missing["stations_master"].status == "missing"


def test_broken_loader_and_module_are_failed_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("x\n1\n", encoding="utf-8")

    def broken(_: Path) -> Loaded[pd.DataFrame]:
        raise KeyError("column")

    def good(_: Path) -> Loaded[pd.DataFrame]:
        return Loaded(pd.DataFrame({"x": [1]}), QualityReport("b", rows_read=1))

    specs = [
        DatasetSpec("a", "test", "a.csv", "broken", load=broken, expected_rows=1),
        DatasetSpec("b", "test", "b.csv", "good", load=good, expected_rows=1),
    ]
    monkeypatch.setattr(catalog, "all_datasets", lambda data_dir=None: specs)
    infos = {i.name: i for i in dataset_info(tmp_path)}
    assert infos["a"].status == "failed" and "KeyError" in infos["a"].error
    assert "test_catalog.py" in infos["a"].error  # where the loader broke
    assert infos["b"].status == "ok" and infos["b"].rows == 1


def test_every_source_module_is_gathered() -> None:
    """The catalog imports its source modules directly: each one's DATASETS is gathered."""
    families = {s.family for s in all_datasets()}
    assert {"stations", "trips", "population", "boundaries", "network"} <= families
    assert len(catalog.SOURCE_MODULES) == 8


def test_info_rows_are_cached_until_a_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def load(root: Path) -> Loaded[pd.DataFrame]:
        table = pd.read_csv(root / "t.csv")
        calls.append(len(table))
        return Loaded(table, QualityReport("t", rows_read=len(table)))

    (tmp_path / "t.csv").write_text("x\n1\n2\n", encoding="utf-8")
    specs = [DatasetSpec("t", "test", "t.csv", "a table", load=load, expected_rows=2)]
    monkeypatch.setattr(catalog, "all_datasets", lambda data_dir=None: specs)
    first = dataset_info(tmp_path)[0]
    again = dataset_info(tmp_path)[0]
    assert (first.cached, again.cached) == (False, True) and calls == [2]
    assert again.rows == 2 and again.status == "ok" and again.report is not None
    (tmp_path / "t.csv").write_text("x\n1\n2\n3\n", encoding="utf-8")  # new size: a new key
    changed = dataset_info(tmp_path)[0]
    assert not changed.cached and changed.rows == 3 and changed.status == "failed" and calls == [2, 3]
    assert dataset_info(tmp_path, use_cache=False)[0].cached is False and calls == [2, 3, 3]


def test_a_missing_data_file_is_named_with_the_note_on_where_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"See GEO_SOURCES\.md") as geo:
        load_dongs(tmp_path)
    assert str(tmp_path / "boundaries" / "seoul_dong_2020_wgs84.geojson") in str(geo.value)
    with pytest.raises(DataNotFoundError, match=r"See ttareungi/SOURCES\.md") as usage:
        load_citywide_monthly_usage(tmp_path)
    assert "citywide monthly usage" in str(usage.value)
