"""The fleet sizes of a sweep (``mobility simulate sweep --fleet``, the API's ``fleet``), read once."""

from __future__ import annotations

from typing import Final

from mobility.errors import InputError

__all__ = ["MAX_FLEET_POINTS", "parse_fleet"]

MAX_FLEET_POINTS: Final = 25
"""At most this many fleet sizes in one sweep (each is a full simulation of the day)."""

_RANGE = "A:B:STEP with 0 <= A <= B and STEP > 0"
_FORMS = f"{_RANGE}, or a comma list"


def _count(text: str, field: str) -> tuple[int, int, int]:
    """``(first, step, n)`` of ``A:B:STEP``, ``n`` counted without listing the sizes."""
    try:
        first, last, step = (int(x) for x in text.split(":"))
    except ValueError as exc:
        raise InputError(field, text, _RANGE) from exc
    if step <= 0 or first < 0 or last < first:
        raise InputError(field, text, _RANGE)
    return first, step, (last - first) // step + 1


def _check_points(text: str, field: str, n: int) -> None:
    if n > MAX_FLEET_POINTS:
        most = MAX_FLEET_POINTS
        raise InputError(field, text, f"at most {most} fleet sizes (it has {n}: more than {most} points)")


def parse_fleet(text: str, *, field: str = "--fleet") -> list[int]:
    """``A:B:STEP`` (inclusive) or a comma list -> fleet sizes, at most :data:`MAX_FLEET_POINTS`.

    A range is counted before its sizes are listed (``0:9999999999:1`` is refused at once, not
    after building ten billion numbers).

    Parameters
    ----------
    text
        The caller's value.
    field
        How errors name it: ``--fleet`` (the CLI), ``fleet`` (the API).

    Raises
    ------
    InputError
        Naming ``field``, the text and the accepted forms, or the number of sizes and the limit.
    """
    if ":" in text:
        first, step, n = _count(text, field)
        _check_points(text, field, n)
        return list(range(first, first + n * step, step))
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise InputError(field, text, _FORMS) from exc
    if not sizes or min(sizes) < 0:
        raise InputError(field, text, _FORMS)
    _check_points(text, field, len(sizes))
    return sizes
