"""The production job kinds on small inputs (real solver, no HTTP)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from api_support import RUN

from api.jobs import JobContext
from api.runners import build_problem, run_rebalancing
from api.schemas import RebalancingRunRequest
from mobility.errors import MobilityError


def _inputs(**over: object) -> dict:  # type: ignore[type-arg]
    return RebalancingRunRequest.model_validate(RUN | over).model_dump(mode="json")


def test_build_problem_travel_and_targets() -> None:
    p = build_problem(_inputs())
    assert p.station_ids == ("ST-4", "ST-5") and p.travel_s.shape == (3, 3)
    assert np.allclose(np.diag(p.travel_s), 0) and np.allclose(p.travel_s, p.travel_s.T)
    # ST-4 -> ST-5 is about 100 m: x1.35 at 20 km/h is about 25 s.
    assert 10 < p.travel_s[1, 2] < 60
    assert p.curves[0][10] == 0 and p.curves[0][15] == 5  # |k - target| with target 10
    band = _inputs()
    for s in band["snapshot"]["stations"]:
        s["target"] = None
    q = build_problem(band)
    assert q.curves[0][4] == 0 and q.curves[0][12] == 0 and q.curves[0][13] == 1  # 25-75 % of 15 docks


def test_bad_option_is_named() -> None:
    with pytest.raises(MobilityError, match=r"options\.speed_kmh"):
        build_problem(_inputs(options={"speed_kmh": 0.1}))


def test_rebalancing_run_solves_and_validates() -> None:
    out = run_rebalancing(_inputs(time_limit=1), JobContext("t", 1.0))
    k = out.result["kpis"]
    assert (
        k["valid"] is True
        and k["bikes_moved"] > 0
        and k["dissatisfaction_after"] < k["dissatisfaction_before"]
    )
    doc = json.loads(out.artifacts["routes"][1])
    assert doc["routes"][0]["stops"] and "망원" not in json.dumps(doc)  # names default to ids here


def test_cancelled_scenario_stops_before_its_next_step() -> None:
    import yaml

    from api.jobs import JobCancelledError
    from api.runners import run_scenario
    from mobility.config import PROJECT_ROOT

    path = PROJECT_ROOT / "scenarios" / "seoul-2019-30k.yaml"
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    ctx = JobContext("job-1", time_limit=600)
    ctx.stop_event.set()
    with pytest.raises(JobCancelledError, match="before: loading baseline stations"):  # the first step
        run_scenario({"scenario": scenario}, ctx)
