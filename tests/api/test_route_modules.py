"""How the route modules depend on each other: shared helpers live in :mod:`api.routes.common`."""

from __future__ import annotations

import ast
import inspect

import api.routes.common
import api.routes.rebalancing
import api.routes.simulations
from tests.ast_support import parse_source


def _imported_modules(module: object) -> set[str]:
    tree = parse_source(inspect.getsource(module))  # type: ignore[arg-type]
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_stored_inputs_are_resolved_by_common_for_every_job_kind() -> None:
    # vars(): the name is imported there, not re-exported, so mypy rightly refuses the attribute
    assert vars(api.routes.rebalancing)["stored_input"] is api.routes.common.stored_input
    assert vars(api.routes.simulations)["stored_input"] is api.routes.common.stored_input
    assert "api.routes.simulations" not in _imported_modules(api.routes.rebalancing)
