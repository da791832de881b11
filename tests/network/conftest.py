"""Session fixtures: the real networks (from the array cache after the first build) and stations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mobility.network import ProfiledNetwork, StreetNetwork, apply_profile, load_network


@pytest.fixture(scope="session")
def osm_all(data_dir: Path) -> StreetNetwork:
    """The all-modes OSM graph (142,664 nodes); ~60 s the very first time, then < 1 s from cache."""
    return load_network("osm-all", data_dir)


@pytest.fixture(scope="session")
def any_net(osm_all: StreetNetwork) -> ProfiledNetwork:
    """Raw graph distances (every edge, one-way as in the data)."""
    return apply_profile(osm_all, "any")


@pytest.fixture(scope="session")
def walk_net(osm_all: StreetNetwork) -> ProfiledNetwork:
    """The walk profile on the all-modes graph."""
    return apply_profile(osm_all, "walk")


@pytest.fixture(scope="session")
def stations(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of the 2,799 stations of the 2025-12 list."""
    from mobility.sources.stations import load_station_list

    t = load_station_list("2025-12", data_dir).table
    return t["lon"].to_numpy(float), t["lat"].to_numpy(float)
