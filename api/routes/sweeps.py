"""Coverage and budget curves (``mobility plan sweep`` over HTTP): submit, inspect, cancel, fetch.

A thin layer over :mod:`mobility.placement.sweep`: the body is a scenario (the schema of
``scenarios/*.yaml``, validated by :class:`api.schemas.ScenarioRequest` (published names only) exactly
as ``POST /v1/scenarios`` validates it) and the range to sweep; the job runs
:func:`api.runners.run_sweep` on the Dask workers and stores ``sweep.json``
(:class:`~mobility.placement.sweep.Sweep`), also served as CSV.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request, Response

from api.auth import Principal, require
from api.formats import register_format
from api.routes.common import (
    FieldError,
    IdempotencyKey,
    accepted_response,
    add_job_routes,
    check_time_limit,
    serve_artifact,
    submission,
    submit_job,
)
from api.routes.scenarios import SCENARIO_EXAMPLE
from api.routes.stationlists import resolve_baseline
from api.schemas import Accepted, SweepRequest

router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"])


def _csv(body: bytes) -> bytes:
    """The curve's points as CSV (:func:`mobility.export.curve.curve_csv`), UTF-8 with a BOM
    (:func:`mobility.io.csv_bytes`): the bytes of ``mobility plan sweep``'s ``sweep.csv``."""
    import json

    from mobility.export.curve import curve_csv
    from mobility.io import csv_bytes

    return csv_bytes(curve_csv(json.loads(body)["points"]))


register_format("sweep", "json", "application/json", lambda b: b, "json")
register_format("sweep", "csv", "text/csv; charset=utf-8", _csv, "csv")


@submission(
    router,
    "",
    "Submit a coverage or budget curve",
    accepted=accepted_response("sweep", "Sweep", "sweep", result_link="GetCurve"),
)
def submit_sweep(
    request: Request,
    response: Response,
    body: Annotated[
        SweepRequest,
        Body(
            openapi_examples={
                "2019 curve": {"value": {"scenario": SCENARIO_EXAMPLE, "new_stations": "300:800:100"}}
            }
        ),
    ],
    principal: Annotated[Principal, Depends(require("scenarios:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue a sweep; 202 with the job id and Location. Each point gets the scenario's time limit;
    422 when that, or all the points' together, is above this server's maximum
    (:func:`check_sweep_time`)."""
    limit = float(body.scenario.solver.time_limit)
    n_points = check_sweep_time(request, body, limit)
    inputs: dict[str, Any] = {
        "name": body.scenario.name,
        "scenario": resolve_baseline(
            request, body.scenario.model_dump(mode="json"), "body.scenario.baseline.station_list_id"
        ),
        "new_stations": body.new_stations,
        "budget": body.budget,
        "with_500m": body.with_500m,
    }
    return submit_job(
        request,
        response,
        kind="sweep",
        inputs=inputs,
        principal=principal,
        idempotency_key=idempotency_key,
        time_limit=n_points * limit + request.app.state.settings.job_overhead_seconds,
    )


def check_sweep_time(request: Request, body: SweepRequest, limit: float) -> int:
    """The points of a sweep, or a 422 when it asks for more solver time than this server's maximum
    (``MOBILITY_MAX_TIME_LIMIT``, :func:`check_time_limit`): one point's ``limit`` (naming
    ``body.scenario.solver.time_limit``), or the points' together, ``limit`` each (naming the
    swept range, ``body.new_stations`` or ``body.budget``), as a simulation's days are counted
    (:func:`api.routes.simulations.check_simulated_days`)."""
    from mobility.placement.sweep import sweep_axis

    check_time_limit(request, limit, "body.scenario.solver.time_limit")
    n_points = len(sweep_axis(body.new_stations, body.budget)[1])
    field = "new_stations" if body.new_stations is not None else "budget"
    swept = getattr(body, field)
    try:
        check_time_limit(request, n_points * limit, f"body.{field}")
    except FieldError as exc:
        raise FieldError(
            f"body.{field}",
            f"got {swept!r}: {n_points} points x {limit:g} s each (scenario.solver.time_limit) = "
            f"{n_points * limit:g} s: {exc.problem}; expected fewer points, or less time each",
        ) from None
    return n_points


add_job_routes(
    router, "sweep", noun="sweep", listed_as="sweeps", write_role="scenarios:write", shows="points"
)


@router.get("/{job_id}/sweep", summary="The curve as JSON or CSV")
async def get_sweep_document(
    request: Request,
    job_id: str,
    _p: Annotated[Principal, Depends(require("read"))],
    format: Literal["json", "csv"] | None = None,
) -> Response:
    """The stored ``sweep.json`` document, or its points as CSV."""
    return await serve_artifact(
        request, kind="sweep", job_id=job_id, artifact="sweep", fmt=format, filename=f"sweep-{job_id[:12]}"
    )
