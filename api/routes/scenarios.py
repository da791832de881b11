"""Expansion scenarios: submit, list, inspect, cancel, and fetch the plan."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from api.auth import Principal, require
from api.routes.common import (
    FieldError,
    accepted_response,
    add_list_route,
    artifact_responses,
    create_job,
    get_job,
    job_info,
    serve_artifact,
)
from api.routes.stationlists import resolve_baseline
from api.schemas import Accepted, ErrorBody, JobInfo, ScenarioRequest

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])
BASE = "/v1/scenarios"

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

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat a submission safely: the same key and body return the same job (409 "
        "if the body differs).",
    ),
]


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    summary="Submit an expansion scenario",
    responses={
        202: accepted_response(BASE, "Scenario", "plan"),
        409: {"model": ErrorBody},
        413: {"model": ErrorBody},
        422: {"model": ErrorBody},
    },
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
    """Queue a scenario (same schema as ``scenarios/*.yaml``); 202 with the job id and Location."""
    settings = request.app.state.settings
    limit = float(scenario.solver.time_limit)
    if limit > settings.max_time_limit:
        raise FieldError(
            "body.solver.time_limit",
            f"{limit:g} s is above this server's maximum of {settings.max_time_limit:g} s",
        )
    body = resolve_baseline(request, scenario.model_dump(mode="json"), "body.baseline.station_list_id")
    inputs = {"name": scenario.name, "scenario": body}
    # Two models get the solver time each (sites, then docks and bikes), plus loading time.
    job, created = create_job(
        request,
        kind="scenario",
        inputs=inputs,
        principal=principal,
        idempotency_key=idempotency_key,
        time_limit=2 * limit + settings.job_overhead_seconds,
    )
    location = f"{BASE}/{job.id}"
    response.headers["Location"] = location
    if not created:
        response.status_code = 200
    return Accepted(id=job.id, status=job.status, location=location)


add_list_route(router, "", "scenario", BASE, "scenarios", "list_scenarios")


@router.get(
    "/{job_id}",
    response_model=JobInfo,
    summary="Status, progress, KPIs or error",
    responses={404: {"model": ErrorBody}},
)
def get_scenario(
    request: Request, job_id: str, _p: Annotated[Principal, Depends(require("read"))]
) -> JobInfo:
    """One scenario: status and progress; KPIs once succeeded; the error once failed."""
    return job_info(get_job(request, "scenario", job_id), BASE)


@router.delete(
    "/{job_id}",
    response_model=JobInfo,
    summary="Cancel a scenario",
    responses={202: {"model": JobInfo}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def cancel_scenario(
    request: Request, job_id: str, _p: Annotated[Principal, Depends(require("scenarios:write"))]
) -> JSONResponse:
    """Cancel: a queued job at once (200), a running one by request (202; it stops before its next step)."""
    return cancel(request, "scenario", BASE, job_id)


def cancel(request: Request, kind: str, base: str, job_id: str) -> JSONResponse:
    """Shared by scenarios and rebalancing runs."""
    job = get_job(request, kind, job_id)
    if job.status in ("succeeded", "failed", "cancelled"):
        raise HTTPException(409, f"job {job_id} already {job.status}")
    request.app.state.queue.cancel(job_id)
    job = get_job(request, kind, job_id)
    code = 202 if job.status == "running" else 200
    return JSONResponse(job_info(job, base).model_dump(mode="json"), status_code=code)


@router.get(
    "/{job_id}/plan",
    summary="The plan as JSON, GeoJSON or CSV",
    responses=artifact_responses("plan"),
)
async def get_plan(
    request: Request,
    job_id: str,
    _p: Annotated[Principal, Depends(require("read"))],
    format: Literal["json", "geojson", "csv"] | None = None,
) -> Response:
    """The stored plan (``plan.json`` document) or its GeoJSON / CSV representation."""
    return await serve_artifact(
        request, kind="scenario", job_id=job_id, artifact="plan", fmt=format, filename=f"plan-{job_id[:12]}"
    )
