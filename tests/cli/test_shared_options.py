"""An option that means the same in several commands is declared once (``mobility.cli.common``, or
the command group's module) and reads the same in each; every option still shows in ``--help``."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from mobility.cli import app
from mobility.cli.common import STATUS_FILES, MapsOption


def _command(*path: str) -> Any:
    """The click command of ``mobility PATH`` (typer's own click: no ``click`` classes to check)."""
    cmd: Any = get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def _options(path: tuple[str, ...]) -> list[Any]:
    return [p for p in _command(*path).params if p.param_type_name == "option"]


def _option(path: tuple[str, ...], flag: str) -> Any:
    return next(p for p in _options(path) if flag in p.opts + p.secondary_opts)


def _declared(alias: Any) -> Any:
    """The ``typer.Option`` of an ``Annotated`` alias."""
    return next(m for m in alias.__metadata__ if isinstance(m, typer.models.OptionInfo))


@pytest.mark.parametrize(
    ("flag", "commands"),
    [
        ("--maps", [("plan", "run"), ("rebalance",)]),
        ("--day-type", [("demand", "profile"), ("demand", "targets")]),
        ("--baseline", [("bench", "brp"), ("bench", "pdtsp")]),
        ("--single-route", [("bench", "brp"), ("bench", "pdtsp")]),
    ],
)
def test_a_shared_option_reads_the_same_in_every_command(flag: str, commands: list[tuple[str, ...]]) -> None:
    seen = {
        (o.help, tuple(o.opts), tuple(o.secondary_opts), o.default)
        for o in (_option(c, flag) for c in commands)
    }
    assert len(seen) == 1, seen


def test_maps_is_the_common_declaration() -> None:
    """``--maps`` of ``plan`` said DIR/map.html (a DIR no option names), ``rebalance``'s 'into --out'."""
    declared = _declared(MapsOption)
    for path in (("plan", "run"), ("rebalance",)):
        opt = _option(path, "--maps")
        assert (opt.help, opt.secondary_opts, opt.default) == (declared.help, ["--no-maps"], True)


def test_day_type_says_weekends_include_holidays_in_both_commands() -> None:
    for path in (("demand", "profile"), ("demand", "targets")):
        assert _option(path, "--day-type").help == "weekday or weekend (weekends and Korean holidays)."


def test_status_says_the_same_files_everywhere() -> None:
    """The three ``--status`` options mean different things (the night to plan, a day's start
    inventory, the night a map is drawn over) but take the same files, said one way."""
    for path in (("rebalance",), ("simulate",), ("export",)):
        assert STATUS_FILES in (_option(path, "--status").help or "")


@pytest.mark.parametrize(
    "path",
    [
        ("plan", "run"),
        ("rebalance",),
        ("simulate",),
        ("export",),
        ("demand", "profile"),
        ("demand", "targets"),
        ("bench", "brp"),
        ("bench", "pdtsp"),
    ],
)
def test_help_still_lists_every_option(path: tuple[str, ...]) -> None:
    r = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    flags = [f for p in _options(path) for f in p.opts + p.secondary_opts]
    assert flags and [f for f in flags if f.startswith("--") and f not in r.stdout] == []
