"""The test helpers' parse is tried again only on CPython 3.11.7's cross-thread AST error."""

from __future__ import annotations

import ast

import pytest

from tests import ast_support


def test_the_cross_thread_error_is_tried_again_and_others_are_not(monkeypatch: pytest.MonkeyPatch) -> None:
    real, calls = ast.parse, []

    def flaky(text: str) -> ast.Module:
        calls.append(text)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=147, after=88)")
        return real(text)

    monkeypatch.setattr(ast, "parse", flaky)  # the module ast_support parses with
    assert isinstance(ast_support.parse_source("x = 1").body[0], ast.Assign) and len(calls) == 2

    def broken(text: str) -> ast.Module:
        raise SystemError("something else")

    monkeypatch.setattr(ast, "parse", broken)
    with pytest.raises(SystemError, match="something else"):
        ast_support.parse_source("x = 1")
