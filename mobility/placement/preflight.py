"""Pre-flight feasibility of an expansion scenario: the fleet rules checked on cheap data only.

The baseline stations (their docks and districts), the district populations and the fleet total
decide whether a scenario's count, budget, bikes-per-dock and district rules can hold together,
before the walking network, the coverage or the candidate sites are built (those take 8 s warm,
a minute cold). :func:`fleet_limits` is the one implementation of these checks:
:func:`~mobility.placement.pipeline.build_expansion_data` takes its bounds (and raises its first
problems), ``mobility plan`` calls :func:`check_scenario` before the long stages (exit 2), and
``POST /v1/scenarios`` refuses an infeasible scenario with a 422 naming the field.

Example: the 2019 scenario with ``new_stations.max: 150`` for 30,000 bikes::

    new_stations.max: got 150; expected at least 280 new stations: fleet.total_bikes = 30000
    needs them (existing docks hold 23292 at bikes_per_dock.max = 1.2, a new one at most 24)

Checks that need the candidate sites (a district with fewer candidates than new stations it
needs) stay in :func:`~mobility.placement.pipeline.build_expansion_data`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt

from mobility.cache import kept_while_unchanged
from mobility.errors import InfeasibleError, InputError, shown_value
from mobility.placement.baseline import district_population, uploaded_stations
from mobility.placement.models import BudgetRule

if TYPE_CHECKING:
    from mobility.scenario.expansion import ExpansionScenario

T = TypeVar("T")


@dataclass(frozen=True)
class PreflightInputs:
    """The cheap data the fleet rules are checked on.

    Attributes
    ----------
    station_docks
        Docks of each baseline station (missing counts filled as the planner fills them).
    station_gu
        District (gu) of each baseline station.
    district_names
        The districts, in the order of ``district_population``.
    district_population
        Residents per district, from the scenario's population source.
    total_bikes
        The fleet to allocate (``fleet.total_bikes``, or ``fleet.bikes_per_10k`` of the residents).
    """

    station_docks: npt.NDArray[np.int64]
    station_gu: npt.NDArray[np.str_]
    district_names: list[str]
    district_population: npt.NDArray[np.float64]
    total_bikes: int


@dataclass(frozen=True)
class Infeasibility:
    """One way the scenario's rules cannot hold together.

    Attributes
    ----------
    loc
        The scenario field to change, as a path (``("new_stations", "max")``).
    value
        That field's value in the scenario.
    expected
        What would hold, and why.
    message
        The whole sentence (as :class:`~mobility.errors.InfeasibleError` says it).
    binding
        Every rule that takes part (:attr:`InfeasibleError.binding`).
    """

    loc: tuple[str, ...]
    value: object
    expected: str
    message: str
    binding: tuple[str, ...]

    @property
    def field(self) -> str:
        """The dotted field (``new_stations.max``)."""
        return ".".join(self.loc)

    @property
    def problem(self) -> str:
        """``got <value>; expected <what>``, as a validation error says it."""
        return f"got {shown_value(self.value)}; expected {self.expected}"


@dataclass(frozen=True)
class FleetLimits:
    """What the fleet rules give the site-selection model, and the problems found on the way.

    Attributes
    ----------
    floors, rules, rates
        Minimum bikes per district, the rule text, the rate (:func:`district_floors`).
    need_new, reasons
        New stations each district needs, and why (empty reason: none needed).
    min_total, max_total
        Fewest and most new stations in all.
    budget
        The budget's rule for the model (``None`` without a budget).
    problems
        Every rule that cannot hold (empty: the scenario passes).
    """

    floors: npt.NDArray[np.int64]
    rules: list[str]
    rates: list[float | None]
    need_new: npt.NDArray[np.int64]
    reasons: list[str]
    min_total: int
    max_total: int
    budget: BudgetRule | None
    problems: list[Infeasibility]


def district_floors(
    sc: ExpansionScenario, names: Sequence[str], population: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], list[str], list[float | None]]:
    """Minimum bikes per district (``ceil(rate * population / 10,000)``), the rule text, the rate.

    Raises
    ------
    InputError
        A district rule names a district that is not among ``names``.
    """
    names = list(names)
    unknown = sorted(set(sc.districts.per_district) - set(names))
    if unknown:
        raise InputError("districts.per_district", unknown[0], f"a gu name, one of {names}")
    unknown = sorted(set(sc.districts.min_new_stations) - set(names))
    if unknown:
        raise InputError("districts.min_new_stations", unknown[0], f"a gu name, one of {names}")
    floors: list[int] = []
    rules: list[str] = []
    rates: list[float | None] = []
    for k, name in enumerate(names):
        rate = sc.districts.per_district.get(name, sc.districts.min_bikes_per_10k)
        if rate is None:
            floors.append(0)
            rules.append("no district rule")
            rates.append(None)
            continue
        pop = float(population[k])
        floors.append(math.ceil(rate * pop / 10_000 - 1e-9))
        key = (
            f"districts.per_district[{name}]"
            if name in sc.districts.per_district
            else "districts.min_bikes_per_10k"
        )
        rules.append(f"{key} = {rate:g} per 10,000 of {pop:,.0f} residents")
        rates.append(float(rate))
    return np.array(floors, dtype=np.int64), rules, rates


def fleet_limits(sc: ExpansionScenario, data: PreflightInputs, *, fleet_rules: bool = True) -> FleetLimits:
    """The fleet rules of ``sc`` on ``data``: the model's bounds and every rule that cannot hold.

    ``fleet_rules=False`` leaves out the fleet's needs (total bikes, district bike floors and the
    docks they need), as :func:`~mobility.placement.pipeline.build_expansion_data` does for it.
    Problems come in a fixed order: the district floors beyond the fleet, the new stations the
    fleet needs beyond those allowed, the new stations the district rules need beyond those allowed.
    """
    names = data.district_names
    hi = Fraction(sc.bikes_per_dock.max).limit_denominator(1000)
    lo = Fraction(sc.bikes_per_dock.min).limit_denominator(1000)
    per_new_hi = math.floor(hi * sc.docks.max)
    per_new_lo = math.ceil(lo * sc.docks.min)
    st_cap = np.array([math.floor(hi * int(dk)) for dk in data.station_docks], dtype=np.int64)
    st_min = np.array([math.ceil(lo * int(dk)) for dk in data.station_docks], dtype=np.int64)
    st_gu = np.asarray(data.station_gu).astype(str)
    floors, rules, rates = district_floors(sc, names, data.district_population)
    total = data.total_bikes
    if not fleet_rules:
        floors, total = np.zeros_like(floors), 0
    need_new, reasons = _district_new_stations(sc, names, floors, rules, st_cap, st_gu, per_new_hi)
    _, short_of_rate = fleet_total(sc, float(data.district_population.sum()))
    problems: list[Infeasibility] = [] if short_of_rate is None else [short_of_rate]
    if int(floors.sum()) > total:
        problems.append(_floors_beyond_fleet(sc, data, floors, rules, total))
    min_by_cap = max(0, math.ceil((total - int(st_cap.sum())) / per_new_hi)) if per_new_hi > 0 else 0
    min_total = max(min_by_cap, sc.new_stations.exact or 0)
    limits = _count_limits(sc)
    if per_new_lo > 0 and fleet_rules:
        room = total - int(st_min.sum())
        limits.append((max(0, room // per_new_lo), ("bikes_per_dock", "min"), sc.bikes_per_dock.min))
    short = np.array([max(0, int(floors[k]) - int(st_cap[st_gu == nm].sum())) for k, nm in enumerate(names)])
    budget_rule, by_money = _budget_rule(sc, per_new_hi, short, max(0, total - int(st_cap.sum())))
    if by_money is not None and sc.budget is not None:
        limits.append((by_money, ("budget", "total"), sc.budget.total))
    max_total, loc, value = min(limits, key=lambda limit: limit[0])  # the first of the smallest
    if min_total > max_total:
        why = (
            f"existing docks hold {int(st_cap.sum())} at bikes_per_dock.max = {sc.bikes_per_dock.max}, "
            f"a new one at most {per_new_hi}"
        )
        problems.append(
            Infeasibility(
                loc=loc,
                value=value,
                expected=f"{_allowing(loc, min_total, max_total)}: fleet.total_bikes = {total} needs them "
                f"({why})",
                message=f"fleet.total_bikes = {total} needs at least {min_total} new stations ({why}), but "
                f"new_stations/budget/bikes_per_dock.min allow at most {max_total}",
                binding=("fleet.total_bikes", "new_stations", "bikes_per_dock.max"),
            )
        )
    if need_new.sum() > max_total:
        worst = int(np.argmax(need_new))
        largest = f"district {names[worst]} ({reasons[worst]}) needs {int(need_new[worst])}"
        problems.append(
            Infeasibility(
                loc=loc,
                value=value,
                expected=f"{_allowing(loc, int(need_new.sum()), max_total)}: the district rules need them "
                f"together (largest: {largest})",
                message=f"the district rules need {int(need_new.sum())} new stations together but at most "
                f"{max_total} are allowed; largest: {largest}",
                binding=(f"districts[{names[worst]}]", "new_stations"),
            )
        )
    return FleetLimits(
        floors=floors,
        rules=rules,
        rates=rates,
        need_new=need_new,
        reasons=reasons,
        min_total=min_total,
        max_total=max_total,
        budget=budget_rule,
        problems=problems,
    )


def fleet_total(sc: ExpansionScenario, population: float) -> tuple[int, Infeasibility | None]:
    """The fleet to allocate for ``population`` residents, and the problem when
    ``fleet.total_bikes`` gives fewer bikes per 10,000 than ``fleet.bikes_per_10k`` asks.

    ``fleet.total_bikes`` when set, else ``ceil(bikes_per_10k * population / 10,000)``.
    """
    rate = sc.fleet.bikes_per_10k
    need = None if rate is None else math.ceil(rate * population / 10_000)
    if sc.fleet.total_bikes is None:
        assert need is not None  # the scenario sets one of the two
        return need, None
    total = sc.fleet.total_bikes
    if need is None or total >= need:
        return total, None
    return total, Infeasibility(
        loc=("fleet", "total_bikes"),
        value=total,
        expected=f"at least {need} bikes: fleet.bikes_per_10k = {rate:g} of {population:,.0f} residents "
        f"({sc.population.source}) needs them",
        message=f"fleet.total_bikes = {total} gives {total / population * 1e4:.2f} bikes per 10,000 of "
        f"{population:,.0f} residents ({sc.population.source}); fleet.bikes_per_10k = {rate} needs {need}",
        binding=("fleet.total_bikes", "fleet.bikes_per_10k"),
    )


def preflight(sc: ExpansionScenario, data: PreflightInputs) -> list[Infeasibility]:
    """Every fleet rule of ``sc`` that cannot hold on ``data`` (empty: the scenario may go on).

    Raises
    ------
    InputError
        A district rule names a district that ``data`` lacks.
    """
    return fleet_limits(sc, data).problems


def infeasible(problems: Sequence[Infeasibility], *, by_field: bool = False) -> InfeasibleError:
    """The error of ``problems`` (at least one), with all their rules as ``binding``: each one's
    sentence, joined; ``by_field``: each as ``field: got value; expected what`` (a validation
    error's words, as the API's 422 says it)."""
    binding = list(dict.fromkeys(b for p in problems for b in p.binding))
    if by_field:
        return InfeasibleError("; ".join(f"{p.field}: {p.problem}" for p in problems), binding=binding)
    return InfeasibleError("; and ".join(p.message for p in problems), binding=binding)


def check_scenario(sc: ExpansionScenario, data_dir: Path | None = None) -> None:
    """Raise when the fleet rules of ``sc`` cannot hold (:func:`preflight` on its cheap data).

    Raises
    ------
    InfeasibleError
        Naming the field of every rule that cannot hold, its value and what would hold
        (``new_stations.max: got 150; expected at least 280 new stations: ...``).
    InputError, DataNotFoundError
        As the planner's loaders raise them (an unknown vintage, a population year a source lacks).
    """
    problems = preflight(sc, load_preflight_inputs(sc, data_dir))
    if problems:
        raise infeasible(problems, by_field=True)


def load_preflight_inputs(sc: ExpansionScenario, data_dir: Path | None = None) -> PreflightInputs:
    """The baseline stations and district populations of ``sc``, read as the planner reads them.

    A named station list (a published vintage, or a file on the command line) and the district
    populations are kept in memory while their files are unchanged (same path, size and
    modification time), so a server checks each submission in a millisecond once warm; stations
    sent as content are placed in their districts each time.
    """
    from mobility.config import resolve_data_dir
    from mobility.quality import QualityReport
    from mobility.sources.stations import fill_dock_counts, load_station_list

    where = str(resolve_data_dir(data_dir))
    if sc.baseline.station_records is not None:
        table = uploaded_stations(sc.baseline.station_records, data_dir)
        docks, _ = fill_dock_counts(table["docks"], QualityReport("uploaded stations"))
        stations = (docks.to_numpy(np.int64), np.asarray(table["gu"].astype(str), dtype=np.str_))
    else:
        label = str(sc.baseline.stations)

        def read_stations() -> tuple[tuple[npt.NDArray[np.int64], npt.NDArray[np.str_]], list[Path]]:
            loaded = load_station_list(label, data_dir=data_dir, field="baseline.stations")
            docks, _ = fill_dock_counts(loaded.table["docks"], loaded.report)
            gu = np.asarray(loaded.table["gu"].astype(str), dtype=np.str_)
            return (docks.to_numpy(np.int64), gu), loaded.sources

        stations = kept_while_unchanged(("stations", label, where), read_stations)
    spec = sc.population
    population = kept_while_unchanged(
        ("population", spec.source, str(spec.year), str(spec.quarter), where),
        lambda: district_population(sc, data_dir),
    )
    pop = population.to_numpy(np.float64)
    total, _ = fleet_total(sc, population.sum())
    return PreflightInputs(
        station_docks=stations[0],
        station_gu=stations[1],
        district_names=[str(g) for g in population.index],
        district_population=pop,
        total_bikes=int(total),
    )


def _allowing(loc: tuple[str, ...], need: int, allowed: int) -> str:
    """What the limiting field ``loc`` should allow: ``need`` new stations where it allows ``allowed``."""
    if loc[0] == "new_stations":
        return f"at least {need} new stations"
    if loc[0] == "budget":
        return f"enough for at least {need} new stations (it pays for {allowed})"
    return f"a lower minimum, leaving room for at least {need} new stations (it leaves room for {allowed})"


def _count_limits(sc: ExpansionScenario) -> list[tuple[int, tuple[str, ...], object]]:
    """The limits on new stations the scenario sets itself: its count and, with a budget, the
    stations the money pays at ``docks.min`` each (:meth:`ExpansionScenario.max_new_stations`)."""
    limits: list[tuple[int, tuple[str, ...], object]] = []
    for name in ("exact", "max"):
        count = getattr(sc.new_stations, name)
        if count is not None:
            limits.append((int(count), ("new_stations", name), count))
            break
    if sc.budget is not None:
        limits.append((sc.max_new_stations(), ("budget", "total"), sc.budget.total))
    return limits


def _floors_beyond_fleet(
    sc: ExpansionScenario,
    data: PreflightInputs,
    floors: npt.NDArray[np.int64],
    rules: list[str],
    total: int,
) -> Infeasibility:
    """The district floors need more bikes together than the fleet has."""
    names = data.district_names
    need = int(floors.sum())
    worst = int(np.argmax(floors / np.maximum(data.district_population, 1.0)))
    example = f"district {names[worst]}: {rules[worst]} -> {int(floors[worst])} bikes"
    if sc.fleet.total_bikes is not None:
        loc: tuple[str, ...] = ("fleet", "total_bikes")
        value: object = sc.fleet.total_bikes
        expected = f"at least {need} bikes: the district floors need them together; e.g. {example}"
    else:
        loc, value = ("fleet", "bikes_per_10k"), sc.fleet.bikes_per_10k
        expected = (
            f"a rate giving at least {need} bikes (it gives {total}): the district floors need them "
            f"together; e.g. {example}"
        )
    return Infeasibility(
        loc=loc,
        value=value,
        expected=expected,
        message=f"the district floors need {need} bikes together, more than fleet.total_bikes = {total}; "
        f"e.g. {example}",
        binding=("fleet.total_bikes", "districts.min_bikes_per_10k", f"districts[{names[worst]}]"),
    )


def _district_new_stations(
    sc: ExpansionScenario,
    names: list[str],
    floors: npt.NDArray[np.int64],
    rules: list[str],
    st_cap: npt.NDArray[np.int64],
    st_gu: npt.NDArray[np.str_],
    per_new_hi: int,
) -> tuple[npt.NDArray[np.int64], list[str]]:
    """New stations each district needs (for its bike floor beyond what its docks hold, or as
    ``districts.min_new_stations`` says) and the reason, per district."""
    need_new = np.zeros(len(names), dtype=np.int64)
    reasons = []
    for k, name in enumerate(names):
        cap = int(st_cap[st_gu == name].sum())
        by_cap = max(0, math.ceil((int(floors[k]) - cap) / per_new_hi)) if per_new_hi > 0 else 0
        explicit = int(sc.districts.min_new_stations.get(name, 0))
        need_new[k] = max(by_cap, explicit)
        why = []
        if by_cap:
            why.append(f"{rules[k]}: {floors[k]} bikes, existing docks hold {cap}")
        if explicit:
            why.append(f"districts.min_new_stations = {explicit}")
        reasons.append("; ".join(why))
    return need_new, reasons


def _budget_rule(
    sc: ExpansionScenario, per_new_hi: int, short: npt.NDArray[np.int64], total_short: int
) -> tuple[BudgetRule | None, int | None]:
    """The budget's rule for the model, and the most new stations the money allows (or ``None``).

    ``short``: bikes each district's floor lacks beyond its docks; ``total_short``: bikes the fleet
    total lacks. The docks the fleet needs must also be paid for, n * c_station + c_dock * docks
    <= budget, with docks counted at the bikes per dock a full-size new station reaches.
    """
    if sc.budget is None:
        return None, None
    rate = per_new_hi / sc.docks.max
    district_docks = np.array([math.ceil(x / rate) for x in short], dtype=np.int64)
    total_docks = math.ceil(total_short / rate)
    rule = BudgetRule(
        total=float(sc.budget.total),
        cost_station=float(sc.budget.cost_per_station),
        cost_dock=float(sc.budget.cost_per_dock),
        docks_min=sc.docks.min,
        district_docks=district_docks,
        total_docks=total_docks,
    )
    if sc.budget.cost_per_station <= 0 or sc.budget.cost_per_dock <= 0:
        return rule, None
    docks_needed = max(total_docks, int(district_docks.sum()))
    by_money = math.floor(
        (sc.budget.total - sc.budget.cost_per_dock * docks_needed) / sc.budget.cost_per_station
    )
    return rule, max(0, by_money)
