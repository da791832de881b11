"""KTDB View-T Level 5.5 major-road network (도로망네트워크 주요도로망 Level5.5) and its hourly speeds.

* ``seoul_link_lev5.5_2023.shp``: directed links (``k_link_id``, ``fnode_id``, ``tnode_id``,
  ``road_rank``, ``lane``, ``k_length`` in **km**), CP949 attributes, CRS EPSG:5179 (the ``.prj``
  says "ITRF_2000_UTM_K" with EPSG:5179's parameters). Nodes exist only as link ends; a node is
  placed at the mean of its link endpoints (the two directions are digitised a few metres apart).
* ``AverageSpeed_LINK.csv``: 24 hourly average speeds (km/h, ``-`` = missing) per 5.5 link id;
  ``ITS LINK ID`` is a MOCT link id where it has exactly 10 digits.

:func:`match_hourly_speeds` transfers these speeds onto another network's edges (e.g. the OSM
drive graph) by spatial matching, for the night-time truck profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import DataFileError
from mobility.network.street import (
    KTDB_SPEEDS,
    EdgeTable,
    StreetNetwork,
    build_network,
    road_rank_codes,
    to_metric,
)

HOUR_COLUMNS = [f"{h}~{h + 1}시" for h in range(24)]


def is_ktdb_shapefile(path: Path) -> bool:
    """Whether a link shapefile has the KTDB Level 5.5 columns."""
    import pyogrio

    try:
        cols = {c.lower() for c in pyogrio.read_info(path)["fields"]}
    except Exception as exc:
        raise DataFileError(path, f"not a readable shapefile: {exc}") from exc
    return {"k_link_id", "fnode_id", "tnode_id"} <= cols


def daily_mean_kph(hourly: np.ndarray) -> np.ndarray:
    """Each link's mean speed over the hours that have one (km/h; NaN for a link with none).

    Parameters
    ----------
    hourly
        ``(links, 24)`` hourly speeds, NaN where an hour is unknown.
    """
    mean = np.full(len(hourly), np.nan)
    with np.errstate(all="ignore"):
        known = ~np.all(np.isnan(hourly), axis=1)
        mean[known] = np.nanmean(hourly[known], axis=1)
    return mean


def read_ktdb_speeds(path: Path) -> pd.DataFrame:
    """Read ``AverageSpeed_LINK.csv``.

    Returns
    -------
    pandas.DataFrame
        ``k_link_id`` (int64), ``its_link_id`` (int64; -1 unless the raw value is one 10-digit
        MOCT id), ``h00`` … ``h23`` (float km/h, ``nan`` where missing).
    """
    try:
        raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataFileError(path, f"cannot read KTDB speeds: {exc}") from exc
    need = ["5.5 LINK ID", "ITS LINK ID", *HOUR_COLUMNS]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise DataFileError(path, f"missing column(s) {missing[:5]}")
    out = pd.DataFrame({"k_link_id": pd.to_numeric(raw["5.5 LINK ID"], errors="coerce")})
    out["k_link_id"] = out["k_link_id"].fillna(-1).astype(np.int64)
    its = raw["ITS LINK ID"].fillna("").str.strip()
    single = its.str.fullmatch(r"\d{10}")
    out["its_link_id"] = np.where(single, pd.to_numeric(its.where(single, "-1")), -1).astype(np.int64)
    for h, col in enumerate(HOUR_COLUMNS):
        out[f"h{h:02d}"] = pd.to_numeric(raw[col].replace("-", np.nan), errors="coerce").astype(float)
    return out


def hourly_speeds_for_ids(
    csv_path: Path,
    link_ids: np.ndarray,
    info: dict[str, Any],
    keys: tuple[str, ...] = ("k_link_id", "its_link_id"),
) -> tuple[np.ndarray | None, np.ndarray]:
    """Hourly KTDB speeds for edges whose id is a KTDB 5.5 link id or a single MOCT (ITS) link id.

    The one join of ``AverageSpeed_LINK.csv`` onto links, for the KTDB shapefile
    (:func:`load_ktdb`, ids ``k_link_id``) and for GraphML networks whose edge ``osmid`` is a KTDB
    or MOCT link id. One MOCT link may be referred to by several KTDB links (545 MOCT ids in
    Seoul's ``AverageSpeed_LINK.csv``, often short stubs at its ends with speeds from 2 to 90
    km/h): such a link takes, hour by hour, the median of their speeds, not whichever row comes
    first.

    Parameters
    ----------
    csv_path
        ``AverageSpeed_LINK.csv``.
    link_ids
        Each edge's link id (``-1``: none).
    info
        The network's info; gets ``ktdb_speed_links_matched`` (edges whose id matched), or
        ``ktdb_speeds`` when the file is missing.
    keys
        The file's id columns to match, in order (an edge keeps its first match): the KTDB
        shapefile's links are KTDB links only (``("k_link_id",)``).

    Returns
    -------
    tuple
        ``(edges, 24)`` float32 km/h (``None`` without the file; NaN where unknown) and each edge's
        mean over its known hours (:func:`daily_mean_kph`).
    """
    n = len(link_ids)
    mean = np.full(n, np.nan)
    if not csv_path.exists():
        info["ktdb_speeds"] = f"missing {csv_path}"
        return None, mean
    sp = read_ktdb_speeds(csv_path)
    hour_cols = [f"h{h:02d}" for h in range(24)]
    hourly = np.full((n, 24), np.nan, dtype=np.float32)
    matched = 0
    for key_col in keys:
        per_key = sp.loc[sp[key_col] >= 0].groupby(key_col)[hour_cols].median()
        ks = per_key.index.to_numpy(np.int64)  # sorted, unique
        if len(ks) == 0:
            continue
        pos = np.clip(np.searchsorted(ks, link_ids), 0, len(ks) - 1)
        hit = (ks[pos] == link_ids) & (link_ids >= 0) & np.all(np.isnan(hourly), axis=1)
        hourly[hit] = per_key.to_numpy(np.float32)[pos[hit]]
        matched += int(hit.sum())
    info["ktdb_speed_links_matched"] = matched
    return hourly, daily_mean_kph(hourly)


def load_ktdb(shp: Path, *, name: str = "ktdb", fingerprint: str = "") -> StreetNetwork:
    """Read the Level 5.5 link shapefile (+ ``AverageSpeed_LINK.csv`` beside it) as a network."""
    import geopandas as gpd

    g = gpd.read_file(shp, encoding="cp949")
    g = g.set_crs(5179, allow_override=True)
    for c in ("k_link_id", "fnode_id", "tnode_id", "k_length", "road_rank"):
        if c not in g.columns:
            raise DataFileError(shp, f"missing column {c!r}")
    ll = g.to_crs(4326)
    coords = [np.asarray(geom.coords, dtype=np.float64) for geom in ll.geometry]
    f_id = g["fnode_id"].to_numpy(np.float64).astype(np.int64)
    t_id = g["tnode_id"].to_numpy(np.float64).astype(np.int64)
    # node position = mean of the endpoints that carry its id
    ends_id = np.concatenate([f_id, t_id])
    ends = np.vstack([np.array([c[0] for c in coords]), np.array([c[-1] for c in coords])])
    uniq, inv = np.unique(ends_id, return_inverse=True)
    cnt = np.bincount(inv)
    lon = np.bincount(inv, weights=ends[:, 0]) / cnt
    lat = np.bincount(inv, weights=ends[:, 1]) / cnt
    for k, arr in enumerate(coords):  # move the ends onto the node
        arr[0] = (lon[inv[k]], lat[inv[k]])
        arr[-1] = (lon[inv[len(coords) + k]], lat[inv[len(coords) + k]])
    k_ids = g["k_link_id"].to_numpy(np.float64).astype(np.int64)
    info: dict[str, Any] = {"source_path": str(shp), "format": "ktdb-lev5.5", "links_read": len(g)}
    speeds_csv = shp.parent / Path(KTDB_SPEEDS).name
    hourly, mean = hourly_speeds_for_ids(speeds_csv, k_ids, info, keys=("k_link_id",))
    return build_network(
        name=name,
        fingerprint=fingerprint,
        node_id=uniq,
        lon=lon,
        lat=lat,
        edges=EdgeTable(
            tail_id=f_id,
            head_id=t_id,
            length_m=g["k_length"].to_numpy(np.float64) * 1000.0,
            highway=road_rank_codes(g["road_rank"]),
            oneway=np.ones(len(g), dtype=bool),
            speed_kph=mean,
            hourly_kph=hourly,
            geoms=list(coords),
        ),
        info=info,
    )


def match_hourly_speeds(
    net: StreetNetwork,
    ktdb: StreetNetwork,
    *,
    edge_mask: np.ndarray | None = None,
    max_distance_m: float = 20.0,
    max_angle_deg: float = 30.0,
) -> np.ndarray:
    """Transfer KTDB hourly speeds onto the edges of ``net`` by spatial matching.

    An edge of ``net`` takes the speeds of the KTDB link whose polyline passes nearest its
    midpoint (sampled vertices, EPSG:5179), provided the distance is at most ``max_distance_m``
    and the directions (tail→head bearings) differ by at most ``max_angle_deg``; the bearing test
    keeps opposite carriageways apart.

    Parameters
    ----------
    net
        The network to annotate (typically ``osm-drive`` or ``osm-all``).
    ktdb
        A network with ``hourly_kph`` (from :func:`load_ktdb`).
    edge_mask
        Only edges where this is true are matched (e.g. drive classes); default all.

    Returns
    -------
    numpy.ndarray
        ``(net.n_edges, 24)`` float32 km/h, ``nan`` where no link matched or the hour is missing.
    """
    from scipy.spatial import cKDTree

    if ktdb.hourly_kph is None:
        raise DataFileError(ktdb.name, "the KTDB network has no hourly speeds (AverageSpeed_LINK.csv)")
    # densify KTDB polylines to points every ~10 m with the link index and direction
    pts_x: list[np.ndarray] = []
    pts_y: list[np.ndarray] = []
    pts_link: list[np.ndarray] = []
    pts_dx: list[np.ndarray] = []
    pts_dy: list[np.ndarray] = []
    for e in range(ktdb.n_edges):
        poly = ktdb.edge_polyline(e)
        px, py = to_metric(poly[:, 0], poly[:, 1])
        for a in range(len(px) - 1):
            seg = float(np.hypot(px[a + 1] - px[a], py[a + 1] - py[a]))
            k = max(int(seg // 10.0), 1)
            s = (np.arange(k) + 0.5) / k
            pts_x.append(px[a] + s * (px[a + 1] - px[a]))
            pts_y.append(py[a] + s * (py[a + 1] - py[a]))
            pts_link.append(np.full(k, e))
            d = max(seg, 1e-9)
            pts_dx.append(np.full(k, (px[a + 1] - px[a]) / d))
            pts_dy.append(np.full(k, (py[a + 1] - py[a]) / d))
    kx, ky = np.concatenate(pts_x), np.concatenate(pts_y)
    klink = np.concatenate(pts_link)
    kdx, kdy = np.concatenate(pts_dx), np.concatenate(pts_dy)
    tree = cKDTree(np.column_stack([kx, ky]))
    out = np.full((net.n_edges, 24), np.nan, dtype=np.float32)
    idx = np.arange(net.n_edges) if edge_mask is None else np.flatnonzero(edge_mask)
    if len(idx) == 0:
        return out
    mx = 0.5 * (net.x[net.tail[idx]] + net.x[net.head[idx]])
    my = 0.5 * (net.y[net.tail[idx]] + net.y[net.head[idx]])
    dx = net.x[net.head[idx]] - net.x[net.tail[idx]]
    dy = net.y[net.head[idx]] - net.y[net.tail[idx]]
    dn = np.maximum(np.hypot(dx, dy), 1e-9)
    dx, dy = dx / dn, dy / dn
    k_near = 8
    dist, nn = tree.query(np.column_stack([mx, my]), k=k_near, distance_upper_bound=max_distance_m)
    cos_min = np.cos(np.deg2rad(max_angle_deg))
    best = np.full(len(idx), -1, dtype=np.int64)
    best_d = np.full(len(idx), np.inf)
    valid_nn = nn < len(kx)
    nn_c = np.where(valid_nn, nn, 0)
    cosang = kdx[nn_c] * dx[:, None] + kdy[nn_c] * dy[:, None]
    ok = valid_nn & (cosang >= cos_min)
    dist_ok = np.where(ok, dist, np.inf)
    j = np.argmin(dist_ok, axis=1)
    rows = np.arange(len(idx))
    best_d = dist_ok[rows, j]
    best = np.where(np.isfinite(best_d), klink[nn_c[rows, j]], -1)
    hit = best >= 0
    out[idx[hit]] = ktdb.hourly_kph[best[hit]]
    return out
