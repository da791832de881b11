"""RebalancingProblem: input checks with clear messages, cost curves."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mobility.errors import InputError
from mobility.rebalancing.problem import Truck, curve_from_interval, curve_from_object, curve_from_target
from tests.rebalancing.rb_synth import make_problem


def test_negative_inventory_is_rejected_with_the_station_named() -> None:
    p = make_problem(0, n=4)
    bikes = np.asarray(p.bikes).copy()
    bikes[2] = -1
    with pytest.raises(InputError, match=r"stations\[ST-2\]\.bikes: got -1"):
        replace(p, bikes=bikes)


def test_truck_without_known_depot() -> None:
    p = make_problem(0, n=4)
    bad = Truck("X", "NOWHERE", 10, 79200, 108000)
    with pytest.raises(InputError, match=r"trucks\[X\]\.depot: got 'NOWHERE'"):
        replace(p, trucks=(*p.trucks, bad))


@pytest.mark.parametrize(
    ("truck", "field"),
    [
        (Truck("X", "D0", 10, 108000, 79200), "shift"),
        (Truck("X", "D0", 0, 79200, 108000), "capacity"),
        (Truck("X", "D0", 10, 79200, 108000, start_load=11), "start_load"),
    ],
)
def test_infeasible_trucks(truck: Truck, field: str) -> None:
    p = make_problem(0, n=4)
    with pytest.raises(InputError, match=rf"trucks\[X\]\.{field}"):
        replace(p, trucks=(truck,))


def test_matrix_shape_and_values_are_checked() -> None:
    p = make_problem(0, n=4)
    with pytest.raises(InputError, match="travel_s"):
        replace(p, travel_s=np.zeros((3, 3)))
    t = p.travel_s.copy()
    t[0, 1] = -5
    with pytest.raises(InputError, match="travel_s"):
        replace(p, travel_s=t)


def test_duplicate_station_ids() -> None:
    p = make_problem(0, n=3)
    with pytest.raises(InputError, match="unique station ids"):
        replace(p, station_ids=("a", "a", "b"))


def test_piecewise_linear_curves() -> None:
    assert curve_from_target(3, 5, per_bike=2.0).tolist() == [6, 4, 2, 0, 2, 4]
    assert curve_from_interval(1, 2, 3).tolist() == [1, 0, 0, 1]
    with pytest.raises(InputError):
        curve_from_interval(3, 1, 5)

    class Curve:
        costs = np.array([2.0, 1.0, 0.5])

    assert curve_from_object(Curve()).tolist() == [2.0, 1.0, 0.5]


def test_final_cost_extends_the_curve_and_adds_overflow() -> None:
    p = make_problem(0, n=3)
    i = 0
    c = p.curves[i]
    docks = int(p.docks[i])
    k = len(c) + 3  # beyond the curve: last slope continues
    slope = max(0.0, c[-1] - c[-2])
    expected = c[-1] + slope * (k - (len(c) - 1)) + p.overflow_penalty * max(0, k - docks)
    assert p.final_cost(i, k) == pytest.approx(expected)
    assert p.cost_table.shape[1] == int(np.max(p.bikes)) + p.max_capacity + 1
    lo, hi = p.band(i)
    assert p.risk(i, lo) == "ok" and p.risk(i, hi) == "ok"
    if lo > 0:
        assert p.risk(i, lo - 1) == "empty"
    assert p.risk(i, hi + 50) == "full"
