"""The street network engine: Seoul's street graphs as arrays, travel profiles, snapping, matrices.

Typical use::

    from mobility.network import load_network, apply_profile, snap_points, travel_matrix, WALK

    net = load_network("osm-all")                 # StreetNetwork (cached arrays, ~0.1 s warm)
    walk = apply_profile(net, WALK)                # ProfiledNetwork: largest SCC, s and m per edge
    s = snap_points(walk, lon, lat)                # Snapped: node, distance_m, beyond
    D = travel_matrix(walk, s.node, weight="length")               # dense metres (CCH)
    R = within_radius(walk, demand.node, sites.node, 800.0)        # sparse, pairs ≤ 800 m

Modules: :mod:`~mobility.network.graph` (StreetNetwork and loaders),
:mod:`~mobility.network.moct` and :mod:`~mobility.network.ktdb` (official Korean networks),
:mod:`~mobility.network.profiles`, :mod:`~mobility.network.snap`, :mod:`~mobility.network.matrix`.
"""

from mobility.network.graph import NAMED_SOURCES, load_network
from mobility.network.matrix import (
    one_to_many,
    route_polylines,
    shortest_paths,
    travel_matrix,
    within_radius,
)
from mobility.network.profiles import (
    ANY,
    BIKE,
    PROFILES,
    TRUCK,
    TRUCK_NIGHT,
    WALK,
    Dropped,
    Profile,
    ProfiledNetwork,
    apply_profile,
    get_profile,
    profiled,
)
from mobility.network.snap import Snapped, snap_points, wgs84_points
from mobility.network.street import HIGHWAY_CLASSES, StreetNetwork

__all__ = [
    "ANY",
    "BIKE",
    "HIGHWAY_CLASSES",
    "NAMED_SOURCES",
    "PROFILES",
    "TRUCK",
    "TRUCK_NIGHT",
    "WALK",
    "Dropped",
    "Profile",
    "ProfiledNetwork",
    "Snapped",
    "StreetNetwork",
    "apply_profile",
    "get_profile",
    "load_network",
    "one_to_many",
    "profiled",
    "route_polylines",
    "shortest_paths",
    "snap_points",
    "travel_matrix",
    "wgs84_points",
    "within_radius",
]
