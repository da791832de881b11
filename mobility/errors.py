"""Errors that reach a user: each names what is wrong, with which value, and what is expected.

The CLI turns :class:`MobilityError` into a one-line message and exit code 2; the API turns
:class:`InputError` into a 422 response. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path


class MobilityError(Exception):
    """Base class of every error a user can act on (bad input, missing data, infeasible model)."""


class DataNotFoundError(MobilityError):
    """No data directory (or a required dataset in it) was found.

    Parameters
    ----------
    what
        The dataset or folder that was looked for.
    looked_in
        Every place that was tried, in order.
    hint
        How to get the data.
    """

    def __init__(self, what: str, looked_in: list[Path] | list[str], hint: str) -> None:
        self.what = what
        self.looked_in = [str(p) for p in looked_in]
        self.hint = hint
        places = "\n".join(f"  - {p}" for p in self.looked_in)
        super().__init__(f"{what} not found. Looked in:\n{places}\n{hint}")


class DataFileError(MobilityError):
    """A file exists but cannot be read at all (encoding, missing columns, not a table)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class InputError(MobilityError):
    """A value given by a user (scenario field, CLI option, API body) is not acceptable.

    Parameters
    ----------
    field
        Dotted name of the field, e.g. ``"fleet.bikes_per_10k"``.
    value
        The value that was given; ``None`` when none was (the message then says "missing",
        not "got None").
    expected
        What would have been accepted.
    """

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        shown = str(value).lower() if isinstance(value, bool) else repr(value)  # true, as typed
        given = "missing" if value is None else f"got {shown}"
        super().__init__(f"{field}: {given}; expected {expected}")


class InfeasibleError(MobilityError):
    """An optimization model has no solution; ``binding`` names the constraint(s) that cannot hold."""

    def __init__(self, message: str, binding: list[str] | None = None) -> None:
        self.binding = binding or []
        super().__init__(message)


class StopRequested(Exception):  # noqa: N818  (a request, not a fault)
    """A run was asked to stop (e.g. an API job was cancelled) before it finished.

    Not a :class:`MobilityError`: nothing about the input is wrong. ``step`` names the step that
    was about to start.
    """

    def __init__(self, step: str) -> None:
        self.step = step
        super().__init__(f"stopped on request before: {step}")


def field_path(loc: Sequence[str | int]) -> str:
    """The dotted path of a validation error's location (pydantic's ``loc``): ``solver.time_limit``,
    ``trucks.0.capacity``; ``(root)`` for the document itself."""
    return ".".join(str(p) for p in loc) or "(root)"


SHOWN_CHARS = 60
"""Characters of a refused value an error message quotes (a longer one is cut, with ``...``)."""


def shown_value(value: object) -> str:
    """A refused value as an error message quotes it: ``{...}`` for an object, ``[...] (N items)``
    for a list, ``true``/``false`` for a bool (as the YAML or JSON it came from wrote it), anything
    else as ``repr`` cut to :data:`SHOWN_CHARS` characters (the CLI's and the API's validation
    messages alike: a long value never floods a message)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list | tuple):
        return f"[...] ({len(value)} items)"
    return cut_text(repr(value))


def given_text(value: object) -> str:
    """How a message says what was sent: ``missing`` for nothing (``None``), else ``got`` and the
    value as :func:`shown_value` quotes it."""
    return "missing" if value is None else f"got {shown_value(value)}"


def cut_text(text: str) -> str:
    """``text`` cut to :data:`SHOWN_CHARS` characters, ``...`` at the end when cut: how a message
    quotes a value or a key that came from the caller."""
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


@contextlib.contextmanager
def given_as(field: str, *, argument: str) -> Iterator[None]:
    """An :class:`InputError` about a library function's ``argument`` (``source``) raised inside the
    block is re-raised about the ``field`` the user gave it in (``coverage.network``), with the same
    value and expectation; any other error passes unchanged."""
    try:
        yield
    except InputError as exc:
        if exc.field != argument:
            raise
        raise InputError(field, exc.value, exc.expected) from exc
