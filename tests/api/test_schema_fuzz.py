"""Property tests generated from the OpenAPI schema (schemathesis): no input gives a 5xx.

Every operation gets a few generated requests (valid and invalid bodies, query strings, paths)
sent with an admin key, so that requests reach the handlers rather than stopping at 401. The
solver job kinds are the test fakes; the station list is the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from api_support import keys_for, make_settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from api.app import create_app
from api.db import dispose_engine

ADMIN: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app's schema over ASGI, with its lifespan (database, job cluster) running."""
    from api_support import fake_rebalancing, fake_scenario

    from api import jobs

    saved = dict(jobs._KINDS)
    jobs._KINDS.update(scenario=fake_scenario, rebalancing=fake_rebalancing)
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'api.sqlite'}"
    ADMIN["X-API-Key"] = keys_for(url)["admin"]
    app = create_app(make_settings(url))
    try:
        with TestClient(app):
            yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        jobs._KINDS.clear()
        jobs._KINDS.update(saved)
        dispose_engine(url)


@pytest.mark.slow
def test_no_server_errors(api_schema: Any) -> None:
    """A few generated requests per operation (schemathesis strategies driven by hypothesis)."""
    checked = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_5xx(case: Any) -> None:
            response = case.call(headers=ADMIN)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
            )

        no_5xx()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /v1/scenarios" in checked and "POST /v1/rebalancing/runs" in checked and len(checked) >= 15


@pytest.mark.slow
def test_stateful_links_no_server_errors(api_schema: Any) -> None:
    """Stateful fuzzing: sequences that follow the OpenAPI links (submit -> status -> plan/routes ->
    cancel, store snapshot -> get it, create key -> revoke it), bounded, and never a 5xx."""
    seen: list[tuple[str, str, int]] = []

    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": dict(ADMIN)}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            seen.append((case.method.upper(), case.path, response.status_code))
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
            )

    Workflow.run(
        settings=settings(
            max_examples=30,
            stateful_step_count=5,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # Links were followed: an operation on a created resource answered with success.
    followed = {(m, p) for m, p, code in seen if "{" in p and code < 400}
    assert any(p.startswith("/v1/scenarios/{job_id}") for _, p in followed), sorted(set(seen))
    assert any(p.startswith("/v1/rebalancing/") for _, p in followed), sorted(set(seen))
