"""Simulated figures: each the mean over replications and its 95 % interval.

Kept apart from the engine (no numba import) so that documents that carry simulated figures,
such as the expansion ``Plan``, can use it cheaply.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class Estimate(BaseModel):
    """Mean over replications and the 95 % interval of the replications.

    ``low`` and ``high`` are the 2.5 % and 97.5 % quantiles of the simulated days (the
    day-to-day spread the model implies).
    """

    model_config = ConfigDict(frozen=True)

    mean: float
    low: float
    high: float


class Figures(BaseModel):
    """What riders experienced over one area and period."""

    model_config = ConfigDict(frozen=True)

    trips_demanded: Estimate = Field(description="Riders who wanted a bike.")
    trips_served: Estimate = Field(description="Riders who rode (at their station or after a detour).")
    served_share: Estimate = Field(description="trips_served / trips_demanded.")
    lost_empty: Estimate = Field(
        description="Riders who gave up: no bike at their station nor within the walking radius."
    )
    detoured: Estimate = Field(description="Riders who walked to another station for a bike.")
    full_arrivals: Estimate = Field(description="Riders who found every dock taken at their destination.")
    extra_minutes: Estimate = Field(description="Minutes ridden on to a free dock.")
    overflow: Estimate = Field(description="Bikes left beside a full rack (no free dock within reach).")


def estimate(x: np.ndarray) -> Estimate:
    """:class:`Estimate` of per-replication values ``x``."""
    x = np.asarray(x, dtype=float)
    lo, hi = np.quantile(x, [0.025, 0.975]) if x.size else (0.0, 0.0)
    return Estimate(mean=float(x.mean()) if x.size else 0.0, low=float(lo), high=float(hi))
