"""What pyproject.toml declares is what the code imports (issue #13: no dependency that says
something untrue). Third-party imports of ``mobility``/``api`` need a runtime dependency, those of
``tests``/``bench`` a runtime or dev one; a runtime dependency nothing imports is named in
:data:`NOT_IMPORTED` with the reason it is there."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from mobility.config import PROJECT_ROOT
from tests.ast_support import parse_source

NOT_IMPORTED = {
    "pyarrow": "pandas' Parquet engine (caches, trip tables)",
    "psycopg": "SQLAlchemy's PostgreSQL driver (postgresql+psycopg:// URLs)",
    "redis": "the rate limiter's shared storage (`limits`, redis:// URIs)",
    "gbfs-validator": "its GBFS JSON schemas are read as package data (mobility.export.gbfs)",
    "openpyxl": "pandas' .xlsx engine (official station lists)",
}
"""Runtime dependencies no module imports by name, and why they are declared."""


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_name(r) for r in project["dependencies"]}, {
        _name(r) for r in project["optional-dependencies"]["dev"]
    }


def _imports(folder: str) -> set[str]:
    """Top-level modules imported anywhere under ``folder`` (not the project's own, not stdlib)."""
    own = {"mobility", "api", "bench", "tests"}
    found: set[str] = set()
    for path in (PROJECT_ROOT / folder).rglob("*.py"):
        for node in ast.walk(parse_source(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    # the folder's own file names (test helpers such as api_support, bench scripts) are not third-party
    local = {p.stem for p in (PROJECT_ROOT / folder).rglob("*.py")} if folder in ("tests", "bench") else set()
    return {m for m in found - own - local - set(sys.stdlib_module_names) if not m.startswith("_")}


def _distributions(modules: set[str]) -> dict[str, set[str]]:
    dists = packages_distributions()
    return {m: {d.lower().replace("_", "-") for d in dists.get(m, [m])} for m in modules}


def test_every_import_is_declared() -> None:
    runtime, dev = _declared()
    missing = {}
    for folder, allowed in (
        ("mobility", runtime),
        ("api", runtime),
        ("tests", runtime | dev),
        ("bench", runtime | dev),
    ):
        for module, dists in _distributions(_imports(folder)).items():
            if not dists & allowed:
                missing[f"{folder}: {module}"] = sorted(dists)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_runtime_dependency_is_imported_or_explained() -> None:
    runtime, _ = _declared()
    imported = set().union(*_distributions(_imports("mobility") | _imports("api")).values())
    unexplained = runtime - imported - set(NOT_IMPORTED)
    assert not unexplained, (
        f"declared but never imported (import it, drop it, or say why): {sorted(unexplained)}"
    )
    stale = set(NOT_IMPORTED) & imported
    assert not stale, f"imported after all, no longer needs an explanation: {sorted(stale)}"


def test_the_check_sees_real_imports() -> None:
    assert {"numpy", "holidays"} <= _imports("mobility") and "pydantic_core" in _imports("api")
