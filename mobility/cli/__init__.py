"""The ``mobility`` command line: a thin layer over the library.

Each command group lives in its own module and registers itself on :data:`app`. Every module is
imported here: a broken one fails the command line loudly.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from mobility import __version__
from mobility.cli import (
    backtest,
    bench,
    data,
    demand,
    export,
    network,
    plan,
    rebalance,
    serve,
    simulate,
)
from mobility.cli.common import err_console, print_error, routed_warnings
from mobility.errors import InputError, MobilityError, field_path, shown_value
from mobility.scenario.reading import expected_of

app = typer.Typer(
    name="mobility",
    help="Seoul bike-share (따릉이) optimizer: data, street network, demand, expansion plans, "
    "nightly rebalancing, maps and the HTTP service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Command modules, in the order of the data flow. Each defines ``register(app)``.
COMMAND_MODULES = (data, network, demand, plan, backtest, rebalance, simulate, export, bench, serve)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mobility {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Seoul bike-share (따릉이) optimizer."""


for _module in COMMAND_MODULES:
    _module.register(app)


def format_validation_error(exc: ValidationError) -> str:
    """One line per invalid field: ``field: problem (got value)``."""
    lines = []
    for e in exc.errors():
        loc = field_path(e["loc"])
        got = f" (got {shown_value(e['input'])})" if "input" in e and e["type"] != "missing" else ""
        lines.append(f"  {loc}: expected {expected_of(e)}{got}")
    return f"invalid {exc.title}:\n" + "\n".join(lines)


RANGE_ERRORS = frozenset({"greater_than_equal", "greater_than", "less_than_equal", "less_than"})
"""pydantic's error types of a number outside an option's ``min=`` / ``max=`` (typer checks them so)."""


def _option_name(param: object) -> str:
    """How a message names a command-line parameter: an option by its long name as declared
    (``--time-limit``, not ``-t``), an argument by its name."""
    opts = [str(o) for o in getattr(param, "opts", ())]
    long = [o for o in opts if o.startswith("--")]
    return (long or opts or [str(getattr(param, "name", "option"))])[0]


def _as_typed(text: object) -> object:
    """A number given on the command line as the number it spells (``0``, ``-1``, ``0.05``), so that
    a message quotes it as typed; anything else unchanged."""
    if isinstance(text, str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
    return text


def range_error(exc: BaseException) -> InputError | None:
    """The project's message for an option's value outside its range (typer's ``min=`` /
    ``max=``: a click ``BadParameter`` raised from pydantic's error), ``None`` for any other
    error: ``--time-limit: got 0; expected greater than or equal to 0.1``, the words of every
    other bad value (:func:`~mobility.scenario.reading.expected_of`), without click's usage banner."""
    cause = exc.__cause__
    if type(exc).__name__ != "BadParameter" or not isinstance(cause, ValidationError):
        return None
    errors = cause.errors()
    if len(errors) != 1 or errors[0]["type"] not in RANGE_ERRORS:
        return None
    error = errors[0]
    option = _option_name(getattr(exc, "param", None))
    return InputError(option, _as_typed(error["input"]), expected_of(error))


def main() -> None:
    """Entry point: run the app, turning user errors into a message and exit code 2 (1 for a
    solver that ran and found nothing, :class:`~mobility.cli.common.SolveFailedError`)."""
    try:
        with routed_warnings():  # for this run only: the caller's warning handling is back after
            result = app(standalone_mode=False)
    except MobilityError as exc:
        print_error(exc)
        sys.exit(getattr(exc, "exit_code", 2))
    except ValidationError as exc:
        print_error(format_validation_error(exc))
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors arrive here in non-standalone mode
        import click

        out_of_range = range_error(exc)  # a value outside an option's min/max: named as any bad value
        if out_of_range is not None:
            print_error(out_of_range)
            sys.exit(2)

        # click's own exceptions, or those of the click that typer bundles (typer._click), which
        # are not subclasses of click's: both have show() and exit_code (2 for a usage error)
        usage = isinstance(exc, click.ClickException) or type(exc).__module__.startswith("typer._click")
        if usage and hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(result, int):  # click returns the exit code of ctx.exit() here
        sys.exit(result)
