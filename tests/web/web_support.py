"""Helpers of the browser tests: pages, keyboard sign-in, non-blank screenshots, axe-core."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

WEB = Path(__file__).resolve().parents[2] / "api" / "web"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}


def new_page(browser: Any, viewport: dict[str, int] = DESKTOP) -> Any:
    """A fresh browser context (its own sessionStorage) and page; console errors collected."""
    ctx = browser.new_context(viewport=viewport, locale="ko-KR", accept_downloads=True)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def sign_in(page: Any, url: str, key: str, hash_: str = "#/plans") -> None:
    """Sign in with the keyboard only (type the key, press Enter)."""
    page.goto(f"{url}/{hash_}")
    page.wait_for_selector("#api-key")
    page.keyboard.type(key)  # the key field has the focus
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('#api-key')")


def ink(png: bytes) -> tuple[float, int]:
    """(share of pixels far from the median colour, distinct colours) of a screenshot: 0 / 1 when blank."""
    with Image.open(io.BytesIO(png)) as img:
        a = np.asarray(img.convert("RGB")).astype(int)
    flat = a.reshape(-1, 3)
    median = np.median(flat, axis=0)
    share = float((np.abs(flat - median).sum(axis=1) > 40).mean())
    return share, len(np.unique(flat[:: max(1, len(flat) // 200_000)], axis=0))


def assert_not_blank(png: bytes, path: Path, *, min_share: float = 0.02, min_colors: int = 20) -> None:
    """Save the screenshot (for people to look at) and check it shows something."""
    path.write_bytes(png)
    share, colors = ink(png)
    assert share >= min_share and colors >= min_colors, (
        f"{path.name} looks blank ({share:.3f}, {colors} colours)"
    )


def axe_serious(page: Any) -> list[dict[str, Any]]:
    """axe-core (from npm) on the page: the serious and critical violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def popup_overlaps_controls(page: Any, map_selector: str) -> list[str]:
    """The map controls (attribution, scale, zoom buttons) that the open popup of the map in
    ``map_selector`` overlaps, and ``"outside the map"`` when it runs past the map's edges."""
    return list(
        page.evaluate(
            """(sel) => {
              const box = (e) => e.getBoundingClientRect();
              const map = document.querySelector(sel);
              const pop = box(map.querySelector('.maplibregl-popup'));
              const m = box(map);
              const out = pop.top < m.top - 1 || pop.bottom > m.bottom + 1 || pop.left < m.left - 1
                || pop.right > m.right + 1 ? ['outside the map'] : [];
              const hit = (r) => r.width > 0 && pop.left < r.right && r.left < pop.right
                && pop.top < r.bottom && r.top < pop.bottom;
              return out.concat([...map.querySelectorAll('.maplibregl-ctrl')].filter((c) => hit(box(c)))
                .map((c) => c.className));
            }""",
            map_selector,
        )
    )
