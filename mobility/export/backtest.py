"""Writers for a :class:`~mobility.placement.backtest.Backtest`: the district table and the map.

- :func:`write_district_table`: one row per gu (stations old/real/plan, covered share at 300 m,
  stations per 10,000 residents), CSV in UTF-8 with BOM so Excel shows the Hangul names;
- :func:`write_backtest_map`: real new stations against proposed ones over the district
  boundaries, PNG/SVG (matplotlib, NanumGothic) or offline HTML (plotly), by the path's suffix.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mobility.errors import InputError
from mobility.export.page import plotly_page
from mobility.io import atomic_path, atomic_write_csv, atomic_write_text

if TYPE_CHECKING:
    from mobility.placement.backtest import Backtest

REAL_COLOR = "#d62728"
PLAN_COLOR = "#1f77b4"


def district_table(bt: Backtest) -> pd.DataFrame:
    """The district rows as a DataFrame."""
    return pd.DataFrame([dataclasses.asdict(d) for d in bt.districts])


def write_district_table(bt: Backtest, path: Path | str) -> Path:
    """The district table as CSV (UTF-8 with BOM)."""
    return atomic_write_csv(path, district_table(bt))


def _outlines(data_dir: Path | None) -> list[tuple[list[float], list[float]]]:
    from mobility.config import resolve_data_dir
    from mobility.export.layers import load_current_districts

    gdf = load_current_districts(resolve_data_dir(data_dir))
    out = []
    for geom in gdf.geometry.boundary:
        parts = getattr(geom, "geoms", [geom])
        for line in parts:
            xs, ys = line.xy
            out.append((list(xs), list(ys)))
    return out


def write_backtest_map(bt: Backtest, path: Path | str, *, data_dir: Path | None = None) -> Path:
    """Real new stations (red) against proposed sites (blue), by suffix: .png, .svg or .html."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg", "html"):
        raise InputError("path", str(path), "a .png, .svg or .html file")
    lines = _outlines(data_dir)
    real = ([s.lon for s in bt.real_new_sites], [s.lat for s in bt.real_new_sites])
    plan = ([s.lon for s in bt.proposed_sites], [s.lat for s in bt.proposed_sites])
    title = (
        f"{bt.old} → {bt.new}: {len(bt.real_new_sites)} real new stations vs "
        f"{len(bt.proposed_sites)} proposed"
    )
    if fmt == "html":
        import plotly.graph_objects as go

        fig = go.Figure()
        for xs, ys in lines:
            fig.add_trace(
                go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#999", "width": 1}, showlegend=False)
            )
        for (xs, ys), name, marker, text in (
            (
                real,
                "real new (실제 신규)",
                {"color": REAL_COLOR, "size": 5},
                [f"{s.name} ({s.gu})" for s in bt.real_new_sites],
            ),
            (
                plan,
                "proposed (제안)",
                {"color": PLAN_COLOR, "size": 5, "symbol": "x"},
                [s.gu for s in bt.proposed_sites],
            ),
        ):
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=name, marker=marker, text=text))
        fig.update_layout(title=title, yaxis={"scaleanchor": "x", "scaleratio": 1.26})
        return atomic_write_text(path, plotly_page(fig, title=title))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mobility.export.static_map import korean_font

    korean_font()
    fig2: Any
    fig2, ax = plt.subplots(figsize=(9, 8), dpi=130)
    for xs, ys in lines:
        ax.plot(xs, ys, color="#999", lw=0.6)
    ax.scatter(*real, s=6, color=REAL_COLOR, label=f"real new ({len(real[0])})")
    ax.scatter(*plan, s=8, color=PLAN_COLOR, marker="x", lw=0.7, label=f"proposed ({len(plan[0])})")
    ax.set_aspect(1.26)
    ax.set_axis_off()
    ax.legend(loc="lower left")
    ax.set_title(title)
    fig2.tight_layout()
    with atomic_path(path) as tmp:
        fig2.savefig(tmp, format=fmt)
    plt.close(fig2)
    return path


__all__ = ["district_table", "write_backtest_map", "write_district_table"]
