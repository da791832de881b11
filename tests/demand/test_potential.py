"""Demand potential: catchment features by hand, fit/predict, and district-held-out CV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.demand.potential import (
    FEATURES,
    CatchmentLayers,
    DemandPotentialModel,
    PotentialParams,
    features_for_points,
    training_table,
)
from mobility.errors import InputError


def _layers() -> CatchmentLayers:
    return CatchmentLayers(
        pop_xy=np.array([[0.0, 0.0], [300.0, 0.0], [1000.0, 0.0]]),
        pop=np.array([100.0, 50.0, 7.0]),
        subway_xy=np.array([[0.0, 400.0]]),
        subway_lines=np.array([2.0]),
        lane_xy=np.array([[0.0, 100.0], [0.0, 900.0]]),
        lane_len=np.array([10.0, 10.0]),
        station_xy=np.array([[0.0, 0.0], [200.0, 0.0], [5000.0, 0.0]]),
        station_number=np.array([1, 2, 3]),
        station_trips=np.array([10.0, 20.0, np.nan]),
    )


def test_features_by_hand() -> None:
    params = PotentialParams(
        walk_radius_m=500, context_radius_m=1500, lane_radius_m=500, station_radius_m=500
    )
    f = features_for_points(_layers(), np.array([0.0]), np.array([0.0]), params=params)
    row = f.iloc[0]
    assert row["pop_walk"] == 150  # cells at 0 and 300 m
    assert row["pop_context"] == 157
    assert row["dist_subway_m"] == pytest.approx(400)
    assert row["subway_within"] == 1 and row["subway_lines"] == 2
    assert row["lane_m"] == 10
    assert row["stations_within"] == 2  # a new site at station 1's spot sees stations 1 and 2
    assert row["dist_station_m"] == 0
    assert row["age_years"] == params.new_site_age_years
    assert row["pop_walk_kind"] == "straight line"
    assert row["nb_trips"] == pytest.approx(15.0)  # stations 1 and 2 have usage; 3 has none
    # fitting on existing station 1: it must not count itself
    own = features_for_points(_layers(), np.array([0.0]), np.array([0.0]), exclude_numbers=np.array([1]))
    assert own.iloc[0]["stations_within"] == 1
    assert own.iloc[0]["dist_station_m"] == pytest.approx(200)
    assert own.iloc[0]["nb_trips"] == pytest.approx(20.0)  # its own usage is left out
    assert own.iloc[0]["area_trips"] == pytest.approx(20.0)


def test_fit_predict_and_spatial_cv() -> None:
    rng = np.random.default_rng(0)
    n = 400
    feats = pd.DataFrame({c: rng.uniform(1, 1000, n) for c in FEATURES})
    y = rng.poisson(5 + 0.05 * feats["pop_walk"] + 0.02 * feats["lane_m"]).astype(float)
    groups = np.repeat([f"gu{i}" for i in range(8)], n // 8)
    model = DemandPotentialModel(_layers(), PotentialParams(folds=4))
    rep = model.cross_validate(feats, y, groups)
    assert rep.folds == 4 and rep.n == n
    # every district is held out exactly once
    held = sorted(g for fold in rep.groups for g in fold)
    assert held == sorted(set(groups))
    assert set(rep.metrics) == {"baseline", "neighbours", "glm", "gbm"}
    for m in rep.metrics.values():
        assert np.isfinite([m["mae"], m["rmse"], m["r2"], m["mae_log"]]).all()
        assert m["rmse"] >= m["mae"]
    # y depends on lanes too: the full GLM beats population-only on held-out districts
    assert rep.metrics["glm"]["mae"] < rep.metrics["baseline"]["mae"]
    model.fit(feats, y)
    pred = model.predict(feats)
    assert pred.shape == (n,) and np.all(pred >= 0)
    assert model.describe()["n_stations"] == n
    with pytest.raises(InputError, match="model"):
        model.predict(feats, model="xgb")


def test_training_table_mean_daily_trips() -> None:
    stations = pd.DataFrame(
        {
            "number": [1, 2],
            "lat": [37.5, 37.6],
            "lon": [127.0, 127.0],
            "gu": ["중구", "중구"],
            "installed_on": pd.to_datetime(["2015-07-01", "2023-01-01"]),
        }
    )
    usage = pd.DataFrame(
        {
            "number": [1] * 6 + [2],
            "month": [f"2023-{m:02d}" for m in range(1, 7)] + ["2023-01"],
            "rentals": [100] * 7,
            "returns": [81] * 7,
        }
    )
    t = training_table(stations, usage, min_months=6)
    assert t["number"].tolist() == [1]  # station 2 has one month only
    assert t["trips_per_day"].iloc[0] == pytest.approx(6 * 181 / 181)  # Jan–Jun 2023 = 181 days
    assert t["imbalance_per_day"].iloc[0] == pytest.approx(6 * 19 / 181)  # |rentals - returns| a day
    assert t["age_years"].iloc[0] == pytest.approx(8.0, abs=0.01)


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        # lengths differ: was a pyproj ProjError ("x, y, z, and time must be same size")
        ([127.0], [37.5, 37.6], r"lon/lat: got '\(1,\) vs \(2,\)'; expected arrays of the same length"),
        # lat first: was "x, y: got 'non-finite coordinates'; expected finite EPSG:5179 metres"
        ([37.5], [127.0], r"lon/lat: .*outside WGS84's ranges: #0 \(37.5, 127\).*swapped"),
        ([np.nan], [37.5], r"lon/lat: got '1 non-finite coordinate\(s\) at \[0\]'"),
    ],
)
def test_bad_locations_name_lon_lat(lon: list[float], lat: list[float], expected: str) -> None:
    model = DemandPotentialModel(_layers())
    with pytest.raises(InputError, match=expected):
        model.features_for_points(np.array(lon), np.array(lat))
