"""Independent check of an expansion plan (the ``plan.json`` document) against its scenario.

This module shares no code with the planner (nothing from ``mobility.placement.models``,
``fleet``, ``pipeline``, ``lagrangian`` or ``candidates``): it reads the :class:`Plan`'s own
fields and the :class:`ExpansionScenario`, and recomputes with numpy, pyproj and shapely.
:func:`validate_plan` returns a :class:`PlanValidationReport` whose violations each name the rule,
the station or district, the value found and the limit. Rules (the ``rule`` of a violation):

Scenario rules (named by the scenario field that states them)

- ``new_stations.exact`` / ``new_stations.max``: the number of new stations;
- ``budget.total``: ``n * cost_per_station + docks of new stations * cost_per_dock``;
- ``spacing.min_m``: no two new stations, and no new and existing station, closer than the minimum
  spacing, measured as the planner measures it (:class:`~mobility.scenario.expansion.Spacing`:
  straight line in EPSG:5179 metres, exactly the spacing allowed), less
  :data:`SPACING_TOLERANCE_M` for the document's 1e-7 degree rounding of positions;
- ``areas.forbidden``: no new station inside (or on) a forbidden polygon;
  ``areas.required``: a station, old or new, inside (or on) each required polygon;
- ``docks.min`` / ``docks.max``: docks of every new station;
- ``bikes_per_dock.min`` / ``bikes_per_dock.max``: bikes of every station, old and new, within
  ``[min * docks, max * docks]`` (and never below 0);
- ``fleet.total_bikes`` / ``fleet.bikes_per_10k``: the bikes of all stations are the fleet target
  (the total, or ``ceil(rate * population_total / 10,000)`` when only a rate is given), and with
  both the citywide ratio is at least the rate;
- ``districts.min_bikes_per_10k`` / ``districts.per_district``: each district's bikes (counted
  from the station lists) at least ``ceil(rate * population / 10,000)`` with the population its
  row reports; ``districts.min_new_stations``: new stations in the district; a district the rules
  name that the plan lacks is reported under the rule's name too;
- ``baseline.station_records``: with an uploaded baseline, the existing stations are those
  records, with their docks.

Document consistency (``document.*``)

- ``document.scenario``: name, radius, spacing, population source and baseline bikes echo the
  scenario; ``document.ids``: station ids unique (new, existing, and across);
  ``document.rank``: ranks 1..n; ``document.gu``: every new station's gu has a district row;
- ``document.districts``: each row's stations, stations before, docks and bikes as counted from
  the station lists, its floor the scenario's, no repeated row;
- ``document.totals``: the city figures as counted from the station lists, and the district rows
  (plus stations outside every district row) summing to them, new stations included;
- ``document.population``: the district populations sum to ``population_total``, which both
  city blocks repeat;
- ``document.bikes_per_10k``: ``bikes / population * 10,000`` (rounded to 3 decimals) per
  district and citywide;
- ``document.covered_share``: ``covered_population / grid_population`` (rounded to 5 decimals;
  ``population`` when the plan's population is the grid and a document has no
  ``grid_population``), shares within [0, 1] and never lower after;
- ``document.population_newly_covered``: the new stations' newly covered residents sum to what
  the plan adds to the covered population;
- ``document.simulation``: the simulated networks have the plan's stations and fleet, and the
  city's served shares are the simulation's.

Solver accountability (``solver.*``, for ``siting_stats`` and ``fleet_stats``)

- ``solver.status``: a status that comes with a solution; ``optimal`` only with a bound and a gap
  of at most :data:`~mobility.stats.OPTIMAL_GAP`, ``gap_limit`` only above it;
- ``solver.gap``: ``|objective - bound| / max(1, |objective|)`` (the project's definition,
  :meth:`mobility.stats.SolverStats.relative_gap`), ``None`` without a bound;
- ``solver.bound``: on the right side of the objective (site selection maximises: bound >=
  objective; the fleet allocation minimises: bound <= objective);
- ``solver.objective``: finite; the fleet's is ``10 * abs_deviation + docks of new stations``
  (its documented objective, ``extra["abs_deviation"]`` recorded with it); with a coverage-only
  objective (no predicted trips, imbalance or subway weight) the siting's is the sum of the new
  stations' newly covered residents.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer

from mobility.placement.plan import CityKPI, NewStation, Plan, StationAllocation
from mobility.scenario.expansion import ExpansionScenario, Polygon
from mobility.stats import OPTIMAL_GAP, SolverStats

__all__ = [
    "ACCEPTED_STATUSES",
    "SPACING_TOLERANCE_M",
    "PlanValidationReport",
    "PlanViolation",
    "validate_plan",
]

Value = float | int | str | None
"""What a violation reports as the value found and the limit."""

SPACING_TOLERANCE_M = 0.05
"""Metres of slack on the spacing: positions are written rounded to 1e-7 degrees (about 1 cm)."""
RATIO_TOLERANCE = 5e-4 + 1e-9
"""``bikes_per_10k`` is written rounded to 3 decimals."""
SHARE_TOLERANCE = 1e-5
"""``covered_share`` is written rounded to 5 decimals (5e-6), with as much again for the float sums."""
NEWLY_COVERED_ROUNDING = 0.05
"""``population_newly_covered`` is written rounded to 0.1 resident per station."""
SITING_OBJECTIVE_TOLERANCE = 1e-4
"""Relative slack between the siting objective and the newly covered residents (the model counts
each group of residents rounded to a whole number)."""
FLEET_DEVIATION_WEIGHT = 10.0
"""The fleet allocation's documented objective: ``10 * sum |bikes - desired| + docks of new stations``."""
ACCEPTED_STATUSES = ("optimal", "gap_limit", "feasible", "time_limit")
"""Solver statuses that come with a solution (:class:`~mobility.stats.SolverStats`)."""

_TO_5179 = Transformer.from_crs("EPSG:4326", "EPSG:5179", always_xy=True)
_STATION_FIGURES = ("stations_before", "stations", "docks", "bikes")


@dataclass(frozen=True)
class PlanViolation:
    """One broken rule.

    Attributes
    ----------
    rule
        The rule's name: a scenario field (``spacing.min_m``), ``document.*`` or ``solver.*``.
    subject
        What breaks it: a station id, ``district 강남구``, ``city_after``, ``siting_stats``, ...
    value
        The value found.
    limit
        The limit (or the value expected).
    detail
        More words when the four fields do not say it all.
    """

    rule: str
    subject: str
    value: Value
    limit: Value
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.rule}: {self.subject}: {self.value} (limit {self.limit})"
        return f"{text}; {self.detail}" if self.detail else text

    def to_dict(self) -> dict[str, Value]:
        """Plain JSON-ready dict."""
        return {
            "rule": self.rule,
            "subject": self.subject,
            "value": self.value,
            "limit": self.limit,
            "detail": self.detail,
        }


@dataclass
class PlanValidationReport:
    """Violations found (empty: the plan keeps every rule checked) and recomputed figures.

    Attributes
    ----------
    violations
        Each broken rule, in the order checked.
    figures
        Recomputed figures: ``new_stations``, ``stations``, ``docks``, ``bikes``,
        ``min_new_new_m`` and ``min_new_existing_m`` (when there are such pairs), ``budget_spent``
        (under a budget).
    """

    violations: list[PlanViolation] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return not self.violations

    @property
    def rules(self) -> set[str]:
        """The names of the rules broken."""
        return {v.rule for v in self.violations}

    @property
    def messages(self) -> list[str]:
        """One line per violation (as :class:`mobility.rebalancing.validate.ValidationReport` lists them)."""
        return [str(v) for v in self.violations]

    def of(self, rule: str) -> list[PlanViolation]:
        """The violations of one rule."""
        return [v for v in self.violations if v.rule == rule]

    def add(self, rule: str, subject: str, value: Value, limit: Value, detail: str = "") -> None:
        """Record one violation."""
        self.violations.append(PlanViolation(rule, subject, value, limit, detail))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: ``ok``, ``violations`` and ``figures``."""
        return {
            "ok": self.ok,
            "violations": [v.to_dict() for v in self.violations],
            "figures": dict(self.figures),
        }


@dataclass(frozen=True)
class _Stations:
    """Every station of the plan as arrays: the new ones first, then the existing ones."""

    ids: list[str]
    gu: npt.NDArray[np.str_]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    docks: npt.NDArray[np.int64]
    bikes: npt.NDArray[np.int64]
    is_new: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, plan: Plan) -> _Stations:
        every: list[NewStation | StationAllocation] = [*plan.new_stations, *plan.existing_stations]
        lon = np.array([s.lon for s in every], dtype=np.float64)
        lat = np.array([s.lat for s in every], dtype=np.float64)
        x, y = _TO_5179.transform(lon, lat)
        return cls(
            ids=[s.id for s in plan.new_stations] + [s.station_id for s in plan.existing_stations],
            gu=np.array([s.gu for s in every], dtype=np.str_),
            lon=lon,
            lat=lat,
            x=np.asarray(x, dtype=np.float64).reshape(-1),
            y=np.asarray(y, dtype=np.float64).reshape(-1),
            docks=np.array([s.docks for s in every], dtype=np.int64),
            bikes=np.array([s.bikes for s in every], dtype=np.int64),
            is_new=np.arange(len(every)) < len(plan.new_stations),
        )


def validate_plan(
    plan: Plan | dict[str, Any],
    scenario: ExpansionScenario,
    *,
    spacing_tolerance_m: float = SPACING_TOLERANCE_M,
) -> PlanValidationReport:
    """Check a plan document against the scenario it was planned for, without the planner's code.

    Parameters
    ----------
    plan
        The :class:`Plan`, or its ``to_dict()`` (a parsed ``plan.json``; read with
        :meth:`Plan.from_dict`, which raises :class:`~mobility.errors.InputError` on a malformed
        document).
    scenario
        The scenario the plan claims to answer.
    spacing_tolerance_m
        Metres of slack on the minimum spacing (the positions' rounding).

    Returns
    -------
    PlanValidationReport
        ``report.ok`` is True when every rule holds; ``report.violations`` says which do not
        (rule names in the module docstring).
    """
    doc = plan if isinstance(plan, Plan) else Plan.from_dict(plan)
    rep = PlanValidationReport()
    st = _Stations.of(doc)
    rep.figures.update(
        new_stations=float(st.is_new.sum()),
        stations=float(len(st.ids)),
        docks=float(st.docks.sum()),
        bikes=float(st.bikes.sum()),
    )
    _check_echo(doc, scenario, rep)
    _check_ids(doc, rep)
    _check_count_and_budget(doc, scenario, rep)
    _check_spacing(st, scenario.spacing.min_m, spacing_tolerance_m, rep)
    _check_areas(st, scenario, rep)
    _check_docks_and_bikes(st, scenario, rep)
    _check_fleet_target(doc, st, scenario, rep)
    _check_district_names(doc, st, scenario, rep)
    _check_district_floors(doc, st, scenario, rep)
    _check_district_rows(doc, st, rep)
    _check_city_totals(doc, st, rep)
    _check_population_and_ratios(doc, rep)
    _check_coverage(doc, rep)
    _check_simulation(doc, st, rep)
    _check_solver(doc.siting_stats, "siting_stats", "max", rep)
    _check_solver(doc.fleet_stats, "fleet_stats", "min", rep)
    _check_objectives(doc, scenario, rep)
    _check_baseline(doc, scenario, rep)
    return rep


def _check_echo(doc: Plan, sc: ExpansionScenario, rep: PlanValidationReport) -> None:
    """The document repeats the scenario's name, radius, spacing, population source, baseline bikes."""
    pairs: list[tuple[str, Value, Value]] = [
        ("scenario", doc.scenario, sc.name),
        ("radius_m", doc.radius_m, sc.coverage.radius_m),
        ("min_spacing_m", doc.min_spacing_m, sc.spacing.min_m),
        ("population_source", doc.population_source, sc.population.source),
        ("city_before.bikes", doc.city_before.bikes, sc.baseline.bikes),
    ]
    for name, got, want in pairs:
        if got != want:
            rep.add("document.scenario", name, got, want, "the plan does not repeat its scenario")


def _check_ids(doc: Plan, rep: PlanValidationReport) -> None:
    """Station ids used once (new, existing, and across); ranks 1..n."""
    new_ids = [s.id for s in doc.new_stations]
    old_ids = [s.station_id for s in doc.existing_stations]
    for sid, n in Counter([*new_ids, *old_ids]).items():
        if n > 1:
            rep.add("document.ids", sid, n, 1, "a station id used more than once")
    ranks = sorted(s.rank for s in doc.new_stations)
    if ranks != list(range(1, len(ranks) + 1)):
        rep.add(
            "document.rank", "new_stations", str(ranks[:5]), f"1..{len(ranks)}", "ranks 1 to n, once each"
        )


def _check_count_and_budget(doc: Plan, sc: ExpansionScenario, rep: PlanValidationReport) -> None:
    """How many new stations, and what they cost."""
    n = len(doc.new_stations)
    if sc.new_stations.exact is not None and n != sc.new_stations.exact:
        rep.add("new_stations.exact", "new_stations", n, sc.new_stations.exact)
    if sc.new_stations.max is not None and n > sc.new_stations.max:
        rep.add("new_stations.max", "new_stations", n, sc.new_stations.max)
    b = sc.budget
    if b is None:
        return
    docks = sum(s.docks for s in doc.new_stations)
    spent = n * b.cost_per_station + docks * b.cost_per_dock
    rep.figures["budget_spent"] = float(spent)
    if spent > b.total * (1 + 1e-12):
        rep.add(
            "budget.total",
            "new_stations",
            spent,
            b.total,
            f"{n} stations x {b.cost_per_station:,.0f} + {docks} docks x {b.cost_per_dock:,.0f} {b.currency}",
        )


XY = npt.NDArray[np.float64]
"""Points as an ``(n, 2)`` array of EPSG:5179 metres."""


def _close_pairs(a: XY, b: XY, within_m: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], XY]:
    """Every pair (point of a, point of b) at most ``within_m`` apart, and its straight-line distance."""
    if len(a) == 0 or len(b) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tree = shapely.STRtree(shapely.points(b))
    ia, ib = tree.query(shapely.points(a), predicate="dwithin", distance=within_m)
    ia, ib = np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64)
    return ia, ib, np.hypot(*(a[ia] - b[ib]).T)


def _nearest(a: XY, b: XY, *, same: bool) -> float | None:
    """The smallest straight-line distance from a point of a to a point of b (``same``: a is b)."""
    if len(a) == 0 or len(b) < (2 if same else 1):
        return None
    if same and len(np.unique(a, axis=0)) < len(a):
        return 0.0  # two at the very same place (``exclusive`` below would skip the twin)
    idx = shapely.STRtree(shapely.points(b)).query_nearest(
        shapely.points(a), return_distance=False, exclusive=same, all_matches=False
    )
    ia, ib = np.asarray(idx[0], dtype=np.int64), np.asarray(idx[1], dtype=np.int64)
    return float(np.hypot(*(a[ia] - b[ib]).T).min())


def _check_spacing(st: _Stations, min_m: float, tol: float, rep: PlanValidationReport) -> None:
    """No new station closer than ``min_m`` (straight line, EPSG:5179) to another or to an old one."""
    new, old = st.is_new, ~st.is_new
    xy = np.column_stack([st.x, st.y])
    nxy, oxy = xy[new], xy[old]
    new_ids = [s for s, k in zip(st.ids, new, strict=True) if k]
    old_ids = [s for s, k in zip(st.ids, old, strict=True) if k]
    for key, value in (
        ("min_new_new_m", _nearest(nxy, nxy, same=True)),
        ("min_new_existing_m", _nearest(nxy, oxy, same=False)),
    ):
        if value is not None:
            rep.figures[key] = value
    if min_m <= 0:
        return
    ia, ib, d = _close_pairs(nxy, nxy, min_m)
    for i, j, dist in zip(ia.tolist(), ib.tolist(), d.tolist(), strict=True):
        if i < j and dist < min_m - tol:
            rep.add(
                "spacing.min_m", f"{new_ids[i]} and {new_ids[j]}", round(dist, 2), min_m, "new-new, EPSG:5179"
            )
    ia, ib, d = _close_pairs(nxy, oxy, min_m)
    for i, j, dist in zip(ia.tolist(), ib.tolist(), d.tolist(), strict=True):
        if dist < min_m - tol:
            rep.add(
                "spacing.min_m",
                f"{new_ids[i]} and {old_ids[j]}",
                round(dist, 2),
                min_m,
                "new-existing, EPSG:5179",
            )


def _shape(poly: Polygon) -> shapely.Geometry:
    """A scenario polygon (``[lon, lat]`` rings: the shell, then holes) as a valid shapely geometry."""
    shell, *holes = poly.coordinates
    return shapely.make_valid(shapely.Polygon(shell, holes))


def _check_areas(st: _Stations, sc: ExpansionScenario, rep: PlanValidationReport) -> None:
    """No new station in a forbidden polygon; a station (old or new) in each required one."""
    new = np.flatnonzero(st.is_new)
    pts = shapely.points(st.lon, st.lat)
    for k, poly in enumerate(sc.areas.forbidden):
        inside = np.asarray(shapely.intersects(_shape(poly), pts[new]))
        for i in new[inside].tolist():
            where = f"({st.lat[i]:.7f}, {st.lon[i]:.7f})"
            rep.add(
                "areas.forbidden",
                st.ids[i],
                where,
                poly.name or f"areas.forbidden[{k}]",
                "inside the polygon",
            )
    for k, poly in enumerate(sc.areas.required):
        held = int(np.asarray(shapely.intersects(_shape(poly), pts)).sum())
        if held == 0:
            rep.add(
                "areas.required", poly.name or f"areas.required[{k}]", held, 1, "stations inside the polygon"
            )


def _check_docks_and_bikes(st: _Stations, sc: ExpansionScenario, rep: PlanValidationReport) -> None:
    """Docks of new stations within ``docks``; bikes of every station within ``bikes_per_dock``."""
    for i in np.flatnonzero(st.is_new & (st.docks < sc.docks.min)).tolist():
        rep.add("docks.min", st.ids[i], int(st.docks[i]), sc.docks.min)
    for i in np.flatnonzero(st.is_new & (st.docks > sc.docks.max)).tolist():
        rep.add("docks.max", st.ids[i], int(st.docks[i]), sc.docks.max)
    lo, hi = sc.bikes_per_dock.min, sc.bikes_per_dock.max
    low = np.maximum(0.0, lo * st.docks)
    for i in np.flatnonzero(st.bikes < low - 1e-9).tolist():
        detail = f"{int(st.docks[i])} docks x {lo:g}"
        rep.add("bikes_per_dock.min", st.ids[i], int(st.bikes[i]), math.ceil(low[i] - 1e-9), detail)
    for i in np.flatnonzero(st.bikes > hi * st.docks + 1e-9).tolist():
        detail = f"{int(st.docks[i])} docks x {hi:g}"
        rep.add(
            "bikes_per_dock.max", st.ids[i], int(st.bikes[i]), math.floor(hi * st.docks[i] + 1e-9), detail
        )


def _check_fleet_target(doc: Plan, st: _Stations, sc: ExpansionScenario, rep: PlanValidationReport) -> None:
    """The bikes of all stations are the fleet target; with a total and a rate, the rate holds too."""
    total = int(st.bikes.sum())
    pop = doc.population_total
    rate = sc.fleet.bikes_per_10k
    if sc.fleet.total_bikes is not None:
        if total != sc.fleet.total_bikes:
            rep.add("fleet.total_bikes", "all stations", total, sc.fleet.total_bikes)
        if rate is not None and pop > 0 and total / pop * 1e4 < rate - 1e-9:
            rep.add(
                "fleet.bikes_per_10k", "city", round(total / pop * 1e4, 3), rate, f"of {pop:,.0f} residents"
            )
    elif rate is not None:
        target = math.ceil(rate * pop / 10_000)
        if total != target:
            rep.add(
                "fleet.bikes_per_10k", "all stations", total, target, f"{rate:g} per 10,000 of {pop:,.0f}"
            )


def _count_by_gu(
    st: _Stations, mask: npt.NDArray[np.bool_], values: npt.NDArray[np.int64] | None
) -> Counter[str]:
    """Per district: the stations selected by ``mask`` (their ``values`` summed when given)."""
    out: Counter[str] = Counter()
    weights = np.ones(len(st.ids), dtype=np.int64) if values is None else values
    for g, v in zip(st.gu[mask].tolist(), weights[mask].tolist(), strict=True):
        out[g] += int(v)
    return out


def _check_district_names(doc: Plan, st: _Stations, sc: ExpansionScenario, rep: PlanValidationReport) -> None:
    """Every district the rules name has a row; every new station's district has one; rows once each."""
    rows = {d.gu for d in doc.districts}
    named: Iterable[tuple[str, str]] = [
        *(("districts.per_district", g) for g in sc.districts.per_district),
        *(("districts.min_new_stations", g) for g in sc.districts.min_new_stations),
    ]
    for rule, g in named:
        if g not in rows:
            rep.add(rule, f"district {g}", "no district row", "a district of the plan")
    for g, n in Counter(d.gu for d in doc.districts).items():
        if n > 1:
            rep.add("document.districts", f"district {g}", n, 1, "rows for the district")
    for i in np.flatnonzero(st.is_new).tolist():
        if str(st.gu[i]) not in rows:
            rep.add("document.gu", st.ids[i], str(st.gu[i]), "a district row's gu")


def _check_district_floors(
    doc: Plan, st: _Stations, sc: ExpansionScenario, rep: PlanValidationReport
) -> None:
    """Bikes per 10,000 residents floors (on the stations' bikes) and new stations per district."""
    rules = sc.districts
    bikes = _count_by_gu(st, np.ones(len(st.ids), dtype=bool), st.bikes)
    new = _count_by_gu(st, st.is_new, None)
    for d in doc.districts:
        rate = rules.per_district.get(d.gu, rules.min_bikes_per_10k)
        if (rate is None) != (d.min_bikes_per_10k is None) or (
            rate is not None and d.min_bikes_per_10k is not None and abs(rate - d.min_bikes_per_10k) > 1e-9
        ):
            rep.add("document.districts", f"district {d.gu}", d.min_bikes_per_10k, rate, "min_bikes_per_10k")
        if rate is not None:
            floor = math.ceil(rate * d.population / 10_000 - 1e-9)
            if bikes[d.gu] < floor:
                key = (
                    "districts.per_district" if d.gu in rules.per_district else "districts.min_bikes_per_10k"
                )
                ratio = bikes[d.gu] / d.population * 1e4 if d.population > 0 else 0.0
                detail = f"{ratio:.3f} < {rate:g} per 10,000 of {d.population:,.0f} residents"
                rep.add(key, f"district {d.gu}", bikes[d.gu], floor, detail)
        need = rules.min_new_stations.get(d.gu, 0)
        if new[d.gu] < need:
            rep.add("districts.min_new_stations", f"district {d.gu}", new[d.gu], need)


def _check_district_rows(doc: Plan, st: _Stations, rep: PlanValidationReport) -> None:
    """Each district row against the station lists, its ratio and its coverage shares."""
    every = np.ones(len(st.ids), dtype=bool)
    counted = {
        "stations_before": _count_by_gu(st, ~st.is_new, None),
        "stations": _count_by_gu(st, every, None),
        "docks": _count_by_gu(st, every, st.docks),
        "bikes": _count_by_gu(st, every, st.bikes),
    }
    for d in doc.districts:
        for name in _STATION_FIGURES:
            got, want = getattr(d, name), counted[name][d.gu]
            if got != want:
                rep.add(
                    "document.districts", f"district {d.gu}", got, want, f"{name} (station lists: {want})"
                )
        want_ratio = d.bikes / d.population * 1e4 if d.population > 0 else 0.0
        if abs(d.bikes_per_10k - want_ratio) > RATIO_TOLERANCE:
            rep.add("document.bikes_per_10k", f"district {d.gu}", d.bikes_per_10k, round(want_ratio, 3))
        for name in ("covered_share_before", "covered_share"):
            share = getattr(d, name)
            if not 0.0 <= share <= 1.0:
                rep.add("document.covered_share", f"district {d.gu}", share, "[0, 1]", name)
        if d.covered_share < d.covered_share_before - SHARE_TOLERANCE:
            rep.add(
                "document.covered_share",
                f"district {d.gu}",
                d.covered_share,
                d.covered_share_before,
                "lower after the plan than before",
            )


def _check_city_totals(doc: Plan, st: _Stations, rep: PlanValidationReport) -> None:
    """City figures against the station lists, and the district rows (plus stations outside every
    row) summing to them."""
    rows = {d.gu for d in doc.districts}
    outside = np.array([g not in rows for g in st.gu.tolist()], dtype=bool)
    old = ~st.is_new
    after, before = doc.city_after, doc.city_before
    n_new = int(st.is_new.sum())
    checks: list[tuple[str, Value, Value]] = [
        ("city_after.stations", after.stations, len(st.ids)),
        ("city_after.docks", after.docks, int(st.docks.sum())),
        ("city_after.bikes", after.bikes, int(st.bikes.sum())),
        ("city_before.stations", before.stations, int(old.sum())),
        ("city_before.docks", before.docks, int(st.docks[old].sum())),
        ("districts: stations", sum(d.stations for d in doc.districts) + int(outside.sum()), after.stations),
        (
            "districts: stations_before",
            sum(d.stations_before for d in doc.districts) + int((outside & old).sum()),
            before.stations,
        ),
        ("districts: docks", sum(d.docks for d in doc.districts) + int(st.docks[outside].sum()), after.docks),
        ("districts: bikes", sum(d.bikes for d in doc.districts) + int(st.bikes[outside].sum()), after.bikes),
        (
            "districts: new stations",
            sum(d.stations - d.stations_before for d in doc.districts) + int((outside & st.is_new).sum()),
            n_new,
        ),
    ]
    for subject, got, want in checks:
        if got != want:
            rep.add("document.totals", subject, got, want)


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _check_population_and_ratios(doc: Plan, rep: PlanValidationReport) -> None:
    """Populations agree (districts, total, both city blocks); city bikes per 10,000 residents."""
    total = doc.population_total
    summed = math.fsum(d.population for d in doc.districts)
    if not _close(summed, total):
        rep.add("document.population", "districts", summed, total, "district populations summed")
    for label, c in (("city_before", doc.city_before), ("city_after", doc.city_after)):
        if not _close(c.population, total):
            rep.add("document.population", label, c.population, total)
        want = None if c.bikes is None or c.population <= 0 else c.bikes / c.population * 1e4
        if (want is None) != (c.bikes_per_10k is None) or (
            want is not None and c.bikes_per_10k is not None and abs(c.bikes_per_10k - want) > RATIO_TOLERANCE
        ):
            rep.add(
                "document.bikes_per_10k", label, c.bikes_per_10k, None if want is None else round(want, 3)
            )


def _check_city_share(label: str, c: CityKPI, grid: bool, rep: PlanValidationReport) -> None:
    """One city block's covered share: within [0, 1]; covered population over the grid's residents
    (``grid_population``, or ``population`` when the plan's population is the grid)."""
    if not 0.0 <= c.covered_share <= 1.0:
        rep.add("document.covered_share", label, c.covered_share, "[0, 1]")
    denominator, name = (
        (c.grid_population, "grid_population")
        if c.grid_population is not None
        else ((c.population, "population") if grid else (None, ""))
    )
    if denominator is not None and denominator > 0:
        want = c.covered_population / denominator
        if abs(c.covered_share - want) > SHARE_TOLERANCE:
            rep.add(
                "document.covered_share",
                label,
                c.covered_share,
                round(want, 5),
                f"covered_population / {name}",
            )


def _check_coverage(doc: Plan, rep: PlanValidationReport) -> None:
    """Covered shares and populations, before and after, and what the new stations add."""
    before, after = doc.city_before, doc.city_after
    grid = doc.population_source == "grid"
    _check_city_share("city_before", before, grid, rep)
    _check_city_share("city_after", after, grid, rep)
    if not grid and before.covered_share > 0 and after.covered_share > 0:
        # the same residents (the grid's) divide both: the two blocks imply one denominator
        d_before = before.covered_population / before.covered_share
        d_after = after.covered_population / after.covered_share
        tol = 5e-6 / before.covered_share + 5e-6 / after.covered_share + 1e-9
        if abs(d_before - d_after) > tol * max(d_before, d_after):
            rep.add(
                "document.covered_share",
                "city_after",
                after.covered_share,
                "the same residents as city_before",
            )
    if after.covered_population < before.covered_population:
        rep.add("document.covered_share", "city_after", after.covered_population, before.covered_population)
    added = after.covered_population - before.covered_population
    fresh = math.fsum(s.population_newly_covered for s in doc.new_stations)
    tol = NEWLY_COVERED_ROUNDING * len(doc.new_stations) + 1e-9 * after.covered_population + 1e-6
    if abs(fresh - added) > tol:
        detail = "sum over new stations vs city_after.covered_population - city_before.covered_population"
        rep.add("document.population_newly_covered", "new_stations", fresh, added, detail)
    for s in doc.new_stations:
        if s.population_newly_covered < 0:
            rep.add("document.population_newly_covered", s.id, s.population_newly_covered, 0)


def _check_simulation(doc: Plan, st: _Stations, rep: PlanValidationReport) -> None:
    """The simulated networks are the plan's; the city's served shares are the simulation's."""
    sim = doc.simulation
    if sim is None:
        for label, c in (("city_before", doc.city_before), ("city_after", doc.city_after)):
            if c.served_share is not None:
                rep.add("document.simulation", label, "a served share", "none without a simulation")
        return
    n_old = int((~st.is_new).sum())
    checks: list[tuple[str, Value, Value]] = [
        ("simulation.before.stations", sim.before.stations, n_old),
        ("simulation.after.stations", sim.after.stations, len(st.ids)),
        ("simulation.after.fleet", sim.after.fleet, int(st.bikes.sum())),
    ]
    for subject, got, want in checks:
        if got != want:
            rep.add("document.simulation", subject, got, want)
    for label, c, net in (
        ("city_before", doc.city_before, sim.before),
        ("city_after", doc.city_after, sim.after),
    ):
        if c.served_share != net.figures.served_share:
            rep.add(
                "document.simulation",
                f"{label}.served_share",
                str(c.served_share),
                str(net.figures.served_share),
            )


def _check_solver(
    stats: SolverStats, label: str, sense: Literal["max", "min"], rep: PlanValidationReport
) -> None:
    """Status, objective, bound and gap of one solve tell one story."""
    obj, bound = stats.objective, stats.bound
    if stats.status not in ACCEPTED_STATUSES:
        rep.add(
            "solver.status", label, stats.status, " | ".join(ACCEPTED_STATUSES), "a status without a solution"
        )
    if not math.isfinite(obj):
        rep.add("solver.objective", label, obj, "a finite number")
        return
    if bound is None:
        if stats.gap is not None:
            rep.add("solver.gap", label, stats.gap, None, "a gap without a bound")
        if stats.status in ("optimal", "gap_limit"):
            rep.add("solver.status", label, stats.status, "feasible", "no bound proves it")
        return
    if not math.isfinite(bound):
        rep.add("solver.bound", label, bound, "a finite number")
        return
    gap = abs(obj - bound) / max(1.0, abs(obj))
    if stats.gap is None or abs(stats.gap - gap) > 1e-9 * max(1.0, gap):
        rep.add("solver.gap", label, stats.gap, gap, "|objective - bound| / max(1, |objective|)")
    if stats.status == "optimal" and gap > OPTIMAL_GAP:
        rep.add("solver.status", label, "optimal", f"gap <= {OPTIMAL_GAP:g}", f"gap {gap:.3g}")
    if stats.status == "gap_limit" and gap <= OPTIMAL_GAP:
        rep.add(
            "solver.status", label, "gap_limit", f"gap > {OPTIMAL_GAP:g}", f"gap {gap:.3g} is proven optimal"
        )
    slack = 1e-6 * max(1.0, abs(obj))
    if sense == "max" and bound < obj - slack:
        rep.add("solver.bound", label, bound, f">= objective {obj:g}", "site selection maximises")
    if sense == "min" and bound > obj + slack:
        rep.add("solver.bound", label, bound, f"<= objective {obj:g}", "the fleet allocation minimises")


def _check_objectives(doc: Plan, sc: ExpansionScenario, rep: PlanValidationReport) -> None:
    """The objectives the statistics state are those of the document's stations."""
    fleet, siting = doc.fleet_stats, doc.siting_stats
    dev = fleet.extra.get("abs_deviation")
    if isinstance(dev, int | float) and math.isfinite(fleet.objective):
        new_docks = sum(s.docks for s in doc.new_stations)
        want = FLEET_DEVIATION_WEIGHT * float(dev) + new_docks
        if abs(fleet.objective - want) > 1e-9 * max(1.0, abs(want)) + 1e-6:
            detail = f"{FLEET_DEVIATION_WEIGHT:g} x abs_deviation {dev} + {new_docks} docks of new stations"
            rep.add("solver.objective", "fleet_stats", fleet.objective, want, detail)
    w = sc.objective
    coverage_only = w.predicted_trips == 0 and w.imbalance == 0 and w.subway_weight == 0
    if coverage_only and math.isfinite(siting.objective):
        fresh = math.fsum(s.population_newly_covered for s in doc.new_stations)
        tol = SITING_OBJECTIVE_TOLERANCE * max(1.0, abs(fresh)) + NEWLY_COVERED_ROUNDING * len(
            doc.new_stations
        )
        if abs(siting.objective - fresh) > tol:
            rep.add("solver.objective", "siting_stats", siting.objective, fresh, "residents newly covered")


def _check_baseline(doc: Plan, sc: ExpansionScenario, rep: PlanValidationReport) -> None:
    """With an uploaded baseline, the existing stations are its records, with their docks."""
    records = sc.baseline.station_records
    if records is None:
        return
    docks = {s.station_id: s.docks for s in doc.existing_stations}
    want = {r.station_id: r.docks for r in records}
    for sid in sorted(set(want) - set(docks)):
        rep.add("baseline.station_records", sid, "missing", "an existing station of the plan")
    for sid in sorted(set(docks) - set(want)):
        rep.add("baseline.station_records", sid, "not a record", "one of baseline.station_records")
    for sid in sorted(set(want) & set(docks)):
        if docks[sid] != want[sid]:
            rep.add("baseline.station_records", sid, docks[sid], want[sid], "docks of a fixed station")
