"""RebalancingPlan: building, JSON round trip, schema."""

from __future__ import annotations

import json

import jsonschema

from mobility.rebalancing.plan import RebalancingPlan, RouteSpec, build_plan, clock, routes_json_schema
from mobility.rebalancing.problem import RebalancingProblem
from mobility.stats import SolverStats
from tests.rebalancing.rb_synth import make_problem


def _plan() -> tuple[RebalancingProblem, RebalancingPlan]:
    p = make_problem(1, n=6, capacity=5)
    # ST-0 has 5 bikes, ST-2 has 1 (see make_problem(1)): take 3, drop 3
    spec = RouteSpec(0, 0, ((0, 3), (2, -3)))
    return p, build_plan(p, [spec], SolverStats("test", "feasible", 0.0, None, 0.0, 0))


def test_times_loads_and_totals() -> None:
    p, plan = _plan()
    r = plan.routes[0]
    s1, s2 = r.stops
    assert s1.arrival_s == round(79200 + p.travel_s[0, 1], 1)
    assert s1.departure_s == round(s1.arrival_s + 120 + 30 * 3, 1)
    assert (s1.load_after, s2.load_after) == (3, 0)
    assert (s1.bikes_after, s2.bikes_after) == (int(p.bikes[0]) - 3, int(p.bikes[2]) + 3)
    assert plan.totals.bikes_moved == 3 and plan.totals.trucks_used == 1
    assert r.end_s > s2.departure_s
    assert clock(79200) == "22:00" and clock(108000) == "06:00"


def test_json_round_trip_and_schema() -> None:
    _, plan = _plan()
    d = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    jsonschema.validate(d, routes_json_schema())
    assert RebalancingPlan.model_validate(d).to_dict() == d
    assert "대여소" in json.dumps(plan.to_dict(), ensure_ascii=False)


def test_schema_rejects_a_fractional_quantity() -> None:
    _, plan = _plan()
    d = plan.to_dict()
    d["routes"][0]["stops"][0]["quantity"] = 2.5
    try:
        jsonschema.validate(d, routes_json_schema())
    except jsonschema.ValidationError:
        return
    raise AssertionError("a fractional quantity passed the schema")
