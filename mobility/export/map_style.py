"""The MapLibre style of the web app's basemap: light, so that the data stands out.

Drawn from the OpenMapTiles-schema tiles (:mod:`mobility.export.vector_tiles`): a pale
background, water in the maps' water colour, parks and woods in a faint green, roads in greys
whose width grows with the zoom, buildings from zoom 15. No text layers, so no glyphs (fonts)
are needed from anywhere; station and district names are in the app's own popups and tables.
The data colours of :mod:`mobility.export.style` travel in ``metadata`` so the app draws
stations, coverage and routes in the colours of the static and HTML maps.

:func:`basemap_style` checks the document it makes against :class:`MapStyle`, the model the API's
OpenAPI document publishes for ``GET /web/style.json``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mobility.export.layers import TRUCK_COLORS
from mobility.export.style import COVERAGE_COLOR, DISTRICT_EDGE, NEW_COLOR, WATER_COLOR
from mobility.export.vector_tiles import BASE_ZOOM, OVERVIEW_ZOOMS
from mobility.sources.stations import SEOUL_BBOX

BACKGROUND = "#f6f6f4"
PARK = "#e3eedb"
ROAD_MAJOR = "#d2d2d2"
ROAD_MINOR = "#e4e4e4"
BUILDING = "#ebe9e6"
ATTRIBUTION = "© OpenStreetMap contributors (ODbL) · OpenMapTiles schema"

ROAD_WIDTHS: dict[str, tuple[float, float]] = {
    "motorway": (1.2, 6.0),
    "trunk": (1.0, 5.0),
    "primary": (0.8, 4.5),
    "secondary": (0.6, 3.5),
    "tertiary": (0.4, 3.0),
    "minor": (0.3, 2.0),
}
"""Road line width in pixels at zoom 10 and at zoom 16, by OpenMapTiles class."""


class _Open(BaseModel):
    """Base of the style models: they name what the web app reads of the style and let every
    other member of the MapLibre style specification through (``additionalProperties``)."""

    model_config = ConfigDict(extra="allow")


class StyleSource(_Open):
    """A source of the style: the basemap's vector tiles, on this server."""

    type: str = Field(description="The source's kind: vector for the basemap's tiles.", examples=["vector"])
    minzoom: int = Field(
        default=0, ge=0, description="The lowest zoom the tiles hold; no map of the app zooms out further."
    )


class StyleLayer(_Open):
    """A layer of the basemap (MapLibre's ``layers`` item)."""

    id: str = Field(examples=["water"])
    type: str = Field(description="A MapLibre layer type.", examples=["fill"])


class DataColors(_Open):
    """The colours of the data the maps draw over the basemap, the static and HTML maps' colours
    (``mobility.export.style``), each a CSS hex colour (#rrggbb)."""

    new: str = Field(description="New stations.", examples=["#d62728"])
    existing: str = Field(description="Existing stations.", examples=["#3b6fb6"])
    coverage: str = Field(description="Walking coverage areas.", examples=["#2ca02c"])
    district_edge: str = Field(description="District (gu) boundaries.", examples=["#555555"])
    trucks: list[str] = Field(min_length=1, description="Trucks' routes, in turn by the routes' order.")


class StyleMetadata(_Open):
    """The style's ``metadata``: the data colours."""

    colors: DataColors = Field(alias="mobility:colors")


class MapStyle(_Open):
    """A MapLibre style document (style specification v8) of the offline basemap: its tiles on
    this server, the data colours in ``metadata``."""

    version: Literal[8]
    sources: dict[str, StyleSource] = Field(description="The style's sources, by name (osm: the basemap).")
    layers: list[StyleLayer] = Field(description="The basemap's layers, drawn in this order.")
    metadata: StyleMetadata


def _road(cls: str, w10: float, w16: float) -> dict[str, Any]:
    major = cls in ("motorway", "trunk", "primary")
    return {
        "id": f"road-{cls}",
        "type": "line",
        "source": "osm",
        "source-layer": "transportation",
        "filter": ["==", ["get", "class"], cls],
        "layout": {"line-join": "round", "line-cap": "round"},
        "paint": {
            "line-color": ROAD_MAJOR if major else ROAD_MINOR,
            "line-width": ["interpolate", ["exponential", 1.5], ["zoom"], 10, w10, 16, w16],
        },
    }


def basemap_style(
    tile_url: str, *, bounds: tuple[float, float, float, float] | None = None
) -> dict[str, Any]:
    """The style document (MapLibre style spec v8) for tiles at ``tile_url`` (``{z}/{x}/{y}``),
    checked against :class:`MapStyle` (the members the model does not name, as they are).

    Raises
    ------
    pydantic.ValidationError
        When the document breaks its model (a bug of this module, not a user error).
    """
    box = list(bounds or SEOUL_BBOX)
    style: dict[str, Any] = {
        "version": 8,
        "name": "mobility light",
        "metadata": {
            "mobility:colors": {
                "new": NEW_COLOR,
                "existing": "#3b6fb6",
                "coverage": COVERAGE_COLOR,
                "district_edge": DISTRICT_EDGE,
                "water": WATER_COLOR,
                "trucks": list(TRUCK_COLORS),
            }
        },
        "center": [126.99, 37.56],
        "zoom": 10.5,
        "sources": {
            "osm": {
                "type": "vector",
                "tiles": [tile_url],
                # the zooms the server's tiles hold (9-13 generalised, 14 as in the data
                # directory); the web app's maps zoom out no further than this minzoom (map.js)
                "minzoom": min(OVERVIEW_ZOOMS),
                "maxzoom": BASE_ZOOM,
                "bounds": box,
                "attribution": ATTRIBUTION,
            }
        },
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}},
            {"id": "park", "type": "fill", "source": "osm", "source-layer": "park",
             "paint": {"fill-color": PARK}},
            {"id": "wood", "type": "fill", "source": "osm", "source-layer": "landcover",
             "filter": ["in", ["get", "class"], ["literal", ["wood", "forest", "grass"]]],
             "paint": {"fill-color": PARK, "fill-opacity": 0.7}},
            {"id": "water", "type": "fill", "source": "osm", "source-layer": "water",
             "paint": {"fill-color": WATER_COLOR}},
            {"id": "waterway", "type": "line", "source": "osm", "source-layer": "waterway",
             "paint": {"line-color": WATER_COLOR, "line-width": 1.2}},
            {"id": "building", "type": "fill", "source": "osm", "source-layer": "building", "minzoom": 15,
             "paint": {"fill-color": BUILDING}},
            *[_road(c, *w) for c, w in reversed(ROAD_WIDTHS.items())],
        ],
    }  # fmt: skip
    MapStyle.model_validate(style)
    return style


__all__ = ["MapStyle", "basemap_style"]
