"""The street network as plain arrays, and its loaders (osmnx GraphML, MOCT node-link, KTDB Level 5.5).

A :class:`StreetNetwork` is a frozen bundle of numpy arrays: node coordinates (lon/lat and
EPSG:5179 metres), directed edges (tail, head, length, highway class, optional speeds) and, when
the source has them, edge geometries for drawing routes. It carries no graph library object, so it
loads from the cache in well under a second and pickles cheaply to worker processes.

Sources (:func:`load_network`):

``"osm-all"``
    ``osm/seoul_best_graph.graphml.gz`` — real OpenStreetMap (2021), every mode, all 25 gu + 1 km.
``"osm-drive"``
    ``osm/omt_tiles_2021/seoul_osm2021_drive.graphml.gz`` — its drive subset (for trucks).
``"moct"``
    ``osm/moct_nodelink_2018/Seoul_node.csv`` + ``Seoul_link_utf8.csv`` — the national standard
    node-link (24 gu; Gangdong-gu is missing from the extract). The official ``MOCT_NODE.shp`` /
    ``MOCT_LINK.shp`` layout is read by :func:`mobility.network.moct.read_moct_shapefiles`.
``"moct+ktdb"``
    ``osm/ktdb_lev55_2023/seoul_moct2018_plus_ktdb_gangdong.graphml.gz`` (MOCT with Gangdong-gu
    filled from KTDB) with KTDB hourly link speeds joined on the MOCT link id.
``"ktdb"``
    ``osm/ktdb_lev55_2023/seoul_link_lev5.5_2023.shp`` + ``AverageSpeed_LINK.csv`` — KTDB
    View-T Level 5.5 major roads with 24 hourly speeds per link.

Any other string is taken as a path: a ``.graphml``/``.graphml.gz`` file, a MOCT/KTDB link
shapefile, or a folder holding MOCT CSV tables or shapefiles.

Parallel edges: every loader keeps, for each (tail, head, highway class), only the shortest edge,
and drops self-loops; :func:`mobility.network.profiles.apply_profile` then keeps, for each
(tail, head), the minimum of each weight. Never build a ``scipy.sparse`` matrix from a raw edge
list with duplicates: it *sums* them.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer

from mobility.cache import cache_key, cached_file
from mobility.config import cache_dir, resolve_data_dir
from mobility.errors import DataFileError, DataNotFoundError, InputError
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

NAMED_SOURCES: dict[str, str] = {
    "osm-all": "osm/seoul_best_graph.graphml.gz",
    "osm-drive": "osm/omt_tiles_2021/seoul_osm2021_drive.graphml.gz",
    "moct": "osm/moct_nodelink_2018",
    "moct+ktdb": "osm/ktdb_lev55_2023/seoul_moct2018_plus_ktdb_gangdong.graphml.gz",
    "ktdb": "osm/ktdb_lev55_2023/seoul_link_lev5.5_2023.shp",
}
"""Named networks -> path relative to the data directory."""

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


def highway_codes(values: Any) -> np.ndarray:
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


def build_network(
    *,
    name: str,
    fingerprint: str,
    node_id: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    tail_id: np.ndarray,
    head_id: np.ndarray,
    length_m: np.ndarray,
    highway: np.ndarray,
    oneway: np.ndarray,
    speed_kph: np.ndarray | None = None,
    hourly_kph: np.ndarray | None = None,
    geoms: list[np.ndarray | None] | None = None,
    info: dict[str, Any] | None = None,
) -> StreetNetwork:
    """Assemble a :class:`StreetNetwork` from node and edge tables keyed by original node ids.

    Edges whose endpoint is not a node are dropped (counted in ``info["dropped_dangling"]``),
    self-loops are dropped, and of parallel edges with the same (tail, head, class) only the
    shortest is kept (``info["dropped_parallel"]``).
    """
    info = dict(info or {})
    node_id = np.asarray(node_id, dtype=np.int64)
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

    t, ok_t = index_of(tail_id)
    h, ok_h = index_of(head_id)
    length_m = np.asarray(length_m, dtype=np.float64)
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
    hw = np.asarray(highway, dtype=np.uint8)
    o = np.lexsort((length_m[idx], hw[idx], h[idx], t[idx]))
    idx = idx[o]
    first = np.ones(len(idx), dtype=bool)
    first[1:] = (t[idx][1:] != t[idx][:-1]) | (h[idx][1:] != h[idx][:-1]) | (hw[idx][1:] != hw[idx][:-1])
    info["dropped_parallel"] = int((~first).sum())
    idx = idx[first]
    x, y = to_metric(lon, lat)
    geom_offsets = geom_lon = geom_lat = None
    if geoms is not None:
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
        geom_offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(counts, out=geom_offsets[1:])
        allpts = np.concatenate(parts) if parts else np.zeros((0, 2))
        geom_lon = np.ascontiguousarray(allpts[:, 0])
        geom_lat = np.ascontiguousarray(allpts[:, 1])
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
        oneway=np.asarray(oneway, dtype=bool)[idx],
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


def _graphml_network(
    path: Path, name: str, fingerprint: str, speeds_csv: Path | None = None
) -> StreetNetwork:
    """Read an osmnx GraphML (plain or ``.gz``) with :func:`osmnx.load_graphml`."""
    import osmnx as ox

    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                graph = ox.load_graphml(graphml_str=fh.read())
        else:
            graph = ox.load_graphml(path)
    except Exception as exc:  # osmnx raises many kinds of errors on malformed files
        raise DataFileError(path, f"not a readable osmnx GraphML ({type(exc).__name__}: {exc})") from exc
    crs = str(graph.graph.get("crs", "epsg:4326")).lower()
    if "4326" not in crs:
        raise DataFileError(path, f"graph CRS is {crs!r}; expected epsg:4326 (unprojected osmnx graph)")
    nodes = list(graph.nodes(data=True))
    node_id = np.array([_node_int(n) for n, _ in nodes], dtype=np.int64)
    lon = np.array([float(d["x"]) for _, d in nodes])
    lat = np.array([float(d["y"]) for _, d in nodes])
    n_e = graph.number_of_edges()
    tail_id = np.empty(n_e, dtype=np.int64)
    head_id = np.empty(n_e, dtype=np.int64)
    length = np.empty(n_e)
    hw: list[Any] = []
    oneway = np.zeros(n_e, dtype=bool)
    speed = np.full(n_e, np.nan)
    osmid = np.full(n_e, -1, dtype=np.int64)
    geom_objs: list[Any] = []
    geom_edge: list[int] = []
    for k, (u, v, d) in enumerate(graph.edges(data=True)):
        tail_id[k] = _node_int(u)
        head_id[k] = _node_int(v)
        length[k] = _to_float(d.get("length", np.nan))
        hw.append(_edge_class(d))
        oneway[k] = _to_bool(d.get("oneway", False))
        if "speed_kph" in d:
            speed[k] = _to_float(d["speed_kph"])
        elif "maxspeed" in d:
            speed[k] = _to_float(d["maxspeed"])
        oid = d.get("osmid")
        if oid is not None and not isinstance(oid, list):
            with contextlib.suppress(TypeError, ValueError):
                osmid[k] = int(oid)
        g = d.get("geometry")
        if g is not None and not g.is_empty:
            geom_objs.append(g)
            geom_edge.append(k)
    del graph
    geoms: list[np.ndarray | None] | None = None
    if geom_objs:  # one vectorised coordinate extraction instead of 390k .coords calls
        import shapely

        coords, which = shapely.get_coordinates(np.array(geom_objs, dtype=object), return_index=True)
        cuts = np.flatnonzero(np.diff(which)) + 1
        geoms = [None] * n_e
        for k, arr in zip(geom_edge, np.split(coords, cuts), strict=True):
            geoms[k] = arr
    info: dict[str, Any] = {"source_path": str(path), "format": "graphml"}
    hourly = None
    if speeds_csv is not None:
        hourly, speed2 = _ktdb_hourly_for_ids(speeds_csv, osmid, info)
        speed = np.where(np.isfinite(speed2), speed2, speed)
    return build_network(
        name=name,
        fingerprint=fingerprint,
        node_id=node_id,
        lon=lon,
        lat=lat,
        tail_id=tail_id,
        head_id=head_id,
        length_m=length,
        highway=highway_codes(hw),
        oneway=oneway,
        speed_kph=speed if np.isfinite(speed).any() else None,
        hourly_kph=hourly,
        geoms=geoms,
        info=info,
    )


def _node_int(n: Any) -> int:
    try:
        return int(n)
    except (TypeError, ValueError):
        # non-integer ids: a stable 63-bit hash
        return int.from_bytes(hashlib.blake2b(str(n).encode(), digest_size=8).digest(), "little") >> 1


def _edge_class(d: dict[str, Any]) -> Any:
    if "highway" in d:
        return d["highway"]
    rank = d.get("road_rank")
    if rank is not None:
        try:
            return ROAD_RANK_CLASS.get(int(float(rank)), "other")
        except (TypeError, ValueError):
            return "other"
    return "other"


def _ktdb_hourly_for_ids(
    csv_path: Path, link_ids: np.ndarray, info: dict[str, Any]
) -> tuple[np.ndarray | None, np.ndarray]:
    """Hourly KTDB speeds for edges whose id is a KTDB 5.5 link id or a single MOCT (ITS) link id."""
    from mobility.network.ktdb import read_ktdb_speeds

    n = len(link_ids)
    mean = np.full(n, np.nan)
    if not csv_path.exists():
        info["ktdb_speeds"] = f"missing {csv_path}"
        return None, mean
    sp = read_ktdb_speeds(csv_path)
    hourly = np.full((n, 24), np.nan, dtype=np.float32)
    matched = 0
    for key_col in ("k_link_id", "its_link_id"):
        keys = sp[key_col].to_numpy()
        valid = keys >= 0
        keys_v = keys[valid]
        hours_v = sp[[f"h{h:02d}" for h in range(24)]].to_numpy(dtype=np.float32)[valid]
        o = np.argsort(keys_v, kind="stable")
        ks = keys_v[o]
        pos = np.clip(np.searchsorted(ks, link_ids), 0, max(len(ks) - 1, 0))
        hit = (len(ks) > 0) & (ks[pos] == link_ids) & (link_ids >= 0) & np.isnan(hourly[:, 0])
        hit &= np.all(np.isnan(hourly), axis=1)
        hourly[hit] = hours_v[o][pos[hit]]
        matched += int(hit.sum())
    info["ktdb_speed_links_matched"] = matched
    with np.errstate(all="ignore"):
        valid_rows = ~np.all(np.isnan(hourly), axis=1)
        mean[valid_rows] = np.nanmean(hourly[valid_rows], axis=1)
    return hourly, mean


# --------------------------------------------------------------------------------------------
# the public loader
# --------------------------------------------------------------------------------------------


def _resolve_source(source: str | Path, data_dir: Path | str | None) -> tuple[str, Path, list[Path]]:
    """(name, path, input files) of a named or path source."""
    s = str(source)
    if s in NAMED_SOURCES:
        root = resolve_data_dir(data_dir)
        path = root / NAMED_SOURCES[s]
        name = s
    else:
        path = Path(s)
        name = path.name
        if not path.exists() and data_dir is not None:
            path = Path(resolve_data_dir(data_dir)) / s
    if not path.exists():
        if s in NAMED_SOURCES or "/" in s or "." in s:
            raise DataNotFoundError(
                f"street network {s!r}",
                [path],
                "Named networks: " + ", ".join(NAMED_SOURCES) + "; or give a GraphML/shapefile/folder path.",
            )
        raise InputError("source", s, "one of " + ", ".join(NAMED_SOURCES) + " or an existing path")
    if path.is_dir():
        inputs = sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".shp", ".dbf"})
    elif path.suffix.lower() == ".shp":
        inputs = [path, path.with_suffix(".dbf")]
    else:
        inputs = [path]
    if name in {"ktdb", "moct+ktdb"} or "ktdb" in name.lower():
        speeds = (
            resolve_data_dir(data_dir) / KTDB_SPEEDS
            if s in NAMED_SOURCES
            else path.parent / Path(KTDB_SPEEDS).name
        )
        if speeds.exists():
            inputs.append(speeds)
    return name, path, inputs


def _build_uncached(name: str, path: Path, fingerprint: str) -> StreetNetwork:
    from mobility.network import ktdb, moct

    low = path.name.lower()
    if path.is_dir():
        if moct.is_moct_csv_dir(path):
            return moct.load_moct_csv(path, name=name, fingerprint=fingerprint)
        shp = moct.find_moct_shapefiles(path)
        if shp is not None:
            return moct.load_moct_shapefiles(*shp, name=name, fingerprint=fingerprint)
        raise DataFileError(path, "folder holds neither MOCT CSV tables nor MOCT_NODE/MOCT_LINK shapefiles")
    if low.endswith(".graphml") or low.endswith(".graphml.gz"):
        speeds = path.parent / Path(KTDB_SPEEDS).name
        use_speeds = "ktdb" in low and speeds.exists()
        return _graphml_network(path, name, fingerprint, speeds if use_speeds else None)
    if low.endswith(".shp"):
        if ktdb.is_ktdb_shapefile(path):
            return ktdb.load_ktdb(path, name=name, fingerprint=fingerprint)
        node_shp = moct.node_shapefile_for(path)
        return moct.load_moct_shapefiles(node_shp, path, name=name, fingerprint=fingerprint)
    raise InputError("source", str(path), "a .graphml, .graphml.gz, .shp or a MOCT folder")


def fetch_osm_graph(
    place: str = "Seoul, South Korea",
    *,
    network_type: str = "all",
    simplify: bool = True,
) -> Any:
    """Download a street graph from OpenStreetMap with osmnx (needs internet; opt-in).

    Used by ``mobility data fetch --what network``. osmnx's HTTP cache goes to
    ``<cache>/osmnx_http`` so a repeated fetch does not query Overpass again. Save the result with
    ``osmnx.save_graphml`` and load it with ``load_network(path)``.

    Parameters
    ----------
    place
        A Nominatim place name.
    network_type
        osmnx network type: ``all``, ``drive``, ``walk``, ``bike``, ...

    Returns
    -------
    networkx.MultiDiGraph
        The osmnx graph (EPSG:4326).
    """
    import osmnx as ox

    allowed = {"all", "all_public", "bike", "drive", "drive_service", "walk"}
    if network_type not in allowed:
        raise InputError("network_type", network_type, "one of " + ", ".join(sorted(allowed)))
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir("osmnx_http"))
    return ox.graph_from_place(place, network_type=network_type, simplify=simplify)


_MEMO: dict[str, StreetNetwork] = {}


def load_network(
    source: str | Path = "osm-all",
    data_dir: Path | str | None = None,
    *,
    use_cache: bool = True,
    progress: Callable[[str], None] | None = None,
) -> StreetNetwork:
    """Load a street network, from the array cache when its inputs have not changed.

    Parameters
    ----------
    source
        ``"osm-all"`` (default), ``"osm-drive"``, ``"moct"``, ``"moct+ktdb"``, ``"ktdb"``, or a
        path (GraphML, ``.graphml.gz``, MOCT/KTDB link shapefile, MOCT CSV/shapefile folder).
    data_dir
        The Seoul data folder (default: :func:`mobility.config.resolve_data_dir`).
    use_cache
        Read/write the compact ``.npz`` in ``<cache>/graphs`` (keyed on the input files' path,
        size and mtime and the loader version). A cold osmnx GraphML load of ``osm-all`` takes
        about 30 s; a warm load well under 3 s.
    progress
        Called with a short message before a slow (cold) build.

    Returns
    -------
    StreetNetwork

    Raises
    ------
    DataNotFoundError
        When the named network's file is not in the data folder.
    DataFileError
        When a file cannot be parsed as a network.
    """
    name, path, inputs = _resolve_source(source, data_dir)
    key = cache_key(inputs, loader="street_network", version=FORMAT_VERSION, name=name)
    if key in _MEMO:
        return _MEMO[key]
    if not use_cache:
        net = _build_uncached(name, path, key)
        _remember_data_dir(net, data_dir)
        _MEMO[key] = net
        return net
    target = cache_dir("graphs") / f"{key}.npz"
    if not target.exists():
        if progress is not None:
            progress(f"building the {name} network from {path.name} (first time only)")
        t0 = time.perf_counter()
        net = _build_uncached(name, path, key)
        net.info["build_seconds"] = round(time.perf_counter() - t0, 2)
        cached_file("graphs", key, ".npz", net.save_npz)
    try:
        net = StreetNetwork.load_npz(target)
    except (OSError, ValueError, KeyError) as exc:  # a damaged cache entry: rebuild it once
        target.unlink(missing_ok=True)
        if progress is not None:
            progress(f"cached {name} network unreadable ({type(exc).__name__}); rebuilding")
        net = _build_uncached(name, path, key)
        cached_file("graphs", key, ".npz", net.save_npz)
    _remember_data_dir(net, data_dir)
    _MEMO[key] = net
    return net


def _remember_data_dir(net: StreetNetwork, data_dir: Path | str | None) -> None:
    """Note the data folder (for KTDB speeds needed later by night profiles); not cached."""
    try:
        net.info["data_dir"] = str(resolve_data_dir(data_dir))
    except DataNotFoundError:
        net.info.pop("data_dir", None)


def clear_memory_cache() -> None:
    """Forget networks kept in this process (the disk cache stays)."""
    _MEMO.clear()
