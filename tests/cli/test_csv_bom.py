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
from tests.ast_support import parse_source

ROOT = Path(__file__).resolve().parents[2]
BOM = CSV_BOM.encode("utf-8")

WRITER = "mobility/io.py"
"""The one writer's module: ``csv_bytes`` formats a table itself and ends CSV text's rows again."""
ENDS = frozenset({"csv_bytes", "atomic_write_csv"})
"""Calls that make CSV bytes of a table or of CSV text (BOM, CRLF)."""


def _called(call: ast.Call) -> str | None:
    """The name a call calls: ``f`` of ``f(...)`` and of ``mod.f(...)``."""
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _formats_csv(call: ast.Call) -> bool:
    """``DataFrame.to_csv(...)``, ``csv.writer(...)``, ``csv.DictWriter(...)`` (or the last two
    imported from :mod:`csv`)."""
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr == "to_csv" or (
            f.attr in ("writer", "DictWriter") and isinstance(f.value, ast.Name) and f.value.id == "csv"
        )
    return isinstance(f, ast.Name) and f.id == "DictWriter"


def _scan(path: Path) -> tuple[dict[str, list[int]], set[str], list[tuple[str, int, bool]]]:
    """In ``path``: the functions that format CSV (name -> lines), those that call one of
    :data:`ENDS`, and every call ``(name, line, passed straight to one of ENDS)``."""
    tree = parse_source(path.read_text(encoding="utf-8"))
    formats: dict[str, list[int]] = {}
    ends: set[str] = set()
    calls: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, func: str, wrapped: bool) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func
            inner = False
            if isinstance(child, ast.Call):
                called = _called(child)
                if _formats_csv(child):
                    formats.setdefault(func, []).append(child.lineno)
                if called in ENDS:
                    ends.add(func)
                    inner = True
                if called is not None:
                    calls.append((called, child.lineno, wrapped))
            visit(child, name, inner and isinstance(child, ast.Call))

    visit(tree, "<module>", False)
    return formats, ends, calls


def _offenders() -> list[str]:
    """CSV formatted anywhere but in :data:`WRITER`, unless the function itself ends in one of
    :data:`ENDS` or returns CSV text that every caller (in mobility/ and api/) passes straight to
    one of them, as ``write_snapshot`` does with ``csv_bytes(snapshot_csv(snapshot))``."""
    scans = {
        path.relative_to(ROOT).as_posix(): _scan(path)
        for top in ("mobility", "api")
        for path in sorted((ROOT / top).rglob("*.py"))
    }
    calls = [
        (name, f"{rel}:{line}", wrapped) for rel, (_, _, cs) in scans.items() for name, line, wrapped in cs
    ]
    bad: list[str] = []
    for rel, (formats, ends, _) in scans.items():
        for func, lines in formats.items():
            if rel == WRITER or func in ends:
                continue
            uses = [(where, wrapped) for name, where, wrapped in calls if name == func]
            bad += [f"{where} calls {func} (formats CSV: {rel}:{lines[0]})" for where, w in uses if not w]
            if not uses:
                bad.append(f"{rel}:{lines[0]} ({func}): CSV text no caller passes to csv_bytes")
    return bad


def test_no_csv_is_written_past_the_one_writer() -> None:
    assert _offenders() == [], "write CSV with mobility.io.atomic_write_csv / csv_bytes (UTF-8 + BOM, CRLF)"


def test_the_guard_sees_csv_modules_writers(tmp_path: Path) -> None:
    code = """
import csv, io
def rows_text(rows):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()
def write(rows, path):
    atomic_write_text(path, rows_text(rows))
def fine(rows, path):
    atomic_write_csv(path, rows_text(rows))
"""
    (tmp_path / "m.py").write_text(code, encoding="utf-8")
    formats, ends, calls = _scan(tmp_path / "m.py")
    assert formats == {"rows_text": [5]} and ends == {"fine"}
    assert [(n, w) for n, _, w in calls if n == "rows_text"] == [("rows_text", False), ("rows_text", True)]


def test_the_writer_starts_with_the_bom_and_reads_back(tmp_path: Path) -> None:
    table = pd.DataFrame({"station_id": ["ST-4"], "name": ["합정역 1번출구 앞"], "bikes": [3]})
    path = atomic_write_csv(tmp_path / "t.csv", table)
    raw = path.read_bytes()
    assert raw.startswith(BOM) and not raw.startswith(BOM + BOM)
    assert pd.read_csv(path, encoding="utf-8-sig").equals(table)
    assert csv_bytes(CSV_BOM + "a\r\n1\r\n") == BOM + b"a\r\n1\r\n"  # never two marks
    # one line end (CRLF, as a table gets), whatever the text's writer used; a quoted cell's kept
    assert csv_bytes('a,b\n1,"x\ny"\n2,3\n') == BOM + b'a,b\r\n1,"x\ny"\r\n2,3\r\n'
    assert csv_bytes("a\r\n1\n") == csv_bytes(pd.DataFrame({"a": [1]})) == BOM + b"a\r\n1\r\n"


def test_the_library_csv_writers_write_the_bom(tmp_path: Path) -> None:
    from mobility.export.compare import write_compare_table
    from mobility.export.snapshot import write_snapshot
    from mobility.rebalancing.snapshot import StatusSnapshot, snapshot_from_table
    from mobility.sources.seoul_openapi import write_station_info

    snap: StatusSnapshot = snapshot_from_table(
        pd.DataFrame({"station_id": ["ST-4"], "name": ["합정역"], "bikes": [3]})
    )
    written = [
        write_snapshot(snap, tmp_path / "snap.csv"),
        write_compare_table(pd.DataFrame({"gu": ["마포구"], "bikes": [1]}), tmp_path / "cmp.csv"),
        write_station_info([{"RENT_ID": "ST-4", "STA_LOC": "마포구"}], tmp_path / "info.csv"),
    ]
    for path in written:
        raw = Path(path).read_bytes()
        assert raw.startswith(BOM), path
        assert raw.count(b"\n") == raw.count(b"\r\n") > 1, path  # every line ends CRLF
