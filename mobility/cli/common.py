"""Options and output helpers shared by every CLI command.

Conventions: ``--help`` everywhere; ``--json`` prints machine-readable output on stdout (and
nothing else there); human output is rich tables; errors go to stderr. Exit codes: 0 ok,
1 the work ran but failed (e.g. a check did not pass), 2 bad input or missing data.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console


def _width(stream: TextIO) -> int | None:
    """160 columns into a file or a pipe (rich would take 80), a terminal's own width otherwise;
    ``COLUMNS`` wins."""
    return None if stream.isatty() or "COLUMNS" in os.environ else 160


console = Console(width=_width(sys.stdout))
"""Human output (stdout). Into a file or a pipe, 160 columns: at rich's 80 the numbers of a wide
table were cut to ``22,…``."""

err_console = Console(stderr=True, width=_width(sys.stderr))
"""Errors, warnings and progress (stderr), so that ``--json`` output stays clean. Into a log file,
160 columns too: at 80 a note such as the plan's candidate filters broke mid-entry."""

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
ScenarioSeedOption = Annotated[
    int | None, typer.Option("--seed", min=0, help="Random seed (default: the scenario's).")
]
"""``--seed`` of the commands that read a scenario: ``None`` keeps the scenario's ``solver.seed``."""
BenchDirArgument = Annotated[Path, typer.Argument(help="Folder with instances/ and bks.csv.")]
"""The benchmark folder of ``mobility bench`` commands."""
InstanceTimeLimitOption = Annotated[
    float, typer.Option("--time-limit", min=0.1, help="Seconds per instance (each solver).")
]
"""``--time-limit`` of the ``mobility bench`` commands."""


def print_written(files: Iterable[object], notes: Iterable[str] = ()) -> None:
    """The files a command wrote (stdout) and its notes (stderr), the same way for every command."""
    for f in files:
        console.print(f"wrote {f}")
    for note in notes:
        err_console.print(f"note: {note}", highlight=False)


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout, Hangul unescaped."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def print_summary_line(summary: Mapping[str, object]) -> None:
    """The one-line JSON a ``mobility bench`` command ends with (its last line, for scripts)."""
    sys.stdout.write(json.dumps(dict(summary), ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def native_stdout_to_stderr(active: bool = True) -> Iterator[None]:
    """Send what native code writes to file descriptor 1 (e.g. HiGHS's "Running HiGHS" banner)
    to stderr while the block runs, so ``--json`` output on stdout stays parseable."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.contextmanager
def progress_reporter(label: str, *, json_out: bool = False) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr and a ``progress(message)`` that logs each step with its elapsed time.

    With ``json_out`` native output on stdout is sent to stderr meanwhile
    (:func:`native_stdout_to_stderr`).
    """
    t0 = time.perf_counter()
    with native_stdout_to_stderr(json_out), err_console.status(f"{label} ...") as status:

        def progress(msg: str) -> None:
            err_console.log(f"[{time.perf_counter() - t0:6.1f} s] {msg}", highlight=False)
            status.update(f"{label}: {msg} ...")

        yield progress
