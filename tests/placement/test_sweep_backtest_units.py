"""Sweep and backtest building blocks on tiny hand-made inputs (fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.errors import InputError
from mobility.placement.backtest import match_new_stations, near_share, weighted_random_sites
from mobility.placement.candidates import conflict_pairs
from mobility.placement.models import ExpansionData, ExpansionModel, ModelParams
from mobility.placement.sweep import Sweep, SweepPoint, parse_range


def test_parse_range_counts_and_budgets() -> None:
    assert parse_range("300:800:100", "--new-stations") == [300, 400, 500, 600, 700, 800]
    assert parse_range("300:850:100", "--new-stations") == [300, 400, 500, 600, 700, 800]
    assert parse_range("500", "--new-stations") == [500]
    assert parse_range("1e9:2e9:5e8", "--budget", integer=False) == [1e9, 1.5e9, 2e9]


@pytest.mark.parametrize(
    "text", ["", "a:b:c", "800:300:100", "300:800:0", "1:2:3:4", "300.5:800:100", "-1:5:1"]
)
def test_parse_range_names_the_option(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_range(text, "--new-stations")
    assert info.value.field == "--new-stations"
    assert "A:B:STEP" in str(info.value)


def test_parse_range_refuses_thousands_of_points() -> None:
    with pytest.raises(InputError, match="at most 200 points"):
        parse_range("0:100000:1", "--new-stations")


@settings(max_examples=60, deadline=None)
@given(a=st.integers(0, 2000), span=st.integers(0, 2000), step=st.integers(1, 500))
def test_parse_range_stays_inside_and_steps_evenly(a: int, span: int, step: int) -> None:
    if span // step + 1 > 200:
        return
    vals = parse_range(f"{a}:{a + span}:{step}", "--new-stations")
    assert vals[0] == a and vals[-1] <= a + span < vals[-1] + step
    assert all(b - c == step for b, c in zip(vals[1:], vals[:-1], strict=False))


def _random_model(seed: int, n_sites: int, n_groups: int, max_total: int) -> ExpansionData:
    rng = np.random.default_rng(seed)
    cover = sp.csr_matrix(rng.random((n_sites, n_groups)) < 0.15)
    xy = rng.random((n_sites, 2)) * 1000
    return ExpansionData(
        cover=cover,
        group_weight=rng.integers(1, 100, n_groups).astype(np.float64),
        site_bonus=np.zeros(n_sites),
        conflicts=conflict_pairs(xy[:, 0], xy[:, 1], 120.0),
        site_district=np.zeros(n_sites, dtype=np.int64),
        district_names=["가구"],
        district_min_new=np.zeros(1, dtype=np.int64),
        min_total=0,
        max_total=max_total,
        required=[],
        required_names=[],
    )


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 5))
def test_warm_start_from_a_smaller_count_never_covers_less(seed: int, k: int) -> None:
    """The sweep's monotonicity: the smaller point's sites seed the larger point's incumbent."""
    params = ModelParams(time_limit=5, exact=True, backend="SCIP")
    small = ExpansionModel(_random_model(seed, 24, 50, k)).solve(params)
    big_model = ExpansionModel(_random_model(seed, 24, 50, k + 2))
    big = big_model.solve(params, warm_start=small.sites)
    assert big.covered_weight >= small.covered_weight
    assert big_model.is_feasible(big.sites)
    assert big.stats.extra["warm_start_sites"] == len(small.sites)


def test_warm_start_drops_conflicting_and_surplus_sites() -> None:
    d = _random_model(3, 30, 60, 2)
    model = ExpansionModel(d)
    conflicted = sp.triu(d.conflicts, k=1).tocoo()
    a, b = int(conflicted.row[0]), int(conflicted.col[0])
    kept = model._compatible(np.array([a, b, 7, 8, 9], dtype=np.int64))
    assert a in kept and b not in kept and len(kept) <= 2


def test_new_stations_are_those_without_an_old_one_within_50_m() -> None:
    old_x, old_y = np.array([0.0, 1000.0]), np.array([0.0, 0.0])
    new_x = np.array([0.0, 30.0, 49.9, 50.1, 1000.0, 500.0])
    new_y = np.zeros(6)
    assert match_new_stations(old_x, old_y, new_x, new_y).tolist() == [False, False, False, True, False, True]
    assert match_new_stations(np.zeros(0), np.zeros(0), new_x, new_y).all()


def test_near_share_and_random_sites() -> None:
    x, y = np.array([0.0, 100.0, 1000.0]), np.zeros(3)
    assert near_share(x, y, np.array([0.0]), np.array([250.0])) == pytest.approx(2 / 3)  # 250 m, 269 m
    assert near_share(x, y, np.zeros(0), np.zeros(0)) == 0.0
    gx, gy = np.arange(10.0), np.zeros(10)
    w = np.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 0], dtype=float)
    rx, _ = weighted_random_sites(gx, gy, w, 5, seed=0)
    assert sorted(rx.tolist()) == [5.0, 6.0, 7.0]  # only cells with residents, each once
    again, _ = weighted_random_sites(gx, gy, w, 5, seed=0)
    assert again.tolist() == rx.tolist()


def _tiny_sweep() -> Sweep:
    from mobility.provenance import Provenance

    pts = [
        SweepPoint(
            new_stations=n,
            budget=None,
            sited=n,
            covered_population=1000.0 + 10 * n,
            covered_share=(1000.0 + 10 * n) / 5000,
            covered_population_500=None,
            covered_share_500=None,
            predicted_trips=None,
            marginal_residents_per_station=10.0,
            status="optimal",
            objective=1.0,
            bound=1.0,
            gap=0.0,
            seconds=0.1,
            fleet_feasible=n >= 20,
            fleet_reason=None if n >= 20 else 'fleet.total_bikes = 30000 needs at least 20, "more"',
            sites=list(range(n)),
        )
        for n in (10, 20, 30)
    ]
    return Sweep(
        scenario="작은-시나리오",
        axis="new_stations",
        radius_m=300.0,
        population=5000.0,
        covered_population_before=900.0,
        covered_share_before=0.18,
        covered_share_500_before=None,
        points=pts,
        provenance=Provenance.collect({}, scenario={}, seed=0),
    )


def test_curve_writers(tmp_path: Path) -> None:
    import csv
    import json

    import jsonschema

    from mobility.export.curve import write_curve_chart, write_curve_csv, write_curve_html
    from mobility.export.page import VIEWPORT
    from mobility.placement.sweep import sweep_json_schema

    sw = _tiny_sweep()
    jsonschema.validate(json.loads(json.dumps(sw.to_dict())), sweep_json_schema())
    with write_curve_csv(sw, tmp_path / "c.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["sited"] for r in rows] == ["10", "20", "30"]
    assert rows[0]["fleet_feasible"] == "False" and "more" in rows[0]["fleet_reason"]
    assert "sites" not in rows[0]
    for name in ("c.png", "c.svg"):
        assert write_curve_chart(sw, tmp_path / name).stat().st_size > 1000
    assert "작은-시나리오" in write_curve_chart(sw, tmp_path / "k.svg").read_text(encoding="utf-8")
    page = write_curve_html(sw, tmp_path / "c.html").read_text(encoding="utf-8")
    assert "plotly" in page and VIEWPORT in page  # a phone lays it out at its own width
    with pytest.raises(InputError):
        write_curve_chart(sw, tmp_path / "c.gif")


def test_scenario_at_sets_the_count_or_the_budget() -> None:
    from mobility.config import PROJECT_ROOT
    from mobility.placement.sweep import scenario_at
    from mobility.scenario.expansion import load_scenario

    sc = load_scenario(PROJECT_ROOT / "scenarios" / "seoul-2019-30k.yaml")
    at = scenario_at(sc, "new_stations", 450)
    assert at.new_stations.max == 450 and at.new_stations.exact is None and at.max_new_stations() == 450
    assert sc.new_stations.max == 600  # the original is untouched
    with pytest.raises(InputError, match="budget section"):
        scenario_at(sc, "budget", 1e10)
    bud = load_scenario(PROJECT_ROOT / "scenarios" / "seoul-2019-budget.yaml")
    assert bud.budget is not None
    cheaper = scenario_at(bud, "budget", 1e10)
    assert cheaper.budget is not None and cheaper.budget.total == 1e10
    assert cheaper.budget.cost_per_station == bud.budget.cost_per_station
    assert cheaper.max_new_stations() < bud.max_new_stations()
