"""Coverage and budget curves: one scenario planned at many station counts or budgets.

A planner asks how many stations bring 50, 60 or 70 % of residents within a 5-minute walk and
what each further hundred buys. :func:`sweep` answers with one :class:`SweepPoint` per value:

1. the inputs and candidates stages run once (:func:`~mobility.placement.pipeline.build_inputs`);
2. for each value, in increasing order, the coverage-data stage is rebuilt (only the count or
   budget changes) and the siting stage solved **warm-started from the previous point's sites**:
   they are feasible for the larger count or budget, so the lazy greedy opens them first and
   fills up; the exact MIP then improves or proves that incumbent, and its result is never worse.
   Covered residents therefore never fall from one point to the next (for a pure coverage
   objective), whatever the solver's gap;
3. a point where the scenario's fleet rules cannot hold (too few stations for the fleet at the
   highest bikes per dock, a district floor that does not fit) is reported with the reason and
   still sited, with the fleet rules off (:func:`~mobility.placement.pipeline.build_expansion_data`
   ``fleet_rules=False``); a point whose sites are found is checked against the fleet's
   necessary conditions (:func:`~mobility.placement.fleet.check_feasibility`), the allocation
   itself is not solved (``mobility plan`` does that for a chosen point).

Each point's coverage is recomputed on the walking network over the 100 m grid, at the scenario's
radius and, when asked, at further radii (500 m: a 6-7 minute walk).

The sweep is a chain (each point starts from the previous one), so it runs in one process; the
solver uses ``solver.threads`` threads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from mobility.errors import InfeasibleError, InputError
from mobility.placement.candidates import walking_cover
from mobility.placement.fleet import check_feasibility
from mobility.placement.pipeline import (
    ExpansionInputs,
    build_expansion_data,
    build_inputs,
    fleet_problem,
    model_params,
    solve_siting,
)
from mobility.progress import Progress, no_progress, within
from mobility.provenance import Provenance
from mobility.scenario.expansion import ExpansionScenario, NewStations
from mobility.schema import DataclassDocument
from mobility.stats import SolverStats

SCHEMA_VERSION = "1"
Axis = Literal["new_stations", "budget"]
INPUTS_SHARE = 0.3
"""The share of a sweep's progress its inputs take when built here; the points share the rest."""


@dataclass(frozen=True)
class SweepPoint:
    """One point of the curve.

    Attributes
    ----------
    new_stations
        The count asked for (at most this many new stations; for a budget sweep, the scenario's).
    budget
        The budget of the point (``None`` for a count sweep without a budget).
    sited
        New stations the siting chose.
    covered_population, covered_share
        Residents within the scenario's radius (walking) of a station, old or new, and their share
        of the grid's residents.
    covered_population_500, covered_share_500
        The same at 500 m, when asked (``None`` otherwise).
    predicted_trips
        Trips/day predicted at the new sites (demand-potential model; ``None`` when unavailable).
    marginal_residents_per_station
        Residents newly covered per added station since the previous point (the first point:
        since the baseline network).
    status, objective, bound, gap, seconds
        The site selection's solver status, objective, best bound, relative gap and time.
    fleet_feasible
        Whether the scenario's fleet rules can hold with this many stations.
    fleet_reason
        Why not (``None`` when they can).
    sites
        Candidate indices of the chosen sites, in rank order (for warm starts and re-checks).
    """

    new_stations: int
    budget: float | None
    sited: int
    covered_population: float
    covered_share: float
    covered_population_500: float | None
    covered_share_500: float | None
    predicted_trips: float | None
    marginal_residents_per_station: float | None
    status: str
    objective: float
    bound: float | None
    gap: float | None
    seconds: float
    fleet_feasible: bool
    fleet_reason: str | None
    sites: list[int]


@dataclass(frozen=True)
class Sweep(DataclassDocument):
    """A coverage or budget curve (the ``sweep.json`` document).

    Attributes
    ----------
    scenario, axis
        The scenario's name and what varies (``"new_stations"`` or ``"budget"``).
    radius_m
        The coverage radius of ``covered_share``.
    population
        Residents of the 100 m grid (the denominator of every share).
    covered_population_before, covered_share_before
        The baseline network's coverage at ``radius_m``.
    covered_share_500_before
        The baseline's coverage at 500 m (when asked).
    points
        One per value, in increasing order.
    provenance
        Scenario, dataset fingerprints, code version, seed.
    notes
        Fallbacks taken and what the curve does not know.
    inputs_seconds
        Wall time of the inputs stage, built once before the points (loading, candidate sites,
        walking coverage, predicted trips); each point's ``seconds`` is its own. ``None`` when the
        inputs were given already built.
    point_stats
        The site selection's :class:`~mobility.stats.SolverStats` of each point, in the order of
        ``points`` (as plan.json's ``siting_stats``): which solver (``solver``), its status,
        objective, bound, gap, solve time, seed and its own figures (``extra``).
    """

    TITLE: ClassVar[str] = "mobility coverage/budget curve"

    scenario: str
    axis: Axis
    radius_m: float
    population: float
    covered_population_before: float
    covered_share_before: float
    covered_share_500_before: float | None
    points: list[SweepPoint]
    provenance: Provenance
    notes: list[str] = field(default_factory=list)
    inputs_seconds: Annotated[
        float | None,
        Field(
            description="Wall time (s) of the inputs stage, built once before the points: loading, "
            "candidate sites, walking coverage, predicted trips (null: the inputs were given built)."
        ),
    ] = None
    point_stats: Annotated[
        list[SolverStats],
        Field(
            description="The site selection's solver statistics of each point, in the order of "
            "points, as plan.json's siting_stats: the solver, its status, objective, bound, gap, "
            "seconds (the solve alone; a point's seconds is its whole time), seed and its own "
            "figures. Empty in documents written before it was recorded."
        ),
    ] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION


sweep_json_schema = Sweep.json_schema
"""JSON Schema of the document (generated from the dataclasses)."""


def parse_range(text: str, field_name: str, *, integer: bool = True) -> list[float]:
    """``"A:B:STEP"`` -> ``[A, A+STEP, ..., <= B]`` (``"A"`` alone: one value).

    Raises
    ------
    InputError
        Naming ``field_name``, the text and the expected form.
    """
    expected = "A:B:STEP with 0 <= A <= B and STEP > 0" + (" (integers)" if integer else "")
    parts = text.split(":")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InputError(field_name, text, expected) from None
    if len(nums) == 1:
        nums = [nums[0], nums[0], 1.0]
    if len(nums) != 3 or not all(math.isfinite(x) for x in nums):
        raise InputError(field_name, text, expected)
    a, b, step = nums
    if a < 0 or b < a or step <= 0 or (integer and any(x != int(x) for x in nums)):
        raise InputError(field_name, text, expected)
    n = math.floor((b - a) / step + 1e-9) + 1
    if n > 200:
        raise InputError(field_name, text, f"{expected}, at most 200 points (got {n})")
    return [a + k * step for k in range(n)]


def scenario_at(sc: ExpansionScenario, axis: Axis, value: float) -> ExpansionScenario:
    """The scenario with its station count (at most ``value``) or its budget total set to ``value``."""
    if axis == "new_stations":
        return sc.model_copy(update={"new_stations": NewStations(max=int(value))})
    if sc.budget is None:
        raise InputError("--budget", value, "a scenario with a budget section (costs per station/dock)")
    return sc.model_copy(update={"budget": sc.budget.model_copy(update={"total": float(value)})})


def _covered(
    inp: ExpansionInputs, base: npt.NDArray[np.bool_], nodes: npt.NDArray[np.int64], radius: float
) -> npt.NDArray[np.bool_]:
    cover = walking_cover(inp.graph, nodes, np.zeros(len(nodes)), inp.point_node, inp.point_snap, radius)
    return base | (np.asarray(cover.sum(axis=0)).ravel() > 0)


def baseline_cover(inp: ExpansionInputs, radius: float) -> npt.NDArray[np.bool_]:
    """Demand points within ``radius`` (walking) of a baseline station."""
    cover = walking_cover(
        inp.graph, inp.station_node, inp.station_snap, inp.point_node, inp.point_snap, radius
    )
    return np.asarray(cover.sum(axis=0)).ravel() > 0


def sweep_axis(
    new_stations: str | None, budget: str | None, *, names: tuple[str, str] = ("new_stations", "budget")
) -> tuple[Axis, list[float]]:
    """What a sweep varies and its values, from exactly one of a station-count and a budget range.

    ``names`` are the two fields as the caller's user knows them (errors name them).

    Raises
    ------
    InputError
        When both or neither are given, or a range is not ``A:B:STEP`` (:func:`parse_range`).
    """
    if (new_stations is None) == (budget is None):
        raise InputError(f"{names[0]}/{names[1]}", None, f"exactly one of {names[0]} or {names[1]}")
    if new_stations is not None:
        return "new_stations", parse_range(new_stations, names[0])
    assert budget is not None
    return "budget", parse_range(budget, names[1], integer=False)


def sweep(
    sc: ExpansionScenario,
    axis: Axis,
    values: Sequence[float],
    *,
    inputs: ExpansionInputs | None = None,
    data_dir: Path | None = None,
    time_limit: float | None = None,
    seed: int | None = None,
    radii: Sequence[float] = (),
    progress: Progress | None = None,
) -> Sweep:
    """Plan ``sc`` at every value of ``axis`` (see the module docstring).

    Parameters
    ----------
    sc
        The scenario.
    axis, values
        What varies and its values (sorted increasing here).
    inputs
        Its inputs, when already built; else built here once, with predicted trips
        (:func:`~mobility.placement.pipeline.build_inputs`, from ``data_dir``).
    time_limit, seed
        Override the scenario's solver settings (:func:`~mobility.placement.pipeline.model_params`);
        the time limit applies to each point.
    radii
        Further coverage radii to report (only 500 m has a field: ``covered_share_500``).

    Returns
    -------
    Sweep
    """
    say = progress or no_progress
    inputs_seconds: float | None = None
    if inputs is None:
        t_inputs = time.perf_counter()
        inp = build_inputs(sc, data_dir=data_dir, progress=within(say, 0.0, INPUTS_SHARE), predict_trips=True)
        inputs_seconds = round(time.perf_counter() - t_inputs, 2)
    else:
        inp = inputs
    params = model_params(sc, time_limit, seed)
    pop = inp.demand.population
    grid_pop = float(pop.sum())
    radius = sc.coverage.radius_m
    want_500 = any(abs(r - 500.0) < 1e-9 for r in radii)
    base_500 = baseline_cover(inp, 500.0) if want_500 else None
    cov_before = float(pop[inp.covered_before].sum())
    points: list[SweepPoint] = []
    point_stats: list[SolverStats] = []
    prev_sites: npt.NDArray[np.int64] | None = None
    prev_cov, prev_n = cov_before, 0
    ordered = sorted(values)
    for i, v in enumerate(ordered):
        t0 = time.perf_counter()
        sc_v = scenario_at(sc, axis, v)
        reason: str | None = None
        try:
            data, _ = build_expansion_data(sc_v, inp)
        except InfeasibleError as exc:
            reason = str(exc)
            data, _ = build_expansion_data(sc_v, inp, fleet_rules=False)
        label = f"{int(v)} new stations" if axis == "new_stations" else f"budget {v:,.0f}"
        say(
            f"{label}: siting ({len(inp.candidates)} candidates, <= {data.max_total} new)",
            INPUTS_SHARE + (1 - INPUTS_SHARE) * i / len(ordered),
        )
        siting = solve_siting(sc_v, inp, data, params, warm_start=prev_sites)
        sites = siting.sites
        if reason is None:
            try:
                check_feasibility(fleet_problem(sc_v, inp, siting)[0])
            except InfeasibleError as exc:
                reason = str(exc)
        cov = float(pop[siting.covered_after].sum())
        cov500 = None
        if base_500 is not None:
            cov500 = float(pop[_covered(inp, base_500, inp.candidates.node[sites], 500.0)].sum())
        trips = None if inp.predicted_trips is None else float(inp.predicted_trips[sites].sum())
        added = len(sites) - prev_n
        stats: SolverStats = siting.result.stats
        point_stats.append(stats)
        points.append(
            SweepPoint(
                new_stations=int(v) if axis == "new_stations" else sc_v.max_new_stations(),
                budget=None if sc_v.budget is None else float(sc_v.budget.total),
                sited=len(sites),
                covered_population=round(cov, 1),
                covered_share=round(cov / grid_pop, 5),
                covered_population_500=None if cov500 is None else round(cov500, 1),
                covered_share_500=None if cov500 is None else round(cov500 / grid_pop, 5),
                predicted_trips=None if trips is None else round(trips, 1),
                marginal_residents_per_station=round((cov - prev_cov) / added, 1) if added > 0 else None,
                status=stats.status,
                objective=stats.objective,
                bound=stats.bound,
                gap=stats.gap,
                seconds=round(time.perf_counter() - t0, 2),
                fleet_feasible=reason is None,
                fleet_reason=reason,
                sites=[int(j) for j in sites],
            )
        )
        say(
            f"{label}: {len(sites)} sited, covered share {cov / grid_pop:.1%}, gap "
            + ("unknown" if stats.gap is None else f"{stats.gap:.3%}"),
            INPUTS_SHARE + (1 - INPUTS_SHARE) * (i + 1) / len(ordered),
        )
        prev_sites, prev_cov, prev_n = sites, cov, len(sites)
    prov = Provenance.collect(
        {k: p for k, p in inp.datasets.items() if p.exists()},
        scenario=sc.model_dump(mode="json"),
        seed=params.seed,
    )
    notes = [
        *inp.notes,
        "what the curve does not know: land ownership, sidewalk width, permits, road works and "
        "local objections; every site is a street node that a survey must confirm",
    ]
    return Sweep(
        scenario=sc.name,
        axis=axis,
        radius_m=radius,
        population=grid_pop,
        covered_population_before=round(cov_before, 1),
        covered_share_before=round(cov_before / grid_pop, 5),
        covered_share_500_before=None
        if base_500 is None
        else round(float(pop[base_500].sum()) / grid_pop, 5),
        points=points,
        provenance=prov,
        notes=notes,
        inputs_seconds=inputs_seconds,
        point_stats=point_stats,
    )


__all__ = [
    "Sweep",
    "SweepPoint",
    "baseline_cover",
    "parse_range",
    "scenario_at",
    "sweep",
    "sweep_json_schema",
]
