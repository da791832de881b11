"""Scenario endpoints through the test client (solver replaced by a fake job kind)."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import httpx

from tests.api.api_support import SCENARIO, Api


# body and role are positional-only: every keyword argument is a request header
def _submit(
    api: Api, body: dict[str, Any] | None = None, role: str = "planner", /, **headers: str
) -> httpx.Response:
    return api.client.post("/v1/scenarios", json=body or SCENARIO, headers=api.h(role, **headers))


def test_submit_poll_and_download_every_format(api: Api) -> None:
    r = _submit(api)
    assert r.status_code == 202
    loc = r.headers["Location"]
    assert loc == f"/v1/scenarios/{r.json()['id']}" == r.json()["location"]
    done = api.wait(loc)
    assert done["status"] == "succeeded", done
    assert done["kpis"] == {"new_stations": 1}
    assert done["progress"] == 1.0 and done["attempts"] == 1
    assert done["links"]["plan"] == f"{loc}/plan"
    assert done["created_at"].endswith("Z") or "+00:00" in done["created_at"]

    plan = api.client.get(f"{loc}/plan", headers=api.h("viewer"))
    assert plan.status_code == 200 and plan.headers["content-type"].startswith("application/json")
    assert plan.json()["new_stations"][0]["gu"] == "마포구"
    assert "마포구".encode() in plan.content  # Hangul not escaped

    gj = api.client.get(f"{loc}/plan", headers=api.h("viewer", Accept="application/geo+json"))
    assert gj.headers["content-type"].startswith("application/geo+json")
    feats = gj.json()["features"]
    assert {f["properties"]["kind"] for f in feats} == {"new", "existing"}
    assert feats[0]["geometry"]["coordinates"] == [126.91, 37.55]

    text = api.client.get(f"{loc}/plan?format=csv", headers=api.h("viewer")).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in rows] == ["new", "existing"] and rows[1]["name"] == "망원역 1번출구 앞"


def test_etag_gives_304(api_lite: Api) -> None:
    loc = _submit(api_lite).headers["Location"]
    api_lite.wait(loc)
    first = api_lite.client.get(f"{loc}/plan", headers=api_lite.h("viewer"))
    etag = first.headers["ETag"]
    again = api_lite.client.get(f"{loc}/plan", headers=api_lite.h("viewer", **{"If-None-Match": etag}))
    assert again.status_code == 304 and again.content == b""
    other = api_lite.client.get(
        f"{loc}/plan?format=csv", headers=api_lite.h("viewer", **{"If-None-Match": etag})
    )
    assert other.status_code == 200  # another representation has another tag


def test_plan_of_unfinished_or_unknown_job(api_lite: Api) -> None:
    body = copy.deepcopy(SCENARIO) | {"description": "sleep"}
    loc = _submit(api_lite, body).headers["Location"]
    r = api_lite.client.get(f"{loc}/plan", headers=api_lite.h("viewer"))
    assert r.status_code == 409 and "results exist once it has succeeded" in r.json()["detail"]
    api_lite.client.delete(loc, headers=api_lite.h("planner"))
    assert api_lite.client.get("/v1/scenarios/nope/plan", headers=api_lite.h("viewer")).status_code == 404
    assert api_lite.client.get("/v1/scenarios/nope", headers=api_lite.h("viewer")).status_code == 404
    bad = api_lite.client.get(f"{loc}/plan?format=xml", headers=api_lite.h("viewer"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.format"


def test_idempotency_key(api: Api) -> None:
    a = _submit(api, **{"Idempotency-Key": "k-1"})
    b = _submit(api, **{"Idempotency-Key": "k-1"})
    assert a.status_code == 202 and b.status_code == 200 and a.json()["id"] == b.json()["id"]
    other = copy.deepcopy(SCENARIO) | {"name": "different"}
    c = _submit(api, other, **{"Idempotency-Key": "k-1"})
    assert c.status_code == 409 and "Idempotency-Key" in c.json()["detail"]
    d = _submit(api, other, **{"Idempotency-Key": "k-2"})
    assert d.status_code == 202 and d.json()["id"] != a.json()["id"]


def test_list_paging_and_filters(api: Api) -> None:
    ids = [_submit(api, copy.deepcopy(SCENARIO) | {"name": f"s{i}"}).json()["id"] for i in range(3)]
    for i in ids:
        api.wait(f"/v1/scenarios/{i}")
    page = api.client.get("/v1/scenarios?limit=2", headers=api.h("viewer")).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["limit"] == 2
    rest = api.client.get("/v1/scenarios?limit=2&offset=2", headers=api.h("viewer")).json()
    assert len(rest["items"]) == 1
    assert {x["id"] for x in page["items"] + rest["items"]} == set(ids)
    assert api.client.get("/v1/scenarios?status=failed", headers=api.h("viewer")).json()["total"] == 0
    assert api.client.get("/v1/scenarios?author=planner-user", headers=api.h("viewer")).json()["total"] == 3
    assert api.client.get("/v1/scenarios?author=someone", headers=api.h("viewer")).json()["total"] == 0
    bad = api.client.get("/v1/scenarios?limit=1000", headers=api.h("viewer"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.limit"


def test_failed_job_reports_error_without_traceback(api: Api) -> None:
    loc = _submit(api, copy.deepcopy(SCENARIO) | {"description": "fail"}).headers["Location"]
    done = api.wait(loc)
    assert done["status"] == "failed"
    assert done["error"]["type"] == "InputError" and done["error"]["field"] == "baseline.stations"
    loc = _submit(api, copy.deepcopy(SCENARIO) | {"description": "crash"}).headers["Location"]
    done = api.wait(loc)
    assert done["status"] == "failed" and done["error"]["type"] == "InternalError"
    assert "/etc/passwd" not in json.dumps(done) and "Traceback" not in json.dumps(done)


def test_cancel_running_and_finished(api: Api) -> None:
    loc = _submit(api, copy.deepcopy(SCENARIO) | {"description": "sleep"}).headers["Location"]
    api.wait(loc, timeout=0)  # one poll
    r = api.client.delete(loc, headers=api.h("planner"))
    assert r.status_code in (200, 202)
    assert api.wait(loc)["status"] == "cancelled"
    again = api.client.delete(loc, headers=api.h("planner"))
    assert again.status_code == 409
    assert api.client.delete("/v1/scenarios/unknown", headers=api.h("planner")).status_code == 404


def test_time_limit_is_enforced(api_lite: Api) -> None:
    body = copy.deepcopy(SCENARIO) | {"description": "hang", "solver": {"time_limit": 0.5}}
    done = api_lite.wait(_submit(api_lite, body).headers["Location"])
    assert done["status"] == "failed" and done["error"]["type"] == "TimeLimitExceeded"


def test_time_limit_above_server_maximum(api_lite: Api) -> None:
    body = copy.deepcopy(SCENARIO) | {"solver": {"time_limit": 86400}}
    r = _submit(api_lite, body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.solver.time_limit"


def test_validation_errors_name_the_field(api_lite: Api) -> None:
    body = copy.deepcopy(SCENARIO)
    body["coverage"] = {"radius_m": -5}
    r = _submit(api_lite, body)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "body.coverage.radius_m" and "greater than 0" in err["problem"]
    r = _submit(api_lite, copy.deepcopy(SCENARIO) | {"unknown_field": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.unknown_field"
    r = api_lite.client.post(
        "/v1/scenarios",
        content=b"{not json",
        headers=api_lite.h("planner") | {"Content-Type": "application/json"},
    )
    assert r.status_code == 422


def test_plan_gzip(api_lite: Api) -> None:
    import gzip

    import httpx

    loc = _submit(api_lite).headers["Location"]
    api_lite.wait(loc)
    plain = api_lite.client.get(
        f"{loc}/plan", headers=api_lite.h("viewer", **{"Accept-Encoding": "identity"})
    )
    # Read the raw bytes so that the client does not decode them for us.
    with api_lite.client.stream(
        "GET", f"{loc}/plan", headers=api_lite.h("viewer", **{"Accept-Encoding": "gzip"})
    ) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip" and r.headers["etag"] != plain.headers["etag"]
    assert gzip.decompress(raw) == plain.content
    assert isinstance(plain, httpx.Response) and "content-encoding" not in plain.headers


def test_a_failed_scenario_gives_back_what_was_submitted(api: Api) -> None:
    """'Edit a copy' of a failed plan starts from the body it was submitted with (no plan.json)."""
    body = copy.deepcopy(SCENARIO) | {"description": "fail", "name": "고칠 계획"}
    loc = _submit(api, body).headers["Location"]
    assert api.wait(loc)["status"] == "failed"
    got = api.client.get(f"{loc}/request", headers=api.h("viewer"))
    assert got.status_code == 200
    sent = got.json()
    assert sent["name"] == "고칠 계획" and sent["baseline"]["stations"] == "2019-12"
    assert sent["fleet"]["total_bikes"] == 30000 and sent["solver"]["time_limit"] == 5
    assert api.client.get("/v1/scenarios/nope/request", headers=api.h("viewer")).status_code == 404
    assert api.client.get(f"{loc}/request").status_code == 401
