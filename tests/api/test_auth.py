"""Keys, roles, rate limit; operations endpoints; body limit; CORS; the generic 500."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from api.auth import KeyStore, LocalWindow, Principal, hash_key
from tests.api.api_support import RUN, SCENARIO, Api, keys_for, make_settings


def test_no_key_wrong_key_and_bearer(api_lite: Api) -> None:
    c = api_lite.client
    r = c.get("/v1/scenarios")
    assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert c.get("/v1/scenarios", headers={"X-API-Key": "mob_wrong"}).status_code == 401
    ok = c.get("/v1/scenarios", headers={"Authorization": f"Bearer {api_lite.keys['viewer']}"})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "allowed"),
    [
        ("viewer", "post", "/v1/scenarios", SCENARIO, False),
        ("ops", "post", "/v1/scenarios", SCENARIO, False),
        ("planner", "post", "/v1/rebalancing/runs", RUN, False),
        ("viewer", "post", "/v1/rebalancing/runs", RUN, False),
        ("planner", "post", "/v1/keys", {"role": "viewer", "name": "x"}, False),
        ("admin", "post", "/v1/scenarios", SCENARIO, True),
        ("admin", "post", "/v1/rebalancing/runs", RUN, True),
        ("viewer", "get", "/v1/rebalancing/runs", None, True),
    ],
)
def test_roles(api_lite: Api, role: str, method: str, path: str, body: dict | None, allowed: bool) -> None:  # type: ignore[type-arg]
    r = api_lite.client.request(method.upper(), path, json=body, headers=api_lite.h(role))
    if allowed:
        assert r.status_code in (200, 201, 202)
    else:
        assert r.status_code == 403 and api_lite.keys[role] not in r.text
        assert "may not" in r.json()["detail"]


def test_admin_creates_and_revokes_keys(api_lite: Api) -> None:
    c = api_lite.client
    r = c.post("/v1/keys", json={"role": "planner", "name": "kim"}, headers=api_lite.h("admin"))
    assert r.status_code == 201
    new = r.json()
    assert new["key"].startswith("mob_") and new["role"] == "planner"
    with api_lite.client.app.state.sessions() as s:  # type: ignore[attr-defined]
        from api.db.models import ApiKey

        stored = s.get(ApiKey, new["id"])
        assert stored.key_hash == hash_key(new["key"]) and new["key"] not in stored.key_hash
    assert c.get("/v1/scenarios", headers={"X-API-Key": new["key"]}).status_code == 200
    assert c.delete(f"/v1/keys/{new['id']}", headers=api_lite.h("admin")).status_code == 204
    assert c.get("/v1/scenarios", headers={"X-API-Key": new["key"]}).status_code == 401
    assert c.delete("/v1/keys/nope", headers=api_lite.h("admin")).status_code == 404
    bad = c.post("/v1/keys", json={"role": "root", "name": "x"}, headers=api_lite.h("admin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.role"


@pytest.fixture
def strict_app(sqlite_url: str, fake_kinds: None) -> Iterator[Api]:
    """Tight limits: 3 requests a minute, 2 kB bodies, one CORS origin, a route that crashes."""
    keys = keys_for(sqlite_url)
    settings = make_settings(
        sqlite_url, rate_limit="3/minute", max_body_bytes=2048, cors_origins=["https://planner.example"]
    )
    app = create_app(settings)
    boom = APIRouter()

    @boom.get("/boom")
    def _boom() -> None:
        raise RuntimeError("secret /etc/shadow")

    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, keys)


def test_rate_limit_per_key(strict_app: Api) -> None:
    c = strict_app.client
    codes = [c.get("/v1/scenarios", headers=strict_app.h("viewer")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = c.get("/v1/scenarios", headers=strict_app.h("viewer"))
    assert int(r.headers["Retry-After"]) >= 1
    assert c.get("/v1/scenarios", headers=strict_app.h("planner")).status_code == 200  # another key


@given(
    amount=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=200),
)
def test_local_window_limit_and_retry_after(amount: int, gaps: list[float]) -> None:
    """The in-memory sliding window counter never lets more than ``amount`` requests through in one
    fixed window, and a denied caller who waits the ``Retry-After`` it was given gets through."""
    window = LocalWindow(amount, 60.0)
    now, per_window = 1_000_000.0, dict[int, int]()
    for gap in gaps:
        now += gap
        allowed, retry = window.hit("k", now)
        if allowed:
            index = int(now // 60)
            per_window[index] = per_window.get(index, 0) + 1
            assert per_window[index] <= amount
            continue
        assert 0 < retry <= 120
        probe = LocalWindow(amount, 60.0)
        probe._windows = dict(window._windows)
        assert probe.hit("k", now + retry + 1e-6)[0]


class _CountingStore(KeyStore):
    """A key store over a dict of digests instead of the database, counting its lookups."""

    def __init__(self, ttl: float, keys: dict[str, Principal], max_keys: int = 10_000) -> None:
        super().__init__(None, ttl, max_keys)  # type: ignore[arg-type]
        self.keys, self.lookups = keys, 0

    def _lookup(self, digest: str) -> Principal | None:
        self.lookups += 1
        return self.keys.get(digest)


def test_key_store_remembers_keys_for_its_ttl() -> None:
    """Within the TTL a key (known or not) is looked up once; ``forget`` and a TTL of 0 look it up
    again; the memory holds at most ``max_keys`` digests."""
    known = Principal(key_id="k1", name="kim", role="viewer")
    store = _CountingStore(3600.0, {hash_key("good"): known}, max_keys=4)

    def verify(secret: str) -> Any:
        return asyncio.run(store.verify(secret))

    assert verify("good") == known and verify("good") == known
    assert verify("bad") is None and verify("bad") is None
    assert store.lookups == 2
    store.forget()
    assert verify("good") == known and store.lookups == 3
    for i in range(10):
        verify(f"unknown-{i}")
    assert len(store._cache) == 4
    uncached = _CountingStore(0.0, {hash_key("good"): known})
    assert asyncio.run(uncached.verify("good")) == known and asyncio.run(uncached.verify("good")) == known
    assert uncached.lookups == 2


def test_body_limit(strict_app: Api) -> None:
    body = SCENARIO | {"description": "x" * 5000}
    r = strict_app.client.post("/v1/scenarios", json=body, headers=strict_app.h("planner"))
    assert r.status_code == 413 and "2048" in r.json()["detail"]


def test_cors(strict_app: Api) -> None:
    pre = strict_app.client.options(
        "/v1/scenarios",
        headers={
            "Origin": "https://planner.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert pre.headers["access-control-allow-origin"] == "https://planner.example"
    other = strict_app.client.options(
        "/v1/scenarios", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_internal_error_hides_details(strict_app: Api) -> None:
    r = strict_app.client.get("/boom")
    assert r.status_code == 500
    assert r.json()["detail"] == "internal server error" and r.json()["request_id"]
    assert "shadow" not in r.text and "Traceback" not in r.text


def test_health_ready_metrics(api_lite: Api) -> None:
    c = api_lite.client
    assert c.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = c.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    assert (
        ready.json()["checks"]["workers"].endswith("connected")
        and "none" not in ready.json()["checks"]["workers"]
    )
    c.post("/v1/scenarios", json=SCENARIO, headers=api_lite.h("planner"))
    text = c.get("/metrics").text
    assert 'mobility_http_requests_total{method="POST",route="/v1/scenarios",status="202"}' in text
    assert "mobility_jobs{" in text and "mobility_workers" in text


def test_readyz_reports_no_workers(api_lite: Api) -> None:
    queue = api_lite.client.app.state.queue  # type: ignore[attr-defined]
    saved = queue.client
    queue.client = None
    try:
        r = api_lite.client.get("/readyz")
    finally:
        queue.client = saved
    assert r.status_code == 503 and r.json()["checks"]["workers"] == "none connected"


def test_rate_limit_shared_through_redis() -> None:
    """Two limiters on one Redis count the same key together (API replicas)."""
    import uuid

    from limits.storage import storage_from_string

    from api.auth import RateLimiter

    try:
        if not storage_from_string("redis://127.0.0.1:6379").check():
            raise ConnectionError
    except Exception:
        pytest.skip("Redis at 127.0.0.1:6379 unreachable; run .ci/services.sh")
    key = f"test-{uuid.uuid4().hex}"
    a = RateLimiter("3/minute", "redis://127.0.0.1:6379")
    b = RateLimiter("3/minute", "redis://127.0.0.1:6379")
    assert [a.hit(key)[0], b.hit(key)[0], a.hit(key)[0]] == [True, True, True]
    allowed, retry = b.hit(key)
    assert not allowed and 0 <= retry <= 60
