"""Every CSV the CLI writes is UTF-8 with a byte-order mark (so Excel shows the Hangul names).

One writer does it (:func:`mobility.io.csv_bytes` / :func:`mobility.io.atomic_write_csv`); these
tests check that no command or library writer formats a CSV file any other way, and that the
library's CSV writers start their files with the BOM.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd

from mobility.io import CSV_BOM, atomic_write_csv, csv_bytes

ROOT = Path(__file__).resolve().parents[2]
BOM = CSV_BOM.encode("utf-8")

# the only places that call DataFrame.to_csv: the writer itself, and the snapshot's CSV text
# (which write_snapshot writes through csv_bytes)
ALLOWED = {("mobility/io.py", "csv_bytes"), ("mobility/export/snapshot.py", "snapshot_csv")}


def _to_csv_calls(path: Path) -> list[tuple[str, int]]:
    """(enclosing function, line) of every ``.to_csv(...)`` call in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "to_csv"
            ):
                found.append((func, child.lineno))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_no_csv_is_written_past_the_one_writer() -> None:
    offenders = [
        f"{rel}:{line} ({func})"
        for path in sorted((ROOT / "mobility").rglob("*.py"))
        for rel in [path.relative_to(ROOT).as_posix()]
        for func, line in _to_csv_calls(path)
        if (rel, func) not in ALLOWED
    ]
    assert offenders == [], "write CSV with mobility.io.atomic_write_csv / csv_bytes (UTF-8 + BOM)"


def test_the_writer_starts_with_the_bom_and_reads_back(tmp_path: Path) -> None:
    table = pd.DataFrame({"station_id": ["ST-4"], "name": ["합정역 1번출구 앞"], "bikes": [3]})
    path = atomic_write_csv(tmp_path / "t.csv", table)
    raw = path.read_bytes()
    assert raw.startswith(BOM) and not raw.startswith(BOM + BOM)
    assert pd.read_csv(path, encoding="utf-8-sig").equals(table)
    assert csv_bytes(CSV_BOM + "a\r\n1\r\n") == BOM + b"a\r\n1\r\n"  # never two marks


def test_the_library_csv_writers_write_the_bom(tmp_path: Path) -> None:
    from mobility.export.compare import write_compare_table
    from mobility.export.snapshot import write_snapshot
    from mobility.rebalancing.snapshot import StatusSnapshot, snapshot_from_table

    snap: StatusSnapshot = snapshot_from_table(
        pd.DataFrame({"station_id": ["ST-4"], "name": ["합정역"], "bikes": [3]})
    )
    written = [
        write_snapshot(snap, tmp_path / "snap.csv"),
        write_compare_table(pd.DataFrame({"gu": ["마포구"], "bikes": [1]}), tmp_path / "cmp.csv"),
    ]
    for path in written:
        assert Path(path).read_bytes().startswith(BOM), path
