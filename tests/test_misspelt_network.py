"""A misspelt street network name in a scenario is named at the scenario's own field, not at
the loader's argument (``source``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from mobility.errors import InputError, given_as
from mobility.scenario.expansion import scenario_from_dict
from mobility.scenario.nightly import nightly_from_dict

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _doc(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SCENARIOS / name).read_text(encoding="utf-8"))
    return doc


def test_the_expansion_scenario_names_coverage_network(data_dir: Path) -> None:
    from mobility.placement.pipeline import build_inputs

    doc = _doc("seoul-2019-30k.yaml")
    doc.setdefault("coverage", {})["network"] = "osm-al"
    with pytest.raises(InputError) as err:
        build_inputs(scenario_from_dict(doc), data_dir=data_dir)
    assert (err.value.field, err.value.value) == ("coverage.network", "osm-al")
    assert "osm-all" in err.value.expected


def test_the_nightly_scenario_names_network_source(data_dir: Path) -> None:
    from mobility.rebalancing.night import load_night_problem

    doc = _doc("seoul-nightly.yaml")
    doc["network"]["source"] = "osm-drve"
    doc["targets"] = {**doc.get("targets", {}), "source": "snapshot"}
    status = pd.DataFrame(
        {"station_id": ["ST-4", "ST-5"], "name": ["a", "b"], "lon": [126.9104, 126.9107],
         "lat": [37.5556, 37.5547], "docks": [15, 15], "bikes": [25, 0], "target": [10, 8]}
    )  # fmt: skip
    with pytest.raises(InputError) as err:
        load_night_problem(nightly_from_dict(doc), status, data_dir)
    assert (err.value.field, err.value.value) == ("network.source", "osm-drve")


def test_given_as_renames_only_the_argument_it_names() -> None:
    with pytest.raises(InputError) as err, given_as("coverage.network", argument="source"):
        raise InputError("profile", "x", "walk")
    assert err.value.field == "profile"
