"""Tables on a phone (390 px): the comparison of two plans keeps both plans and their difference in
view, and a table wider than the screen (the district table's seven columns) shows that more of it
lies beside, by a shadow along the edge it scrolls towards.

Found walking through the web app on the real 2019 plans (2026-12-06): at 390 × 844 the compare
table was 571 px wide in a 370 px box, so plan B and the Difference column were off-screen, and
the district table's Walk coverage and Trips served columns were cut at the box's edge with
nothing showing that the table went on."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.web.test_layout import _stub
from tests.web.test_plan_figures import EMPTY_FC, PHONE, PLAN, PLAN_DOC
from tests.web.web_support import new_page, sign_in

OTHER = "b" * 32
DISTRICTS = [
    {**PLAN_DOC["districts"][0], "gu": gu, "bikes_per_10k": 25.1 + i}
    for i, gu in enumerate(["노원구", "동작구", "도봉구", "관악구", "은평구", "성북구"])
]  # fmt: skip


@pytest.mark.slow
def test_the_comparison_keeps_both_plans_and_the_difference_in_view_on_a_phone(
    server: dict[str, Any], browser: Any, shots: Path
) -> None:
    from tests.web.test_night_views import _job

    page = new_page(browser, PHONE)

    # the figures of the two real plans of that walk (250 and 300 new stations)
    def station(covered: float) -> dict[str, Any]:
        return {"id": "NEW-0001", "lon": 126.98, "lat": 37.56, "gu": "중구", "docks": 20, "bikes": 24,
                "population_newly_covered": covered}  # fmt: skip

    def doc(name: str, covered: float, bikes: int, gap: float) -> dict[str, Any]:
        after = {**PLAN_DOC["city_after"], "bikes": bikes, "bikes_per_10k": bikes / 905.636}
        return {**PLAN_DOC, "scenario": name, "new_stations": [station(covered)], "city_after": after,
                "fleet_stats": {**PLAN_DOC["fleet_stats"], "gap": gap}}  # fmt: skip

    docs = [(PLAN, doc("2019-25k bikes 250 stations", 1_470_252.0, 25_000, 0.00004)),
            (OTHER, doc("2019-300 stations 김", 1_702_064.0, 30_000, 0.0002))]  # fmt: skip
    for id_, body in docs:
        _stub(page, f"/v1/scenarios/{id_}", _job(id_, "succeeded", 1.0, kind="scenario"))
        _stub(page, f"/v1/scenarios/{id_}/plan", body)
    sign_in(page, server["url"], server["keys"]["viewer"], f"#/compare?a={PLAN}&b={OTHER}")
    page.wait_for_selector(".pair[data-ready=true]", timeout=120_000)  # two software-GL maps, 2 busy cores
    page.wait_for_timeout(300)  # late layout (fonts)
    page.screenshot(path=str(shots / "compare-table-390.png"), full_page=False)
    box = page.evaluate(
        """() => { const t = document.querySelector('#compare-table');
        const w = t.parentElement.getBoundingClientRect();
        return { table: t.scrollWidth, box: t.parentElement.clientWidth,
                 out: [...t.querySelectorAll('th, td')]
                   .filter((c) => c.getBoundingClientRect().right > w.right + 1)
                   .map((c) => c.textContent.trim().replace(/\\s+/g, ' ')) }; }"""
    )
    assert box["table"] <= box["box"], f"the compare table is {box['table']} px wide in a {box['box']} px box"
    assert box["out"] == [], f"cells beyond the screen's edge: {box['out'][:6]}"
    # a gap stays on one line ("gap < 0.01 %", not "%" alone on the next)
    gaps = page.locator("#compare-table tr.solver-row .gap")
    assert gaps.count() == 4
    for i in range(4):
        g = gaps.nth(i).bounding_box()
        assert g is not None and g["height"] < 30, f"gap {i} wraps: {g}"
    assert page.errors == []


def _edges(png: bytes, top: int, bottom: int, strip: int = 4) -> tuple[float, float]:
    """Mean brightness (0-255) of the leftmost and rightmost ``strip`` px, rows ``top`` to ``bottom``."""
    with Image.open(io.BytesIO(png)) as img:
        a = np.asarray(img.convert("L")).astype(float)
    rows = a[top:bottom]
    return float(rows[:, :strip].mean()), float(rows[:, -strip:].mean())


@pytest.mark.slow
def test_a_table_wider_than_a_phone_shows_that_it_scrolls(server: dict[str, Any], browser: Any) -> None:
    page = new_page(browser, PHONE)
    _stub(page, f"/v1/scenarios/{PLAN}/plan", {**PLAN_DOC, "districts": DISTRICTS})
    _stub(page, f"/v1/scenarios/{PLAN}/layers/districts.geojson", EMPTY_FC)
    _stub(page, f"/v1/scenarios/{PLAN}/layers/coverage.geojson", EMPTY_FC)
    sign_in(page, server["url"], server["keys"]["viewer"], f"#/plan/{PLAN}")
    page.wait_for_selector("#district-table tbody tr")
    # the figures themselves made invisible, so that only the box's own drawing is measured
    page.add_style_tag(content="#district-table td, #district-table th { color: transparent !important; }")
    wrap = page.locator("#district-table").locator("xpath=..")
    size = wrap.evaluate("(w) => [w.scrollWidth, w.clientWidth]")
    assert size[0] > size[1], f"the district table fits a phone ({size}): nothing to check"
    body = page.evaluate(
        """() => { const w = document.querySelector('#district-table').parentElement.getBoundingClientRect();
        const b = document.querySelector('#district-table tbody').getBoundingClientRect();
        return [Math.round(b.top - w.top) + 2, Math.round(b.bottom - w.top) - 2]; }"""
    )
    left, right = _edges(wrap.screenshot(), *body)
    assert right < left - 8, f"at the start, no shadow on the right edge (left {left:.0f}, right {right:.0f})"
    wrap.evaluate("(w) => { w.scrollLeft = w.scrollWidth; }")
    page.wait_for_timeout(100)
    left, right = _edges(wrap.screenshot(), *body)
    assert left < right - 8, f"at the end, no shadow on the left edge (left {left:.0f}, right {right:.0f})"
    assert page.errors == []
