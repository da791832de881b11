"""Reading scenario files: YAML in, a validated pydantic model out, every error an InputError.

Shared by :mod:`mobility.scenario.expansion` and :mod:`mobility.scenario.nightly`, so that both
kinds of scenario report a missing file, bad YAML and invalid fields the same way, with the same
strict base model (unknown fields refused, instances frozen).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from mobility.errors import InputError, field_path

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every scenario section: an unknown field is an error, an instance never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def renamed(new: str, old: str) -> AliasChoices:
    """The ``validation_alias`` of a field renamed from ``old`` to ``new``: both are read (the
    old one with a warning, :func:`warn_renamed`), only ``new`` is written and documented."""
    return AliasChoices(new, old)


def warn_renamed(data: object, renames: Mapping[str, str], where: str) -> object:
    """``data`` unchanged; a :class:`DeprecationWarning` for each old field name (``renames``:
    old -> new) it still uses. Call it from a ``model_validator(mode="before")``."""
    if isinstance(data, Mapping):
        for old, new in renames.items():
            if old in data:
                message = f"{where}.{old} is deprecated; call it {new} (same value)"
                warnings.warn(message, DeprecationWarning, stacklevel=2)
    return data


def problem(kind: str, value: object, expected: str) -> PydanticCustomError:
    """A validation error of type ``kind``: ``got <value>; expected <expected>`` (the value quoted,
    cut to 80 characters), or ``missing; expected <expected>`` when there is none (``None``), as
    :class:`~mobility.errors.InputError` says it; :func:`field_errors` reads the expectation back."""
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    given = "missing" if value is None else f"got {shown}"
    return PydanticCustomError(
        kind, "{given}; expected {expected}", {"given": given, "shown": shown, "expected": expected}
    )


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F), tab and NUL included."""


def printable_name(v: str) -> str:
    """``v`` if it is one line of printable text; a name with a control character
    (:data:`CONTROL_CHARACTERS`, a NUL or a line break among them) is a ``control_character``
    validation error (:func:`problem`). The validator of every station name (an uploaded list's,
    a status snapshot's), wherever the name comes from."""
    if CONTROL_CHARACTERS.search(v):
        raise problem(
            "control_character", v, "a name without control characters (U+0000-U+001F, U+007F-U+009F)"
        )
    return v


def located(loc: tuple[str | int, ...], error: PydanticCustomError, value: object) -> ValidationError:
    """``error`` (about ``value``) at ``loc`` below the field or model a validator checks, to raise
    from that validator: pydantic puts the validator's own location in front, so that the error
    names the offending element (``fleet.trucks.1.id``), not the list or the model around it."""
    return ValidationError.from_exception_data(
        "located", [InitErrorDetails(type=error, loc=loc, input=value)]
    )


def first_repeat(keys: Iterable[Hashable]) -> tuple[int, int] | None:
    """``(i, j)`` for the first key that appears again: first at ``i``, again at ``j``; ``None``
    when all keys differ."""
    seen: dict[Hashable, int] = {}
    for j, key in enumerate(keys):
        if key in seen:
            return seen[key], j
        seen[key] = j
    return None


def read_yaml(path: Path | str) -> object:
    """The parsed YAML document of ``path``.

    Raises
    ------
    InputError
        The file does not exist or is not valid YAML (field ``scenario``).
    """
    p = Path(path)
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("scenario", str(p), "an existing YAML file") from exc
    except yaml.YAMLError as exc:
        raise InputError("scenario", str(p), f"valid YAML ({exc})") from exc


def field_errors(exc: ValidationError) -> InputError:
    """One :class:`InputError` for a validation failure: the first invalid field (dotted path),
    its value and what it expects, then every other invalid field with its own message."""
    errs = exc.errors()
    first = errs[0]
    field = field_path(first["loc"])
    value = first.get("input")
    ctx = first.get("ctx") or {}
    said = ctx["expected"] if "shown" in ctx and "expected" in ctx else first["msg"]  # see problem()
    others = [f"{field_path(e['loc'])}: {e['msg']}" for e in errs[1:]]
    expected = str(said) + "".join(f"; also {o}" for o in others)
    return InputError(field, "{...}" if isinstance(value, dict) else value, expected)


def validated(model: type[M], data: object, expected: str) -> M:
    """``data`` validated as ``model``; ``expected`` says what the root must be when it is not a mapping."""
    if not isinstance(data, dict):
        raise InputError("(root)", type(data).__name__, expected)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise field_errors(exc) from exc
