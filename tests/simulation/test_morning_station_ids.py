"""The morning after a night whose snapshot names its stations by ``station_id`` only.

Such a snapshot that gives its stations' position and docks (as the API stores them, or as
``mobility rebalance`` reads them with ``targets.source: snapshot``) is read without the station
list, so its stations had no number, which the demand profiles and the trips are keyed on: the
morning after found no trips ("trips: got 0; expected at least 10 one-way and 10 round trips"),
and ``mobility rebalance`` stopped with exit 2 after solving the night. Each station now takes its
id's number in the profiles' station list (:func:`mobility.simulation.morning.numbered`), and the
morning after is the one of the same snapshot with its numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mobility.demand.profiles import StationProfiles
from mobility.rebalancing.night import snapshot_stations
from mobility.rebalancing.snapshot import read_snapshot
from mobility.simulation.morning import MorningAfter, morning_after

NIGHT = "2022-01-01"


@pytest.fixture(scope="module")
def profiles(data_dir: Path) -> StationProfiles:
    from mobility.demand.data import load_profiles

    return load_profiles(data_dir)


@pytest.fixture(scope="module")
def evening(profiles: StationProfiles, data_dir: Path) -> pd.DataFrame:
    """The real derived evening snapshot of the night (``mobility demand snapshot``), 마포구's
    stations that have an id, with their position from the station list: a snapshot complete
    without the list."""
    from mobility.demand.snapshot import derive_snapshot_from_data

    snap = derive_snapshot_from_data(profiles, NIGHT, at=22.0, data_dir=data_dir)
    snap = snap[(snap["gu"] == "마포구") & snap["station_id"].notna()]
    where = profiles.stations.drop_duplicates("number").set_index("number")[["lon", "lat"]]
    return snap.join(where, on="number").reset_index(drop=True)


def _stations(table: pd.DataFrame, path: Path, data_dir: Path) -> pd.DataFrame:
    """The night's stations of ``table`` written as a status CSV and read back, as the API's
    runs and ``mobility rebalance`` take them (:func:`snapshot_stations`)."""
    table.to_csv(path, index=False)
    return snapshot_stations(read_snapshot(path), data_dir)[1]


def _morning(stations: pd.DataFrame, profiles: StationProfiles, data_dir: Path) -> MorningAfter:
    return morning_after(
        stations, stations["bikes"].to_numpy(), {"no rebalancing": None}, night=NIGHT, profiles=profiles,
        replications=2, data_dir=data_dir,
    )  # fmt: skip


def test_a_snapshot_without_numbers_has_the_morning_after_of_its_numbered_self(
    evening: pd.DataFrame, profiles: StationProfiles, data_dir: Path, tmp_path: Path
) -> None:
    assert len(evening) > 100 and evening["lon"].notna().all()
    numbered = _stations(evening, tmp_path / "numbered.csv", data_dir)
    by_id = _stations(evening.drop(columns=["number"]), tmp_path / "ids.csv", data_dir)
    assert by_id["number"].isna().all()  # no station list read: the ids are all there is
    morning = _morning(by_id, profiles, data_dir)
    assert morning.table() == _morning(numbered, profiles, data_dir).table()
    row = morning.table()[0]
    assert row["window_predicted"] > 0 and row["window_simulated"] > 0  # riders, and the model's too


def test_the_morning_after_says_each_step_and_its_share(
    evening: pd.DataFrame, profiles: StationProfiles, data_dir: Path, tmp_path: Path
) -> None:
    """A cold morning after took 70 s at the job's 98 % with one message: it looked hung."""
    from tests.progress_support import Heard

    stations = _stations(evening, tmp_path / "numbered.csv", data_dir)
    heard = Heard()
    morning_after(
        stations, stations["bikes"].to_numpy(), {"no rebalancing": None, "again": None}, night=NIGHT,
        profiles=profiles, replications=2, data_dir=data_dir, progress=heard,
    )  # fmt: skip
    shares = heard.known()
    assert shares == sorted(shares) and shares[0] >= 0 and shares[-1] < 1, shares
    assert any(m.startswith("the morning after: ") and "again" in m for m in heard.messages), heard.messages
    assert len(set(heard.messages)) >= 4, heard.messages  # the preparation's steps, then each method's
