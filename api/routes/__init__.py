"""HTTP routes, one module per resource.

Every router is imported here and listed in :data:`ROUTERS`: a module that fails to import fails
the app's start, loudly. New representations of stored plans go through
:func:`api.formats.register_format`.
"""

from __future__ import annotations

from fastapi import APIRouter

from api import web
from api.routes import (
    common,
    data,
    keys,
    maps,
    ops,
    rebalancing,
    scenarios,
    simulations,
    stationlists,
    sweeps,
)

ROUTERS: list[APIRouter] = [
    scenarios.router,
    rebalancing.router,
    maps.router,
    sweeps.router,
    simulations.router,
    stationlists.router,
    data.router,
    keys.router,
    keys.audit_router,
    ops.router,
    web.router,
]

__all__ = ["ROUTERS", "common"]
