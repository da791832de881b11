"""Travel profiles (walk, bike, truck): which ways a mode may use and how fast, per edge.

:func:`apply_profile` turns a :class:`~mobility.network.graph.StreetNetwork` into a
:class:`ProfiledNetwork`: the allowed edges (plus reverse twins of one-way edges when the mode may
ignore one-way rules), restricted to the largest strongly connected component, with seconds and
metres per edge and a CSR adjacency.

Weights are kept exactly as integers: milliseconds (``w_time``) and millimetres (``w_length``).
The float ``seconds``/``metres`` arrays are these integers / 1000, so every routine (contraction
hierarchy, scipy Dijkstra, networkx) sums the same numbers and agrees exactly.

For each (tail, head) pair the *minimum* of each weight over the parallel edges is kept
(independently for time and length), so a CSR matrix never sums duplicates.

Built-in profiles
-----------------
``WALK``  4.5 km/h on every way except motorways and trunk roads (Seoul's trunk roads are mostly
          urban expressways — 올림픽대로, 강변북로, 내부순환로 — closed to pedestrians); one-way rules
          ignored.
``BIKE``  15 km/h on roads, service roads, cycleways, tracks, paths; 8 km/h on footways and
          pedestrian areas (shared paths, 자전거보행자겸용도로, which the OSM tiles cannot tell apart
          from plain footways); no motorways/trunk roads or steps; one-way rules respected (a
          bicycle is a vehicle under the Road Traffic Act).
``TRUCK`` the drive classes at urban daytime speeds by road class (motorway 70 … residential 20 km/h).
``TRUCK_NIGHT`` the truck profile at 02:00–03:00 with KTDB hourly average speeds on the links that
          match spatially (:func:`mobility.network.ktdb.match_hourly_speeds`), class speeds elsewhere.
``ANY``   every edge of the network, one-way rules as in the data (raw graph distances).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy.sparse.csgraph import connected_components

from mobility.cache import array_key, cached_load
from mobility.errors import DataFileError, DataNotFoundError, InputError
from mobility.network.graph import load_network
from mobility.network.ktdb import match_hourly_speeds
from mobility.network.street import HIGHWAY_CLASSES, HIGHWAY_CODE, StreetNetwork

Weight = Literal["time", "length"]

_DRIVE = HIGHWAY_CLASSES[: HIGHWAY_CLASSES.index("road") + 1]
"""Classes a car may use: the street classes up to ``road`` (not service roads, tracks, paths)."""
_NO_FOOT = ("motorway", "motorway_link", "trunk", "trunk_link")


class Profile(BaseModel):
    """How one mode uses the street network.

    Attributes
    ----------
    name
        Short name (``walk``, ``bike``, ``truck``, ``truck-night``, ``any`` or your own).
    speed_kph
        Speed on allowed classes without an entry in ``class_speeds_kph``.
    allowed
        Highway classes the mode may use (names from :data:`~mobility.network.graph.HIGHWAY_CLASSES`).
    class_speeds_kph
        Per-class speeds overriding ``speed_kph``.
    respect_oneway
        False: one-way edges are also usable backwards (walking).
    ktdb_hourly
        Use KTDB hourly average speeds (at ``hour``) on edges that have them (the network's own
        ``hourly_kph`` or, for OSM networks, speeds matched spatially from the KTDB Level 5.5 links).
    hour
        Hour of day 0–23 for ``ktdb_hourly`` (hour h = h:00–h+1:00).
    max_speed_kph
        Cap on any speed (KTDB averages on expressways can exceed what a loaded truck does).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    speed_kph: float = Field(gt=0, le=200)
    allowed: frozenset[str]
    class_speeds_kph: dict[str, float] = Field(default_factory=dict)
    respect_oneway: bool = True
    ktdb_hourly: bool = False
    hour: int | None = Field(default=None, ge=0, le=23)
    max_speed_kph: float = Field(default=200.0, gt=0)

    @field_validator("allowed")
    @classmethod
    def _known_classes(cls, v: frozenset[str]) -> frozenset[str]:
        unknown = sorted(set(v) - set(HIGHWAY_CLASSES))
        if unknown:
            raise ValueError(f"unknown highway classes {unknown}; known: {list(HIGHWAY_CLASSES)}")
        return v

    @field_validator("class_speeds_kph")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: s for k, s in v.items() if not s > 0 or k not in HIGHWAY_CLASSES}
        if bad:
            raise ValueError(f"class speeds must be > 0 for known classes; got {bad}")
        return v

    def key(self) -> str:
        """A stable hash of every parameter (for cache keys)."""
        data = self.model_dump(mode="json")
        data["allowed"] = sorted(self.allowed)  # a frozenset iterates in a per-process order
        blob = json.dumps(data, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def class_speed_array(self) -> np.ndarray:
        """Speed (km/h) per highway code; 0 for classes not allowed."""
        out = np.zeros(len(HIGHWAY_CLASSES))
        for i, c in enumerate(HIGHWAY_CLASSES):
            if c in self.allowed:
                out[i] = min(self.class_speeds_kph.get(c, self.speed_kph), self.max_speed_kph)
        return out


WALK = Profile(
    name="walk",
    speed_kph=4.5,
    allowed=frozenset(c for c in HIGHWAY_CLASSES if c not in _NO_FOOT),
    respect_oneway=False,
)
BIKE = Profile(
    name="bike",
    speed_kph=15.0,
    allowed=frozenset(c for c in HIGHWAY_CLASSES if c not in (*_NO_FOOT, "steps")),
    class_speeds_kph={"footway": 8.0, "pedestrian": 8.0},
    respect_oneway=True,
)
TRUCK = Profile(
    name="truck",
    speed_kph=25.0,
    allowed=frozenset(_DRIVE),
    class_speeds_kph={
        "motorway": 70.0,
        "motorway_link": 40.0,
        "trunk": 60.0,
        "trunk_link": 40.0,
        "primary": 35.0,
        "primary_link": 30.0,
        "secondary": 30.0,
        "secondary_link": 25.0,
        "tertiary": 25.0,
        "tertiary_link": 25.0,
        "residential": 20.0,
        "unclassified": 20.0,
        "living_street": 10.0,
        "road": 20.0,
    },
    respect_oneway=True,
    max_speed_kph=90.0,
)
TRUCK_NIGHT = TRUCK.model_copy(update={"name": "truck-night", "ktdb_hourly": True, "hour": 2})
ANY = Profile(name="any", speed_kph=15.0, allowed=frozenset(HIGHWAY_CLASSES), respect_oneway=True)

PROFILES: dict[str, Profile] = {p.name: p for p in (WALK, BIKE, TRUCK, TRUCK_NIGHT, ANY)}
"""Built-in profiles by name."""


def get_profile(name: str | Profile) -> Profile:
    """A built-in profile by name (or the profile itself)."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise InputError("profile", name, "one of " + ", ".join(PROFILES)) from None


@dataclass(frozen=True)
class Dropped:
    """What :func:`apply_profile` left out, and why."""

    edges_not_allowed: int
    """Edges of classes the profile may not use."""
    reverse_edges_added: int
    """Reverse twins added for one-way edges (profiles that ignore one-way rules)."""
    parallel_merged: int
    """Directed edges merged into an existing (tail, head) pair (minimum weights kept)."""
    nodes_without_edges: int
    """Nodes touched by no allowed edge."""
    nodes_outside_largest_scc: int
    """Nodes with allowed edges but outside the largest strongly connected component."""
    edges_outside_largest_scc: int
    """Allowed edges with an end outside the largest strongly connected component."""
    components: int
    """Strongly connected components among nodes with allowed edges."""

    def as_dict(self) -> dict[str, int]:
        """Plain dict (for JSON)."""
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class ProfiledNetwork:
    """A profile applied to a street network: the largest strongly connected component only.

    Node indices ``0 .. n_nodes-1`` are local; ``base_node[i]`` is the node's index in ``net``.

    Attributes
    ----------
    net, profile
        What it was built from.
    fingerprint
        Hash of the network's fingerprint and the profile's parameters (cache key).
    base_node
        Index in ``net`` of each local node (int64).
    tail, head
        Edge endpoints, local node indices (int32); (tail, head) pairs are unique, sorted.
    w_time, w_length
        Exact integer weights: milliseconds and millimetres (int64).
    edge_time, edge_length
        Index in ``net`` of the base edge realising the minimum time / length of each pair;
        ``-1 - e`` marks the reverse twin of base edge ``e`` (walk against a one-way).
    dropped
        What was left out.
    """

    net: StreetNetwork
    profile: Profile
    fingerprint: str
    base_node: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    w_time: np.ndarray
    w_length: np.ndarray
    edge_time: np.ndarray
    edge_length: np.ndarray
    dropped: Dropped
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (all in one strongly connected component)."""
        return int(self.base_node.shape[0])

    @cached_property
    def node_key(self) -> str:
        """Identity of the local node numbering: the base network and which of its nodes are kept.

        Two profiled networks with the same key number their nodes alike (e.g. ``walk`` built
        twice), so node indices and :class:`~mobility.network.snap.Snapped` points carry over
        between them; between networks with other keys (``walk`` and ``bike``) they do not.
        """
        digest = hashlib.sha256(self.net.fingerprint.encode())
        digest.update(np.ascontiguousarray(self.base_node, dtype=np.int64).tobytes())
        return digest.hexdigest()[:20]

    @property
    def n_edges(self) -> int:
        """Number of directed (tail, head) pairs."""
        return int(self.tail.shape[0])

    @cached_property
    def lon(self) -> np.ndarray:
        """Node longitudes."""
        return self.net.lon[self.base_node]

    @cached_property
    def lat(self) -> np.ndarray:
        """Node latitudes."""
        return self.net.lat[self.base_node]

    @cached_property
    def x(self) -> np.ndarray:
        """Node easting, EPSG:5179."""
        return self.net.x[self.base_node]

    @cached_property
    def y(self) -> np.ndarray:
        """Node northing, EPSG:5179."""
        return self.net.y[self.base_node]

    @property
    def seconds(self) -> np.ndarray:
        """Travel time per edge, seconds (= ``w_time / 1000``)."""
        return self.w_time / 1000.0

    @property
    def metres(self) -> np.ndarray:
        """Length per edge, metres (= ``w_length / 1000``)."""
        return self.w_length / 1000.0

    def weights(self, weight: Weight) -> np.ndarray:
        """Integer weights (ms or mm) of ``weight``."""
        if weight == "time":
            return self.w_time
        if weight == "length":
            return self.w_length
        raise InputError("weight", weight, "'time' (seconds) or 'length' (metres)")

    def csr(self, weight: Weight = "time", *, integer: bool = False) -> sp.csr_matrix:
        """Adjacency as a CSR matrix of seconds or metres (ms or mm with ``integer=True``).

        Built from unique (tail, head) pairs, so nothing is summed. Zero-weight edges are stored
        explicitly (scipy's csgraph treats explicit zeros as edges).
        """
        return self._csr_cache(weight, integer)

    def _csr_cache(self, weight: Weight, integer: bool) -> sp.csr_matrix:
        cache: dict[tuple[str, bool], sp.csr_matrix] = self.info.setdefault("_csr", {})
        key = (weight, integer)
        if key not in cache:
            w = self.weights(weight).astype(np.float64)
            if not integer:
                w = w / 1000.0
            # tail/head are sorted and unique: build the CSR directly (no duplicate summing)
            indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.tail, minlength=self.n_nodes), out=indptr[1:])
            m = sp.csr_matrix(
                (w, self.head.astype(np.int32), indptr.astype(np.int32)), shape=(self.n_nodes, self.n_nodes)
            )
            cache[key] = m
        return cache[key]

    def local_index(self, base_nodes: np.ndarray) -> np.ndarray:
        """Local index of base-network nodes (-1 where the node is outside this profile)."""
        lookup = np.full(self.net.n_nodes, -1, dtype=np.int64)
        lookup[self.base_node] = np.arange(self.n_nodes)
        return lookup[np.asarray(base_nodes, dtype=np.int64)]


def edge_speeds_kph(net: StreetNetwork, profile: Profile, hourly_kph: np.ndarray | None = None) -> np.ndarray:
    """Speed of every base edge under ``profile`` (0 where the class is not allowed)."""
    speed = profile.class_speed_array()[net.highway]
    if profile.ktdb_hourly:
        if profile.hour is None:
            raise InputError("profile.hour", None, "an hour 0–23 when ktdb_hourly is set")
        hourly = hourly_kph if hourly_kph is not None else net.hourly_kph
        if hourly is not None:
            h = hourly[:, profile.hour].astype(np.float64)
            use = (speed > 0) & np.isfinite(h) & (h > 0)
            speed = np.where(use, np.minimum(h, profile.max_speed_kph), speed)
    return speed


def apply_profile(
    net: StreetNetwork,
    profile: Profile | str,
    *,
    hourly_kph: np.ndarray | None = None,
) -> ProfiledNetwork:
    """Restrict ``net`` to what ``profile`` may use and attach per-edge seconds and metres.

    Parameters
    ----------
    net
        The street network.
    profile
        A :class:`Profile` or a built-in name (``walk``, ``bike``, ``truck``, ``truck-night``, ``any``).
    hourly_kph
        ``(net.n_edges, 24)`` hourly speeds for ``ktdb_hourly`` profiles when ``net`` has none of
        its own. Default: KTDB Level 5.5 speeds matched spatially onto ``net``
        (:func:`matched_hourly_speeds`, cached on disk); when the KTDB files
        are missing a :class:`UserWarning` says that class speeds are used instead.

    Returns
    -------
    ProfiledNetwork
        Largest strongly connected component of the allowed edges; ``dropped`` reports the rest.
    """
    prof = get_profile(profile)
    if prof.ktdb_hourly and hourly_kph is None and net.hourly_kph is None:
        hourly_kph = _matched_ktdb_speeds(net)
    speed = edge_speeds_kph(net, prof, hourly_kph)
    allowed = speed > 0
    e = np.flatnonzero(allowed)
    t = net.tail[e].astype(np.int64)
    h = net.head[e].astype(np.int64)
    length_mm = np.rint(net.length_m[e] * 1000.0).astype(np.int64)
    time_ms = np.rint(net.length_m[e] / (speed[e] / 3.6) * 1000.0).astype(np.int64)
    eid = e.astype(np.int64)
    n_rev = 0
    if not prof.respect_oneway:
        ow = net.oneway[e]
        n_rev = int(ow.sum())
        t, h = np.concatenate([t, h[ow]]), np.concatenate([h, t[ow]])
        length_mm = np.concatenate([length_mm, length_mm[ow]])
        time_ms = np.concatenate([time_ms, time_ms[ow]])
        eid = np.concatenate([eid, -1 - eid[ow]])
    # nodes with edges, SCCs
    n = net.n_nodes
    used = np.zeros(n, dtype=bool)
    used[t] = True
    used[h] = True
    adj = sp.csr_matrix((np.ones(len(t), dtype=np.int8), (t, h)), shape=(n, n))
    n_comp, labels = connected_components(adj, directed=True, connection="strong")
    counts = np.bincount(labels[used], minlength=n_comp)
    n_comp_used = int((counts > 0).sum())
    big = int(np.argmax(counts))
    in_big = labels == big
    keep_e = in_big[t] & in_big[h]
    base_node = np.flatnonzero(in_big).astype(np.int64)
    local = np.full(n, -1, dtype=np.int64)
    local[base_node] = np.arange(len(base_node))
    t, h = local[t[keep_e]], local[h[keep_e]]
    length_mm, time_ms, eid = length_mm[keep_e], time_ms[keep_e], eid[keep_e]
    # unique (tail, head): min time and min length independently
    pair = t * len(base_node) + h
    o_time = np.lexsort((length_mm, time_ms, pair))
    first_t = np.ones(len(o_time), dtype=bool)
    first_t[1:] = pair[o_time][1:] != pair[o_time][:-1]
    sel_t = o_time[first_t]
    o_len = np.lexsort((time_ms, length_mm, pair))
    first_l = np.ones(len(o_len), dtype=bool)
    first_l[1:] = pair[o_len][1:] != pair[o_len][:-1]
    sel_l = o_len[first_l]  # same pair order as sel_t (both sorted by pair)
    dropped = Dropped(
        edges_not_allowed=int((~allowed).sum()),
        reverse_edges_added=n_rev,
        parallel_merged=int(len(pair) - len(sel_t)),
        nodes_without_edges=int((~used).sum()),
        nodes_outside_largest_scc=int((used & ~in_big).sum()),
        edges_outside_largest_scc=int((~keep_e).sum()),
        components=n_comp_used,
    )
    # the speeds themselves, not only whether there are any: KTDB speeds matched onto ``net``
    # change when the KTDB files do, and ``net.fingerprint`` does not cover those files
    speeds = "none" if hourly_kph is None else array_key(np.asarray(hourly_kph, dtype=np.float64))
    fp = hashlib.sha256(f"{net.fingerprint}|{prof.key()}|{speeds}".encode()).hexdigest()[:20]
    return ProfiledNetwork(
        net=net,
        profile=prof,
        fingerprint=fp,
        base_node=base_node,
        tail=t[sel_t].astype(np.int32),
        head=h[sel_t].astype(np.int32),
        w_time=time_ms[sel_t],
        w_length=length_mm[sel_l],
        edge_time=eid[sel_t],
        edge_length=eid[sel_l],
        dropped=dropped,
    )


def _matched_ktdb_speeds(net: StreetNetwork) -> np.ndarray | None:
    try:
        return matched_hourly_speeds(net, net.info.get("data_dir"))
    except (DataNotFoundError, DataFileError) as exc:
        warnings.warn(
            f"KTDB hourly speeds unavailable ({exc}); class speeds used for the night profile",
            UserWarning,
            stacklevel=3,
        )
        return None


def profiled(
    source: str = "osm-all",
    profile: Profile | str = "walk",
    data_dir: Path | str | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> ProfiledNetwork:
    """Load a network and apply a profile in one call (KTDB speeds matched and cached as needed);
    ``progress`` is told when the network is built from its source file (the first time: a
    minute for the city's walking network)."""
    return apply_profile(load_network(source, data_dir, progress=progress), get_profile(profile))


def matched_hourly_speeds(net: StreetNetwork, data_dir: Path | str | None = None) -> np.ndarray:
    """KTDB hourly speeds on the drive-class edges of ``net``, matched once and cached on disk.

    See :func:`match_hourly_speeds`; the cache key is the two networks' fingerprints.
    """
    ktdb = load_network("ktdb", data_dir)
    codes = np.array([HIGHWAY_CODE[c] for c in _DRIVE if c != "living_street"])  # KTDB has no living streets
    key = f"{net.fingerprint}-{ktdb.fingerprint}-v1"

    def build(tmp: Path) -> None:
        out = match_hourly_speeds(net, ktdb, edge_mask=np.isin(net.highway, codes))
        with tmp.open("wb") as fh:
            np.save(fh, out)

    out: np.ndarray = cached_load("ktdb_match", key, ".npy", build, np.load)
    return out
