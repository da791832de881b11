"""The independent validator catches every kind of violation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mobility.rebalancing.plan import RouteSpec, build_plan
from mobility.rebalancing.validate import validate_plan
from mobility.stats import SolverStats
from tests.rebalancing.rb_synth import make_problem

P = make_problem(1, n=6, capacity=5)


def _good() -> dict[str, Any]:
    spec = RouteSpec(0, 0, ((0, 3), (2, -3)))
    return build_plan(P, [spec], SolverStats("t", "feasible", 0.0, None, 0.0, 0)).to_dict()


def test_good_plan_passes() -> None:
    rep = validate_plan(P, _good())
    assert rep.ok, rep.violations
    assert rep.bikes_moved == 3


def _tamper(path: str, value: Any) -> dict[str, Any]:
    d = copy.deepcopy(_good())
    obj: Any = d
    keys = path.split(".")
    for k in keys[:-1]:
        obj = obj[int(k)] if k.isdigit() else obj[k]
    last = keys[-1]
    obj[int(last) if last.isdigit() else last] = value
    return d


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("routes.0.stops.0.quantity", 2.0, "not an integer"),
        ("routes.0.stops.0.quantity", 6, "outside [0, 5]"),
        ("routes.0.start_load", 3, "!= fixed start load"),
        ("routes.0.stops.1.arrival_s", 79201.0, "arrives"),
        ("routes.0.stops.0.station_id", "ST-99", "unknown station"),
        ("routes.0.truck_id", "T9", "unknown truck"),
        ("routes.0.end_s", 200000.0, "after shift end"),
        ("routes.0.stops.0.load_after", 4, "load_after"),
        ("totals.bikes_moved", 7, "totals.bikes_moved"),
    ],
)
def test_violations_are_reported(path: str, value: Any, message: str) -> None:
    rep = validate_plan(P, _tamper(path, value))
    assert not rep.ok
    assert any(message in v for v in rep.violations), rep.violations


def test_station_below_zero_and_double_visit() -> None:
    b0 = int(P.bikes[0])
    spec = RouteSpec(0, 0, ((0, min(b0, 2)), (0, 1)))
    d = build_plan(P, [spec], SolverStats("t", "feasible", 0.0, None, 0.0, 0)).to_dict()
    rep = validate_plan(P, d)
    assert any("max_visits" in v for v in rep.violations)
    spec = RouteSpec(0, 0, ((2, int(P.bikes[2]) + 1),))
    d = build_plan(P, [spec], SolverStats("t", "feasible", 0.0, None, 0.0, 0)).to_dict()
    rep = validate_plan(P, d)
    assert any("< 0" in v for v in rep.violations), rep.violations


def test_bikes_must_be_conserved() -> None:
    d = _good()
    d["routes"][0]["stops"][1]["quantity"] = -2  # drops 2, yet claims the truck ends empty
    d["routes"][0]["stops"][1]["load_after"] = 1
    rep = validate_plan(P, d)
    assert any("end_load" in v for v in rep.violations)
