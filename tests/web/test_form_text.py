"""What the night form says to the night shift: hints in plain words (no code markup, no
references to the code), and a missing status named beside its field before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.web_support import DESKTOP, new_page, sign_in

CASES = [
    ("Street network, or `straight` (great-circle).", "Street network, or straight (great-circle)."),
    ("Driving speed in km/h (`speed_kmh`, deprecated, is read too).",
     "Driving speed in km/h (speed_kmh, deprecated, is read too)."),
    ("How trucks travel (see travel_for).", "How trucks travel."),
    ("How trucks travel (see :func:`~mobility.rebalancing.travel.travel_for`).", "How trucks travel."),
    ("A :class:`~a.b.Baseline` of ``stations``.\n\nMore.", "A Baseline of stations."),
    ('Nightly rebalancing (see README, "Rebalancing").', 'Nightly rebalancing (see README, "Rebalancing").'),
]  # fmt: skip


@pytest.mark.slow
def test_hints_are_plain_words(server: dict[str, Any], browser: Any) -> None:
    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new?from=seoul-nightly.yaml")
    page.wait_for_selector("#f-fleet")
    got = page.evaluate(
        """async (cases) => {
          const m = await import('/web/form.js');
          return cases.map(([t]) => m.firstLine(t));
        }""",
        CASES,
    )
    assert got == [want for _, want in CASES]
    hints = page.locator("#night-form .hint").all_inner_texts()
    assert hints and not [h for h in hints if "`" in h or "travel_for" in h or ":func:" in h]
    assert page.errors == []


@pytest.mark.slow
def test_a_night_without_a_status_is_asked_for_one_beside_the_field(
    server: dict[str, Any], browser: Any
) -> None:
    page = new_page(browser, DESKTOP)
    sign_in(page, server["url"], server["keys"]["ops"], "#/nights/new?from=seoul-nightly.yaml")
    page.wait_for_selector("#f-fleet")
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.click("#submit-night")
    page.wait_for_selector("#f-snapshot-err:not(:empty)")
    assert page.inner_text("#f-snapshot-err") == "Choose tonight's status CSV or a stored snapshot"
    assert "body:" not in page.inner_text("main") and "Value error" not in page.inner_text("main")
    assert posted == []  # nothing sent
    assert page.evaluate("() => document.activeElement.id") == "status-csv"
    assert page.errors == []


@pytest.mark.slow
def test_a_failed_plan_can_be_edited_as_a_copy(server: dict[str, Any], browser: Any) -> None:
    """A failed or cancelled plan offers 'Edit a copy', which fills the form with what was sent."""
    import re

    from tests.web.test_layout import _jobs

    page = new_page(browser, DESKTOP)
    jobs = _jobs("scenario")
    failed = next(j for j in jobs["items"] if j["status"] == "failed")["id"]
    sent = {"name": "고칠 계획", "baseline": {"stations": "2019-12"}, "fleet": {"total_bikes": 31234}}
    page.route(re.compile(r"^[^?]*/v1/scenarios(\?.*)?$"), lambda r: r.fulfill(json=jobs))
    page.route(re.compile(rf"^[^?]*/v1/scenarios/{failed}/request$"), lambda r: r.fulfill(json=sent))
    sign_in(page, server["url"], server["keys"]["planner"], "#/plans")
    page.wait_for_selector("#compare-form table")
    links = page.locator(f'a[href="#/plans/new?from={failed}"]')
    assert links.count() == 1 and links.inner_text() == "Edit a copy"
    links.click()
    page.wait_for_selector("#f-fleet-total_bikes")
    assert page.input_value("#f-fleet-total_bikes") == "31234"
    assert page.errors == []
