"""The command line starts without loading the solvers: ``mobility --help`` is quick."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SOLVERS = ("ortools", "numba", "sklearn", "geopandas", "osmnx", "shapely", "scipy", "matplotlib", "fastapi")
"""Libraries that only a command's body needs; together they took about 2 s to import."""


def test_importing_the_command_line_loads_no_solver() -> None:
    code = (
        "import json, sys; import mobility.cli; "
        f"print(json.dumps(sorted(m for m in {SOLVERS!r} if m in sys.modules)))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(r.stdout) == []


def test_every_command_is_still_listed() -> None:
    r = subprocess.run(
        [sys.executable, "-c", "from mobility.cli import main; main()", "bench", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    for command in ("brp", "pdtsp", "pmedian"):
        assert command in r.stdout


def test_a_table_written_to_a_file_keeps_its_numbers() -> None:
    """Into a pipe rich would lay tables out in 80 columns and cut wide numbers to ``22,…``; a
    note on stderr (a log file) would break mid-entry at 80 columns."""
    code = (
        "from rich.table import Table; from mobility.cli.common import console, err_console; "
        "t = Table(); [t.add_column(f'column {i}') for i in range(12)]; "
        "t.add_row(*[f'{i * 1_000_003:,}' for i in range(12)]); console.print(t); "
        "err_console.print('note: candidate filters: ' "
        "+ ', '.join(f'filter {i}: {i * 1_000_003}' for i in range(6)))"
    )
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True
    )
    assert "11,000,033" in r.stdout and "…" not in r.stdout
    assert len(r.stderr.strip().splitlines()) == 1 and "filter 5: 5000015" in r.stderr
