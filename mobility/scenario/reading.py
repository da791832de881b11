"""Reading scenario files: YAML in, a validated pydantic model out, every error an InputError.

Shared by :mod:`mobility.scenario.expansion` and :mod:`mobility.scenario.nightly`, so that both
kinds of scenario report a missing file, bad YAML and invalid fields the same way, with the same
strict base model (unknown fields refused, instances frozen).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
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


TITLE_WORDS = {
    "min": "minimum", "max": "maximum", "10k": "10,000 residents", "id": "ID",
    "lat": "latitude", "lon": "longitude",
}  # fmt: skip
"""Words of field names that a title spells out."""
TITLE_UNITS = {"m": "m", "km": "km", "kph": "km/h", "kmh": "km/h", "s": "s", "seconds": "s"}
"""Unit suffixes of field names (``radius_m``), given in brackets by a title: ``(m)``."""


def field_title(name: str, _info: object = None) -> str:
    """The JSON Schema ``title`` of a field without one of its own, for people: its words in sentence
    case, abbreviations spelled out and a unit suffix in brackets (``radius_m`` -> "Radius (m)",
    ``bikes_per_10k`` -> "Bikes per 10,000 residents", ``min`` -> "Minimum"). Every form the web app
    builds from the OpenAPI document labels its fields with it; pydantic's own rule made "Radius M"
    and "Min M" of them.

    Examples
    --------
    >>> field_title("radius_m"), field_title("bikes_per_10k"), field_title("station_list_id")
    ('Radius (m)', 'Bikes per 10,000 residents', 'Station list ID')
    """
    words = [w for w in name.split("_") if w]
    unit = TITLE_UNITS.get(words[-1]) if len(words) > 1 else None
    if unit is not None:
        words.pop()
    text = " ".join(TITLE_WORDS.get(w, w) for w in words)
    return text[:1].upper() + text[1:] + (f" ({unit})" if unit else "")


class Strict(BaseModel):
    """A strict model: an unknown field is an error, an instance never changes. The base of
    :class:`Section` (every scenario section) and of the status snapshot's models. A field's
    schema title is :func:`field_title` of its name unless the field gives one."""

    model_config = ConfigDict(extra="forbid", frozen=True, field_title_generator=field_title)


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
    return {get_origin(a) or a for a in _alternatives(annotation)}


def _alternatives(annotation: object) -> list[object]:
    """The members of a field's type, through ``Annotated`` and unions (``list[int] | None`` ->
    ``[list[int], NoneType]``)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _alternatives(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [a for arg in get_args(annotation) for a in _alternatives(arg)]
    return [annotation]


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


def field_errors(exc: ValidationError, model: type[BaseModel] | None = None) -> InputError:
    """One :class:`InputError` for a validation failure: the first invalid field (dotted path),
    its value and what it expects, then every other invalid field with its own message. An unknown
    field of a section of ``model`` (the model validated) says which fields that section has."""
    errs = [with_fields(e, model) for e in exc.errors()]
    first = errs[0]
    field = field_path(first["loc"])
    others = [f"{field_path(e['loc'])}: {given_text(_value(e))}; expected {expected_of(e)}" for e in errs[1:]]
    expected = expected_of(first) + "".join(f"; also {o}" for o in others)
    return InputError(field, _value(first), expected)


def closest(word: object, choices: Iterable[str]) -> str | None:
    """The one of ``choices`` closest to ``word`` (:func:`difflib.get_close_matches`), or ``None``
    when none is close: what a misspelt name probably meant."""
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return close[0] if close else None


def with_fields(error: Any, model: type[BaseModel] | None) -> Any:
    """``error`` itself, or for an unknown field (pydantic's ``extra_forbidden``: "Extra inputs
    are not permitted") an error that says which fields its section takes, with the closest one:
    ``coverage.radious: got 5; expected one of the fields radius_m, network (no field 'radious';
    did you mean 'radius_m'?)``. ``error["loc"]`` is relative to ``model``; the CLI's scenario
    messages and the API's 422s both say it so."""
    if error.get("type") != "extra_forbidden" or not error.get("loc"):
        return error
    *where, key = error["loc"]
    section = _model_at(model, where) if model is not None else None
    if section is None:
        return error | {"msg": f"a known field (no field {key!r} here)"}
    names = list(section.model_fields)  # the current names, not the deprecated ones
    near = closest(key, names)
    hint = f"; did you mean {near!r}?" if near is not None else ""
    expected = f"one of the fields {', '.join(names)} (no field {key!r}{hint})"
    return error | {"ctx": {"shown": shown_value(error.get("input")), "expected": expected}}


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model of the section at ``loc`` below ``model`` (``("areas", "forbidden", 0)`` ->
    :class:`Polygon`), through optional, list, tuple and dict fields; ``None`` when the path does
    not lead to one model."""
    kinds: list[object] = [model]
    for part in loc:
        kinds = [inner for kind in kinds for a in _alternatives(kind) for inner in _inside(a, part)]
    models = {k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)}
    return models.pop() if len(models) == 1 else None


def _inside(kind: object, part: str | int) -> list[object]:
    """The types of what is at ``part`` (a field name, an index or a key) in a value of type ``kind``."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [info.annotation for name, info in kind.model_fields.items() if part in _keys_of(name, info)]
    origin, args = get_origin(kind), get_args(kind)
    if origin is tuple and isinstance(part, int) and args and args[-1] is not Ellipsis:
        return [args[part]] if part < len(args) else []
    if origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
        return [args[0]]
    if origin is dict and len(args) == 2:
        return [args[1]]
    return []


def error_input(error: Mapping[str, object]) -> object:
    """The value a validation error is about, as the caller gave it: nothing (``None``) for a
    missing field or a missing union tag (pydantic's input is then the section around it), the tag
    itself for an unknown one (``'file'``, not the ``{...}`` of its section), else pydantic's input."""
    if error.get("type") in ("missing", "union_tag_not_found"):
        return None
    ctx = error.get("ctx")
    if error.get("type") == "union_tag_invalid" and isinstance(ctx, Mapping) and "tag" in ctx:
        return ctx["tag"]
    return error.get("input")


def _value(error: Mapping[str, object]) -> object:
    """The value an error is about (:func:`error_input`), as a message quotes it (an object as
    ``{...}``; a missing field has none)."""
    value = error_input(error)
    return "{...}" if isinstance(value, dict) else value


PATTERN_WORDS: dict[str, str] = {
    r"^[0-9a-f]{32}$": "a 32-character hex id",  # a stored job or upload (api.schemas.StoredId)
    r"^\d+(\.\d+)?:\d+(\.\d+)?:\d+(\.\d+)?$": "FIRST:LAST:STEP (numbers, e.g. 300:800:100)",
    r"^\d+:\d+:\d+$": "FIRST:LAST:STEP (whole numbers, e.g. 20000:60000:5000)",
    r"^[A-Za-z0-9_-]+$": "letters, digits, '_' and '-' only",  # a station id
    r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$": "a clock time HH:MM (00:00 to 24:00)",
    r"^\d{4}-\d{2}-\d{2}T00:00:00$": "a day as YYYY-MM-DDT00:00:00",  # a station's start of service
}
"""Each field pattern of the project's models in words: a message never shows pydantic's
``String should match pattern '...'``. ``tests/scenario/test_plain_expected.py`` checks that
every pattern of the published and scenario schemas is here."""


def _validator_words(message: object, prefix: str) -> str:
    """A validator's own message as an expectation: without pydantic's ``prefix`` (``Value error,
    ``), and without the ``got <value>; expected`` the message may say the value with (the CLI's
    message and the API's 422 say the value once, before)."""
    text = str(message).removeprefix(prefix)
    if text.startswith(("got ", "missing; ")) and "; expected " in text:
        return text.partition("; expected ")[2]
    return text


def _count(n: object, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _tag_words(ctx: Mapping[str, Any]) -> str:
    tag = str(ctx["discriminator"]).strip("'\"")  # pydantic quotes it: "'kind'"
    return f"{tag} one of {ctx['expected_tags']}"


def _pattern_words(ctx: Mapping[str, Any]) -> str:
    return PATTERN_WORDS.get(str(ctx["pattern"]), f"text of the form {ctx['pattern']}")


_PLAIN: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: "a value",
    "union_tag_not_found": lambda ctx: "a value",
    "union_tag_invalid": _tag_words,
    "string_pattern_mismatch": _pattern_words,
    "value_error": lambda ctx: _validator_words(ctx["error"], "Value error, "),
    "assertion_error": lambda ctx: _validator_words(ctx["error"], "Assertion failed, "),
    "timezone_aware": lambda ctx: "a date-time with a time zone (e.g. 2030-01-01T00:00:00+09:00)",
    "timezone_naive": lambda ctx: "a date-time without a time zone",
    "too_long": lambda ctx: f"at most {_count(ctx['max_length'], 'item')}",
    "too_short": lambda ctx: f"at least {_count(ctx['min_length'], 'item')}",
    "string_too_long": lambda ctx: f"at most {_count(ctx['max_length'], 'character')}",
    "string_too_short": lambda ctx: f"at least {_count(ctx['min_length'], 'character')}",
    "model_attributes_type": lambda ctx: "an object (a mapping of fields)",
    "model_type": lambda ctx: "an object (a mapping of fields)",
    "tuple_type": lambda ctx: "a list",
    "date_future": lambda ctx: "a date in the future",
    "date_past": lambda ctx: "a date in the past",
    "datetime_future": lambda ctx: "a time in the future",
    "datetime_past": lambda ctx: "a time in the past",
}
"""Pydantic's error types in the project's words, made from the error's ``ctx`` (:func:`expected_of`)."""


def expected_of(error: Mapping[str, object]) -> str:
    """What a pydantic validation error expects, in plain words, as the CLI's messages and the
    API's 422s both say it: the project's own words (:func:`problem`, :func:`with_fields`); else
    the words of its ``type`` from its ``ctx`` (:data:`_PLAIN`: ``a 32-character hex id``, ``at
    most 5000 items``, ``kind one of 'vintage', 'plan', 'station_list'``, a validator's own
    message); else pydantic's message in :func:`plain_words` (``greater than or equal to 1``,
    ``'json', 'geojson' or 'csv'``)."""
    ctx = error.get("ctx") or {}
    if not isinstance(ctx, Mapping):
        ctx = {}
    if "shown" in ctx and "expected" in ctx:
        return str(ctx["expected"])
    plain = _PLAIN.get(str(error.get("type")))
    if plain is not None:
        with contextlib.suppress(KeyError):  # a ctx without its type's keys: pydantic's message
            return plain(ctx)
    return plain_words(str(error.get("msg", "a valid value")))


def plain_words(message: str) -> str:
    """A pydantic message as an expectation, where its error type is not known (a library's
    :class:`~mobility.errors.InputError` made from one): without ``Value error, `` (and the value
    the validator's message says, :func:`_validator_words`) and ``Input should be`` (``a valid
    integer, unable to parse string as an integer``)."""
    return _validator_words(message, "Value error, ").removeprefix("Input should be ")


def validated(model: type[M], data: object, expected: str, context: dict[str, object] | None = None) -> M:
    """``data`` validated as ``model`` (with the validation ``context``, if any); ``expected`` says
    what the root must be when it is not a mapping. A scenario of the other kind (a nightly one
    where an expansion is expected, or the reverse) is said to be one, naming its command."""
    if data is None:
        raise InputError("(root)", None, f"{expected} (the file is empty, or holds only comments)")
    if not isinstance(data, dict):
        raise InputError("(root)", type(data).__name__, expected)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        check_kind(model, data)
        raise field_errors(exc, model) from exc


def _scenario_kinds() -> dict[type[BaseModel], tuple[str, str]]:
    """The two kinds of scenario document: model -> (what it is, the command that runs it)."""
    from mobility.scenario.expansion import ExpansionScenario
    from mobility.scenario.nightly import NightlyScenario

    return {
        ExpansionScenario: ("an expansion scenario", "mobility plan"),
        NightlyScenario: ("a nightly rebalancing scenario", "mobility rebalance"),
    }


def _top_keys(model: type[BaseModel]) -> set[str]:
    """The top-level keys ``model`` reads (field names and their old names)."""
    return {k for name, info in model.model_fields.items() for k in _keys_of(name, info)}


def check_kind(model: type[BaseModel], data: Mapping[object, object]) -> None:
    """Nothing when ``data`` may be a document of ``model``'s kind; an :class:`InputError` at
    ``(root)`` when its top-level keys are all another kind's or shared (no key only ``model``
    has, one at least only the other has): a nightly scenario given to ``mobility plan`` is said
    to be one, to run with ``mobility rebalance``, not refused field by field."""
    kinds = _scenario_kinds()
    mine = next((k for k in kinds if issubclass(model, k)), None)
    if mine is None:
        return
    keys = {k for k in data if isinstance(k, str)}
    for other, (what, command) in kinds.items():
        if other is mine:
            continue
        theirs = sorted(keys & (_top_keys(other) - _top_keys(model)), key=list(data).index)
        if theirs and not keys & (_top_keys(model) - _top_keys(other)):
            required = [n for n, info in model.model_fields.items() if info.is_required()]
            expected = (
                f"{kinds[mine][0]} (a mapping with {', '.join(required)}, ...); "
                f"these are the fields of {what}: run it with `{command}`"
            )
            raise InputError("(root)", theirs, expected)
