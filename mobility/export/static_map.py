"""Print-quality static maps (PNG and SVG) with matplotlib/geopandas, drawn in EPSG:5179 (metres).

Same content as the HTML map: district choropleth with a colour bar, the Han river, coverage,
existing stations (size = docks), new stations, truck routes in distinct colours with numbered
stops, plus a legend, a scale bar (``matplotlib-scalebar``; the axes are in metres so the bar
is true), a north arrow and the district names in Korean.

Hangul is rendered with NanumGothic from the ``koreanize-matplotlib`` package (importing it
registers the font and makes it matplotlib's default family), so no glyph falls back to an
empty box. SVGs keep text as ``<text>`` (``svg.fonttype = "none"``), so station
and district names stay searchable and selectable; their ``font-family`` is a chain of Korean
fonts ending in the generic ``sans-serif`` (:func:`font_rc`), so a viewer without NanumGothic
picks another Hangul font rather than an empty box.
"""

from __future__ import annotations

import contextlib
import warnings
from functools import cache
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox
from matplotlib.typing import RcKeyType

from mobility.export.layers import MapLayers, bikes_mark, compare_note, night_summary, served_summary
from mobility.export.style import (
    ATTRIBUTION,
    COVERAGE_COLOR,
    DEPOT_COLOR,
    DISTRICT_EDGE,
    NEW_COLOR,
    WATER_COLOR,
    before_after,
    choropleth_for,
    stops_text,
)
from mobility.io import atomic_path
from mobility.sources.base import CRS_METRIC

EXISTING_COLOR = "#2b4a6f"
MAX_ROUTE_LEGEND = 30
"""Up to this many trucks, the legend has an entry (id and colour) per truck; more: a note."""

STOP_MARKERS = {"pick": "^", "drop": "v", "visit": "o"}
"""Stop symbols: pick-up ▲, drop-off ▼, a visit that moves no bike ●."""

LEGEND_CORNERS: tuple[Literal["lower left", "upper left", "center left"], ...] = (
    "lower left",
    "upper left",
    "center left",
)
"""Where the legend may sit on the map, in this order, if it covers no district there (the right
side holds the north arrow and the scale bar); else it stands left of the map."""

LEGEND_GAP_IN = 0.15
"""The room (inches) between a legend left of the map and the page's edge."""

DEPOT_MARKER_PT = 12.0
"""A depot square's side (points), its white edge :data:`DEPOT_EDGE_PT` wide."""
DEPOT_EDGE_PT = 1.2

DepotSpot = tuple[tuple[float, float], Literal["left", "right"], Literal["bottom", "top"]]
DEPOT_LABEL_SPOTS: tuple[DepotSpot, ...] = (
    ((10.0, 5.0), "left", "bottom"),
    ((10.0, -5.0), "left", "top"),
    ((-10.0, 5.0), "right", "bottom"),
    ((-10.0, -5.0), "right", "top"),
)
"""A depot name's places around its square, by preference: offset (points) and alignment, the
name :data:`LABEL_GAP_PT` clear of its own square."""

LABEL_GAP_PT = 1.5
"""The least gap (points) between two names, or a name and a depot's square."""

FURNITURE_ZORDER = 20
"""Legend, scale bar and north arrow sit above every data layer (stops and labels reach 9), so
that no route, stop or district name hides a legend entry on a map framed on the data."""


@cache
def korean_font() -> str:
    """Register NanumGothic (from koreanize-matplotlib) and return its family name."""
    from matplotlib import font_manager

    with contextlib.suppress(ImportError), warnings.catch_warnings():  # Debian's Noto CJK is the fallback
        warnings.simplefilter("ignore", DeprecationWarning)  # its distutils LooseVersion
        import koreanize_matplotlib  # noqa: F401  (registers NanumGothic on import)
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in ("NanumGothic", "Noto Sans CJK KR", "Noto Sans CJK JP", "NanumBarunGothic"):
        if family in names:
            return family
    return "DejaVu Sans"  # pragma: no cover


KOREAN_FALLBACKS = ("NanumGothic", "Noto Sans CJK KR", "Malgun Gothic", "Apple SD Gothic Neo", "DejaVu Sans")
"""After the font drawn here: fonts with Hangul on Linux, Windows and macOS, then DejaVu Sans."""


def font_rc() -> dict[RcKeyType, Any]:
    """rcParams of the static maps: the family is the generic ``sans-serif``, and that is the
    font found here (:func:`korean_font`) followed by :data:`KOREAN_FALLBACKS`. matplotlib draws
    with the first installed; an SVG names the whole chain and ``sans-serif``, for its viewer."""
    chain = list(dict.fromkeys((korean_font(), *KOREAN_FALLBACKS)))
    return {"font.family": ["sans-serif"], "font.sans-serif": chain, "axes.unicode_minus": False}


def _north_arrow(ax: Any) -> None:
    """An arrow pointing up (EPSG:5179 grid north is within 1° of true north over Seoul)."""
    ax.annotate(
        "",
        xy=(0.955, 0.985),
        xytext=(0.955, 0.9),
        xycoords="axes fraction",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 11, "headlength": 10},
        zorder=FURNITURE_ZORDER,
    )
    ax.text(
        0.955, 0.885, "N 북", transform=ax.transAxes, ha="center", va="top", fontsize=10,
        fontweight="bold", zorder=FURNITURE_ZORDER,
    )  # fmt: skip


def draw(layers: MapLayers, *, choropleth: str | None = None, title: str | None = None) -> Figure:
    """Draw ``layers`` on a new matplotlib Figure (returned; the caller saves or closes it).

    Once the figure is laid out, the legend takes a corner of the map that shows no district, or
    else the space left of the map (:func:`_place_legend`), and the depot and district names are
    set so that none covers another (:func:`_place_labels`)."""
    from matplotlib_scalebar.scalebar import ScaleBar  # type: ignore[import-untyped]

    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(11.5, 9.5), dpi=100)
        d = layers.districts.to_crs(CRS_METRIC) if len(layers.districts) else layers.districts
        handles: list[Any] = []
        _draw_districts(ax, d, choropleth)
        _draw_areas(ax, layers, handles)
        _draw_stations(ax, layers, handles)
        _draw_routes(ax, layers, handles)
        depot_labels = _draw_depots(ax, layers, handles)
        district_labels = _label_districts(ax, d)
        ax.set_axis_off()
        ax.set_aspect("equal")
        _frame(ax, layers)
        scale = ScaleBar(1.0, units="m", location="lower right", box_alpha=0.8, length_fraction=0.2)
        scale.set_zorder(FURNITURE_ZORDER)
        ax.add_artist(scale)
        _north_arrow(ax)
        legend = None
        if handles:
            ncols = 1 if len(handles) <= 14 else 2 if len(handles) <= 28 else 3
            legend = ax.legend(handles=handles, loc="lower left", fontsize=7 if ncols > 1 else 8,
                               framealpha=0.9, ncols=ncols, columnspacing=0.8, handlelength=1.6)  # fmt: skip
            legend.set_zorder(FURNITURE_ZORDER)
        ax.set_title((title or layers.title) + _subtitle(layers), fontsize=12, loc="left")
        fig.text(0.99, 0.01, ATTRIBUTION, ha="right", va="bottom", fontsize=6, color="#666")
        fig.tight_layout()
        if legend is not None:
            _place_legend(fig, ax, legend, d)
        _place_labels(ax, depot_labels, district_labels)
    return fig


def _draw_districts(ax: Any, d: Any, choropleth: str | None) -> None:
    """The district choropleth (grey where a district has no value)."""
    if not len(d):
        return
    chor = choropleth_for(d, choropleth)
    d.plot(
        ax=ax,
        column=chor.column,
        cmap=chor.cmap,
        vmin=chor.vmin,
        vmax=chor.vmax,
        edgecolor=DISTRICT_EDGE,
        linewidth=0.6,
        legend=True,
        legend_kwds={"label": chor.label, "shrink": 0.55, "pad": 0.01},
        missing_kwds={"color": "#dddddd"},
    )


def _draw_areas(ax: Any, layers: MapLayers, handles: list[Any]) -> None:
    """Water, then the walking catchments of existing and new stations."""
    if len(layers.water):
        layers.water.to_crs(CRS_METRIC).plot(ax=ax, color=WATER_COLOR, edgecolor="none", zorder=2)
        handles.append(Patch(facecolor=WATER_COLOR, label="한강·수계 water"))
    cov = layers.coverage
    for kind, color in (("existing", COVERAGE_COLOR), ("new", NEW_COLOR)):
        part = cov[cov["kind"] == kind] if len(cov) else cov
        if len(part):
            alpha = 0.18 if kind == "existing" else 0.3
            part.to_crs(CRS_METRIC).plot(ax=ax, color=color, alpha=alpha, edgecolor="none", zorder=3)
            handles.append(Patch(facecolor=color, alpha=alpha, label=f"도보권 coverage ({kind})"))


def _draw_stations(ax: Any, layers: MapLayers, handles: list[Any]) -> None:
    """Existing stations as dots sized by docks, new ones as stars."""
    ex = layers.existing_stations
    if len(ex):
        exm = ex.to_crs(CRS_METRIC)
        size = np.clip(exm["docks"].astype(float).to_numpy(), 3, 60) * 0.5
        xy = (exm.geometry.x, exm.geometry.y)
        ax.scatter(*xy, s=size, c=EXISTING_COLOR, alpha=0.55, linewidths=0, zorder=4)
        label = f"기존 대여소 existing ({len(ex):,})"
        handles.append(Line2D([], [], marker="o", ls="", color=EXISTING_COLOR, label=label))
    new = layers.new_stations
    if len(new):
        nm = new.to_crs(CRS_METRIC)
        ax.scatter(
            nm.geometry.x,
            nm.geometry.y,
            s=np.clip(nm["docks"].astype(float).to_numpy(), 5, 60) * 1.5,
            marker="*",
            c=NEW_COLOR,
            edgecolors="#400",
            linewidths=0.4,
            zorder=5,
        )
        label = f"신규 대여소 new ({len(new):,})"
        handles.append(Line2D([], [], marker="*", ms=10, ls="", color=NEW_COLOR, label=label))


def _draw_routes(ax: Any, layers: MapLayers, handles: list[Any]) -> None:
    """Each truck's route line and its numbered stops (▲ pick-up, ▼ drop-off); a legend entry
    per truck (up to :data:`MAX_ROUTE_LEGEND`, else one note) and one per stop symbol."""
    if not len(layers.routes):
        return
    stops = layers.stops.to_crs(CRS_METRIC) if len(layers.stops) else layers.stops
    per_truck = len(layers.routes) <= MAX_ROUTE_LEGEND
    for r in layers.routes.to_crs(CRS_METRIC).itertuples(index=False):
        if r.geometry is not None:  # a route without length (null geometry) shows its stop only
            xy = np.asarray(r.geometry.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=r.color, lw=2.2, zorder=6, solid_capstyle="round")
        if per_truck:
            label = f"{r.truck} ({stops_text(r.n_stops)})"
            handles.append(Line2D([], [], color=r.color, lw=2.5, label=label))
        s = stops[stops["truck_id"] == r.truck_id] if len(stops) else stops
        if len(s):
            _draw_stops(ax, s, r.color)
    if not per_truck:
        label = f"트럭 경로 truck routes ({len(layers.routes)}): 색상은 routes.csv·map.html 참조"
        handles.append(Line2D([], [], color="#444", lw=2.5, label=label))
    if len(stops):
        q = stops["quantity"].astype(int)
        for kind, n, label in (
            ("pick", int((q > 0).sum()), "수거 pick-up"),
            ("drop", int((q < 0).sum()), "배치 drop-off"),
            ("visit", int((q == 0).sum()), "방문 visit, no bike moved"),
        ):
            if kind == "visit" and not n:
                continue  # the symbol is listed only when a route has such a stop
            handles.append(
                Line2D([], [], marker=STOP_MARKERS[kind], ms=8, ls="", color="#444", label=f"{label} ({n})")
            )


def _draw_depots(ax: Any, layers: MapLayers, handles: list[Any]) -> list[Annotation]:
    """The night's depots as white-edged black squares above the routes and stops, named; returns
    the names (set beside their squares by :func:`_place_labels`)."""
    if not len(layers.depots):
        return []
    dm = layers.depots.to_crs(CRS_METRIC)
    x, y = dm.geometry.x.to_numpy(), dm.geometry.y.to_numpy()
    ax.scatter(x, y, s=DEPOT_MARKER_PT**2, marker="s", c=DEPOT_COLOR, edgecolors="white",
               linewidths=DEPOT_EDGE_PT, zorder=9)  # fmt: skip
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}
    (offset, ha, va), *_ = DEPOT_LABEL_SPOTS
    labels = [
        ax.annotate(name, (xx, yy), xytext=offset, textcoords="offset points", ha=ha, va=va, fontsize=7,
                    color=DEPOT_COLOR, zorder=10, clip_on=True, bbox=box, gid="depot-label")
        for xx, yy, name in zip(x, y, dm["name"].astype(str), strict=True)
    ]  # fmt: skip
    entry = f"차고지 depot ({len(dm)})"
    handles.append(Line2D([], [], marker="s", ms=8, ls="", color=DEPOT_COLOR, label=entry))
    return labels


def _draw_stops(ax: Any, s: Any, color: str) -> None:
    """One truck's stops: one collection per symbol (fast), one small seq label per stop."""
    q = s["quantity"].astype(int).to_numpy()
    sx, sy = s.geometry.x.to_numpy(), s.geometry.y.to_numpy()
    for kind, mask in (("pick", q > 0), ("drop", q < 0), ("visit", q == 0)):
        if mask.any():
            ax.scatter(sx[mask], sy[mask], s=95, marker=STOP_MARKERS[kind], c=color,
                       edgecolors="black", linewidths=0.6, zorder=7)  # fmt: skip
    for x, y, seq, qq in zip(sx, sy, s["seq"].astype(str), q, strict=True):
        dy = -1.2 if qq > 0 else 1.2 if qq < 0 else 0.0  # points: into the triangle's wide part
        ax.annotate(seq, (x, y), xytext=(0, dy), textcoords="offset points", color="white",
                    fontsize=5.5, ha="center", va="center", zorder=8, clip_on=True)  # fmt: skip


def _frame(ax: Any, layers: MapLayers) -> None:
    """Frame the axes on ``meta["extent"]`` (a night's stations and routes) when it is given."""
    ext = layers.meta.get("extent")
    if not ext:
        return
    import geopandas as gpd
    import shapely

    from mobility.sources.base import CRS_WGS84

    box = gpd.GeoSeries([shapely.box(*ext)], crs=CRS_WGS84).to_crs(CRS_METRIC)
    minx, miny, maxx, maxy = box.total_bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)


def _label_districts(ax: Any, d: Any) -> list[tuple[Text, Any]]:
    """District names on a light box (a stroke path effect would turn SVG text into outlines), at
    each district's representative point; returns each name with its district's polygon, for
    :func:`_place_labels`."""
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.65}
    labels = []
    for r in d.itertuples(index=False) if len(d) else []:
        p = r.geometry.representative_point()
        text = ax.text(p.x, p.y, str(r.gu_kr), fontsize=8, ha="center", va="center", zorder=9, bbox=box,
                       clip_on=True, gid="district-label")  # fmt: skip
        labels.append((text, r.geometry))
    return labels


def _place_legend(fig: Figure, ax: Any, legend: Legend, districts: Any) -> None:
    """Put the legend in the first of :data:`LEGEND_CORNERS` of the map where it covers no part of
    a district that the map shows; where every corner does (a night's map is framed on the city),
    left of the map, the figure widened by the legend's width so that the map keeps its size."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax.apply_aspect()  # the map's box as drawn (equal aspect), which the layout left unset
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    city = shapely.intersection(districts.union_all(), view) if len(districts) else None
    to_data = ax.transData.inverted()
    for loc in LEGEND_CORNERS:
        legend.set_loc(loc)
        (bx0, by0), (bx1, by1) = to_data.transform(legend.get_window_extent(renderer).get_points())
        if city is None or not city.intersects(shapely.box(bx0, by0, bx1, by1)):
            return
    legend.set_loc("upper right")
    legend.set_bbox_to_anchor((0.0, 1.0), transform=ax.transAxes)
    shift = LEGEND_GAP_IN - legend.get_window_extent(renderer).x0 / fig.dpi  # its left edge onto the page
    width = fig.get_figwidth()
    fig.set_size_inches(width + shift, fig.get_figheight())
    for a in fig.axes:  # the map and its colour bars keep their size and move right by ``shift``
        x, y, w, h = a.get_position(original=True).bounds
        a.set_position(((x * width + shift) / (width + shift), y, w * width / (width + shift), h))
    ax.apply_aspect()


def _place_labels(ax: Any, depot_labels: list[Annotation], district_labels: list[tuple[Text, Any]]) -> None:
    """Set the names so that none covers another or a depot's square; depot names come first.

    A depot's name takes the first of :data:`DEPOT_LABEL_SPOTS` around its square that stays on
    the map and clear of the depots and the names set before it. A district's name stays at its
    representative point when it is clear there; else it moves to the nearest clear spot inside its
    district (:func:`_clear_spot`), and where there is none it is left out."""
    renderer = ax.figure.canvas.get_renderer()
    ax.apply_aspect()
    view = ax.bbox
    px = ax.figure.dpi / 72.0
    half = (DEPOT_MARKER_PT + DEPOT_EDGE_PT) / 2 * px
    taken = [Bbox.from_extents(x - half, y - half, x + half, y + half)
             for x, y in ax.transData.transform([a.xy for a in depot_labels]).reshape(-1, 2)]  # fmt: skip
    for label in depot_labels:
        for spot in DEPOT_LABEL_SPOTS:
            _set_spot(label, spot)
            box = _label_box(label, renderer)
            if _fits(box, view, taken):
                break
        else:  # no clear spot: the first, over what it must cover
            _set_spot(label, DEPOT_LABEL_SPOTS[0])
            box = _label_box(label, renderer)
        taken.append(box)
    for text, district in district_labels:
        box = _label_box(text, renderer)
        if not _fits(box, view, taken):
            place = _clear_spot(ax, district, box, taken)
            if place is None:
                text.set_visible(False)
                continue
            text.set_position(place)
            box = _label_box(text, renderer)
        taken.append(box)


def _set_spot(label: Annotation, spot: DepotSpot) -> None:
    """Set ``label`` at one of :data:`DEPOT_LABEL_SPOTS` (offset in points, alignment)."""
    offset, ha, va = spot
    label.xyann = offset
    label.set_horizontalalignment(ha)
    label.set_verticalalignment(va)


def _label_box(text: Text, renderer: Any) -> Bbox:
    """``text``'s box on the canvas (pixels), with :data:`LABEL_GAP_PT` of margin on every side."""
    gap = LABEL_GAP_PT * text.figure.dpi / 72.0
    return text.get_window_extent(renderer).padded(gap)


def _fits(box: Bbox, view: Bbox, taken: list[Bbox]) -> bool:
    """Whether ``box`` lies on the map (``view``) and overlaps none of ``taken``."""
    on_map = view.x0 <= box.x0 and box.x1 <= view.x1 and view.y0 <= box.y0 and box.y1 <= view.y1
    return on_map and not any(box.overlaps(t) for t in taken)


def _clear_spot(ax: Any, district: Any, box: Bbox, taken: list[Bbox]) -> tuple[float, float] | None:
    """The spot (metres) nearest the district's representative point where a name of ``box``'s
    size, centred, lies on the map, inside the district and clear of ``taken``; ``None`` if none.

    The spots are a grid over the district a quarter of the name's height apart."""
    to_data = ax.transData.inverted()
    (x0, y0), (x1, y1) = to_data.transform(box.get_points())
    w, h = x1 - x0, y1 - y0
    vx0, vx1 = ax.get_xlim()
    vy0, vy1 = ax.get_ylim()
    area = shapely.intersection(district, shapely.box(vx0 + w / 2, vy0 + h / 2, vx1 - w / 2, vy1 - h / 2))
    if area.is_empty:
        return None
    ax0, ay0, ax1, ay1 = area.bounds
    step = h / 4
    gx, gy = np.meshgrid(np.arange(ax0, ax1 + step, step), np.arange(ay0, ay1 + step, step))
    cx, cy = np.minimum(gx.ravel(), ax1), np.minimum(gy.ravel(), ay1)  # the names whole on the map
    boxes = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    inside = shapely.contains(district, boxes)
    origin = (x0 + x1) / 2, (y0 + y1) / 2
    t = np.array([tb.extents for tb in taken]).reshape(-1, 4)
    if len(t):
        (tx0, ty0), (tx1, ty1) = to_data.transform(t[:, :2]).T, to_data.transform(t[:, 2:]).T
        hit = ((cx[:, None] - w / 2 < tx1) & (cx[:, None] + w / 2 > tx0)
               & (cy[:, None] - h / 2 < ty1) & (cy[:, None] + h / 2 > ty0)).any(axis=1)  # fmt: skip
        inside &= ~hit
    if not inside.any():
        return None
    k = np.flatnonzero(inside)[np.argmin(np.hypot(cx[inside] - origin[0], cy[inside] - origin[1]))]
    return float(cx[k]), float(cy[k])


def _subtitle(layers: MapLayers) -> str:
    """The citywide figures and/or the night's figures under the title, when the layers carry them."""
    night = night_summary(layers.meta)
    cw = layers.meta.get("citywide") or {}
    if not cw:
        return f"\n{night}" if night else ""
    served = served_summary(layers.meta)
    return (
        f"\n대여소 {cw.get('stations', 0):,} · 자전거 {cw.get('bikes', 0):,}{bikes_mark(layers.meta)}"
        f" · 인구 1만 명당 {before_after(layers.meta, 'bikes_per_10k')}대"
        f" · 도보권 인구 {before_after(layers.meta, 'coverage_share', 100)}%"
        + "".join(f"\n{line}" for line in (served, night, compare_note(layers.meta)) if line)
    )


def write_static_map(
    layers: MapLayers,
    path: Path | str,
    *,
    choropleth: str | None = None,
    title: str | None = None,
    dpi: int = 200,
) -> Path:
    """Write the map as PNG or SVG (by the file ending), atomically."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        from mobility.errors import InputError

        raise InputError("out", str(target), "a path ending in .png or .svg")
    fig = draw(layers, choropleth=choropleth, title=title)
    try:
        with (
            plt.rc_context({"svg.fonttype": "none", **font_rc()}),
            atomic_path(target) as tmp,
        ):
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata={"Title": title or layers.title})
    finally:
        plt.close(fig)
    return target
