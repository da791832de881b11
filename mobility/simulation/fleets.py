"""The fleet sizes of a sweep (``mobility simulate sweep --fleet``, the API's ``fleet``), read once."""

from __future__ import annotations

from mobility.errors import InputError

__all__ = ["parse_fleet"]


def parse_fleet(text: str) -> list[int]:
    """``A:B:STEP`` (inclusive) or a comma list -> fleet sizes.

    Raises
    ------
    InputError
        Naming ``--fleet``, the text and the accepted forms.
    """
    try:
        if ":" in text:
            a, b, step = (int(x) for x in text.split(":"))
            if step <= 0 or a < 0 or b < a:
                raise ValueError
            return list(range(a, b + 1, step))
        vals = [int(x) for x in text.split(",") if x.strip()]
        if not vals or min(vals) < 0:
            raise ValueError
        return vals
    except ValueError as exc:
        raise InputError("--fleet", text, "A:B:STEP with 0 <= A <= B and STEP > 0, or a comma list") from exc
