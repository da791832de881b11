"""Bad inputs get a clear error naming the field; the fitted pieces of the rider model hold up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.errors import InputError
from mobility.placement.plan import StationAllocation
from mobility.rebalancing.plan import PlanTotals, RebalancingPlan, Stop, TruckRoute
from mobility.simulation.data import (
    apply_routes,
    load_station_set,
    scale_fleet,
    stations_from_plan,
    status_bikes,
)
from mobility.simulation.fleets import parse_fleet
from mobility.simulation.model import RiderParams, fit_od, fit_season, slot_rates
from mobility.simulation.result import simulation_json_schema
from mobility.stats import SolverStats
from tests.placement.test_plan import sample_plan


def stations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "station_id": ["ST-1", "ST-2", "ST-3"],
            "number": pd.array([101, 102, 103], dtype="Int64"),
            "name": ["가", "나", "다"],
            "gu": ["마포구"] * 3,
            "lat": [37.55, 37.56, 37.57],
            "lon": [126.9, 126.91, 126.92],
            "docks": [10, 10, 10],
        }
    )


def test_status_is_matched_and_validated() -> None:
    st = stations()
    ok = pd.DataFrame({"station_id": ["ST-3", "ST-1", "ST-2"], "bikes": [3, 1, 25]})
    assert status_bikes(st, ok).tolist() == [1, 25, 3]  # 25 > 10 docks is allowed (soft capacity)
    by_number = pd.DataFrame({"number": [101, 102, 103], "bikes": [0, 0, 4]})
    assert status_bikes(st, by_number).tolist() == [0, 0, 4]
    with pytest.raises(InputError, match=r"station_id.*ST-9"):
        status_bikes(st, pd.DataFrame({"station_id": ["ST-1", "ST-9"], "bikes": [1, 1]}))
    with pytest.raises(InputError, match=r"bikes\[row 1\]"):
        status_bikes(st, pd.DataFrame({"station_id": ["ST-1", "ST-2", "ST-3"], "bikes": [1, -1, 0]}))
    with pytest.raises(InputError, match="no row for 1 stations"):
        status_bikes(st, pd.DataFrame({"station_id": ["ST-1", "ST-2"], "bikes": [1, 1]}))


def test_status_rows_are_never_merged_or_rounded_silently() -> None:
    """Two rows for ST-1 (the last one won) and 2.7 bikes (read as 2) were taken without a word."""
    st = stations()
    twice = pd.DataFrame({"station_id": ["ST-1", "ST-2", "ST-3", "ST-1"], "bikes": [5, 1, 1, 9]})
    repeated = r"--status.station_id\[row 3\]: got 'ST-1'; expected one row per station"
    with pytest.raises(InputError, match=repeated):
        status_bikes(st, twice)
    by_number = pd.DataFrame({"number": [101, 102, 103, 103], "bikes": [0, 0, 4, 4]})
    with pytest.raises(InputError, match=r"number\[row 3\]: got '103'"):
        status_bikes(st, by_number)
    fraction = pd.DataFrame({"station_id": ["ST-1", "ST-2", "ST-3"], "bikes": [1.0, 2.7, 0]})
    with pytest.raises(InputError, match=r"bikes\[row 1\]: got 2.7; expected a whole number >= 0"):
        status_bikes(st, fraction)
    whole = pd.DataFrame({"station_id": ["ST-1", "ST-2", "ST-3"], "bikes": [1.0, 2.0, 0.0]})
    assert status_bikes(st, whole).tolist() == [1, 2, 0]


def test_a_station_table_is_checked_before_it_is_simulated() -> None:
    """A station given twice was simulated twice; a table without ``gu`` failed with KeyError."""
    from mobility.simulation.data import station_set_from_table

    st = stations()
    with pytest.raises(InputError, match=r"stations.station_id: got 'ST-2'; expected one row per station"):
        station_set_from_table(pd.concat([st, st.iloc[[1]]]), "mine")
    again = st.assign(
        station_id=pd.array(["ST-1", "ST-2", None], dtype="string"),
        number=pd.array([101, 102, 101], dtype="Int64"),
    )
    with pytest.raises(InputError, match=r"stations.number: got '101'"):
        station_set_from_table(again, "mine")
    with pytest.raises(InputError, match=r"stations.columns: .*missing \['gu'\]"):
        station_set_from_table(st.drop(columns=["gu"]), "mine")
    # new stations: no id, no number, no name; several of them are not duplicates
    new = st.drop(columns=["station_id", "number", "name"])
    ss = station_set_from_table(new, "mine")
    assert list(ss.table.columns) == ["station_id", "number", "name", "gu", "lat", "lon", "docks"]
    assert ss.table["number"].isna().all() and ss.table["station_id"].isna().all()


def routes_doc(stops: list[tuple[str, int]]) -> dict[str, object]:
    """A complete ``routes.json`` document (one truck visiting ``stops``: station id, quantity)."""
    route = TruckRoute(
        truck_id="T1",
        depot_id="D1",
        capacity=20,
        start_s=0.0,
        end_s=3600.0,
        start_load=0,
        end_load=0,
        stops=tuple(
            Stop(
                seq=k,
                station_id=sid,
                name=sid,
                lon=126.9,
                lat=37.55,
                arrival_s=600.0 * (k + 1),
                departure_s=600.0 * (k + 1) + 60,
                quantity=q,
                load_after=0,
                bikes_before=0,
                bikes_after=0,
            )
            for k, (sid, q) in enumerate(stops)
        ),
        distance_km=1.0,
    )
    totals = PlanTotals.model_validate(dict.fromkeys(PlanTotals.model_fields, 0))
    stats = SolverStats("t", "feasible", 0.0, None, 0.0, 0)
    plan = RebalancingPlan(totals=totals, routes=(route,), still_empty=(), still_full=(), stats=stats)
    return plan.to_dict()


def test_routes_are_applied_and_checked() -> None:
    st = stations()
    routes = routes_doc([("ST-1", 4), ("ST-2", -4)])
    assert apply_routes(st, np.array([5, 0, 2]), routes).tolist() == [1, 4, 2]
    other = routes_doc([("ST-77", 1)])
    with pytest.raises(InputError, match="another network"):
        apply_routes(st, np.array([5, 0, 2]), other)
    with pytest.raises(InputError, match="ST-2"):
        apply_routes(st, np.array([5, 0, 2]), routes_doc([("ST-2", 1)]))


def test_fleet_scaling_keeps_the_total() -> None:
    out = scale_fleet(np.array([1, 2, 3]), np.array([10, 10, 10]), 1001)
    assert out.sum() == 1001 and (out >= 0).all()
    assert scale_fleet(np.zeros(3, dtype=np.int64), np.array([1, 1, 2]), 8).tolist() == [2, 2, 4]
    assert parse_fleet("20000:30000:5000") == [20000, 25000, 30000]
    for bad in ("30000:20000:5000", "1:2:0", "x", "-5"):
        with pytest.raises(InputError, match="--fleet"):
            parse_fleet(bad)


def test_season_model_and_day_range() -> None:
    months = pd.period_range("2019-01", "2023-12", freq="M").astype(str)
    seasonal = np.array([0.5, 0.6, 1.0, 1.2, 1.3, 1.4, 1.1, 1.1, 1.3, 1.3, 1.0, 0.6])
    growth = {2019: 0.4, 2020: 0.5, 2021: 0.7, 2022: 0.9, 2023: 1.0}
    trips = [
        1000.0 * seasonal[int(m[5:]) - 1] * growth[int(m[:4])] * pd.Period(m).days_in_month for m in months
    ]
    sm = fit_season(pd.DataFrame({"month": months, "trips": trips}), exclude=("2023-06",))
    assert sm.year[2019] == pytest.approx(0.4, rel=1e-6)
    assert sm.season[6] / sm.season[1] == pytest.approx(1.4 / 0.5, rel=1e-6)  # June from other years only
    with pytest.raises(InputError, match="--day"):
        sm.factor(pd.Timestamp("2026-06-01"))
    assert slot_rates(np.ones((2, 24)), 2.0).sum() == pytest.approx(2 * 24 * 2.0)


def test_a_forecast_from_the_past_sees_no_later_month() -> None:
    months = pd.period_range("2019-01", "2023-12", freq="M").astype(str)
    seasonal = np.array([0.5, 0.6, 1.0, 1.2, 1.3, 1.4, 1.1, 1.1, 1.3, 1.3, 1.0, 0.6])
    growth = {2019: 0.4, 2020: 0.5, 2021: 0.7, 2022: 0.9, 2023: 1.0}
    trips = np.array(
        [1000.0 * seasonal[int(m[5:]) - 1] * growth[int(m[:4])] * pd.Period(m).days_in_month for m in months]
    )
    table = pd.DataFrame({"month": months, "trips": trips})
    sm = fit_season(table, before="2022-01")
    assert sm.trend == pytest.approx(0.7 / 0.5, rel=1e-6)  # 2021 over 2020
    assert 2022 not in sm.year
    # January 2022 = 2021's level grown by the trend over half a year (2021-07-01 to the day, 184
    # days), in units of 2023's mean day: season 0.5 / mean season, level 0.7 / 1.0
    expected = 0.5 / seasonal.mean() * 0.7 * (0.7 / 0.5) ** (184 / 365.25)
    assert sm.factor(pd.Timestamp("2022-01-01")) == pytest.approx(expected, rel=1e-6)
    # changing any month from 2022-01 on (other than the base year's unit) changes nothing
    later = table.copy()
    later.loc[later["month"].between("2022-01", "2022-12"), "trips"] *= 3.0
    assert fit_season(later, before="2022-01").factor(pd.Timestamp("2022-01-01")) == pytest.approx(
        sm.factor(pd.Timestamp("2022-01-01")), rel=1e-12
    )


def test_district_drift_uses_the_three_months_before() -> None:
    from mobility.simulation.model import district_drift

    rows = []
    for m in pd.period_range("2021-01", "2023-12", freq="M").astype(str):
        a = 300 if m in ("2021-10", "2021-11", "2021-12") else 100  # A's share rose before 2022
        a = 900 if m.startswith("2022") else a  # ... and later months must not matter
        rows += [(m, "A", a, True), (m, "B", 100, True), (m, "미상", 500, False)]
    t = pd.DataFrame(rows, columns=["month", "gu_kr", "trips", "assigned"])
    f = district_drift(np.array(["A", "B", "C"]), t, "2022-01")
    # recent shares 0.75 / 0.25 against 0.5 / 0.5 in 2023; an unknown district stays at 1
    assert f.tolist() == pytest.approx([1.5, 0.5, 1.0])


def test_od_model_is_smoothed_and_normalised() -> None:
    rng = np.random.default_rng(0)
    n = 30
    ride = rng.uniform(100, 2000, (n, n))
    np.fill_diagonal(ride, 0.0)
    o = rng.integers(0, n, 500)
    d = rng.integers(0, n, 500)
    od = fit_od(o, d, ride, RiderParams(od_neighbours=5))
    p = od.probabilities().toarray()
    assert np.allclose(p.sum(axis=1), 1.0)
    assert (p >= 0).all()
    # a pair never observed but among the 5 nearest keeps a positive probability
    seen = np.zeros((n, n), dtype=bool)
    seen[o, d] = True
    nearest = np.argsort(np.where(np.eye(n, dtype=bool), np.inf, ride), axis=1)[:, :5]
    i = int(np.flatnonzero(~seen[np.arange(n)[:, None], nearest].all(axis=1))[0])
    j = int(next(k for k in nearest[i] if not seen[i, k]))
    assert p[i, j] > 0
    # last cumulative value of each row is 1
    assert np.allclose(od.cum[od.ptr[1:] - 1], 1.0)


def test_plan_documents_give_stations_and_bikes(tmp_path: Path) -> None:
    base = sample_plan()
    existing = StationAllocation(
        station_id="ST-1", number=101, name="가", gu="마포구", lat=37.5, lon=126.9, docks=10, bikes=7
    )
    new = base.new_stations[0].model_copy(
        update={"id": "NEW-0001", "lat": 37.51, "lon": 126.91, "gu": "마포구", "docks": 12, "bikes": 9}
    )
    plan = base.model_copy(update={"existing_stations": [existing], "new_stations": [new]}).to_dict()
    ss = stations_from_plan(plan)
    assert ss.bikes_from_source
    assert ss.table["station_id"].tolist() == ["ST-1", "NEW-0001"]
    assert ss.table["bikes"].tolist() == [7, 9] and ss.table["docks"].tolist() == [10, 12]
    with pytest.raises(InputError, match="SOURCE"):
        stations_from_plan({"routes": []})
    with pytest.raises(InputError, match="SOURCE"):
        load_station_set(tmp_path / "missing-plan.json")


def test_result_schema_is_generated() -> None:
    schema = simulation_json_schema()
    assert {"citywide", "districts", "hours", "replications", "seed", "start_inventory"} <= set(
        schema["properties"]
    )


def test_day_factors_recover_a_quiet_holiday_and_the_weekend_share() -> None:
    """Synthetic dated trips: weekdays 100/day, weekends 80, holidays half an ordinary weekend day."""
    from mobility.demand.holidays import is_holiday
    from mobility.simulation.model import fit_day_factors

    rows = []
    for d in pd.date_range("2018-01-01", "2018-12-31"):
        n = 40 if is_holiday(d.date()) else (80 if d.weekday() >= 5 else 100)
        rows += [d + pd.Timedelta(hours=12)] * n
    f = fit_day_factors(pd.Series(rows))
    assert f.month is not None
    assert f.holiday == pytest.approx(0.5) and f.holidays_used >= 10
    assert f.factor(pd.Timestamp("2018-06-12")) == pytest.approx(f.month["weekday"][6])
    assert f.month["weekend"][6] < 1.0 < f.month["weekday"][6]  # weekends below the month's mean day
    assert f.factor(pd.Timestamp("2018-01-01")) == pytest.approx(0.5 * f.month["weekend"][1])
    assert fit_day_factors(pd.Series([], dtype="datetime64[ns]")).factor(pd.Timestamp("2018-06-13")) == 1.0


def test_a_new_station_takes_the_demand_potential_level_with_its_neighbours_shape() -> None:
    from mobility.demand.profiles import HOURS, StationProfiles
    from mobility.simulation.data import fit_model

    lon = 126.97 + 0.003 * np.arange(6)
    known = pd.DataFrame(
        {"number": [1, 2, 3, 4, 5], "station_id": [f"ST-{i}" for i in range(1, 6)],
         "name": list("가나다라마"), "gu": ["중구"] * 5, "docks": [10] * 5, "lon": lon[:5],
         "lat": [37.56] * 5, "level_source": ["2023 monthly usage"] * 5}
    )  # fmt: skip
    rent = np.zeros((5, 2, HOURS))
    rent[:, 0, :] = 1.0  # 24 rentals a weekday
    rent[:, 1, :] = 0.5  # 12 a weekend day
    prof = StationProfiles(stations=known, rent=rent, ret=rent.copy(), od=pd.DataFrame())
    st = pd.concat(
        [known.drop(columns="level_source"),
         pd.DataFrame({"number": [None], "station_id": ["NEW-0001"], "name": ["new"], "gu": ["중구"],
                       "docks": [12], "lon": [lon[5]], "lat": [37.56]})],
        ignore_index=True,
    )  # fmt: skip
    st["number"] = pd.to_numeric(st["number"]).astype("Int64")
    x = np.arange(6) * 300.0
    ride = np.abs(x[:, None] - x[None, :]) / 4 + 60
    np.fill_diagonal(ride, 0)
    o = np.r_[np.arange(5).repeat(4), np.arange(5).repeat(4)] + 1
    d = np.r_[(np.arange(5).repeat(4) + 1) % 5, np.arange(5).repeat(4)] + 1
    trips = {"t": pd.DataFrame({"rent_station": o, "return_station": d, "duration_min": 12.0,
                                "rent_time": pd.Timestamp("2023-06-14 08:00")})}  # fmt: skip
    monthly = pd.DataFrame({"month": [f"2023-{m:02d}" for m in range(1, 13)], "trips": 1_000_000})
    potential = np.r_[np.full(5, np.nan), 70.0]  # trips a day = rentals + returns
    m = fit_model(st, prof, trips, monthly, ride, np.abs(x[:, None] - x[None, :]),
                  preserve_total=False, potential=potential)  # fmt: skip
    wd, we = m.hourly["weekday"][5].sum(), m.hourly["weekend"][5].sum()
    assert (5 * wd + 2 * we) / 7 == pytest.approx(35.0)  # half the trips are rentals
    assert wd / we == pytest.approx(2.0)  # the neighbours' weekday/weekend split
    assert m.rate_source[5].startswith("demand potential")
    assert m.hourly["weekday"][0].sum() == pytest.approx(24.0)  # known stations keep their profile


def test_a_part_of_the_city_gets_that_part_of_the_volume() -> None:
    """One district's stations share that district's riders, a whole network the city's."""
    from mobility.demand.profiles import HOURS, StationProfiles
    from mobility.simulation.data import area_volume

    gu = ["중구", "중구", "마포구", "마포구", "마포구"]
    prof = pd.DataFrame({"number": range(1, 6), "gu": gu, "lon": 127.0, "lat": 37.56})
    rent = np.zeros((5, 2, HOURS))
    rent[:, 0, :] = np.array([1.0, 2.0, 3.0, 4.0, 5.0])[:, None]
    rent[:, 1, :] = 0.5
    profiles = StationProfiles(stations=prof, rent=rent, ret=rent.copy(), od=pd.DataFrame())
    mapo = pd.DataFrame({"gu": ["마포구", "마포구"]})
    assert area_volume(profiles, mapo, 0) == pytest.approx(24 * (3 + 4 + 5))
    assert area_volume(profiles, mapo, 1) == pytest.approx(24 * 0.5 * 3)
    whole = pd.DataFrame({"gu": ["중구", "마포구", "마포구"]})  # fewer stations, every district
    assert area_volume(profiles, whole, 0) == pytest.approx(24 * 15)
    unnamed = pd.DataFrame({"gu": [None, ""]})  # no district known: the city's volume
    assert area_volume(profiles, unnamed, 0) == pytest.approx(24 * 15)
