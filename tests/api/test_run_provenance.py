"""A rebalancing run through the API records its provenance, as ``mobility rebalance`` does."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from api.jobs import JobContext
from api.runners import run_rebalancing
from api.schemas import RebalancingRunRequest
from mobility.errors import MobilityError
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


def test_a_run_records_its_effective_time_limit() -> None:
    """The solver's limit is the asked one capped by the job's remaining time (``solve_params``):
    both are recorded, the asked one in the request and the one used beside it."""
    asked = _provenance(_inputs(time_limit=1, options={"network": "straight"}))["scenario"]
    assert asked["time_limit"] == 1 and asked["effective_time_limit"] == 1.0
    capped = _inputs(time_limit=600, options={"network": "straight"})
    prov = json.loads(run_rebalancing(capped, JobContext("t", 2.0)).artifacts["routes"][1])["provenance"]
    assert prov["scenario"]["time_limit"] == 600 and prov["scenario"]["effective_time_limit"] <= 2.0


def test_a_run_aiming_at_the_demand_curves_records_the_demand_files(data_dir: Path) -> None:
    """Targets from the demand model: the Ttareungi files its curves are built from are named
    and fingerprinted (``demand.<stem>``), as ``mobility rebalance`` records them; a run on the
    snapshot's own targets reads none of them and names none."""
    from mobility.demand.data import profile_inputs
    from mobility.provenance import dataset_version

    dated = RUN["snapshot"] | {"date": "2023-06-13"}
    inputs = _inputs(time_limit=1, options={"network": "straight", "targets": "demand"}, snapshot=dated)
    out = run_rebalancing(inputs, JobContext("t", 30.0))
    doc = json.loads(out.artifacts["routes"][1])
    assert doc["meta"]["targets"] == "demand"
    demand = {k: v for k, v in doc["provenance"]["datasets"].items() if k.startswith("demand.")}
    expected = {f"demand.{p.stem}": dataset_version(p) for p in profile_inputs(data_dir)}
    assert demand == expected and any("trips" in k for k in demand)
    own = _inputs(time_limit=1, options={"network": "straight", "targets": "snapshot"}, snapshot=dated)
    assert not [k for k in _provenance(own)["datasets"] if k.startswith("demand.")]


def _routes_doc() -> dict[str, Any]:
    out = run_rebalancing(_inputs(time_limit=1, options={"network": "straight"}), JobContext("t", 30.0))
    doc: dict[str, Any] = json.loads(out.artifacts["routes"][1])
    return doc


def test_the_routes_hash_leaves_out_timing_and_sees_a_stop() -> None:
    """Two routes documents that differ only in their timing fields (solve and run seconds, time
    of writing) have the same hash; one stop's quantity changed, another hash. The plan and its
    document read back hash alike."""
    from mobility.rebalancing.plan import RebalancingPlan, routes_version

    doc = _routes_doc()
    assert any(r["stops"] for r in doc["routes"])
    later = copy.deepcopy(doc)
    later["stats"]["seconds"] += 3.5
    later["wall_seconds"] = (later["wall_seconds"] or 0) + 7.25
    later["provenance"]["created_at"] = "2031-01-01T00:00:00+00:00"
    assert routes_version(later) == routes_version(doc)
    assert routes_version(RebalancingPlan.model_validate(doc)) == routes_version(doc)
    assert routes_version(doc)["without"] == ["stats.seconds", "wall_seconds", "provenance.created_at"]
    other = copy.deepcopy(doc)
    stop = next(r for r in other["routes"] if r["stops"])["stops"][0]
    stop["quantity"] += 1 if stop["quantity"] > 0 else -1
    assert routes_version(other)["sha256"] != routes_version(doc)["sha256"]


def test_the_morning_after_records_the_routes_as_the_cli_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The morning after's provenance is the night's with ``routes``: the hash of the stored
    routes.json without its timing fields (``routes_version``), which ``mobility rebalance``
    writes into morning.json too (the simulation itself is a stand-in here)."""
    from mobility.rebalancing.plan import routes_version
    from mobility.simulation import morning

    seen: dict[str, Any] = {}

    def capture(*_a: Any, **kw: Any) -> None:
        seen["provenance"] = kw["provenance"]
        raise MobilityError("stand-in")  # the routes are kept, with a note

    monkeypatch.setattr(morning, "morning_after", capture)
    inputs = _inputs(time_limit=1, options={"network": "straight"}, morning_after={"night": "2023-06-13"})
    out = run_rebalancing(inputs, JobContext("t", 120.0))
    routes = json.loads(out.artifacts["routes"][1])
    prov = seen["provenance"].to_dict()
    assert prov["datasets"]["routes"] == routes_version(routes)
    assert {k: v for k, v in prov["datasets"].items() if k != "routes"} == routes["provenance"]["datasets"]
