"""The binding rules of an infeasible expansion model are a minimal set, not CP-SAT's first core."""

from __future__ import annotations

from typing import Any

from ortools.sat.python import cp_model

from mobility.placement.models import minimal_core


def _floors(needs: dict[str, tuple[list[int], int]], most: int) -> tuple[Any, dict[str, int]]:
    """Ten sites, at most ``most`` opened; each named floor needs ``k`` of its sites (an assumption)."""
    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y{j}") for j in range(10)]
    m.add(sum(y) <= most)
    lits = {}
    for name, (sites, k) in needs.items():
        lit = m.new_bool_var(name)
        m.add(sum(y[j] for j in sites) >= k).only_enforce_if(lit)
        lits[name] = lit.index
    m.maximize(sum(y))
    return m, lits


def test_a_floor_that_takes_no_part_is_left_out() -> None:
    """a, b and c need six sites of five; d (one more site) fits beside any two of them."""
    m, lit = _floors({"a": ([0, 1], 2), "b": ([2, 3], 2), "c": ([4, 5], 2), "d": ([6], 1)}, most=5)
    kept, minimal = minimal_core(m, [lit["a"], lit["b"], lit["c"], lit["d"]], 10.0)
    assert minimal and kept == [lit["a"], lit["b"], lit["c"]]


def test_a_floor_that_fails_alone_is_the_only_rule_named() -> None:
    """e needs three of its two sites: the other floors, each met, are not named with it."""
    needs = {"a": ([0, 1], 2), "b": ([2, 3], 1), "e": ([7, 8], 3)}
    m, lit = _floors(needs, most=9)
    kept, minimal = minimal_core(m, [lit["a"], lit["b"], lit["e"]], 10.0)
    assert minimal and kept == [lit["e"]]


def test_a_model_infeasible_without_any_floor_names_none() -> None:
    m, lit = _floors({"a": ([0, 1], 1)}, most=-1)
    assert minimal_core(m, [lit["a"]], 10.0) == ([], True)


def test_out_of_time_the_core_is_kept_and_said_not_minimal() -> None:
    m, lit = _floors({"a": ([0, 1], 2), "b": ([2, 3], 2), "c": ([4, 5], 2)}, most=5)
    core = [lit["a"], lit["b"], lit["c"]]
    assert minimal_core(m, core, 0.0) == (core, False)
