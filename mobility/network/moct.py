"""MOCT/ITS national standard node-link (전국표준노드링크) readers.

Two layouts are read:

* CSV tables as in ``osm/moct_nodelink_2018/``: ``Seoul_node.csv`` (``Id``, ``NODE_NAME``,
  ``latitude``, ``longitude``, ...) and ``Seoul_link_utf8.csv`` (or ``Seoul_link.csv``:
  ``LINK_ID``, ``Source``, ``Target``, ``ROAD_RANK``, ``MAX_SPD``, ``SHAPE_STLe`` (m), ...);
* the official shapefiles ``MOCT_NODE.shp`` (points; ``NODE_ID``) and ``MOCT_LINK.shp``
  (line strings; ``LINK_ID``, ``F_NODE``, ``T_NODE``, ``ROAD_RANK``, ``MAX_SPD``, ``LENGTH``), CP949
  attributes, coordinates in the ``.prj``'s CRS (EPSG:5186 in recent releases).

Every MOCT link is one direction of travel, so every edge is ``oneway``. ``ROAD_RANK`` maps to an
OSM-like class by :data:`mobility.network.street.ROAD_RANK_CLASS`; ``MAX_SPD`` (the speed limit,
0 = unknown) becomes ``speed_kph``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mobility.errors import DataFileError
from mobility.network.street import EdgeTable, StreetNetwork, build_network, road_rank_codes

NODE_CSV = "Seoul_node.csv"
LINK_CSVS = ("Seoul_link_utf8.csv", "Seoul_link.csv")


def is_moct_csv_dir(folder: Path) -> bool:
    """Whether ``folder`` holds the MOCT node and link CSV tables."""
    return (folder / NODE_CSV).exists() and any((folder / n).exists() for n in LINK_CSVS)


def _require(df: pd.DataFrame, cols: list[str], path: Path) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataFileError(path, f"missing column(s) {missing}; found {list(df.columns)[:20]}")


def _speed_limit_kph(links: pd.DataFrame) -> np.ndarray:
    """Each link's ``MAX_SPD`` (km/h); NaN where it is 0 (unknown), not a number or not given."""
    if "MAX_SPD" not in links.columns:
        return np.full(len(links), np.nan)
    speed = pd.to_numeric(links["MAX_SPD"], errors="coerce").to_numpy(dtype=np.float64)
    return np.where(speed > 0, speed, np.nan)


def load_moct_csv(folder: Path, *, name: str = "moct", fingerprint: str = "") -> StreetNetwork:
    """Read the MOCT node/link CSV tables of ``folder`` into a :class:`StreetNetwork`.

    Links whose end node is not in the node table are dropped and counted in
    ``info["dropped_dangling"]`` (307 in the 2018 Seoul extract: Gangdong-gu and Gyeonggi ends).
    """
    node_path = folder / NODE_CSV
    link_path = next(folder / n for n in LINK_CSVS if (folder / n).exists())
    try:
        nodes = pd.read_csv(node_path, encoding="utf-8")
        links = pd.read_csv(link_path, encoding="utf-8", low_memory=False)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataFileError(node_path.parent, f"cannot read MOCT CSV tables: {exc}") from exc
    _require(nodes, ["Id", "latitude", "longitude"], node_path)
    _require(links, ["LINK_ID", "Source", "Target", "ROAD_RANK", "SHAPE_STLe"], link_path)
    return build_network(
        name=name,
        fingerprint=fingerprint,
        node_id=nodes["Id"].to_numpy(np.int64),
        lon=nodes["longitude"].to_numpy(np.float64),
        lat=nodes["latitude"].to_numpy(np.float64),
        edges=EdgeTable(
            tail_id=links["Source"].to_numpy(np.int64),
            head_id=links["Target"].to_numpy(np.int64),
            length_m=pd.to_numeric(links["SHAPE_STLe"], errors="coerce").to_numpy(np.float64),
            highway=road_rank_codes(links["ROAD_RANK"]),
            oneway=np.ones(len(links), dtype=bool),
            speed_kph=_speed_limit_kph(links),
        ),
        info={"source_path": str(folder), "format": "moct-csv", "links_read": len(links)},
    )


def find_moct_shapefiles(folder: Path) -> tuple[Path, Path] | None:
    """``(MOCT_NODE.shp, MOCT_LINK.shp)`` in ``folder`` (case-insensitive), or ``None``."""
    by_name = {p.name.upper(): p for p in folder.glob("*.shp")}
    node, link = by_name.get("MOCT_NODE.SHP"), by_name.get("MOCT_LINK.SHP")
    return (node, link) if node and link else None


def node_shapefile_for(link_shp: Path) -> Path:
    """The node shapefile beside a link shapefile (``MOCT_LINK.shp`` -> ``MOCT_NODE.shp``)."""
    cand = [p for p in link_shp.parent.glob("*.shp") if "NODE" in p.name.upper()]
    if not cand:
        raise DataFileError(link_shp, "no MOCT_NODE shapefile beside this link shapefile")
    return cand[0]


def _read_shp(path: Path) -> pd.DataFrame:
    import geopandas as gpd

    for enc in ("cp949", "utf-8"):
        try:
            return gpd.read_file(path, encoding=enc)
        except UnicodeDecodeError:
            continue
    raise DataFileError(path, "attributes are neither CP949 nor UTF-8")


def load_moct_shapefiles(
    node_shp: Path, link_shp: Path, *, name: str = "moct", fingerprint: str = ""
) -> StreetNetwork:
    """Read the official ``MOCT_NODE.shp`` / ``MOCT_LINK.shp`` layout into a :class:`StreetNetwork`.

    Link length is ``LENGTH`` (m) when present, else the geometry length in EPSG:5179.
    """
    import geopandas as gpd

    nodes = _read_shp(node_shp)
    links = _read_shp(link_shp)
    assert isinstance(nodes, gpd.GeoDataFrame) and isinstance(links, gpd.GeoDataFrame)
    nodes.columns = [c.upper() if c != "geometry" else c for c in nodes.columns]
    links.columns = [c.upper() if c != "geometry" else c for c in links.columns]
    _require(nodes, ["NODE_ID"], node_shp)
    _require(links, ["LINK_ID", "F_NODE", "T_NODE", "ROAD_RANK"], link_shp)
    if nodes.crs is None or links.crs is None:
        raise DataFileError(link_shp, "no .prj (CRS unknown); MOCT shapefiles carry EPSG:5186 or similar")
    nodes_ll = nodes.to_crs(4326)
    links_ll = links.to_crs(4326)
    if "LENGTH" in links.columns:
        length = pd.to_numeric(links["LENGTH"], errors="coerce").to_numpy(np.float64)
    else:
        length = links.to_crs(5179).geometry.length.to_numpy()
    geoms = [
        np.asarray(g.coords, dtype=np.float64) if g is not None and g.geom_type == "LineString" else None
        for g in links_ll.geometry
    ]
    return build_network(
        name=name,
        fingerprint=fingerprint,
        node_id=pd.to_numeric(nodes["NODE_ID"]).to_numpy(np.int64),
        lon=nodes_ll.geometry.x.to_numpy(),
        lat=nodes_ll.geometry.y.to_numpy(),
        edges=EdgeTable(
            tail_id=pd.to_numeric(links["F_NODE"]).to_numpy(np.int64),
            head_id=pd.to_numeric(links["T_NODE"]).to_numpy(np.int64),
            length_m=length,
            highway=road_rank_codes(links["ROAD_RANK"]),
            oneway=np.ones(len(links), dtype=bool),
            speed_kph=_speed_limit_kph(links),
            geoms=geoms,
        ),
        info={"source_path": str(link_shp), "format": "moct-shapefile", "links_read": len(links)},
    )
