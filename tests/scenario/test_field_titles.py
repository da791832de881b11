"""Every form the web app builds from the OpenAPI document labels a field with its schema title:
pydantic's own rule made "Radius M", "Min M" and "Bikes Per 10K" of the scenario's fields."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.schemas import RebalancingRunRequest, ScenarioRequest
from mobility.scenario.reading import field_title


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("radius_m", "Radius (m)"),
        ("bikes_per_10k", "Bikes per 10,000 residents"),
        ("min", "Minimum"),
        ("station_list_id", "Station list ID"),
        ("speed_kph", "Speed (km/h)"),
        ("total_bikes", "Total bikes"),
        ("m", "M"),  # a lone word is a word, not a unit
    ],
)
def test_field_title(name: str, title: str) -> None:
    assert field_title(name) == title


def _titles(schema: Any) -> list[str]:
    out: list[str] = []
    if isinstance(schema, dict):
        out += [p["title"] for p in schema.get("properties", {}).values() if "title" in p]
        for v in schema.values():
            out += _titles(v)
    elif isinstance(schema, list):
        for v in schema:
            out += _titles(v)
    return out


@pytest.mark.parametrize("model", [ScenarioRequest, RebalancingRunRequest])
def test_request_fields_are_titled_for_people(model: Any) -> None:
    titles = _titles(model.model_json_schema())
    assert titles
    raw = [t for t in titles if re.search(r" M$|\b10K\b|_| Per | Id$", t)]
    assert raw == []
    if model is ScenarioRequest:
        assert {"Walking radius (m)", "Minimum spacing (m)", "Bikes per 10,000 residents"} <= set(titles)
