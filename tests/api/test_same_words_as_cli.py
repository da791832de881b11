"""A 422 says a pydantic-checked mistake in the CLI's words: ``got <value>; expected <what>``
(``mobility.scenario.reading.expected_of``), not ``got -250; Input should be ...`` beside the CLI's
``expected greater than or equal to 0``."""

from __future__ import annotations

import pytest

from mobility.errors import InputError
from mobility.scenario.expansion import scenario_from_dict
from tests.api.api_support import SCENARIO, Api


def test_the_api_and_the_cli_say_a_bound_the_same_way(api_lite: Api) -> None:
    body = SCENARIO | {"spacing": {"min_m": -250}}
    r = api_lite.client.post("/v1/scenarios", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    with pytest.raises(InputError) as cli:
        scenario_from_dict(body)
    assert err["field"] == "body." + cli.value.field == "body.spacing.min_m"
    assert err["problem"] == f"got -250; expected {cli.value.expected}"
    assert err["problem"] == "got -250; expected greater than or equal to 0"
