"""Nightly rebalancing: truck routes with pick-up/drop-off quantities (see README, "Rebalancing").

- :mod:`~mobility.rebalancing.problem`: :class:`RebalancingProblem` (stations, depots, trucks,
  travel times), pure data.
- :mod:`~mobility.rebalancing.snapshot`: :class:`StatusSnapshot`, the night's status (bikes per
  station), its readers and its generated JSON schema.
- :mod:`~mobility.rebalancing.plan`: :class:`RebalancingPlan`, the result, and its generated JSON schema.
- :mod:`~mobility.rebalancing.solve`: ``solve(problem, params, stop) -> RebalancingPlan``.
- :mod:`~mobility.rebalancing.validate`: the independent feasibility checker.
- :mod:`~mobility.rebalancing.formats` / :mod:`~mobility.rebalancing.exact`: the BRP and
  1-PDTSP benchmarks, read and solved exactly.
"""

from mobility.rebalancing.plan import (
    PlanTotals,
    RebalancingPlan,
    RouteSpec,
    Stop,
    TruckRoute,
    build_plan,
    routes_json_schema,
)
from mobility.rebalancing.problem import Depot, RebalancingProblem, Truck
from mobility.rebalancing.snapshot import StationStatus, StatusSnapshot, snapshot_json_schema
from mobility.rebalancing.validate import ValidationReport, validate_plan

__all__ = [
    "Depot",
    "PlanTotals",
    "RebalancingPlan",
    "RebalancingProblem",
    "RouteSpec",
    "StationStatus",
    "StatusSnapshot",
    "Stop",
    "Truck",
    "TruckRoute",
    "ValidationReport",
    "build_plan",
    "routes_json_schema",
    "snapshot_json_schema",
    "validate_plan",
]
