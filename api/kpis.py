"""The key figures of a succeeded job (``JobInfo.kpis``), one model per job kind.

A job stores its ``kpis`` as its runner makes them (:mod:`api.runners`) and the status answer
sends them as stored: these models are their documentation (the JSON Schema of
:attr:`api.schemas.JobInfo.kpis`, :func:`job_kpis`), built from the library's models where the
figures are theirs, and checked against real jobs' figures by the tests. Every model refuses a
key it does not name, so that a figure a runner adds fails those tests until it is described.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from api.representations import Part, described, field_of, fields_of, part_model, sweep_point
from mobility.placement.plan import CityKPI
from mobility.rebalancing.plan import PlanTotals


def quantile(figure: str, q: float, over: str) -> Any:
    """A figure's ``q`` quantile (2.5 or 97.5 %) over the simulated days (or mornings) ``over``."""
    return Field(description=f"{figure}: the {q:g} % quantile over the simulated {over}.")


class ScenarioKpis(Part):
    """The key figures of a scenario (kind ``scenario``): the plan's size, the city before and
    after it, the solvers' status and the independent check of the plan."""

    new_stations: int = Field(description="New stations the plan adds.")
    total_bikes: int = Field(description="Bikes at every station, old and new, after the plan.")
    city_before: CityKPI = Field(description="The city with the baseline stations (plan.json's city_before).")
    city_after: CityKPI = Field(description="The city after the plan (plan.json's city_after).")
    siting_status: str = Field(description="The site selection's solver status.", examples=["optimal"])
    fleet_status: str = Field(description="The docks-and-bikes solver's status.", examples=["optimal"])
    valid: bool = Field(description="The plan passed the independent check of the scenario's rules.")
    violations: list[str] = Field(max_length=20, description="What the check found (the first 20).")


class MorningMethod(Part):
    """The simulated morning after the night for one method (a row of ``morning.json``'s table)."""

    method: str = Field(examples=["no rebalancing", "greedy dispatcher", "ours"])
    bikes_moved: int = Field(description="Bikes the method's routes move.")
    lost_empty: float = Field(description="Riders lost at empty stations to the window's end (mean).")
    lost_empty_low: float = quantile("lost_empty", 2.5, "mornings")
    lost_empty_high: float = quantile("lost_empty", 97.5, "mornings")
    full_arrivals: float = Field(description="Riders who found every dock taken (mean).")
    window_simulated: float = Field(description="Riders finding their station empty or full in the window.")
    window_predicted: float = Field(description="The same as the dissatisfaction model expects it.")
    station_mae: float = Field(description="Mean |predicted - simulated| stockout events per station.")
    station_correlation: float | None = Field(description="Pearson correlation over stations.")


class RebalancingKpis(PlanTotals):
    """The key figures of a rebalancing run (kind ``rebalancing``): routes.json's ``totals``, the
    stations still at risk, the solver's status, the independent check and, when asked for, the
    morning after."""

    model_config = ConfigDict(extra="forbid")

    still_empty: int = Field(description="Stations still expected to run empty (routes.json's still_empty).")
    still_full: int = Field(description="Stations still expected to run full (routes.json's still_full).")
    valid: bool = Field(description="The routes passed the independent feasibility check.")
    solver_status: str | None = Field(description="The solver's status (routes.json's stats.status).")
    morning_after: dict[str, MorningMethod] = Field(
        default_factory=dict,
        description="Only for a run with morning_after: the simulated morning by method (its "
        "`morning` link has the whole document).",
    )


class FleetSweepRow(Part):
    """The citywide figures at one fleet size (a row of the fleet sweep's ``sweep.json``)."""

    fleet: int = Field(description="Bikes at the stations at the start of the day.")
    gu: Literal["citywide"]
    trips_demanded: float = Field(description="Riders who wanted a bike (mean).")
    served_share: float = Field(description="trips served / trips demanded (mean).")
    served_share_low: float = quantile("served_share", 2.5, "days")
    served_share_high: float = quantile("served_share", 97.5, "days")
    lost_empty: float = Field(description="Riders lost at empty stations (mean).")
    full_arrivals: float = Field(description="Riders who found every dock taken (mean).")
    seconds: float = Field(description="Engine seconds per fleet size.")


class FleetSweepKpis(Part):
    """The key figures of a fleet sweep (kind ``simulation`` with ``fleet``): served share
    against fleet size, citywide."""

    points: list[FleetSweepRow]


FIGURES = (
    "trips_demanded", "trips_served", "served_share", "lost_empty", "detoured", "full_arrivals",
    "extra_minutes",
)  # fmt: skip
"""The citywide figures of a simulated day in its key figures (their means)."""


@cache
def simulation_kpis() -> type[BaseModel]:
    """The key figures of a simulated day (kind ``simulation``):
    :meth:`mobility.simulation.result.SimulationResult.summary`."""
    from mobility.simulation.estimate import Figures
    from mobility.simulation.result import SimulationResult

    means = {
        name: (float, Field(description=f"{spec[1].description} Mean over the simulated days."))
        for name, spec in fields_of(Figures, FIGURES).items()
    }
    return part_model(
        "SimulationKpis",
        "The key figures of a simulated day (kind simulation): the citywide figures of "
        "simulation.json, their means over the simulated days.",
        {
            **fields_of(SimulationResult, ["source", "day", "start_inventory", "fleet"]),
            **means,
            "served_share_low": (float, quantile("served_share", 2.5, "days")),
            "served_share_high": (float, quantile("served_share", 97.5, "days")),
            "bikes_moved_by_rule": described(float, "Bikes moved by the daytime rebalancing rule (mean)."),
            **fields_of(SimulationResult, ["replications", "seed", "seconds", "notes"]),
        },
    )


@cache
def sweep_kpis() -> type[BaseModel]:
    """The key figures of a sweep (kind ``sweep``): its axis and its points, without their sites."""
    from mobility.placement.sweep import Sweep

    return part_model(
        "SweepKpis",
        "The key figures of a coverage or budget curve (kind sweep): sweep.json's points, without "
        "their sites.",
        {
            "axis": described(
                field_of(Sweep, "axis")[0], "What the curve varies: new_stations (counts) or budget (totals)."
            ),
            "points": (list.__class_getitem__(sweep_point()), Field(description="The curve's points.")),
        },
    )


def job_kpis() -> Any:
    """The type of ``JobInfo.kpis``: one of the kinds' key figures, or null (a job that has not
    succeeded)."""
    kinds = (ScenarioKpis, RebalancingKpis, sweep_kpis(), simulation_kpis(), FleetSweepKpis)
    return Union.__getitem__((*kinds, None))
