"""Trips served (``mobility simulate`` over HTTP): submit a day or a fleet sweep, inspect, cancel, fetch.

A thin layer over :mod:`mobility.simulation`: the body (:class:`api.schemas.SimulationRequest`)
names what ``mobility simulate`` reads (a vintage, a scenario job's plan, a stored station list,
a stored snapshot, a rebalancing job's routes) by what this server publishes or stores, never a
server path; the ids are resolved to their content when the job is created. The job runs
:func:`api.runners.run_simulation` on the Dask workers, which spreads the replications and the
sweep's points over the same cluster (:mod:`mobility.simulation.fanout`), and stores
``simulation.json`` (the ``SimulationResult``) or ``sweep.json`` (the ``SimulationSweep``: served
share against fleet size), as ``mobility simulate`` writes them. ``GET /v1/simulations`` lists the
jobs as the other job kinds are listed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request, Response

from api.auth import Principal, require
from api.db.models import Job, JobArtifact, Snapshot, StationList
from api.formats import register_format
from api.routes.common import (
    JOB_BASES,
    FieldError,
    IdempotencyKey,
    accepted_response,
    add_job_routes,
    check_time_limit,
    serve_artifact,
    stored_input,
    submission,
    submit_job,
)
from api.schemas import (
    SIMULATION_EXAMPLE,
    Accepted,
    PlanSource,
    SimulationRequest,
    StationListSource,
)

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])

SECONDS_PER_REPLICATION = 1.0
"""Time allowed per simulated day (a June weekday takes ~0.1 s on one core) on top of the fit."""
FIT_SECONDS = 300.0
"""Time allowed to load the data and fit the rider model (a cold cache builds the street network)."""

register_format("simulation", "json", "application/json", lambda b: b, "json")


@submission(
    router,
    "",
    "Submit a simulated day or a fleet sweep",
    accepted=accepted_response("simulation", "Simulation", "result"),
)
def submit_simulation(
    request: Request,
    response: Response,
    body: Annotated[
        SimulationRequest,
        Body(
            openapi_examples={
                "June weekday": {"value": SIMULATION_EXAMPLE},
                "fleet sweep": {
                    "value": SIMULATION_EXAMPLE | {"replications": 10, "fleet": "20000:60000:5000"}
                },
            }
        ),
    ],
    principal: Annotated[Principal, Depends(require("scenarios:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue a simulation; 202 with the job id and Location (422 when its estimated time is above
    this server's maximum, :func:`check_simulated_days`)."""
    settings = request.app.state.settings
    runs = check_simulated_days(request, body)
    inputs: dict[str, Any] = body.model_dump(mode="json")
    resolved = resolve_inputs(request, body)
    if resolved:
        inputs["resolved"] = resolved
    return submit_job(
        request,
        response,
        kind="simulation",
        inputs=inputs,
        principal=principal,
        idempotency_key=idempotency_key,
        time_limit=FIT_SECONDS + SECONDS_PER_REPLICATION * runs + settings.job_overhead_seconds,
    )


def check_simulated_days(request: Request, body: SimulationRequest) -> int:
    """The days a job simulates (replications x fleet sizes), or a 422 when they need more than
    this server's maximum time (``MOBILITY_MAX_TIME_LIMIT``, :func:`check_time_limit`) at
    :data:`SECONDS_PER_REPLICATION` each; the rider model's fit (:data:`FIT_SECONDS`) is the
    job's loading time, as a scenario's data loading is, and not counted. The 422 names
    ``body.replications`` when the days of one fleet size are too many, else ``body.fleet``."""
    sizes = max(len(body.fleets()), 1)
    runs = body.replications * sizes
    one_size = body.replications * SECONDS_PER_REPLICATION
    field = (
        "body.replications"
        if sizes == 1 or one_size > request.app.state.settings.max_time_limit
        else "body.fleet"
    )
    try:
        check_time_limit(request, runs * SECONDS_PER_REPLICATION, field)
    except FieldError as exc:
        raise FieldError(
            field,
            f"{body.replications} replications x {sizes} fleet size(s) = {runs} simulated days, "
            f"estimated at {SECONDS_PER_REPLICATION:g} s each: {exc.problem}; simulate fewer days "
            "(replications, or fewer fleet sizes)",
        ) from None
    return runs


def finished_artifact(
    request: Request, job_id: str, *, kind: str, artifact: str, field: str
) -> tuple[dict[str, Any], str]:
    """The JSON artifact (``plan``, ``routes``) of the succeeded ``kind`` job ``job_id`` and its
    SHA-256; a 422 naming ``field`` when there is no such job or it has not succeeded."""
    base = JOB_BASES[kind]
    with request.app.state.sessions() as s:
        job = s.get(Job, job_id)
        status = job.status if job is not None and job.kind == kind else None
        art = s.get(JobArtifact, (job_id, artifact)) if status == "succeeded" else None
        body, sha = (art.body, art.sha256) if art is not None else (b"", "")
    if status is None:
        raise FieldError(field, f"got {job_id!r}; expected the id of a {kind} job (GET {base})")
    if status != "succeeded":
        raise FieldError(field, f"{kind} job {job_id} is {status}; expected a succeeded one")
    if not body:
        raise FieldError(field, f"{kind} job {job_id} has no {artifact}")
    return json.loads(body), sha


def resolve_inputs(request: Request, body: SimulationRequest) -> dict[str, Any]:
    """The content of every id ``body`` names, for the job's stored inputs (whole, as a scenario's
    station list is): the plan, the station list, the snapshot's stations and the routes, with
    the SHA-256 of each job artifact. 422 naming the field for an unknown or unfinished id,
    before any job is created."""
    out: dict[str, Any] = {}
    src = body.source
    if isinstance(src, PlanSource):
        out["plan"], out["plan_sha256"] = finished_artifact(
            request, src.job_id, kind="scenario", artifact="plan", field="body.source.job_id"
        )
    elif isinstance(src, StationListSource):
        lists = stored_input(request, StationList, src.station_list_id, "body.source.station_list_id")
        out["station_records"] = lists.data["stations"]
    if body.snapshot_id is not None:
        out["snapshot"] = stored_input(request, Snapshot, body.snapshot_id, "body.snapshot_id").data[
            "stations"
        ]
    if body.routes_job_id is not None:
        out["routes"], out["routes_sha256"] = finished_artifact(
            request, body.routes_job_id, kind="rebalancing", artifact="routes", field="body.routes_job_id"
        )
    return out


add_job_routes(
    router,
    "simulation",
    noun="simulation",
    listed_as="simulations",
    write_role="scenarios:write",
    shows="citywide figures",
)


@router.get("/{job_id}/result", summary="simulation.json or sweep.json")
async def get_simulation_result(
    request: Request,
    job_id: str,
    _p: Annotated[Principal, Depends(require("read"))],
    format: Literal["json"] | None = None,
) -> Response:
    """The stored ``SimulationResult`` (a day) or ``SimulationSweep`` (``fleet`` given)."""
    return await serve_artifact(
        request,
        kind="simulation",
        job_id=job_id,
        artifact="result",
        fmt=format,
        filename=f"simulation-{job_id[:12]}",
    )
