"""Parsing the project's own source in tests, safe from a CPython 3.11.7 bug.

CPython 3.11.7's AST converter keeps its recursion counter per interpreter, not per thread
(python/cpython#106905, fixed in 3.11.8). When a background thread parses source at the same
moment (3.11's traceback module parses the failing line to place its ``^^^`` marks, and a Dask
client's threads log tracebacks while a test cluster shuts down), ``ast.parse`` in the test's own
thread fails with "SystemError: AST constructor recursion depth mismatch": two tests failed so in
a CI rehearsal on 2026-12-06. The parse is then tried again: the counter is right once the other
thread's parse has ended.
"""

from __future__ import annotations

import ast
import time

ATTEMPTS = 5


def parse_source(text: str) -> ast.Module:
    """:func:`ast.parse` of ``text``, tried again on the cross-thread ``SystemError`` (only that one)."""
    for attempt in range(ATTEMPTS):
        try:
            return ast.parse(text)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover
