"""A rebalancing run through the API records its provenance, as ``mobility rebalance`` does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.jobs import JobContext
from api.runners import run_rebalancing
from api.schemas import RebalancingRunRequest
from mobility.provenance import code_version
from tests.api.api_support import RUN


def _inputs(**over: object) -> dict[str, Any]:
    return RebalancingRunRequest.model_validate(RUN | over).model_dump(mode="json")


def _provenance(inputs: dict[str, Any]) -> dict[str, Any]:
    out = run_rebalancing(inputs, JobContext("t", 30.0))
    prov: dict[str, Any] = json.loads(out.artifacts["routes"][1])["provenance"]
    return prov


def test_a_run_records_code_request_snapshot_and_seed() -> None:
    inputs = _inputs(time_limit=1, seed=7, options={"network": "straight"})
    prov = _provenance(inputs)
    assert prov["code_version"] == code_version() and prov["seed"] == 7
    status = prov["datasets"]["status"]
    assert status["name"] == inputs["snapshot"].get("name")
    assert status["stations"] == len(inputs["snapshot"]["stations"]) and len(status["sha256"]) == 16
    assert set(prov["datasets"]) == {"status"}  # straight lines read no street network
    request = prov["scenario"]
    assert request["fleet"] == inputs["fleet"] and request["options"] == inputs["options"]
    assert request["snapshot"] == status  # the snapshot by name and hash, not its content
    # another snapshot content, another hash
    other = _inputs(time_limit=1, seed=7, options={"network": "straight"})
    other["snapshot"]["stations"][0]["bikes"] += 1
    assert _provenance(other)["datasets"]["status"]["sha256"] != status["sha256"]


@pytest.mark.network
def test_a_run_on_the_street_network_records_its_files(data_dir: Path) -> None:
    prov = _provenance(_inputs(time_limit=1))
    assert {"status", "network", "speeds"} <= set(prov["datasets"])
    assert all("/" not in str(v) for d in prov["datasets"].values() for v in d.values())  # no paths
