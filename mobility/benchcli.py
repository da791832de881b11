"""Command-line checks and reporting shared by the benchmark scripts of ``bench/``.

Every script checks its options when they are parsed, before any long work: the ``type=`` of each
``argparse`` option is one of the validators below, so a bad value stops the script at once with
``argparse``'s usage line, ``argument --time-limit: got -1; expected > 0`` and exit code 2.
Errors the project raises for user input later on (:class:`~mobility.errors.MobilityError`: a
missing data folder, an invalid scenario, ...) are printed as ``error: ...`` with exit code 2 by
:func:`run_main`, without a traceback. :class:`ProgressLines` prints a line on stderr at each phase of a
long run, with the time since the start.

The scripts import this module (``from mobility.benchcli import ...``) both when run as
``python -m bench.X`` and as ``python bench/X.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from mobility.dates import iso_date as read_date
from mobility.errors import MobilityError
from mobility.io import can_create_dir

__all__ = [
    "ProgressLines",
    "existing_dir",
    "existing_file",
    "integer_range",
    "iso_date",
    "memory_size",
    "non_negative_float",
    "non_negative_int",
    "output_dir",
    "positive_float",
    "positive_int",
    "positive_int_list",
    "run_main",
    "scratch_dir",
    "share",
]


def _bad(text: str, expected: str) -> argparse.ArgumentTypeError:
    """The error ``argparse`` prints after ``argument --NAME:``: ``got TEXT; expected EXPECTED``."""
    return argparse.ArgumentTypeError(f"got {text}; expected {expected}")


def _number(text: str, expected: str, low: float, *, above: bool = False, high: float = math.inf) -> float:
    """``text`` as a finite number from ``low`` (excluded if ``above``) to ``high``."""
    try:
        value = float(text)
    except ValueError:
        raise _bad(text, expected) from None
    if not (math.isfinite(value) and (value > low if above else value >= low) and value <= high):
        raise _bad(text, expected)
    return value


def _integer(text: str, expected: str, low: int) -> int:
    """``text`` as an integer at least ``low``."""
    try:
        value = int(text)
    except ValueError:
        raise _bad(text, expected) from None
    if value < low:
        raise _bad(text, expected)
    return value


def positive_float(text: str) -> float:
    """A number of seconds, a radius, ...: a finite number above zero.

    Parameters
    ----------
    text
        The option's value as typed.

    Returns
    -------
    float
        The value.

    Raises
    ------
    argparse.ArgumentTypeError
        ``got TEXT; expected a number > 0``.
    """
    return _number(text, "a number > 0", 0.0, above=True)


def non_negative_float(text: str) -> float:
    """A finite number at least zero (``0`` usually meaning "off")."""
    return _number(text, "a number >= 0", 0.0)


def share(text: str) -> float:
    """A share of the whole, from 0 to 1."""
    return _number(text, "a number from 0 to 1", 0.0, high=1.0)


def positive_int(text: str) -> int:
    """A count that must be at least one (replications, workers, sources, ...)."""
    return _integer(text, "an integer > 0", 1)


def non_negative_int(text: str) -> int:
    """A count that may be zero (``0`` usually meaning "off")."""
    return _integer(text, "an integer >= 0", 0)


def positive_int_list(text: str) -> list[int]:
    """Comma-separated counts, each at least one, e.g. ``50,200``."""
    expected = "comma-separated integers > 0, e.g. 50,200"
    try:
        values = [int(x) for x in text.split(",")]
    except ValueError:
        raise _bad(text, expected) from None
    if not values or min(values) <= 0:
        raise _bad(text, expected)
    return values


def integer_range(text: str) -> list[int]:
    """``A:B:STEP`` (or ``A`` alone): the integers ``A, A+STEP, ... <= B``.

    Checked by :func:`mobility.placement.sweep.parse_range`, the rule of ``mobility plan --sweep``.
    """
    from mobility.placement.sweep import parse_range

    try:
        return [int(v) for v in parse_range(text, "range")]
    except MobilityError as exc:
        raise _bad(text, str(getattr(exc, "expected", exc))) from None


def _existing(text: str, kind: str) -> Path:
    """``text`` as the path of an existing ``kind`` (``"file"`` or ``"folder"``)."""
    path = Path(text)
    if path.is_dir() if kind == "folder" else path.is_file():
        return path
    what = ("a file" if kind == "folder" else "a folder") if path.exists() else f"no such {kind}"
    raise _bad(f"{text} ({what})", f"an existing {kind}")


def existing_file(text: str) -> Path:
    """An input file that must exist (a plan, a snapshot, a scenario, ...)."""
    return _existing(text, "file")


def existing_dir(text: str) -> Path:
    """An input folder that must exist (a data directory, ...)."""
    return _existing(text, "folder")


def output_dir(text: str) -> Path:
    """A folder to write into: it may not exist yet, but it must not be a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise _bad(f"{text} (a file)", "a folder to write into (new or existing), not a file")
    base = next((p for p in path.absolute().parents if p.exists()), None)
    if base is not None and not base.is_dir():
        raise _bad(f"{text} ({base} is a file)", "a folder to write into, not a file")
    if not can_create_dir(path):  # the check of every command's --out (mobility.cli)
        raise _bad(text, "a folder to write into that can be created (one you may write in)")
    return path


_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def memory_size(text: str) -> str:
    """A DuckDB memory size such as ``4GB``, ``512MB`` or ``1.5GiB`` (returned as typed)."""
    m = _MEMORY.match(text)
    if m is None or float(m.group(1)) <= 0:
        raise _bad(text, "a memory size > 0 with a unit, e.g. 512MB, 4GB or 1.5GiB")
    return text.strip()


def iso_date(text: str) -> str:
    """A calendar date written ``YYYY-MM-DD`` (:func:`mobility.dates.iso_date`; returned as typed)."""
    try:
        read_date(text)
    except ValueError:
        raise _bad(text, "a date YYYY-MM-DD, e.g. 2023-06-14") from None
    return text


def run_main(main: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None = None) -> None:
    """Run a benchmark's ``main(argv)``; a user error is one ``error: ...`` line and exit code 2.

    Parameters
    ----------
    main
        The script's entry point; it parses ``argv`` (``None``: the command line).
    argv
        The arguments (``None``: ``sys.argv[1:]``).

    Raises
    ------
    SystemExit
        Code 2 on a :class:`~mobility.errors.MobilityError` (bad input, missing data), after
        printing ``error: <message>`` on stderr; whatever ``main`` or ``argparse`` raised
        otherwise. Anything else is a bug and keeps its traceback.
    """
    try:
        main(argv)
    except MobilityError as exc:
        sys.stdout.flush()
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


class ProgressLines:
    """Progress lines on stderr, each with the seconds since the start: ``[  12.3 s] message``.

    Stdout keeps the benchmark's figures (and its last line of JSON); the lines go to stderr so
    a long run is never silent. A :class:`mobility.progress.Progress`: a step that says its share
    done gets it at the end of its line (``... (45 %)``).
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, message: str, /, done: float | None = None) -> None:
        """Print ``message`` with the elapsed time on stderr (flushed at once).

        Parameters
        ----------
        message
            What the benchmark is starting to do, e.g. ``"building the inputs"``.
        done
            The share of the work done, when the work says it.
        """
        share = "" if done is None else f" ({done:.0%})"
        print(f"[{time.perf_counter() - self.start:7.1f} s] {message}{share}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def scratch_dir(prefix: str, *, out: Path | None = None, keep: bool = False) -> Iterator[Path]:
    """The folder a benchmark writes its outputs (or its database) into.

    Parameters
    ----------
    prefix
        Name prefix of the temporary folder, e.g. ``"bench-export-"``.
    out
        A folder the user asked for (``--out``): created if needed, used and kept.
    keep
        Keep the temporary folder too (``--keep``); its path is printed on stderr.

    Yields
    ------
    Path
        ``out``, or a new temporary folder that is removed when the block ends (also on an error
        or Ctrl-C) unless ``keep``.
    """
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        yield out
        return
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield tmp
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
