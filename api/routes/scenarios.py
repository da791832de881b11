"""Expansion scenarios: submit, list, inspect, cancel, and fetch the plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.exceptions import RequestValidationError

from api.auth import Principal, require
from api.routes.common import (
    IdempotencyKey,
    accepted_response,
    add_artifact_route,
    add_job_routes,
    check_time_limit,
    get_job,
    submission,
    submit_job,
)
from api.routes.stationlists import resolve_baseline
from api.schemas import Accepted, ErrorBody, ScenarioRequest
from mobility.placement.preflight import load_preflight_inputs, preflight
from mobility.scenario.expansion import scenario_from_dict

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

SCENARIO_EXAMPLE: dict[str, Any] = {
    "name": "seoul-2019-30k",
    "description": "2019 network grown to 30,000 bikes",
    "baseline": {"stations": "2019-12"},
    "population": {"source": "grid"},
    "fleet": {"total_bikes": 30000},
    "new_stations": {"max": 600},
    "docks": {"min": 10, "max": 20},
    "bikes_per_dock": {"min": 0.5, "max": 1.5},
    "coverage": {"radius_m": 300},
    "spacing": {"min_m": 250},
    "districts": {"min_bikes_per_10k": 25},
    "solver": {"time_limit": 60, "seed": 0},
}


@submission(
    router, "", "Submit an expansion scenario", accepted=accepted_response("scenario", "Scenario", "plan")
)
def submit_scenario(
    request: Request,
    response: Response,
    scenario: Annotated[
        ScenarioRequest, Body(openapi_examples={"seoul-2019-30k": {"value": SCENARIO_EXAMPLE}})
    ],
    principal: Annotated[Principal, Depends(require("scenarios:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue a scenario (same schema as ``scenarios/*.yaml``); 202 with the job id and Location.

    A scenario whose fleet rules cannot hold on the baseline's docks and the district
    populations (:func:`mobility.placement.preflight.preflight`) is refused here, a 422 naming
    the field to change, not by a job that fails after loading the walking network."""
    limit = float(scenario.solver.time_limit)
    check_time_limit(request, limit, "body.solver.time_limit")
    submitted = scenario.model_dump(mode="json")
    body = resolve_baseline(request, submitted, "body.baseline.station_list_id")
    check_feasible(body)
    # Two models get the solver time each (sites, then docks and bikes), plus loading time.
    return submit_job(
        request,
        response,
        kind="scenario",
        inputs={"name": scenario.name, "scenario": body, "submitted": submitted},
        principal=principal,
        idempotency_key=idempotency_key,
        time_limit=2 * limit + request.app.state.settings.job_overhead_seconds,
    )


def check_feasible(body: dict[str, Any]) -> None:
    """422 naming each field whose rule cannot hold (``body.new_stations.max``), checked on the
    published data of the scenario as the job will run it (``body``: its baseline resolved); the
    loads are kept in memory (:func:`mobility.placement.preflight.load_preflight_inputs`)."""
    scenario = scenario_from_dict(body, ScenarioRequest)  # as the worker reads it
    problems = preflight(scenario, load_preflight_inputs(scenario))
    if problems:
        raise RequestValidationError(
            [{"loc": ("body", *p.loc), "msg": p.problem, "type": "infeasible"} for p in problems]
        )


add_job_routes(
    router, "scenario", noun="scenario", listed_as="scenarios", write_role="scenarios:write", shows="KPIs"
)


@router.get(
    "/{job_id}/request",
    summary="The scenario as it was submitted",
    response_model=None,  # sent as stored: it was validated when the job was submitted
    responses={
        200: {"model": ScenarioRequest, "description": "The scenario, as POST /v1/scenarios takes it."},
        404: {"model": ErrorBody},
    },
)
def get_scenario_request(
    request: Request, job_id: str, _p: Annotated[Principal, Depends(require("read"))]
) -> dict[str, Any]:
    """The body this job was submitted with, as ``POST /v1/scenarios`` takes it (an uploaded
    baseline by its ``station_list_id``), whatever the job's status: the web app's "Edit a copy"
    of a failed or cancelled plan, which has no ``plan.json`` to start from. Jobs queued before
    this was recorded give the scenario as the worker ran it (an uploaded baseline as its
    ``station_records``). Either is a :class:`~api.schemas.ScenarioRequest` (its JSON Schema is
    the answer's), dumped as the request was validated, its defaults filled in."""
    inputs = get_job(request, "scenario", job_id).inputs
    submitted = inputs.get("submitted", inputs["scenario"])
    return dict(submitted)


add_artifact_route(
    router,
    "scenario",
    "plan",
    summary="The plan as JSON, GeoJSON or CSV",
    doc="The stored plan (``plan.json`` document) or its GeoJSON / CSV representation.",
)
