"""The hub answers only to its own host names, and no page it shares between readers (the
anonymous page cache) carries the ``Host`` one reader sent (issue 14, item 1)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from paperroute import Config
from paperroute.web.app import create_app
from paperroute.web.security import host_name, trusted_hosts

PAGED = "/categories/cs.LG"  # 1,453 demo papers: several pages


@pytest.fixture
def mirrored(sqlite_demo_url: str) -> Iterator[TestClient]:
    """The demo, reachable under a second configured name as well."""
    config = Config(
        database_url=sqlite_demo_url,
        demo=True,
        secret_key="web-tests-throwaway-secret",
        base_url="https://papers.example.org",
        allowed_hosts="testserver, mirror.example.net",
    )
    with TestClient(create_app(config)) as client:
        yield client


def test_a_foreign_host_on_a_cold_cache_poisons_nothing(sqlite_demo: TestClient) -> None:
    sqlite_demo.app.state.page_cache.clear()  # type: ignore[attr-defined]
    for host in ("attacker.example", "attacker.example:80", "ATTACKER.example", "[::2]:80"):
        for _ in range(3):
            hostile = sqlite_demo.get(PAGED, headers={"Host": host})
            assert hostile.status_code == 400, host
            assert "attacker" not in hostile.text.lower()
            assert hostile.headers["x-frame-options"] == "DENY"
    normal = sqlite_demo.get(PAGED)
    assert normal.status_code == 200
    assert 'href="/categories/cs.LG?page=2"' in normal.text
    assert "attacker.example" not in normal.text
    cached = sqlite_demo.get(PAGED)  # from the page cache
    assert cached.content == normal.content


def test_page_links_are_relative_whatever_host_was_asked(mirrored: TestClient) -> None:
    """A second, trusted name fills the cold cache: the readers of the first see no link to
    it (the pagination used to be built from request.url, host included)."""
    mirrored.app.state.page_cache.clear()  # type: ignore[attr-defined]
    first = mirrored.get(PAGED + "?page=2", headers={"Host": "mirror.example.net"})
    assert first.status_code == 200
    assert "mirror.example.net" not in first.text
    assert 'href="/categories/cs.LG?page=1"' in first.text
    assert 'href="/categories/cs.LG?page=3"' in first.text
    for path in ("/", "/trending", "/categories", "/search?q=transformer", "/feeds/daily.atom"):
        body = mirrored.get(path, headers={"Host": "mirror.example.net"}).text
        assert "mirror.example.net" not in body, path
        assert "testserver" not in mirrored.get(path).text, path
    # The feed's own links come from base_url.
    assert "https://papers.example.org/" in mirrored.get("/feeds/daily.atom").text


def test_a_trailing_slash_redirect_names_no_foreign_host(mirrored: TestClient) -> None:
    refused = mirrored.get("/trending/", headers={"Host": "attacker.example"})
    assert refused.status_code == 400 and "location" not in refused.headers


def test_trusted_hosts_come_from_base_url_the_setting_and_loopback() -> None:
    config = dataclasses.replace(
        Config(), base_url="https://Papers.Example.org:8443/hub", allowed_hosts="a.org,  B.org"
    )
    assert trusted_hosts(config) == {
        "papers.example.org", "a.org", "b.org", "localhost", "127.0.0.1", "::1",
    }  # fmt: skip
    assert host_name(b"[::1]:8000") == "::1"
    assert host_name(b"Example.org:80") == "example.org"
    assert host_name(b"example.org") == "example.org"
    # What a URL parser reads as another host is no host at all (the outside review's cases).
    for crafted in (
        b"127.0.0.1:@attacker.example",
        b"localhost:@attacker.example",
        b"[::1]@attacker.example",
        b"[::1]attacker.example:80",
        b"localhost:80:80",
        b"localhost/x",
    ):
        assert host_name(crafted) == "", crafted


def test_a_crafted_host_is_refused(sqlite_demo: TestClient) -> None:
    answer = sqlite_demo.get("/categories", headers={"Host": "127.0.0.1:@attacker.example"})
    assert answer.status_code == 400


def test_https_base_url_turns_on_hsts(mirrored: TestClient, sqlite_demo: TestClient) -> None:
    assert mirrored.get("/").headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in sqlite_demo.get("/").headers  # http base_url
