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


def test_swapped_lon_lat_is_an_input_error(walk_net: ProfiledNetwork) -> None:
    """lat given first (37.57, 126.98): an InputError naming lon/lat, not scipy's ValueError."""
    expected = r"lon/lat.*2 of 2 point\(s\) outside WGS84.*#0 \(37.5663, 126.978\).*swapped"
    with pytest.raises(InputError, match=expected):
        snap_points(walk_net, np.array([37.5663, 37.5444]), np.array([126.9779, 127.0374]))


def test_snapped_points_are_refused_on_another_profile(
    walk_net: ProfiledNetwork, any_net: ProfiledNetwork, osm_all: object
) -> None:
    """Walk-snapped points on the raw graph would index other nodes: refused, named."""
    from mobility.network import apply_profile, travel_matrix, within_radius

    s = snap_points(walk_net, np.array([126.9779, 127.0374]), np.array([37.5663, 37.5444]))
    assert s.network == walk_net.node_key and s.network_name == "osm-all/walk"
    wrong = r"sources: got 'points snapped to the osm-all/walk network'.*osm-all/any"
    with pytest.raises(InputError, match=wrong):
        travel_matrix(any_net, s, weight="length")
    own = snap_points(any_net, np.array([126.9779]), np.array([37.5663]))
    with pytest.raises(InputError, match=r"targets: got 'points snapped to the osm-all/walk"):
        within_radius(any_net, own, s, 500.0)
    # the same profile built again numbers its nodes alike: the points carry over
    again = apply_profile(osm_all, "walk")  # type: ignore[arg-type]
    assert again.node_key == walk_net.node_key
    assert travel_matrix(again, s, weight="length", use_cache=False).shape == (2, 2)


def test_fractional_node_indices_are_refused(walk_net: ProfiledNetwork) -> None:
    """10.7 was silently truncated to node 10."""
    from mobility.network import travel_matrix

    with pytest.raises(InputError, match=r"sources: got \[10.7, 20.2\]; expected whole node indices"):
        travel_matrix(walk_net, np.array([10.7, 20.2]))
    assert travel_matrix(walk_net, np.array([10.0, 20.0]), use_cache=False).shape == (2, 2)
