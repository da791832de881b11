"""The feed URLs of a plan's GBFS ``gbfs.json`` never follow a ``Host`` header the server does not
trust: they start with the server's public URL (``MOBILITY_PUBLIC_URL``) when it has one, else with
the request's own host when that host is trusted (``MOBILITY_TRUSTED_HOSTS``: this machine's names
by default; the test apps add the test client's ``testserver``); any other host gets a 422 on
``header.host``. Before, ``curl …/gbfs/gbfs.json -H "Host: evil.example.com"`` gave feeds on
evil.example.com, and a served API trusted ``testserver`` too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.maps import trusted_host
from api.settings import LOCAL_HOSTS, ApiSettings
from tests.api.api_support import SCENARIO, TEST_CLIENT_HOST, Api, make_settings


@pytest.fixture(autouse=True)
def _real_data(data_dir: Path) -> None:
    """The GBFS export is drawn over the real district boundaries."""


@pytest.fixture
def plan(api_lite: Api) -> str:
    """The path of a finished (fake) scenario job."""
    r = api_lite.client.post("/v1/scenarios", json=SCENARIO, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    loc = str(r.headers["Location"])
    assert api_lite.wait(loc)["status"] == "succeeded"
    return loc


def _feeds(client: TestClient, api: Api, loc: str, **headers: str) -> Any:
    return client.get(f"{loc}/gbfs/gbfs.json", headers=api.h("viewer", **headers))


def _urls(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {f["url"] for f in response.json()["data"]["feeds"]}


def test_an_untrusted_host_gets_no_feed_urls(api_lite: Api, plan: str) -> None:
    r = _feeds(api_lite.client, api_lite, plan, Host="evil.example.com")
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["field"] == "header.host"
    expected = "got 'evil.example.com'; expected a host this server is set to answer for"
    assert error["problem"].startswith(expected)


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", TEST_CLIENT_HOST, "[::1]:8000"])
def test_a_local_host_keeps_working(api_lite: Api, plan: str, host: str) -> None:
    urls = _urls(_feeds(api_lite.client, api_lite, plan, Host=host))
    assert urls and all(u.startswith(f"http://{host}{plan}/gbfs/") for u in urls), urls


def test_a_served_api_trusts_this_machine_not_the_test_client(
    api_lite: Api, plan: str, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default trusts this machine's names only: ``testserver`` is the test apps' own
    (:func:`~tests.api.api_support.make_settings`), not a name a served API answers for."""
    monkeypatch.delenv("MOBILITY_TRUSTED_HOSTS", raising=False)
    default = ApiSettings(database_url=sqlite_url).trusted_hosts
    assert default == list(LOCAL_HOSTS) and TEST_CLIENT_HOST not in default
    settings = make_settings(sqlite_url, run_jobs=False, trusted_hosts=default)
    with TestClient(create_app(settings)) as served:
        refused = _feeds(served, api_lite, plan)  # the test client's own Host: testserver
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "header.host"
        urls = _urls(_feeds(served, api_lite, plan, Host="localhost:8000"))
        assert urls and all(u.startswith(f"http://localhost:8000{plan}/gbfs/") for u in urls), urls


def test_the_public_url_wins_over_any_host(api_lite: Api, plan: str, sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, run_jobs=False, public_url="https://bikes.example.org/mobility/")
    with TestClient(create_app(settings)) as other:
        for host in ("evil.example.com", "localhost:8000"):
            urls = _urls(_feeds(other, api_lite, plan, Host=host))
            assert all(u.startswith(f"https://bikes.example.org/mobility{plan}/gbfs/") for u in urls), urls
            assert len(urls) >= 2


def test_a_trusted_domain_may_set_the_host(api_lite: Api, plan: str, sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, run_jobs=False, trusted_hosts=["*.example.org"])
    with TestClient(create_app(settings)) as other:
        urls = _urls(_feeds(other, api_lite, plan, Host="bikes.example.org"))
        assert all(u.startswith(f"http://bikes.example.org{plan}/gbfs/") for u in urls), urls
        assert _feeds(other, api_lite, plan, Host="localhost").status_code == 422  # not in this list


def test_host_patterns() -> None:
    assert trusted_host("LocalHost", ["localhost"]) and trusted_host("a.b.org", ["*.b.org"])
    assert not trusted_host("b.org", ["*.b.org"]) and not trusted_host("evilb.org", ["*.b.org"])
    assert trusted_host("anything", ["*"]) and not trusted_host("", ["localhost"])


@pytest.mark.parametrize("url", ["ftp://bikes.example.org", "bikes.example.org", "https://x.org/?a=1", "https://"])
def test_a_public_url_must_be_one(url: str) -> None:
    with pytest.raises(ValueError, match="an http:// or https:// URL with a host"):
        ApiSettings(public_url=url)
