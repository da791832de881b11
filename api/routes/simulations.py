"""Trips served (``mobility simulate`` over HTTP): submit a day or a fleet sweep, inspect, cancel, fetch.

A thin layer over :mod:`mobility.simulation`: the body (:class:`api.schemas.SimulationRequest`)
names a published station list, never a server path; the job runs
:func:`api.runners.run_simulation` on the Dask workers, which spreads the replications and the
sweep's points over the same cluster (:mod:`mobility.simulation.fanout`), and stores
``simulation.json`` (the ``SimulationResult``) or ``sweep.json`` (served share against fleet size).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request, Response

from api.auth import Principal, require
from api.formats import register_format
from api.routes.common import IdempotencyKey, add_job_routes, serve_artifact, submission, submit_job
from api.schemas import SIMULATION_EXAMPLE, Accepted, SimulationRequest

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])
BASE = "/v1/simulations"

SECONDS_PER_REPLICATION = 1.0
"""Time allowed per simulated day (a June weekday takes ~0.1 s on one core) on top of the fit."""
FIT_SECONDS = 300.0
"""Time allowed to load the data and fit the rider model (a cold cache builds the street network)."""

register_format("simulation", "json", "application/json", lambda b: b, "json")


@submission(router, "", "Submit a simulated day or a fleet sweep")
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
    """Queue a simulation; 202 with the job id and Location."""
    settings = request.app.state.settings
    runs = body.replications * max(len(body.fleets()), 1)
    inputs: dict[str, Any] = body.model_dump(mode="json")
    return submit_job(
        request,
        response,
        kind="simulation",
        base=BASE,
        inputs=inputs,
        principal=principal,
        idempotency_key=idempotency_key,
        time_limit=FIT_SECONDS + SECONDS_PER_REPLICATION * runs + settings.job_overhead_seconds,
    )


add_job_routes(
    router, "", "simulation", BASE, noun="simulation", write_role="scenarios:write", shows="citywide figures"
)


@router.get("/{job_id}/result", summary="simulation.json or sweep.json")
async def get_simulation_result(
    request: Request,
    job_id: str,
    _p: Annotated[Principal, Depends(require("read"))],
    format: Literal["json"] | None = None,
) -> Response:
    """The stored ``SimulationResult`` (a day) or the sweep document (``fleet`` given)."""
    return await serve_artifact(
        request,
        kind="simulation",
        job_id=job_id,
        artifact="result",
        fmt=format,
        filename=f"simulation-{job_id[:12]}",
    )
