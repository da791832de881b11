"""Placement: where new stations go and how the fleet is spread.

- :mod:`~mobility.placement.classic`: p-median and maximal covering on a cost matrix
  (``from_cost_matrix``).
- :mod:`~mobility.placement.models`: the :class:`~mobility.placement.models.ExpansionModel`
  (new stations beside the existing ones) and the shared solver settings and lazy greedy.
- :mod:`~mobility.placement.candidates`: demand points, candidate sites, walking coverage.
- :mod:`~mobility.placement.fleet`: docks and bikes per station under district rules.
- :mod:`~mobility.placement.plan`: the :class:`~mobility.placement.plan.Plan` result and its JSON schema.
- :mod:`~mobility.placement.pipeline`: a scenario end to end (:func:`plan_expansion`).
- :mod:`~mobility.placement.orlib`: OR-Library p-median instances.
"""

from mobility.placement.classic import CoveringResult, MaximalCovering, PMedian, PMedianResult
from mobility.placement.models import ExpansionModel, ModelParams
from mobility.placement.plan import Plan, plan_json_schema

__all__ = [
    "CoveringResult",
    "ExpansionModel",
    "MaximalCovering",
    "ModelParams",
    "PMedian",
    "PMedianResult",
    "Plan",
    "plan_json_schema",
]
