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
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
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
    """Draw ``layers`` on a new matplotlib Figure (returned; the caller saves or closes it)."""
    from matplotlib_scalebar.scalebar import ScaleBar  # type: ignore[import-untyped]

    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(11.5, 9.5), dpi=100)
        d = layers.districts.to_crs(CRS_METRIC) if len(layers.districts) else layers.districts
        handles: list[Any] = []
        _draw_districts(ax, d, choropleth)
        _draw_areas(ax, layers, handles)
        _draw_stations(ax, layers, handles)
        _draw_routes(ax, layers, handles)
        _draw_depots(ax, layers, handles)
        _label_districts(ax, d)
        ax.set_axis_off()
        ax.set_aspect("equal")
        _frame(ax, layers)
        scale = ScaleBar(1.0, units="m", location="lower right", box_alpha=0.8, length_fraction=0.2)
        scale.set_zorder(FURNITURE_ZORDER)
        ax.add_artist(scale)
        _north_arrow(ax)
        if handles:
            ncols = 1 if len(handles) <= 14 else 2 if len(handles) <= 28 else 3
            legend = ax.legend(handles=handles, loc="lower left", fontsize=7 if ncols > 1 else 8,
                               framealpha=0.9, ncols=ncols, columnspacing=0.8, handlelength=1.6)  # fmt: skip
            legend.set_zorder(FURNITURE_ZORDER)
        ax.set_title((title or layers.title) + _subtitle(layers), fontsize=12, loc="left")
        fig.text(0.99, 0.01, ATTRIBUTION, ha="right", va="bottom", fontsize=6, color="#666")
        fig.tight_layout()
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


def _draw_depots(ax: Any, layers: MapLayers, handles: list[Any]) -> None:
    """The night's depots as white-edged black squares above the routes and stops, named."""
    if not len(layers.depots):
        return
    dm = layers.depots.to_crs(CRS_METRIC)
    x, y = dm.geometry.x.to_numpy(), dm.geometry.y.to_numpy()
    ax.scatter(x, y, s=150, marker="s", c=DEPOT_COLOR, edgecolors="white", linewidths=1.2, zorder=9)
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}
    for xx, yy, name in zip(x, y, dm["name"].astype(str), strict=True):
        ax.annotate(name, (xx, yy), xytext=(7, 5), textcoords="offset points", fontsize=7,
                    color=DEPOT_COLOR, zorder=9, clip_on=True, bbox=box)  # fmt: skip
    label = f"차고지 depot ({len(dm)})"
    handles.append(Line2D([], [], marker="s", ms=8, ls="", color=DEPOT_COLOR, label=label))


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


def _label_districts(ax: Any, d: Any) -> None:
    """District names on a light box (a stroke path effect would turn SVG text into outlines)."""
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.65}
    for r in d.itertuples(index=False) if len(d) else []:
        p = r.geometry.representative_point()
        ax.text(
            p.x, p.y, str(r.gu_kr), fontsize=8, ha="center", va="center", zorder=9, bbox=box, clip_on=True
        )


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
