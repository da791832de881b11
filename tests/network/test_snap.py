"""Snapping stations and rejecting points outside the network."""

from __future__ import annotations

import numpy as np
import pytest

from mobility.errors import InputError
from mobility.network import ProfiledNetwork, snap_points


def test_all_stations_snap_close(walk_net: ProfiledNetwork, stations: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = stations
    assert len(lon) == 2799
    with pytest.warns(UserWarning, match="more than 250 m"):
        s = snap_points(walk_net, lon, lat)
    assert len(s) == 2799
    assert np.median(s.distance_m) < 50
    assert s.distance_m.max() < 400  # every station is within a short walk of the network
    assert s.n_beyond < 10


def test_points_outside_seoul_are_rejected(walk_net: ProfiledNetwork) -> None:
    lon = np.array([126.9779, 129.0756, 126.9779])  # City Hall, Busan, City Hall
    lat = np.array([37.5663, 35.1796, 37.5663])
    with pytest.raises(InputError, match=r"1 of 3 point\(s\) outside.*#1"):
        snap_points(walk_net, lon, lat)


def test_nan_coordinates_are_rejected(walk_net: ProfiledNetwork) -> None:
    with pytest.raises(InputError, match="non-finite"):
        snap_points(walk_net, np.array([np.nan]), np.array([37.5]))
