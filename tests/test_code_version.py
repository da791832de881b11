"""``code_version``: a tree with uncommitted changes is identified by the change itself."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobility import provenance


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A one-commit checkout standing in for the project root."""
    (tmp_path / "mobility").mkdir()
    (tmp_path / "mobility" / "a.py").write_text("X = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "init")
    monkeypatch.setattr(provenance, "PROJECT_ROOT", tmp_path)
    provenance.code_version.cache_clear()
    yield tmp_path
    provenance.code_version.cache_clear()


def _version() -> str:
    provenance.code_version.cache_clear()
    return provenance.code_version()


def test_a_clean_tree_is_the_commit(repo: Path) -> None:
    assert "dirty" not in _version() and "+g" in _version()


def test_two_different_uncommitted_edits_give_different_versions(repo: Path) -> None:
    clean = _version()
    (repo / "mobility" / "a.py").write_text("X = 2\n")
    first = _version()
    (repo / "mobility" / "a.py").write_text("X = 3\n")
    second = _version()
    assert first.startswith(clean + ".dirty.") and second.startswith(clean + ".dirty.")
    assert first != second
    (repo / "mobility" / "a.py").write_text("X = 2\n")
    assert _version() == first  # the same change: the same version


def test_an_untracked_module_under_mobility_counts(repo: Path) -> None:
    clean = _version()
    (repo / "mobility" / "b.py").write_text("Y = 1\n")
    one = _version()
    (repo / "mobility" / "b.py").write_text("Y = 2\n")
    assert one != clean and "dirty" in one and _version() != one


def test_the_version_is_computed_once_per_process(repo: Path) -> None:
    first = _version()
    (repo / "mobility" / "a.py").write_text("X = 9\n")
    assert provenance.code_version() == first  # cached: no git call per result


def test_a_provenance_records_the_solver_and_numeric_library_versions() -> None:
    """A result depends on OR-Tools (HiGHS, SCIP, CP-SAT), numba and numpy (whose kernels follow
    the CPU); a provenance recorded Python's version only, so two machines' different results
    could not be told apart by their documents."""
    import importlib.metadata

    from mobility.provenance import Provenance

    libs = Provenance.collect({}).to_dict()["libraries"]
    for name in ("ortools", "numpy", "numba", "pandas", "shapely"):
        assert libs[name] == importlib.metadata.version(name)
    assert libs["cpu"]


def test_a_document_written_before_library_versions_reads_with_none() -> None:
    """Reading an older document back does not claim today's versions for it."""
    from pydantic import TypeAdapter

    from mobility.provenance import Provenance

    old = {
        "code_version": "0.1.0",
        "datasets": {},
        "created_at": "2026-12-01T00:00:00+00:00",
        "python": "3.11.7",
    }
    assert TypeAdapter(Provenance).validate_python(old).libraries == {}


def test_the_package_digest_follows_the_package_source_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's rider-simulation cache was keyed on code_version(), whose dirty part hashes the
    whole tree's diff: an edit of the README re-ran the simulation on every `make plan`."""
    import mobility.provenance as prov

    pkg = tmp_path / "mobility"
    (pkg / "simulation").mkdir(parents=True)
    (pkg / "provenance.py").write_text("x = 1\n", encoding="utf-8")
    (pkg / "simulation" / "engine.py").write_text("y = 2\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("a\n", encoding="utf-8")
    monkeypatch.setattr(prov, "__file__", str(pkg / "provenance.py"))

    def digest() -> str:
        prov.package_digest.cache_clear()
        return prov.package_digest()

    first = digest()
    (tmp_path / "README.md").write_text("b\n", encoding="utf-8")
    (pkg / "notes.txt").write_text("not code\n", encoding="utf-8")
    assert digest() == first
    (pkg / "simulation" / "engine.py").write_text("y = 3\n", encoding="utf-8")
    assert digest() != first
    prov.package_digest.cache_clear()
