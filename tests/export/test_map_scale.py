"""One bikes-per-10,000 scale on every map: the web app's, the HTML and the print maps. The print
maps stretched their own range (25-68 on the 2019 plan, another on the current network), and the
web app used fixed stops in other colours: one district looked different on each."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from mobility.export.html_map import build_figure
from mobility.export.layers import MapLayers
from mobility.export.static_map import draw
from mobility.export.style import BIKES_PER_10K_STOPS, choropleth_for

MAP_JS = Path(__file__).resolve().parents[2] / "api" / "web" / "static" / "map.js"


def test_the_web_app_draws_the_same_stops() -> None:
    found = re.search(r"export const CHOROPLETH = (\[.*?\]);\n", MAP_JS.read_text(encoding="utf-8"))
    assert found, "CHOROPLETH not found in map.js"
    stops = json.loads(found.group(1).replace("'", '"'))
    assert [(float(v), c) for v, c in stops] == list(BIKES_PER_10K_STOPS)


def test_every_map_has_the_same_range(current_layers: MapLayers, plan_layers: MapLayers) -> None:
    ranges = {(c.vmin, c.vmax) for c in (choropleth_for(x.districts) for x in (current_layers, plan_layers))}
    assert ranges == {(0.0, 60.0)}
    chor = choropleth_for(plan_layers.districts)
    assert chor.colors(np.array([0.0, 40.0, 60.0, 95.0])) == ["#f7fcf0", "#2b8cbe", "#084081", "#084081"]


def test_the_print_and_html_colour_bars_span_the_fixed_scale(current_layers: MapLayers) -> None:
    fig = draw(current_layers)
    try:
        bar = fig.axes[-1]  # geopandas' colour bar
        assert bar.get_ylim() == (0.0, 60.0)
    finally:
        plt.close(fig)
    marker = next(t for t in build_figure(current_layers).data if t.meta == "colorbar").marker
    assert (marker.cmin, marker.cmax) == (0.0, 60.0)
