"""HTTP routes, one module per resource.

Extension point: a layer that adds endpoints (e.g. ``/v1/scenarios/{id}/map.html`` from the
export layer) defines an ``APIRouter`` and lists it as ``"module:attribute"`` in
:data:`EXTRA_ROUTERS`; it is skipped while its module cannot be imported. New representations
of stored plans go through :func:`api.formats.register_format` instead.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import common, data, keys, ops, rebalancing, scenarios

ROUTERS: list[APIRouter] = [scenarios.router, rebalancing.router, data.router, keys.router, ops.router]
EXTRA_ROUTERS: list[str] = ["api.routes.maps:router", "api.routes.sweeps:router"]

__all__ = ["EXTRA_ROUTERS", "ROUTERS", "common"]
