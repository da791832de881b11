"""A street network named by a relative path is looked for in the data directory first, then in
the working directory, as station files are (it was the working directory first, and the data
directory only when --data-dir was given)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobility.errors import DataNotFoundError
from mobility.network.graph import NAMED_SOURCES, _resolve_source


def test_a_relative_network_path_is_found_in_the_data_directory(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing of the data directory here
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(data_dir))
    rel = NAMED_SOURCES["osm-drive"]
    _, path, _ = _resolve_source(rel, None)
    assert path == data_dir / rel and path.is_file()


def test_the_working_directory_is_the_fallback_and_a_missing_path_names_both(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.graphml").write_text("<graphml/>", encoding="utf-8")
    _, path, _ = _resolve_source("mine.graphml", data_dir)
    assert path == Path("mine.graphml")
    with pytest.raises(DataNotFoundError) as err:
        _resolve_source("osm/none.graphml", data_dir)
    said = str(err.value)
    assert str(data_dir / "osm/none.graphml") in said and str(tmp_path / "osm/none.graphml") in said
