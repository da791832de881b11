"""The README's Architecture table and the solvers' docstrings tell the truth about the tree.

A maintainer's first day found the table silent on a dozen modules (``progress.py``, the demand
layer's ``data.py``, the plan's ``validate.py``, most of ``api/``) and four solver entry points
whose docstrings did not write the model they solve (the rebalancing ``solve``, the single-route
search of ``tour.py``, the lazy greedy for maximum coverage and the OR-Tools baselines). These
tests keep both: every module is named in its package's row (or is a loader or command module,
which the folder rows cover), every file a row names exists, and every optimisation entry point's
formulation (an objective and its constraints) is written where its docstring says it is.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.ast_support import parse_source

ROOT = Path(__file__).resolve().parents[1]

SKETCH_ONLY = {"cli.py"}
"""File names a row gives as the sketch's (``shared/design/ARCHITECTURE.md``), not the tree's."""


def architecture_rows(readme: str) -> dict[str, str]:
    """The Architecture section's table: package cell (``mobility/network/``) -> the row's text."""
    section = readme.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            rows[cells[0].split()[0].strip("`")] = line
    return rows


def _defines(path: Path, name: str) -> bool:
    """Whether the module at ``path`` assigns ``name`` at its top level."""
    for node in parse_source(path.read_text(encoding="utf-8")).body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
    return False


def covered_by_folder(path: Path) -> bool:
    """Modules a folder row covers without naming them: the dataset loaders ("one loader module
    per dataset family", each with its ``DATASETS``), the command modules ("one module per
    command group"), ``api/routes/``, ``api/db/`` and ``api/web/`` (named as folders), ``bench/``."""
    rel = path.relative_to(ROOT).as_posix()
    if rel.startswith(("mobility/cli/", "api/routes/", "api/db/", "api/web/", "bench/")):
        return True
    return rel.startswith("mobility/sources/") and _defines(path, "DATASETS")


def row_of(path: Path) -> str:
    """The package cell of the row that must name ``path``."""
    rel = path.relative_to(ROOT)
    if rel.parts[0] == "mobility":
        return "mobility/" if len(rel.parts) == 2 else f"mobility/{rel.parts[1]}/"
    return f"{rel.parts[0]}/"


def unnamed_modules(readme: str) -> list[str]:
    """Modules of ``mobility/`` and ``api/`` that no row names and no folder row covers."""
    rows = architecture_rows(readme)
    missing = []
    for path in sorted([*ROOT.glob("mobility/**/*.py"), *ROOT.glob("api/**/*.py")]):
        if path.name == "__init__.py" or covered_by_folder(path):
            continue
        row = rows.get(row_of(path), "")
        if f"`{path.name}`" not in row and f"`{path.relative_to(ROOT / row_of(path)).as_posix()}`" not in row:
            missing.append(path.relative_to(ROOT).as_posix())
    return missing


def stale_names(readme: str) -> list[str]:
    """File names a row gives (``name.py``, ``routes/common.py``) that are not in that package."""
    stale = []
    for package, row in architecture_rows(readme).items():
        base = ROOT / package
        for name in re.findall(r"`([\w./]+\.py)`", row):
            if name in SKETCH_ONLY or name == "bench/X.py":
                continue
            if package == "tests/":
                found = any(ROOT.glob(f"tests/**/{name.rsplit('/', 1)[-1]}"))
            else:
                found = (ROOT / name).is_file() or (base / name).is_file()
            if not found:
                stale.append(f"{package} {name}")
    return stale


def test_every_module_is_named_in_its_row() -> None:
    assert unnamed_modules((ROOT / "README.md").read_text(encoding="utf-8")) == []


def test_every_file_a_row_names_exists() -> None:
    assert stale_names((ROOT / "README.md").read_text(encoding="utf-8")) == []


SOLVERS: list[tuple[str, str | None]] = [
    ("mobility/placement/models.py", "ExpansionModel"),
    ("mobility/placement/models.py", "lazy_greedy_cover"),
    ("mobility/placement/classic.py", "PMedian"),
    ("mobility/placement/classic.py", "MaximalCovering"),
    ("mobility/placement/fleet.py", "allocate_fleet"),
    ("mobility/placement/fleet.py", "lagrangian_allocation"),
    ("mobility/placement/lagrangian.py", None),
    ("mobility/rebalancing/exact.py", None),
    ("mobility/rebalancing/solve.py", "solve"),
    ("mobility/rebalancing/local_search.py", None),
    ("mobility/rebalancing/tour.py", None),
    ("mobility/rebalancing/memetic.py", None),
    ("mobility/rebalancing/baselines.py", None),
]
"""Each optimisation entry point and where its formulation is written: its own docstring (a
name), or its module's (``None``) for those whose docstrings say "(module docstring)"."""

OBJECTIVE = re.compile(r"minimi[sz]e|maximi[sz]e|\\min\b|\\max\b")
CONSTRAINTS = re.compile(r"subject to|s\.t\.")


def formulation_gaps(source: str, name: str | None) -> list[str]:
    """What the docstring of ``name`` (or the module's) lacks: an objective, constraints."""
    tree = parse_source(source)
    if name is None:
        doc = ast.get_docstring(tree) or ""
    else:
        node = next(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name)
        doc = ast.get_docstring(node) or ""
    return [
        what for what, rx in (("objective", OBJECTIVE), ("constraints", CONSTRAINTS)) if not rx.search(doc)
    ]


@pytest.mark.parametrize(("module", "name"), SOLVERS)
def test_solver_docstring_writes_its_model(module: str, name: str | None) -> None:
    source = (ROOT / module).read_text(encoding="utf-8")
    assert formulation_gaps(source, name) == [], f"{module} {name or '(module)'}"
