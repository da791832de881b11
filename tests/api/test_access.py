"""Access, proven per route: every operation of the OpenAPI document against every kind of caller.

The routes are read from the running app, not listed here, so a route added later (a web app's
API, a simulation or sweep job type) is covered without anyone remembering to add it: it either
depends on :func:`api.auth.require` (and is then checked against :data:`ROLE_TABLE`) or is in
:data:`PUBLIC` with the reason it needs no key. For each protected operation: no key, an unknown
key, a revoked key and an expired key get 401; each role gets 403 or gets past the check, as
the role table says. Also here: key expiry, listing and revocation, and the audit log.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from api.auth import PERMISSIONS, ROLES, hash_key
from api.db.models import ApiKey
from api.web import PUBLIC_ROUTES
from tests.api.api_support import SCENARIO, Api

# The role table of the README: what each role may do.
ROLE_TABLE: dict[str, set[str]] = {
    "viewer": {"read"},
    "planner": {"read", "scenarios:write"},
    "ops": {"read", "rebalancing:write"},
    "admin": {"read", "scenarios:write", "rebalancing:write", "keys:admin"},
}

# Which permission an operation needs, by method and path prefix (first match wins). A write under
# a new prefix (a simulation or sweep job type) matches nothing and fails the test until its rule
# is added here; reads under /v1/ need "read" unless listed before.
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROUTE_RULES: list[tuple[frozenset[str], str, str]] = [
    (frozenset({"GET"}), "/v1/keys", "keys:admin"),
    (frozenset({"GET"}), "/v1/audit", "keys:admin"),
    (frozenset({"GET"}), "/v1/", "read"),
    (WRITES, "/v1/scenarios", "scenarios:write"),
    (WRITES, "/v1/sweeps", "scenarios:write"),  # a sweep plans scenarios: the planners' permission
    (WRITES, "/v1/simulations", "scenarios:write"),  # trips served of a plan's network: planners
    (WRITES, "/v1/station-lists", "scenarios:write"),  # uploads for scenarios: the planners' permission
    (WRITES, "/v1/rebalancing/", "rebalancing:write"),
    (WRITES, "/v1/keys", "keys:admin"),
]


def expected_permission(method: str, path: str) -> str | None:
    """The permission :data:`ROUTE_RULES` give an operation (``None``: no rule)."""
    for methods, prefix, permission in ROUTE_RULES:
        if method in methods and path.startswith(prefix):
            return permission
    return None


# Operations that need no key, each with its reason.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness probe of the orchestrator; answers only 'ok'",
    ("GET", "/readyz"): "readiness probe of the orchestrator; says only whether database and workers answer",
    ("GET", "/metrics"): "Prometheus scrape: request counts and latencies by route template, no data",
    # the web app's page, modules and basemap: the app asks for a key before it reads any data
    **{("GET", path): reason for path, reason in PUBLIC_ROUTES.items()},
}
# Routes outside the OpenAPI document (FastAPI's own documentation pages), with the reason.
UNDOCUMENTED_PUBLIC: dict[str, str] = {
    "/openapi.json": "the API's schema",
    "/docs": "Swagger UI over the schema (its files from this server: api/web/router.py)",
}


def _permission(route: Any) -> str | None:
    """The permission a route's dependencies require (``api.auth.require``), if any."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        perm = getattr(dep.call, "permission", None)
        if perm is not None:
            return str(perm)
        stack.extend(dep.dependencies)
    return None


def _operations(api: Api) -> list[tuple[str, str, str | None, bool]]:
    """(method, path, permission, has body) of every operation of the OpenAPI document."""
    app: Any = api.client.app
    doc = api.client.get("/openapi.json").json()
    contexts = list(iter_route_contexts(app.routes))  # routes of included routers, with prefixes
    routes = {(m, r.path): r for r in contexts for m in (r.methods or ())}
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            route = routes[(method.upper(), path)]
            ops.append((method.upper(), path, _permission(route), "requestBody" in op))
    documented = {p for p in doc["paths"]}
    hidden = {r.path for r in app.routes if getattr(r, "path", None) and r.path not in documented} - set(
        UNDOCUMENTED_PUBLIC
    )
    assert not hidden, f"routes outside the OpenAPI document and not listed as public: {hidden}"
    return ops


def _fill(path: str) -> str:
    out = path
    while "{" in out:
        i, j = out.index("{"), out.index("}")
        name = out[i + 1 : j]
        out = out[:i] + ("x.json" if name == "file" else "0" * 32) + out[j + 1 :]
    return out


def _extra_keys(api: Api) -> dict[str, str]:
    """A revoked key and an expired key (both admin: the strongest role must still get 401)."""
    app: Any = api.client.app
    revoked = api.client.post("/v1/keys", json={"role": "admin", "name": "gone"}, headers=api.h("admin"))
    assert api.client.delete(f"/v1/keys/{revoked.json()['id']}", headers=api.h("admin")).status_code == 204
    expired_secret = "mob_" + uuid.uuid4().hex
    with app.state.sessions() as s:
        s.add(
            ApiKey(
                id=uuid.uuid4().hex,
                name="old",
                role="admin",
                key_hash=hash_key(expired_secret),
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
        s.commit()
    return {"revoked": revoked.json()["key"], "expired": expired_secret, "unknown": "mob_" + "x" * 43}


def test_role_table_is_the_servers() -> None:
    assert {r: set(PERMISSIONS[r]) for r in ROLES} == ROLE_TABLE


def test_every_route_every_caller(api_lite: Api) -> None:
    c = api_lite.client
    bad = _extra_keys(api_lite)
    ops = _operations(api_lite)
    failures: list[str] = []
    for method, path, permission, has_body in ops:
        url = _fill(path)
        kw: dict[str, Any] = {"json": {}} if has_body else {}
        if permission is None:
            if (method, path) not in PUBLIC:
                failures.append(f"{method} {path}: needs no key but is not listed in PUBLIC")
            elif c.request(method, url, **kw).status_code in (401, 403):
                failures.append(f"{method} {path}: public but refused")
            continue
        assert (method, path) not in PUBLIC, f"{method} {path} is listed as public but needs {permission}"
        expected = expected_permission(method, path)
        if expected is None:
            failures.append(f"{method} {path}: no rule in ROUTE_RULES says which permission it needs")
            continue
        if permission != expected:
            failures.append(f"{method} {path}: requires {permission!r}, the rules say {expected!r}")
        permission = expected  # what each role must see below is what the rules say
        if (code := c.request(method, url, **kw).status_code) != 401:
            failures.append(f"{method} {path}: no key -> {code}")
        for label, secret in bad.items():
            if (code := c.request(method, url, headers={"X-API-Key": secret}, **kw).status_code) != 401:
                failures.append(f"{method} {path}: {label} key -> {code}")
        for role in ROLES:
            code = c.request(method, url, headers=api_lite.h(role), **kw).status_code
            allowed = permission in ROLE_TABLE[role]
            if allowed and code in (401, 403):
                failures.append(f"{method} {path}: {role} (allowed) -> {code}")
            if not allowed and code != 403:
                failures.append(f"{method} {path}: {role} (not allowed) -> {code}")
    assert not failures, "\n".join(failures)
    covered = {(m, p) for m, p, _, _ in ops}
    assert ("POST", "/v1/scenarios") in covered and ("GET", "/v1/audit") in covered and len(covered) >= 20


# --- keys ---------------------------------------------------------------------------------------------


def test_key_expiry(api_lite: Api) -> None:
    c = api_lite.client
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    r = c.post(
        "/v1/keys", json={"role": "viewer", "name": "temp", "expires_at": soon}, headers=api_lite.h("admin")
    )
    assert r.status_code == 201 and r.json()["expires_at"] and r.json()["active"] is True
    assert c.get("/v1/scenarios", headers={"X-API-Key": r.json()["key"]}).status_code == 200
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    bad = c.post(
        "/v1/keys", json={"role": "viewer", "name": "x", "expires_at": past}, headers=api_lite.h("admin")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.expires_at"
    naive = c.post(
        "/v1/keys",
        json={"role": "viewer", "name": "x", "expires_at": "2030-01-01T00:00:00"},
        headers=api_lite.h("admin"),
    )
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "body.expires_at"
    # The key expires while cached: refused from then on.
    app: Any = c.app
    with app.state.sessions() as s:
        rec = s.get(ApiKey, r.json()["id"])
        rec.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        s.commit()
    app.state.keys.forget()
    refused = c.get("/v1/scenarios", headers={"X-API-Key": r.json()["key"]})
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_keys_listed_without_secrets_and_revoked(api_lite: Api) -> None:
    c = api_lite.client
    new = c.post("/v1/keys", json={"role": "ops", "name": "lee"}, headers=api_lite.h("admin")).json()
    listed = c.get("/v1/keys", headers=api_lite.h("admin"))
    assert listed.status_code == 200
    text = listed.text
    for secret in [*api_lite.keys.values(), new["key"]]:
        assert secret not in text and hash_key(secret) not in text
    rows = {k["id"]: k for k in listed.json()}
    assert rows[new["id"]]["active"] and rows[new["id"]]["role"] == "ops" and "key" not in rows[new["id"]]
    assert c.delete(f"/v1/keys/{new['id']}", headers=api_lite.h("admin")).status_code == 204
    assert c.get("/v1/scenarios", headers={"X-API-Key": new["key"]}).status_code == 401
    after = {k["id"]: k for k in c.get("/v1/keys", headers=api_lite.h("admin")).json()}
    assert after[new["id"]]["revoked_at"] and not after[new["id"]]["active"]


def test_audit_log_records_every_write(api_lite: Api) -> None:
    c = api_lite.client
    ok = c.post("/v1/scenarios", json=SCENARIO, headers=api_lite.h("planner"))
    denied = c.post("/v1/scenarios", json=SCENARIO, headers=api_lite.h("viewer"))
    invalid = c.post("/v1/scenarios", json={}, headers=api_lite.h("planner"))
    c.post("/v1/scenarios", json=SCENARIO)  # no key: nobody to record
    c.get("/v1/scenarios", headers=api_lite.h("planner"))  # a read: not audited
    assert (ok.status_code, denied.status_code, invalid.status_code) == (202, 403, 422)
    page = c.get("/v1/audit", headers=api_lite.h("admin")).json()
    entries = [(e["key_name"], e["method"], e["route"], e["status"]) for e in page["items"]]
    assert ("planner-user", "POST", "/v1/scenarios", 202) in entries
    assert ("viewer-user", "POST", "/v1/scenarios", 403) in entries
    assert ("planner-user", "POST", "/v1/scenarios", 422) in entries
    assert all(e[1] != "GET" for e in entries) and page["total"] == len(entries) == 3
    created = next(e for e in page["items"] if e["status"] == 202)
    assert created["target"] == ok.headers["Location"] and created["request_id"] == ok.headers["X-Request-Id"]
    mine = c.get("/v1/audit", params={"key_id": created["key_id"]}, headers=api_lite.h("admin")).json()
    assert mine["total"] == 2


def test_submission_and_its_audit_entry_are_one_transaction(
    api_lite: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submission writes its job and audit entry together: if the entry cannot be written, no
    job exists either (and the failure is audited afterwards, as any other write)."""
    import api.routes.common as common

    c = api_lite.client
    make = vars(common)["audit_entry"]  # imported there, not re-exported
    monkeypatch.setattr(common, "audit_entry", lambda *a, **k: make(*a, **k | {"status": None}))
    r = c.post("/v1/scenarios", json=SCENARIO, headers=api_lite.h("planner"))
    assert r.status_code == 500
    assert c.get("/v1/scenarios", headers=api_lite.h("viewer")).json()["total"] == 0
    monkeypatch.setattr(common, "audit_entry", make)
    ok = c.post("/v1/scenarios", json=SCENARIO, headers=api_lite.h("planner"))
    assert ok.status_code == 202
    items = c.get("/v1/audit", headers=api_lite.h("admin")).json()["items"]
    assert sorted(e["status"] for e in items) == [202, 500]  # each write once


@pytest.mark.parametrize("role", ["viewer", "planner", "ops"])
def test_audit_is_admin_only(api_lite: Api, role: str) -> None:
    assert api_lite.client.get("/v1/audit", headers=api_lite.h(role)).status_code == 403
