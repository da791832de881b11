"""The independent plan validator (mobility.placement.validate): real plans pass, every mutation is caught.

The real plans are planned here (the 30,000-bike and the budget scenario): ``test_plan_seoul.py``
and ``test_plan_budget.py`` build theirs in module fixtures and in a test body, which another
module cannot share. A mutated plan is "forged" where the mutation moves bikes or docks: its
district rows, city totals and fleet objective are recounted (:func:`_recount`), so that only the
rule the mutation aims at may fire.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from mobility.placement.pipeline import plan_expansion
from mobility.placement.plan import CityKPI, DistrictKPI, NewStation, Plan, StationAllocation
from mobility.placement.validate import PlanValidationReport, validate_plan
from mobility.provenance import Provenance
from mobility.scenario.expansion import ExpansionScenario, load_scenario, scenario_from_dict
from mobility.stats import SolverStats

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:5179", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:5179", "EPSG:4326", always_xy=True)

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def sc_30k() -> ExpansionScenario:
    return load_scenario(SCENARIOS / "seoul-2019-30k.yaml")


@pytest.fixture(scope="module")
def sc_budget() -> ExpansionScenario:
    return load_scenario(SCENARIOS / "seoul-2019-budget.yaml")


@pytest.fixture(scope="module")
def plan_30k(sc_30k: ExpansionScenario, data_dir: Path) -> Plan:
    # as test_plan_seoul.py's fixture: its simulation is then a cache hit (mobility.simulation.plans)
    plan, _ = plan_expansion(sc_30k, data_dir=data_dir, time_limit=90)
    return plan


@pytest.fixture(scope="module")
def plan_budget(sc_budget: ExpansionScenario, data_dir: Path) -> Plan:
    plan, _ = plan_expansion(sc_budget, data_dir=data_dir, simulate=False)  # as test_plan_budget.py
    return plan


def _check(doc: Doc, sc: ExpansionScenario) -> PlanValidationReport:
    return validate_plan(Plan.from_dict(doc), sc)


# ---- forging: recount what the mutated stations imply ---------------------------------------


def _recount(doc: Doc) -> Doc:
    """District rows, city totals and the fleet objective (and its gap) as the stations now say."""
    new, old = doc["new_stations"], doc["existing_stations"]
    every = [*new, *old]
    for d in doc["districts"]:
        mine = [s for s in every if s["gu"] == d["gu"]]
        d["stations"] = len(mine)
        d["stations_before"] = sum(1 for s in old if s["gu"] == d["gu"])
        d["docks"] = sum(s["docks"] for s in mine)
        d["bikes"] = sum(s["bikes"] for s in mine)
        d["bikes_per_10k"] = round(d["bikes"] / d["population"] * 1e4, 3)
    after = doc["city_after"]
    after["stations"] = len(every)
    after["docks"] = sum(s["docks"] for s in every)
    after["bikes"] = sum(s["bikes"] for s in every)
    after["bikes_per_10k"] = round(after["bikes"] / after["population"] * 1e4, 3)
    fleet = doc["fleet_stats"]
    fleet["objective"] = 10.0 * fleet["extra"]["abs_deviation"] + sum(s["docks"] for s in new)
    fleet["gap"] = SolverStats.relative_gap(fleet["objective"], fleet["bound"])
    return doc


def _station(doc: Doc, sid: str) -> dict[str, Any]:
    return next(
        s
        for s in [*doc["new_stations"], *doc["existing_stations"]]
        if s.get("id", s.get("station_id")) == sid
    )


def _metric(stations: list[dict[str, Any]]) -> np.ndarray:
    x, y = TO_METRIC.transform([s["lon"] for s in stations], [s["lat"] for s in stations])
    return np.column_stack([x, y])


# ---- mutations of the real 30k plan: (doc, scenario) -> (doc, scenario) -------------------------

Mutation = Callable[[Doc, ExpansionScenario], tuple[Doc, ExpansionScenario]]


def _into_forbidden(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
    """NEW-0001 to the point of the forbidden polygon farthest from every other station."""
    poly = shapely.Polygon(sc.areas.forbidden[0].coordinates[0])
    others = _metric([*doc["new_stations"][1:], *doc["existing_stations"]])
    x0, y0, x1, y1 = poly.bounds
    grid = [(lo, la) for lo in np.linspace(x0, x1, 40) for la in np.linspace(y0, y1, 40)]
    inside = [p for p in grid if poly.contains(shapely.Point(p))]
    far = [float(np.hypot(*(others - np.array(TO_METRIC.transform(*p))).T).min()) for p in inside]
    assert max(far) > 260  # room in the polygon for a station the spacing allows
    lon, lat = inside[int(np.argmax(far))]
    doc["new_stations"][0].update(lon=round(lon, 7), lat=round(lat, 7))
    return doc, sc


def _onto_new(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
    a, b = doc["new_stations"][0], doc["new_stations"][1]
    b.update(lon=a["lon"], lat=a["lat"])
    return doc, sc


def _onto_existing(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
    e = doc["existing_stations"][0]
    doc["new_stations"][0].update(lon=e["lon"], lat=e["lat"])
    return doc, sc


def _docks_below_min(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
    """A new station one dock short; the bikes it can no longer hold go to others of its district."""
    s = doc["new_stations"][0]
    s["docks"] = sc.docks.min - 1
    _move_bikes(doc, s, s["bikes"] - math.floor(sc.bikes_per_dock.max * s["docks"]), sc)
    return _recount(doc), sc


def _move_bikes(doc: Doc, giver: dict[str, Any], k: int, sc: ExpansionScenario) -> None:
    """``k`` bikes from ``giver`` to other stations of its district with room for them."""
    giver["bikes"] -= k
    for t in [*doc["new_stations"], *doc["existing_stations"]]:
        if t is not giver and t["gu"] == giver["gu"] and k > 0:
            m = min(k, math.floor(sc.bikes_per_dock.max * t["docks"]) - t["bikes"])
            t["bikes"] += max(m, 0)
            k -= max(m, 0)
    assert k == 0


def _break_district_floor(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
    """Bikes moved, station by station within bikes_per_dock, from the lowest district to others
    until it falls one bike below its floor; the fleet total is kept."""
    lo, hi = sc.bikes_per_dock.min, sc.bikes_per_dock.max
    low = min(doc["districts"], key=lambda d: d["bikes_per_10k"])
    floor = math.ceil(25.0 * low["population"] / 1e4 - 1e-9)
    excess = low["bikes"] - floor + 1
    every = [*doc["new_stations"], *doc["existing_stations"]]
    givers = [s for s in every if s["gu"] == low["gu"]]
    takers = [s for s in every if s["gu"] != low["gu"]]
    for s in givers:
        k = min(excess, s["bikes"] - math.ceil(lo * s["docks"]))
        s["bikes"] -= k
        excess -= k
        while k:
            t = next(t for t in takers if t["bikes"] < math.floor(hi * t["docks"]))
            m = min(k, math.floor(hi * t["docks"]) - t["bikes"])
            t["bikes"] += m
            k -= m
    assert excess == 0
    return _recount(doc), sc


def _bikes_over_dock_max(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
    """An existing station one bike over its bikes-per-dock maximum, taken from another in its district."""
    a = doc["existing_stations"][0]
    cap = math.floor(sc.bikes_per_dock.max * a["docks"])
    extra = cap + 1 - a["bikes"]
    b = next(
        s
        for s in doc["existing_stations"][1:]
        if s["gu"] == a["gu"] and s["bikes"] - extra >= math.ceil(sc.bikes_per_dock.min * s["docks"])
    )
    a["bikes"], b["bikes"] = cap + 1, b["bikes"] - extra
    return _recount(doc), sc


def _one_bike_more(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
    s = next(
        s for s in doc["existing_stations"] if s["bikes"] < math.floor(sc.bikes_per_dock.max * s["docks"])
    )
    s["bikes"] += 1
    return _recount(doc), sc


def _set(path: str, value: Any) -> Mutation:
    """Set one field of the document (dotted path, list indices as numbers); nothing recounted."""

    def mutate(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
        *head, last = path.split(".")
        obj: Any = doc
        for k in head:
            obj = obj[int(k)] if k.isdigit() else obj[k]
        old = obj[int(last) if last.isdigit() else last]
        obj[int(last) if last.isdigit() else last] = value(old) if callable(value) else value
        return doc, sc

    return mutate


def _stats(label: str, **changes: float) -> Mutation:
    """A solve's objective and bound changed, its gap recomputed (so only what they imply is wrong)."""

    def mutate(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
        s = doc[label]
        for k, v in changes.items():
            s[k] = s[k] + v
        s["gap"] = SolverStats.relative_gap(s["objective"], s["bound"])
        return doc, sc

    return mutate


def _scenario(**update: Any) -> Mutation:
    """The same plan against a changed scenario (``update``: top-level sections, merged)."""

    def mutate(doc: Doc, sc: ExpansionScenario) -> tuple[Doc, ExpansionScenario]:
        data = sc.model_dump(mode="json", exclude_none=True)
        for k, v in update.items():
            data[k] = {**data.get(k, {}), **(v(doc) if callable(v) else v)}
        return doc, scenario_from_dict(data)

    return mutate


def _one_more_new_station_in(doc: Doc) -> dict[str, Any]:
    gu = doc["new_stations"][0]["gu"]
    have = sum(1 for s in doc["new_stations"] if s["gu"] == gu)
    return {"min_new_stations": {gu: have + 1}}


HAN_RIVER = [
    [[126.9800, 37.5150], [126.9850, 37.5150], [126.9850, 37.5170], [126.9800, 37.5170], [126.9800, 37.5150]]
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (_into_forbidden, {"areas.forbidden"}),
        (_onto_new, {"spacing.min_m"}),
        (_onto_existing, {"spacing.min_m"}),
        (_docks_below_min, {"docks.min"}),
        (_break_district_floor, {"districts.min_bikes_per_10k"}),
        (_bikes_over_dock_max, {"bikes_per_dock.max"}),
        (_one_bike_more, {"fleet.total_bikes", "document.simulation"}),  # the simulated fleet too
        (_set("city_after.bikes", 30_001), {"document.totals", "document.bikes_per_10k"}),
        (_set("districts.0.docks", lambda v: v + 1), {"document.districts", "document.totals"}),
        (_set("districts.3.bikes_per_10k", lambda v: v + 0.01), {"document.bikes_per_10k"}),
        (_set("city_after.covered_share", lambda v: v + 0.01), {"document.covered_share"}),
        (
            _set("new_stations.5.population_newly_covered", lambda v: v + 100),
            {"document.population_newly_covered"},
        ),
        (_set("new_stations.1.id", "NEW-0001"), {"document.ids"}),
        (_set("new_stations.7.gu", "해운대구"), {"document.gu", "document.districts", "document.totals"}),
        (_set("radius_m", 500.0), {"document.scenario"}),
        (_set("fleet_stats.gap", lambda v: v * 2), {"solver.gap"}),
        (_set("fleet_stats.gap", None), {"solver.gap"}),
        (_set("siting_stats.status", "infeasible"), {"solver.status"}),
        (_stats("siting_stats", bound=30_000.0), {"solver.status"}),  # "optimal" 1 % from its bound
        (_stats("fleet_stats", bound=500.0), {"solver.bound"}),  # a minimum's bound above it
        (_stats("siting_stats", objective=1_000.0, bound=1_000.0), {"solver.objective"}),
        (_stats("fleet_stats", objective=1.0), {"solver.objective"}),
        (_scenario(new_stations={"max": 599}), {"new_stations.max"}),
        (_scenario(new_stations={"max": None, "exact": 601}), {"new_stations.exact"}),
        (_scenario(districts=_one_more_new_station_in), {"districts.min_new_stations"}),
        (_scenario(districts={"per_district": {"수원시": 30.0}}), {"districts.per_district"}),
        (
            _scenario(areas={"required": [{"name": "Han river", "coordinates": HAN_RIVER}]}),
            {"areas.required"},
        ),
    ],
)
def test_each_mutation_of_the_real_plan_is_caught(
    plan_30k: Plan, sc_30k: ExpansionScenario, mutation: Mutation, expected: set[str]
) -> None:
    doc, sc = mutation(copy.deepcopy(plan_30k.to_dict()), sc_30k)
    rep = _check(doc, sc)
    assert rep.rules == expected, rep.messages
    for v in rep.violations:  # each names the rule, the station or district, the value and the limit
        assert v.rule and v.subject and str(v).startswith(f"{v.rule}: {v.subject}: ")


@pytest.mark.slow
def test_the_real_plans_validate_clean(
    plan_30k: Plan, sc_30k: ExpansionScenario, plan_budget: Plan, sc_budget: ExpansionScenario
) -> None:
    for plan, sc in ((plan_30k, sc_30k), (plan_budget, sc_budget)):
        rep = validate_plan(plan, sc)
        assert rep.ok, rep.messages
        assert validate_plan(plan.to_dict(), sc).to_dict() == rep.to_dict()  # the plan.json reads the same
        assert rep.figures["bikes"] == 30_000
        assert sc.spacing.min_m <= rep.figures["min_new_new_m"] < sc.spacing.min_m + 5
        assert sc.spacing.min_m <= rep.figures["min_new_existing_m"] < sc.spacing.min_m + 5
    assert sc_budget.budget is not None
    spent = validate_plan(plan_budget, sc_budget).figures["budget_spent"]
    # the budget limits the plan: one more station with the fewest docks does not fit
    assert spent <= sc_budget.budget.total < spent + sc_budget.budget.cost_per_station + 10 * 1_500_000


@pytest.mark.slow
def test_the_spots_the_mutations_name(plan_30k: Plan, sc_30k: ExpansionScenario) -> None:
    doc, _ = _onto_new(copy.deepcopy(plan_30k.to_dict()), sc_30k)
    (v,) = _check(doc, sc_30k).violations
    assert (v.subject, v.value, v.limit) == ("NEW-0001 and NEW-0002", 0.0, 250.0)
    doc, _ = _into_forbidden(copy.deepcopy(plan_30k.to_dict()), sc_30k)
    (v,) = _check(doc, sc_30k).violations
    assert (v.subject, v.limit) == ("NEW-0001", "Yeouido Hangang riverside (flood zone)")
    doc, _ = _break_district_floor(copy.deepcopy(plan_30k.to_dict()), sc_30k)
    (v,) = _check(doc, sc_30k).violations
    low = min(plan_30k.districts, key=lambda d: d.bikes_per_10k)
    floor = math.ceil(25.0 * low.population / 1e4 - 1e-9)
    assert (v.subject, v.value, v.limit) == (f"district {low.gu}", floor - 1, floor)
    # a required polygon around a new station holds: no violation
    s = plan_30k.new_stations[0]
    ring = [
        [s.lon - 1e-3, s.lat - 1e-3],
        [s.lon + 1e-3, s.lat - 1e-3],
        [s.lon + 1e-3, s.lat + 1e-3],
        [s.lon - 1e-3, s.lat + 1e-3],
        [s.lon - 1e-3, s.lat - 1e-3],
    ]
    _, sc = _scenario(areas={"required": [{"name": "here", "coordinates": [ring]}]})(
        plan_30k.to_dict(), sc_30k
    )
    assert validate_plan(plan_30k, sc).ok


@pytest.mark.slow
def test_a_budget_overspent_by_one_dock_is_caught(plan_budget: Plan, sc_budget: ExpansionScenario) -> None:
    doc = copy.deepcopy(plan_budget.to_dict())
    s = next(s for s in doc["new_stations"] if s["docks"] < sc_budget.docks.max)
    s["docks"] += 1
    rep = _check(_recount(doc), sc_budget)
    assert rep.rules == {"budget.total"}, rep.messages
    (v,) = rep.violations
    assert v.limit == 20_000_000_000 and v.value == rep.figures["budget_spent"]
    assert rep.figures["budget_spent"] > 20_000_000_000


# ---- synthetic plans (fast): spacing and totals as properties --------------------------------

ORIGIN = (953_000.0, 1_951_000.0)  # central Seoul in EPSG:5179


def _synthetic(
    new_xy: list[tuple[float, float]],
    old_xy: list[tuple[float, float]],
    cells: list[tuple[int, int, int]],
    min_m: float = 250.0,
) -> Plan:
    """A consistent plan: new stations then existing ones at the given EPSG:5179 offsets; ``cells``
    gives (district 0/1, docks, bikes) per station in the same order (new first)."""
    names, pops = ["가구", "나구"], [40_000.0, 60_000.0]

    def lonlat(dx: float, dy: float) -> tuple[float, float]:
        lon, lat = TO_LONLAT.transform(ORIGIN[0] + dx, ORIGIN[1] + dy)
        return round(float(lon), 7), round(float(lat), 7)

    new = [
        NewStation(
            id=f"NEW-{k + 1:04d}",
            lat=lonlat(*xy)[1],
            lon=lonlat(*xy)[0],
            gu=names[cells[k][0]],
            dong="",
            docks=cells[k][1],
            bikes=cells[k][2],
            population_newly_covered=0.0,
            predicted_trips=None,
            rank=k + 1,
            candidate_id=k,
            reason="synthetic",
        )
        for k, xy in enumerate(new_xy)
    ]
    old = [
        StationAllocation(
            station_id=f"ST-{k}",
            number=k,
            name="",
            gu=names[c[0]],
            lat=lonlat(*xy)[1],
            lon=lonlat(*xy)[0],
            docks=c[1],
            bikes=c[2],
        )
        for k, (xy, c) in enumerate(zip(old_xy, cells[len(new_xy) :], strict=True))
    ]
    every: list[NewStation | StationAllocation] = [*new, *old]
    rows = []
    for g, name in enumerate(names):
        mine = [s for s, c in zip(every, cells, strict=True) if c[0] == g]
        bikes = sum(s.bikes for s in mine)
        rows.append(
            DistrictKPI(
                gu=name,
                population=pops[g],
                stations_before=sum(1 for s in old if s.gu == name),
                stations=len(mine),
                docks=sum(s.docks for s in mine),
                bikes=bikes,
                bikes_per_10k=round(bikes / pops[g] * 1e4, 3),
                min_bikes_per_10k=None,
                covered_share_before=0.0,
                covered_share=0.0,
            )
        )
    total, docks = sum(s.bikes for s in every), sum(s.docks for s in every)
    fleet_obj = float(sum(s.docks for s in new))
    return Plan(
        scenario="synthetic",
        radius_m=300.0,
        min_spacing_m=min_m,
        population_source="grid",
        population_total=sum(pops),
        new_stations=new,
        existing_stations=old,
        districts=rows,
        city_before=CityKPI(
            stations=len(old),
            docks=sum(s.docks for s in old),
            bikes=None,
            population=sum(pops),
            bikes_per_10k=None,
            covered_population=0.0,
            covered_share=0.0,
        ),
        city_after=CityKPI(
            stations=len(every),
            docks=docks,
            bikes=total,
            population=sum(pops),
            bikes_per_10k=round(total / sum(pops) * 1e4, 3),
            covered_population=0.0,
            covered_share=0.0,
        ),
        siting_stats=SolverStats("mip", "optimal", 0.0, 0.0, 0.1, 0, gap=0.0),
        fleet_stats=SolverStats(
            "mip", "optimal", fleet_obj, fleet_obj, 0.1, 0, gap=0.0, extra={"abs_deviation": 0.0}
        ),
        provenance=Provenance(code_version="test", datasets={}),
    )


def _synthetic_scenario(plan: Plan, min_m: float) -> ExpansionScenario:
    return scenario_from_dict(
        {
            "name": "synthetic",
            "baseline": {"stations": "2019-12"},
            "fleet": {"total_bikes": plan.total_bikes},
            "new_stations": {"max": 100},
            "docks": {"min": 10, "max": 20},
            "bikes_per_dock": {"min": 0.5, "max": 1.5},
            "spacing": {"min_m": min_m},
        }
    )


offsets = st.tuples(st.integers(0, 1600), st.integers(0, 1600)).map(lambda t: (t[0] / 2, t[1] / 2))


@settings(max_examples=60, deadline=None)
@given(
    new_xy=st.lists(offsets, min_size=1, max_size=8),
    old_xy=st.lists(offsets, min_size=0, max_size=5),
    min_m=st.sampled_from([100.0, 250.0, 400.0]),
)
def test_spacing_flags_exactly_the_pairs_closer_than_the_minimum(
    new_xy: list[tuple[float, float]], old_xy: list[tuple[float, float]], min_m: float
) -> None:
    """Stations drawn in EPSG:5179 metres (written as rounded lon/lat): the validator names every
    new-new and new-existing pair closer than the spacing, and no other (pairs within 0.2 m of the
    limit are left out: the document's rounding moves a station by about 1 cm)."""
    pts = np.array([*new_xy, *old_xy], dtype=np.float64)
    n = len(new_xy)
    pairs = {(i, j) for i in range(n) for j in range(i + 1, len(pts))}
    dist = {p: float(np.hypot(*(pts[p[0]] - pts[p[1]]))) for p in pairs}
    assume(all(abs(d - min_m) > 0.2 for d in dist.values()))
    plan = _synthetic(new_xy, old_xy, [(0, 10, 10)] * len(pts), min_m)
    rep = validate_plan(plan, _synthetic_scenario(plan, min_m))
    ids = [*(s.id for s in plan.new_stations), *(s.station_id for s in plan.existing_stations)]
    want = {f"{ids[i]} and {ids[j]}" for (i, j), d in dist.items() if d < min_m}
    assert {v.subject for v in rep.violations} == want
    assert rep.rules <= {"spacing.min_m"}
    if n > 1:
        nearest = min(d for (i, j), d in dist.items() if j < n)
        assert rep.figures["min_new_new_m"] == pytest.approx(nearest, abs=0.05)


station_cells = st.tuples(st.integers(0, 1), st.integers(10, 20)).flatmap(
    lambda c: st.tuples(
        st.just(c[0]), st.just(c[1]), st.integers(math.ceil(c[1] / 2), math.floor(1.5 * c[1]))
    )
)
FIELDS = [
    ("districts", "stations", "document.districts"),
    ("districts", "stations_before", "document.districts"),
    ("districts", "docks", "document.districts"),
    ("districts", "bikes", "document.districts"),
    ("city_after", "stations", "document.totals"),
    ("city_after", "docks", "document.totals"),
    ("city_after", "bikes", "document.totals"),
    ("city_before", "stations", "document.totals"),
    ("city_before", "docks", "document.totals"),
]


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(station_cells, min_size=2, max_size=12),
    n_new=st.integers(0, 4),
    field=st.sampled_from(FIELDS),
    row=st.integers(0, 1),
    delta=st.integers(-5, 5).filter(bool),
)
def test_totals_agree_and_any_change_to_one_is_caught(
    cells: list[tuple[int, int, int]], n_new: int, field: tuple[str, str, str], row: int, delta: int
) -> None:
    """A plan counted consistently validates clean; any one count changed is named by its rule."""
    n_new = min(n_new, len(cells))
    xy = [(600.0 * k, 0.0) for k in range(len(cells))]  # 600 m apart: no spacing rule in play
    plan = _synthetic(xy[:n_new], xy[n_new:], cells)
    sc = _synthetic_scenario(plan, 250.0)
    assert validate_plan(plan, sc).ok, validate_plan(plan, sc).messages
    doc = plan.to_dict()
    block, key, rule = field
    target = doc[block][row] if block == "districts" else doc[block]
    target[key] += delta
    assume(target[key] >= 0)
    rep = validate_plan(Plan.from_dict(doc), sc)
    assert rule in rep.rules, rep.messages
    assert rep.rules <= {"document.districts", "document.totals", "document.bikes_per_10k"}


def test_an_uploaded_baseline_is_the_plan_s_existing_stations() -> None:
    """With ``baseline.station_records`` the existing stations are the records, with their docks."""
    plan = _synthetic([(0.0, 0.0)], [(600.0, 0.0), (1200.0, 0.0)], [(0, 10, 10), (0, 12, 12), (1, 14, 14)])
    data = _synthetic_scenario(plan, 250.0).model_dump(mode="json", exclude_none=True)
    records = [
        {"station_id": s.station_id, "lat": s.lat, "lon": s.lon, "docks": s.docks}
        for s in plan.existing_stations
    ]
    data["baseline"] = {"station_records": records}
    assert validate_plan(plan, scenario_from_dict(data)).ok
    records[0]["docks"] = 13
    records[1]["station_id"] = "ST-9"
    rep = validate_plan(plan, scenario_from_dict(data))
    assert rep.rules == {"baseline.station_records"}
    assert [(v.subject, v.value, v.limit) for v in rep.violations] == [
        ("ST-9", "missing", "an existing station of the plan"),
        ("ST-1", "not a record", "one of baseline.station_records"),
        ("ST-0", 12, 13),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("broken", [False, True])
def test_mobility_plan_reports_the_independent_check(
    plan_30k: Plan, sc_30k: ExpansionScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bool
) -> None:
    """``mobility plan`` runs the validator on the plan it writes: ``valid`` and the violations in
    ``--json`` (the solve replaced by the real plan of this module, moved onto another station
    when ``broken``)."""
    import json

    from typer.testing import CliRunner

    import mobility.placement.pipeline as pipeline
    from mobility.cli import app

    plan = plan_30k
    if broken:
        doc, _ = _onto_new(copy.deepcopy(plan_30k.to_dict()), sc_30k)
        plan = Plan.from_dict(doc)
    monkeypatch.setattr(pipeline, "plan_expansion", lambda *a, **k: (plan, None))
    out = tmp_path / "out"
    argv = ["plan", str(SCENARIOS / "seoul-2019-30k.yaml"), "--out", str(out), "--no-maps", "--json"]
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == (1 if broken else 0), r.output  # 1: ran, did not pass (files written)
    summary = json.loads(r.stdout)
    assert summary["valid"] is (not broken)
    assert [m.split(":")[0] for m in summary["violations"]] == (["spacing.min_m"] if broken else [])
