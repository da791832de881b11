"""Settings, atomic writes, the cache key and solver statistics."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mobility import config
from mobility.cache import cache_key, cached_file
from mobility.errors import DataNotFoundError
from mobility.io import atomic_path, atomic_write_json
from mobility.stats import MaxIterations, SolverStats


def test_data_dir_is_found_in_the_shared_folder(data_dir: Path) -> None:
    assert (data_dir / "ttareungi" / "stations_2025-12.csv").is_file()


def test_explicit_data_dir_that_does_not_exist_names_the_place(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError) as info:
        config.resolve_data_dir(missing)
    assert str(missing) in str(info.value)
    assert "MOBILITY_DATA_DIR" in str(info.value)


def test_a_data_dir_that_is_a_file_says_so(tmp_path: Path) -> None:
    """A station CSV given where the data folder was meant was reported as 'not found'."""
    given = tmp_path / "stations.csv"
    given.write_text("a\n", encoding="utf-8")
    with pytest.raises(DataNotFoundError) as info:
        config.resolve_data_dir(given)
    assert f"{given}: a file, not a folder" in str(info.value)


def test_env_var_wins_over_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(tmp_path))
    config.get_settings.cache_clear()
    try:
        assert config.resolve_data_dir() == tmp_path.resolve()
    finally:
        config.get_settings.cache_clear()


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    atomic_write_json(target, {"name": "망원역 1번출구 앞"})
    assert json.loads(target.read_text(encoding="utf-8"))["name"] == "망원역 1번출구 앞"
    assert "망원역" in target.read_text(encoding="utf-8")  # Hangul kept, not \uXXXX

    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text(encoding="utf-8"))["name"] == "망원역 1번출구 앞"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_atomic_write_gives_ordinary_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        target = atomic_write_json(tmp_path / "routes.json", {"trucks": 1})
    finally:
        os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o644


def test_cache_key_changes_when_an_input_changes(tmp_path: Path) -> None:
    f = tmp_path / "input.csv"
    f.write_text("a\n1\n")
    k1 = cache_key([f], profile="walk")
    assert k1 == cache_key([f], profile="walk")
    assert k1 != cache_key([f], profile="bike")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cache_key([f], profile="walk") != k1


def test_cached_file_builds_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBILITY_CACHE_DIR", str(tmp_path / "cache"))
    config.get_settings.cache_clear()
    calls: list[Path] = []

    def build(p: Path) -> None:
        calls.append(p)
        p.write_text("x")

    try:
        a = cached_file("t", "k", ".txt", build)
        b = cached_file("t", "k", ".txt", build)
    finally:
        config.get_settings.cache_clear()
    assert a == b and a.read_text() == "x" and len(calls) == 1


def test_solver_stats_gap_and_iteration_stop() -> None:
    assert SolverStats.relative_gap(100.0, 99.0) == pytest.approx(0.01)
    assert SolverStats.relative_gap(100.0, None) is None
    stop = MaxIterations(2)
    assert [stop(0.0) for _ in range(3)] == [False, False, True]
