"""The generated schemas of the written documents say that every key is there.

The writers (``model_dump``, ``dataclasses.asdict``) emit every field, defaulted ones included, so
a schema that leaves ``provenance.seed`` or ``solver.gap`` optional tells a reader something
untrue; and a writer that starts leaving a key out must fail the validation tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest

from mobility.placement.backtest import Backtest
from mobility.placement.plan import plan_json_schema
from mobility.placement.sweep import Sweep
from mobility.rebalancing.plan import routes_json_schema
from mobility.rebalancing.snapshot import snapshot_json_schema
from mobility.schema import DRAFT
from mobility.simulation.morning import morning_json_schema
from mobility.simulation.result import simulation_json_schema
from mobility.simulation.sweep import sweep_json_schema

SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "plan.json": plan_json_schema,
    "routes.json": routes_json_schema,
    "snapshot": snapshot_json_schema,
    "simulation.json": simulation_json_schema,
    "morning.json": morning_json_schema,
    "fleet sweep.json": sweep_json_schema,
    "plan sweep.json": Sweep.json_schema,
    "backtest.json": Backtest.json_schema,
}


def _objects(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "<root>", schema
    yield from schema.get("$defs", {}).items()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_written_key_is_required(name: str) -> None:
    schema = SCHEMAS[name]()
    optional = {
        where: sorted(set(obj["properties"]) - set(obj.get("required", [])))
        for where, obj in _objects(schema)
        if "properties" in obj
    }
    assert {where: keys for where, keys in optional.items() if keys} == {}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_each_schema_is_a_standalone_draft_2020_12_document(name: str) -> None:
    schema = SCHEMAS[name]()
    assert schema["$schema"] == DRAFT
    assert schema["title"]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_a_plan_without_its_seed_is_refused() -> None:
    schema = plan_json_schema()
    provenance = schema["$defs"]["Provenance"]
    assert "seed" in provenance["required"]
    assert "gap" in schema["$defs"]["SolverStats"]["required"]
