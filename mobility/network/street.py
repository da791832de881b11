"""The street network as plain arrays: :class:`StreetNetwork`, its road classes and its builder.

A :class:`StreetNetwork` is a frozen bundle of numpy arrays: node coordinates (lon/lat and
EPSG:5179 metres), directed edges (tail, head, length, highway class, optional speeds) and, when
the source has them, edge geometries for drawing routes. It carries no graph library object, so it
loads from the cache in well under a second and pickles cheaply to worker processes.

Every format loader (:mod:`~mobility.network.graph` for GraphML, :mod:`~mobility.network.moct`,
:mod:`~mobility.network.ktdb`) builds one through :func:`build_network`; this module imports
none of them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from mobility.errors import DataFileError
from mobility.quality import QualityReport
from mobility.sources.base import CRS_METRIC, CRS_WGS84

FORMAT_VERSION = 3
"""Bumped whenever the cached array layout or a loader's semantics change."""

HIGHWAY_CLASSES: tuple[str, ...] = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "residential",
    "unclassified",
    "living_street",
    "road",
    "service",
    "track",
    "cycleway",
    "bridleway",
    "footway",
    "path",
    "steps",
    "pedestrian",
    "other",
)
"""Highway class vocabulary (OSM names). ``StreetNetwork.highway`` holds indices into it, so codes
are the same for every source; MOCT/KTDB road ranks are mapped onto it (see :data:`ROAD_RANK_CLASS`)."""

HIGHWAY_CODE: dict[str, int] = {name: i for i, name in enumerate(HIGHWAY_CLASSES)}

ROAD_RANK_CLASS: dict[int, str] = {
    101: "motorway",  # 고속국도
    102: "trunk",  # 도시고속도로
    103: "primary",  # 일반국도
    104: "secondary",  # 특별·광역시도
    105: "tertiary",  # 국가지원지방도
    106: "tertiary",  # 지방도
    107: "residential",  # 시·군도 (구도) and other roads
    108: "motorway_link",  # 연결로 (ramps)
}
"""MOCT / KTDB ``ROAD_RANK`` code -> OSM-like highway class."""

KTDB_SPEEDS = "osm/ktdb_lev55_2023/AverageSpeed_LINK.csv"

_TO_METRIC = Transformer.from_crs(CRS_WGS84, CRS_METRIC, always_xy=True)


def to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat (EPSG:4326) to EPSG:5179 metres."""
    x, y = _TO_METRIC.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A directed street network as arrays.

    Attributes
    ----------
    name
        Source name (``"osm-all"``, ``"moct"``, ... or a file name).
    fingerprint
        Stable hash of the arrays' inputs (source files and loader version); used as cache key by
        profiles and matrices.
    node_id
        Original node id of each node (int64).
    lon, lat
        Node coordinates, EPSG:4326 (float64).
    x, y
        Node coordinates, EPSG:5179 metres (float64).
    tail, head
        Edge endpoints as node indices (int32).
    length_m
        Edge length in metres (float64).
    highway
        Edge highway class, index into :attr:`highway_names` (uint8).
    oneway
        True where the source marks the edge one-way (no reverse twin exists for it).
    speed_kph
        Per-edge speed from the source (MOCT speed limit, KTDB mean speed), ``nan`` where unknown;
        ``None`` when the source has none.
    hourly_kph
        KTDB hourly average speeds, shape ``(n_edges, 24)`` (hour h = h:00–h+1:00), ``nan`` where
        unknown; ``None`` when the source has none.
    geom_offsets, geom_lon, geom_lat
        Edge polylines: the vertices of edge ``e`` are ``geom_lon[geom_offsets[e]:geom_offsets[e+1]]``
        (tail to head). ``None`` when the source has no geometry (straight segments).
    highway_names
        The class vocabulary (:data:`HIGHWAY_CLASSES`).
    info
        Loader notes: dropped parallel edges and self-loops, source paths, load seconds.
    """

    name: str
    fingerprint: str
    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    length_m: np.ndarray
    highway: np.ndarray
    oneway: np.ndarray
    speed_kph: np.ndarray | None = None
    hourly_kph: np.ndarray | None = None
    geom_offsets: np.ndarray | None = None
    geom_lon: np.ndarray | None = None
    geom_lat: np.ndarray | None = None
    highway_names: tuple[str, ...] = HIGHWAY_CLASSES
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.lon.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.tail.shape[0])

    def highway_name(self, code: int) -> str:
        """Class name of a highway code."""
        return self.highway_names[int(code)]

    def edge_polyline(self, e: int) -> np.ndarray:
        """Vertices of edge ``e`` as an ``(k, 2)`` lon/lat array (tail to head)."""
        if self.geom_offsets is None or self.geom_lon is None or self.geom_lat is None:
            t, h = int(self.tail[e]), int(self.head[e])
            return np.array([[self.lon[t], self.lat[t]], [self.lon[h], self.lat[h]]])
        a, b = int(self.geom_offsets[e]), int(self.geom_offsets[e + 1])
        return np.column_stack([self.geom_lon[a:b], self.geom_lat[a:b]])

    def quality_report(self) -> QualityReport:
        """The loader's account of edges left out (dangling, self-loops, bad length, parallel)."""
        reasons = {
            "dropped_dangling": "end node not in the node table",
            "dropped_self_loops": "self-loop",
            "dropped_bad_length": "missing or negative length",
            "dropped_parallel": "parallel edge (same tail, head and class) longer than the kept one",
        }
        report = QualityReport(dataset=f"network_{self.name}")
        dropped = {text: int(self.info.get(k, 0)) for k, text in reasons.items()}
        report.rows_read = self.n_edges + sum(dropped.values())
        for text, n in dropped.items():
            report.drop(text, count=n)
        return report

    def km_by_class(self) -> dict[str, float]:
        """Kilometres of directed edges per highway class (each direction counted)."""
        sums = np.bincount(self.highway, weights=self.length_m, minlength=len(self.highway_names))
        return {self.highway_names[i]: float(s) / 1000.0 for i, s in enumerate(sums) if s > 0}

    # -- persistence ------------------------------------------------------------------------

    def save_npz(self, path: Path) -> None:
        """Write the arrays to an uncompressed ``.npz`` (fast to load)."""
        arrays: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                arrays[f.name] = v
        import json

        meta = {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "highway_names": list(self.highway_names),
            "info": self.info,
            "format": FORMAT_VERSION,
        }
        arrays["_meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False, default=str).encode(), np.uint8)
        with path.open("wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load_npz(cls, path: Path) -> StreetNetwork:
        """Read arrays written by :meth:`save_npz`."""
        import json

        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["_meta"]).decode())
            kw: dict[str, Any] = {k: z[k] for k in z.files if k != "_meta"}
        return cls(
            name=meta["name"],
            fingerprint=meta["fingerprint"],
            highway_names=tuple(meta["highway_names"]),
            info=meta["info"],
            **kw,
        )


# --------------------------------------------------------------------------------------------
# building from edge lists
# --------------------------------------------------------------------------------------------


def highway_codes(values: Collection[object]) -> np.ndarray:
    """Map highway strings (or lists, as osmnx gives for merged edges) to class codes."""
    other = HIGHWAY_CODE["other"]
    out = np.empty(len(values), dtype=np.uint8)
    for i, v in enumerate(values):
        if isinstance(v, list):  # unsimplified merge: keep the most important class
            codes = [HIGHWAY_CODE.get(str(s), other) for s in v]
            out[i] = min(codes)
        else:
            out[i] = HIGHWAY_CODE.get(str(v), other)
    return out


def road_rank_codes(rank: pd.Series) -> np.ndarray:
    """Class codes of MOCT / KTDB ``ROAD_RANK`` values (:data:`ROAD_RANK_CLASS`; ``other`` where a
    value is missing, not a number or not a known rank)."""
    known = pd.to_numeric(rank, errors="coerce").fillna(-1).astype(int)
    return highway_codes([ROAD_RANK_CLASS.get(int(v), "other") for v in known])


def _kept_edges(
    name: str, node_id: np.ndarray, edges: EdgeTable, info: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node positions of every edge's tail and head, and the edges kept (sorted by tail, head,
    class): dangling, self-loop and bad-length edges dropped, the shortest of parallel edges of one
    class kept; the counts go to ``info``."""
    order = np.argsort(node_id, kind="stable")
    sorted_ids = node_id[order]
    if np.any(sorted_ids[1:] == sorted_ids[:-1]):
        raise DataFileError(name, "duplicate node ids in the node table")

    def index_of(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(sorted_ids, ids)
        pos = np.clip(pos, 0, len(sorted_ids) - 1)
        ok = sorted_ids[pos] == ids
        return order[pos], ok

    t, ok_t = index_of(edges.tail_id)
    h, ok_h = index_of(edges.head_id)
    length_m = np.asarray(edges.length_m, dtype=np.float64)
    keep = ok_t & ok_h
    info["dropped_dangling"] = int((~keep).sum())
    loops = keep & (t == h)
    info["dropped_self_loops"] = int(loops.sum())
    keep &= t != h
    bad_len = keep & ~(np.isfinite(length_m) & (length_m >= 0))
    info["dropped_bad_length"] = int(bad_len.sum())
    keep &= ~bad_len
    idx = np.flatnonzero(keep)
    # parallel edges: sort by (tail, head, class, length) and keep the first of each group
    hw = np.asarray(edges.highway, dtype=np.uint8)
    o = np.lexsort((length_m[idx], hw[idx], h[idx], t[idx]))
    idx = idx[o]
    first = np.ones(len(idx), dtype=bool)
    first[1:] = (t[idx][1:] != t[idx][:-1]) | (h[idx][1:] != h[idx][:-1]) | (hw[idx][1:] != hw[idx][:-1])
    info["dropped_parallel"] = int((~first).sum())
    return t, h, idx[first]


def _edge_geometry(
    geoms: list[np.ndarray | None],
    idx: np.ndarray,
    t: np.ndarray,
    h: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(offsets, lon, lat)`` of the kept edges' geometries, one flat array of points (an edge
    without a geometry of two points or more is the segment between its nodes)."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    parts: list[np.ndarray] = []
    counts = np.empty(len(idx), dtype=np.int64)
    for k, e in enumerate(idx):
        g = geoms[e]
        if g is None or len(g) < 2:
            g = np.array([[lon_a[t[e]], lat_a[t[e]]], [lon_a[h[e]], lat_a[h[e]]]])
        parts.append(g)
        counts[k] = len(g)
    offsets = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    allpts = np.concatenate(parts) if parts else np.zeros((0, 2))
    return offsets, np.ascontiguousarray(allpts[:, 0]), np.ascontiguousarray(allpts[:, 1])


@dataclass(frozen=True)
class EdgeTable:
    """A loader's directed edges, keyed by original node ids, before :func:`build_network` cleans them.

    Attributes
    ----------
    tail_id, head_id
        Original node ids of each edge's ends.
    length_m
        Edge lengths in metres.
    highway
        Road-class codes (:func:`highway_codes`).
    oneway
        Whether each edge may be driven only from tail to head.
    speed_kph, hourly_kph
        Optional speeds (per edge; per edge and hour).
    geoms
        Optional ``[[lon, lat], ...]`` geometry of each edge (``None``: a straight segment).
    """

    tail_id: np.ndarray
    head_id: np.ndarray
    length_m: np.ndarray
    highway: np.ndarray
    oneway: np.ndarray
    speed_kph: np.ndarray | None = None
    hourly_kph: np.ndarray | None = None
    geoms: list[np.ndarray | None] | None = None


def build_network(
    *,
    name: str,
    fingerprint: str,
    node_id: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    edges: EdgeTable,
    info: dict[str, Any] | None = None,
) -> StreetNetwork:
    """Assemble a :class:`StreetNetwork` from a node table and the ``edges`` keyed by its ids.

    Edges whose endpoint is not a node are dropped (counted in ``info["dropped_dangling"]``),
    self-loops are dropped, and of parallel edges with the same (tail, head, class) only the
    shortest is kept (``info["dropped_parallel"]``).
    """
    info = dict(info or {})
    node_id = np.asarray(node_id, dtype=np.int64)
    t, h, idx = _kept_edges(name, node_id, edges, info)
    length_m = np.asarray(edges.length_m, dtype=np.float64)
    hw = np.asarray(edges.highway, dtype=np.uint8)
    x, y = to_metric(lon, lat)
    geom_offsets = geom_lon = geom_lat = None
    if edges.geoms is not None:
        geom_offsets, geom_lon, geom_lat = _edge_geometry(edges.geoms, idx, t, h, lon, lat)
    speed_kph, hourly_kph = edges.speed_kph, edges.hourly_kph
    return StreetNetwork(
        name=name,
        fingerprint=fingerprint,
        node_id=node_id,
        lon=np.asarray(lon, dtype=np.float64),
        lat=np.asarray(lat, dtype=np.float64),
        x=x,
        y=y,
        tail=t[idx].astype(np.int32),
        head=h[idx].astype(np.int32),
        length_m=length_m[idx],
        highway=hw[idx],
        oneway=np.asarray(edges.oneway, dtype=bool)[idx],
        speed_kph=None if speed_kph is None else np.asarray(speed_kph, dtype=np.float32)[idx],
        hourly_kph=None if hourly_kph is None else np.asarray(hourly_kph, dtype=np.float32)[idx],
        geom_offsets=geom_offsets,
        geom_lon=geom_lon,
        geom_lat=geom_lat,
        info=info,
    )


# --------------------------------------------------------------------------------------------
# GraphML (osmnx)
# --------------------------------------------------------------------------------------------


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, list):
        return any(_to_bool(s) for s in v)
    return str(v).strip().lower() in {"true", "1", "yes"}


def _to_float(v: Any) -> float:
    if isinstance(v, list):
        vals = [_to_float(s) for s in v]
        vals = [s for s in vals if np.isfinite(s)]
        return float(min(vals)) if vals else float("nan")
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")
