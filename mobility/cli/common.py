"""Options and output helpers shared by every CLI command.

Conventions: ``--help`` everywhere; ``--json`` prints machine-readable output on stdout (and
nothing else there); human output is rich tables; errors go to stderr. Exit codes: 0 ok,
1 the work ran but failed (e.g. a check did not pass), 2 bad input or missing data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
"""Human output (stdout)."""

err_console = Console(stderr=True)
"""Errors, warnings and progress (stderr), so that ``--json`` output stays clean."""

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Seoul data folder (default: $MOBILITY_DATA_DIR, ./data/seoul, ../shared/data/seoul).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
SeedOption = Annotated[int, typer.Option("--seed", min=0, help="Random seed (same seed, same result).")]
TimeLimitOption = Annotated[
    float, typer.Option("--time-limit", min=0.1, help="Solver time limit in seconds.")
]


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout, Hangul unescaped."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()
