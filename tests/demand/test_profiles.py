"""Station demand profiles: levels reproduce the counts they were fitted on; shrinkage; day types."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.demand.holidays import count_day_types, day_type, month_day_types
from mobility.demand.profiles import (
    StationProfiles,
    build_profiles,
    estimate_alpha,
    profile_summary,
)
from mobility.errors import InputError


def _stations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "number": [101, 102, 103, 104],
            "station_id": ["ST-1", "ST-2", "ST-3", "ST-4"],
            "name": ["망원역", "합정역", "서교동", "새 대여소"],
            "gu": ["마포구", "마포구", "마포구", "마포구"],
            "lat": [37.5556, 37.5495, 37.5520, 37.5530],
            "lon": [126.9106, 126.9138, 126.9200, 126.9150],
            "docks": [15, 10, 20, 8],
        }
    )


def _trips() -> dict[str, pd.DataFrame]:
    rows = []
    # station 101: morning rentals on weekdays (2018-03-05 is a Monday), returns at 102
    for d in ("2018-03-05", "2018-03-06", "2018-03-07"):
        for m in range(6):
            rows.append((f"{d} 08:{m:02d}", f"{d} 08:{m + 20:02d}", 101, 102))
        rows.append((f"{d} 18:00", f"{d} 18:30", 102, 101))
    # weekend rows (2018-03-10 is a Saturday; 2018-03-01 is a public holiday)
    rows.append(("2018-03-10 14:00", "2018-03-10 14:30", 103, 101))
    rows.append(("2018-03-01 15:00", "2018-03-01 15:40", 101, 999))  # 999 is unknown
    df = pd.DataFrame(rows, columns=["rent_time", "return_time", "rent_station", "return_station"])
    df["rent_time"] = pd.to_datetime(df["rent_time"])
    df["return_time"] = pd.to_datetime(df["return_time"])
    df["weight"] = 100
    return {"sample": df}


def _usage() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "number": [101, 101, 102, 103, 555],
            "month": ["2023-01", "2023-02", "2023-01", "2023-03", "2023-01"],
            "rentals": [300, 280, 100, 50, 7],
            "returns": [310, 270, 90, 60, 8],
        }
    )


def test_day_types_follow_korean_holidays() -> None:
    assert day_type(pd.Timestamp("2023-03-01")) == "weekend"  # 삼일절, a Wednesday
    assert day_type(pd.Timestamp("2023-09-28")) == "weekend"  # 추석 연휴
    assert day_type(pd.Timestamp("2023-03-02")) == "weekday"
    assert day_type(pd.Timestamp("2022-01-01")) == "weekend"
    assert month_day_types("2023-01") == {"weekday": 20, "weekend": 11}  # 설날 21–24 Jan
    assert sum(count_day_types(pd.date_range("2023-01-01", "2023-12-31")).values()) == 365


def test_rates_reproduce_the_counts_they_were_fitted_on() -> None:
    prof = build_profiles(_trips(), _usage(), _stations())
    st = prof.stations
    for i, row in st.iterrows():
        if row["level_source"] == "district median":
            continue
        days = np.array([row["days_weekday"], row["days_weekend"]])
        k = cast(int, i)  # the row position (iterrows types the index label as any Hashable)
        assert (prof.rent[k].sum(axis=1) * days).sum() == pytest.approx(row["rentals"])
        assert (prof.ret[k].sum(axis=1) * days).sum() == pytest.approx(row["returns"])
    # station 101 reported in Jan and Feb 2023 only: 59 days
    r101 = st.set_index("number").loc[101]
    assert r101["days_weekday"] + r101["days_weekend"] == 59
    # station 104 has no 2023 usage: it takes its district's median level
    r104 = st.set_index("number").loc[104]
    assert r104["level_source"] == "district median"
    assert prof.rent[3].sum() > 0


def test_shapes_are_distributions_that_follow_the_trips() -> None:
    prof = build_profiles(_trips(), _usage(), _stations())
    levels = prof.rent.sum(axis=2, keepdims=True)
    shares = prof.rent / levels
    assert np.allclose(shares.sum(axis=2), 1.0)
    assert np.all(prof.rent >= 0) and np.all(prof.ret >= 0)
    # station 101's weekday rentals peak at 08 h, station 102's weekday returns too
    assert int(np.argmax(prof.rent[0, 0])) == 8
    assert int(np.argmax(prof.ret[1, 0])) == 8
    # the unknown return station is counted, not silently dropped
    dropped = prof.report.dropped
    assert dropped["sample: return event at a station not in the station list"] == 1
    assert dropped["usage: station not in the station list"] == 1


def test_od_shares_sum_to_one_per_origin_hour() -> None:
    prof = build_profiles(_trips(), _usage(), _stations())
    od = prof.od
    sums = od.groupby(["day_type", "hour", "rent_station"])["share"].sum()
    assert np.allclose(sums, 1.0)
    first = od[(od["rent_station"] == 101) & (od["hour"] == 8)]
    assert first["return_station"].tolist() == [102]
    assert int(first["trips"].iloc[0]) == 18


def test_estimate_alpha_recovers_pooling() -> None:
    rng = np.random.default_rng(1)
    p = np.full(24, 1 / 24)
    # every station draws from the same shares: no overdispersion -> strong pooling
    same = rng.multinomial(200, p, size=300).astype(float)
    assert estimate_alpha(same, np.tile(p, (300, 1))) > 500
    # stations with their own shares (Dirichlet with concentration 20) -> alpha near 20
    own = np.array([rng.multinomial(400, rng.dirichlet(20 * p)) for _ in range(600)], dtype=float)
    assert 10 < estimate_alpha(own, np.tile(p, (600, 1))) < 40


def test_round_trip_through_the_table() -> None:
    shuffled = _stations().iloc[[2, 0, 3, 1]]
    prof = build_profiles(_trips(), _usage(), shuffled)
    assert prof.stations["number"].tolist() == [101, 102, 103, 104]  # canonical order
    back = StationProfiles.from_frame(prof.to_frame(), prof.od)
    assert back.stations["number"].tolist() == prof.stations["number"].tolist()
    assert np.allclose(back.rent, prof.rent)
    assert np.allclose(back.ret, prof.ret)
    assert back.stations["name"].tolist() == prof.stations["name"].tolist()


def test_station_lookup_by_number_and_korean_name() -> None:
    prof = build_profiles(_trips(), _usage(), _stations())
    assert prof.index_of("00102") == 1
    assert prof.index_of("서교동") == 2
    assert profile_summary(prof, "망원", "weekday")["name"] == "망원역"
    with pytest.raises(InputError, match="station"):
        prof.index_of("없는역")
    with pytest.raises(InputError, match="several"):
        prof.index_of("역")
    with pytest.raises(InputError, match="day_type"):
        prof.day_index("monday")


def test_station_lookup_by_decomposed_hangul() -> None:
    """A name pasted in decomposed jamo (NFD, from a macOS file name) finds its station; it was
    refused with a message that showed the very same name."""
    import unicodedata

    prof = build_profiles(_trips(), _usage(), _stations())
    assert prof.index_of(unicodedata.normalize("NFD", "서교동")) == 2
    assert prof.index_of(unicodedata.normalize("NFD", "망원역")) == prof.index_of("망원역")


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 364 * 24 - 1),  # rent hour offset in 2018
            st.integers(0, 3),  # rent station index
            st.integers(0, 3),  # return station index
        ),
        min_size=0,
        max_size=40,
    ),
    monthly=st.lists(st.integers(0, 5000), min_size=4, max_size=4),
)
def test_invariants_on_random_trips(rows: list[tuple[int, int, int]], monthly: list[int]) -> None:
    stations = _stations()
    numbers = stations["number"].tolist()
    start = pd.Timestamp("2018-01-01")
    trips = pd.DataFrame(
        {
            "rent_time": [start + pd.Timedelta(hours=h) for h, _, _ in rows],
            "return_time": [start + pd.Timedelta(hours=h, minutes=30) for h, _, _ in rows],
            "rent_station": [numbers[a] for _, a, _ in rows],
            "return_station": [numbers[b] for _, _, b in rows],
        }
    )
    usage = pd.DataFrame(
        {"number": numbers, "month": ["2023-04"] * 4, "rentals": monthly, "returns": monthly[::-1]}
    )
    prof = build_profiles({"random": trips}, usage, stations)
    assert np.all(np.isfinite(prof.rent)) and np.all(prof.rent >= 0)
    days = np.array([prof.stations["days_weekday"], prof.stations["days_weekend"]]).T
    assert np.allclose((prof.rent.sum(axis=2) * days).sum(axis=1), monthly)
    assert np.allclose((prof.ret.sum(axis=2) * days).sum(axis=1), monthly[::-1])
    if len(prof.od):
        assert np.allclose(prof.od.groupby(["day_type", "hour", "rent_station"])["share"].sum(), 1.0)


def test_od_matrix() -> None:
    prof = build_profiles(_trips(), _usage(), _stations())
    m = prof.od_matrix("weekday", 8)
    assert m.shape == (4, 4)
    assert m[0, 1] == pytest.approx(1.0)  # 101 -> 102 at 08 h on weekdays
    assert np.allclose(np.asarray(m.sum(axis=1)).ravel(), [1.0, 0.0, 0.0, 0.0])
    assert prof.od_matrix("weekend", 3).nnz == 0
    with pytest.raises(InputError, match="hour"):
        prof.od_matrix("weekday", 24)
