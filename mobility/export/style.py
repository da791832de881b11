"""Shared cartography for the HTML and static maps: the choropleth's column, colours and labels."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LinearSegmentedColormap, Normalize, to_hex

WATER_COLOR = "#a8d5f2"
DISTRICT_EDGE = "#555555"
COVERAGE_COLOR = "#2ca02c"
NEW_COLOR = "#d62728"
STATION_CMAP = "YlOrBr"
DEPOT_COLOR = "#111111"
"""Depots (where a night's trucks start and end): a black square, white-edged, on both maps."""
ROUTE_COLORS = (
    "#e600ff", "#008200", "#7da0ff", "#8c9187", "#780f73", "#821eff", "#ff1e8c", "#325037",
    "#cd91be", "#00b97d", "#008287", "#7d648c", "#0069f0", "#73b400", "#aa73f0", "#b43c91",
    "#7d8232", "#3c23d2", "#5a3787", "#7387a5", "#5f6969", "#a00ac8", "#41875f", "#505f00",
    "#ff64d7", "#5a5fa5", "#a5a0b4", "#005a5a", "#9b7d8c", "#786eff",
)  # fmt: skip
"""The trucks' route colours on every map (print, HTML, the web app), the i-th truck the i-th
colour, cycled beyond 30 trucks: as many as the print map lists one by one
(``static_map.MAX_ROUTE_LEGEND``).

No yellow, orange, brown or dark red: the stations are coloured by bikes on :data:`STATION_CMAP`
(yellow to dark brown), and a route in those colours was lost among them. Chosen greedily in
CAM02-UCS from an sRGB grid, each colour the farthest from the ones before it, among colours at
least 30 from every colour of :data:`STATION_CMAP`, 15 from the print map's station blue, black
and white, 12 from the district scale and the water, with a lightness between 32 and 80 and at
least 2.5:1 contrast with the white stop numbers. The first 24 (the shipped night's fleet) differ by 16
or more, all 30 by 14 or more."""
ATTRIBUTION = (
    "Stations: Seoul Open Data Plaza (KOGL Type 1) · Districts: KOSTAT/SGIS · "
    "Water: © OpenStreetMap contributors (ODbL)"
)


BIKES_PER_10K_STOPS: tuple[tuple[float, str], ...] = (
    (0.0, "#f7fcf0"), (20.0, "#ccebc5"), (30.0, "#7bccc4"), (40.0, "#2b8cbe"), (60.0, "#084081"),
)  # fmt: skip
"""The bikes-per-10,000-residents scale of every map, fixed: the web app's (``CHOROPLETH`` in
``api/web/static/map.js``, which a test holds equal to this), the HTML and the print maps. A
colour means the same figure on every map, so two maps side by side compare (the print maps
stretched their own range before: 25-68 on the 2019 plan). Values above 60 take the last colour;
the city's goal of 33 falls between the third and the fourth stop."""
BIKES_PER_10K_CMAP = "mobility_bikes_per_10k"
"""The matplotlib colormap of :data:`BIKES_PER_10K_STOPS` (registered here, over 0-60)."""
BIKES_PER_10K_RANGE = (BIKES_PER_10K_STOPS[0][0], BIKES_PER_10K_STOPS[-1][0])
if BIKES_PER_10K_CMAP not in colormaps:
    _positions = [(v / BIKES_PER_10K_RANGE[1], c) for v, c in BIKES_PER_10K_STOPS]
    colormaps.register(LinearSegmentedColormap.from_list(BIKES_PER_10K_CMAP, _positions))


def stops_text(n: int) -> str:
    """``"1 stop"``, ``"8 stops"``: a truck's stop count in a legend entry."""
    return f"{n} stop" if n == 1 else f"{n} stops"


def before_after(meta: Mapping[str, Any], key: str, scale: float = 1.0, nd: int = 1) -> str:
    """A citywide figure of a map's subtitle: ``"33.1"``, or ``"27.4 → 33.1"`` when the layers
    carry it before too (``meta["citywide_before"]``: a plan's or a comparison's baseline)."""
    after = f"{scale * float((meta.get('citywide') or {}).get(key) or 0):.{nd}f}"
    before = (meta.get("citywide_before") or {}).get(key)
    if before is None or not math.isfinite(float(before)):
        return after
    return f"{scale * float(before):.{nd}f} → {after}"


KPI_LABELS = {
    "bikes_per_10k": "자전거 / 인구 1만 명 (bikes per 10,000 residents)",
    "coverage_share": "도보권 인구 비율 (share of residents within walking distance)",
    "bikes_per_10k_change": "변화: 자전거 / 인구 1만 명 (change in bikes per 10,000 residents)",
    "coverage_share_change": "변화: 도보권 인구 비율 (change in coverage share)",
}


@dataclass(frozen=True)
class Choropleth:
    """What the district fill shows.

    Attributes
    ----------
    column
        District column (``bikes_per_10k``, or a ``*_change`` column for comparisons).
    label
        Legend title.
    cmap
        Matplotlib colormap name.
    vmin, vmax
        Colour range (symmetric around 0 for changes).
    """

    column: str
    label: str
    cmap: str
    vmin: float
    vmax: float

    def colors(self, values: np.ndarray) -> list[str]:
        """Hex fill colour of each value (grey for missing)."""
        cmap = colormaps[self.cmap]
        norm = Normalize(self.vmin, self.vmax)
        return [to_hex(cmap(norm(v))) if np.isfinite(v) else "#dddddd" for v in values]

    def plotly_scale(self, n: int = 11) -> list[list[float | str]]:
        """The colormap as a plotly colorscale."""
        cmap = colormaps[self.cmap]
        return [[i / (n - 1), to_hex(cmap(i / (n - 1)))] for i in range(n)]


def choropleth_for(districts: gpd.GeoDataFrame, column: str | None = None) -> Choropleth:
    """The choropleth spec for ``column`` (default bikes per 10k): bikes per 10,000 on the fixed
    scale of every map (:data:`BIKES_PER_10K_STOPS`), a change around 0, another figure over its
    range."""
    col = column or "bikes_per_10k"
    if col not in districts.columns:
        col = "bikes_per_10k"
    vals = districts[col].astype(float).to_numpy() if col in districts.columns else np.array([0.0])
    finite = vals[np.isfinite(vals)] if len(vals) else np.array([0.0])
    if finite.size == 0:
        finite = np.array([0.0])
    label = KPI_LABELS.get(col, col)
    if col.endswith("_change"):
        m = float(np.max(np.abs(finite))) or 1.0
        return Choropleth(col, label, "RdBu", -m, m)
    if col == "bikes_per_10k":  # one scale on every map (BIKES_PER_10K_STOPS)
        return Choropleth(col, label, BIKES_PER_10K_CMAP, *BIKES_PER_10K_RANGE)
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        hi = lo + 1.0
    return Choropleth(col, label, "YlGnBu", lo, hi)
