"""A body that is not JSON is a 422 on the field ``body`` (not ``body.<character offset>``) that
says what was expected and where the parser stopped, without echoing the body."""

from __future__ import annotations

from tests.api.api_support import Api


def test_a_body_that_is_not_json_names_the_body_and_what_was_expected(api_lite: Api) -> None:
    broken = b'{"name": "a",\n "secret-token": tru}'
    headers = api_lite.h("planner", **{"Content-Type": "application/json"})
    r = api_lite.client.post("/v1/scenarios", content=broken, headers=headers)
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error == {
        "field": "body",
        "problem": "got (not JSON); expected a JSON body (at character 31: Expecting value)",
        "type": "json_invalid",
    }
    assert "secret" not in r.text and "tru" not in r.text
