"""Placement: where new stations go and how the fleet is spread.

- :mod:`~mobility.placement.models`: p-median and maximal covering on a cost matrix
  (``from_cost_matrix``), and the :class:`~mobility.placement.models.ExpansionModel`.
- :mod:`~mobility.placement.candidates`: demand points, candidate sites, walking coverage.
- :mod:`~mobility.placement.fleet`: docks and bikes per station under district rules.
- :mod:`~mobility.placement.plan`: the :class:`~mobility.placement.plan.Plan` result and its JSON schema.
- :mod:`~mobility.placement.pipeline`: a scenario end to end (:func:`plan_expansion`).
- :mod:`~mobility.placement.orlib`: OR-Library p-median instances.
"""

from mobility.placement.models import (
    CoveringResult,
    ExpansionModel,
    MaximalCovering,
    ModelParams,
    PMedian,
    PMedianResult,
)
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
