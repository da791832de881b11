"""GeoPackage export: one file, six layers, written with pyogrio and renamed into place."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyogrio

from mobility.export.geojson import prepare
from mobility.export.layers import LAYER_NAMES, MapLayers

GEOMETRY_TYPES = {
    "existing_stations": "Point",
    "new_stations": "Point",
    "coverage": "MultiPolygon",
    "districts": "MultiPolygon",
    "routes": "LineString",
    "depots": "Point",
    "stops": "Point",
}
"""Declared geometry type of each layer (also for empty layers, so QGIS shows them all)."""


def write_gpkg(layers: MapLayers, path: Path | str) -> Path:
    """Write every layer of ``layers`` (empty ones too) into one GeoPackage, atomically.

    Polygons are promoted to MultiPolygon so each layer has one geometry type.
    """
    import shapely

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # GDAL wants a .gpkg ending, so the temporary file beside the target keeps it; it is renamed
    # over the target only when every layer is written (atomic like mobility.io.atomic_path).
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp.gpkg")
    try:
        for name in LAYER_NAMES:
            gdf = prepare(layers.layers()[name])
            gtype = GEOMETRY_TYPES[name]
            if gtype == "MultiPolygon" and len(gdf):
                geoms = gdf.geometry.values
                single = shapely.get_type_id(geoms) == 3
                gdf = gdf.set_geometry(
                    [shapely.multipolygons([g]) if s else g for g, s in zip(geoms, single, strict=True)],
                    crs=gdf.crs,
                )
            pyogrio.write_dataframe(
                gdf,
                tmp,
                driver="GPKG",
                layer=name,
                geometry_type=gtype,
                promote_to_multi=gtype.startswith("Multi"),
                append=False,
            )
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
