"""Options and output helpers shared by every CLI command.

Conventions: ``--help`` everywhere; ``--json`` prints machine-readable output on stdout (and
nothing else there); human output is rich tables; errors go to stderr. Exit codes: 0 ok,
1 the work ran but failed (e.g. a check did not pass, a solver found no solution in its time
limit), 2 bad input or missing data.

Everything printed is literal: the consoles read no Rich markup and no ``:emoji:`` codes, so
messages, file names and table cells (station names such as ``망원역 [/] 앞``) show as given;
styled parts are :class:`rich.text.Text` (see :func:`print_error`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console, RenderableType
from rich.status import Status
from rich.text import Text

from mobility.errors import DataFileError, InfeasibleError, InputError, MobilityError
from mobility.io import can_create_dir, native_stdout_to_stderr
from mobility.progress import Progress

if TYPE_CHECKING:
    from mobility.stats import SolverStats

_M = TypeVar("_M", bound=BaseModel)


def _width(stream: TextIO) -> int | None:
    """160 columns into a file or a pipe (rich would take 80), a terminal's own width otherwise;
    ``COLUMNS`` wins."""
    return None if stream.isatty() or "COLUMNS" in os.environ else 160


def _literal(status: RenderableType) -> RenderableType:
    return Text(status) if isinstance(status, str) else status


class _LiteralStatus(Status):
    """A :class:`rich.status.Status` whose messages are text, never markup (rich's spinner parses a
    ``str`` as markup whatever the console says)."""

    def __init__(self, status: RenderableType, **kwargs: Any) -> None:
        super().__init__(_literal(status), **kwargs)

    def update(self, status: RenderableType | None = None, **kwargs: Any) -> None:
        """Change the message (kept literal) and/or the spinner."""
        super().update(None if status is None else _literal(status), **kwargs)


class LiteralConsole(Console):
    """A console that prints text as given: no markup, no emoji codes, literal status messages."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, emoji=False, **kwargs)

    def status(  # type: ignore[override]
        self,
        status: RenderableType,
        *,
        spinner: str = "dots",
        spinner_style: str = "status.spinner",
        speed: float = 1.0,
        refresh_per_second: float = 12.5,
    ) -> Status:
        """A spinner with a literal message (see :class:`rich.console.Console.status`)."""
        return _LiteralStatus(
            status,
            console=self,
            spinner=spinner,
            spinner_style=spinner_style,
            speed=speed,
            refresh_per_second=refresh_per_second,
        )


console = LiteralConsole(width=_width(sys.stdout))
"""Human output (stdout). Into a file or a pipe, 160 columns: at rich's 80 the numbers of a wide
table were cut to ``22,…``."""

err_console = LiteralConsole(stderr=True, width=_width(sys.stderr), log_path=False, soft_wrap=True)
"""Errors, warnings and progress (stderr), so that ``--json`` output stays clean. Into a log file,
160 columns too: at 80 a note such as the plan's candidate filters broke mid-entry. Progress lines
carry their time, not the ``common.py:148`` of the line that logged them. Every message is one
line (``soft_wrap``): the terminal wraps it, and a log or a grep keeps paths and values whole
(rich used to fold a long path inside a word)."""

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Seoul data folder (default: $MOBILITY_DATA_DIR, ./data/seoul, ../shared/data/seoul).",
        show_default=False,
    ),
]


def summary_cell(v: Any) -> str:
    """A summary value as a person reads it in a table: thousands separators, one decimal for
    floats, a mapping as ``key value`` lines (underscores as spaces), nothing for ``None``."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, dict):
        return "\n".join(f"{str(k).replace('_', ' ')} {summary_cell(x)}" for k, x in v.items())
    return str(v)


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
MapsOption = Annotated[
    bool, typer.Option("--maps/--no-maps", help="Also write map.html and map.png into --out.")
]
"""``--maps/--no-maps`` of the commands that draw review maps beside their files (``mobility plan``,
``mobility rebalance``)."""
STATUS_FILES = "CSV, Parquet or JSON from `mobility demand snapshot`, or a bikeList JSON"
"""The files a ``--status`` option takes (:func:`mobility.rebalancing.snapshot.read_snapshot`):
what its help and its errors say. The options themselves differ from command to command (the
night to plan, a day's start inventory, the night a map is drawn over)."""


def print_written(files: Iterable[object], notes: Iterable[str] = ()) -> None:
    """The files a command wrote (stdout) and its notes (stderr), the same way for every command."""
    for f in files:
        console.print(f"wrote {f}", soft_wrap=True)
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
def progress_reporter(label: str, *, json_out: bool = False) -> Iterator[Progress]:
    """A spinner on stderr and a :class:`~mobility.progress.Progress` that logs each step with its
    elapsed time; the spinner's line shows the share done, once the work has said one.

    With ``json_out`` native output on stdout is sent to stderr meanwhile
    (:data:`mobility.io.native_stdout_to_stderr`).
    """
    t0 = time.perf_counter()
    quiet_stdout = native_stdout_to_stderr() if json_out else contextlib.nullcontext()
    shown: list[float] = []  # the last share done
    with quiet_stdout, err_console.status(f"{label} ...") as status:

        def progress(msg: str, /, done: float | None = None) -> None:
            err_console.log(f"[{time.perf_counter() - t0:6.1f} s] {msg}", highlight=False)
            if done is not None:
                shown[:] = [max([done, *shown])]
            share = f" ({shown[0]:.0%})" if shown else ""
            status.update(f"{label}{share}: {msg} ...")

        yield progress


class SolveFailedError(MobilityError):
    """A solver ran but found no solution (e.g. within its time limit): exit code 1, not 2."""

    exit_code = 1


def print_error(message: object) -> None:
    """``error: <message>`` on stderr, the message literal (never read as markup), on one line."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", str(message)), highlight=False)


def print_styled(label: str, style: str, message: object) -> None:
    """``<label> <message>`` on stderr with ``label`` in ``style``, the message literal and on one line."""
    err_console.print(Text.assemble((label, style), " ", str(message)), highlight=False)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A library warning as one ``note:`` line on stderr (no source file, no code line)."""
    text = " ".join(str(message).split())
    err_console.print(Text.assemble(("note:", "yellow"), " ", text), highlight=False)


@contextlib.contextmanager
def routed_warnings() -> Iterator[None]:
    """Show Python warnings as one-line notes on the error console while the block runs; the
    previous ``warnings.showwarning`` (and the filters) are back afterwards, so an in-process run
    (a test calling :func:`mobility.cli.main`, a library user) keeps its own warning handling."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def _names(exc: InputError, option: str) -> bool:
    """Whether ``exc`` is about ``option``: ``--status``, ``--status.columns``, ``--status[ST-4].bikes``."""
    return exc.field == option or exc.field.startswith((f"{option}.", f"{option}["))


@contextlib.contextmanager
def file_option_errors(
    option: str, path: Path | None, expected: str, *, reading: bool = False
) -> Iterator[None]:
    """Errors about the file ``path`` given as ``option`` name the option and the file, then what is
    wrong and where: ``--status: got 'night.csv'; expected <expected>; night.csv: [ST-4].bikes: got
    'x'; expected ...``.

    Made so: a :class:`DataFileError` on ``path`` (unreadable), an :class:`InputError` naming
    ``option`` (a bad row or column) and, with ``reading`` (the block only reads the file), any
    other :class:`InputError` (e.g. a bikeList payload's). One that names the option and the file
    already (``--status: got 'night.csv'; ...``) is left as it is, and so is anything else (another
    file, another option). ``path`` ``None`` (the option not given): nothing is changed.
    """
    if path is None:
        yield
        return
    try:
        yield
    except DataFileError as exc:
        if exc.path != path:
            raise
        raise InputError(option, str(path), f"{expected}; {path.name}: {exc.problem}") from exc
    except InputError as exc:
        if (exc.field, exc.value) == (option, str(path)) or not (reading or _names(exc, option)):
            raise
        what = str(exc)[len(option) :].lstrip(".:").strip() if _names(exc, option) else str(exc)
        raise InputError(option, str(path), f"{expected}; {path.name}: {what}") from exc


@contextlib.contextmanager
def status_file_errors(path: Path | None, *, reading: bool = False) -> Iterator[None]:
    """:func:`file_option_errors` of a ``--status`` file (a status snapshot, :data:`STATUS_FILES`),
    every bad value of the file in the message (:func:`~mobility.rebalancing.snapshot.every_problem`,
    as the API's 422 lists them)."""
    from mobility.rebalancing.snapshot import every_problem

    expected = f"a status snapshot ({STATUS_FILES})"
    with file_option_errors("--status", path, expected, reading=reading), every_problem():
        yield


def check_out_dir(path: Path, option: str = "--out") -> Path:
    """Check, before any work, that output folder ``path`` exists or can be created.

    Raises
    ------
    InputError
        Naming ``option`` when ``path`` is a file or its folder cannot be created.
    """
    if not can_create_dir(path):
        raise InputError(option, str(path), "a folder that can be created")
    return path


def check_out_file(path: Path, option: str = "--out") -> Path:
    """Check, before any work, that output file ``path`` can be written: not a folder, and its
    folder exists or can be created.

    Raises
    ------
    InputError
        Naming ``option`` otherwise.
    """
    if path.is_dir() or not can_create_dir(path.absolute().parent):
        raise InputError(option, str(path), "a file path whose folder can be created")
    return path


def with_solver_overrides(scenario: _M, option_values: Mapping[str, tuple[str, object]]) -> _M:
    """``scenario`` with ``solver`` fields replaced by the command's options (validated), so the
    scenario a result records is the one that ran.

    Parameters
    ----------
    scenario
        A scenario with a ``solver`` section.
    option_values
        ``{field: (option, value)}``, e.g. ``{"time_limit": ("--time-limit", 5.0)}``; a ``None``
        value keeps the scenario's.

    Raises
    ------
    InputError
        Naming the option whose value the solver section rejects.
    """
    solver = getattr(scenario, "solver")  # noqa: B009  (any scenario class with a solver section)
    update = {k: v for k, (_, v) in option_values.items() if v is not None}
    if not update:
        return scenario
    try:
        new = type(solver).model_validate(solver.model_dump() | update)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else next(iter(update))
        option, value = option_values.get(name, (f"solver.{name}", update.get(name)))
        raise InputError(option, value, first["msg"]) from exc
    return scenario.model_copy(update={"solver": new})


@contextlib.contextmanager
def solve_time_limit(time_limit: float) -> Iterator[None]:
    """Turn a solver that found no solution within ``time_limit`` into :class:`SolveFailedError`."""
    try:
        yield
    except InfeasibleError as exc:
        if "solver.time_limit" not in exc.binding:
            raise
        raise SolveFailedError(
            f"no solution within the time limit ({time_limit:g} s); raise --time-limit"
        ) from exc


def siting_line(stats: SolverStats) -> str:
    """``siting: <solver> <status>, gap <gap> (proven optimal | not proven optimal)[; <fallback>]``:
    whether a plan's or a backtest's siting is proven optimal, and the fallback taken if any."""
    gap = "-" if stats.gap is None else f"{stats.gap:.3%}"
    proven = "proven optimal" if stats.status == "optimal" else "not proven optimal"
    fallback = stats.extra.get("note") if stats.extra.get("fallback") else None
    line = f"siting: {stats.solver} {stats.status}, gap {gap} ({proven})"
    return f"{line}; {fallback}" if fallback else line
