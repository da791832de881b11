"""Shared layers for the export tests: the real current network (2,799 stations, 25 gu), a
synthetic plan over it (Plan schema 1) and synthetic routes (RebalancingPlan schema), built once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mobility.export.layers import (
    MapLayers,
    layers_from_network,
    layers_from_plan,
    layers_from_routes,
)
from mobility.export.synthetic import synthetic_plan, synthetic_routes

N_STATIONS_2025_12 = 2799
N_GU = 25


@pytest.fixture(scope="session")
def current_layers(data_dir: Path) -> MapLayers:
    """The current network with the Han river basemap."""
    return layers_from_network(data_dir)


@pytest.fixture(scope="session")
def routes_doc(current_layers: MapLayers) -> dict[str, Any]:
    """A routes.json document: 3 trucks x 8 stops over real stations."""
    return synthetic_routes(current_layers.existing_stations, trucks=3, stops=8, seed=1)


@pytest.fixture(scope="session")
def plan_doc(data_dir: Path) -> dict[str, Any]:
    """A plan.json document with 40 new stations over the current network."""
    return synthetic_plan(data_dir, new=40, seed=2)


@pytest.fixture(scope="session")
def plan_layers(plan_doc: dict[str, Any], data_dir: Path) -> MapLayers:
    """The plan's layers, read through the real Plan class."""
    from mobility.placement.plan import Plan

    return layers_from_plan(Plan.from_dict(plan_doc), data_dir)


@pytest.fixture(scope="session")
def full_layers(current_layers: MapLayers, routes_doc: dict[str, Any]) -> MapLayers:
    """Current network plus the night's routes (every layer but new stations non-empty)."""
    from mobility.rebalancing.plan import RebalancingPlan

    return current_layers.with_routes(layers_from_routes(RebalancingPlan.model_validate(routes_doc)))
