"""The API's documentation page works on a network without the internet, as the maps do.

``/docs`` loaded Swagger UI from cdn.jsdelivr.net: on an offline office network it was blank.
Its script and style sheet now come from this server (``/web/vendor/``, npm's swagger-ui-dist).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.web.web_support import DESKTOP, ink, new_page

pytestmark = pytest.mark.slow


def test_docs_render_with_every_outside_request_blocked(
    server: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    page = new_page(browser, DESKTOP)
    here = urlsplit(server["url"]).netloc
    outside: list[str] = []

    def route(r: Any) -> None:
        if urlsplit(r.request.url).netloc == here or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(f"{server['url']}/docs")
    page.wait_for_selector(".opblock-tag", timeout=30_000)  # the operations, grouped by tag
    tags = page.locator(".opblock-tag").all_inner_texts()
    assert any("scenarios" in t for t in tags) and any("rebalancing" in t for t in tags), tags
    assert outside == []
    shot = page.screenshot(path=str(tmp_path / "docs.png"))
    assert ink(shot)[0] > 0.02  # drawn, not a blank page
    assert page.errors == []
