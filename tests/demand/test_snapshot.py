"""Derived evening snapshots: morning targets advanced by net flows, labelled as derived."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.demand.inventory import InventoryParams, dissatisfaction_curves
from mobility.demand.profiles import HOURS, StationProfiles
from mobility.demand.snapshot import derive_snapshot, expected_net_flow
from mobility.errors import InputError


def _profiles() -> StationProfiles:
    st = pd.DataFrame(
        {
            "number": [1, 2, 3],
            "station_id": ["ST-1", "ST-2", "ST-3"],
            "name": ["가", "나", "다"],
            "gu": ["중구"] * 3,
            "docks": [10, 10, 4],
        }
    )
    rent = np.zeros((3, 2, HOURS))
    ret = np.zeros((3, 2, HOURS))
    rent[0, 0, 8:10] = 3.0  # station 1 loses 6 bikes on weekday mornings
    ret[1, 0, 8:10] = 3.0  # station 2 gains 6
    ret[2, 0, 12] = 20.0  # station 3 floods past its overflow limit
    return StationProfiles(stations=st, rent=rent, ret=ret, od=pd.DataFrame())


def test_expected_flows_integrate_partial_hours() -> None:
    prof = _profiles()
    net = expected_net_flow(prof, "weekday", 7.0, 9.5)
    assert net == pytest.approx([-4.5, 4.5, 0.0])


def test_snapshot_from_expected_flows() -> None:
    prof = _profiles()
    params = InventoryParams(max_overflow=2)
    curves = dissatisfaction_curves(np.zeros((3, 1)), np.zeros((3, 1)), [10, 10, 4], params=params)
    snap = derive_snapshot(prof, "2023-05-10", at="22:00", curves=curves, params=params)  # a Wednesday
    assert snap["derived"].all()
    assert set(snap["method"]) == {"targets + expected net flows"}
    # all targets are 0 with no morning demand: station 1 clips at 0, station 3 at docks+2
    assert snap["bikes"].tolist() == [0, 6, 6]
    assert snap["clipped"].tolist() == [6.0, 0.0, -14.0]
    # a holiday uses the weekend rates (zero here)
    hol = derive_snapshot(prof, "2023-05-05", at=22.0, curves=curves, params=params)  # 어린이날
    assert hol["bikes"].tolist() == [0, 0, 0]


def test_snapshot_from_real_trips() -> None:
    prof = _profiles()
    params = InventoryParams(max_overflow=0)
    curves = dissatisfaction_curves(np.zeros((3, 1)), np.zeros((3, 1)), [10, 10, 4], params=params)
    curves = [c.__class__(**{**c.__dict__, "target": 5}) for c in curves]
    trips = pd.DataFrame(
        {
            "rent_time": pd.to_datetime(["2022-01-01 06:00", "2022-01-01 08:00", "2022-01-01 21:00"]),
            "return_time": pd.to_datetime(["2022-01-01 06:10", "2022-01-01 08:30", "2022-01-01 22:30"]),
            "rent_station": [1, 1, 2],
            "return_station": [2, 2, 3],
        }
    )
    snap = derive_snapshot(prof, "2022-01-01", at=22.0, curves=curves, trips=trips, params=params)
    # 06:00 trip is before the morning start; the 21:00 rental is in the window, its return is not
    assert snap["net_flow"].tolist() == [-1.0, 0.0, 0.0]
    assert snap["bikes"].tolist() == [4, 5, 4]
    assert set(snap["method"]) == {"targets + real net flows"}


def test_bad_inputs() -> None:
    prof = _profiles()
    with pytest.raises(InputError, match="date"):
        derive_snapshot(prof, "not a date")
    with pytest.raises(InputError, match="at"):
        derive_snapshot(prof, "2023-05-10", at=6.0)


def test_clock_strings() -> None:
    prof = _profiles()
    with pytest.raises(InputError, match="at"):
        derive_snapshot(prof, "2023-05-10", at="late")
    with pytest.raises(InputError, match="at"):
        derive_snapshot(prof, "2023-05-10", at="22:75")


def test_a_number_is_not_a_date() -> None:
    """``pd.Timestamp(20230614)`` is 1970-01-01: the snapshot was silently dated 1970."""
    from mobility.demand.snapshot import derive_snapshot_from_data

    prof = _profiles()
    with pytest.raises(InputError, match=r"date: got 20230614; expected a date YYYY-MM-DD"):
        derive_snapshot(prof, 20230614)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"--date: got 20230614"):
        derive_snapshot_from_data(prof, 20230614)  # type: ignore[arg-type]
    import datetime

    snap = derive_snapshot(prof, datetime.date(2023, 5, 10))
    assert set(snap["date"]) == {"2023-05-10"}


def test_clock_time_rounds_to_the_minute() -> None:
    """22.9999 h was labelled ``22:60``."""
    prof = _profiles()
    assert set(derive_snapshot(prof, "2023-05-10", at=22.9999)["at"]) == {"23:00"}
    assert set(derive_snapshot(prof, "2023-05-10", at=22.5)["at"]) == {"22:30"}
