"""A misspelt field in a request body is a 422 that lists the fields there, as the CLI says it."""

from __future__ import annotations

import copy

from tests.api.api_support import RUN, Api


def test_a_misspelt_option_names_the_fields_and_the_closest(api_lite: Api) -> None:
    body = copy.deepcopy(RUN) | {"options": {"network": "straight", "targtes": "auto"}}
    r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body.options.targtes"
    expected = "got 'auto'; expected one of the fields targets, level, network, profile"
    assert err["problem"].startswith(expected)
    assert "did you mean 'targets'?" in err["problem"]  # it said: expected Extra inputs are not permitted


def test_a_misspelt_field_of_a_list_item_names_its_model_s_fields(api_lite: Api) -> None:
    body = copy.deepcopy(RUN)
    body["fleet"]["trucks"][0]["capacty"] = 10
    r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body.fleet.trucks.0.capacty" and "did you mean 'capacity'?" in err["problem"]
