"""One self-contained HTML page per plotly figure: the writer behind every interactive export.

The interactive map, the coverage curve and the backtest figure are each one HTML file with
plotly.js written inline from the installed ``plotly`` package (no CDN: they open with the
network off). Each page has a ``<title>`` and a ``viewport`` meta tag, without which a phone's
browser lays the page out 980 px wide and shrinks it to the screen, so that a layout made for a
narrow window (the map's :data:`~mobility.export.html_map.NARROW_SCRIPT`) is never used there.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
"""A phone lays the page out at its own width (CSS pixels), not at a desktop's."""


def plotly_page(
    fig: go.Figure,
    *,
    title: str,
    div_id: str | None = None,
    post_script: str | None = None,
    config: dict[str, Any] | None = None,
) -> str:
    """The HTML text of ``fig`` as a whole page, plotly.js inline.

    Parameters
    ----------
    fig
        The figure.
    title
        The page's ``<title>`` (escaped here).
    div_id, post_script, config
        As :meth:`plotly.graph_objects.Figure.to_html` takes them (``None``: plotly's defaults).
    """
    text = fig.to_html(
        include_plotlyjs=True,
        full_html=True,
        div_id=div_id,
        include_mathjax=False,
        post_script=post_script,
        config=config,
    )
    head = f"<head>{VIEWPORT}<title>{html.escape(title)}</title>"
    return text.replace("<head>", head, 1)


__all__ = ["VIEWPORT", "plotly_page"]
