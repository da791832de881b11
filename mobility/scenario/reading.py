"""Reading scenario files: YAML in, a validated pydantic model out, every error an InputError.

Shared by :mod:`mobility.scenario.expansion` and :mod:`mobility.scenario.nightly`, so that both
kinds of scenario report a missing file, bad YAML and invalid fields the same way, with the same
strict base model (unknown fields refused, instances frozen).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

from mobility.errors import InputError, field_path, given_text, shown_value

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """A strict model: an unknown field is an error, an instance never changes. The base of
    :class:`Section` (every scenario section) and of the status snapshot's models."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(Strict):
    """Base of every section of a scenario (and of an API request): :class:`Strict`, and every
    number finite and a number. YAML's ``.nan`` / ``.inf`` (JSON's ``NaN`` / ``Infinity``) is
    refused as ``got nan; expected Input should be a finite number``, whatever the field's range:
    a bound such as ``le=2000`` alone lets ``.inf`` through to a solver and says "less than" of a
    NaN. ``true`` / ``false`` where a number is expected (pydantic reads them as 1 and 0, so
    ``total_bikes: true`` planned a fleet of one bike) is refused as ``got true; expected a number,
    not true/false``; a field that takes a bool as well keeps it."""

    model_config = ConfigDict(allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_as_number(cls, data: object) -> object:
        if not isinstance(data, Mapping):
            return data
        details = [
            InitErrorDetails(
                type=problem("bool_as_number", data[key], "a number, not true/false"),
                loc=(key,),
                input=data[key],
            )
            for key in _number_keys(cls)
            if isinstance(data.get(key), bool)
        ]
        if details:
            raise ValidationError.from_exception_data(cls.__name__, details)
        return data


@functools.cache
def _number_keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys of ``model``'s fields that take numbers and not bools, worked out once per model
    (a list of 10,000 stations is validated one model at a time)."""
    return tuple(
        key
        for name, info in model.model_fields.items()
        if _numbers_only(info.annotation)
        for key in _keys_of(name, info)
    )


def _keys_of(name: str, info: FieldInfo) -> list[str]:
    """The keys a field is read from: its name and its validation aliases (a renamed field's old name)."""
    alias = info.validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
    return [name, *(c for c in choices if isinstance(c, str) and c != name)]


def _numbers_only(annotation: object) -> bool:
    """Whether a field takes numbers and not bools (``int | None`` does, ``bool`` and ``str`` do not)."""
    kinds = _leaf_types(annotation)
    return bool(kinds & {int, float}) and bool not in kinds


def _leaf_types(annotation: object) -> set[object]:
    """The types a field's value may be, through ``Annotated`` and unions (``int | None`` ->
    ``{int, NoneType}``; ``list[int]`` -> ``{list}``: a list is not a number)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _leaf_types(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return set().union(*(_leaf_types(a) for a in get_args(annotation)))
    return {annotation if origin is None else origin}


MAX_SEED = 2**31 - 1
"""Largest random seed: the solvers' seeds are 32-bit signed integers (HiGHS ``random_seed``)."""
MAX_TIME_LIMIT = 86400.0
"""Longest solver time a scenario or an API run may ask for: a day."""


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
    cut to 80 characters; ``true``/``false`` as YAML and JSON write them), or ``missing; expected
    <expected>`` when there is none (``None``), as :class:`~mobility.errors.InputError` says it;
    :func:`field_errors` reads the expectation back."""
    shown = shown_value(value) if isinstance(value, bool) else repr(value)
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


def calendar_date(value: object) -> object:
    """``value`` as a :class:`datetime.date` when it is a real date ``YYYY-MM-DD`` (a string, or
    a date YAML read from an unquoted one); anything else (``2022-02-30``, ``20220101``, a
    timestamp) is a ``date`` validation error (:func:`problem`). ``None`` (no date) is kept. The
    ``BeforeValidator`` of every date a scenario gives (``night.date``, ``simulation.day``)."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        from mobility.dates import iso_date  # pandas: loaded only when a date is read

        try:
            return iso_date(value)
        except ValueError:
            pass
    raise problem("date", value, "a real calendar date YYYY-MM-DD, e.g. '2022-01-01'")


def first_repeat(keys: Iterable[Hashable]) -> tuple[int, int] | None:
    """``(i, j)`` for the first key that appears again: first at ``i``, again at ``j``; ``None``
    when all keys differ."""
    seen: dict[Hashable, int] = {}
    for j, key in enumerate(keys):
        if key in seen:
            return seen[key], j
        seen[key] = j
    return None


def check_distinct(
    keys: Sequence[Hashable], field: str, kind: str, expected: Callable[[Hashable, int, int], str]
) -> None:
    """A ``kind`` validation error at ``(i, field)`` below the list being validated (call it from
    the list's field validator) for the second of two items with the same key ``keys[i]``;
    ``expected(key, first, i)`` says what is expected (``first``: where the key is first)."""
    repeat = first_repeat(keys)
    if repeat is not None:
        first, i = repeat
        raise located((i, field), problem(kind, keys[i], expected(keys[i], first, i)), keys[i])


def check_distinct_ids(ids: Sequence[Hashable], noun: str) -> None:
    """:func:`check_distinct` for items with an ``id``: ``depots.1.id: got 'NW'; expected unique
    depot ids ('NW' is also depots[0])``; a nightly scenario's depots and an API run's depots and
    trucks are checked by it alike."""
    check_distinct(
        ids,
        "id",
        f"duplicate_{noun}",
        lambda key, first, _: f"unique {noun} ids ({key!r} is also {noun}s[{first}])",
    )


def check_exactly_one(model: BaseModel, fields: Sequence[str], kind: str, expected: str) -> None:
    """A ``kind`` validation error at ``model`` (call it from its ``after`` model validator) unless
    exactly one of ``fields`` is given (not ``None``): ``got ['stations', 'station_records'];
    expected <expected>``, ``got []`` when none is."""
    given = [f for f in fields if getattr(model, f) is not None]
    if len(given) != 1:
        raise located((), problem(kind, given, expected), given)


def check_depot_refs(depots: Sequence[str], ids: Sequence[str]) -> None:
    """An ``unknown_depot`` validation error at ``(i, "depot")`` below the list of trucks (or truck
    groups) being validated, for the first whose ``depot`` is not one of the depot ``ids``."""
    for i, depot in enumerate(depots):
        if depot not in ids:
            expected = f"the id of one of the depots {list(ids)} ({depot!r} is not one of the depots)"
            raise located((i, "depot"), problem("unknown_depot", depot, expected), depot)


def or_none(handler: ValidatorFunctionWrapHandler, value: object) -> Any:
    """``handler(value)`` (a wrap validator's handler), or ``None`` when the type refuses the
    value: the validator then says why once, not once per member of a union."""
    try:
        return handler(value)
    except ValidationError:
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
    others = [f"{field_path(e['loc'])}: {given_text(_value(e))}; expected {expected_of(e)}" for e in errs[1:]]
    expected = expected_of(first) + "".join(f"; also {o}" for o in others)
    return InputError(field, _value(first), expected)


def _value(error: Mapping[str, object]) -> object:
    """The value an error is about, as a message quotes it (an object as ``{...}``; a missing
    field has none)."""
    if error.get("type") == "missing":
        return None
    value = error.get("input")
    return "{...}" if isinstance(value, dict) else value


def expected_of(error: Mapping[str, object]) -> str:
    """What a pydantic validation error expects, as the CLI's messages and the API's 422s both say
    it: the project's own words (:func:`problem`), else pydantic's message without its ``Input
    should be`` (``expected a valid integer``, not ``expected Input should be a valid integer``)."""
    ctx = error.get("ctx") or {}
    if isinstance(ctx, Mapping) and "shown" in ctx and "expected" in ctx:
        return str(ctx["expected"])
    if error.get("type") == "missing":
        return "a value"
    return str(error["msg"]).removeprefix("Input should be ")


def validated(model: type[M], data: object, expected: str, context: dict[str, object] | None = None) -> M:
    """``data`` validated as ``model`` (with the validation ``context``, if any); ``expected`` says
    what the root must be when it is not a mapping."""
    if not isinstance(data, dict):
        raise InputError("(root)", type(data).__name__, expected)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise field_errors(exc) from exc
