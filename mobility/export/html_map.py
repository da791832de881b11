"""The interactive map as ONE self-contained HTML file that works with the network off.

Drawn with plotly on a plane (lon/lat axes with the x scale set to cos(latitude), i.e. a local
equirectangular projection: shapes and distances look right over Seoul's 40 km). plotly.js is
written inline from the installed ``plotly`` package (``include_plotlyjs=True``): no CDN, no
tile server, no font or glyph server, no vendored JavaScript in this repository. Orientation
offline comes from the district boundaries and the Han river (OSM water polygons).

What the map shows, each as a legend entry that toggles it (click; double-click isolates):
district choropleth (bikes per 10,000 residents, or a before/after change) with its colour bar,
water, walking-catchment coverage, existing stations (size = docks, colour = bikes), new
stations, one route per truck in its own colour and its stops numbered in visiting order.
Hovering any station, stop or district shows its figures (Hangul names as in the source).

The figure follows the window's width. On a phone (up to :data:`NARROW_MAX_PX`, or any window
narrower than the title) a small inline script (:data:`NARROW_SCRIPT`) lays it out in a column:
the title wrapped, the map as wide as the screen, horizontal colour bars, the legend and the
attribution under the map. Wider, the legend stands left of the map and the colour bars right.
The same script lays out the opt-in basemap variant (``tiles=``), there zooming the basemap out to
show the whole city in the screen-wide map.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from mobility.export.layers import MapLayers, bikes_mark, compare_note, night_summary, served_summary
from mobility.export.page import plotly_page
from mobility.export.style import (
    ATTRIBUTION,
    COVERAGE_COLOR,
    DEPOT_COLOR,
    DISTRICT_EDGE,
    NEW_COLOR,
    STATION_CMAP,
    WATER_COLOR,
    Choropleth,
    before_after,
    choropleth_for,
    stops_text,
)
from mobility.io import atomic_write_text

if TYPE_CHECKING:
    import plotly.graph_objects as go

DIV_ID = "mobility-map"
"""The plot's element id (tests and the API find the figure by it)."""

HTML_SIMPLIFY_DEG = 0.00005
"""Polygon simplification for the browser (~5 m): invisible at city scale, halves the file."""

HTML_CONFIG: dict[str, Any] = {
    "scrollZoom": True,
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"filename": "mobility-map", "scale": 2},
}
"""plotly.js config of the HTML map (the window's width, not a fixed one, sets the figure's)."""

NARROW_MAX_PX = 760
"""Up to this window width (phones, narrow windows) :data:`NARROW_SCRIPT` rearranges the map."""

NARROW_SCRIPT = r"""
(function () {
  // A phone-width window: the title wrapped to the width, the map as wide as the screen, then
  // the colour bars (horizontal), the legend (horizontal, wrapped) and the attribution under it.
  // Wider again: the figure as written. Plain plotly.js calls: nothing is fetched.
  var gd = document.getElementById('{plot_id}');
  var spec = gd && gd.layout.meta && gd.layout.meta.narrow;
  if (!spec) { return; }
  // The figure as written: plotly.js writes the drawn axes back, fitted to the window's shape.
  var wide = {data: gd.data.slice(), layout: JSON.parse(JSON.stringify(gd.layout))};
  // What the map shows. On the plane (the default): the axes' ranges as written, whatever the
  // box. On a basemap (tiles): wide, the centre and zoom as written; in a box of w x h px, the
  // extent centred and the zoom that shows all of it (Web Mercator: y in turns, 512 px tiles).
  var frame = function (layout, w, h) {
    if (!layout.map) {
      layout.xaxis = Object.assign({}, layout.xaxis, {range: spec.xrange.slice(), domain: [0, 1]});
      layout.yaxis = Object.assign({}, layout.yaxis, {range: spec.yrange.slice(), domain: [0, 1]});
    } else if (w) {
      var y = function (lat) { return Math.log(Math.tan((90 + lat) * Math.PI / 360)) / (2 * Math.PI); };
      var y0 = y(spec.yrange[0]), y1 = y(spec.yrange[1]), dx = (spec.xrange[1] - spec.xrange[0]) / 360;
      layout.map = Object.assign({}, layout.map, {
        center: {lon: (spec.xrange[0] + spec.xrange[1]) / 2,
                 lat: 360 / Math.PI * Math.atan(Math.exp(Math.PI * (y0 + y1))) - 90},
        zoom: Math.log2(Math.min(w / dx, h / (y1 - y0)) / 512)
      });
    }
    return layout;
  };
  // Redrawn with newPlot: plotly.js's react leaves a colour bar's old vertical ticks behind. A
  // basemap's promise waits for its tiles (offline it never settles or it fails): what the
  // layout measures, the title, the legend and the colour bars, is drawn when newPlot returns.
  var draw = function (data, layout) {
    var drawn = Plotly.newPlot(gd, data, layout, spec.config);
    if (!layout.map) { return drawn; }
    drawn.catch(function () {});  // a tile that did not load: the basemap shows the gap
    return Promise.resolve(gd);
  };
  var mode = 'wide', CB = 56, PAD = 8;
  // How wide the one-line title is (drawn wide first): a window narrower than it wraps it too.
  var wideTitle = gd.querySelector('.gtitle');
  var titleRight = wideTitle ? wideTitle.getBoundingClientRect().right - gd.getBoundingClientRect().left : 0;
  var canvas = document.createElement('canvas').getContext('2d');
  var family = gd._fullLayout.font.family;
  function wrap(text, size, width) {
    canvas.font = size + 'px ' + family;
    var lines = [], line = '';
    text.split(' ').forEach(function (word) {
      var next = line ? line + ' ' + word : word;
      if (line && canvas.measureText(next).width > width) { lines.push(line); line = word; }
      else { line = next; }
    });
    if (line) { lines.push(line); }
    return lines.join('<br>');
  }
  function narrow(measured) {
    // Drawn twice: first to measure the wrapped title and the legend, then to fit them.
    var inner = gd.clientWidth - 2 * PAD;
    var title = gd.querySelector('.annotation[data-index="1"]');
    var legend = gd.querySelector('g.legend');
    var top = PAD + (measured && title ? Math.ceil(title.getBoundingClientRect().height) : 140) + 6;
    var legendH = measured && legend ? Math.ceil(legend.getBoundingClientRect().height) : 80;
    var mapH = Math.round(Math.min(Math.max(inner / (spec.aspect || 1), 240), 1.2 * inner));
    var cbTop = top + mapH + 12, legendTop = cbTop + spec.colorbars.length * CB;
    var attrTop = legendTop + legendH + 6;
    var H = attrTop + 12 * spec.attribution.length + PAD;
    var below = function (px) { return -(px - top - mapH) / mapH; };  // paper: 0 at the map's foot
    // The title as an annotation: plotly.js misplaces a multi-line layout title it does not push.
    var heading = {
      text: wrap(spec.title, 15, inner) + '<br><span style="font-size:11px">' +
        spec.sub.map(function (s) { return wrap(s, 11, inner); }).join('<br>') + '</span>',
      xref: 'paper', yref: 'paper', x: 0, y: 1, xanchor: 'left', yanchor: 'bottom', yshift: 6,
      align: 'left', showarrow: false, font: {size: 15}
    };
    var attribution = Object.assign({}, wide.layout.annotations[0], {
      text: spec.attribution.join('<br>'), x: 0, y: 0, xanchor: 'left', yanchor: 'top',
      yshift: -(attrTop - top - mapH), align: 'left'
    });
    // Every margin is set, none pushed: a push redraws the map on ranges fitted to the shape
    // before it (a strip of the city).
    var layout = Object.assign({}, wide.layout, {
      title: {text: ''},
      legend: Object.assign({}, wide.layout.legend, {orientation: 'h', x: 0, xanchor: 'left',
        y: below(legendTop), yanchor: 'top', bgcolor: 'rgba(255,255,255,0)', font: {size: 10}}),
      margin: {l: PAD, r: PAD, t: top, b: H - top - mapH},
      height: H,
      annotations: [attribution, heading]
    });
    var data = wide.data.map(function (t, i) {
      var k = spec.colorbars.indexOf(i);
      if (k < 0) { return t; }
      var text = ((t.marker.colorbar.title || {}).text || '').replace(/<br>/g, ' ');
      var bar = {orientation: 'h', x: 0.5, xanchor: 'center', len: 1, y: below(cbTop + k * CB),
                 yanchor: 'top', thickness: 10, title: {text: text, side: 'top', font: {size: 11}},
                 tickfont: {size: 10}};
      return Object.assign({}, t, {marker: Object.assign({}, t.marker, {colorbar: bar})});
    });
    gd.style.height = H + 'px';
    return draw(data, frame(layout, inner, mapH));
  }
  function apply() {
    if (window.innerWidth <= spec.max_px || titleRight + PAD > gd.clientWidth) {
      mode = 'narrow';
      return narrow(false).then(function () { return narrow(true); });
    }
    if (mode === 'wide') { return Promise.resolve(); }
    mode = 'wide';
    gd.style.height = wide.layout.height + 'px';
    return draw(wide.data, frame(JSON.parse(JSON.stringify(wide.layout))));
  }
  // A phone's address bar coming and going resizes the window's height only: no redraw (it
  // would undo the reader's zoom and pan).
  var timer = null, lastWidth = window.innerWidth;
  window.addEventListener('resize', function () {
    if (window.innerWidth === lastWidth) { return; }
    lastWidth = window.innerWidth;
    clearTimeout(timer);
    timer = setTimeout(function () { gd.mobilityLayout = apply(); }, 150);
  });
  gd.mobilityLayout = apply();  // a promise: settled once the layout fits the window
})();
"""
"""Runs after the figure is drawn: the narrow-screen layout (see its comments). On the plane it is
the figure's ``post_script``; on a basemap it is a script of its own (see :func:`write_html_map`)."""


def _area(geom: Any, tol: float, fillcolor: str, line: dict[str, Any], **trace: Any) -> Any:
    """A filled polygon trace of ``geom`` (simplified by ``tol`` degrees) with ``trace``'s settings."""
    import plotly.graph_objects as go

    xs, ys = _rings(geom, tol)
    return go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=fillcolor, line=line, **trace)


def _points(gdf: Any, mode: str = "markers", **trace: Any) -> Any:
    """A trace at the points of ``gdf`` (degrees rounded to 6 decimals, ~0.1 m) with ``trace``'s settings."""
    import plotly.graph_objects as go

    return go.Scatter(x=np.round(gdf.geometry.x, 6), y=np.round(gdf.geometry.y, 6), mode=mode, **trace)


def _rings(geom: Any, tol: float) -> tuple[list[float | None], list[float | None]]:
    """Polygon rings of ``geom`` as x/y lists separated by None (one fill trace per geometry set)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    if geom is None or geom.is_empty:
        return xs, ys
    geom = shapely.simplify(geom, tol, preserve_topology=True) if tol else geom
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            c = np.round(np.asarray(ring.coords), 6)
            xs.extend([*c[:, 0].tolist(), None])
            ys.extend([*c[:, 1].tolist(), None])
    return xs, ys


def _fmt(v: Any, nd: int = 0) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    if not math.isfinite(f):
        return "–"
    return f"{f:,.{nd}f}"


def district_hover(r: Any, chor: Choropleth) -> str:
    """Hover text of one district (Korean and English labels)."""
    lines = [
        f"<b>{html.escape(str(r.gu_kr))}</b> ({html.escape(str(r.gu_en))})",
        f"인구 residents: {_fmt(r.population)}",
        f"대여소 stations: {_fmt(r.stations)} · 거치대 docks: {_fmt(r.docks)}",
        f"자전거 bikes: {_fmt(r.bikes)}",
        f"자전거/1만 명 bikes per 10k: {_fmt(r.bikes_per_10k, 1)}",
        f"도보권 인구 coverage: {_fmt(100 * float(r.coverage_share), 1)}%",
    ]
    if hasattr(r, "bikes_per_10k_before"):
        lines.append(
            f"이전 before: {_fmt(r.bikes_per_10k_before, 1)} /1만 명, "
            f"{_fmt(100 * float(r.coverage_share_before), 1)}%"
        )
        lines.append(
            f"변화 change: {float(r.bikes_per_10k_change):+.1f} /1만 명, "
            f"{100 * float(r.coverage_share_change):+.1f} %p"
        )
    if hasattr(r, "served_share") and math.isfinite(float(r.served_share)):
        served = f"이용 성공 trips served: {_fmt(100 * float(r.served_share), 1)}%"
        before = float(getattr(r, "served_share_before", math.nan))
        if math.isfinite(before):  # the before only when it is known (no "이전 before –%")
            served += f" (이전 before {_fmt(100 * before, 1)}%)"
        lines.append(served)
    return "<br>".join(lines)


def build_figure(layers: MapLayers, *, choropleth: str | None = None, title: str | None = None) -> go.Figure:
    """The plotly Figure of ``layers`` (see the module docstring for its content)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    d = layers.districts
    chor = choropleth_for(d, choropleth)
    # Districts: one filled trace each (a single legend entry toggles them all).
    if len(d):
        colors = chor.colors(d[chor.column].astype(float).to_numpy())
        for i, (r, color) in enumerate(zip(d.itertuples(index=False), colors, strict=True)):
            fig.add_trace(
                _area(
                    r.geometry,
                    HTML_SIMPLIFY_DEG,
                    color,
                    {"color": DISTRICT_EDGE, "width": 0.8},
                    name="자치구 districts",
                    legendgroup="districts",
                    showlegend=i == 0,
                    hoveron="fills",
                    text=district_hover(r, chor),
                    hoverinfo="text",
                    meta="districts",
                    legendrank=100,
                )
            )
        # The colour bar: an invisible marker carrying the scale.
        c = d.geometry.union_all().centroid
        fig.add_trace(
            go.Scatter(
                x=[c.x],
                y=[c.y],
                mode="markers",
                hoverinfo="skip",
                showlegend=False,
                meta="colorbar",
                marker={
                    "size": 0.1,
                    "opacity": 0,
                    "color": [chor.vmin],
                    "cmin": chor.vmin,
                    "cmax": chor.vmax,
                    "colorscale": chor.plotly_scale(),
                    "showscale": True,
                    "colorbar": {
                        "title": {"text": chor.label.replace(" (", "<br>("), "side": "right"},
                        "x": 1.0,
                        "len": 0.55,
                        "y": 0.72,
                        "thickness": 14,
                    },
                },
            )
        )
    if len(layers.water):
        fig.add_trace(
            _area(
                layers.water.geometry.union_all(),
                0.0,
                WATER_COLOR,
                {"color": WATER_COLOR, "width": 0.5},
                name="한강·수계 water",
                hoverinfo="skip",
                meta="water",
                legendrank=200,
            )
        )
    for kind, label in (("existing", "도보권 coverage (existing)"), ("new", "도보권 coverage (new)")):
        cov = layers.coverage[layers.coverage["kind"] == kind] if len(layers.coverage) else layers.coverage
        if len(cov):
            fig.add_trace(
                _area(
                    cov.geometry.union_all(),
                    HTML_SIMPLIFY_DEG,
                    "rgba(44,160,44,0.22)" if kind == "existing" else "rgba(214,39,40,0.22)",
                    {"color": COVERAGE_COLOR if kind == "existing" else NEW_COLOR, "width": 0.4},
                    name=label,
                    hoverinfo="skip",
                    meta=f"coverage_{kind}",
                    legendrank=300,
                    visible=True if kind == "new" else "legendonly",
                )
            )
    _add_stations(fig, layers)
    _add_routes(fig, layers)
    _add_depots(fig, layers)
    _add_stop_legend(fig, layers)
    _layout(fig, layers, title or layers.title)
    return fig


def _station_sizes(docks: np.ndarray) -> np.ndarray:
    return np.clip(np.sqrt(np.maximum(docks, 0)) * 2.2, 4, 22)


def _add_stations(fig: Any, layers: MapLayers) -> None:

    ex = layers.existing_stations
    if len(ex):
        bikes = ex["bikes"].astype(float).to_numpy()
        est = (
            ex["bikes_estimated"].astype(bool).to_numpy()
            if "bikes_estimated" in ex
            else np.zeros(len(ex), bool)
        )
        custom = np.column_stack(
            [
                ex["name"].astype(str),
                ex["station_id"].astype(str),
                ex["gu"].astype(str),
                ex["docks"].astype(int).astype(str),
                bikes.astype(int).astype(str),
                np.where(est, " (추정 estimated)", ""),
            ]
        )
        fig.add_trace(
            _points(
                ex,
                name=f"기존 대여소 existing stations ({len(ex):,})",
                meta="existing_stations",
                marker={
                    "size": _station_sizes(ex["docks"].astype(float).to_numpy()),
                    "color": bikes,
                    "colorscale": STATION_CMAP,
                    "cmin": 0,
                    "cmax": float(np.percentile(bikes, 98)) or 1.0,
                    "line": {"width": 0.4, "color": "#333"},
                    "opacity": 0.85,
                    "showscale": True,
                    "colorbar": {
                        "title": {"text": "자전거 bikes<br>per station", "side": "right"},
                        "x": 1.0,
                        "len": 0.35,
                        "y": 0.22,
                        "thickness": 14,
                    },
                },
                customdata=custom,
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]} · %{customdata[2]}<br>"
                "거치대 docks: %{customdata[3]}<br>"
                "자전거 bikes: %{customdata[4]}%{customdata[5]}<extra></extra>",
                legendrank=400,
            )
        )
    new = layers.new_stations
    if len(new):
        trips = new["predicted_trips"].astype(float).to_numpy()
        custom = np.column_stack(
            [
                new["name"].astype(str),
                new["station_id"].astype(str),
                new["gu"].astype(str),
                new["docks"].astype(int).astype(str),
                new["bikes"].astype(int).astype(str),
                new["population_newly_covered"].astype(float).round(0).astype(int).map("{:,}".format),
                [_fmt(t, 1) for t in trips],
            ]
        )
        # A plan without a demand model predicts no trips: no line then, rather than "null".
        trips_line = "<br>예상 이용 trips/day: %{customdata[6]}" if np.isfinite(trips).any() else ""
        fig.add_trace(
            _points(
                new,
                name=f"신규 대여소 new stations ({len(new):,})",
                meta="new_stations",
                marker={
                    "size": _station_sizes(new["docks"].astype(float).to_numpy()) + 3,
                    "symbol": "star",
                    "color": NEW_COLOR,
                    "line": {"width": 0.8, "color": "#400"},
                },
                customdata=custom,
                hovertemplate="<b>%{customdata[0]}</b> (신규 new)<br>%{customdata[1]} · %{customdata[2]}<br>"
                "거치대 docks: %{customdata[3]} · 자전거 bikes: %{customdata[4]}<br>"
                "새로 도보권 인구 newly covered: %{customdata[5]}" + trips_line + "<extra></extra>",
                legendrank=500,
            )
        )


def _add_routes(fig: Any, layers: MapLayers) -> None:
    import plotly.graph_objects as go

    stops = layers.stops
    for i, r in enumerate(layers.routes.itertuples(index=False)):
        # A route without length (null geometry: its one stop is at its depot) keeps its legend
        # entry through one gap point (plotly.js lists no trace without points); its stop is
        # drawn below.
        coords = np.round(np.asarray(r.geometry.coords), 6) if r.geometry is not None else None
        group = f"truck-{r.truck_id}"
        label = f"{r.truck} ({stops_text(r.n_stops)}, {r.distance_km:.1f} km)"
        fig.add_trace(
            go.Scatter(
                x=[None] if coords is None else coords[:, 0],
                y=[None] if coords is None else coords[:, 1],
                mode="lines",
                line={"color": r.color, "width": 3},
                name=label,
                legendgroup=group,
                legendgrouptitle_text="트럭 경로 truck routes" if i == 0 else None,
                meta="route",
                hoverinfo="text",
                text=label,
                legendrank=600 + i,
            )
        )
        s = stops[stops["truck_id"] == r.truck_id].sort_values("seq") if len(stops) else stops
        if len(s):
            action = np.where(
                s["quantity"] > 0, "수거 pick up", np.where(s["quantity"] < 0, "배치 drop off", "visit")
            )
            custom = np.column_stack(
                [
                    s["seq"].astype(str),
                    s["name"].astype(str),
                    s["station_id"].astype(str),
                    s["arrival"].astype(str),
                    action,
                    s["quantity"].abs().astype(str),
                    s["load_after"].astype(str),
                ]
            )
            fig.add_trace(
                _points(
                    s,
                    "markers+text",
                    text=s["seq"].astype(str),
                    textfont={"color": "white", "size": 9},
                    marker={
                        "size": 16,
                        "color": r.color,
                        "symbol": np.where(
                            s["quantity"] > 0,
                            "triangle-up",
                            np.where(s["quantity"] < 0, "triangle-down", "circle"),
                        ),
                        "line": {"width": 1, "color": "black"},
                    },
                    name=f"{r.truck} stops",
                    legendgroup=group,
                    showlegend=False,
                    meta="stops",
                    customdata=custom,
                    hovertemplate=f"<b>{html.escape(str(r.truck))}</b> "
                    "#%{customdata[0]}: %{customdata[1]}"
                    "<br>%{customdata[2]} · 도착 arrival %{customdata[3]}"
                    "<br>%{customdata[4]} %{customdata[5]}대"
                    " · 적재 load after %{customdata[6]}<extra></extra>",
                )
            )


def _add_depots(fig: Any, layers: MapLayers) -> None:
    """The night's depots: white-edged black squares, with the number of trucks in the hover."""
    if not len(layers.depots):
        return
    d = layers.depots
    marker = {"symbol": "square", "size": 14, "color": DEPOT_COLOR, "line": {"width": 2, "color": "white"}}
    custom = np.column_stack([d["depot_id"].astype(str), d["name"].astype(str), d["trucks"].astype(str)])
    fig.add_trace(
        _points(
            d,
            marker=marker,
            name=f"차고지 depot ({len(d)})",
            meta="depots",
            customdata=custom,
            hovertemplate="<b>차고지 depot %{customdata[1]}</b><br>%{customdata[0]}"
            " · 트럭 trucks %{customdata[2]}<extra></extra>",
            legendrank=595,
        )
    )


def _add_stop_legend(fig: Any, layers: MapLayers) -> None:
    """Legend entries (no points) for the stop symbols: ▲ pick-up, ▼ drop-off, and ● for a visit
    that moves no bike when a route has one (so the entries add up to the stops drawn)."""
    import plotly.graph_objects as go

    if not len(layers.stops):
        return
    q = layers.stops["quantity"].astype(int)
    for symbol, n, label in (("triangle-up", int((q > 0).sum()), "수거 pick-up"),
                             ("triangle-down", int((q < 0).sum()), "배치 drop-off"),
                             ("circle", int((q == 0).sum()), "방문 visit, no bike moved")):  # fmt: skip
        if symbol == "circle" and not n:
            continue
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": symbol, "size": 12, "color": "#444"},
                name=f"{label} ({n})",
                meta="stop_symbols",
                hoverinfo="skip",
                legendrank=590,
            )
        )


def _layout(fig: Any, layers: MapLayers, title: str) -> None:
    d = layers.districts if len(layers.districts) else layers.existing_stations
    ext = layers.meta.get("extent")
    if ext:
        minx, miny, maxx, maxy = ext
    elif len(d):
        minx, miny, maxx, maxy = d.total_bounds
    else:
        minx, miny, maxx, maxy = 126.76, 37.41, 127.19, 37.72
    lat0 = (miny + maxy) / 2
    pad = 0.0 if ext else 0.01  # a night's extent is padded already
    cw = layers.meta.get("citywide") or {}
    sub = html.escape(night_summary(layers.meta))
    if cw:
        sub = (
            f"대여소 {cw.get('stations', 0):,} · 거치대 {cw.get('docks', 0):,}"
            f" · 자전거 {cw.get('bikes', 0):,}{bikes_mark(layers.meta)}"
            f" · 인구 1만 명당 {before_after(layers.meta, 'bikes_per_10k')}대"
            f" · 도보권 {before_after(layers.meta, 'coverage_share', 100)}%"
        )
        for extra in (served_summary(layers.meta), night_summary(layers.meta), compare_note(layers.meta)):
            if extra:
                sub += f"<br>{html.escape(extra)}"
    sub_lines = [line for line in sub.split("<br>") if line]
    fig.update_layout(
        # From the top down, above the map however many subtitle lines it has (the top margin is
        # set by them: a margin plotly.js pushes redraws the map on ranges fitted to the old shape).
        title={
            "text": f"{html.escape(title)}<br><sup>{sub}</sup>",
            "x": 0.01,
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 20},
        },
        xaxis={
            "visible": False,
            "range": [minx - pad, maxx + pad],
            "scaleanchor": "y",
            "scaleratio": math.cos(math.radians(lat0)),
            "constrain": "domain",
        },
        yaxis={"visible": False, "range": [miny - pad, maxy + pad]},
        plot_bgcolor="#f4f1ea",
        paper_bgcolor="white",
        hovermode="closest",
        dragmode="pan",
        # Left of the map, outside it: plotly widens the left margin to the legend's width.
        legend={
            "x": -0.01,
            "y": 0.0,
            "xanchor": "right",
            "yanchor": "bottom",
            "bgcolor": "rgba(255,255,255,0.85)",
            "groupclick": "togglegroup",
            "font": {"size": 11},
        },
        margin={"l": 10, "r": 10, "t": 32 + 22 * len(sub_lines), "b": 30},
        height=820,
        annotations=[
            {
                "text": ATTRIBUTION,
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": -0.03,
                "xanchor": "right",
                "showarrow": False,
                "font": {"size": 9, "color": "#666"},
            }
        ],
        font={
            "family": "'Noto Sans CJK KR', 'NanumGothic', 'Malgun Gothic', 'Apple SD Gothic Neo', sans-serif"
        },
        # What the narrow-screen layout (NARROW_SCRIPT) rearranges: the title and subtitle lines
        # to wrap, the attribution's parts, the map's width/height ratio, the colour bars' traces.
        meta={
            "narrow": {
                "max_px": NARROW_MAX_PX,
                "title": html.escape(title),
                "sub": sub_lines,
                "attribution": ATTRIBUTION.split(" · "),
                "aspect": (maxx - minx + 2 * pad) * math.cos(math.radians(lat0)) / (maxy - miny + 2 * pad),
                "colorbars": [i for i, t in enumerate(fig.data) if _has_colorbar(t)],
                "xrange": [minx - pad, maxx + pad],
                "yrange": [miny - pad, maxy + pad],
                "config": HTML_CONFIG,  # the narrow layout redraws the figure with it
            }
        },
    )


def _has_colorbar(trace: Any) -> bool:
    marker = getattr(trace, "marker", None)
    return bool(marker is not None and marker.showscale)


TILE_STYLES = ("open-street-map", "carto-positron", "carto-voyager")
"""Online basemaps for ``tiles=`` (opt-in: the map then needs the internet for tiles and labels)."""


def to_tiled_figure(fig: go.Figure, style: str) -> go.Figure:
    """The same traces on an online MapLibre basemap (``Scattermap``; needs the network).

    Each cartesian trace becomes a ``Scattermap`` trace with x/y as lon/lat; marker outlines and
    symbols that MapLibre cannot draw are dropped (circles everywhere). The layout keeps the
    plane's title, legend, colour bars, attribution and its narrow-screen spec (``layout.meta``),
    so :data:`NARROW_SCRIPT` lays it out on a phone too. Opt-in; the browser tests see its layout
    only: the test machine has no internet for the tiles.
    """
    import plotly.graph_objects as go

    if style not in TILE_STYLES:
        from mobility.errors import InputError

        raise InputError("tiles", style, " | ".join(TILE_STYLES))
    out = go.Figure()
    keep = ("mode", "name", "legendgroup", "showlegend", "hoverinfo", "hovertemplate", "text", "customdata",
            "meta", "fill", "fillcolor", "visible", "legendrank")  # fmt: skip
    for t in fig.data:
        kw = {k: t[k] for k in keep if t[k] is not None}
        if t.line is not None and t.line.color is not None:
            kw["line"] = {"color": t.line.color, "width": t.line.width or 1}
        if t.marker is not None and t.marker.size is not None:
            m = t.marker
            names = ("size", "color", "colorscale", "cmin", "cmax", "showscale", "colorbar", "opacity")
            kw["marker"] = {
                k: (m[k].to_plotly_json() if hasattr(m[k], "to_plotly_json") else m[k])
                for k in names
                if m[k] is not None
            }
        if kw.get("hoveron"):
            kw.pop("hoveron")
        out.add_trace(go.Scattermap(lon=t.x, lat=t.y, **kw))
    layout = fig.layout
    xr, yr = layout.xaxis.range, layout.yaxis.range
    out.update_layout(
        title=layout.title, legend=layout.legend, margin=layout.margin, height=layout.height,
        annotations=layout.annotations, font=layout.font, meta=layout.meta,
        map={"style": style, "zoom": 10.2,
             "center": {"lon": (xr[0] + xr[1]) / 2, "lat": (yr[0] + yr[1]) / 2}},
    )  # fmt: skip
    return out


def write_html_map(
    layers: MapLayers,
    path: Path | str,
    *,
    choropleth: str | None = None,
    title: str | None = None,
    tiles: str | None = None,
) -> Path:
    """Write the single-file HTML map of ``layers`` to ``path`` (atomically).

    Offline by default. ``tiles`` (opt-in, one of :data:`TILE_STYLES`) draws the same layers on
    an online basemap instead; such a file shows no basemap without the internet.

    :data:`NARROW_SCRIPT` runs once the figure is drawn. On the plane that is when plotly.js's
    promise settles (``post_script``). A basemap's waits for its tiles: it fails when a tile does,
    and from a file in headless Chromium it never settled at all. There the script runs right
    after the figure's own, when the title, legend and colour bars it measures are drawn.
    """
    fig = build_figure(layers, choropleth=choropleth, title=title)
    if tiles:
        fig = to_tiled_figure(fig, tiles)
    text = plotly_page(
        fig,
        title=title or layers.title,
        div_id=DIV_ID,
        post_script=None if tiles else NARROW_SCRIPT,
        config=HTML_CONFIG,
    )
    if tiles:
        head, body_end, tail = text.rpartition("</body>")
        script = NARROW_SCRIPT.replace("{plot_id}", DIV_ID)
        text = f'{head}<script type="text/javascript">{script}</script>\n{body_end}{tail}'
    return atomic_write_text(path, text)


def layer_trace_counts(layers: MapLayers) -> dict[str, int]:
    """What the browser should find: markers per layer and route lines (used by the tests)."""
    return {
        "existing_stations": len(layers.existing_stations),
        "new_stations": len(layers.new_stations),
        "routes": len(layers.routes),
        "depots": len(layers.depots),
        "stops": len(layers.stops),
    }


__all__ = ["DIV_ID", "build_figure", "layer_trace_counts", "write_html_map"]
