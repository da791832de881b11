"""A baseline sent as content (``baseline.station_records``): districts from the dong polygons."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from mobility.errors import InputError
from mobility.placement.baseline import uploaded_stations
from mobility.scenario.expansion import BaselineStation
from mobility.sources.stations import COLUMNS, load_station_list


def test_districts_of_uploaded_stations_match_the_official_list(data_dir: Path) -> None:
    official = load_station_list("2019-12", data_dir=data_dir).table.dropna(
        subset=["station_id", "docks", "gu"]
    )
    official = official[official["docks"] > 0]
    records = [
        BaselineStation(
            station_id=str(r.station_id),
            name=str(r.name),
            lat=r.lat,
            lon=r.lon,
            docks=int(cast(float, r.docks)),
        )
        for r in official.itertuples()
    ]
    got = uploaded_stations(records, data_dir)
    assert list(got.columns) == list(COLUMNS) and len(got) == len(official)
    assert (got["source"] == "uploaded").all()
    # the polygon a station stands in agrees with the district its address names (a few stand on a border)
    agree = (got["gu"].to_numpy() == official["gu"].astype(str).to_numpy()).mean()
    assert agree > 0.98, agree


def test_a_station_outside_every_district_is_named(data_dir: Path) -> None:
    inside = BaselineStation(station_id="ST-10", lat=37.5556, lon=126.9105, docks=15)
    outside = BaselineStation(station_id="X-1", lat=37.70, lon=127.27, docks=10)  # in the box, east of Seoul
    with pytest.raises(InputError, match=r"station_records\[1\].*X-1"):
        uploaded_stations([inside, outside], data_dir)
